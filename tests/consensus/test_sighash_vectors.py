"""Core's sighash.json: legacy SignatureHash over random transactions and scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regtest.consensus.sighash import PrecomputedTxData, legacy_sighash
from regtest.consensus.transaction import Transaction

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "bitcoin-core" / "sighash.json"
if not VECTORS.exists():  # the checkout may live elsewhere; fall back to the shared location
    VECTORS = Path("/work/shared/vectors/bitcoin-core/sighash.json")


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
    txdata = PrecomputedTxData(tx, [None] * len(tx.vin))  # type: ignore[list-item]
    assert legacy_sighash(script, tx, n_in, hash_type, txdata)[::-1].hex() == expected
