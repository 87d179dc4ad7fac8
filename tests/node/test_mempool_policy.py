"""One test per mempool policy rule: in-process Mempool objects against a real Chainstate."""

from __future__ import annotations

import pytest

from regtest.consensus.hashes import hash160
from regtest.consensus.script import OP_CHECKMULTISIG, push_data
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.node.mempool import PolicySettings
from regtest.node.mempool.policy import dust_threshold
from regtest.testing.keys import N, der_decode, der_encode, key_from_index
from regtest.testing.miniwallet import Utxo
from tests.node.mempool_env import make_env


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def _reject(env, tx, reason, debug=None, **kw):
    res = env.accept(tx, **kw)
    assert not res.accepted, "expected a rejection"
    assert res.reason == reason, res.state_string
    if debug is not None:
        assert res.debug == debug
    assert tx.txid not in env.mp
    return res


def _unsigned_spend(env, utxo, outputs, **kw):
    return env.wallet.spend([utxo], outputs, **kw)


def bare_multisig(m: int, n: int) -> bytes:
    keys = [key_from_index(i).pub for i in range(n)]
    return bytes([0x50 + m]) + b"".join(push_data(k) for k in keys) + bytes([0x50 + n, OP_CHECKMULTISIG])


# --- accepted paths ---------------------------------------------------------------------------
def test_accepts_p2wpkh_spend_and_records_entry(env):
    u = env.utxo()
    tx, _ = env.wallet.self_transfer(u, 1000)
    res = env.accept(tx)
    assert res.accepted and res.fee == 1000 and res.vsize == 110
    e = env.mp.get(tx.txid)
    assert e.fee == 1000 and e.height == env.height and e.spends_coinbase
    assert env.recorder.events == [("A", tx.txid, 1)]
    assert env.mp.sequence == 2


def test_chain_of_unconfirmed_spends_links_parents(env):
    u = env.utxo()
    a, ua = env.wallet.self_transfer(u, 1000)
    b, _ = env.wallet.self_transfer(ua, 1000)
    assert env.accept(a).accepted and env.accept(b).accepted
    assert env.mp.get(b.txid).parents == {a.txid}
    assert env.mp.get(a.txid).children == {b.txid}


# --- standardness (IsStandardTx) ---------------------------------------------------------------
@pytest.mark.parametrize("version", [0, 4, -1])
def test_nonstandard_version(env, version):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000, version=version)
    _reject(env, tx, "version")


def test_version_3_is_standard(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000, version=3)
    assert env.accept(tx).accepted


def test_tx_size_over_standard_weight(env):
    u = env.utxo()
    outs = [TxOut(1000, env.wallet.script_pubkey)] * 3300
    tx = _unsigned_spend(env, u, outs)
    assert tx.weight > 400_000
    _reject(env, tx, "tx-size")


def test_scriptsig_size(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(u.value - 5000, env.wallet.script_pubkey)])
    big = b"\x4d" + (1648).to_bytes(2, "little") + bytes(1648)  # one 1651-byte push
    vin = (TxIn(tx.vin[0].prevout, big, tx.vin[0].sequence, tx.vin[0].witness),)
    _reject(env, Transaction(2, vin, tx.vout, 0), "scriptsig-size")


def test_scriptsig_not_pushonly(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(u.value - 5000, env.wallet.script_pubkey)])
    vin = (TxIn(tx.vin[0].prevout, b"\x61", tx.vin[0].sequence, tx.vin[0].witness),)  # OP_NOP
    _reject(env, Transaction(2, vin, tx.vout, 0), "scriptsig-not-pushonly")


@pytest.mark.parametrize("spk", [b"\x51", bare_multisig(1, 4), b"\x6a\x61"])
def test_nonstandard_output_script(env, spk):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(100_000, spk), TxOut(u.value - 200_000, env.wallet.script_pubkey)])
    _reject(env, tx, "scriptpubkey")


