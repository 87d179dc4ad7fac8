"""potc-verifytx as a user runs it: the installed console script, real transactions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# A P2WPKH spend from Core's tx_valid.json (valid under every flag), and the output it spends.
P2WPKH_SPEND = (
    "0100000000010100010000000000000000000000000000000000000000000000000000000000000000000000ffffffff01e803"
    "0000000000001976a9144c9c3dfac4207d5d8cb89df5722cb3d712385e3f88ac02483045022100cfb07164b36ba64c1b1e8c77"
    "20a56ad64d96f6ef332d3d37f9cb3c96477dc44502200a464cd7a9cf94cd70f66ce4f4f0625ef650052c7afcfe29d7d7e01830"
    "ff91ed012103596d3451025c19dbbdeb932d6bf8bfb4ad499b95b6f88db8899efac102e5fc7100000000"
)
SPENT = "1000:00144c9c3dfac4207d5d8cb89df5722cb3d712385e3f"


def _run(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("potc-verifytx", path=str(Path(sys.executable).parent))
    assert exe, "potc-verifytx is not installed in this environment"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def test_valid_spend_reports_ok() -> None:
    r = _run(P2WPKH_SPEND, SPENT)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["valid"] is True
    assert report["inputs"] == [{"index": 0, "result": "OK"}]
    assert report["txid"] != report["wtxid"]


def test_wrong_amount_breaks_the_segwit_signature() -> None:
    r = _run(P2WPKH_SPEND, "1001:00144c9c3dfac4207d5d8cb89df5722cb3d712385e3f")
    assert r.returncode == 1
    assert json.loads(r.stdout)["inputs"][0]["result"] == "EVAL_FALSE"


def test_flags_none_skips_witness_rules() -> None:
    # Without WITNESS the witness program is an anyone-can-spend push; the wrong amount no longer matters.
    r = _run(P2WPKH_SPEND, "1001:00144c9c3dfac4207d5d8cb89df5722cb3d712385e3f", "--flags", "none")
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("zz", SPENT), "TX decode failed"),
        ((P2WPKH_SPEND,), "1 inputs but 0 spent outputs"),
        ((P2WPKH_SPEND, "1000"), "expected <satoshis>:<scriptPubKey hex>"),
        ((P2WPKH_SPEND, SPENT, "--flags", "P2SH,NOSUCHFLAG"), "unknown script verify flag"),
    ],
)
def test_bad_input_gets_a_clear_error(args: tuple[str, ...], message: str) -> None:
    r = _run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
