"""Sigop counting as Core's block limit counts it (legacy, P2SH, witness, cost)."""

from __future__ import annotations

from regtest.consensus.hashes import hash160, sha256
from regtest.consensus.script import (
    OP_CHECKMULTISIG,
    OP_CHECKMULTISIGVERIFY,
    OP_CHECKSIG,
    OP_CHECKSIGVERIFY,
    OP_EQUAL,
    OP_HASH160,
    build_script,
)
from regtest.consensus.script_flags import MANDATORY_FLAGS, ScriptFlags
from regtest.consensus.sigops import (
    legacy_sigop_count,
    p2sh_sigop_count,
    script_sigop_count,
    transaction_sigop_cost,
    witness_sigop_count,
)
from regtest.consensus.transaction import NULL_OUTPOINT, OutPoint, Transaction, TxIn, TxOut

PUB = b"\x02" + bytes(32)
MULTI_2_OF_3 = build_script(2, PUB, PUB, PUB, 3, OP_CHECKMULTISIG)


def _p2sh(redeem: bytes) -> bytes:
    return build_script(OP_HASH160, hash160(redeem), OP_EQUAL)


def test_script_counts() -> None:
    assert script_sigop_count(build_script(OP_CHECKSIG, OP_CHECKSIGVERIFY), accurate=False) == 2
    assert script_sigop_count(MULTI_2_OF_3, accurate=True) == 3
    assert script_sigop_count(MULTI_2_OF_3, accurate=False) == 20
    assert script_sigop_count(build_script(OP_CHECKMULTISIGVERIFY), accurate=True) == 20
    # Pushed bytes equal to CHECKSIG are data, not ops; a bad push ends counting silently.
    assert script_sigop_count(build_script(bytes([OP_CHECKSIG])), accurate=False) == 0
    assert script_sigop_count(bytes([OP_CHECKSIG, 0x4C]), accurate=False) == 1
    assert script_sigop_count(bytes([0x4C, OP_CHECKSIG]), accurate=False) == 0


def test_p2sh_counts_redeem_script() -> None:
    spk = _p2sh(MULTI_2_OF_3)
    sig = build_script(b"", b"\x30" * 9, MULTI_2_OF_3)
    assert p2sh_sigop_count(spk, sig) == 3
    assert p2sh_sigop_count(spk, sig + bytes([OP_CHECKSIG])) == 0  # not push-only
    assert p2sh_sigop_count(build_script(OP_CHECKSIG), b"") == 1  # not P2SH: counts the spk


def test_witness_counts() -> None:
    flags = int(MANDATORY_FLAGS)
    assert witness_sigop_count(b"", b"\x00\x14" + bytes(20), (), flags) == 1
    wsh = b"\x00\x20" + sha256(MULTI_2_OF_3)
    assert witness_sigop_count(b"", wsh, (b"", MULTI_2_OF_3), flags) == 3
    assert witness_sigop_count(b"", wsh, (), flags) == 0
    nested = build_script(b"\x00\x14" + bytes(20))
    assert witness_sigop_count(nested, _p2sh(b"\x00\x14" + bytes(20)), (), flags) == 1
    assert witness_sigop_count(b"", b"\x51\x20" + bytes(32), (b"x",), flags) == 0  # taproot: none
    assert witness_sigop_count(b"", b"\x00\x14" + bytes(20), (), int(ScriptFlags.P2SH)) == 0


def test_transaction_cost() -> None:
    spk_legacy = build_script(OP_CHECKSIG)
    wsh = b"\x00\x20" + sha256(MULTI_2_OF_3)
    tx = Transaction(
        2,
        (
            TxIn(OutPoint(b"\x01" * 32, 0), b""),
            TxIn(OutPoint(b"\x02" * 32, 0), build_script(MULTI_2_OF_3)),
            TxIn(OutPoint(b"\x03" * 32, 0), b"", witness=(b"", MULTI_2_OF_3)),
        ),
        (TxOut(1, spk_legacy),),
    )
    spent = [TxOut(1, spk_legacy), TxOut(1, _p2sh(MULTI_2_OF_3)), TxOut(1, wsh)]
    # legacy: output CHECKSIG (1) + scriptSig bytes are one push (0) => 1 * 4
    # P2SH redeem: 3 * 4; witness: 3 (unscaled). Spent scriptPubKeys are not legacy-counted.
    assert legacy_sigop_count(tx) == 1
    assert transaction_sigop_cost(tx, spent, int(MANDATORY_FLAGS)) == 4 + 12 + 3
    assert transaction_sigop_cost(tx, spent, 0) == 4
    coinbase = Transaction(1, (TxIn(NULL_OUTPOINT, b"\x01\x02"),), (TxOut(1, spk_legacy),))
    assert transaction_sigop_cost(coinbase, [], int(MANDATORY_FLAGS)) == 4
