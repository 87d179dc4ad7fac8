"""Bitcoin Core's engine (pbk) and our chainstate fed the same bitcoin-regtest blocks, including
a 15-block-deep reorg and a more-work branch with an invalid block, follow the same tip after
every block."""

from __future__ import annotations

import pytest

from regtest.chain.chainstate import Chainstate
from regtest.consensus.params import BITCOIN_REGTEST

from tests.chain.helpers import Builder, coinbase_out, spend

pbk = pytest.importorskip("pbk")


def scenario():
    bld = Builder(BITCOIN_REGTEST, priv=None)
    prefix = bld.chain(BITCOIN_REGTEST.genesis.hash, 101)
    a, b, c = [], [], []
    parent = prefix[-1].hash
    for i in range(15):
        tx1 = spend([coinbase_out(prefix[i])], n_out=3, tag=1)
        tx2 = spend([(tx_out(tx1, 0))], n_out=2, tag=2)
        blk = bld.block(parent, (tx1, tx2), fees=2000)
        a.append(blk)
        parent = blk.hash
    parent = prefix[-1].hash
    for i in range(20):
        txs = (spend([coinbase_out(prefix[i])], n_out=1, fee=5000, tag=3),) if i < 15 else ()
        blk = bld.block(parent, txs, fees=5000 if txs else 0, dt=2)
        b.append(blk)
        parent = blk.hash
    parent = a[-1].hash  # C extends A past B's work, but its third block overpays
    for i in range(8):
        blk = bld.block(parent, dt=3, extra_value=1 if i == 2 else 0)
        c.append(blk)
        parent = blk.hash
    return prefix + a + b + c


def core_tip(cm) -> bytes:
    chain = cm.get_active_chain()
    return bytes(chain.block_tree_entries[chain.height].block_hash)


def test_same_tip_as_core_after_every_block(tmp_path):
    blocks = scenario()
    ctx = pbk.make_context(pbk.ChainType.REGTEST)
    opts = pbk.ChainstateManagerOptions(ctx, str(tmp_path / "core"), str(tmp_path / "core" / "blocks"))
    cm = pbk.ChainstateManager(opts)
    with Chainstate.open(str(tmp_path / "ours"), BITCOIN_REGTEST, script_workers=0) as cs:
        assert core_tip(cm) == cs.tip.hash  # same genesis
        rejected: list[int] = []
        our_rejected: list[tuple[int, str]] = []
        for i, blk in enumerate(blocks):
            raw = blk.serialize()
            try:
                core_ok = cm.process_block(pbk.Block(raw))
            except pbk.ProcessBlockException:
                core_ok = False
            ours = cs.process_block(raw)
            assert core_tip(cm) == cs.tip.hash, f"tips differ after block {i}"
            if not core_ok:
                rejected.append(i)
            if not ours.accepted:
                our_rejected.append((i, ours.reason))
        # C[5] is the first C block with more work than B: both accept it, then fail C[2] when
        # connecting; C[6] builds on an invalid block, C[7] on a header nobody kept.
        assert our_rejected == [(142, "bad-prevblk"), (143, "prev-blk-not-found")]
        assert rejected == [142, 143]
        assert cs.height == 121  # B's tip: C failed at its third block (height 119)
    del cm


def tx_out(tx, n):
    from regtest.consensus.transaction import OutPoint

    return OutPoint(tx.txid, n), tx.vout[n].value
