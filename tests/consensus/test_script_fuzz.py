"""Fuzzing the script decoder and the interpreter with random and mutated input.

Properties: the parser either walks a script completely (and the ops it yields re-assemble
the exact bytes) or raises ScriptParseError; number decoding raises only ScriptNumError;
sigop counting never raises; `check_input` always returns a ScriptError member (never raises)
for any bytes in scriptSig, scriptPubKey and witness under any flag set Core allows. Sizes are
bounded, and the per-test timeout guards against hangs. The transaction decoder has its own
fuzz test in test_transaction_codec.py.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtest.consensus.script import (
    MAX_SCRIPT_SIZE,
    ScriptNumError,
    ScriptParseError,
    decode_num,
    get_op,
    is_push_only,
    iter_script,
    script_to_asm,
    witness_program,
)
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ALL_FLAGS, ScriptFlags
from regtest.consensus.sigops import script_sigop_count, transaction_sigop_cost
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.consensus.verify import PrecomputedTxData, check_input
from regtest.testing.keys import key_from_index
from regtest.testing.txgen import (
    simple_shape,
    spend_p2pkh,
    spend_p2sh_multisig,
    spend_p2tr_key,
    spend_p2tr_script_checksig,
    spend_p2wpkh,
)
from tests.consensus.differential.strategies import random_scripts, stack_items

def fuzz(examples: int) -> settings:
    """Derandomized (reproducible in CI), no example database, no deadline."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


# Script bytes: raw noise, noise dense in push opcodes, and grammar-built scripts.
_push_heavy = st.lists(
    st.sampled_from([0x00, 0x01, 0x02, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F, 0x51, 0x63, 0x67, 0x68, 0xFF]) | st.integers(0, 255),
    max_size=200,
).map(bytes)
script_bytes = st.one_of(st.binary(max_size=300), _push_heavy, random_scripts)


def _sane_flags(bits: int) -> int:
    """Any flag set Core's VerifyScript accepts (WITNESS needs P2SH; CLEANSTACK needs both)."""
    f = bits & int(ALL_FLAGS)
    if f & ScriptFlags.WITNESS:
        f |= ScriptFlags.P2SH
    if f & ScriptFlags.CLEANSTACK:
        f |= ScriptFlags.P2SH | ScriptFlags.WITNESS
    return f


flag_sets = st.one_of(
    st.integers(0, int(ALL_FLAGS)).map(_sane_flags),
    st.sampled_from([0, 0x20E15, _sane_flags(int(ALL_FLAGS))]),
)


@fuzz(1500)
@given(script_bytes)
def test_parser_walks_or_raises_parse_error(script: bytes) -> None:
    try:
        ops = list(iter_script(script))
    except ScriptParseError:
        ops = None
    if ops is not None:
        # the yielded positions tile the script exactly
        pc = 0
        for op, data, nxt in ops:
            assert get_op(script, pc) == (op, data, nxt)
            assert nxt > pc
            pc = nxt
        assert pc == len(script)
    assert isinstance(is_push_only(script), bool)
    assert isinstance(script_to_asm(script), str)
    assert script_sigop_count(script, True) >= 0
    assert script_sigop_count(script, False) >= script_sigop_count(script, True)
    wp = witness_program(script)
    assert wp is None or (0 <= wp[0] <= 16 and 2 <= len(wp[1]) <= 40)


@fuzz(1500)
@given(st.binary(max_size=10), st.booleans(), st.integers(1, 8))
def test_script_numbers_decode_or_raise_num_error(data: bytes, minimal: bool, max_size: int) -> None:
    try:
        n = decode_num(data, require_minimal=minimal, max_size=max_size)
    except ScriptNumError:
        assert len(data) > max_size or minimal
        return
    assert abs(n) < 2 ** (8 * max_size)


def _one_input_tx(script_sig: bytes, witness: tuple[bytes, ...], version: int, locktime: int, seq: int) -> Transaction:
    return Transaction(
        version,
        (TxIn(OutPoint(bytes(range(32)), 0), script_sig, seq, witness),),
        (TxOut(1, b"\x51"),),
        locktime,
    )


@fuzz(1500)
@given(
    script_bytes,
    script_bytes,
    stack_items(),
    flag_sets,
    st.sampled_from([1, 2, -1]),
    st.sampled_from([0, 500_000_000]),
    st.sampled_from([0, 0xFFFFFFFE, 0xFFFFFFFF]),
)
def test_check_input_returns_a_script_error(
    script_sig: bytes, spk: bytes, witness: tuple[bytes, ...], flags: int, version: int, locktime: int, seq: int
) -> None:
    tx = _one_input_tx(script_sig, witness, version, locktime, seq)
    spent = [TxOut(5000, spk)]
    result = check_input(tx, 0, spent, flags)
    assert isinstance(result, ScriptError)
    # validation is a pure function of its inputs
    assert check_input(tx, 0, spent, flags, PrecomputedTxData(tx, spent)) == result
    assert transaction_sigop_cost(tx, spent, flags) >= 0


