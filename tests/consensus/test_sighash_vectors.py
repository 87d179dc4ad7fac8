"""Core's sighash.json: legacy SignatureHash over random transactions and scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regtest.consensus.sighash import PrecomputedTxData, legacy_sighash, segwit_v0_sighash
from regtest.consensus.transaction import Transaction

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "bitcoin-core" / "sighash.json"


def _cases() -> list:
    rows = json.loads(VECTORS.read_text())
    return [pytest.param(*row, id=f"sighash-{i}") for i, row in enumerate(rows) if len(row) == 5]


@pytest.mark.parametrize(("raw_tx", "script_hex", "n_in", "hash_type", "expected"), _cases())
def test_legacy_sighash(raw_tx: str, script_hex: str, n_in: int, hash_type: int, expected: str) -> None:
    tx = Transaction.from_hex(raw_tx)
    script = bytes.fromhex(script_hex)
    got = legacy_sighash(script, tx, n_in, hash_type)
    assert got[::-1].hex() == expected
    # The precomputed path must give the same answer.
    txdata = PrecomputedTxData(tx, None)
    assert legacy_sighash(script, tx, n_in, hash_type, txdata)[::-1].hex() == expected


def test_bip143_native_p2wpkh_example() -> None:
    """The worked example from BIP143 (second input, P2WPKH, 6 BTC, SIGHASH_ALL)."""
    tx = Transaction.from_hex(
        "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffff"
        "ef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206"
        "000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42db"
        "ee7e4dbe6a21b2d50ce2f0167faa815988ac11000000"
    )
    script_code = bytes.fromhex("76a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac")
    expected = "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670"
    assert segwit_v0_sighash(script_code, tx, 1, 1, 600_000_000).hex() == expected
    # With a shared precomputed object, and a different hash type giving a different hash.
    txdata = PrecomputedTxData(tx, None)
    assert segwit_v0_sighash(script_code, tx, 1, 1, 600_000_000, txdata).hex() == expected
    assert segwit_v0_sighash(script_code, tx, 1, 0x81, 600_000_000) != bytes.fromhex(expected)
