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
