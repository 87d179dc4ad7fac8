"""-par, bitcoind's script-verification parallelism option, mapped onto worker processes."""

from __future__ import annotations

import os

import pytest

from regtest.node.config import load_settings
from regtest.node.daemon import script_workers


@pytest.mark.parametrize(
    "arg, expected",
    [
        (None, (os.cpu_count() or 1) - 1),
        ("-par=1", 0),
        ("-par=3", 2),
        ("-par=100", 15),
        ("-par=-1", max(0, (os.cpu_count() or 1) - 2)),
        ("-par=-1000", 0),
    ],
)
def test_par_maps_to_worker_processes(tmp_path, arg, expected) -> None:
    settings, _ = load_settings([f"-datadir={tmp_path}"] + ([arg] if arg else []))
    assert script_workers(settings) == expected
