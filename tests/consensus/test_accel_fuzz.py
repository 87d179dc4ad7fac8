"""Hypothesis fuzz of the C accelerator (regtest/consensus/_accel.c) against pure Python.

Why: _accel.c runs on hostile network input inside the consensus engine, where a verdict that
differs from the Python reference is a chain split and a bad read is a crash. test_accel.py
pins the known cases; this file throws mutated real spends (every template, valid signatures
with several hash types and key forms) and raw junk at every C entry point and demands:
  * check_input with the accelerator on == with it off (same ScriptError or same exception);
  * each C function answers -1 or a ScriptError value, and when it answers, that value is the
    Python engine's verdict;
  * tx_pieces returns None or a well-formed blob whose hashes equal Python's for the same bytes.
Derandomized and bounded (about 15 s on one core in all).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtest.consensus import checker as chk
from regtest.consensus import fastpath
from regtest.consensus.hashes import hash160
from regtest.consensus.script import push_data
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ALL_FLAGS, MANDATORY_FLAGS, STANDARD_FLAGS
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.sighash import PrecomputedTxData
from regtest.consensus.transaction import Transaction, TxOut
from regtest.consensus.verify import check_input
from regtest.testing.keys import Key, mutate_ecdsa
from regtest.testing.txgen import (
    build_signed_tx,
    multisig_script,
    p2pkh_input,
    p2pkh_script,
    p2sh_multisig_input,
    p2sh_script,
    p2tr_key_input,
    p2tr_script_input,
    p2wpkh_input,
    sign_legacy,
    sign_v0,
)

accel = fastpath._ACCEL_MODULE
pytestmark = pytest.mark.skipif(accel is None, reason="C accelerator not built")


def fuzz(examples: int) -> settings:
    """Derandomized (reproducible), no example database, no deadline."""
    return settings(
        max_examples=examples, derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _key(i: int) -> Key:
    return Key(0xACCE1 + 104_729 * i)


def _with(tx: Transaction, i: int, **changes) -> Transaction:
    vin = list(tx.vin)
    vin[i] = replace(vin[i], **changes)
    return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)


def _key_form_spends() -> list[tuple[Transaction, tuple[TxOut, ...]]]:
    """Valid P2WPKH/P2PKH/multisig spends with uncompressed and hybrid keys (the signing helpers
    only make compressed ones)."""
    out = []
    k = _key(90)
    for form in ("uncompressed", "hybrid"):
        pub = k.pub_form(form)
        tx, spent = build_signed_tx([p2wpkh_input(k), p2pkh_input(k)], (TxOut(1, b"\x51"),), seed=7)
        spent = (TxOut(spent[0].value, b"\x00\x14" + hash160(pub)), TxOut(spent[1].value, p2pkh_script(pub)))
        sig0 = sign_v0(k, tx, 0, p2pkh_script(pub), spent[0].value, 1)
        sig1 = sign_legacy(k, tx, 1, p2pkh_script(pub), 1)
        tx = _with(_with(tx, 0, witness=(sig0, pub)), 1, script_sig=push_data(sig1) + push_data(pub))
        out.append((tx, spent))
        ks = [_key(91), k, _key(92)]
        pubs = [ks[0].pub, pub, ks[2].pub_form("uncompressed")]
        redeem = multisig_script(2, pubs)
        tx, spent = build_signed_tx([p2sh_multisig_input(ks, 2)], (TxOut(2, b"\x6a"),), seed=8)
        spent = (TxOut(spent[0].value, p2sh_script(redeem)),)
        sigs = [sign_legacy(ks[1], tx, 0, redeem, 0x41), sign_legacy(ks[2], tx, 0, redeem, 1)]
        out.append((_with(tx, 0, script_sig=b"\x00" + b"".join(push_data(s) for s in sigs) + push_data(redeem)), spent))
    return out


@cache
def bases() -> list[tuple[Transaction, tuple[TxOut, ...]]]:
    """Signed transactions mixing every template the C code handles, in several shapes."""
    outs_a = (TxOut(1000, b"\x00\x14" + bytes(20)), TxOut(2000, b"\x51\x20" + bytes(range(32))))
    outs_b = (TxOut(5, b"\x6a" + bytes(300)),)
    out = [
        build_signed_tx(
            [p2wpkh_input(_key(1)), p2pkh_input(_key(2)), p2sh_multisig_input([_key(3), _key(4), _key(5)], 2),
             p2tr_key_input(_key(6)), p2tr_script_input(_key(7), _key(8), 2)],
            outs_a, version=2, locktime=0, seed=1),
        build_signed_tx(
            [p2pkh_input(_key(9), 0x41), p2wpkh_input(_key(10), 0x81), p2tr_key_input(_key(11), 1),
             p2sh_multisig_input([_key(12)], 1, 0), p2wpkh_input(_key(13))],
            outs_b, version=-1, locktime=0xFFFFFFFF, seed=2),
        build_signed_tx(
            [p2sh_multisig_input([_key(20 + j) for j in range(15)], 3), p2tr_key_input(_key(17), 0x83),
             p2tr_script_input(_key(14), _key(15), 6), p2pkh_input(_key(16), 0x00)],
            outs_a + outs_b, version=1, locktime=500_000_000, seed=3),
    ]
    return out + _key_form_spends()


def _outcome(tx: Transaction, i: int, spent: tuple[TxOut, ...], flags: int) -> object:
    try:
        return check_input(tx, i, spent, flags)
    except Exception as e:  # the same exception type must come out of both engines
        return type(e).__name__


def _c_answer(tx: Transaction, i: int, spent: tuple[TxOut, ...], flags: int) -> int | None:
    """What the C template for input i answers itself (None: not a C template here)."""
    txin = tx.vin[i]
    spk = spent[i].script_pubkey
    try:
        pieces = fastpath._pieces(PrecomputedTxData(tx, spent))
    except ValueError:
        return None
    if len(spk) == 22 and not txin.script_sig and flags & chk.F_WITNESS:
        return accel.p2wpkh(txin.witness, spk, spent[i].value, flags, i, pieces)
    if len(spk) == 34 and not txin.script_sig and flags & chk.F_WITNESS:
        return accel.p2tr(txin.witness, spk, flags, i, pieces)
    if len(spk) == 23 and txin.script_sig[:1] == b"\x00":
        return accel.p2sh_multisig(txin.script_sig, spk, txin.witness, flags, i, pieces)
    if len(spk) == 25:
        return accel.p2pkh(txin.script_sig, spk, txin.witness, flags, i, pieces)
    return None


def _flip(data: bytes, op: int, pos: int, val: int) -> bytes:
    """One byte-level edit of `data`, chosen by op (8 kinds) at pos with value val."""
    if op == 7 and len(data) > 9 and data[0] == 0x30:  # a DER-aware damage of an ECDSA signature
        if val % 9 == 8 and len(data) < 255:  # a byte after S inside the sequence, its length kept right
            return bytes([0x30, (data[1] + 1) & 0xFF]) + data[2:-1] + bytes([pos & 0xFF]) + data[-1:]
        how = ("pad_r", "pad_s", "ber_length", "negative_r", "zero_r", "zero_s", "high_s", "trailing_byte")[val % 9]
        try:
            return mutate_ecdsa(data[:-1], how, pos) + data[-1:]
        except (ValueError, IndexError):
            return data
    if not data:
        return bytes([val])
    i = pos % len(data)
    if op == 0:
        return data[:i] + bytes([data[i] ^ (1 << (val % 8))]) + data[i + 1 :]
    if op == 1:
        return data[:i]
    if op == 2:
        return data + bytes([val])
    if op == 3:  # another hash type
        return data[:-1] + bytes([(0, 1, 2, 3, 4, 0x21, 0x41, 0x80, 0x81, 0x83, 0x84, 0xFF)[val % 12]])
    if op == 4:
        return data[:i] + data[i + 1 :]
    if op == 5:  # opcodes that change a script's shape
        return data[:i] + bytes([(0, 0x4C, 0x4D, 0x4E, 0x21, 0x41, 0x48, 0x50, 0x51, 0x60, 0xAB, 0xAC, 0xAE)[val % 13]]) + data[i + 1 :]
    return data[:i] + bytes([val]) + data[i + 1 :]


edit = st.tuples(st.sampled_from(range(8)), st.integers(0, 10_000), st.integers(0, 255))
mutation = st.tuples(st.sampled_from(range(7)), st.integers(0, 100), edit)
flag_sets = st.one_of(
    st.sampled_from([int(MANDATORY_FLAGS), int(STANDARD_FLAGS), int(ALL_FLAGS), 0, 1, 0x801, 0x20801]),
    st.integers(0, (1 << 21) - 1),
)
odd_values = st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 21_000_000 * 10**8])


def _mutate(tx: Transaction, spent: tuple[TxOut, ...], i: int, m: tuple, value: int) -> tuple[Transaction, tuple[TxOut, ...]]:
    what, j, (op, pos, val) = m
    txin = tx.vin[i]
    if what == 0 and txin.witness:  # edit a witness item
        items = list(txin.witness)
        k = j % len(items)
        items[k] = _flip(items[k], op, pos, val)
        return _with(tx, i, witness=tuple(items)), spent
    if what == 1:  # replace, add, drop or reorder witness items
        items = list(txin.witness)
        special = (b"", b"\x50", b"\x02" * 521, b"", bytes(64), bytes(65), b"\x04" * 65, b"\x30" * 521)[val % 8]
        if op < 3 and items:
            items[j % len(items)] = special
        elif op < 5 and items:
            del items[j % len(items)]
        elif op < 7:
            items.insert(j % (len(items) + 1), special)
        elif len(items) > 1:
            items.reverse()
        return _with(tx, i, witness=tuple(items)), spent
    if what == 2:  # edit the scriptSig
        return _with(tx, i, script_sig=_flip(txin.script_sig, op, pos, val)), spent
    if what == 3:  # edit the push of one signature in the scriptSig
        ss = txin.script_sig
        at = [p for p in range(len(ss) - 1) if ss[p + 1] == 0x30 and 9 <= ss[p] <= 75]
        if at:
            p = at[j % len(at)]
            sig = _flip(ss[p + 1 : p + 1 + ss[p]], op, pos, val)
            if 1 <= len(sig) <= 75:
                return _with(tx, i, script_sig=ss[:p] + bytes([len(sig)]) + sig + ss[p + 1 + ss[p] :]), spent
        return tx, spent
    k = j % len(spent)
    if what == 4:  # the amount of a spent output (BIP143 / BIP341 commitments)
        return tx, spent[:k] + (TxOut(value, spent[k].script_pubkey),) + spent[k + 1 :]
    if what == 5:  # the script of a spent output
        return tx, spent[:k] + (TxOut(spent[k].value, _flip(spent[k].script_pubkey, op, pos, val)),) + spent[k + 1 :]
    return _with(tx, i, witness=txin.witness + (b"\x01",) if op < 4 else ()), spent


@fuzz(1500)
@given(
    base=st.integers(0, 6), index=st.integers(0, 15), flags=flag_sets,
    mutations=st.lists(mutation, min_size=1, max_size=3), value=odd_values,
)
def test_c_equals_python_on_mutated_spends(base: int, index: int, flags: int, mutations: list, value: int) -> None:
    tx, spent = bases()[base % len(bases())]
    i = index % len(tx.vin)
    for m in mutations:
        tx, spent = _mutate(tx, spent, i, m, value)
    saved = fastpath.ACCEL
    try:
        fastpath.ACCEL = True
        with_c = _outcome(tx, i, spent, flags)
        fastpath.ACCEL = False
        python = _outcome(tx, i, spent, flags)
    finally:
        fastpath.ACCEL = saved
    assert with_c == python, (with_c, python, hex(flags), i, tx.serialize().hex(), spent)
    r = _c_answer(tx, i, spent, flags)
    assert r is None or r == -1 or 0 <= r < len(ScriptError)
    if r is not None and r != -1:
        assert ScriptError(r) == python, (r, python, hex(flags))


@fuzz(1500)
@given(base=st.integers(0, 6), edits=st.lists(edit, min_size=1, max_size=4), attach=st.booleans())
def test_tx_pieces_on_mutated_serializations(base: int, edits: list, attach: bool) -> None:
    tx, spent = bases()[base % len(bases())]
    raw = tx.serialize_without_witness()
    for op, pos, val in edits:
        raw = _flip(raw, op % 7, pos, val)
    out = accel.tx_pieces(raw, spent if attach else None)
    if out is None:
        return
    n_in = int.from_bytes(out[8:12], "little")
    assert len(out) == 280 + 40 * n_in + int.from_bytes(out[16:20], "little")
    try:
        parsed = Transaction.parse(raw, allow_witness=False)
    except (DeserializationError, ValueError):
        return
    txd = PrecomputedTxData(parsed, spent if attach and len(parsed.vin) == len(spent) else None)
    assert out[24 + 96 : 24 + 192] == b"".join(txd.bip143)
    assert out[24 : 24 + 96] == b"".join(txd.singles)
    if txd.spent_outputs is not None:
        assert out[12:16] == b"\x01\x00\x00\x00"
        assert out[24 + 192 : 24 + 256] == b"".join(txd.bip341[1:3])


junk = st.one_of(st.none(), st.integers(-(2**70), 2**70), st.binary(max_size=40), st.lists(st.binary(max_size=3), max_size=2))
witness_items = st.lists(st.one_of(st.binary(max_size=80), st.sampled_from([b"", bytes(64), bytes(65), b"\x02" * 33])), max_size=4)


@fuzz(1500)
@given(
    wit=st.one_of(witness_items.map(tuple), witness_items, junk),
    script=st.one_of(st.binary(max_size=160), junk),
    spk=st.one_of(
        st.sampled_from([b"\x00\x14" + bytes(range(20)), b"\x51\x20" + bytes(range(32)),
                         b"\x76\xa9\x14" + bytes(20) + b"\x88\xac", b"\xa9\x14" + bytes(20) + b"\x87"]),
        st.binary(max_size=40), junk),
    nums=st.tuples(st.one_of(st.integers(-(2**65), 2**65), junk), st.one_of(st.integers(-1, 2**21), junk),
                   st.one_of(st.integers(-1, 6), junk)),
    pieces=st.one_of(st.sampled_from([0, 1, 2]), st.binary(max_size=400), junk),
)
def test_hostile_arguments_to_every_entry_point(wit, script, spk, nums, pieces) -> None:
    """Any argument values: an int result in range, never a crash or an exception."""
    amount, flags, n_in = nums
    if isinstance(pieces, int) and 0 <= pieces <= 2:
        tx, spent = bases()[pieces]
        pieces = accel.tx_pieces(tx.serialize_without_witness(), spent)
    results = (
        accel.p2wpkh(wit, spk, amount, flags, n_in, pieces),
        accel.p2tr(wit, spk, flags, n_in, pieces),
        accel.p2pkh(script, spk, wit, flags, n_in, pieces),
        accel.p2sh_multisig(script, spk, wit, flags, n_in, pieces),
    )
    for r in results:
        assert r == -1 or 0 <= r < len(ScriptError)
    assert accel.tx_pieces(script, wit) is None or isinstance(accel.tx_pieces(script, wit), bytes)
