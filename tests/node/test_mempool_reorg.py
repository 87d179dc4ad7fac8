"""The mempool follows the chain: confirmed and conflicting transactions leave on block connect,
transactions of disconnected blocks come back (re-validated) on invalidateblock and reorgs."""

from __future__ import annotations

import pytest

from regtest.chain.blockassembly import assemble_block
from regtest.consensus.transaction import TxOut
from tests.node.mempool_env import COORDINATOR_PRIV, make_env


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def test_block_removes_confirmed_silently_but_consumes_sequence(env):
    a, _ = env.wallet.self_transfer(env.utxo(), 1000)
    b, _ = env.wallet.self_transfer(env.utxo(), 1000)
    assert env.accept(a).accepted and env.accept(b).accepted
    assert env.mp.sequence == 3
    env.mine([a])
    assert a.txid not in env.mp and b.txid in env.mp
    assert env.mp.sequence == 4  # one number for the confirmed tx, no 'R' event
    assert [e[0] for e in env.recorder.events] == ["A", "A"]


def test_block_conflict_evicts_mempool_spend_and_descendants(env):
    u = env.utxo()
    a, ua = env.wallet.self_transfer(u, 1000)
    child, _ = env.wallet.self_transfer(ua, 1000)
    assert env.accept(a).accepted and env.accept(child).accepted
    double = env.wallet.spend([u], [TxOut(u.value - 5000, env.wallet.script_pubkey)])
    env.mine([double])
    assert len(env.mp) == 0
    removed = [(e[1], e[2]) for e in env.recorder.events if e[0] == "R"]
    assert {t for t, _ in removed} == {a.txid, child.txid}
    assert sorted(s for _, s in removed) == [3, 4]


def test_invalidateblock_returns_transactions(env):
    u = env.utxo()
    a, ua = env.wallet.self_transfer(u, 1000)
    b, _ = env.wallet.self_transfer(ua, 1000)
    env.mine([a])
    env.mine([b])
    assert len(env.mp) == 0
    first_block = env.cs.block_hash_at(env.height - 1)
    env.cs.invalidate_block(first_block)
    assert a.txid in env.mp and b.txid in env.mp
    assert env.mp.get(b.txid).parents == {a.txid}
    assert env.mp.get(a.txid).children == {b.txid}
    added = [e[1] for e in env.recorder.events if e[0] == "A"]
    assert added == [b.txid, a.txid]  # tip block first, as blocks are disconnected
    env.cs.reconsider_block(first_block)
    assert len(env.mp) == 0


def test_reorg_drops_spend_of_coinbase_that_becomes_immature(env):
    ripe = [u for u in env.wallet.utxos if u.coinbase_height == env.height - 99][0]
    tx, _ = env.wallet.self_transfer(ripe, 1000)
    assert env.accept(tx).accepted
    env.cs.invalidate_block(env.cs.tip.hash)
    assert tx.txid not in env.mp
    assert env.recorder.events[-1][:2] == ("R", tx.txid)


def test_reorg_drops_transaction_that_is_no_longer_final(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000, locktime=env.height, sequence=0xFFFFFFFE)
    assert env.accept(tx).accepted
    env.cs.invalidate_block(env.cs.tip.hash)
    assert tx.txid not in env.mp


def test_reorg_to_branch_with_conflicting_spend(env):
    u = env.utxo()
    a, _ = env.wallet.self_transfer(u, 1000)
    fork_parent = env.cs.tip
    [old] = env.mine([a])
    # a competing branch of two blocks: its first block spends the same coin differently
    double = env.wallet.spend([u], [TxOut(u.value - 7000, env.wallet.script_pubkey)])
    b1 = assemble_block(env.params, fork_parent.hash, fork_parent.height + 1, fork_parent.time + 2,
                        COORDINATOR_PRIV, env.wallet.script_pubkey, [double], fees=7000)
    assert env.cs.process_block(b1).accepted
    b2 = assemble_block(env.params, b1.hash, fork_parent.height + 2, fork_parent.time + 3,
                        COORDINATOR_PRIV, env.wallet.script_pubkey)
    res = env.cs.process_block(b2)
    assert res.connected and env.cs.tip.hash == b2.hash
    assert a.txid not in env.mp and double.txid not in env.mp
    assert old.hash != env.cs.tip.hash
    # back in the pool when its block was disconnected, out again as a conflict of the new branch
    assert [e[0] for e in env.recorder.events if e[1] == a.txid] == ["A", "R"]
