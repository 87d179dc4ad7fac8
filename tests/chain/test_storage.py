"""Byte encodings, the store and the coins cache."""

from __future__ import annotations

import pytest

from regtest.chain.coinscache import CoinsCache
from regtest.chain.coinser import (
    hash_serialize_coin,
    key_outpoint,
    outpoint_key,
    parse_undo,
    serialize_undo,
)
from regtest.chain.storage import ChainStore
from regtest.consensus.coins import Coin
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import OutPoint

COINS = [
    (OutPoint(bytes([i]) * 32, i * 300), Coin(i * 1000, bytes([0x51]) * i, i * 7, i % 2 == 0))
    for i in range(1, 6)
]


def test_undo_round_trip():
    assert parse_undo(serialize_undo(COINS)) == COINS
    assert parse_undo(serialize_undo([])) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",  # no count
        b"\x01",  # one coin claimed, nothing there
        serialize_undo(COINS)[:-1],  # truncated script
        serialize_undo(COINS) + b"\x00",  # trailing byte
        b"\xfe\xff\xff\xff\x00",  # absurd count
        b"\x01" + bytes(36) + b"\x00" + bytes(8) + b"\xfe\x00\x00\x00\x10",  # 256 MiB script
    ],
)
def test_undo_hostile_input(data):
    with pytest.raises(DeserializationError):
        parse_undo(data)


def test_coin_keys_sort_by_txid_then_index():
    ops = [OutPoint(b"\x01" * 32, 256), OutPoint(b"\x01" * 32, 2), OutPoint(b"\x00" * 32, 9)]
    keys = sorted(outpoint_key(op) for op in ops)
    assert [key_outpoint(k) for k in keys] == [ops[2], ops[1], ops[0]]
    with pytest.raises(DeserializationError):
        key_outpoint(b"\x00" * 35)


def test_hash_layout_is_core_txoutser():
    op, coin = OutPoint(bytes(range(32)), 3), Coin(5000, b"\x51\x52", 10, True)
    expected = bytes(range(32)) + (3).to_bytes(4, "little") + (21).to_bytes(4, "little")
    expected += (5000).to_bytes(8, "little") + b"\x02\x51\x52"
    assert hash_serialize_coin(op, coin) == expected


def test_store_transaction_rolls_back(tmp_path):
    store = ChainStore.open_datadir(str(tmp_path))
    with store.transaction():
        store.add_coins(COINS[:2])
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.delete_coins([COINS[0][0]])
            store.add_coins(COINS[2:])
            raise RuntimeError("crash in the middle")
    assert [op for op, _ in store.iter_coins()] == sorted((op for op, _ in COINS[:2]), key=outpoint_key)
    assert store.get_coins([op for op, _ in COINS]) == dict(COINS[:2])
    store.close()


def test_cache_is_write_through_and_bounded(tmp_path):
    store = ChainStore.open_datadir(str(tmp_path))
    with store.transaction():
        store.add_coins(COINS)
    cache = CoinsCache(store, max_entries=4)
    for op, coin in COINS:
        assert cache.get(op) == coin
    assert len(cache) <= 4
    missing = OutPoint(b"\xee" * 32, 0)
    assert cache.get(missing) is None
    cache.apply([COINS[0][0]], [(missing, COINS[1][1])])
    assert cache.get(COINS[0][0]) is None and cache.get(missing) == COINS[1][1]
    cache.prefetch([op for op, _ in COINS] + [OutPoint(b"\xdd" * 32, 1)])
    assert cache.get(COINS[3][0]) == COINS[3][1]
    store.close()


def test_second_process_cannot_open_a_datadir_in_use(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from regtest.chain.storage import StorageError

    repo = Path(__file__).resolve().parents[2]
    code = (
        "import sys; from regtest.chain.storage import ChainStore, StorageError\n"
        "try:\n    ChainStore.open_datadir(sys.argv[1])\nexcept StorageError as e:\n    print('refused', e)\n"
    )
    store = ChainStore.open_datadir(str(tmp_path))
    try:
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=repo, capture_output=True, text=True)
        assert out.stdout.startswith("refused"), out.stdout + out.stderr
        with pytest.raises(StorageError):
            ChainStore.open_datadir(str(tmp_path))  # a second connection in this process too
    finally:
        store.close()
    ChainStore.open_datadir(str(tmp_path)).close()  # free again once closed
