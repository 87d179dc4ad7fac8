"""Changing a signed transaction afterwards, to probe what each sighash type commits to, and
random byte-level damage for equivalence tests."""

from __future__ import annotations

import random
from dataclasses import replace

from regtest.consensus.transaction import OutPoint, Transaction, TxOut
from regtest.testing.txgen import Case

#: Edits applied after signing; whether the signature survives depends on the hashtype.
TX_EDITS = (
    "output_value",
    "add_output",
    "drop_output",
    "other_sequence",
    "other_prevout",
    "own_sequence",
    "locktime",
    "version",
    "spent_amount",
    "other_spent_amount",
    "other_spent_script",
)


def edit_after_signing(case: Case, how: str, n: int) -> Case:
    """A copy of `case` with one field changed; edits that do not apply return it unchanged."""
    tx = case.tx
    vin = list(tx.vin)
    vout = list(tx.vout)
    spent = list(case.spent)
    others = [i for i in range(len(vin)) if i != case.index]
    label = f"{case.label}+{how}"
    if how == "output_value" and vout:
        j = n % len(vout)
        vout[j] = replace(vout[j], value=vout[j].value ^ 1)
    elif how == "add_output":
        vout.append(TxOut(n % 100_000, bytes([0x51])))
    elif how == "drop_output" and vout:
        vout.pop()
    elif how == "other_sequence" and others:
        i = others[n % len(others)]
        vin[i] = replace(vin[i], sequence=vin[i].sequence ^ 1)
    elif how == "other_prevout" and others:
        i = others[n % len(others)]
        vin[i] = replace(vin[i], prevout=OutPoint(vin[i].prevout.txid, vin[i].prevout.n ^ 1))
    elif how == "own_sequence":
        i = case.index
        vin[i] = replace(vin[i], sequence=vin[i].sequence ^ 1)
    elif how == "locktime":
        return replace(case, tx=Transaction(tx.version, tx.vin, tx.vout, tx.locktime ^ 1), label=label)
    elif how == "version":
        return replace(case, tx=Transaction(tx.version ^ 4, tx.vin, tx.vout, tx.locktime), label=label)
    elif how == "spent_amount":
        s = spent[case.index]
        spent[case.index] = replace(s, value=s.value ^ 1)
    elif how == "other_spent_amount" and others:
        i = others[n % len(others)]
        spent[i] = replace(spent[i], value=spent[i].value ^ 1)
    elif how == "other_spent_script" and others:
        i = others[n % len(others)]
        spent[i] = replace(spent[i], script_pubkey=spent[i].script_pubkey + b"\x61")
    else:
        return case
    new_tx = Transaction(tx.version, tuple(vin), tuple(vout), tx.locktime)
    return replace(case, tx=new_tx, spent=tuple(spent), label=label)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """One random edit of a script, witness item or signature: a bit flip, truncation, an extra
    byte, a deletion, an opcode-ish byte swapped in, or a different last (hash-type) byte."""
    if not data:
        return b"\x01"
    i = rng.randrange(len(data))
    choice = rng.randrange(6)
    if choice == 0:
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
    if choice == 1:
        return data[:i]
    if choice == 2:
        return data + bytes([rng.randrange(256)])
    if choice == 3:
        return data[:i] + data[i + 1 :]
    if choice == 4:
        return data[:i] + bytes([rng.choice((0x00, 0x01, 0x02, 0x03, 0x4C, 0x50, 0x80, 0x81, 0xC0, 0xAC, 0xFF))]) + data[i + 1 :]
    return data[:-1] + bytes([rng.choice((0, 1, 2, 3, 4, 0x41, 0x81, 0x83, 0x84))])
