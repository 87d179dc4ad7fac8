"""Byte encodings of coins, UTXO keys and undo records, shared by the store and the UTXO hash.

A coin row key is the txid (internal order) followed by the output index as 4 big-endian bytes,
so SQLite's byte-wise key order is (txid, index) numerically: the order the UTXO hash uses.
"""

from __future__ import annotations

import struct

from regtest.consensus.coins import Coin
from regtest.consensus.serialize import ByteReader, DeserializationError, ser_compact_size
from regtest.consensus.transaction import OutPoint

_KEY = struct.Struct(">I")
_U32LE = struct.Struct("<I")
_I64LE = struct.Struct("<q")

# Bounds on undo records: a block cannot spend more inputs than fit in 4 MB (41 bytes each).
MAX_UNDO_COINS = 4_000_000 // 41
MAX_SCRIPT_SIZE = 4_000_000


def outpoint_key(op: OutPoint) -> bytes:
    return op.txid + _KEY.pack(op.n)


def key_outpoint(key: bytes) -> OutPoint:
    if len(key) != 36:
        raise DeserializationError(f"bad coin key length {len(key)}")
    return OutPoint(key[:32], _KEY.unpack(key[32:])[0])


def height_code(coin: Coin) -> int:
    """Core's coin code: height * 2 + coinbase flag."""
    return coin.height * 2 + (1 if coin.is_coinbase else 0)


def coin_from_row(value: int, script: bytes, code: int) -> Coin:
    return Coin(value, bytes(script), code >> 1, bool(code & 1))


def hash_serialize_coin(op: OutPoint, coin: Coin) -> bytes:
    """One coin as Core's TxOutSer writes it for hash_serialized_3."""
    return b"".join(
        (
            op.txid,
            _U32LE.pack(op.n),
            _U32LE.pack(height_code(coin) & 0xFFFFFFFF),
            _I64LE.pack(coin.value),
            ser_compact_size(len(coin.script_pubkey)),
            coin.script_pubkey,
        )
    )


def serialize_undo(spent: list[tuple[OutPoint, Coin]]) -> bytes:
    """The coins a block removed from the UTXO set, restored in full when it is disconnected."""
    parts = [ser_compact_size(len(spent))]
    for op, coin in spent:
        parts.append(op.txid)
        parts.append(_U32LE.pack(op.n))
        parts.append(ser_compact_size(height_code(coin)))
        parts.append(_I64LE.pack(coin.value))
        parts.append(ser_compact_size(len(coin.script_pubkey)))
        parts.append(coin.script_pubkey)
    return b"".join(parts)


def parse_undo(data: bytes) -> list[tuple[OutPoint, Coin]]:
    r = ByteReader(data)
    n = r.read_compact_size(range_check=False)
    if n > MAX_UNDO_COINS or n * 46 > r.remaining():
        raise DeserializationError(f"undo record claims {n} coins")
    out = []
    for _ in range(n):
        txid = r.read(32)
        index = r.read_u32()
        code = r.read_compact_size(range_check=False)
        value = r.read_i64()
        slen = r.read_compact_size(range_check=False)
        if slen > MAX_SCRIPT_SIZE:
            raise DeserializationError(f"undo script of {slen} bytes")
        script = r.read(slen)
        out.append((OutPoint(txid, index), coin_from_row(value, script, code)))
    if not r.at_end():
        raise DeserializationError("undo record: trailing data")
    return out
