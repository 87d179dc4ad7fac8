"""Core's tx_valid.json / tx_invalid.json with Core's current flag semantics.

tx_valid lists flags to EXCLUDE: the transaction is valid under every other flag, stays valid
when any further flag is removed, and fails when any single excluded flag is put back.
tx_invalid lists the flags under which it must fail (or BADTX: CheckTransaction rejects it);
adding flags keeps it invalid, and removing any single listed flag makes it valid.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from regtest.consensus.hashes import hex_to_hash
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ALL_FLAGS, ScriptFlags, parse_flags
from regtest.consensus.sighash import PrecomputedTxData
from regtest.consensus.transaction import OutPoint, Transaction, TxOut
from regtest.consensus.tx_check import TxValidationError, check_transaction
from regtest.consensus.verify import check_input
from tests.consensus.script_notation import parse_script

VECTOR_DIR = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "bitcoin-core"
FLAG_BITS = [f for f in ScriptFlags if f.value]


def _cases(name: str) -> list:
    params = []
    for i, row in enumerate(json.loads((VECTOR_DIR / name).read_text())):
        if isinstance(row[0], list):
            params.append(pytest.param(row, id=f"{name.split('.')[0]}-{i}"))
    return params


def _trim(flags: int) -> int:
    if not flags & ScriptFlags.P2SH:
        flags &= ~ScriptFlags.WITNESS
    if not flags & ScriptFlags.WITNESS:
        flags &= ~ScriptFlags.CLEANSTACK
    return flags


def _fill(flags: int) -> int:
    if flags & ScriptFlags.CLEANSTACK:
        flags |= ScriptFlags.WITNESS
    if flags & ScriptFlags.WITNESS:
        flags |= ScriptFlags.P2SH
    return flags


def _exclude_individual(flags: int) -> set[int]:
    combos = set()
    for bit in FLAG_BITS:
        reduced = _trim(flags & ~bit)
        if reduced != flags:
            combos.add(reduced)
    return combos


class _Vector:
    """A parsed vector: the transaction and the coins its inputs spend."""

    def __init__(self, row: list) -> None:
        prevouts: dict[OutPoint, TxOut] = {}
        for entry in row[0]:
            outpoint = OutPoint(hex_to_hash(entry[0]), entry[1] & 0xFFFFFFFF)
            amount = entry[3] if len(entry) >= 4 else 0
            prevouts[outpoint] = TxOut(amount, parse_script(entry[2]))
        self.tx = Transaction.from_hex(row[1])
        self.flags_text = row[2]
        self.spent = [prevouts[txin.prevout] for txin in self.tx.vin]
        self.txdata = PrecomputedTxData(self.tx, self.spent)

    def first_error(self, flags: int) -> ScriptError:
        """ScriptError.OK if every input passes, else the first failing input's error."""
        for i in range(len(self.tx.vin)):
            err = check_input(self.tx, i, self.spent, flags, self.txdata)
            if err != ScriptError.OK:
                return err
        return ScriptError.OK


@pytest.mark.parametrize("row", _cases("tx_valid.json"))
def test_tx_valid(row: list) -> None:
    v = _Vector(row)
    check_transaction(v.tx)
    excluded = int(parse_flags(v.flags_text))
    active = ALL_FLAGS & ~excluded
    assert active == _fill(active), "bad test flags"
    assert v.first_error(active) == ScriptError.OK
    rng = random.Random(v.flags_text + row[1][:64])
    for bit in FLAG_BITS:
        assert v.first_error(_trim(ALL_FLAGS & ~(excluded | bit))) == ScriptError.OK, bit.name
        random_bits = rng.getrandbits(len(FLAG_BITS))
        assert v.first_error(_trim(ALL_FLAGS & ~(excluded | random_bits))) == ScriptError.OK
    for flags in _exclude_individual(excluded):
        assert v.first_error(ALL_FLAGS & ~flags) != ScriptError.OK, "flags are not maximal"


@pytest.mark.parametrize("row", _cases("tx_invalid.json"))
def test_tx_invalid(row: list) -> None:
    v = _Vector(row)
    try:
        check_transaction(v.tx)
    except TxValidationError:
        assert v.flags_text == "BADTX"
        return
    assert v.flags_text != "BADTX", "expected CheckTransaction to fail"
    flags = int(parse_flags(v.flags_text))
    assert flags == _fill(flags), "bad test flags"
    assert v.first_error(flags) != ScriptError.OK
    rng = random.Random(v.flags_text + row[1][:64])
    for bit in FLAG_BITS:
        assert v.first_error(_fill(flags | bit)) != ScriptError.OK, bit.name
        assert v.first_error(_fill(flags | rng.getrandbits(len(FLAG_BITS)))) != ScriptError.OK
    for reduced in _exclude_individual(flags):
        assert v.first_error(reduced) == ScriptError.OK, "flags are not minimal"
