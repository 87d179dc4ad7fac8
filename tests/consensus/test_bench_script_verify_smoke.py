"""The script-verification benchmark still builds its workloads and runs both engines.

No timing is asserted (speed belongs in bench/); this only keeps the benchmark from rotting:
every generated input must be valid for both engines, or the benchmark exits with an error.
"""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import REPO


def test_bench_script_verify_runs(capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_script_verify", REPO / "bench" / "bench_script_verify.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    assert bench.main(["--txs", "3", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for name in (*bench.TYPES, "mix"):
        assert f"\n{name} " in out
