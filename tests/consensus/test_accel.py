"""The optional C accelerator (regtest/consensus/_accel.c) against the Python engine.

Every case is checked three ways: the C templates (fastpath.ACCEL on), the Python fast paths
(ACCEL off) and the general interpreter (FAST_PATHS off); all three must give the same
ScriptError. Targeted cases also call the C function directly and insist that it handled the
case (no -1 fallback) where it is meant to, so a silent fallback cannot hide a C bug. Hostile
arguments must never crash it.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tracemalloc
from dataclasses import replace

import pytest

from regtest.consensus import checker as chk
from regtest.consensus import fastpath
from regtest.consensus.hashes import hash160
from regtest.consensus.script import push_data
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ALL_FLAGS, MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from regtest.consensus.sighash import PrecomputedTxData
from regtest.consensus.transaction import Transaction, TxOut
from regtest.consensus.verify import check_input
from regtest.testing.keys import N, Key, der_decode, der_encode, mutate_ecdsa
from regtest.testing.mutate import flip_bytes
from regtest.testing.txgen import (
    build_signed_tx,
    p2pkh_input,
    p2sh_multisig_input,
    p2tr_key_input,
    p2tr_script_input,
    p2wpkh_input,
)

accel = fastpath._ACCEL_MODULE
pytestmark = pytest.mark.skipif(accel is None, reason="C accelerator not built")

E = ScriptError
F = ScriptFlags
MAND = int(MANDATORY_FLAGS)
STD = int(STANDARD_FLAGS)
FLAG_SETS = [
    MAND, STD, int(ALL_FLAGS), 0, int(F.P2SH), int(F.P2SH | F.WITNESS), int(F.P2SH | F.WITNESS | F.TAPROOT),
    int(F.P2SH | F.STRICTENC | F.NULLFAIL | F.WITNESS),
    int(F.P2SH | F.LOW_S | F.WITNESS | F.WITNESS_PUBKEYTYPE),
    int(F.P2SH | F.WITNESS | F.NULLFAIL | F.TAPROOT),
]
OUTPUTS = (TxOut(1000, b"\x00\x14" + bytes(20)), TxOut(2000, b"\x51\x20" + bytes(range(32))))


def verdicts(tx: Transaction, spent: tuple[TxOut, ...], flags: int, index: int = 0) -> tuple[E, E, E]:
    """(C templates, Python fast paths, general interpreter), each with a fresh txdata."""
    saved = fastpath.ACCEL
    try:
        fastpath.ACCEL = True
        c = check_input(tx, index, spent, flags)
        fastpath.ACCEL = False
        py = check_input(tx, index, spent, flags)
        chk.FAST_PATHS = False
        general = check_input(tx, index, spent, flags)
    finally:
        chk.FAST_PATHS = True
        fastpath.ACCEL = saved
    return c, py, general


def c_raw(tx: Transaction, spent: tuple[TxOut, ...], flags: int, index: int = 0) -> int:
    """The C template's own answer for input `index` (-1: falls back to Python)."""
    txin = tx.vin[index]
    spk = spent[index].script_pubkey
    pieces = fastpath._pieces(PrecomputedTxData(tx, spent))
    if len(spk) == 22:
        return accel.p2wpkh(txin.witness, spk, spent[index].value, flags, index, pieces)
    if len(spk) == 34:
        return accel.p2tr(txin.witness, spk, flags, index, pieces)
    if len(spk) == 23:
        return accel.p2sh_multisig(txin.script_sig, spk, txin.witness, flags, index, pieces)
    return accel.p2pkh(txin.script_sig, spk, txin.witness, flags, index, pieces)


def check(tx: Transaction, spent: tuple[TxOut, ...], flags: int, expected: E | None = None,
          handled: bool | None = True, index: int = 0) -> E:
    """All three verdicts agree (and equal `expected` if given); `handled`: the C function
    answers itself (True), falls back (False), or either (None)."""
    c, py, general = verdicts(tx, spent, flags, index)
    assert c == py == general, (c, py, general, hex(flags))
    if expected is not None:
        assert general == expected, (general, expected, hex(flags))
    if handled is not None:
        r = c_raw(tx, spent, flags, index)
        assert (r != -1) == handled, (r, general, hex(flags))
        if handled:
            assert r == int(general)
    return general


def with_input(tx: Transaction, index: int = 0, **changes) -> Transaction:
    vin = list(tx.vin)
    vin[index] = replace(vin[index], **changes)
    return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)


def key(i: int) -> Key:
    return Key(0x5EED + 7919 * i)


def signed(spec, n_other: int = 1, seed: int = 1):
    others = [p2wpkh_input(key(100 + j)) for j in range(n_other)]
    return build_signed_tx([spec, *others], OUTPUTS, seed=seed)


