"""The oracle itself: Core's engine through `core_oracle` must reproduce Core's own expected
results in script_tests.json for every vector whose flags the kernel accepts. This checks the
wiring the differential tests rely on (transaction bytes, amounts, spent outputs, flags)."""

from __future__ import annotations

import json

from regtest.consensus.crypto import NUMS_H, taproot_output_key
from regtest.consensus.script_flags import parse_flags
from regtest.consensus.transaction import COIN, NULL_OUTPOINT, OutPoint, Transaction, TxIn, TxOut
from regtest.consensus.witness import TAPROOT_LEAF_TAPSCRIPT, tapleaf_hash
from regtest.testing.core_oracle import CORE_FLAGS_MASK, CoreTx, is_valid_combination
from tests.conftest import VECTORS
from tests.consensus.script_notation import parse_script


def _vector_case(row: list) -> tuple[Transaction, TxOut, int, bool] | None:
    """(spending tx, spent output, flags, expected validity), or None where Core's kernel
    cannot take the flags. Every flag only restricts, so a vector valid under its flags stays
    valid under their consensus subset; a failing vector is used only if all its flags are
    consensus flags."""
    witness: list[bytes] = []
    amount = 0
    if isinstance(row[0], list):
        *elements, value = row[0]
        amount = round(value * COIN)
        output_key = None
        for element in elements:
            if element.startswith("#SCRIPT#"):
                witness.append(parse_script(element[len("#SCRIPT#"):]))
            elif element == "#CONTROLBLOCK#":
                output_key, parity = taproot_output_key(NUMS_H, tapleaf_hash(TAPROOT_LEAF_TAPSCRIPT, witness[-1]))
                witness.append(bytes((TAPROOT_LEAF_TAPSCRIPT | parity,)) + NUMS_H)
            else:
                witness.append(bytes.fromhex(element))
        row = row[1:]
        if output_key is not None:
            row = [row[0], row[1].replace("#TAPROOTOUTPUT#", "0x" + output_key.hex()), *row[2:]]
    flags = int(parse_flags(row[2]))
    expected = row[3] == "OK"
    if expected:
        flags &= CORE_FLAGS_MASK
    if not is_valid_combination(flags):
        return None
    spk = parse_script(row[1])
    credit = Transaction(1, (TxIn(NULL_OUTPOINT, b"\x00\x00"),), (TxOut(amount, spk),))
    spend = Transaction(
        1, (TxIn(OutPoint(credit.txid, 0), parse_script(row[0]), witness=tuple(witness)),), (TxOut(amount, b""),)
    )
    return spend, credit.vout[0], flags, expected


def test_core_oracle_reproduces_script_tests() -> None:
    rows = [r for r in json.loads((VECTORS / "bitcoin-core" / "script_tests.json").read_text()) if len(r) >= 4]
    checked = 0
    wrong = []
    for row in rows:
        case = _vector_case(row)
        if case is None:
            continue
        spend, spent, flags, expected = case
        if CoreTx(spend.serialize(), [spent]).verify(0, flags) != expected:
            wrong.append(row)
        checked += 1
    assert not wrong, wrong[:5]
    assert checked > 700, checked
