"""Block processing: our chainstate vs Bitcoin Core's engine (libbitcoinkernel via pbk).

Workloads, built once on `bitcoin-regtest` and fed as the same bytes to both engines:
  (a) one block spending 2,000 P2WPKH outputs (after an untimed prelude that creates them)
  (b) a chain of 1,000 small blocks (coinbase plus, once coinbases mature, one P2WPKH spend)

Each engine runs in its own subprocess (ours with its script worker processes started before
the clock runs, as in a running node) on a fresh temporary data directory, so peak memory is
that process's ru_maxrss (interpreter and libraries included). Ours runs with its default
script workers (one process per extra core); Core is shown with its script-check threads off
(the kernel's default) and with one thread per extra core.

    .venv/bin/python bench/bench_blocks.py [--spends 2000] [--chain 1000] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# --- building the workloads ---------------------------------------------------------------------
def build_big_spend(n_spends: int, inputs_per_tx: int) -> tuple[list[bytes], list[bytes]]:
    """(untimed prelude blocks, [the big block]): a fan-out to n P2WPKH outputs, then one
    block spending them all in transactions of `inputs_per_tx` inputs."""
    from regtest.consensus.transaction import TxOut
    from regtest.testing.blockscenarios import new_builder

    b = new_builder("bitcoin-regtest", "bench-a")
    coins = b.mature_coinbases(1)
    src = coins[0]
    spk = b.wallet.script("p2wpkh")
    each = (src.value - 100_000) // n_spends
    fan = b.spend([src], [TxOut(each, spk) for _ in range(n_spends)])
    b.block("fanout", txs=[fan])
    b.accept("fanout")
    outs = [b.out(fan, i) for i in range(n_spends)]
    txs = [b.spend(outs[i : i + inputs_per_tx], fee=500, to="p2wpkh") for i in range(0, n_spends, inputs_per_tx)]
    big = b.block("big", txs=txs)
    b.accept("big")
    prelude = [s.block.serialize() for s in b.steps[:-1]]
    return prelude, [big.serialize()]


def build_small_chain(n_blocks: int) -> list[bytes]:
    from regtest.testing.blockscenarios import new_builder

    b = new_builder("bitcoin-regtest", "bench-b")
    names: list[str] = []
    for i in range(1, n_blocks + 1):
        txs = []
        if i > 100:
            txs = [b.spend([b.coinbase_out(names[i - 101])], fee=1000, to="p2wpkh")]
        name = f"s{i}"
        b.block(name, txs=txs, payout="p2wpkh")
        b.accept(name)
        names.append(name)
    return [s.block.serialize() for s in b.steps]


# --- running one engine (in a subprocess) --------------------------------------------------------
def run_engine(engine: str, prelude_file: str, timed_file: str, threads: int, profile: bool) -> dict:
    """Process the prelude untimed, then time the timed blocks. `threads`: Core's script-check
    threads, or our script worker processes (-1: the chainstate's default)."""
    prelude = [bytes.fromhex(x) for x in Path(prelude_file).read_text().split()]
    timed = [bytes.fromhex(x) for x in Path(timed_file).read_text().split()]
    datadir = tempfile.mkdtemp(prefix=f"bench-{engine}-")
    if engine == "ours":
        from regtest.chain.chainstate import Chainstate
        from regtest.consensus.params import BITCOIN_REGTEST

        cs = Chainstate.open(datadir, BITCOIN_REGTEST, script_workers=None if threads < 0 else threads)
        for raw in prelude:
            assert cs.process_block(raw).accepted
        start_height = cs.height
        cs.script_checker.warm_up()  # a running node has its workers up before a big block
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        for raw in timed:
            res = cs.process_block(raw)
            assert res.accepted, res
        elapsed = time.perf_counter() - t0
        if prof is not None:
            import io
            import pstats

            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue(), file=sys.stderr)
        height = cs.height
        cs.close()
    else:
        from regtest.testing.core_chain import CoreChain

        core = CoreChain(datadir, worker_threads=threads)
        for raw in prelude:
            assert core.process(raw)
        start_height = core.height
        t0 = time.perf_counter()
        for raw in timed:
            assert core.process(raw)
        elapsed = time.perf_counter() - t0
        height = core.height
        core.close()
    assert height == start_height + len(timed), (engine, height, start_height)
    return {"seconds": elapsed, "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _subprocess(engine: str, prelude: list[bytes], timed: list[bytes], threads: int = 0, profile: bool = False,
                repeat: int = 1) -> dict:
    """Best time of `repeat` fresh runs (each a new process and data directory); peak RSS of the
    slowest-memory run."""
    runs = [_one_subprocess(engine, prelude, timed, threads, profile and i == 0) for i in range(repeat)]
    return {"seconds": min(r["seconds"] for r in runs), "maxrss_mib": max(r["maxrss_mib"] for r in runs)}