# --- P2WPKH --------------------------------------------------------------------------------
def test_p2wpkh_valid_and_hash_and_shape_errors() -> None:
    tx, spent = signed(p2wpkh_input(key(1)))
    sig, pub = tx.vin[0].witness
    for flags in FLAG_SETS:
        check(tx, spent, flags, E.OK if flags & F.WITNESS else None, handled=bool(flags & F.WITNESS) or None)
    other = key(2).pub
    check(with_input(tx, witness=(sig, other)), spent, MAND, E.EQUALVERIFY)
    check(with_input(tx, witness=(b"", pub)), spent, STD, E.EVAL_FALSE)  # empty sig: no NULLFAIL
    for wit in [(sig,), (sig, pub, b""), ()]:
        check(with_input(tx, witness=wit), spent, MAND, E.WITNESS_PROGRAM_MISMATCH)
    check(with_input(tx, witness=(b"\x30" * 521, pub)), spent, MAND, E.PUSH_SIZE)
    check(with_input(tx, witness=(sig, b"\x02" * 521)), spent, MAND, E.PUSH_SIZE)
    zero = (TxOut(spent[0].value, b"\x00\x14" + bytes(19) + b"\x80"),) + spent[1:]
    check(tx, zero, MAND, E.EVAL_FALSE)
    # another amount: the BIP143 digest changes, the signature fails
    check(tx, (TxOut(spent[0].value + 1, spent[0].script_pubkey),) + spent[1:], STD, E.SIG_NULLFAIL)
    check(tx, (TxOut(spent[0].value + 1, spent[0].script_pubkey),) + spent[1:], MAND, E.EVAL_FALSE)


def _p2wpkh_with_sig(k: Key, pub: bytes, make_sig) -> tuple[Transaction, tuple[TxOut, ...]]:
    """A P2WPKH spend to `pub` whose signature is make_sig(valid DER without hash type)."""
    from regtest.testing.txgen import p2wpkh_script

    spec = p2wpkh_input(k)
    spec = replace(spec, script_pubkey=p2wpkh_script(pub))
    tx, spent = signed(spec)
    good = tx.vin[0].witness[0]
    return with_input(tx, witness=(make_sig(good[:-1]) + good[-1:], pub)), spent


def test_p2wpkh_key_forms() -> None:
    k = key(3)
    # signatures were made against the compressed key's scriptCode; sign per form instead
    for form, std_err in (("uncompressed", E.WITNESS_PUBKEYTYPE), ("hybrid", E.PUBKEYTYPE)):
        pub = k.pub_form(form)
        from regtest.testing.txgen import p2pkh_script, sign_v0

        spk = b"\x00\x14" + hash160(pub)
        tx, spent = signed(p2wpkh_input(k))
        spent = (TxOut(spent[0].value, spk),) + spent[1:]
        sig = sign_v0(k, tx, 0, p2pkh_script(pub), spent[0].value, 1)
        tx = with_input(tx, witness=(sig, pub))
        check(tx, spent, MAND, E.OK)  # hybrid keys parse in libsecp256k1
        check(tx, spent, STD, std_err)
        check(tx, spent, int(F.WITNESS | F.WITNESS_PUBKEYTYPE), E.WITNESS_PUBKEYTYPE)
    # keys of other lengths: no verification at all
    for bad in (b"\x02" * 32, b"\x02" * 34, b"\x04" * 64, b""):
        tx, spent = _p2wpkh_with_sig(k, bad, lambda d: d)
        check(tx, spent, MAND, E.EVAL_FALSE)
        check(tx, spent, int(F.WITNESS | F.NULLFAIL), E.SIG_NULLFAIL)
        check(tx, spent, STD, E.PUBKEYTYPE)


@pytest.mark.parametrize("how", ["pad_r", "pad_s", "ber_length", "trailing_byte", "negative_r",
                                 "wrong_total_length", "bad_tag", "truncate", "zero_r", "zero_s", "flip_bit"])
def test_p2wpkh_signature_encodings(how: str) -> None:
    k = key(4)
    tx, spent = _p2wpkh_with_sig(k, k.pub, lambda d: mutate_ecdsa(d, how, 5))
    sig = tx.vin[0].witness[0]
    strict = fastpath.is_valid_signature_encoding(sig)
    for flags in FLAG_SETS:
        # with DERSIG/LOW_S/STRICTENC a non-DER signature is refused in C; without them the
        # lax parser's reading is left to Python
        needs_lax = not strict and not flags & chk.F_STRICT_DER
        check(tx, spent, flags, handled=None if not flags & F.WITNESS else not needs_lax)
    if not strict:
        check(tx, spent, MAND, E.SIG_DER)


