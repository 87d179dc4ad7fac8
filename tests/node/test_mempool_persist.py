"""mempool.dat in process: round trip (parents first, entry times kept), expiry on load,
truncated or oversized files refused with MempoolFileError."""

from __future__ import annotations

import pytest

from regtest.node.mempool import Mempool
from regtest.node.mempool.persist import MempoolFileError, dump_mempool, load_mempool, read_dump
from regtest.node.mempool.pool import MEMPOOL_EXPIRY
from tests.node.mempool_env import make_env


def test_round_trip_keeps_order_and_times(tmp_path):
    env = make_env(tmp_path)
    a, ua = env.wallet.self_transfer(env.utxo(), 1000)
    b, _ = env.wallet.self_transfer(ua, 1000)
    c, _ = env.wallet.self_transfer(env.utxo(), 1000)
    for tx in (a, b, c):
        assert env.accept(tx).accepted
    env.mp.unbroadcast.add(c.txid)
    path = tmp_path / "mempool.dat"
    assert dump_mempool(env.mp, path) == 3
    txs, unbroadcast = read_dump(path.read_bytes())
    ids = [tx.txid for tx, _ in txs]
    assert ids.index(a.txid) < ids.index(b.txid) and unbroadcast == {c.txid}
    fresh = Mempool(env.cs)
    stats = load_mempool(fresh, path)
    assert stats.accepted == 3 and stats.failed == 0
    assert {t: e.time for t, e in fresh.pool.entries.items()} == {t: e.time for t, e in env.mp.pool.entries.items()}
    assert fresh.unbroadcast == {c.txid}


def test_old_entries_expire_on_load(tmp_path):
    env = make_env(tmp_path)
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    now = env.mp.pool.clock()
    assert env.mp.accept(tx, accept_time=int(now - MEMPOOL_EXPIRY - 5), bypass_limits=True).accepted
    path = tmp_path / "mempool.dat"
    dump_mempool(env.mp, path)
    stats = load_mempool(Mempool(env.cs), path)
    assert (stats.accepted, stats.expired) == (0, 1)


def test_expiry_with_unsorted_entry_times(tmp_path):
    env = make_env(tmp_path)
    young, _ = env.wallet.self_transfer(env.utxo(), 1000)
    old, _ = env.wallet.self_transfer(env.utxo(), 1000)
    now = int(env.mp.pool.clock())
    assert env.mp.accept(young, accept_time=now).accepted
    assert env.mp.accept(old, accept_time=now - MEMPOOL_EXPIRY - 1, bypass_limits=True).accepted  # older, added later
    assert env.mp.pool.expire(now - MEMPOOL_EXPIRY) == 1
    assert old.txid not in env.mp and young.txid in env.mp


@pytest.mark.parametrize("cut", [0, 7, 16, 40])
def test_truncated_file_refused(tmp_path, cut):
    env = make_env(tmp_path, n_blocks=105)
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    assert env.accept(tx).accepted
    path = tmp_path / "mempool.dat"
    dump_mempool(env.mp, path)
    data = path.read_bytes()
    with pytest.raises(MempoolFileError):
        read_dump(data[:cut])


def test_wrong_version_and_implausible_count(tmp_path):
    with pytest.raises(MempoolFileError, match="version"):
        read_dump((2).to_bytes(8, "little") + bytes(8))
    with pytest.raises(MempoolFileError, match="count"):
        read_dump((1).to_bytes(8, "little") + (10**9).to_bytes(8, "little"))
