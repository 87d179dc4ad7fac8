"""Crash safety: a worker process connecting and reorganising is killed with SIGKILL at random
moments; after every restart the tip and the UTXO set hash must equal a clean replay's."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from regtest.chain.chainstate import Chainstate
from regtest.chain.coinser import hash_serialize_coin
from regtest.chain.storage import ChainStore
from regtest.consensus.hashes import sha256d

from tests.chain.helpers import Builder, coinbase_out, regtest, spend

REPO = Path(__file__).resolve().parents[2]
KILLS = 12


def build_world(params):
    """Prefix of 101 blocks, branch A (15 blocks with spends), branch B (20 blocks, conflicting
    spends) forking at the prefix tip: every reorg between them is 15 or 20 blocks deep."""
    bld = Builder(params)
    prefix = bld.chain(params.genesis.hash, 101)
    a, b = [], []
    parent = prefix[-1].hash
    for i in range(15):
        tx1 = spend([coinbase_out(prefix[i])], n_out=4, tag=1)
        tx2 = spend([(tx1_out(tx1, 0))], n_out=2, tag=2)
        blk = bld.block(parent, (tx1, tx2), fees=2000)
        a.append(blk)
        parent = blk.hash
    parent = prefix[-1].hash
    for i in range(20):
        txs = (spend([coinbase_out(prefix[i])], n_out=2, fee=3000, tag=3),) if i < 18 else ()
        blk = bld.block(parent, txs, fees=3000 if txs else 0, dt=2)
        b.append(blk)
        parent = blk.hash
    return prefix, a, b


def tx1_out(tx, n):
    from regtest.consensus.transaction import OutPoint

    return OutPoint(tx.txid, n), tx.vout[n].value


def clean_replay_states(tmp: Path, params, branches) -> dict[bytes, bytes]:
    """block hash -> UTXO hash after a clean replay up to that block, for every block."""
    states: dict[bytes, bytes] = {}
    for i, blocks in enumerate(branches):
        with Chainstate.open(str(tmp / f"replay{i}"), params) as cs:
            states[cs.tip.hash] = cs.utxo_set_hash()
            for blk in blocks:
                assert cs.process_block(blk).accepted
                states[cs.tip.hash] = cs.utxo_set_hash()
    return states


def raw_state(datadir: Path) -> tuple[bytes, bytes]:
    """Tip and UTXO hash straight from the database, before any recovery code runs."""
    store = ChainStore.open_datadir(str(datadir))
    try:
        tip = store.get_meta("tip")
        digest = sha256d(b"".join(hash_serialize_coin(op, c) for op, c in store.iter_coins()))
        return tip, digest
    finally:
        store.close()


def test_sigkill_during_connect_and_reorg(tmp_path):
    params = regtest()
    prefix, a, b = build_world(params)
    states = clean_replay_states(tmp_path, params, [prefix + a, prefix + b])
    blocks_file = tmp_path / "blocks.hex"
    blocks_file.write_text("\n".join(blk.serialize().hex() for blk in prefix + a + b))
    datadir = tmp_path / "node"
    heights = {blk.hash: i + 1 for i, blk in enumerate(prefix)}
    heights.update({blk.hash: 102 + i for i, blk in enumerate(a)})
    heights.update({blk.hash: 102 + i for i, blk in enumerate(b)})
    heights[params.genesis.hash] = 0
    rng = random.Random(20261125)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    seen_tips = set()
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.chain.crash_worker", str(datadir), str(blocks_file), b[0].hash.hex()],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read()
            time.sleep(rng.uniform(0.0, 0.5))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        tip, utxo = raw_state(datadir)
        assert tip in states, "tip after the crash is not a block of either branch"
        assert utxo == states[tip], "UTXO set does not match the clean replay at the stored tip"
        seen_tips.add(tip)
        print("killed at tip", tip.hex()[:16], "height", heights[tip])
        with Chainstate.open(str(datadir), params) as cs:  # recovery finishes any reorg
            assert cs.utxo_set_hash() == states[cs.tip.hash]
            assert cs.tip is cs.index.best_candidate()
    assert len(seen_tips) >= 2, "every kill landed on the same state: the test lost its power"
    with Chainstate.open(str(datadir), params) as cs:
        for blk in prefix + a + b:
            cs.process_block(blk)
        cs.reconsider_block(b[0].hash)
        assert cs.tip.hash == b[-1].hash
        assert cs.utxo_set_hash() == states[b[-1].hash]
