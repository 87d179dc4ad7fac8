"""Mempool acceptance of one-input P2WPKH spends vs verifying their scripts alone.

The same pre-signed transactions are (a) script-checked only (PrecomputedTxData + check_input with
the standard flags, as the mempool does) and (b) fed through Mempool.accept (every policy rule,
coin lookups, fee and limit checks, RBF/conflict scan, bookkeeping, events). The report gives
tx/s for both and the ratio (policy + bookkeeping) / script; the target is <= 1.0.

    .venv/bin/python bench/bench_mempool.py [--txs 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build(tmp: Path, n: int):
    """A chain with `n` confirmed P2WPKH outputs and `n` signed spends of them."""
    from coincurve import PrivateKey

    from regtest.chain.blockassembly import assemble_block, block_fees
    from regtest.chain.chainstate import Chainstate
    from regtest.consensus.params import regtest_params
    from regtest.testing.miniwallet import MiniWallet

    priv = bytes(range(1, 33))
    params = regtest_params(PrivateKey(priv).public_key.format(compressed=True)[1:])
    t0 = 1_700_000_000
    cs = Chainstate.open(str(tmp / "chain"), params, clock=lambda: t0 + 10**6)
    w = MiniWallet()

    def mine(txs=()):
        tip = cs.tip
        t = t0 if tip.height == 0 else tip.time + 1
        b = assemble_block(params, tip.hash, tip.height + 1, t, priv, w.script_pubkey, list(txs), fees=block_fees(cs, txs))
        assert cs.process_block(b).accepted
        w.scan_block(b, cs.height)

    for _ in range(101 + n // 500 + 1):
        mine()
    splits = []
    while sum(len(s.vout) for s in splits) < n:
        tx, _ = w.split(w.take(cs.height), 500, 100_000)
        splits.append(tx)
    mine(splits)
    spendable = [u for u in w.utxos if u.coinbase_height is None][:n]
    txs = [w.self_transfer(u, 1000)[0] for u in spendable]
    return cs, txs, [[u.txout] for u in spendable]


def time_scripts(txs, spent) -> float:
    from regtest.consensus.script_error import ScriptError
    from regtest.consensus.script_flags import STANDARD_FLAGS
    from regtest.consensus.verify import PrecomputedTxData, check_input

    start = time.perf_counter()
    for tx, outs in zip(txs, spent):
        txdata = PrecomputedTxData(tx, outs)
        assert check_input(tx, 0, outs, STANDARD_FLAGS, txdata) == ScriptError.OK
    return time.perf_counter() - start


def time_accept(cs, txs) -> float:
    from regtest.consensus.transaction import Transaction
    from regtest.node.mempool import Mempool

    fresh = [Transaction.parse(tx.serialize()) for tx in txs]  # no cached hashes or sizes
    mp = Mempool(cs)
    start = time.perf_counter()
    for tx in fresh:
        res = mp.accept(tx)
        assert res.accepted, res.state_string
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from regtest.consensus.transaction import Transaction

    with tempfile.TemporaryDirectory() as d:
        cs, txs, spent = build(Path(d), args.txs)
        scripts, accepts = [], []
        for _ in range(args.rounds):  # back to back, so both halves of a round see the same load
            fresh = [Transaction.parse(tx.serialize()) for tx in txs]
            scripts.append(time_scripts(fresh, spent))
            accepts.append(time_accept(cs, txs))
        cs.close()
    n = len(txs)
    ratios = sorted((a - s) / s for s, a in zip(scripts, accepts))
    script_best, accept_best = min(scripts), min(accepts)
    print(f"transactions: {n} one-input one-output P2WPKH spends, {args.rounds} rounds (best times)")
    print(f"script check only : {n / script_best:9.0f} tx/s  ({script_best / n * 1e6:6.1f} us/tx)")
    print(f"mempool accept    : {n / accept_best:9.0f} tx/s  ({accept_best / n * 1e6:6.1f} us/tx)")
    print(f"policy+bookkeeping: {(accept_best - script_best) / n * 1e6:6.1f} us/tx")
    print(f"ratio (policy+bookkeeping) / script check: median {statistics.median(ratios):.2f} over rounds "
          f"(range {ratios[0]:.2f}..{ratios[-1]:.2f}; target <= 1.00)")


if __name__ == "__main__":
    main()
