"""Differential: byte-level mutations of valid spends (every standard type), fed to both engines.

Starting from a valid input keeps most mutants close to valid, so they reach deep checks
(signature parsing, control blocks, witness shapes) instead of failing at the first opcode.
"""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import strategies as st

from regtest.consensus.transaction import Transaction
from regtest.testing.keys import key_from_index
from regtest.testing.txgen import (
    Case,
    simple_shape,
    spend_p2pkh,
    spend_p2sh_multisig,
    spend_p2tr_key,
    spend_p2tr_script_checksig,
    spend_p2wpkh,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import flags

_MAGIC = (0x00, 0x01, 0x4C, 0x4D, 0x4E, 0x50, 0x51, 0x63, 0x68, 0x75, 0x87, 0xAC, 0xAE, 0xBA, 0xC0, 0xC1, 0xFF)


def _bases() -> list[Case]:
    k = [key_from_index(i) for i in range(4)]
    out = []
    for n_in, idx, n_out in ((1, 0, 1), (2, 1, 2), (3, 2, 1)):
        shape = simple_shape(n_in, idx, n_out)
        out += [
            spend_p2pkh(shape, k[0], 0),
            spend_p2wpkh(shape, k[1], 0),
            spend_p2sh_multisig(shape, k[:3], 2, 0),
            spend_p2tr_key(shape, k[2], 0),
            spend_p2tr_script_checksig(shape, k[3], k[0], 0),
        ]
    return out


BASES = _bases()


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.randrange(5)
        if kind == 0 and b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            b.insert(rng.randrange(len(b) + 1), rng.choice(_MAGIC))
        elif kind == 2 and b:
            del b[rng.randrange(len(b))]
        elif kind == 3 and b:
            b[rng.randrange(len(b))] = rng.choice(_MAGIC)
        elif b:
            cut = rng.randrange(len(b))
            b = b[:cut] if rng.random() < 0.5 else b[cut:]
    return bytes(b)


@st.composite
def mutated_cases(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from(BASES))
    rng = random.Random(draw(st.integers(0, 2**32)))
    fl = draw(flags())
    txin = base.tx.vin[base.index]
    spent = list(base.spent)
    target = rng.choice(("script_sig", "witness", "witness", "witness_shape", "script_pubkey"))
    if target == "script_sig":
        txin = replace(txin, script_sig=_mutate(txin.script_sig, rng))
    elif target == "witness" and txin.witness:
        wit = list(txin.witness)
        j = rng.randrange(len(wit))
        wit[j] = _mutate(wit[j], rng)
        txin = replace(txin, witness=tuple(wit))
    elif target == "witness_shape":
        wit = list(txin.witness)
        how = rng.randrange(4)
        if how == 0 and wit:
            del wit[rng.randrange(len(wit))]
        elif how == 1:
            wit.insert(rng.randrange(len(wit) + 1), rng.choice([b"", b"\x01", b"\x50", b"\x50\x00", bytes(32)]))
        elif how == 2 and len(wit) > 1:
            i, j = rng.sample(range(len(wit)), 2)
            wit[i], wit[j] = wit[j], wit[i]
        else:
            wit.append(b"\x50" + rng.randbytes(rng.randrange(4)))  # an annex
        txin = replace(txin, witness=tuple(wit))
    else:
        o = spent[base.index]
        spent[base.index] = replace(o, script_pubkey=_mutate(o.script_pubkey, rng))
    vin = list(base.tx.vin)
    vin[base.index] = txin
    tx = Transaction(base.tx.version, tuple(vin), base.tx.vout, base.tx.locktime)
    return Case(tx, base.index, tuple(spent), fl, f"{base.label}/{target}")


def test_mutated_valid_spends_agree_with_core() -> None:
    differential(mutated_cases(), examples=2000, min_valid=100, min_invalid=800)


def test_mutated_valid_spends_general_interpreter_agrees_with_core() -> None:
    """The same with our template fast paths off, so the general interpreter meets Core too."""
    differential(mutated_cases(), examples=800, min_valid=40, min_invalid=300, fast_paths=False)


def test_mutated_valid_spends_python_fast_paths_agree_with_core() -> None:
    """The same with the C accelerator off (the pure-Python fast paths)."""
    differential(mutated_cases(), examples=600, min_valid=30, min_invalid=200, accel=False)
