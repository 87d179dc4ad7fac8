"""The parallel script checker gives the inline checker's verdict, earliest failure first."""

from __future__ import annotations

import pytest

from regtest.chain.scriptcheck import ParallelScriptChecker, _split
from regtest.consensus.block_validation import ScriptCheckJob, run_script_checks
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import BITCOIN_REGTEST, get_block_script_flags
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut

FLAGS = get_block_script_flags(BITCOIN_REGTEST, 200, bytes(32))
OP_TRUE, OP_FALSE = b"\x51", b"\x00"


def jobs(n: int, failing: set[int]) -> list[ScriptCheckJob]:
    out = []
    for i in range(n):
        tx = Transaction(2, (TxIn(OutPoint(i.to_bytes(32, "little"), 0), b"", 0xFFFFFFFF),), (TxOut(1, OP_TRUE),))
        spk = OP_FALSE if i in failing else OP_TRUE
        out.append(ScriptCheckJob(i + 1, tx, (TxOut(10, spk),)))
    return out


def inline_error(js) -> BlockValidationError | None:
    try:
        run_script_checks(js, FLAGS)
    except BlockValidationError as e:
        return e
    return None


def test_split_keeps_order_and_covers_everything():
    js = jobs(10, set())
    chunks = _split(js, 3)
    assert len(chunks) == 3 and [j for c in chunks for j in c] == js


@pytest.fixture(scope="module")
def checker():
    c = ParallelScriptChecker(workers=1, min_parallel_inputs=8, adaptive=False)
    yield c
    c.close()


# {250}: only the worker's chunk fails, so passing proves the worker really checked it.
@pytest.mark.parametrize("failing", [set(), {250}, {100, 250}, {290, 200}, {0}])
def test_parallel_matches_inline(checker, failing):
    js = jobs(300, failing)
    expected = inline_error(js)
    if expected is None:
        checker(js, FLAGS)
        return
    with pytest.raises(BlockValidationError) as info:
        checker(js, FLAGS)
    assert info.value.reason == expected.reason
    assert info.value.reason.endswith("(Script evaluated without error but finished with a false/empty top stack element)")
    assert info.value.debug == expected.debug


def test_dead_worker_changes_nothing_but_speed():
    c = ParallelScriptChecker(workers=1, min_parallel_inputs=8, adaptive=False)
    try:
        c.warm_up()
        c._procs[0].proc.kill()
        c._procs[0].proc.wait()
        js = jobs(300, {250})  # the failure sits in the dead worker's share
        with pytest.raises(BlockValidationError) as info:
            c(js, FLAGS)
        assert info.value.debug == inline_error(js).debug
        assert c._procs == []  # dropped
        c(jobs(300, set()), FLAGS)  # and replaced on the next big block
        assert len(c._procs) == 1
    finally:
        c.close()


def test_workers_start_whatever_the_main_script(tmp_path):
    """No multiprocessing re-import of __main__: a program read from stdin can use workers."""
    import subprocess
    import sys
    from pathlib import Path

    program = (
        "from tests.chain.test_scriptcheck import jobs, FLAGS\n"
        "from regtest.chain.scriptcheck import ParallelScriptChecker\n"
        "c = ParallelScriptChecker(workers=1, min_parallel_inputs=8, adaptive=False)\n"
        "c(jobs(300, set()), FLAGS)\n"
        "print('ok', len(c._procs))\n"
        "c.close()\n"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-"], input=program, cwd=repo, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok 1", out.stderr
