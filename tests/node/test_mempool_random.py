"""Random walks over mempool operations (accepts, replacements, chains, blocks that confirm or
conflict, invalidate/reconsider) with the pool's bookkeeping checked after every step, and every
entry re-checked against the chain (its inputs exist in the chain or the pool, unspent elsewhere)."""

from __future__ import annotations

import random

import pytest

from regtest.consensus.transaction import OutPoint, TxOut
from regtest.testing.miniwallet import Utxo
from tests.node.mempool_env import make_env


def _check_against_chain(env) -> None:
    pool = env.mp.pool
    pool.check_consistency()
    for e in pool.entries.values():
        for txin in e.tx.vin:
            op = txin.prevout
            parent = pool.entries.get(op.txid)
            if parent is not None:
                assert op.n < len(parent.tx.vout)
            else:
                assert env.cs.get_coin(op) is not None, "entry spends a coin the chain does not have"


@pytest.mark.parametrize("seed", range(4))
def test_random_operations_keep_the_pool_consistent(tmp_path, seed):
    rng = random.Random(seed)
    env = make_env(tmp_path, n_blocks=140)
    spk = env.wallet.script_pubkey
    free: list[Utxo] = list(env.wallet.mature_utxos(env.height))[:30]
    env.wallet.utxos = [u for u in env.wallet.utxos if u not in free]
    unconfirmed: list[Utxo] = []  # outputs of mempool transactions
    invalidated: list[bytes] = []
    for step in range(60):
        op = rng.random()
        if op < 0.45 and (free or unconfirmed):
            src = rng.choice(unconfirmed) if unconfirmed and rng.random() < 0.5 else (rng.choice(free) if free else unconfirmed[0])
            fee = rng.choice([150, 1000, 5000, 20_000])
            n_out = rng.choice([1, 2])
            each = (src.value - fee) // n_out
            tx = env.wallet.spend([src], [TxOut(each, spk)] * n_out)
            if env.accept(tx).accepted:
                unconfirmed += [Utxo(OutPoint(tx.txid, i), each, spk) for i in range(n_out)]
        elif op < 0.6 and free:
            u = rng.choice(free)  # a competing spend: replacement or refusal
            env.accept(env.wallet.spend([u], [TxOut(u.value - rng.choice([500, 50_000]), spk)]))
        elif op < 0.8:
            txs = env.mp.block_transactions()
            k = rng.randrange(0, len(txs) + 1)
            chosen = txs[:k]
            if free and rng.random() < 0.3:  # plus a transaction that conflicts with the pool
                u = rng.choice(free)
                free.remove(u)
                if not any(txin.prevout == u.outpoint for t in chosen for txin in t.vin):
                    chosen.append(env.wallet.spend([u], [TxOut(u.value - 9000, spk)]))
            env.mine(chosen)
        elif op < 0.9 and env.height > 141:
            h = env.cs.tip.hash
            env.cs.invalidate_block(h)
            invalidated.append(h)
        elif invalidated:
            env.cs.reconsider_block(invalidated.pop())
        spent_now = {txin.prevout for e in env.mp.pool.entries.values() for txin in e.tx.vin}
        free = [u for u in free if env.cs.get_coin(u.outpoint) is not None]
        unconfirmed = [u for u in unconfirmed if u.outpoint.txid in env.mp and u.outpoint not in spent_now]
        _check_against_chain(env)
    assert env.mp.sequence > 1