def test_p2wpkh_high_s_and_overflowing_r_s() -> None:
    k = key(5)
    tx, spent = _p2wpkh_with_sig(k, k.pub, lambda d: mutate_ecdsa(d, "high_s", 0))
    check(tx, spent, MAND, E.OK)  # S is normalised before verifying
    check(tx, spent, STD, E.SIG_HIGH_S)
    check(tx, spent, int(F.WITNESS | F.LOW_S), E.SIG_HIGH_S)

    def rs(r_of, s_of):
        def make(d):
            r, s = der_decode(d)
            return der_encode(r_of(r), s_of(s))
        return make

    cases = [
        rs(lambda r: N, lambda s: s), rs(lambda r: r, lambda s: N), rs(lambda r: r + N, lambda s: s),
        rs(lambda r: r, lambda s: N + 5), rs(lambda r: 2**256 + r, lambda s: s),  # 33-byte value
        rs(lambda r: N, lambda s: N - s),  # r overflows; S high: Core's lax reading says low S
        rs(lambda r: r, lambda s: 2**264 + 1),  # a 34-byte S
    ]
    for make in cases:
        tx, spent = _p2wpkh_with_sig(k, k.pub, make)
        for flags in FLAG_SETS:
            check(tx, spent, flags, handled=bool(flags & F.WITNESS) or None)
        check(tx, spent, MAND, E.EVAL_FALSE)
        check(tx, spent, STD, E.SIG_NULLFAIL)


@pytest.mark.parametrize("hashtype", [1, 2, 3, 0x81, 0x82, 0x83])
def test_p2wpkh_hash_types(hashtype: int) -> None:
    tx, spent = signed(p2wpkh_input(key(6), hashtype))
    check(tx, spent, STD, E.OK, handled=hashtype == 1)
    sig, pub = tx.vin[0].witness
    for other in (0, 4, 0x41, 0x84):  # undefined types: STRICTENC refuses them first
        check(with_input(tx, witness=(sig[:-1] + bytes([other]), pub)), spent, STD, E.SIG_HASHTYPE)
        check(with_input(tx, witness=(sig[:-1] + bytes([other]), pub)), spent, MAND, handled=False)


def test_p2wpkh_second_input_and_sequences() -> None:
    spec = p2wpkh_input(key(7))
    tx, spent = build_signed_tx([p2wpkh_input(key(8)), spec, p2wpkh_input(key(9))], OUTPUTS, seed=4)
    for i in range(3):
        check(tx, spent, STD, E.OK, index=i)


# --- P2PKH ---------------------------------------------------------------------------------
def test_p2pkh_paths() -> None:
    k = key(10)
    tx, spent = signed(p2pkh_input(k))
    ss = tx.vin[0].script_sig
    for flags in FLAG_SETS:
        check(tx, spent, flags, E.OK)
    sig = ss[1 : 1 + ss[0]]
    check(with_input(tx, script_sig=push_data(sig) + push_data(key(11).pub)), spent, MAND, E.EQUALVERIFY)
    check(with_input(tx, witness=(b"\x01",)), spent, MAND, E.WITNESS_UNEXPECTED)
    check(with_input(tx, witness=(b"\x01",)), spent, int(F.P2SH), E.OK)
    bad = sig[:-2] + bytes([sig[-2] ^ 1]) + sig[-1:]
    check(with_input(tx, script_sig=push_data(bad) + push_data(k.pub)), spent, STD, E.SIG_NULLFAIL)
    check(with_input(tx, script_sig=push_data(bad) + push_data(k.pub)), spent, MAND, E.EVAL_FALSE)
    high = mutate_ecdsa(sig[:-1], "high_s", 0) + sig[-1:]
    check(with_input(tx, script_sig=push_data(high) + push_data(k.pub)), spent, MAND, E.OK)
    check(with_input(tx, script_sig=push_data(high) + push_data(k.pub)), spent, STD, E.SIG_HIGH_S)
    lax = mutate_ecdsa(sig[:-1], "pad_r", 0) + sig[-1:]
    check(with_input(tx, script_sig=push_data(lax) + push_data(k.pub)), spent, MAND, E.SIG_DER)
    check(with_input(tx, script_sig=push_data(lax) + push_data(k.pub)), spent, int(F.P2SH), E.OK, handled=False)
    # shapes left to Python: short signature push, OP_PUSHDATA1, extra items
    check(with_input(tx, script_sig=push_data(b"\x30" * 20) + push_data(k.pub)), spent, MAND, handled=False)
    check(with_input(tx, script_sig=b"\x4c" + bytes([len(sig)]) + sig + push_data(k.pub)), spent, STD, handled=False)
    check(with_input(tx, script_sig=ss + b"\x51"), spent, MAND, handled=False)


