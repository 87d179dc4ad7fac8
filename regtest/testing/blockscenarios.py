"""Block scenarios: named block sequences with the outcome Bitcoin's rules demand for each.

Each scenario is a function that drives a `ScenarioBuilder` (see blockbuilder.py); the same
function runs on a proof-of-work network (`bitcoin-regtest`, where Bitcoin Core's engine judges
the very same bytes) and on this project's certificate network (`regtest`). Blocks that only
make sense under one proof rule (high-hash) are built only there.

    from regtest.testing.blockscenarios import build_scenario, SCENARIOS
    sc = build_scenario("invalid_blocks", "bitcoin-regtest")
    for step in sc.steps: ...   # step.block, step.reason (None = accept), step.tip

`Scenario.to_json()` gives raw hex blocks with the expected reason and tip, for other engines.

Scenarios: `invalid_blocks` (a mature chain, spends of P2PK/P2PKH/P2WPKH/P2TR outputs, then one
block per consensus reject reason on the tip: CheckBlock, ContextualCheckBlock, header and
ConnectBlock rules, and a dozen script failures), `forks_and_reorgs` (first-seen ties, a reorg
13 blocks deep, a branch with an invalid block that fails only when it would become best, a
valid branch forking off before it), `long_chain_halving` (310 blocks across the first halving).

Expected reasons were written from Core's rules and are checked against Core's engine by
tests/blocks/test_core_differential.py. Not covered, because no block can reach them: the
input/fee range rules (bad-txns-inputvalues-outofrange, bad-txns-fee-outofrange,
bad-txns-accumulated-fee-outofrange: regtest's whole supply is far below MAX_MONEY) and
bad-txns-oversize (an oversized transaction makes its block fail bad-blk-length first).
Blocks are deterministic except `time_too_new`, whose time follows the wall clock.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import replace

from regtest.consensus.block import Block, bip34_height_script, witness_commitment_output
from regtest.consensus.block_validation import SCRIPT_FAILURE_PREFIX
from regtest.consensus.blockbuild import make_coinbase
from regtest.consensus.hashes import sha256
from regtest.consensus.params import (
    BITCOIN_REGTEST,
    COINBASE_MATURITY,
    MAX_FUTURE_BLOCK_TIME,
    NetworkParams,
    regtest_params,
)
from regtest.consensus.certificate import xonly_pubkey
from regtest.consensus.script import (
    OP_0,
    OP_1,
    OP_CHECKLOCKTIMEVERIFY,
    OP_CHECKMULTISIG,
    OP_CHECKSEQUENCEVERIFY,
    OP_CHECKSIG,
    OP_DROP,
    OP_RETURN,
    push_data,
    push_int,
)
from regtest.consensus.transaction import MAX_MONEY, NULL_OUTPOINT, OutPoint, Transaction, TxIn, TxOut
from regtest.testing.blockbuilder import (
    OP_TRUE,
    P2WSH_OP_TRUE,
    Scenario,
    ScenarioBuilder,
    Spendable,
    make_sealer,
)
from regtest.testing.keys import mutate_ecdsa
from regtest.testing.txgen import p2sh_script

#: The coordinator key the scenarios sign certificates with on `regtest` (test use only).
SCENARIO_COORDINATOR_SECRET = sha256(b"potc scenario coordinator key")

_CLTV_LOCK = 30  # blocks after the custom-script fan-out is mined (absolute, height based)
_CSV_LOCK = 5  # relative blocks


def scenario_params(network: str) -> NetworkParams:
    if network == "bitcoin-regtest":
        return BITCOIN_REGTEST
    if network == "regtest":
        return regtest_params(xonly_pubkey(SCENARIO_COORDINATOR_SECRET))
    raise ValueError(f"scenarios run on 'bitcoin-regtest' or 'regtest', not {network!r}")


def new_builder(network: str, name: str = "scenario", params: NetworkParams | None = None,
                coordinator_secret: bytes | Callable[[int], bytes] = SCENARIO_COORDINATOR_SECRET) -> ScenarioBuilder:
    """A builder on `network`; certificate networks sign with `coordinator_secret` (a key, or a
    function height -> key to follow a key schedule)."""
    params = params or scenario_params(network)
    return ScenarioBuilder(params, make_sealer(params, coordinator_secret), name)


# --- small transaction helpers ------------------------------------------------------------------
def with_unlock(tx: Transaction, index: int, script_sig: bytes = b"", witness: tuple[bytes, ...] = ()) -> Transaction:
    vin = list(tx.vin)
    vin[index] = replace(vin[index], script_sig=script_sig, witness=witness)
    return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)


def with_outputs(tx: Transaction, outputs: tuple[TxOut, ...]) -> Transaction:
    return Transaction(tx.version, tx.vin, outputs, tx.locktime)


def replace_coinbase(txs: list[Transaction], **changes) -> list[Transaction]:
    """txs with the coinbase's first input changed (script_sig=..., witness=...)."""
    cb = txs[0]
    vin0 = replace(cb.vin[0], **changes)
    return [Transaction(cb.version, (vin0,) + cb.vin[1:], cb.vout, cb.locktime), *txs[1:]]


