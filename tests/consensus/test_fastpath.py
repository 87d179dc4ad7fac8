"""Whole-input fast paths (regtest/consensus/fastpath.py) give exactly the general interpreter's
error, on valid template spends and on many mutations of them, under several flag sets."""

from __future__ import annotations

import random

import pytest

from regtest.consensus import checker as chk
from regtest.consensus import fastpath
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ALL_FLAGS, MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from regtest.consensus.transaction import Transaction, TxIn, TxOut
from regtest.consensus.verify import check_input
from regtest.testing.keys import Key
from regtest.testing.mutate import flip_bytes
from regtest.testing.txgen import (
    InputSpec,
    build_signed_tx,
    p2pkh_input,
    p2sh_multisig_input,
    p2tr_key_input,
    p2tr_script_input,
    p2wpkh_input,
)

FLAG_SETS = [
    int(MANDATORY_FLAGS),
    int(STANDARD_FLAGS),
    int(ALL_FLAGS),
    0,
    int(ScriptFlags.P2SH),
    int(ScriptFlags.P2SH | ScriptFlags.WITNESS),
    int(ScriptFlags.P2SH | ScriptFlags.STRICTENC | ScriptFlags.NULLFAIL),
    int(ScriptFlags.P2SH | ScriptFlags.LOW_S | ScriptFlags.WITNESS | ScriptFlags.WITNESS_PUBKEYTYPE),
]


@pytest.fixture(params=[True, False], ids=["accel", "python"])
def accel(request: pytest.FixtureRequest):
    """Run with the C templates (when built) and with the pure-Python fast paths."""
    if request.param and fastpath._ACCEL_MODULE is None:
        pytest.skip("C accelerator not built")
    saved = fastpath.ACCEL
    fastpath.ACCEL = request.param
    yield request.param
    fastpath.ACCEL = saved


def _specs(kind: str, rng: random.Random) -> InputSpec:
    def key() -> Key:
        return Key(rng.randrange(1, 2**255))

    hashtypes = (1, 2, 3, 0x81, 0x82, 0x83)
    if kind == "p2pkh":
        return p2pkh_input(key(), rng.choice(hashtypes))
    if kind == "p2wpkh":
        return p2wpkh_input(key(), rng.choice(hashtypes))
    if kind == "multisig":
        n = rng.randint(1, 4)
        return p2sh_multisig_input([key() for _ in range(n)], rng.randint(1, n), rng.choice(hashtypes))
    if kind == "p2tr-key":
        return p2tr_key_input(key(), rng.choice((0,) + hashtypes))
    return p2tr_script_input(key(), key(), rng.randint(0, 3))


def _mutate(tx: Transaction, spent: tuple[TxOut, ...], rng: random.Random) -> tuple[Transaction, tuple[TxOut, ...]]:
    txin = tx.vin[0]
    what = rng.randrange(7)
    if what == 0 and txin.script_sig:
        txin = TxIn(txin.prevout, flip_bytes(txin.script_sig, rng), txin.sequence, txin.witness)
    elif what in (1, 2) and txin.witness:
        items = list(txin.witness)
        j = rng.randrange(len(items))
        items[j] = flip_bytes(items[j], rng)
        txin = TxIn(txin.prevout, txin.script_sig, txin.sequence, tuple(items))
    elif what == 3 and txin.witness:
        items = list(txin.witness)
        if rng.random() < 0.5:
            items.pop(rng.randrange(len(items)))
        else:
            items.insert(rng.randrange(len(items) + 1), rng.choice((b"", b"\x50\x01", b"\x01" * 64)))
        txin = TxIn(txin.prevout, txin.script_sig, txin.sequence, tuple(items))
    elif what == 4:
        spk = spent[0].script_pubkey
        spent = (TxOut(spent[0].value, flip_bytes(spk, rng)),) + spent[1:]
    elif what == 5:
        spent = (TxOut(spent[0].value + 1, spent[0].script_pubkey),) + spent[1:]
    else:
        extra = b"\x01" if txin.script_sig or rng.random() < 0.5 else b""
        wit = txin.witness if txin.witness else ((b"\x01",) if rng.random() < 0.5 else ())
        txin = TxIn(txin.prevout, txin.script_sig + extra if txin.script_sig else extra, txin.sequence, wit)
    new = Transaction(tx.version, (txin,) + tx.vin[1:], tx.vout, tx.locktime)
    return new, spent


def _both(tx: Transaction, spent: tuple[TxOut, ...], flags: int) -> tuple[ScriptError, ScriptError]:
    fast = check_input(tx, 0, spent, flags)
    chk.FAST_PATHS = False
    try:
        general = check_input(tx, 0, spent, flags)
    finally:
        chk.FAST_PATHS = True
    return fast, general


@pytest.mark.parametrize("kind", ["p2pkh", "p2wpkh", "multisig", "p2tr-key", "p2tr-script"])
def test_fast_paths_match_general_interpreter(kind: str, accel: bool) -> None:
    rng = random.Random(f"fastpath-{kind}")
    outcomes: set[ScriptError] = set()
    for t in range(25):
        outputs = (TxOut(1000, b"\x00\x14" + bytes(20)), TxOut(2000, b"\x51\x20" + bytes(range(32))))
        tx, spent = build_signed_tx([_specs(kind, rng), _specs("p2wpkh", rng)], outputs, seed=t)
        variants = [(tx, spent)] + [_mutate(tx, spent, rng) for _ in range(12)]
        for vtx, vspent in variants:
            for flags in FLAG_SETS:
                fast, general = _both(vtx, vspent, flags)
                assert fast == general, (kind, hex(flags), vtx.serialize().hex(), vspent[0])
                outcomes.add(general)
        assert _both(tx, spent, int(MANDATORY_FLAGS))[0] is ScriptError.OK
    assert ScriptError.OK in outcomes and len(outcomes) >= 4, outcomes


@pytest.mark.parametrize("prefix,size", [(b"\x00\x14", 20), (b"\x51\x20", 32)])
@pytest.mark.parametrize("last", [0x00, 0x80, 0x01, 0x81])
def test_near_zero_witness_programs(prefix: bytes, size: int, last: int, accel: bool) -> None:
    """cast_to_bool of the program: zero and negative zero are false, anything else true."""
    rng = random.Random(7)
    outputs = (TxOut(1000, b"\x00\x14" + bytes(20)),)
    tx, spent = build_signed_tx([_specs("p2wpkh" if size == 20 else "p2tr-key", rng)], outputs, seed=3)
    spk = prefix + bytes(size - 1) + bytes([last])
    for flags in FLAG_SETS:
        fast, general = _both(tx, (TxOut(spent[0].value, spk),), flags)
        assert fast == general
        if flags & ScriptFlags.WITNESS and last in (0x00, 0x80):
            assert general is ScriptError.EVAL_FALSE