def test_der_bytes_after_s_inside_the_sequence() -> None:
    """A signature whose sequence length covers R, S and extra bytes (the header and every
    inner length consistent): BIP66 refuses it (R and S must fill the sequence exactly); C
    must say SIG_DER where the flags ask for DER and leave the lax reading to Python."""
    k = key(17)
    for extra in (b"\x00", b"\x01\x02"):
        def stretch(d: bytes, extra: bytes = extra) -> bytes:
            return bytes([0x30, d[1] + len(extra)]) + d[2:] + extra

        tx, spent = _p2wpkh_with_sig(k, k.pub, stretch)
        assert not fastpath.is_valid_signature_encoding(tx.vin[0].witness[0])
        check(tx, spent, MAND, E.SIG_DER)
        check(tx, spent, STD, E.SIG_DER)
        check(tx, spent, int(F.P2SH | F.WITNESS), handled=False)
        ptx, pspent = signed(p2pkh_input(k))
        ss = ptx.vin[0].script_sig
        sig = ss[1 : 1 + ss[0]]
        bad = stretch(sig[:-1]) + sig[-1:]
        ptx = with_input(ptx, script_sig=push_data(bad) + push_data(k.pub))
        check(ptx, pspent, MAND, E.SIG_DER)
        check(ptx, pspent, int(F.P2SH), handled=False)
        ms = [key(18), key(19)]
        mtx, mspent = signed(p2sh_multisig_input(ms, 1))
        mss = mtx.vin[0].script_sig
        msig = mss[2 : 2 + mss[1]]
        redeem_push = mss[2 + mss[1] :]
        mtx = with_input(mtx, script_sig=b"\x00" + push_data(stretch(msig[:-1]) + msig[-1:]) + redeem_push)
        check(mtx, mspent, MAND, E.SIG_DER)
        check(mtx, mspent, int(F.P2SH), handled=False)


@pytest.mark.parametrize("hashtype", [0x01, 0x02, 0x03, 0x81, 0x82, 0x83, 0x00, 0x04, 0x21, 0x41])
def test_p2pkh_hash_types(hashtype: int) -> None:
    tx, spent = signed(p2pkh_input(key(12), hashtype))
    all_class = not hashtype & 0x80 and hashtype & 0x1F not in (2, 3)
    check(tx, spent, MAND, E.OK, handled=all_class)
    defined = hashtype & 0x7F in (1, 2, 3)
    check(tx, spent, STD, None if defined else E.SIG_HASHTYPE, handled=None)


# --- P2SH multisig --------------------------------------------------------------------------
@pytest.mark.parametrize("m,n", [(1, 1), (1, 3), (2, 3), (3, 3), (2, 5), (15, 15)])
def test_multisig_valid_and_failing(m: int, n: int) -> None:
    keys = [key(30 + i) for i in range(n)]
    tx, spent = signed(p2sh_multisig_input(keys, m))
    for flags in FLAG_SETS:
        check(tx, spent, flags, E.OK, handled=bool(flags & F.P2SH) or None)
    ss = tx.vin[0].script_sig
    # a signature made with another key: the matching runs out of keys
    other, _ = signed(p2sh_multisig_input([key(99)] + keys[1:], m))
    first = other.vin[0].script_sig[1 : 2 + other.vin[0].script_sig[1]]
    swapped = ss[:1] + first + ss[2 + ss[1] :]
    check(with_input(tx, script_sig=swapped), spent, MAND, E.EVAL_FALSE)
    check(with_input(tx, script_sig=swapped), spent, STD, E.SIG_NULLFAIL)
    check(with_input(tx, witness=(b"\x01",)), spent, MAND, E.WITNESS_UNEXPECTED)
    check(with_input(tx, script_sig=ss + b"\x51"), spent, MAND, handled=False)
    check(with_input(tx, script_sig=b"\x51" + ss[1:]), spent, MAND, handled=False)  # dummy not OP_0