def test_bare_multisig_up_to_three_keys_is_standard(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(100_000, bare_multisig(2, 3)), TxOut(u.value - 200_000, env.wallet.script_pubkey)])
    assert env.accept(tx).accepted


def test_bare_multisig_refused_when_not_permitted(tmp_path):
    env = make_env(tmp_path, settings=PolicySettings(permit_bare_multisig=False))
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(100_000, bare_multisig(1, 2)), TxOut(u.value - 200_000, env.wallet.script_pubkey)])
    _reject(env, tx, "bare-multisig")


@pytest.mark.parametrize("spk,threshold", [
    (bytes([0, 20]) + bytes(20), 294),  # P2WPKH
    (bytes([0x76, 0xA9, 20]) + bytes(20) + bytes([0x88, 0xAC]), 546),  # P2PKH
    (bytes([0x51, 32]) + bytes(32), 330),  # P2TR
])
def test_dust_threshold_matches_core(env, spk, threshold):
    assert dust_threshold(TxOut(0, spk)) == threshold
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(threshold - 1, spk), TxOut(u.value - 10_000, env.wallet.script_pubkey)])
    _reject(env, tx, "dust")
    ok = _unsigned_spend(env, u, [TxOut(threshold, spk), TxOut(u.value - 10_000, env.wallet.script_pubkey)])
    assert env.accept(ok).accepted


def test_datacarrier_limit_counts_all_op_returns(tmp_path):
    env = make_env(tmp_path, settings=PolicySettings(max_datacarrier_bytes=83))
    u = env.utxo()
    nulldata = b"\x6a\x28" + bytes(40)  # 42 bytes each
    two = _unsigned_spend(env, u, [TxOut(0, nulldata), TxOut(0, nulldata), TxOut(u.value - 5000, env.wallet.script_pubkey)])
    _reject(env, two, "datacarrier")
    one = _unsigned_spend(env, u, [TxOut(0, nulldata), TxOut(u.value - 5000, env.wallet.script_pubkey)])
    assert env.accept(one).accepted


def test_datacarrier_disabled(tmp_path):
    env = make_env(tmp_path, settings=PolicySettings(datacarrier=False))
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(0, b"\x6a\x01\x01"), TxOut(u.value - 5000, env.wallet.script_pubkey)])
    _reject(env, tx, "datacarrier")


def test_tx_size_small(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(u.value - 5000, b"\x6a\x02\x00\x00")])
    assert tx.stripped_size < 65
    _reject(env, tx, "tx-size-small")


# --- consensus checks reported by the mempool -------------------------------------------------
def test_coinbase_refused(env):
    cb = env.cs.get_block(env.cs.tip.hash).txs[0]
    _reject(env, cb, "coinbase")


def test_check_transaction_reasons(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(u.value - 5000, env.wallet.script_pubkey)])
    _reject(env, Transaction(2, tx.vin, (), 0), "bad-txns-vout-empty")
    _reject(env, Transaction(2, tx.vin * 2, tx.vout, 0), "bad-txns-inputs-duplicate")


def test_inputs_below_outputs(env):
    u = env.utxo()
    tx = _unsigned_spend(env, u, [TxOut(u.value + 1, env.wallet.script_pubkey)])
    res = _reject(env, tx, "bad-txns-in-belowout")
    assert res.debug.startswith("value in (50.00) < value out (50.00000001)")


def test_missing_inputs(env):
    fake = Utxo(OutPoint(bytes(range(32)), 0), 10_000, env.wallet.script_pubkey)
    tx, _ = env.wallet.self_transfer(fake, 1000)
    res = _reject(env, tx, "bad-txns-inputs-missingorspent")
    assert res.missing_inputs


def test_premature_coinbase_spend(env):
    young = [u for u in env.wallet.utxos if u.coinbase_height == env.height - 50][0]
    tx, _ = env.wallet.self_transfer(young, 1000)
    _reject(env, tx, "bad-txns-premature-spend-of-coinbase", "tried to spend coinbase at depth 51")


