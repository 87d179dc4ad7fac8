"""Transactions: the data model, legacy and segwit (BIP144) serialization, txid and wtxid.

Objects are frozen so their hashes can be cached safely; build a changed copy with
`dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regtest.consensus.hashes import hash_to_hex, sha256d
from regtest.consensus.serialize import (
    ByteReader,
    DeserializationError,
    ser_compact_size,
    ser_i32,
    ser_i64,
    ser_u32,
    ser_var_bytes,
)

COIN = 100_000_000
MAX_MONEY = 21_000_000 * COIN
SEQUENCE_FINAL = 0xFFFFFFFF
NULL_INDEX = 0xFFFFFFFF

# The smallest possible encodings, used to bound claimed counts against the bytes left.
_MIN_TXIN_SIZE = 41
_MIN_TXOUT_SIZE = 9


@dataclass(frozen=True, slots=True)
class OutPoint:
    txid: bytes  # internal (wire) byte order
    n: int

    def serialize(self) -> bytes:
        return self.txid + ser_u32(self.n)

    def is_null(self) -> bool:
        return self.n == NULL_INDEX and self.txid == bytes(32)

    def __str__(self) -> str:
        return f"{hash_to_hex(self.txid)}:{self.n}"


NULL_OUTPOINT = OutPoint(bytes(32), NULL_INDEX)


@dataclass(frozen=True, slots=True)
class TxIn:
    prevout: OutPoint
    script_sig: bytes = b""
    sequence: int = SEQUENCE_FINAL
    witness: tuple[bytes, ...] = ()

    def serialize(self) -> bytes:
        """Serialization without the witness (witnesses are serialized per transaction)."""
        return self.prevout.serialize() + ser_var_bytes(self.script_sig) + ser_u32(self.sequence)


@dataclass(frozen=True, slots=True)
class TxOut:
    value: int
    script_pubkey: bytes

    def serialize(self) -> bytes:
        return ser_i64(self.value) + ser_var_bytes(self.script_pubkey)


@dataclass(frozen=True, slots=True)
class Transaction:
    version: int
    vin: tuple[TxIn, ...]
    vout: tuple[TxOut, ...]
    locktime: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # dataclasses.replace() passes the old cache along: start every object with its own.
        object.__setattr__(self, "_cache", {})

    # --- encoding -------------------------------------------------------------------------
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.vin)

    def serialize_without_witness(self) -> bytes:
        c = self._cache
        raw = c.get("nowit")
        if raw is None:
            parts = [ser_i32(self.version), ser_compact_size(len(self.vin))]
            parts.extend(txin.serialize() for txin in self.vin)
            parts.append(ser_compact_size(len(self.vout)))
            parts.extend(txout.serialize() for txout in self.vout)
            parts.append(ser_u32(self.locktime))
            raw = c["nowit"] = b"".join(parts)
        return raw

    def serialize(self) -> bytes:
        """The full encoding: BIP144 when any input has a witness, legacy otherwise."""
        if not self.has_witness():
            return self.serialize_without_witness()
        c = self._cache
        raw = c.get("wit")
        if raw is None:
            parts = [ser_i32(self.version), b"\x00\x01", ser_compact_size(len(self.vin))]
            parts.extend(txin.serialize() for txin in self.vin)
            parts.append(ser_compact_size(len(self.vout)))
            parts.extend(txout.serialize() for txout in self.vout)
            for txin in self.vin:
                parts.append(ser_compact_size(len(txin.witness)))
                parts.extend(ser_var_bytes(item) for item in txin.witness)
            parts.append(ser_u32(self.locktime))
            raw = c["wit"] = b"".join(parts)
        return raw

    @classmethod
    def parse(cls, data: bytes, allow_witness: bool = True) -> "Transaction":
        """Decode exactly one transaction; trailing bytes are an error."""
        r = ByteReader(data)
        tx = cls.read(r, allow_witness)
        if not r.at_end():
            raise DeserializationError("TX decode failed: trailing data")
        return tx

    @classmethod
    def from_hex(cls, hex_str: str) -> "Transaction":
        try:
            raw = bytes.fromhex(hex_str)
        except ValueError as e:
            raise DeserializationError("TX decode failed: not hex") from e
        return cls.parse(raw)

    @classmethod
    def read(cls, r: ByteReader, allow_witness: bool = True) -> "Transaction":
        """Decode one transaction from a reader, following Core's UnserializeTransaction.

        Encodings are canonical, so the bytes read are exactly what serialize() and
        serialize_without_witness() would produce: they are cached, which makes txid and
        wtxid cost one hash each instead of a re-serialization."""
        start = r.pos
        version = r.read_i32()
        vin = _read_inputs(r)
        flags = 0
        body = (0, 0)  # (start, end) of the inputs and outputs in a BIP144 encoding
        if not vin and allow_witness:
            flags = r.read_u8()
            if flags != 0:
                body_start = r.pos
                vin = _read_inputs(r)
                vout = _read_outputs(r)
                body = (body_start, r.pos)
            else:
                vout = []
        else:
            vout = _read_outputs(r)
        if flags & 1 and allow_witness:
            flags ^= 1
            witnessed = []
            for txin in vin:
                count = r.read_vector_count(1)
                stack = tuple(r.read_var_bytes() for _ in range(count))
                witnessed.append(TxIn(txin.prevout, txin.script_sig, txin.sequence, stack))
            vin = witnessed
            if not any(txin.witness for txin in vin):
                raise DeserializationError("Superfluous witness record")
        if flags:
            raise DeserializationError("Unknown transaction optional data")
        locktime = r.read_u32()
        tx = cls(version, tuple(vin), tuple(vout), locktime)
        data, end = r.data, r.pos
        if body[1]:
            tx._cache["wit"] = data[start:end]
            tx._cache["nowit"] = data[start : start + 4] + data[body[0] : body[1]] + data[end - 4 : end]
        else:
            tx._cache["nowit"] = data[start:end]
        return tx

    # --- identity ---------------------------------------------------------------------------
    @property
    def txid(self) -> bytes:
        c = self._cache
        h = c.get("txid")
        if h is None:
            h = c["txid"] = sha256d(self.serialize_without_witness())
        return h

    @property
    def wtxid(self) -> bytes:
        if not self.has_witness():
            return self.txid
        c = self._cache
        h = c.get("wtxid")
        if h is None:
            h = c["wtxid"] = sha256d(self.serialize())
        return h

    @property
    def txid_hex(self) -> str:
        return hash_to_hex(self.txid)

    @property
    def wtxid_hex(self) -> str:
        return hash_to_hex(self.wtxid)

    # --- sizes ------------------------------------------------------------------------------
    @property
    def total_size(self) -> int:
        return len(self.serialize())

    @property
    def stripped_size(self) -> int:
        return len(self.serialize_without_witness())

    @property
    def weight(self) -> int:
        return self.stripped_size * 3 + self.total_size

    @property
    def vsize(self) -> int:
        return (self.weight + 3) // 4

    def is_coinbase(self) -> bool:
        return len(self.vin) == 1 and self.vin[0].prevout.is_null()


def _read_inputs(r: ByteReader) -> list[TxIn]:
    n = r.read_vector_count(_MIN_TXIN_SIZE)
    out = []
    for _ in range(n):
        txid = r.read(32)
        index = r.read_u32()
        script_sig = r.read_var_bytes()
        sequence = r.read_u32()
        out.append(TxIn(OutPoint(txid, index), script_sig, sequence))
    return out


def _read_outputs(r: ByteReader) -> list[TxOut]:
    n = r.read_vector_count(_MIN_TXOUT_SIZE)
    return [TxOut(r.read_i64(), r.read_var_bytes()) for _ in range(n)]