def test_multisig_keys_order_encodings_and_hash_types() -> None:
    from regtest.testing.txgen import multisig_script, p2sh_script, sign_legacy

    k = [key(40), key(41), key(42)]
    for forms, std_err in ((("compressed", "uncompressed", "compressed"), E.OK),
                           (("compressed", "hybrid", "compressed"), E.PUBKEYTYPE)):
        pubs = [kk.pub_form(f) for kk, f in zip(k, forms)]
        redeem = multisig_script(2, pubs)
        for signers, ht in (((0, 1), 1), ((0, 2), 1), ((1, 2), 0x01), ((0, 1), 0x81), ((0, 2), 4), ((1, 0), 1)):
            tx, spent = signed(p2sh_multisig_input(k, 2))
            spent = (TxOut(spent[0].value, p2sh_script(redeem)),) + spent[1:]
            sigs = [sign_legacy(k[i], tx, 0, redeem, ht) for i in signers]
            tx = with_input(tx, script_sig=b"\x00" + b"".join(push_data(s) for s in sigs) + push_data(redeem))
            all_class = not ht & 0x80
            want = E.OK if signers[0] < signers[1] else E.EVAL_FALSE  # out of order never matches
            check(tx, spent, MAND, want, handled=all_class)
            check(tx, spent, STD, handled=None)
            high = [mutate_ecdsa(s[:-1], "high_s", 0) + s[-1:] for s in sigs]
            tx2 = with_input(tx, script_sig=b"\x00" + b"".join(push_data(s) for s in high) + push_data(redeem))
            check(tx2, spent, MAND, want, handled=all_class)
            check(tx2, spent, STD, handled=None)
            lax = [mutate_ecdsa(s[:-1], "pad_s", 0) + s[-1:] for s in sigs]
            tx3 = with_input(tx, script_sig=b"\x00" + b"".join(push_data(s) for s in lax) + push_data(redeem))
            check(tx3, spent, MAND, E.SIG_DER)
            check(tx3, spent, int(F.P2SH), handled=False)
        check(tx, spent, STD, handled=None)
    # the redeem script hash does not match: OP_EQUAL is false
    tx, spent = signed(p2sh_multisig_input(k, 2))
    check(tx, (TxOut(spent[0].value, b"\xa9\x14" + bytes(20) + b"\x87"),) + spent[1:], MAND, E.EVAL_FALSE)


def test_multisig_signature_inside_redeem_script_falls_back() -> None:
    """A signature push found in the redeem script (FindAndDelete territory) is Python's."""
    from regtest.testing.txgen import p2sh_script

    k = [key(43), key(44)]
    tx, spent = signed(p2sh_multisig_input(k, 1))
    # the "signature" is the second key itself: a whole-opcode match, FindAndDelete removes it
    redeem = b"\x51" + push_data(k[0].pub) + push_data(k[1].pub) + b"\x52\xae"
    spent = (TxOut(spent[0].value, p2sh_script(redeem)),) + spent[1:]
    tx1 = with_input(tx, script_sig=b"\x00" + push_data(k[1].pub) + push_data(redeem))
    for flags in FLAG_SETS:
        check(tx1, spent, flags, handled=False if flags & F.P2SH else None)
    check(tx1, spent, int(F.P2SH | F.CONST_SCRIPTCODE), E.SIG_FINDANDDELETE, handled=False)
    # a push that straddles two key pushes: no whole-opcode match, still left to Python
    key1 = b"\x04" + bytes(range(10, 74))
    key1 = key1[:20] + b"\x48" + key1[21:]
    redeem = b"\x51" + push_data(key1) + push_data(k[1].pub) + b"\x52\xae"
    at = 2 + 20
    fake_sig = redeem[at + 1 : at + 1 + 0x48]
    spent = (TxOut(spent[0].value, p2sh_script(redeem)),) + spent[1:]
    tx2 = with_input(tx, script_sig=b"\x00" + push_data(fake_sig) + push_data(redeem))
    for flags in FLAG_SETS:
        check(tx2, spent, flags, handled=False if flags & F.P2SH else None)


# --- P2TR ----------------------------------------------------------------------------------
@pytest.mark.parametrize("hashtype", [0, 1, 2, 3, 0x81, 0x82, 0x83])
def test_p2tr_key_path_hash_types(hashtype: int) -> None:
    tx, spent = signed(p2tr_key_input(key(13), hashtype))
    check(tx, spent, MAND, E.OK, handled=hashtype <= 1)
    sig = tx.vin[0].witness[0]
    bad = bytes([sig[0] ^ 1]) + sig[1:]
    check(with_input(tx, witness=(bad,)), spent, MAND, E.SCHNORR_SIG, handled=hashtype <= 1)