def _base_spends():
    shape = simple_shape(n_inputs=2, index=1, n_outputs=2)
    k = [key_from_index(i) for i in range(3)]
    f = 0x20E15
    return [
        spend_p2pkh(shape, k[0], f),
        spend_p2wpkh(shape, k[0], f),
        spend_p2sh_multisig(shape, k, 2, f),
        spend_p2tr_key(shape, k[1], f),
        spend_p2tr_script_checksig(shape, k[1], k[2], f),
    ]


BASE = _base_spends()


def test_base_spends_are_valid() -> None:
    for case in BASE:
        assert check_input(case.tx, case.index, case.spent, ALL_FLAGS & ~ScriptFlags.DISCOURAGE_UPGRADABLE_PUBKEYTYPE) == ScriptError.OK, case.label


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind == 0 and b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
        elif kind == 2 and b:
            del b[rng.randrange(len(b))]
        elif b:
            b[rng.randrange(len(b))] = rng.choice([0x00, 0x4C, 0x4D, 0x4E, 0x50, 0x63, 0xAC, 0xAE, 0xBA, 0xFF])
    return bytes(b)


@fuzz(1200)
@given(st.sampled_from(range(len(BASE))), st.integers(0, 2**32), flag_sets)
def test_mutated_valid_spends_never_crash(which: int, rng_seed: int, flags: int) -> None:
    """Byte-level damage to scriptSig, witness items or the spent script of a valid spend."""
    case = BASE[which]
    rng = random.Random(rng_seed)
    txin = case.tx.vin[case.index]
    spent = list(case.spent)
    target = rng.randrange(3)
    if target == 0:
        txin = replace(txin, script_sig=_mutate(txin.script_sig, rng))
    elif target == 1 and txin.witness:
        wit = list(txin.witness)
        j = rng.randrange(len(wit))
        wit[j] = _mutate(wit[j], rng)
        if rng.random() < 0.2:
            wit.insert(rng.randrange(len(wit) + 1), _mutate(b"\x50", rng))
        txin = replace(txin, witness=tuple(wit))
    else:
        o = spent[case.index]
        spent[case.index] = replace(o, script_pubkey=_mutate(o.script_pubkey, rng))
    vin = list(case.tx.vin)
    vin[case.index] = txin
    tx = replace(case.tx, vin=tuple(vin), _cache={})
    result = check_input(tx, case.index, spent, flags)
    assert isinstance(result, ScriptError)


@pytest.mark.timeout(120)
def test_large_and_deep_scripts_stay_bounded() -> None:
    """Worst-case shapes finish and fail or pass cleanly: size limit, op limit, deep IF
    nesting, big stacks, many multisig keys, oversized witness items."""
    flags = 0x20E15
    cases = [
        bytes([0x61]) * (MAX_SCRIPT_SIZE + 1),  # SCRIPT_SIZE
        bytes([0x51]) + bytes([0x63]) * 5000 + bytes([0x68]) * 5000,  # deep IF nesting
        bytes([0x51]) * 999 + bytes([0x6F]) * 200,  # 3DUP until stack overflow
        bytes([0x00, 0x00]) + b"".join(bytes([33]) + b"\x02" * 33 for _ in range(20)) + bytes([0x01, 20, 0xAE]) * 1,
        bytes([0x4D, 0x09, 0x02]) + b"\x00" * 521,  # push over 520 bytes
        (bytes([0x51, 0x76, 0xA9, 0x75]) * 60),  # hashing in a loop
    ]
    for spk in cases:
        for wrap in ("bare", "p2wsh"):
            if wrap == "bare":
                tx = _one_input_tx(b"", (), 2, 0, 0xFFFFFFFF)
                spent = [TxOut(1, spk)]
            else:
                from regtest.testing.txgen import p2wsh_script

                tx = _one_input_tx(b"", (b"\x01" * 80,) * 50 + (spk,), 2, 0, 0xFFFFFFFF)
                spent = [TxOut(1, p2wsh_script(spk))]
            assert isinstance(check_input(tx, 0, spent, flags), ScriptError)


def test_documented_argument_errors() -> None:
    case = BASE[0]
    with pytest.raises(IndexError):
        check_input(case.tx, len(case.tx.vin), case.spent, 0)
    with pytest.raises(ValueError):
        check_input(case.tx, 0, case.spent[:1], 0)
