"""Transaction encoding: round trips on real data, known ids, and hostile bytes."""

from __future__ import annotations

import dataclasses
import json
import random
import tracemalloc

import pytest
from hypothesis import given, settings, strategies as st

from regtest.consensus.serialize import ByteReader, DeserializationError, ser_compact_size
from regtest.consensus.transaction import Transaction
from tests.conftest import VECTORS

GENESIS_COINBASE_HEX = (
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104"
    "455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365"
    "636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967"
    "f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c"
    "702b6bf11d5fac00000000"
)


def _vector_txs() -> list[str]:
    out = []
    for name in ("tx_valid.json", "tx_invalid.json"):
        for entry in json.loads((VECTORS / "bitcoin-core" / name).read_text()):
            if isinstance(entry[0], list):
                out.append(entry[1])
    return out


VECTOR_TXS = _vector_txs()


def test_genesis_coinbase_txid() -> None:
    tx = Transaction.from_hex(GENESIS_COINBASE_HEX)
    assert tx.txid_hex == "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    assert tx.is_coinbase()
    assert tx.vout[0].value == 50 * 100_000_000


def test_vector_transactions_round_trip() -> None:
    decoded = 0
    for hex_tx in VECTOR_TXS:
        try:
            tx = Transaction.from_hex(hex_tx)
        except DeserializationError:
            continue  # a few tx_invalid entries are deliberately undecodable
        assert dataclasses.replace(tx).serialize().hex() == hex_tx  # a fresh object, no cached bytes
        decoded += 1
    assert decoded > 200


def test_segwit_ids_differ_and_weight() -> None:
    witnessed = [Transaction.from_hex(h) for h in VECTOR_TXS if h[8:12] == "0001"]
    witnessed = [tx for tx in witnessed if tx.has_witness()]
    assert witnessed
    for tx in witnessed:
        assert tx.txid != tx.wtxid
        assert tx.weight == 3 * len(tx.serialize_without_witness()) + len(tx.serialize())


def test_superfluous_witness_flag_rejected() -> None:
    tx = Transaction.from_hex(GENESIS_COINBASE_HEX)
    raw = tx.serialize()
    # Insert marker+flag and an empty witness for the single input.
    bad = raw[:4] + b"\x00\x01" + raw[4:-4] + b"\x00" + raw[-4:]
    with pytest.raises(DeserializationError, match="Superfluous witness record"):
        Transaction.parse(bad)


@pytest.mark.parametrize(
    "encoding",
    [b"\xfd\xfc\x00", b"\xfe\xff\xff\x00\x00", b"\xff\xff\xff\xff\xff\x00\x00\x00\x00"],
)
def test_non_canonical_compact_size_rejected(encoding: bytes) -> None:
    with pytest.raises(DeserializationError, match="non-canonical"):
        ByteReader(encoding).read_compact_size()


def test_huge_claimed_input_count_fails_fast_without_allocating() -> None:
    raw = b"\x01\x00\x00\x00" + ser_compact_size(0x01FFFFFF) + b"\x00" * 64
    tracemalloc.start()
    with pytest.raises(DeserializationError, match="truncated"):
        Transaction.parse(raw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000


def _assert_decodes_or_rejects(raw: bytes) -> None:
    try:
        tx = Transaction.parse(raw)
    except DeserializationError:
        return
    assert Transaction.parse(dataclasses.replace(tx).serialize()) == tx


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _assert_decodes_or_rejects(raw)


def test_fuzz_mutated_real_transactions() -> None:
    rng = random.Random(20261125)
    seeds = [bytes.fromhex(h) for h in VECTOR_TXS]
    for _ in range(6000):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(raw) + 1)
            if op == 0 and raw:
                raw[min(pos, len(raw) - 1)] = rng.randrange(256)
            elif op == 1:
                raw[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 9)))
            elif op == 2:
                del raw[pos : pos + rng.randint(1, 9)]
            else:
                raw = raw[: rng.randrange(len(raw) + 1)]
        _assert_decodes_or_rejects(bytes(raw))
