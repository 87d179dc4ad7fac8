"""Transaction.read caches the bytes it decoded as the tx's serializations; they must equal what
a fresh object (no cache) serializes to, for the witness and the stripped encoding alike."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings, strategies as st

from regtest.consensus.serialize import ByteReader, DeserializationError
from regtest.consensus.transaction import Transaction
from tests.consensus.test_transaction_codec import VECTOR_TXS


def _check(raw: bytes) -> bool:
    try:
        tx = Transaction.parse(raw)
    except DeserializationError:
        return False
    fresh = dataclasses.replace(tx)  # a new object: empty cache, serializes field by field
    assert fresh._cache == {}
    assert tx.serialize() == raw == fresh.serialize()
    assert tx.serialize_without_witness() == fresh.serialize_without_witness()
    assert tx.txid == fresh.txid and tx.wtxid == fresh.wtxid
    return True


def test_vector_transactions():
    decoded = sum(_check(bytes.fromhex(h)) for h in VECTOR_TXS)
    assert decoded > 200
    assert any(Transaction.from_hex(h).has_witness() for h in VECTOR_TXS if h[8:12] == "0001")


def test_several_in_one_reader():
    raws = [bytes.fromhex(h) for h in VECTOR_TXS[:40]]
    good = []
    for raw in raws:
        try:
            Transaction.parse(raw)
            good.append(raw)
        except DeserializationError:
            pass
    r = ByteReader(b"".join(good))
    for raw in good:
        tx = Transaction.read(r)
        assert tx.serialize() == raw == dataclasses.replace(tx).serialize()


def test_mutated_transactions():
    rng = random.Random(7)
    seeds = [bytes.fromhex(h) for h in VECTOR_TXS]
    for _ in range(3000):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        _check(bytes(raw))


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.binary(max_size=400))
def test_random_bytes(raw: bytes):
    _check(raw)