def _cltv_script(height: int) -> bytes:
    return push_int(height) + bytes([OP_CHECKLOCKTIMEVERIFY, OP_DROP, OP_1])


def _csv_script(blocks: int) -> bytes:
    return push_int(blocks) + bytes([OP_CHECKSEQUENCEVERIFY, OP_DROP, OP_1])


#: 0-of-0 CHECKMULTISIG: true with a null dummy, NULLDUMMY failure with any other.
_MULTISIG_0_OF_0 = bytes([OP_0, OP_0, OP_CHECKMULTISIG])
_RETURN_AFTER_TRUE = bytes([OP_1, OP_RETURN])


# --- scenario 1: a long chain and one invalid block per consensus rule ---------------------------
def invalid_blocks(b: ScenarioBuilder) -> None:
    """Mature coinbases, spends of every key type, then one block per consensus reject reason,
    each built on the tip and rejected without moving it, interleaved with valid blocks."""
    coins = b.mature_coinbases(40)
    take = coins.pop

    # Spends of every wallet output type, all four in one block.
    by_kind: dict[str, Spendable] = {}
    for c in coins:
        by_kind.setdefault(b.wallet.kind_of(c.txout.script_pubkey) or "?", c)
    kinds = [by_kind[k] for k in ("p2pk", "p2pkh", "p2wpkh", "p2tr")]
    for c in kinds:
        coins.remove(c)
    spends = [b.spend([c], to=to) for c, to in zip(kinds, ("p2pkh", "p2wpkh", "p2tr", "p2pk"))]
    b.block("spend_all_kinds", txs=spends)
    b.accept("spend_all_kinds")
    # ... and spend their outputs again (non-coinbase coins of each kind), chained in one block.
    again = [b.spend([b.out(tx)], to="op_true") for tx in spends]
    b.block("spend_again", txs=again)
    b.accept("spend_again")

    # A fan-out of special outputs used by later blocks.
    fan_h = b.height_of(b.tip_name) + 1
    lock_h = fan_h + 1 + _CLTV_LOCK  # the CLTV outputs need a locktime of at least this
    special = {
        "op_true": OP_TRUE,
        "p2wsh_true": P2WSH_OP_TRUE,
        "p2wsh_true2": P2WSH_OP_TRUE,
        "cltv": _cltv_script(lock_h),
        "cltv2": _cltv_script(lock_h),
        "csv": _csv_script(_CSV_LOCK),
        "csv2": _csv_script(_CSV_LOCK),
        "multisig0": _MULTISIG_0_OF_0,
        "return_after_true": _RETURN_AFTER_TRUE,
        "p2sh_true": p2sh_script(OP_TRUE),
        "p2wsh_wrong": P2WSH_OP_TRUE,
    }
    src = take()
    each = (src.value - 10_000) // (len(special) + 4)
    outs = [TxOut(each, spk) for spk in special.values()] + [TxOut(each, OP_TRUE) for _ in range(4)]
    fan = b.spend([src], outs)
    b.block("fanout", txs=[fan])
    b.accept("fanout")
    sp = {name: b.out(fan, i) for i, name in enumerate(special)}
    spare = [b.out(fan, len(special) + i) for i in range(4)]
    fan_height = b.height_of("fanout")

    def reject(name: str, reason: str, kind: str | None = None, **kw) -> None:
        b.block(name, **kw)
        b.reject(name, reason, kind=kind or name)

    # --- context-free block checks (CheckBlock) ---
    reject("bad_merkle", "bad-txnmrklroot", txs=[b.spend([take()])],
           post_mod=lambda blk: Block(blk.header.replace(merkle_root=sha256(b"wrong root")), blk.txs))
    reject("no_coinbase", "bad-cb-missing", txs=[b.spend([take()])], witness_commitment=False,
           tx_mod=lambda txs: txs[1:])
    reject("two_coinbases", "bad-cb-multiple",
           tx_mod=lambda txs: [txs[0], make_coinbase(b.height_of(b.tip_name) + 1, OP_TRUE, 1, extranonce=b"\x07",
                                                    witness_reserved=None)])
    reject("cb_script_short", "bad-cb-length", tx_mod=lambda txs: replace_coinbase(txs, script_sig=b"\x51"))
    reject("cb_script_long", "bad-cb-length",
           tx_mod=lambda txs: replace_coinbase(txs, script_sig=bip34_height_script(b.height_of(b.tip_name) + 1)
                                               + push_data(bytes(96))))
    reject("tx_vin_empty", "bad-txns-vin-empty", txs=[Transaction(2, (), (), 0)])
    reject("tx_vout_empty", "bad-txns-vout-empty", txs=[b.spend([take()], [])])
    c = take()
    reject("tx_vout_negative", "bad-txns-vout-negative", txs=[b.spend([c], [TxOut(-1, OP_TRUE)])])
    reject("tx_vout_toolarge", "bad-txns-vout-toolarge", txs=[b.spend([c], [TxOut(MAX_MONEY + 1, OP_TRUE)])])
    reject("tx_outtotal_toolarge", "bad-txns-txouttotal-toolarge",
           txs=[b.spend([c], [TxOut(MAX_MONEY, OP_TRUE), TxOut(MAX_MONEY, OP_TRUE)])])
    reject("tx_inputs_duplicate", "bad-txns-inputs-duplicate", txs=[b.spend([c, c])])
    null_in = b.spend([c], sign=False)
    null_in = Transaction(2, null_in.vin + (TxIn(NULL_OUTPOINT, b"", 0xFFFFFFFF),), null_in.vout, 0)
    reject("tx_prevout_null", "bad-txns-prevout-null", txs=[null_in])
    reject("coinbase_in_middle", "bad-cb-multiple",
           tx_mod=lambda txs: [txs[0], b.spend([c]), txs[0]])
    reject("too_many_sigops", "bad-blk-sigops", payout="p2wpkh",
           txs=[b.spend([sp["op_true"]], [TxOut(sp["op_true"].value - 1000, bytes([OP_CHECKSIG]) * 20_001)])])
    big = b.spend([spare[0]], [TxOut(0, bytes([OP_RETURN]) + bytes(1_000_000)), TxOut(spare[0].value - 2000, OP_TRUE)])
    reject("block_too_long", "bad-blk-length", txs=[big])

    # --- contextual block checks (ContextualCheckBlock) ---
    h = b.height_of(b.tip_name) + 1
    reject("cb_height_wrong", "bad-cb-height",
           tx_mod=lambda txs: replace_coinbase(txs, script_sig=bip34_height_script(h + 1) + b"\x01\x09"))
    reject("tx_nonfinal_height", "bad-txns-nonfinal", txs=[b.spend([take()], locktime=h)])
    mtp = _median_time_past(b)
    reject("tx_nonfinal_time", "bad-txns-nonfinal", kind="tx_nonfinal_time (BIP113)",
           txs=[b.spend([take()], locktime=mtp + 1)])
    reject("witness_nonce_size", "bad-witness-nonce-size", txs=[b.spend([take_kind(b, coins, "p2wpkh")])],
           tx_mod=lambda txs: replace_coinbase(txs, witness=(bytes(31),)))
    reject("witness_merkle_mismatch", "bad-witness-merkle-match", refresh_commitment=False,
           txs=[b.spend([sp["p2wsh_true"]])],
           tx_mod=lambda txs: [Transaction(txs[0].version, txs[0].vin,
                                           txs[0].vout + (witness_commitment_output(sha256(b"not it")),),
                                           txs[0].locktime), *txs[1:]])
    reject("unexpected_witness", "unexpected-witness", witness_commitment=False, txs=[b.spend([sp["p2wsh_true"]])])
    heavy = with_unlock(b.spend([sp["p2wsh_true2"]], sign=False), 0, b"", (bytes(4_000_000), OP_TRUE))
    reject("block_too_heavy", "bad-blk-weight", txs=[heavy])

    # --- header checks ---
    if b.pow_network:
        reject("high_hash", "high-hash", pow_valid=False)
    reject("bad_bits", "bad-diffbits", bits=0x207FFFFE)
    reject("time_too_old", "time-too-old", header_mod=lambda hd: hd.replace(time=_median_time_past(b)))
    now = int(_time.time())
    reject("time_too_new", "time-too-new", time=now + MAX_FUTURE_BLOCK_TIME + 600)
    reject("version_1", "bad-version(0x00000001)", version=1)
    reject("version_2", "bad-version(0x00000002)", version=2)
    reject("version_3", "bad-version(0x00000003)", version=3)
    reject("unknown_parent", "prev-blk-not-found", header_mod=lambda hd: hd.replace(prev_hash=sha256(b"nowhere")))

    # A valid block in between: the chain moves on after all these rejections.
    b.block("after_header_checks", txs=[b.spend([take()], to="p2wpkh")])
    b.accept("after_header_checks")

    # --- connect checks (ConnectBlock / CheckTxInputs) ---
    b.block("amount_too_high", extra_reward=1)
    b.reject("amount_too_high", "bad-cb-amount", kind="amount_too_high")
    b.block("child_of_invalid", "amount_too_high")
    b.reject("child_of_invalid", "bad-prevblk", kind="child_of_invalid")
    b.reject("amount_too_high", "duplicate-invalid", kind="resubmit_invalid")
    b.reject("after_header_checks", "duplicate", kind="resubmit_valid")

    fake = Spendable(OutPoint(sha256(b"no such tx"), 0), TxOut(50_000, OP_TRUE), 1, False)
    reject("spend_missing", "bad-txns-inputs-missingorspent", txs=[b.spend([fake])])
    reject("spend_spent", "bad-txns-inputs-missingorspent", kind="spend_already_spent",
           txs=[b.spend([src], fee=5000)])
    dbl = take()
    reject("double_spend_in_block", "bad-txns-inputs-missingorspent",
           txs=[b.spend([dbl], fee=1000), b.spend([dbl], fee=2000)])
    young = b.coinbase_out(_ancestor_name(b, b.height_of(b.tip_name) + 1 - (COINBASE_MATURITY - 1)))
    reject("premature_coinbase_spend", "bad-txns-premature-spend-of-coinbase", txs=[b.spend([young])])
    c = take()
    reject("in_below_out", "bad-txns-in-belowout", txs=[b.spend([c], [TxOut(c.value + 1, OP_TRUE)])])
    reject("bip68_locked", "bad-txns-nonfinal", kind="bip68_sequence_lock",
           txs=[b.spend([spare[1]], sequence=b.height_of(b.tip_name) + 1 - fan_height + 3)])
    reject("bip68_time_locked", "bad-txns-nonfinal", kind="bip68_sequence_lock_by_time",
           txs=[b.spend([spare[2]], sequence=(1 << 22) | 1)])  # 512 s; blocks here are 1 s apart
    # BIP30: a transaction whose outputs are still unspent cannot be included again.
    reject("bip30_overwrite", "bad-txns-BIP30", txs=[fan])
    # Connect-time sigop cost: legacy sigops just under the limit plus witness sigops over it.
    wit = [take_kind(b, coins, "p2wpkh") for _ in range(5)]
    sig_heavy = b.spend([spare[2]], [TxOut(spare[2].value - 1000, bytes([OP_CHECKSIG]) * 19_999)])
    reject("sigops_cost_at_connect", "bad-blk-sigops", kind="sigops_cost_at_connect", payout="p2wpkh",
           txs=[sig_heavy, b.spend(wit)])
    for c in wit:
        coins.append(c)

    # --- script failures (block-script-verify-flag-failed (<script error>)) ---
    def bad_sig(kind: str) -> Transaction:
        coin = take_kind(b, coins, kind)
        coins.append(coin)
        tx = b.spend([coin])
        return with_outputs(tx, (TxOut(tx.vout[0].value - 1, tx.vout[0].script_pubkey),))

    script_fail = SCRIPT_FAILURE_PREFIX
    reject("p2pk_bad_sig", f"{script_fail} (Script evaluated without error but finished with a false/empty top stack element)",
           txs=[bad_sig("p2pk")])
    reject("p2pkh_bad_sig", f"{script_fail} (Script evaluated without error but finished with a false/empty top stack element)",
           txs=[bad_sig("p2pkh")])
    reject("p2wpkh_bad_sig", f"{script_fail} (Script evaluated without error but finished with a false/empty top stack element)",
           txs=[bad_sig("p2wpkh")])
    reject("p2tr_bad_sig", f"{script_fail} (Invalid Schnorr signature)", txs=[bad_sig("p2tr")])
    p2pkh_coin = take_kind(b, coins, "p2pkh")
    coins.append(p2pkh_coin)
    good = b.spend([p2pkh_coin])
    sig = good.vin[0].script_sig
    der = sig[1 : 1 + sig[0]]
    ber = mutate_ecdsa(der[:-1], "pad_r", 0) + der[-1:]
    reject("p2pkh_non_der", f"{script_fail} (Non-canonical DER signature)",
           txs=[with_unlock(good, 0, push_data(ber) + sig[1 + sig[0]:])])
    other_pub = b.wallet.keys["p2pk"].pub
    reject("p2pkh_wrong_key", f"{script_fail} (Script failed an OP_EQUALVERIFY operation)",
           txs=[with_unlock(good, 0, push_data(der) + push_data(other_pub))])
    reject("cltv_unmet", f"{script_fail} (Locktime requirement not satisfied)",
           txs=[b.spend([sp["cltv"]], locktime=fan_height + 1, sign=False)])
    reject("csv_unmet", f"{script_fail} (Locktime requirement not satisfied)",
           txs=[b.spend([sp["csv"]], sequence=(1 << 31) | _CSV_LOCK, sign=False)])
    reject("nulldummy", f"{script_fail} (Dummy CHECKMULTISIG argument must be zero)",
           txs=[with_unlock(b.spend([sp["multisig0"]], sign=False), 0, bytes([OP_1]))])
    reject("op_return_executed", f"{script_fail} (OP_RETURN was encountered)",
           txs=[b.spend([sp["return_after_true"]], sign=False)])
    reject("p2sh_wrong_redeem", f"{script_fail} (Script evaluated without error but finished with a false/empty top stack element)",
           kind="p2sh_wrong_redeem", txs=[with_unlock(b.spend([sp["p2sh_true"]], sign=False), 0, push_data(bytes([0x52])))])
    reject("p2wsh_wrong_script", f"{script_fail} (Witness program hash mismatch)",
           txs=[with_unlock(b.spend([sp["p2wsh_wrong"]], sign=False), 0, b"", (bytes([0x52]),))])
    reject("p2wsh_unclean_stack", f"{script_fail} (Stack size must be exactly one after execution)",
           txs=[with_unlock(b.spend([sp["p2wsh_wrong"]], sign=False), 0, b"", (b"\x01", OP_TRUE))])
    wpkh = take_kind(b, coins, "p2wpkh")
    coins.append(wpkh)
    signed = b.spend([wpkh])
    reject("witness_malleated", f"{script_fail} (Witness requires empty scriptSig)",
           txs=[with_unlock(signed, 0, push_data(b"\x01"), signed.vin[0].witness)])

    # --- the same special coins, now spent correctly ---
    b.block("special_spends_ok", txs=[
        with_unlock(b.spend([sp["multisig0"]], sign=False), 0, bytes([OP_0])),
        with_unlock(b.spend([sp["p2sh_true"]], sign=False), 0, push_data(OP_TRUE)),
        with_unlock(b.spend([sp["p2wsh_wrong"]], sign=False), 0, b"", (OP_TRUE,)),
    ])
    b.accept("special_spends_ok")
    # Advance until a locktime of lock_h is final, then spend them.
    while b.height_of(b.tip_name) < lock_h:
        b.block(f"wait{b.height_of(b.tip_name) + 1}")
        b.accept(f"wait{b.height_of(b.tip_name) + 1}")
    reject("cltv_one_early", f"{script_fail} (Locktime requirement not satisfied)", kind="cltv_unmet_by_one",
           txs=[b.spend([sp["cltv2"]], locktime=lock_h - 1, sign=False)])
    b.block("timelocks_ok", txs=[
        b.spend([sp["cltv2"]], locktime=lock_h, sign=False),
        b.spend([sp["csv2"]], sequence=_CSV_LOCK, sign=False),
        b.spend([spare[1]], sequence=b.height_of(b.tip_name) + 1 - fan_height),
    ])
    b.accept("timelocks_ok")
    # The sigop limit is inclusive: exactly 80,000 sigop cost is fine.
    b.block("sigops_at_limit", payout="p2wpkh",
            txs=[b.spend([spare[3]], [TxOut(spare[3].value - 1000, bytes([OP_CHECKSIG]) * 20_000)])])
    b.accept("sigops_at_limit")

    # Mutation: the same header with a duplicated transaction is rejected without poisoning the hash.
    t1 = b.spend([take()])
    t2 = b.spend([b.out(t1)])
    base = b.block("dup_base", txs=[t1, t2])
    b.add_raw("dup_mutated", Block(base.header, base.txs + (base.txs[-1],)), b.height_of("dup_base"))
    b.reject("dup_mutated", "bad-txns-duplicate", kind="merkle_mutation_duplicate_tx")
    b.accept("dup_base")
    b.reject("dup_base", "duplicate", kind="resubmit_valid_tip")

    # Witness malleation: the same header and txids with a changed witness fails the witness
    # commitment, and the real block with that hash is accepted afterwards.
    wspend = b.spend([take_kind(b, coins, "p2wpkh")])
    wbase = b.block("wit_base", txs=[wspend])
    junk = with_unlock(wspend, 0, b"", wspend.vin[0].witness + (b"junk",))
    b.add_raw("wit_mutated", Block(wbase.header, (wbase.txs[0], junk)), b.height_of("wit_base"))
    b.reject("wit_mutated", "bad-witness-merkle-match", kind="witness_mutated_same_hash")
    b.accept("wit_base")


