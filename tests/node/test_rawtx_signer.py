"""The wallet-less signer (regtest/node/signing.py) without a node: WIF decoding, low-R grinding,
the BIP86 tweak, Core's partial-multisig layout, and a property test: any subset of cosigners,
signing in any order, completes exactly when enough have signed, and every complete result is
accepted by Bitcoin Core's own script engine."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtest.consensus.address import b58check_encode, p2pkh_script, p2sh_script, witness_script
from regtest.consensus.crypto import taproot_output_key
from regtest.consensus.hashes import hash160, sha256
from regtest.consensus.script import OP_CHECKMULTISIG, build_script
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.node.signing import (
    ERR_NOT_FOUND, ERR_NULLFAIL, ERR_STACK, WIF_MAIN, WIF_TEST, KeyStore, SigningKey,
    bip86_tweaked_secret, decode_wif, encode_wif, sign_ecdsa_low_r, sign_transaction,
)
from regtest.testing.core_oracle import CORE_FLAGS_MASK, core_verdict

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEYS = [SigningKey((0xA11CE + i).to_bytes(32, "big")) for i in range(4)]
VALUE = 50_000


def store(*keys: SigningKey, scripts: tuple[bytes, ...] = ()) -> KeyStore:
    s = KeyStore()
    for k in keys:
        s.add_key(k)
    for sc in scripts:
        s.add_script(sc)
    return s


def spend(n_inputs: int = 1, n_outputs: int = 1) -> Transaction:
    vin = tuple(TxIn(OutPoint(bytes([i + 1]) * 32, i), b"", 0xFFFFFFFD) for i in range(n_inputs))
    vout = tuple(TxOut(1000, p2pkh_script(bytes(20))) for _ in range(n_outputs))
    return Transaction(2, vin, vout, 0)


# --- keys ----------------------------------------------------------------------------------------
def test_wif_round_trip_and_refusals():
    k = KEYS[0]
    unc = SigningKey(k.secret, compressed=False)
    assert decode_wif(encode_wif(k, WIF_TEST), WIF_TEST) == k
    assert decode_wif(encode_wif(unc, WIF_TEST), WIF_TEST) == unc
    assert len(unc.pubkey) == 65 and len(k.pubkey) == 33
    assert decode_wif(encode_wif(k, WIF_MAIN), WIF_TEST) is None  # another network's key
    assert decode_wif(b58check_encode(WIF_TEST, k.secret + b"\x02"), WIF_TEST) is None  # bad flag
    assert decode_wif(b58check_encode(WIF_TEST, k.secret[:31]), WIF_TEST) is None
    assert decode_wif(b58check_encode(WIF_TEST, bytes(32) + b"\x01"), WIF_TEST) is None  # zero
    assert decode_wif(b58check_encode(WIF_TEST, N.to_bytes(32, "big") + b"\x01"), WIF_TEST) is None
    assert decode_wif(encode_wif(k, WIF_TEST)[:-1] + "x", WIF_TEST) is None  # checksum
    assert decode_wif("c" * 1000, WIF_TEST) is None
    with pytest.raises(ValueError):
        SigningKey(bytes(32))


def test_ecdsa_signatures_are_low_r_and_deterministic():
    for i in range(200):
        msg = sha256(i.to_bytes(4, "little"))
        sig = sign_ecdsa_low_r(KEYS[1].secret, msg)
        assert sig[3] <= 32 and sig[4] < 0x80  # R fits in 32 bytes without a pad byte
        assert sign_ecdsa_low_r(KEYS[1].secret, msg) == sig


def test_bip86_tweak_matches_the_output_key():
    for k in KEYS:
        tweaked = SigningKey(bip86_tweaked_secret(k.secret))
        assert tweaked.xonly == taproot_output_key(k.xonly, None)[0]


# --- per-type behaviour ---------------------------------------------------------------------------
def test_missing_coin_and_missing_key():
    tx = spend(2)
    spk = p2pkh_script(hash160(KEYS[0].pubkey))
    signed, errors = sign_transaction(tx, store(KEYS[1]), {0: TxOut(VALUE, spk)})
    assert errors == {0: ERR_STACK, 1: ERR_NOT_FOUND}
    assert signed == tx


def test_single_without_matching_output_is_left_unsigned():
    tx = spend(2, n_outputs=1)
    spk = witness_script(0, hash160(KEYS[0].pubkey))
    coins = {0: TxOut(VALUE, spk), 1: TxOut(VALUE, spk)}
    signed, errors = sign_transaction(tx, store(KEYS[0]), coins, 0x03)
    assert 0 not in errors and 1 in errors
    assert signed.vin[0].witness and not signed.vin[1].witness


def test_p2sh_p2wpkh_needs_its_redeem_script():
    inner = witness_script(0, hash160(KEYS[0].pubkey))
    spk = p2sh_script(hash160(inner))
    _, errors = sign_transaction(spend(), store(KEYS[0]), {0: TxOut(VALUE, spk)})
    assert errors == {0: ERR_STACK}
    signed, errors = sign_transaction(spend(), store(KEYS[0], scripts=(inner,)), {0: TxOut(VALUE, spk)})
    assert errors == {}
    assert core_verdict(signed.serialize(), 0, [TxOut(VALUE, spk)], CORE_FLAGS_MASK)


def test_partial_multisig_layout_follows_core():
    """Core's SignStep pads a multisig stack in a loop that adds fewer empties than gaps: 2-of-3
    with no key gives two OP_0s (too few: invalid stack), with one key OP_0 <sig> OP_0."""
    ms = build_script(2, *(k.pubkey for k in KEYS[:3]), 3, OP_CHECKMULTISIG)
    coin = {0: TxOut(VALUE, ms)}
    signed, errors = sign_transaction(spend(), store(), coin)
    assert signed.vin[0].script_sig == b"\x00\x00" and errors == {0: ERR_STACK}
    signed, errors = sign_transaction(spend(), store(KEYS[1]), coin)
    ss = signed.vin[0].script_sig
    assert ss[0] == 0 and ss[-1] == 0 and errors == {0: ERR_NULLFAIL}
    ms3 = build_script(3, *(k.pubkey for k in KEYS[:3]), 3, OP_CHECKMULTISIG)
    signed, _ = sign_transaction(spend(), store(), {0: TxOut(VALUE, ms3)})
    assert signed.vin[0].script_sig == b"\x00\x00\x00"


# --- property: multisig cosigners in any order ----------------------------------------------------
def _wrap(kind: str, ms: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    """(scriptPubKey, scripts the signer must be told) for a multisig script in `kind`."""
    if kind == "bare":
        return ms, ()
    if kind == "p2sh":
        return p2sh_script(hash160(ms)), (ms,)
    p2wsh = witness_script(0, sha256(ms))
    if kind == "p2wsh":
        return p2wsh, (ms,)
    return p2sh_script(hash160(p2wsh)), (ms, p2wsh)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["bare", "p2sh", "p2wsh", "p2sh_p2wsh"]),
    m=st.integers(1, 3),
    signers=st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True),
    sighash=st.sampled_from([0, 1, 0x81, 2, 3]),
)
def test_multisig_signers_in_any_order(kind, m, signers, sighash):
    ms = build_script(m, *(k.pubkey for k in KEYS[:3]), 3, OP_CHECKMULTISIG)
    spk, scripts = _wrap(kind, ms)
    coins = {0: TxOut(VALUE, spk)}
    tx = spend()
    seen: set[int] = set()
    for s in signers:  # index 3 is a key outside the script
        tx, errors = sign_transaction(tx, store(KEYS[s], scripts=scripts), coins, sighash)
        seen.add(s)
        enough = len(seen & {0, 1, 2}) >= m
        assert (errors == {}) == enough
        if enough:
            assert core_verdict(tx.serialize(), 0, [coins[0]], CORE_FLAGS_MASK)
    # a complete input is never changed by a later signer
    again, errors = sign_transaction(tx, store(*KEYS, scripts=scripts), coins, sighash)
    assert errors == {}
    if len(seen & {0, 1, 2}) >= m:
        assert again == tx


def test_taproot_needs_every_spent_output():
    spk = witness_script(1, taproot_output_key(KEYS[0].xonly, None)[0])
    _, errors = sign_transaction(spend(2), store(KEYS[0]), {0: TxOut(VALUE, spk)})
    assert errors[0] == "Witness program was passed an empty witness" and errors[1] == ERR_NOT_FOUND
    signed, errors = sign_transaction(spend(1), store(KEYS[0]), {0: TxOut(VALUE, spk)})
    assert errors == {} and len(signed.vin[0].witness[0]) == 64
    tampered = replace(signed, locktime=1)
    assert not core_verdict(tampered.serialize(), 0, [TxOut(VALUE, spk)], CORE_FLAGS_MASK)


def test_an_unsolvable_taproot_witness_is_left_as_found():
    spk = witness_script(1, taproot_output_key(KEYS[0].xonly, None)[0])
    found = (b"\x01" * 64,)
    tx = spend()
    tx = replace(tx, vin=(replace(tx.vin[0], witness=found),))
    signed, errors = sign_transaction(tx, store(KEYS[1]), {0: TxOut(VALUE, spk)})
    assert signed.vin[0].witness == found and errors == {0: "Invalid Schnorr signature"}
