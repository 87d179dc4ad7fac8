"""Inputs verified per second, single-threaded: our engine against Bitcoin Core's (libbitcoinkernel
through py-bitcoinkernel) on the very same transactions, per script type and on a block-like mix.

Both sides are timed the way a block validator works: per transaction, build the precomputed
data once (ours: `PrecomputedTxData`; Core: `PrecomputedTransactionData`), then verify every
input. Transactions are parsed before timing on both sides (parsing is not script checking).
Every verdict is checked to be valid before timing, so both engines do the full work.

    .venv/bin/python bench/bench_script_verify.py [--txs 150] [--repeats 5] [--profile]

Time is this process's CPU time (time.process_time), so load from other processes on a shared
machine distorts the figures much less than wall-clock time would.

Prints, per type and for the mix: inputs/s ours, inputs/s Core, us/input each, and the ratio
our time / Core time (median over repeats; lower is better, 1.0 = parity).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pbk  # noqa: E402
from pbk.script import PrecomputedTransactionData as CorePrecomputed  # noqa: E402

from regtest.consensus.script_error import ScriptError  # noqa: E402
from regtest.consensus.script_flags import MANDATORY_FLAGS  # noqa: E402
from regtest.consensus.transaction import Transaction, TxOut  # noqa: E402
from regtest.consensus.verify import PrecomputedTxData, check_input  # noqa: E402
from regtest.testing.keys import Key  # noqa: E402
from regtest.testing.txgen import (  # noqa: E402
    InputSpec,
    build_signed_tx,
    p2pkh_input,
    p2sh_multisig_input,
    p2tr_key_input,
    p2tr_script_input,
    p2wpkh_input,
)

FLAGS = int(MANDATORY_FLAGS)  # what block validation uses; Core's kernel accepts exactly these
TYPES = ("p2pkh", "p2wpkh", "p2sh-multisig-2of3", "p2tr-key", "p2tr-script")
#: Share of inputs per type in the mix (roughly today's blocks: segwit v0 and taproot dominate).
KEEP_CACHES = False
MIX_WEIGHTS = {"p2pkh": 15, "p2wpkh": 45, "p2sh-multisig-2of3": 10, "p2tr-key": 25, "p2tr-script": 5}


def _spec(kind: str, rng: random.Random) -> InputSpec:
    def key() -> Key:
        return Key(rng.randrange(1, 2**255))

    if kind == "p2pkh":
        return p2pkh_input(key())
    if kind == "p2wpkh":
        return p2wpkh_input(key())
    if kind == "p2sh-multisig-2of3":
        return p2sh_multisig_input([key(), key(), key()], 2)
    if kind == "p2tr-key":
        return p2tr_key_input(key())
    if kind == "p2tr-script":
        return p2tr_script_input(key(), key())
    raise ValueError(kind)


@dataclass
class Workload:
    """Transactions loaded for both engines (parsed ahead of timing)."""

    ours: list[tuple[Transaction, tuple[TxOut, ...]]]
    core: list[tuple[object, list[object], list[object], list[int]]]
    n_inputs: int


def make_transactions(kinds: Sequence[str], n_txs: int, seed: int) -> list[tuple[Transaction, tuple[TxOut, ...]]]:
    """`n_txs` transactions, 1-3 inputs each (kind drawn from `kinds`), 2 outputs."""
    rng = random.Random(seed)
    out = []
    for t in range(n_txs):
        n_in = rng.choice((1, 1, 2, 2, 3))
        specs = [_spec(rng.choice(kinds), rng) for _ in range(n_in)]
        outputs = (TxOut(rng.randrange(1, 10**8), bytes([0x00, 20]) + rng.randbytes(20)),
                   TxOut(rng.randrange(1, 10**8), bytes([0x51, 32]) + rng.randbytes(32)))
        tx, spent = build_signed_tx(specs, outputs, seed=seed * 100_000 + t)
        raw = tx.serialize()
        out.append((Transaction.parse(raw), spent))
    return out


def load(txs: list[tuple[Transaction, tuple[TxOut, ...]]]) -> Workload:
    core = []
    n = 0
    for tx, spent in txs:
        ctx = pbk.Transaction(tx.serialize())
        spks = [pbk.ScriptPubkey(o.script_pubkey) for o in spent]
        outs = [pbk.TransactionOutput(s, o.value) for s, o in zip(spks, spent)]
        core.append((ctx, spks, outs, [o.value for o in spent]))
        n += len(tx.vin)
    return Workload(txs, core, n)


def check_all_valid(w: Workload) -> None:
    for (tx, spent), (ctx, spks, outs, amounts) in zip(w.ours, w.core):
        pre = CorePrecomputed(ctx, outs)
        for i in range(len(tx.vin)):
            ours = check_input(tx, i, spent, FLAGS)
            core = spks[i].verify(amounts[i], ctx, pre, i, FLAGS)
            if ours != ScriptError.OK or not core:
                raise SystemExit(f"input {i} of {tx.txid_hex} not valid: ours={ours.name} core={core}")


def _engine_caches() -> list[dict]:
    from regtest.consensus import crypto

    return [v for k, v in vars(crypto).items() if k.endswith("_CACHE") and isinstance(v, dict)]


_CACHES = _engine_caches()


def cold_caches() -> None:
    """Empty the engine's parsed-pubkey caches: the timed loop repeats the same transactions,
    while a real block sees most keys once, so cross-run cache hits would flatter us."""
    for cache in _CACHES:
        cache.clear()


def run_ours(w: Workload) -> float:
    flags = FLAGS
    if not KEEP_CACHES:
        cold_caches()
    t0 = time.process_time()
    for tx, spent in w.ours:
        txdata = PrecomputedTxData(tx, spent)
        for i in range(len(tx.vin)):
            if check_input(tx, i, spent, flags, txdata) is not ScriptError.OK:
                raise AssertionError("invalid")
    return time.process_time() - t0


def run_core(w: Workload) -> float:
    flags = FLAGS
    t0 = time.process_time()
    for ctx, spks, outs, amounts in w.core:
        pre = CorePrecomputed(ctx, outs)
        for i in range(len(spks)):
            if not spks[i].verify(amounts[i], ctx, pre, i, flags):
                raise AssertionError("invalid")
    return time.process_time() - t0


def measure(w: Workload, repeats: int) -> tuple[float, float, float]:
    """(ours, core, ratio): median seconds per input over `repeats` rounds, and the median of
    the per-round ratios. Each round runs both engines back to back (order alternating), so
    load from other processes hits both alike; GC is paused while timing."""
    ours_t, core_t, ratios = [], [], []
    for r in range(repeats):
        gc.collect()
        gc.disable()
        try:
            if r % 2:
                c = run_core(w)
                o = run_ours(w)
            else:
                o = run_ours(w)
                c = run_core(w)
        finally:
            gc.enable()
        ours_t.append(o / w.n_inputs)
        core_t.append(c / w.n_inputs)
        ratios.append(o / c)
    return statistics.median(ours_t), statistics.median(core_t), statistics.median(ratios)


def adversarial_leaves() -> dict[str, bytes]:
    """Cheap-to-build tapscripts that make an interpreter work hard per witness byte (no op
    limit in tapscript; only the block's weight bounds them)."""
    from regtest.consensus import script as S
    from regtest.consensus.script import push_data_raw

    return {
        "dup/drop x100k": bytes([S.OP_1]) + bytes([S.OP_DUP, S.OP_DROP]) * 100_000,
        "1 add 1sub x100k": bytes([S.OP_1]) + bytes([S.OP_1, S.OP_ADD, S.OP_1SUB]) * 100_000,
        "1 if endif x100k": bytes([S.OP_1]) + bytes([S.OP_1, S.OP_IF, S.OP_ENDIF]) * 100_000,
        "520B dup sha256 drop x30k": push_data_raw(b"\x01" * 520)
        + bytes([S.OP_DUP, S.OP_SHA256, S.OP_DROP]) * 30_000,
    }


def run_adversarial() -> None:
    """Time per input for each adversarial leaf, both engines, and the projection to a block
    whose 4,000,000 weight units are all such witness bytes (1 WU per witness byte)."""
    from regtest.testing.keys import Key
    from regtest.testing.txgen import TAPROOT_LEAF_TAPSCRIPT, build_case, simple_shape, taproot_output

    print()
    print(f"{'adversarial tapscript':<28}{'bytes':>8}{'ours ms':>9}{'core ms':>9}{'ratio':>7}{'ours s/4MWU':>13}")
    for name, leaf in adversarial_leaves().items():
        out = taproot_output(Key(7), [(TAPROOT_LEAF_TAPSCRIPT, leaf)])
        case = build_case(
            simple_shape(), out.script_pubkey, 1000,
            lambda tx, spent: (b"", (leaf, out.control_blocks[0])), FLAGS, name,
        )
        w = load([(case.tx, case.spent)])
        check_all_valid(w)
        ours, core, ratio = measure(w, 3)
        print(
            f"{name:<28}{len(leaf):>8}{ours * 1e3:>9.1f}{core * 1e3:>9.2f}{ratio:>7.1f}"
            f"{ours * 4_000_000 / len(leaf):>13.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--txs", type=int, default=150, help="transactions per workload")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile our engine on the mix")
    ap.add_argument("--keep-caches", action="store_true", help="let our pubkey caches persist across runs")
    ap.add_argument("--adversarial", action="store_true", help="also time worst-case tapscripts")
    args = ap.parse_args(argv)
    global KEEP_CACHES
    KEEP_CACHES = args.keep_caches

    workloads: dict[str, Workload] = {}
    for j, kind in enumerate(TYPES):
        workloads[kind] = load(make_transactions([kind], args.txs, args.seed + j))
    mix_kinds = [k for k, wgt in MIX_WEIGHTS.items() for _ in range(wgt)]
    workloads["mix"] = load(make_transactions(mix_kinds, args.txs * 2, args.seed + 99))
    for w in workloads.values():
        check_all_valid(w)
        run_ours(w)  # warm caches (imports, lazily built tables) on both sides
        run_core(w)

    print(
        f"flags={FLAGS:#x} repeats={args.repeats} (median), single thread, python {sys.version.split()[0]}, "
        f"our pubkey caches {'kept' if KEEP_CACHES else 'cleared before each run'}"
    )
    header = f"{'type':<20}{'inputs':>7}{'ours in/s':>11}{'core in/s':>11}{'ours us':>9}{'core us':>9}{'ratio':>7}"
    print(header)
    print("-" * len(header))
    results = {}
    for name, w in workloads.items():
        ours, core, ratio = measure(w, args.repeats)
        results[name] = (ours, core, ratio)
        print(
            f"{name:<20}{w.n_inputs:>7}{1 / ours:>11.0f}{1 / core:>11.0f}"
            f"{ours * 1e6:>9.1f}{core * 1e6:>9.1f}{ratio:>7.2f}"
        )
    print("ratio = median over rounds of our time / Core time (targets: <= 1.0 on the mix, <= 1.5 per type)")

    if args.adversarial:
        run_adversarial()

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            run_ours(workloads["mix"])
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
