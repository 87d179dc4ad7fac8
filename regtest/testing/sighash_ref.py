"""Signature hashes for signing test transactions: thin wrappers over the engine's sighash.

The engine's sighash is pinned by Core's sighash.json vectors; signing with it means a sighash
bug shows up as a verdict disagreement with Core (Core verifies what we signed).
"""

from __future__ import annotations

from collections.abc import Sequence

from regtest.consensus import sighash as _engine
from regtest.consensus.hashes import sha256
from regtest.consensus.serialize import ser_compact_size
from regtest.consensus.transaction import Transaction, TxOut


class UnsignableHashtype(ValueError):
    """Taproot has no message for this hashtype here (undefined type, or SINGLE w/o output)."""


def legacy(script_code: bytes, tx: Transaction, index: int, hashtype: int) -> bytes:
    """Pre-segwit sighash of `script_code` (separators removed; FindAndDelete is the caller's)."""
    return _engine.legacy_sighash(script_code, tx, index, hashtype)


def segwit_v0(script_code: bytes, tx: Transaction, index: int, amount: int, hashtype: int) -> bytes:
    """BIP143 sighash."""
    txdata = _engine.PrecomputedTxData(tx, [TxOut(0, b"")] * len(tx.vin))
    return _engine.segwit_v0_sighash(script_code, tx, index, hashtype, amount, txdata)


def taproot(
    tx: Transaction,
    index: int,
    spent: Sequence[TxOut],
    hashtype: int,
    annex: bytes | None = None,
    leaf_hash: bytes | None = None,
    codesep_pos: int = 0xFFFFFFFF,
) -> bytes:
    """BIP341 message hash (key path when leaf_hash is None, else BIP342 script path)."""
    txdata = _engine.PrecomputedTxData(tx, list(spent))
    annex_hash = None if annex is None else sha256(ser_compact_size(len(annex)) + annex)
    sigversion = _engine.SIGVERSION_TAPROOT if leaf_hash is None else _engine.SIGVERSION_TAPSCRIPT
    msg = _engine.taproot_sighash(txdata, index, hashtype, sigversion, annex_hash, leaf_hash, codesep_pos)
    if msg is None:
        raise UnsignableHashtype(hex(hashtype))
    return msg
