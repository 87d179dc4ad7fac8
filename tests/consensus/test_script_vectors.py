"""Core's script_tests.json: every vector evaluated as a spend of a crediting transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regtest.consensus.crypto import NUMS_H, taproot_output_key
from regtest.consensus.witness import TAPROOT_LEAF_TAPSCRIPT, tapleaf_hash
from regtest.consensus.script_error import ScriptError, parse_script_error
from regtest.consensus.script_flags import parse_flags
from regtest.consensus.transaction import COIN, OutPoint, Transaction, TxIn, TxOut, NULL_OUTPOINT
from regtest.consensus.verify import check_input
from tests.consensus.script_notation import parse_script

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "bitcoin-core" / "script_tests.json"


def _cases() -> list:
    params = []
    for i, row in enumerate(json.loads(VECTORS.read_text())):
        if len(row) < 4:
            continue  # comment
        params.append(pytest.param(row, id=f"script-{i}"))
    return params


def _build_witness(items: list) -> tuple[list[bytes], int, bytes | None]:
    """Witness stack, amount and (for tapscript vectors) the taproot output key."""
    *elements, amount = items
    stack: list[bytes] = []
    output_key = None
    for element in elements:
        if element.startswith("#SCRIPT#"):
            stack.append(parse_script(element[len("#SCRIPT#"):]))
        elif element == "#CONTROLBLOCK#":
            leaf = tapleaf_hash(TAPROOT_LEAF_TAPSCRIPT, stack[-1])
            output_key, parity = taproot_output_key(NUMS_H, leaf)
            stack.append(bytes((TAPROOT_LEAF_TAPSCRIPT | parity,)) + NUMS_H)
        else:
            stack.append(bytes.fromhex(element))
    return stack, round(amount * COIN), output_key


def _run(row: list) -> ScriptError:
    witness: list[bytes] = []
    amount = 0
    output_key = None
    if isinstance(row[0], list):
        witness, amount, output_key = _build_witness(row[0])
        row = row[1:]
    sig_text, pubkey_text, flags_text = row[0], row[1], row[2]
    if output_key is not None:
        pubkey_text = pubkey_text.replace("#TAPROOTOUTPUT#", "0x" + output_key.hex())
    script_sig = parse_script(sig_text)
    script_pubkey = parse_script(pubkey_text)
    flags = parse_flags(flags_text)
    credit = Transaction(
        version=1,
        vin=(TxIn(NULL_OUTPOINT, b"\x00\x00"),),
        vout=(TxOut(amount, script_pubkey),),
    )
    spend = Transaction(
        version=1,
        vin=(TxIn(OutPoint(credit.txid, 0), script_sig, witness=tuple(witness)),),
        vout=(TxOut(amount, b""),),
    )
    return check_input(spend, 0, [credit.vout[0]], flags)


@pytest.mark.parametrize("row", _cases())
def test_script_vector(row: list) -> None:
    offset = 1 if isinstance(row[0], list) else 0
    expected = parse_script_error(row[offset + 3])
    got = _run(row)
    assert got == expected, f"expected {expected.name}, got {got.name}: {row}"