def test_coinbase_spend_at_exact_maturity(env):
    ripe = [u for u in env.wallet.utxos if u.coinbase_height == env.height - 98][0]
    tx, _ = env.wallet.self_transfer(ripe, 1000)
    _reject(env, tx, "bad-txns-premature-spend-of-coinbase", "tried to spend coinbase at depth 99")
    ripe = [u for u in env.wallet.utxos if u.coinbase_height == env.height - 99][0]
    tx, _ = env.wallet.self_transfer(ripe, 1000)
    assert env.accept(tx).accepted


# --- finality ------------------------------------------------------------------------------------
def test_non_final_height_locktime(env):
    u = env.utxo()
    late, _ = env.wallet.self_transfer(u, 1000, locktime=env.height + 1, sequence=0xFFFFFFFE)
    _reject(env, late, "non-final")
    ok, _ = env.wallet.self_transfer(u, 1000, locktime=env.height, sequence=0xFFFFFFFE)
    assert env.accept(ok).accepted


def test_non_final_time_locktime_against_median_time_past(env):
    u = env.utxo()
    mtp = env.cs.tip.median_time_past()
    late, _ = env.wallet.self_transfer(u, 1000, locktime=mtp, sequence=0xFFFFFFFE)
    _reject(env, late, "non-final")
    ok, _ = env.wallet.self_transfer(u, 1000, locktime=mtp - 1, sequence=0xFFFFFFFE)
    assert env.accept(ok).accepted


def test_final_sequences_ignore_locktime(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000, locktime=env.height + 100)
    assert env.accept(tx).accepted


def test_bip68_relative_height_lock(env):
    u = env.utxo()
    fund, fu = env.wallet.self_transfer(u, 1000)
    env.mine([fund])  # fu confirmed at the tip: one confirmation at the next block
    locked, _ = env.wallet.self_transfer(fu, 1000, sequence=3)
    _reject(env, locked, "non-BIP68-final")
    env.mine(n=2)
    assert env.accept(locked).accepted


def test_bip68_ignored_for_version_1(env):
    u = env.utxo()
    fund, fu = env.wallet.self_transfer(u, 1000)
    env.mine([fund])
    tx, _ = env.wallet.self_transfer(fu, 1000, sequence=50, version=1)
    assert env.accept(tx).accepted


def test_bip68_lock_on_unconfirmed_parent(env):
    a, ua = env.wallet.self_transfer(env.utxo(), 1000)
    assert env.accept(a).accepted
    b, _ = env.wallet.self_transfer(ua, 1000, sequence=1)  # one block: parent must be confirmed
    _reject(env, b, "non-BIP68-final")


