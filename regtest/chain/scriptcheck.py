"""Script checks spread over processes, like Core's script-check threads.

Python threads cannot verify scripts in parallel (the interpreter holds the GIL), so big blocks
send part of their transactions to worker processes while the calling process checks its own
share. Small blocks are checked inline: shipping them would cost more than it saves. So is every
block while the machine's load average says no core is idle.

Workers are plain subprocesses (`python -m regtest.chain.scriptworker`) fed over pipes, so they
work whatever the parent's `__main__` is (no multiprocessing re-import of the main script). A
worker that dies or misbehaves is dropped and its share is checked inline: a broken worker can
slow validation down but never change a verdict.

The verdict is deterministic: when several inputs fail, the one earliest in the block is
reported, whichever process found it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from regtest.chain.scriptworker import Failure, RawJob, check_raw_jobs, read_message, write_message
from regtest.consensus.block_validation import ScriptCheckJob, run_script_checks
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.script_flags import ScriptFlags

log = logging.getLogger(__name__)

#: Below this many inputs a block is checked inline.
DEFAULT_MIN_PARALLEL_INPUTS = 256

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding `regtest/`


class _Worker:
    """One worker subprocess and its pipes."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "regtest.chain.scriptworker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )

    def send(self, raw_jobs: list[RawJob], flags: int) -> None:
        assert self.proc.stdin is not None
        write_message(self.proc.stdin, (raw_jobs, flags))

    def receive(self) -> Failure | None:
        assert self.proc.stdout is not None
        answer = read_message(self.proc.stdout)
        if answer is not None and not (isinstance(answer, tuple) and len(answer) == 3):
            raise ValueError(f"unexpected worker answer {answer!r}")
        return answer  # type: ignore[return-value]

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ParallelScriptChecker:
    """A `script_checker` for connect_block: callable(jobs, flags), raising BlockValidationError."""

    def __init__(
        self, workers: int, min_parallel_inputs: int = DEFAULT_MIN_PARALLEL_INPUTS, adaptive: bool = True
    ) -> None:
        """`adaptive`: check inline while the load average shows no idle core."""
        self.workers = max(0, workers)
        self.min_parallel_inputs = min_parallel_inputs
        self.adaptive = adaptive
        self._procs: list[_Worker] = []

    def _start(self) -> list[_Worker]:
        while len(self._procs) < self.workers:
            self._procs.append(_Worker())
        return self._procs

    def warm_up(self) -> None:
        """Start the workers now and wait until they answer (a first big block would otherwise
        pay their start-up)."""
        procs = self._start()
        for w in list(procs):
            try:
                w.send([], 0)
                w.receive()
            except (OSError, EOFError, ValueError):
                self._drop(w)

    def close(self) -> None:
        for w in self._procs:
            w.close()
        self._procs = []

    def _drop(self, w: _Worker) -> None:
        log.warning("script worker %s failed; checking its share inline", w.proc.pid)
        self._procs.remove(w)
        w.proc.kill()
        w.close()

    def __call__(self, jobs: Sequence[ScriptCheckJob], flags: ScriptFlags) -> None:
        n_inputs = sum(len(j.tx.vin) for j in jobs)
        if self.workers == 0 or n_inputs < self.min_parallel_inputs or len(jobs) < 2 or (
            self.adaptive and not _idle_core()
        ):
            run_script_checks(jobs, flags)
            return
        procs = list(self._start())
        chunks = _split(jobs, len(procs) + 1)
        sent: list[tuple[_Worker, list[ScriptCheckJob]]] = []
        inline: list[list[ScriptCheckJob]] = [chunks[0]]
        for w, chunk in zip(procs, chunks[1:]):
            payload = [
                (j.tx_index, j.tx.serialize(), [(o.value, o.script_pubkey) for o in j.spent_outputs])
                for j in chunk
            ]
            try:
                w.send(payload, int(flags))
                sent.append((w, chunk))
            except OSError:
                self._drop(w)
                inline.append(chunk)
        failures = [f for f in (_check_local(c, flags) for c in inline) if f is not None]
        for w, chunk in sent:
            try:
                res = w.receive()
            except Exception:  # noqa: BLE001 - any worker fault: drop it, check inline
                self._drop(w)
                res = _check_local(chunk, flags)
            if res is not None:
                failures.append(res)
        if failures:
            _, reason, debug = min(failures)
            raise BlockValidationError(reason, debug)


def _check_local(jobs: Sequence[ScriptCheckJob], flags: ScriptFlags) -> Failure | None:
    for job in jobs:
        try:
            run_script_checks([job], flags)
        except BlockValidationError as e:
            return (job.tx_index, e.reason, e.debug)
    return None


def _split(jobs: Sequence[ScriptCheckJob], parts: int) -> list[list[ScriptCheckJob]]:
    """Contiguous chunks of about equal input counts (the first, checked locally, included)."""
    total = sum(len(j.tx.vin) for j in jobs)
    target = total / parts
    chunks: list[list[ScriptCheckJob]] = [[]]
    acc = 0
    for j in jobs:
        if acc >= target * len(chunks) and len(chunks) < parts:
            chunks.append([])
        chunks[-1].append(j)
        acc += len(j.tx.vin)
    return chunks


def _idle_core() -> bool:
    """Whether a core is likely free for a worker. Shipping a transaction costs roughly a fifth
    of checking it, a loss when every core is busy anyway."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load < (os.cpu_count() or 1) - 0.5


def default_workers() -> int:
    """One worker per core beyond the caller's own."""
    return max(0, (os.cpu_count() or 1) - 1)


__all__ = ["ParallelScriptChecker", "check_raw_jobs", "default_workers"]