def test_p2tr_key_path_sizes_and_commitments() -> None:
    tx, spent = signed(p2tr_key_input(key(14)))
    sig = tx.vin[0].witness[0]
    for size in (0, 1, 63, 66, 100):
        check(with_input(tx, witness=((sig * 2)[:size],)), spent, MAND, E.SCHNORR_SIG_SIZE)
    check(with_input(tx, witness=(sig + b"\x00",)), spent, MAND, E.SCHNORR_SIG_HASHTYPE)
    check(with_input(tx, witness=(sig + b"\x01",)), spent, MAND, E.SCHNORR_SIG)  # signed as DEFAULT
    check(with_input(tx, witness=(sig + b"\x04",)), spent, MAND, E.SCHNORR_SIG_HASHTYPE, handled=False)
    check(with_input(tx, witness=(sig, b"\x50")), spent, MAND, handled=False)  # annex
    check(with_input(tx, witness=()), spent, MAND, handled=False)
    for flags in FLAG_SETS:
        check(tx, spent, flags, E.OK if flags & F.WITNESS else None, handled=bool(flags & F.WITNESS) or None)
    # every input's amount and script are committed to
    check(tx, spent[:1] + (TxOut(spent[1].value + 1, spent[1].script_pubkey),), MAND, E.SCHNORR_SIG)
    check(tx, spent[:1] + (TxOut(spent[1].value, b"\x51"),), MAND, E.SCHNORR_SIG)
    # an output key that is not on the curve (x = p - 1 has no square root... or not: any
    # result must simply agree) and the zero program
    for prog in (b"\xff" * 32, bytes(31) + b"\x80", bytes(31) + b"\x01"):
        check(tx, (TxOut(spent[0].value, b"\x51\x20" + prog),) + spent[1:], MAND)
    check(tx, (TxOut(spent[0].value, b"\x51\x20" + bytes(32)),) + spent[1:], MAND, E.EVAL_FALSE)
    # the taproot part needs the spent outputs: without them C falls back
    pieces = fastpath._pieces(PrecomputedTxData(tx, None))
    assert accel.p2tr(tx.vin[0].witness, spent[0].script_pubkey, MAND, 0, pieces) == -1


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 7])
def test_p2tr_checksig_leaf(depth: int) -> None:
    tx, spent = signed(p2tr_script_input(key(15), key(16), depth))
    sig, leaf, control = tx.vin[0].witness
    check(tx, spent, MAND, E.OK)
    check(tx, spent, int(F.WITNESS | F.P2SH), E.OK)  # TAPROOT off: anyone can spend
    w = lambda *items: with_input(tx, witness=items)  # noqa: E731
    check(w(sig, leaf, bytes([control[0] ^ 1]) + control[1:]), spent, MAND, E.WITNESS_PROGRAM_MISMATCH)
    if len(control) > 33:
        check(w(sig, leaf, control[:-1] + bytes([control[-1] ^ 1])), spent, MAND, E.WITNESS_PROGRAM_MISMATCH)
    check(w(sig, leaf, control[:1] + b"\xff" * 32 + control[33:]), spent, MAND, E.WITNESS_PROGRAM_MISMATCH)
    check(w(b"", leaf, control), spent, MAND, E.EVAL_FALSE)
    check(w(b"\x01" * 521, leaf, control), spent, MAND, E.PUSH_SIZE)
    check(w(sig + b"\x00", leaf, control), spent, MAND, E.SCHNORR_SIG_HASHTYPE)
    check(w(sig[:63], leaf, control), spent, MAND, E.SCHNORR_SIG_SIZE)
    check(w(bytes([sig[0] ^ 1]) + sig[1:], leaf, control), spent, MAND, E.SCHNORR_SIG)
    check(w(sig + b"\x02", leaf, control), spent, MAND, handled=False)
    # other leaf versions, other scripts, bad control sizes: Python
    check(w(sig, leaf, bytes([0xC2 | (control[0] & 1)]) + control[1:]), spent, MAND, handled=False)
    check(w(sig, leaf[:-1] + b"\xad", control), spent, MAND, handled=False)
    check(w(sig, leaf, control + b"\x00"), spent, MAND, handled=False)
    check(w(sig, leaf, control, b"\x50\x00"), spent, MAND, handled=False)  # annex


# --- per-transaction pieces ------------------------------------------------------------------
def test_tx_pieces_match_python_hashes() -> None:
    import struct

    rng = random.Random(3)
    for t in range(20):
        specs = [p2wpkh_input(key(200 + t * 4 + j)) for j in range(rng.randint(1, 4))]
        outs = tuple(TxOut(rng.randrange(0, 10**9), rng.randbytes(rng.choice((0, 1, 22, 34, 300))))
                     for _ in range(rng.randint(0, 300 if t == 0 else 3)))
        tx, spent = build_signed_tx(specs, outs, version=rng.choice((1, 2, -1)), locktime=rng.randrange(2**32), seed=t)
        txd = PrecomputedTxData(tx, spent)
        blob = accel.tx_pieces(tx.serialize_without_witness(), spent)
        head = struct.unpack_from("=6I", blob)
        assert head[:5] == (tx.version & 0xFFFFFFFF, tx.locktime, len(tx.vin), 1, len(blob) - 24 - 8 * 32 - 40 * len(tx.vin))
        hashes = [blob[24 + 32 * i : 56 + 32 * i] for i in range(8)]
        sp, samounts, sscripts, ss, so = txd.bip341
        assert hashes == [sp, ss, so, *txd.bip143, samounts, sscripts]
        recs = blob[24 + 256 :]
        for i in range(len(tx.vin)):
            assert recs[40 * i : 40 * i + 40] == txd.prevouts[i] + txd.sequences[i]
        assert accel.tx_pieces(tx.serialize_without_witness(), None)[12:16] == bytes(4)  # no taproot part
    for bad in (b"", b"\x01\x00\x00", bytes(4), bytes(9), bytes(10) + b"\xff", tx.serialize_without_witness()[:-1],
                tx.serialize_without_witness() + b"\x00", tx.serialize()):
        assert accel.tx_pieces(bad, None) is None or bad == tx.serialize()
    assert accel.tx_pieces(b"\x01\x00\x00\x00\xfd\x01\x00", None) is None  # non-canonical count


