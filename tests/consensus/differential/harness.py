"""Run one case through Core's engine and ours and insist on the same verdict.

A disagreement (or any exception from our engine) fails with the full reproduction: the
serialized transaction, input index, spent outputs and flags, plus our error name.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.transaction import Transaction
from regtest.consensus.verify import check_input
from regtest.testing.core_oracle import CoreTx
from regtest.testing.txgen import Case


class VerdictMismatch(AssertionError):
    pass


def both_verdicts(case: Case) -> tuple[bool, ScriptError]:
    """(Core's verdict, our error) for `case`; raises VerdictMismatch on an engine crash."""
    raw = case.raw()
    core = CoreTx(raw, case.spent).verify(case.index, case.flags)
    try:
        ours = check_input(Transaction.parse(raw), case.index, list(case.spent), ScriptFlags(case.flags))
    except Exception as exc:  # any crash of ours is a finding, reported with the case
        raise VerdictMismatch(f"our engine raised {exc!r}\n{case.describe()}") from exc
    return core, ours


def assert_same_verdict(case: Case) -> bool:
    core, ours = both_verdicts(case)
    if core != (ours == ScriptError.OK):
        raise VerdictMismatch(
            f"verdicts differ: core={'valid' if core else 'invalid'} ours={ours.name}\n{case.describe()}"
        )
    return core


def differential(
    strategy: st.SearchStrategy[Case],
    examples: int,
    min_valid: int,
    min_invalid: int,
    fast_paths: bool = True,
    accel: bool | None = None,
) -> Counter:
    """Run `examples` derandomized cases; also require both verdicts to occur often enough,
    so a generator that silently degenerates (everything invalid) fails the test.
    `fast_paths=False` runs our engine with its template fast paths off (general interpreter);
    `accel=False` keeps the fast paths but in pure Python (the C accelerator off; None: as is)."""
    from regtest.consensus import checker, fastpath

    saved = checker.FAST_PATHS, fastpath.ACCEL
    checker.FAST_PATHS = fast_paths
    if accel is not None:
        fastpath.ACCEL = accel and fastpath._ACCEL_MODULE is not None
    try:
        return _differential(strategy, examples, min_valid, min_invalid)
    finally:
        checker.FAST_PATHS, fastpath.ACCEL = saved


def _differential(
    strategy: st.SearchStrategy[Case], examples: int, min_valid: int, min_invalid: int
) -> Counter:
    seen: Counter = Counter()
    # CI runs are derandomized (reproducible). For a longer exploratory sweep set
    # POTC_DIFF_SEED=<int> (a different, still reproducible, stream) and POTC_DIFF_SCALE=<k>.
    sweep_seed = os.environ.get("POTC_DIFF_SEED")
    scale = float(os.environ.get("POTC_DIFF_SCALE", "1"))

    @settings(
        max_examples=max(1, int(examples * scale)),
        derandomize=sweep_seed is None,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Case) -> None:
        verdict = assert_same_verdict(case)
        seen[verdict] += 1
        seen[case.label] += 1
        seen[(case.label, verdict)] += 1

    if sweep_seed is not None:
        run = seed(int(sweep_seed))(run)
    run()
    assert seen[True] >= min_valid * min(scale, 1), f"too few valid cases: {seen}"
    assert seen[False] >= min_invalid * min(scale, 1), f"too few invalid cases: {seen}"
    return seen



def replay(tx_hex: str, index: int, spent: list[tuple[int, str]], flags: int) -> str:
    """Both verdicts for a case as `Case.describe()` prints it (for reproducing a report)."""
    from regtest.consensus.transaction import TxOut

    tx = Transaction.from_hex(tx_hex)
    case = Case(tx, index, tuple(TxOut(v, bytes.fromhex(s)) for v, s in spent), flags, "replay")
    core, ours = both_verdicts(case)
    return f"core={'valid' if core else 'invalid'} ours={ours.name}"


if __name__ == "__main__":  # python -m tests.consensus.differential.harness TX INDEX SPENT FLAGS
    import ast
    import sys

    _tx, _idx, _spent, _flags = sys.argv[1:5]
    print(replay(_tx, int(_idx), ast.literal_eval(_spent), int(_flags, 0)))
