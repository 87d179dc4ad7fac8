"""Script checks spread over processes, like Core's script-check threads.

Python threads cannot verify scripts in parallel (the interpreter holds the GIL), so big blocks
send part of their transactions to worker processes while the calling process checks its own
share. Small blocks are checked inline: shipping them would cost more than it saves. So is every
block while the machine's load average says no core is idle.

The verdict is deterministic: when several inputs fail, the one earliest in the block is
reported, whichever process found it.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Sequence

from regtest.consensus.block_validation import ScriptCheckJob, run_script_checks
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.script_flags import ScriptFlags

#: Below this many inputs a block is checked inline.
DEFAULT_MIN_PARALLEL_INPUTS = 256

_Failure = tuple[int, str, str]  # (tx index in block, reason, debug)


def _check_chunk(raw_jobs: list[tuple[int, bytes, list[tuple[int, bytes]]]], flags: int) -> _Failure | None:
    """Worker side: rebuild the jobs from bytes and check them; the first failure or None."""
    from regtest.consensus.transaction import Transaction, TxOut

    for tx_index, raw, spent in raw_jobs:
        job = ScriptCheckJob(tx_index, Transaction.parse(raw), tuple(TxOut(v, s) for v, s in spent))
        failure = _check_local([job], ScriptFlags(flags))
        if failure is not None:
            return failure
    return None


def _check_local(jobs: Sequence[ScriptCheckJob], flags: ScriptFlags) -> _Failure | None:
    for job in jobs:
        try:
            run_script_checks([job], flags)
        except BlockValidationError as e:
            return (job.tx_index, e.reason, e.debug)
    return None


def _noop() -> int:
    return os.getpid()


class ParallelScriptChecker:
    """A `script_checker` for connect_block: callable(jobs, flags), raising BlockValidationError."""

    def __init__(
        self, workers: int, min_parallel_inputs: int = DEFAULT_MIN_PARALLEL_INPUTS, adaptive: bool = True
    ) -> None:
        """`adaptive`: check inline while the load average shows no idle core."""
        self.workers = max(0, workers)
        self.min_parallel_inputs = min_parallel_inputs
        self.adaptive = adaptive
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def warm_up(self) -> None:
        """Start the workers now (a first big block would otherwise pay their start-up)."""
        if self.workers:
            pool = self._get_pool()
            for f in [pool.submit(_noop) for _ in range(self.workers)]:
                f.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __call__(self, jobs: Sequence[ScriptCheckJob], flags: ScriptFlags) -> None:
        n_inputs = sum(len(j.tx.vin) for j in jobs)
        if self.workers == 0 or n_inputs < self.min_parallel_inputs or len(jobs) < 2 or (
            self.adaptive and not _idle_core()
        ):
            run_script_checks(jobs, flags)
            return
        chunks = _split(jobs, self.workers + 1)
        pool = self._get_pool()
        futures: list[Future] = []
        for chunk in chunks[1:]:
            payload = [
                (j.tx_index, j.tx.serialize(), [(o.value, o.script_pubkey) for o in j.spent_outputs])
                for j in chunk
            ]
            futures.append(pool.submit(_check_chunk, payload, int(flags)))
        failures = [f for f in [_check_local(chunks[0], flags)] if f is not None]
        for fut in futures:
            res = fut.result()
            if res is not None:
                failures.append(res)
        if failures:
            _, reason, debug = min(failures)
            raise BlockValidationError(reason, debug)


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
    """Whether a core is likely free for a worker. Shipping transactions to another process
    costs about a fifth of checking them, a loss when every core is busy anyway."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load < (os.cpu_count() or 1) - 0.5


def default_workers() -> int:
    """One worker per core beyond the caller's own."""
    return max(0, (os.cpu_count() or 1) - 1)