def test_tx_pieces_on_damaged_serializations() -> None:
    """Damaged encodings: None, or pieces equal to what Python computes from the same bytes."""
    import struct

    from regtest.consensus.serialize import DeserializationError

    rng = random.Random(5)
    tx, spent = build_signed_tx([p2wpkh_input(key(60)), p2pkh_input(key(61))], OUTPUTS, seed=9)
    raw = tx.serialize_without_witness()
    accepted = 0
    for _ in range(3000):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            if not b:
                break
            what = rng.randrange(4)
            i = rng.randrange(len(b))
            if what == 0:
                b[i] = rng.randrange(256)
            elif what == 1:
                del b[i:]
            elif what == 2:
                b[i:i] = rng.randbytes(rng.randint(1, 3))
            else:
                del b[i]
        if not b:
            continue
        data = bytes(b)
        out = accel.tx_pieces(data, None)
        try:
            parsed = Transaction.parse(data, allow_witness=False)
        except (DeserializationError, ValueError):
            parsed = None
        if out is None:
            continue
        accepted += 1
        n_in = struct.unpack_from("=I", out, 8)[0]
        assert len(out) == 24 + 256 + 40 * n_in + struct.unpack_from("=I", out, 16)[0]
        if parsed is not None:
            txd = PrecomputedTxData(parsed, None)
            assert out[24 + 96 : 24 + 192] == b"".join(txd.bip143)
    assert accepted > 0


# --- randomised equivalence ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["p2wpkh", "p2pkh", "p2tr-key", "p2tr-script", "multisig"])
def test_random_mutations_agree(kind: str) -> None:
    rng = random.Random(f"accel-{kind}")
    for t in range(12):
        k = Key(rng.randrange(1, N))
        spec = {
            "p2wpkh": lambda: p2wpkh_input(k, rng.choice((1, 1, 1, 2, 0x81))),
            "p2pkh": lambda: p2pkh_input(k, rng.choice((1, 1, 1, 0, 4, 0x83))),
            "p2tr-key": lambda: p2tr_key_input(k, rng.choice((0, 0, 1, 1, 3))),
            "p2tr-script": lambda: p2tr_script_input(k, key(t), rng.randint(0, 4)),
            "multisig": lambda: p2sh_multisig_input([k, key(t), key(t + 1)], 2),
        }[kind]()
        tx, spent = build_signed_tx([p2wpkh_input(key(50)), spec, p2tr_key_input(key(51))], OUTPUTS, seed=t)
        for _ in range(10):
            txin = tx.vin[1]
            vspent = spent
            what = rng.randrange(4)
            if what == 0 and txin.witness:
                items = list(txin.witness)
                j = rng.randrange(len(items))
                items[j] = flip_bytes(items[j], rng)
                vtx = with_input(tx, 1, witness=tuple(items))
            elif what == 1 and txin.script_sig:
                vtx = with_input(tx, 1, script_sig=flip_bytes(txin.script_sig, rng))
            elif what == 2:
                vtx = tx
                vspent = spent[:1] + (TxOut(spent[1].value + rng.choice((0, 1)), flip_bytes(spent[1].script_pubkey, rng)),) + spent[2:]
            else:
                vtx = tx
            for flags in FLAG_SETS:
                check(vtx, vspent, flags, handled=None, index=1)
        for i in range(3):
            check(tx, spent, MAND, E.OK, handled=None, index=i)