def take_kind(b: ScenarioBuilder, coins: list[Spendable], kind: str) -> Spendable:
    """Take (remove) the first coin of `kind` from `coins`."""
    for c in coins:
        if b.wallet.kind_of(c.txout.script_pubkey) == kind:
            coins.remove(c)
            return c
    raise LookupError(f"no {kind} coin left")


def _ancestor_name(b: ScenarioBuilder, height: int, name: str | None = None) -> str:
    """Name of the block at `height` on the branch ending at `name` (default: the expected tip)."""
    by_hash = {n.block.hash: k for k, n in b.blocks.items()}
    cur = name or b.tip_name
    while b.height_of(cur) > height:
        cur = by_hash[b[cur].header.prev_hash]
    return cur


def _median_time_past(b: ScenarioBuilder, name: str | None = None) -> int:
    """Median time of the 11 blocks ending at `name` (default: the expected tip)."""
    times = []
    blk = b[name or b.tip_name]
    by_hash = {n.block.hash: n.block for n in b.blocks.values()}
    while blk is not None and len(times) < 11:
        times.append(blk.header.time)
        blk = by_hash.get(blk.header.prev_hash)
    times.sort()
    return times[len(times) // 2]


# --- scenario 2: forks, reorganisations and invalid branches -------------------------------------
def forks_and_reorgs(b: ScenarioBuilder) -> None:
    """Side branches, first-seen ties, a reorg deeper than 10 blocks, a reorg onto a branch with
    an invalid block, spends that exist on one branch only."""
    coins = b.mature_coinbases(12)
    base = b.tip_name

    # Tie: a competing block at the tip's height is stored but the first-seen block stays.
    b.block("a1", txs=[b.spend([coins[0]])])
    b.accept("a1")
    b.block("f1", base, txs=[b.spend([coins[1]])])
    b.side("f1")
    # The fork gets ahead: reorg of depth 1.
    b.block("f2", "f1")
    b.accept("f2")
    # The old branch catches up (tie, stays) then gets ahead again: reorg back.
    b.block("a2", "a1")
    b.side("a2")
    b.block("a3", "a2", txs=[b.spend([coins[1]])])  # coins[1] was spent on the f branch only
    b.accept("a3")

    # Spend on one branch only; after the reorg the spending tx is gone.
    only_a = b.spend([coins[2]])
    b.block("a4", "a3", txs=[only_a])
    b.accept("a4")

    # A long fork from `base`: d1..d5, e1..e8 (13 blocks) overtake the 4 blocks of the a-branch
    # (d5 double-spends only_a's input); then a5..a14 take the lead back, a reorg 13 deep.
    d_names = b.chain("d", 4, base, accept=False)
    for n in d_names:
        b.side(n)
    b.block("d5", d_names[-1], txs=[b.spend([coins[2]], fee=7000)])  # conflicts with only_a
    b.accept("d5")
    rest = b.chain("e", 8, "d5")
    # Spending only_a's output is impossible on the d-branch.
    b.block("spend_only_a", rest[-1], txs=[b.spend([b.out(only_a)])])
    b.reject("spend_only_a", "bad-txns-inputs-missingorspent", kind="spend_tx_of_other_branch")

    # The a-branch grows back past it: a reorg 13 blocks deep (d1..d5, e1..e8 disconnected).
    last = "a4"
    for i in range(5, 14):
        b.block(f"a{i}", last)
        b.side(f"a{i}")  # a13 ties with e8: the first seen stays
        last = f"a{i}"
    b.block("a14", last)
    b.accept("a14")
    b.block("a15", "a14", txs=[b.spend([b.out(only_a)])])  # only_a is back in the chain
    b.accept("a15")

    # A branch with an invalid block in the middle: it only fails when it would become best.
    top = "a15"
    last = "a12"
    for i in range(1, 6):
        b.block(f"x{i}", last, **({"extra_reward": 1} if i == 3 else {}))
        last = f"x{i}"
    for n in ("x1", "x2", "x3"):
        b.side(n)
    # x4 makes the x-branch heavier: x3 fails while connecting and the chain returns to a15.
    b.expect("x4", None, top)
    b.reject("x5", "bad-prevblk", kind="extend_invalid_branch")

    # A valid branch from x2 (before the invalid block) overtakes: the tip follows it.
    b.block("y1", "x2")
    b.side("y1")
    b.block("y2", "y1")
    b.accept("y2")
    last = "y2"
    for i in range(3, 9):
        b.block(f"y{i}", last)
        b.accept(f"y{i}")
        last = f"y{i}"
    b.reject("a15", "duplicate", kind="resubmit_stale_block")


def long_chain_halving(b: ScenarioBuilder) -> None:
    """A chain across the first halving (every 150 blocks on regtest): the subsidy halves."""
    b.chain("h", 149)
    b.block("claims_old_subsidy", coinbase_value=50 * 100_000_000)
    b.reject("claims_old_subsidy", "bad-cb-amount", kind="subsidy_after_halving")
    b.block("halved", coinbase_value=25 * 100_000_000)
    b.accept("halved")
    b.chain("k", 160)


# --- random block trees (for differential runs: no expectations, two engines compared) ----------
def random_block_tree(network: str, seed: int, n_blocks: int = 80) -> list[tuple[str, Block]]:
    """A random submission sequence over a tree of blocks: forks from anywhere, some blocks
    invalid at connect time (bad-cb-amount) or at the contextual checks (bad-cb-height), some
    built on invalid blocks, some sent after their children (which are sent again once the
    parent is in), some sent twice. The right verdicts are whatever Core says: use it to
    compare engines, not as a scenario with expectations."""
    import random

    rng = random.Random(seed)
    b = new_builder(network, f"random-{seed}")
    names = ["genesis"]
    tainted: set[str] = set()  # invalid, or built on an invalid block
    sent = {"genesis"}
    waiting: dict[str, list[str]] = {}  # parent name -> children sent before it
    out: list[tuple[str, Block]] = []
    held: list[str] = []
    by_hash = {b["genesis"].hash: "genesis"}

    def send(name: str) -> None:
        out.append((name, b[name]))
        parent = by_hash[b[name].header.prev_hash]
        if parent not in sent:
            waiting.setdefault(parent, []).append(name)
            return
        sent.add(name)
        for child in waiting.pop(name, []):
            send(child)

    for i in range(n_blocks):
        good = [n for n in names if n not in tainted]
        if rng.random() < 0.6:
            parent = max(good, key=b.height_of)  # extend the best-looking block
        else:
            parent = names[max(0, len(names) - 1 - int(rng.expovariate(0.2)))]
        name = f"r{i}"
        h = b.height_of(parent) + 1
        roll = rng.random()
        if roll < 0.07:
            b.block(name, parent, extra_reward=1)
        elif roll < 0.10:
            b.block(name, parent, tx_mod=lambda txs, h=h: replace_coinbase(txs, script_sig=bip34_height_script(h + 1) + b"\x00"))
        else:
            b.block(name, parent)
        if roll < 0.10 or parent in tainted:
            tainted.add(name)
        names.append(name)
        by_hash[b[name].hash] = name
        if rng.random() < 0.1:
            held.append(name)
        else:
            send(name)
        if held and rng.random() < 0.3:
            send(held.pop(0))
        if rng.random() < 0.05:
            again = rng.choice(names[1:])
            out.append((again, b[again]))
    for name in held:
        send(name)
    return out


SCENARIOS: dict[str, Callable[[ScenarioBuilder], None]] = {
    "invalid_blocks": invalid_blocks,
    "forks_and_reorgs": forks_and_reorgs,
    "long_chain_halving": long_chain_halving,
}


def build_scenario(name: str, network: str = "bitcoin-regtest") -> Scenario:
    """Build scenario `name` for `network` ('bitcoin-regtest' or 'regtest')."""
    b = new_builder(network, name)
    SCENARIOS[name](b)
    return b.finish()


def all_scenarios(network: str = "bitcoin-regtest") -> list[Scenario]:
    return [build_scenario(n, network) for n in SCENARIOS]


def main(argv: list[str] | None = None) -> None:
    """Write every scenario as JSON (raw blocks, expected reason and tip) for other engines."""
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--network", default="regtest", choices=("regtest", "bitcoin-regtest"))
    ap.add_argument("--out", required=True, help="directory for <scenario>.<network>.json")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for sc in all_scenarios(args.network):
        data = sc.to_json()
        if args.network == "regtest":
            data["coordinator_xonly"] = xonly_pubkey(SCENARIO_COORDINATOR_SECRET).hex()
        path = out / f"{sc.name}.{args.network}.json"
        path.write_text(json.dumps(data, indent=1))
        print(f"{path}: {len(sc.steps)} blocks")


if __name__ == "__main__":
    main()


__all__ = [
    "SCENARIOS",
    "SCENARIO_COORDINATOR_SECRET",
    "all_scenarios",
    "build_scenario",
    "new_builder",
    "random_block_tree",
    "replace_coinbase",
    "scenario_params",
    "with_outputs",
    "with_unlock",
]