def _one_subprocess(engine: str, prelude: list[bytes], timed: list[bytes], threads: int, profile: bool) -> dict:
    with tempfile.TemporaryDirectory() as d:
        pf, tf = Path(d, "prelude.hex"), Path(d, "timed.hex")
        pf.write_text("\n".join(x.hex() for x in prelude))
        tf.write_text("\n".join(x.hex() for x in timed))
        cmd = [sys.executable, __file__, "--engine", engine, "--prelude", str(pf), "--timed", str(tf),
               "--threads", str(threads)] + (["--profile"] if profile else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(f"{engine} failed:\n{proc.stderr}")
        if profile:
            print(proc.stderr)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(label: str, prelude: list[bytes], timed: list[bytes], profile: bool, repeat: int) -> None:
    cores = os.cpu_count() or 1
    ours = _subprocess("ours", prelude, timed, -1, profile, repeat)
    inline = _subprocess("ours", prelude, timed, 0, False, repeat)
    core0 = _subprocess("core", prelude, timed, 0, False, repeat)
    coren = _subprocess("core", prelude, timed, max(0, cores - 1), False, repeat) if cores > 1 else core0
    print(f"\n{label}  (best of {repeat})")
    print(f"  ours, default script workers {ours['seconds']:8.3f} s   peak RSS {ours['maxrss_mib']:7.1f} MiB")
    print(f"  ours, scripts inline         {inline['seconds']:8.3f} s   peak RSS {inline['maxrss_mib']:7.1f} MiB")
    print(f"  Core, no script threads      {core0['seconds']:8.3f} s   peak RSS {core0['maxrss_mib']:7.1f} MiB"
          f"   ours/Core = {ours['seconds'] / core0['seconds']:.2f}x")
    if cores > 1:
        print(f"  Core, {cores - 1} script thread(s)     {coren['seconds']:8.3f} s   peak RSS {coren['maxrss_mib']:7.1f} MiB"
              f"   ours/Core = {ours['seconds'] / coren['seconds']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spends", type=int, default=2000)
    ap.add_argument("--inputs-per-tx", type=int, default=1)
    ap.add_argument("--chain", type=int, default=1000)
    ap.add_argument("--profile", action="store_true", help="cProfile our engine on the timed blocks")
    ap.add_argument("--only", choices=("a", "b"))
    ap.add_argument("--engine", choices=("ours", "core"), help=argparse.SUPPRESS)
    ap.add_argument("--prelude", help=argparse.SUPPRESS)
    ap.add_argument("--timed", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3, help="fresh runs per engine; the best time counts")
    args = ap.parse_args()
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.prelude, args.timed, args.threads, args.profile)))
        return
    print(f"bench_blocks: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if args.only in (None, "a"):
        t0 = time.perf_counter()
        prelude, big = build_big_spend(args.spends, args.inputs_per_tx)
        print(f"(built workload a in {time.perf_counter() - t0:.1f} s: {len(big[0]):,} bytes)")
        compare(f"(a) one block spending {args.spends} P2WPKH outputs ({args.inputs_per_tx} input(s) per tx)",
                prelude, big, args.profile, args.repeat)
    if args.only in (None, "b"):
        t0 = time.perf_counter()
        chain = build_small_chain(args.chain)
        print(f"(built workload b in {time.perf_counter() - t0:.1f} s)")
        compare(f"(b) a chain of {args.chain} small blocks", [], chain, args.profile, args.repeat)


if __name__ == "__main__":
    main()