# --- hostile arguments -----------------------------------------------------------------------
def test_hostile_arguments_never_crash() -> None:
    rng = random.Random(11)
    tx, spent = signed(p2wpkh_input(key(20)))
    good = fastpath._pieces(PrecomputedTxData(tx, spent))
    junk = [None, 1, -1, 2**70, "x", b"", bytearray(b"\x00" * 22), (b"",), [b"\x00" * 22], object()]
    blobs = [good, good[:-1], good + b"\x00", b"", rng.randbytes(300), bytes(24) + good[24:],
             b"\xff" * 4 + good[4:], good[:8] + b"\xff\xff\xff\xff" + good[12:],
             good[:16] + b"\xff\xff\xff\xff" + good[20:],  # outputs length that would wrap a 32-bit sum
             good[:8] + (0x06666666).to_bytes(4, "little") + good[12:16] + (0x0000_0010).to_bytes(4, "little") + good[20:]]
    for _ in range(3000):
        wit = tuple(rng.choice((b"", rng.randbytes(rng.choice((1, 20, 32, 33, 64, 65, 71, 72, 73, 600))), 1))
                    for _ in range(rng.randrange(5)))
        spk = rng.choice((b"\x00\x14" + rng.randbytes(20), b"\x51\x20" + rng.randbytes(32),
                          b"\x76\xa9\x14" + rng.randbytes(20) + b"\x88\xac", rng.randbytes(rng.randrange(40))))
        args = [rng.choice(junk) if rng.random() < 0.1 else v for v in
                (wit, spk, rng.randrange(-2**63, 2**63), rng.randrange(2**32), rng.randrange(4), rng.choice(blobs))]
        r1 = accel.p2wpkh(*args)
        r2 = accel.p2tr(args[0], args[1], args[3], args[4], args[5])
        ss = rng.randbytes(rng.randrange(150)) if rng.random() < 0.5 else push_data(rng.randbytes(72)) + push_data(rng.randbytes(33))
        r3 = accel.p2pkh(ss, args[1], args[0], args[3], args[4], args[5])
        ms = b"\x00" + b"".join(push_data(rng.randbytes(rng.choice((2, 33, 71, 72, 75)))) for _ in range(rng.randrange(4)))
        red = bytes([0x50 + rng.randrange(18)]) + b"".join(
            push_data(rng.randbytes(rng.choice((33, 65, 34)))) for _ in range(rng.randrange(4))) + bytes(
            [0x50 + rng.randrange(18), rng.choice((0xAE, 0xAE, 0xAF))])
        ms += push_data(red) if rng.random() < 0.9 else rng.randbytes(rng.randrange(30))
        spk23 = b"\xa9\x14" + hash160(red) + b"\x87" if rng.random() < 0.7 else rng.randbytes(23)
        r4 = accel.p2sh_multisig(ms, spk23, args[0], args[3], args[4], args[5])
        for r in (r1, r2, r3, r4):
            assert r == -1 or 0 <= r < len(ScriptError)
        assert accel.tx_pieces(rng.randbytes(rng.randrange(200)), rng.choice((None, spent, [1, 2], ()))) is None or True
    with pytest.raises(TypeError):
        accel.p2wpkh()
    with pytest.raises(ValueError):
        accel.init(0, 0, 0, 0, 0, 0, 0, 0)


def test_other_scripts_and_flags_fall_back() -> None:
    """Each C function answers only for its own template and the flags that select it."""
    tx, spent = signed(p2wpkh_input(key(28)))
    pieces = fastpath._pieces(PrecomputedTxData(tx, spent))
    w = tx.vin[0].witness
    spk = spent[0].script_pubkey
    assert accel.p2wpkh(w, spk, spent[0].value, MAND, 0, pieces) == 0
    assert accel.p2wpkh(w, b"\x01" + spk[1:], spent[0].value, MAND, 0, pieces) == -1
    assert accel.p2wpkh(w, spk, spent[0].value, int(F.P2SH), 0, pieces) == -1
    assert accel.p2tr((w[0][:64],), b"\x52\x20" + bytes(32), MAND, 0, pieces) == -1
    assert accel.p2tr((w[0][:64],), b"\x51\x20" + b"\x01" * 32, int(F.P2SH), 0, pieces) == -1
    assert accel.p2pkh(b"", b"\x76\xa9\x14" + bytes(20) + b"\x88\xad", (), MAND, 0, pieces) == -1
    assert accel.p2sh_multisig(b"\x00", b"\xa9\x14" + bytes(20) + b"\x88", (), MAND, 0, pieces) == -1
    assert accel.p2sh_multisig(b"\x00", b"\xa9\x14" + bytes(20) + b"\x87", (), 0, 0, pieces) == -1


def test_no_leaks() -> None:
    """Repeated calls on every path leave no Python objects behind."""
    tx, spent = signed(p2wpkh_input(key(21)))
    txp, spentp = signed(p2pkh_input(key(22)))
    txt, spentt = signed(p2tr_script_input(key(23), key(24), 2))
    txm, spentm = signed(p2sh_multisig_input([key(25), key(26), key(27)], 2))
    raw = tx.serialize_without_witness()

    def burst() -> None:
        for _ in range(300):
            check_input(tx, 0, spent, STD)
            check_input(txp, 0, spentp, STD)
            check_input(txt, 0, spentt, MAND)
            check_input(txm, 0, spentm, STD)
            accel.tx_pieces(raw, spent)
            accel.p2wpkh(tx.vin[0].witness, spent[0].script_pubkey, 2**70, 0, 0, b"")

    burst()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        burst()
        burst()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 50_000, grown


def test_switch_from_environment() -> None:
    """POTC_NO_ACCEL=1 at import leaves the pure-Python engine in charge."""
    code = "from regtest.consensus import fastpath; print(fastpath.ACCEL)"
    env = dict(os.environ, POTC_NO_ACCEL="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    env["POTC_NO_ACCEL"] = ""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
