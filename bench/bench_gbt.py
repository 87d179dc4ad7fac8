"""getblocktemplate latency with 5,000 transactions in the mempool.

The mempool holds independent one-input spends at varied fee rates plus parent/child pairs
(low-fee parents, high-fee children: CPFP packages). Timed: building the template (ancestor
fee-rate selection) and the full RPC result (template JSON serialised as bitcoind does); each
measured cold (mempool changed since the last template) over several rounds.

Then the same through a real potcd over HTTP (`getblocktemplate` JSON-RPC call, parsed by the
client): cold (the mempool changed since the previous call) and cached (nothing changed).

    .venv/bin/python bench/bench_gbt.py [--txs 5000] [--rounds 5] [--no-rpc]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build(tmp: Path, n: int):
    from bench_mempool import build as build_spends

    from regtest.node.mempool import Mempool
    from regtest.testing.miniwallet import MiniWallet, Utxo

    pairs = n // 10
    cs, txs, _ = build_spends(tmp, n - pairs)
    w = MiniWallet()
    rng = random.Random(7)
    mp = Mempool(cs)
    for i, tx in enumerate(txs):
        u = Utxo(tx.vin[0].prevout, tx.vout[0].value + 1000, w.script_pubkey)
        if i < pairs:
            parent, pu = w.self_transfer(u, 120)
            child, _ = w.self_transfer(pu, rng.randrange(5_000, 50_000))
            for t in (parent, child):
                assert mp.accept(t).accepted
        else:
            t, _ = w.self_transfer(u, rng.randrange(200, 20_000))
            assert mp.accept(t).accepted
    return cs, mp


def rpc_bench(n: int, rounds: int) -> None:
    """Fund a potcd, fill its mempool with `n` transactions over RPC, time getblocktemplate."""
    from regtest.consensus.address import encode_segwit
    from regtest.consensus.block import Block
    from regtest.consensus.hashes import hash160
    from regtest.testing.miniwallet import MiniWallet
    from tests.node.framework import TestNode

    with tempfile.TemporaryDirectory() as d:
        node = TestNode(Path(d) / "node").start()
        try:
            w = MiniWallet()
            addr = encode_segwit("bcrt", 0, hash160(w.pubkey))

            def generate(k: int) -> None:
                for h in node.rpc("generatetoaddress", k, addr):
                    w.scan_block(Block.parse(bytes.fromhex(node.rpc("getblock", h, 0))), node.rpc("getblockheader", h)["height"])

            splits = n // 500 + 2
            generate(100 + splits)
            for _ in range(splits):
                tx, _ = w.split(w.take(node.rpc("getblockcount")), 500, 100_000)
                node.rpc("sendrawtransaction", tx.serialize().hex())
            generate(1)
            rng = random.Random(9)
            spendable = [u for u in w.utxos if u.coinbase_height is None]
            pairs = n // 10
            sent = 0
            for i, u in enumerate(spendable[: n - pairs]):
                if i < pairs:
                    parent, pu = w.self_transfer(u, 120)
                    child, _ = w.self_transfer(pu, rng.randrange(5_000, 50_000))
                    batch = [parent, child]
                else:
                    batch = [w.self_transfer(u, rng.randrange(200, 20_000))[0]]
                for tx in batch:
                    node.rpc("sendrawtransaction", tx.serialize().hex())
                    sent += 1
            extra = spendable[n - pairs:]
            cold, warm = [], []
            for r in range(rounds):
                tx, _ = w.self_transfer(extra[r], 1000)  # the mempool changed: a new template
                node.rpc("sendrawtransaction", tx.serialize().hex())
                t0 = time.perf_counter()
                tpl = node.rpc("getblocktemplate", {"rules": ["segwit"]})
                t1 = time.perf_counter()
                node.rpc("getblocktemplate", {"rules": ["segwit"]})
                t2 = time.perf_counter()
                cold.append(t1 - t0)
                warm.append(t2 - t1)
            print(f"potcd over HTTP: mempool {len(node.rpc('getrawmempool'))} transactions, template "
                  f"{len(tpl['transactions'])} transactions")
            print(f"getblocktemplate RPC, cold  : median {statistics.median(cold) * 1000:7.1f} ms  "
                  f"(min {min(cold) * 1000:.1f})")
            print(f"getblocktemplate RPC, cached: median {statistics.median(warm) * 1000:7.1f} ms  "
                  f"(min {min(warm) * 1000:.1f})")
        finally:
            node.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txs", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-rpc", action="store_true", help="skip the measurement through potcd")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "bench"))
    from regtest.node.mining import create_template, template_json
    from regtest.node.rpc import jsonfmt

    with tempfile.TemporaryDirectory() as d:
        cs, mp = build(Path(d), args.txs)
        build_times, full_times = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            tpl = create_template(mp, cs)
            t1 = time.perf_counter()
            text = jsonfmt.dumps(template_json(tpl, cs.tip.hash_hex + "0"))
            t2 = time.perf_counter()
            build_times.append(t1 - t0)
            full_times.append(t2 - t0)
        n_in = len(tpl.entries)
        cs.close()
    print(f"mempool: {len(mp)} transactions; template: {n_in} transactions, weight {tpl.weight}, "
          f"{len(text) / 1e6:.1f} MB of JSON")
    print(f"template assembly     : median {statistics.median(build_times) * 1000:7.1f} ms  "
          f"(min {min(build_times) * 1000:.1f})")
    print(f"getblocktemplate total: median {statistics.median(full_times) * 1000:7.1f} ms  "
          f"(min {min(full_times) * 1000:.1f})")
    if not args.no_rpc:
        rpc_bench(args.txs, args.rounds)


if __name__ == "__main__":
    main()