# --- duplicates --------------------------------------------------------------------------------
def test_already_in_mempool_and_same_nonwitness_data(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    assert env.accept(tx).accepted
    _reject_dup = env.accept(tx)
    assert _reject_dup.reason == "txn-already-in-mempool"
    sig, pub = tx.vin[0].witness
    other_witness = (sig[:-1] + b"\x81", pub)  # same txid, different wtxid
    twin = Transaction(tx.version, (TxIn(tx.vin[0].prevout, b"", tx.vin[0].sequence, other_witness),), tx.vout, tx.locktime)
    assert twin.txid == tx.txid and twin.wtxid != tx.wtxid
    assert env.accept(twin).reason == "txn-same-nonwitness-data-in-mempool"


def test_already_known_after_confirmation(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    env.mine([tx])
    _reject(env, tx, "txn-already-known")


# --- input standardness, witness standardness, sigops -------------------------------------------
def _fund_script(env, spk: bytes, value: int = 100_000) -> Utxo:
    """Confirm an output paying `spk` (mined directly: a block may hold nonstandard outputs)."""
    u = env.utxo()
    tx = env.wallet.spend([u], [TxOut(value, spk), TxOut(u.value - value - 10_000, env.wallet.script_pubkey)])
    env.mine([tx])
    return Utxo(OutPoint(tx.txid, 0), value, spk)


def test_nonstandard_input_type(env):
    u = _fund_script(env, b"\x51")  # OP_TRUE: anyone can spend, but not a standard type
    tx = Transaction(2, (TxIn(u.outpoint, b""),), (TxOut(u.value - 1000, env.wallet.script_pubkey),), 0)
    _reject(env, tx, "bad-txns-nonstandard-inputs")


def test_p2sh_redeem_script_with_too_many_sigops(env):
    redeem = bytes([0xAC] * 16) + b"\x51"  # 16 x OP_CHECKSIG, OP_TRUE
    spk = bytes([0xA9, 20]) + hash160(redeem) + b"\x87"
    u = _fund_script(env, spk)
    tx = Transaction(2, (TxIn(u.outpoint, push_data(redeem)),), (TxOut(u.value - 1000, env.wallet.script_pubkey),), 0)
    _reject(env, tx, "bad-txns-nonstandard-inputs")


def test_witness_on_non_witness_input(env):
    u = _fund_script(env, bytes([0x76, 0xA9, 20]) + hash160(env.wallet.pubkey) + bytes([0x88, 0xAC]))
    tx = Transaction(2, (TxIn(u.outpoint, b"\x00", 0xFFFFFFFF, (b"\x01",)),), (TxOut(u.value - 1000, env.wallet.script_pubkey),), 0)
    _reject(env, tx, "bad-witness-nonstandard")


def test_p2wsh_witness_item_too_large(env):
    from regtest.consensus.hashes import sha256

    wscript = b"\x75\x51"  # OP_DROP OP_TRUE
    u = _fund_script(env, bytes([0, 32]) + sha256(wscript))
    out = (TxOut(u.value - 1000, env.wallet.script_pubkey),)
    big = Transaction(2, (TxIn(u.outpoint, b"", 0xFFFFFFFF, (bytes(81), wscript)),), out, 0)
    _reject(env, big, "bad-witness-nonstandard")
    ok = Transaction(2, (TxIn(u.outpoint, b"", 0xFFFFFFFF, (bytes(80), wscript)),), out, 0)
    assert env.accept(ok).accepted


def test_too_many_sigops(env):
    u = env.utxo()
    outs = [TxOut(1000, bare_multisig(1, 3))] * 201  # 201 x 20 legacy sigops x 4 = 16080 > 16000
    tx = _unsigned_spend(env, u, outs + [TxOut(u.value - 400_000, env.wallet.script_pubkey)])
    _reject(env, tx, "bad-txns-too-many-sigops", "16081")  # + 1 witness sigop


# --- fees ----------------------------------------------------------------------------------------
def test_min_relay_fee(env):
    u = env.utxo()
    low, _ = env.wallet.self_transfer(u, 10)
    _reject(env, low, "min relay fee not met", "10 < 11")
    ok, _ = env.wallet.self_transfer(u, 11)
    assert env.accept(ok).accepted


def test_zero_fee_allowed_when_bypassing_limits(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 0)
    assert env.accept(tx, bypass_limits=True).accepted


def test_mempool_full_and_rolling_minimum_fee(tmp_path):
    env = make_env(tmp_path, settings=PolicySettings(max_mempool_bytes=2600))
    txs = [env.wallet.self_transfer(env.utxo(), 5000)[0] for _ in range(3)]
    for tx in txs:
        assert env.accept(tx).accepted
    low, _ = env.wallet.self_transfer(env.utxo(), 200)
    _reject(env, low, "mempool full")
    assert len(env.mp) == 3
    floor = env.mp.min_fee_rate()
    assert floor > 1818  # the evicted rate (200 sat / 110 vB) plus the incremental relay fee
    again, _ = env.wallet.self_transfer(env.utxo(), 150)
    res = _reject(env, again, "mempool min fee not met")
    assert res.debug.startswith("150 < ")
    better, _ = env.wallet.self_transfer(env.utxo(), 20_000)
    assert env.accept(better).accepted
    assert len(env.mp) == 3  # the cheapest of the earlier ones was evicted
    removed = [e[1] for e in env.recorder.events if e[0] == "R"]
    assert removed[0] == low.txid and removed[1] in {t.txid for t in txs} and len(removed) == 2


# --- chain limits -------------------------------------------------------------------------------
def test_ancestor_limit(env):
    u = env.utxo()
    for _ in range(25):
        tx, u = env.wallet.self_transfer(u, 1000)
        assert env.accept(tx).accepted
    tx, _ = env.wallet.self_transfer(u, 1000)
    _reject(env, tx, "too-long-mempool-chain", "too many unconfirmed ancestors [limit: 25]")


def test_descendant_limit(env):
    split, outs = env.wallet.split(env.utxo(), 26, 10_000)
    assert env.accept(split).accepted
    for u in outs[:24]:
        assert env.accept(env.wallet.self_transfer(u, 1000)[0]).accepted
    tx, _ = env.wallet.self_transfer(outs[24], 1000)
    _reject(env, tx, "too-long-mempool-chain", f"too many descendants for tx {split.txid_hex} [limit: 25]")


# --- replacement (full RBF) ----------------------------------------------------------------------
def test_replacement_by_fee(env):
    u = env.utxo()
    old, ou = env.wallet.self_transfer(u, 1000)
    child, _ = env.wallet.self_transfer(ou, 1000)
    assert env.accept(old).accepted and env.accept(child).accepted
    new, _ = env.wallet.self_transfer(u, 3000)
    res = env.accept(new)
    assert res.accepted
    assert {t.txid for t in res.replaced} == {old.txid, child.txid}
    assert old.txid not in env.mp and child.txid not in env.mp
    removed = [e for e in env.recorder.events if e[0] == "R"]
    assert {e[1] for e in removed} == {old.txid, child.txid}
    assert env.recorder.events[-1] == ("A", new.txid, 5)


def test_replacement_with_lower_feerate(env):
    u = env.utxo()
    old, _ = env.wallet.self_transfer(u, 2000)
    assert env.accept(old).accepted
    new = env.wallet.spend([u], [TxOut(u.value - 1900, env.wallet.script_pubkey[:-1] + b"\x00")])
    res = _reject(env, new, "insufficient fee")

    def btc_per_kvb(fee, tx):
        return f"0.{fee * 1000 // tx.vsize:08d} BTC/kvB"

    assert f"new feerate {btc_per_kvb(1900, new)} <= old feerate {btc_per_kvb(2000, old)}" in res.debug


def test_replacement_must_pay_for_its_relay(env):
    u = env.utxo()
    old, _ = env.wallet.self_transfer(u, 1000)
    assert env.accept(old).accepted
    new = env.wallet.spend([u], [TxOut(u.value - 1005, env.wallet.script_pubkey)])
    res = _reject(env, new, "insufficient fee")
    assert "not enough additional fees to relay; 0.00000005 < 0.00000011" in res.debug


def test_replacement_less_fee_than_conflicts(env):
    u = env.utxo()
    old, ou = env.wallet.self_transfer(u, 1000)
    child, _ = env.wallet.self_transfer(ou, 5000)
    assert env.accept(old).accepted and env.accept(child).accepted
    new, _ = env.wallet.self_transfer(u, 2000)
    res = _reject(env, new, "insufficient fee")
    assert "less fees than conflicting txs; 0.00002 < 0.00006" in res.debug


def test_replacement_adds_unconfirmed_input(env):
    u1, u2 = env.utxo(), env.utxo()
    old, _ = env.wallet.self_transfer(u1, 1000)
    other, ou = env.wallet.self_transfer(u2, 1000)
    assert env.accept(old).accepted and env.accept(other).accepted
    new = env.wallet.spend([u1, ou], [TxOut(u1.value + ou.value - 50_000, env.wallet.script_pubkey)])
    _reject(env, new, "replacement-adds-unconfirmed", f"replacement {new.txid_hex} adds unconfirmed input, idx 1")


def test_too_many_potential_replacements(env):
    roots = []
    for _ in range(5):
        split, outs = env.wallet.split(env.utxo(), 24, 10_000)
        assert env.accept(split).accepted
        for o in outs:
            assert env.accept(env.wallet.self_transfer(o, 500)[0]).accepted
        roots.append(split)
    spent = [Utxo(r.vin[0].prevout, 0, env.wallet.script_pubkey) for r in roots]
    total = 5 * 50 * 100_000_000
    new = env.wallet.spend(
        [Utxo(s.outpoint, 50 * 100_000_000, s.script_pubkey) for s in spent], [TxOut(total - 10_000_000, env.wallet.script_pubkey)]
    )
    _reject(env, new, "too many potential replacements")


def test_conflict_refused_without_full_rbf(tmp_path):
    env = make_env(tmp_path, full_rbf=False)
    u = env.utxo()
    old, _ = env.wallet.self_transfer(u, 1000)  # final sequences: no BIP125 signal
    assert env.accept(old).accepted
    new, _ = env.wallet.self_transfer(u, 50_000)
    _reject(env, new, "txn-mempool-conflict")
    signalling, _ = env.wallet.self_transfer(env.utxo(), 1000, sequence=0xFFFFFFFD)
    assert env.accept(signalling).accepted
    bump = env.wallet.spend([Utxo(signalling.vin[0].prevout, 50 * 100_000_000, env.wallet.script_pubkey)],
                            [TxOut(50 * 100_000_000 - 50_000, env.wallet.script_pubkey)])
    assert env.accept(bump).accepted


# --- scripts -------------------------------------------------------------------------------------
def _with_sig(tx: Transaction, sig: bytes) -> Transaction:
    txin = tx.vin[0]
    return Transaction(tx.version, (TxIn(txin.prevout, b"", txin.sequence, (sig, txin.witness[1])),), tx.vout, tx.locktime)


def test_invalid_signature_is_a_consensus_failure(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    other, _ = env.wallet.self_transfer(env.utxo(), 1000)
    bad = _with_sig(tx, other.vin[0].witness[0])
    _reject(env, bad, "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)")


def test_high_s_signature_is_a_policy_failure(env):
    tx, _ = env.wallet.self_transfer(env.utxo(), 1000)
    sig = tx.vin[0].witness[0]
    r, s = der_decode(sig[:-1])
    high = _with_sig(tx, der_encode(r, N - s) + sig[-1:])
    _reject(env, high, "mempool-script-verify-flag-failed (Non-canonical signature: S value is unnecessarily high)")


@pytest.mark.parametrize("spk", [
    bytes([0, 20]) + bytes(range(20)), bytes([0x51, 32]) + bytes(range(32)), bytes([0, 32]) + bytes(range(32)),
    bytes([0xA9, 20]) + bytes(range(20)) + b"\x87", b"\x76\xa9\x14" + bytes(range(20)) + b"\x88\xac",
    bytes([0x52, 32]) + bytes(32), bytes([0, 21]) + bytes(21), b"\x6a\x04abcd", bare_multisig(1, 2),
])
def test_fast_script_types_agree_with_solver(spk):
    from regtest.consensus.address import classify
    from regtest.node.mempool.policy import script_type

    assert script_type(spk) == classify(spk).type


# --- TRUC (version 3) -----------------------------------------------------------------------------
def test_truc_parent_with_one_small_child(env):
    u = env.utxo()
    parent = env.wallet.spend([u], [TxOut((u.value - 10_000) // 2, env.wallet.script_pubkey)] * 2, version=3)
    outs = [Utxo(OutPoint(parent.txid, i), o.value, o.script_pubkey) for i, o in enumerate(parent.vout)]
    assert env.accept(parent).accepted
    child, _ = env.wallet.self_transfer(outs[0], 1000, version=3)
    assert env.accept(child).accepted
    second, _ = env.wallet.self_transfer(outs[1], 1000, version=3)
    res = _reject(env, second, "TRUC-violation")
    assert res.debug.endswith("would exceed descendant count limit")


def test_truc_cannot_mix_versions(env):
    v3, u3 = env.wallet.self_transfer(env.utxo(), 1000, version=3)
    v2, u2 = env.wallet.self_transfer(env.utxo(), 1000, version=2)
    assert env.accept(v3).accepted and env.accept(v2).accepted
    res = _reject(env, env.wallet.self_transfer(u3, 1000, version=2)[0], "TRUC-violation")
    assert res.debug.startswith("non-version=3 tx ")
    res = _reject(env, env.wallet.self_transfer(u2, 1000, version=3)[0], "TRUC-violation")
    assert "cannot spend from non-version=3 tx" in res.debug


def test_truc_size_caps(env):
    big = _unsigned_spend(env, env.utxo(), [TxOut(1000, env.wallet.script_pubkey)] * 330, version=3)
    res = _reject(env, big, "TRUC-violation")
    assert "is too big" in res.debug and "> 10000 virtual bytes" in res.debug
    v3, u3 = env.wallet.self_transfer(env.utxo(), 1000, version=3)
    assert env.accept(v3).accepted
    fat_child = env.wallet.spend([u3], [TxOut(1000, env.wallet.script_pubkey)] * 40, version=3)
    res = _reject(env, fat_child, "TRUC-violation")
    assert res.debug.startswith("version=3 child tx ") and "> 1000 virtual bytes" in res.debug


def test_truc_grandchild_refused(env):
    a, ua = env.wallet.self_transfer(env.utxo(), 1000, version=3)
    b, ub = env.wallet.self_transfer(ua, 1000, version=3)
    assert env.accept(a).accepted and env.accept(b).accepted
    res = _reject(env, env.wallet.self_transfer(ub, 1000, version=3)[0], "TRUC-violation")
    assert res.debug.endswith("would have too many ancestors")


def test_sigop_cost_fast_path_matches_consensus_count(env):
    from regtest.consensus.hashes import sha256
    from regtest.consensus.script_flags import STANDARD_FLAGS
    from regtest.consensus.sigops import transaction_sigop_cost
    from regtest.node.mempool.policy import sigop_cost

    redeem = bytes([0xAC] * 3) + b"\x51"
    wscript = bytes([0xAC] * 5) + b"\x51"
    spent = [
        TxOut(1, env.wallet.script_pubkey),  # P2WPKH
        TxOut(1, bytes([0x51, 32]) + bytes(32)),  # P2TR
        TxOut(1, bytes([0xA9, 20]) + hash160(redeem) + b"\x87"),  # P2SH
        TxOut(1, bytes([0, 32]) + sha256(wscript)),  # P2WSH
        TxOut(1, bytes([0x76, 0xA9, 20]) + bytes(20) + bytes([0x88, 0xAC])),  # P2PKH
    ]
    vin = (
        TxIn(OutPoint(bytes(32), 0), b"", 0, (b"s", b"k")),
        TxIn(OutPoint(bytes(32), 1), b"", 0, (bytes(64),)),
        TxIn(OutPoint(bytes(32), 2), push_data(redeem)),
        TxIn(OutPoint(bytes(32), 3), b"", 0, (b"", wscript)),
        TxIn(OutPoint(bytes(32), 4), b"\x01\x01\x01\x02"),
    )
    tx = Transaction(2, vin, (TxOut(1, bare_multisig(1, 2)),), 0)
    assert sigop_cost(tx, spent) == transaction_sigop_cost(tx, spent, STANDARD_FLAGS) == 1 + 0 + 12 + 5 + 0 + 80


def test_max_fee_checked_after_validity(env):
    u = env.utxo()
    pricey, _ = env.wallet.self_transfer(u, 50_000)
    _reject(env, pricey, "max-fee-exceeded", max_fee=49_999)
    invalid, _ = env.wallet.self_transfer(u, 50_000, version=4)
    _reject(env, invalid, "version", max_fee=1)  # its own reason first
    assert env.accept(pricey, max_fee=50_000).accepted
