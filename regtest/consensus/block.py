"""Block headers and blocks: encoding, hashes, merkle roots, witness commitment, compact bits.

Pure data and arithmetic; the rules that judge blocks live in `block_validation`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from regtest.consensus.hashes import hash_to_hex, sha256d
from regtest.consensus.script import push_int
from regtest.consensus.serialize import (
    ByteReader,
    DeserializationError,
    MAX_SIZE,
    ser_compact_size,
    ser_i32,
    ser_u32,
)
from regtest.consensus.transaction import Transaction, TxOut

HEADER_SIZE = 80
MAX_BLOCK_SERIALIZED_SIZE = 4_000_000
MAX_BLOCK_WEIGHT = 4_000_000
MAX_BLOCK_SIGOPS_COST = 80_000
WITNESS_SCALE_FACTOR = 4
WITNESS_COMMITMENT_HEADER = bytes.fromhex("aa21a9ed")
WITNESS_COMMITMENT_PREFIX = b"\x6a\x24" + WITNESS_COMMITMENT_HEADER
MINIMUM_WITNESS_COMMITMENT = 38
NO_WITNESS_COMMITMENT = -1
_MIN_TX_SIZE = 10  # version + empty vin + empty vout + locktime: bounds a claimed tx count


@dataclass(frozen=True, slots=True)
class BlockHeader:
    version: int  # signed 32-bit, as Core's nVersion
    prev_hash: bytes  # internal byte order
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

    def serialize(self) -> bytes:
        return (
            ser_i32(self.version)
            + self.prev_hash
            + self.merkle_root
            + ser_u32(self.time)
            + ser_u32(self.bits)
            + ser_u32(self.nonce)
        )

    @property
    def hash(self) -> bytes:
        return sha256d(self.serialize())

    @property
    def hash_hex(self) -> str:
        return hash_to_hex(self.hash)

    @classmethod
    def read(cls, r: ByteReader) -> "BlockHeader":
        return cls(r.read_i32(), r.read(32), r.read(32), r.read_u32(), r.read_u32(), r.read_u32())

    @classmethod
    def parse(cls, data: bytes) -> "BlockHeader":
        if len(data) != HEADER_SIZE:
            raise DeserializationError(f"block header must be {HEADER_SIZE} bytes, got {len(data)}")
        return cls.read(ByteReader(data))

    def replace(self, **changes) -> "BlockHeader":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Block:
    header: BlockHeader
    txs: tuple[Transaction, ...]
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # dataclasses.replace() passes the old cache along: start every object with its own.
        object.__setattr__(self, "_cache", {})

    # --- encoding -----------------------------------------------------------------------
    def serialize(self) -> bytes:
        raw = self._cache.get("raw")
        if raw is None:
            parts = [self.header.serialize(), ser_compact_size(len(self.txs))]
            parts.extend(tx.serialize() for tx in self.txs)
            raw = self._cache["raw"] = b"".join(parts)
        return raw

    def serialize_without_witness(self) -> bytes:
        parts = [self.header.serialize(), ser_compact_size(len(self.txs))]
        parts.extend(tx.serialize_without_witness() for tx in self.txs)
        return b"".join(parts)

    @classmethod
    def read(cls, r: ByteReader) -> "Block":
        header = BlockHeader.read(r)
        n = r.read_vector_count(_MIN_TX_SIZE)
        return cls(header, tuple(Transaction.read(r) for _ in range(n)))

    @classmethod
    def parse(cls, data: bytes, max_size: int = MAX_SIZE) -> "Block":
        """Decode exactly one block of at most `max_size` bytes; trailing data is an error."""
        if len(data) > max_size:
            raise DeserializationError(f"block of {len(data)} bytes exceeds {max_size}")
        r = ByteReader(data)
        block = cls.read(r)
        if not r.at_end():
            raise DeserializationError("Block decode failed: trailing data")
        return block

    @classmethod
    def from_hex(cls, hex_str: str) -> "Block":
        try:
            raw = bytes.fromhex(hex_str)
        except ValueError as e:
            raise DeserializationError("Block decode failed: not hex") from e
        return cls.parse(raw)

    # --- identity and size ----------------------------------------------------------------
    @property
    def hash(self) -> bytes:
        h = self._cache.get("hash")
        if h is None:
            h = self._cache["hash"] = self.header.hash
        return h

    @property
    def hash_hex(self) -> str:
        return hash_to_hex(self.hash)

    @property
    def size(self) -> int:
        return len(self.serialize())

    @property
    def stripped_size(self) -> int:
        return len(self.serialize_without_witness())

    @property
    def weight(self) -> int:
        return self.stripped_size * (WITNESS_SCALE_FACTOR - 1) + self.size

    # --- convenience for builders (miners, tests) ----------------------------------------
    def with_txs(self, txs: tuple[Transaction, ...] | list[Transaction]) -> "Block":
        """A copy with other transactions and the merkle root recomputed for them."""
        txs = tuple(txs)
        root, _ = block_merkle_root(txs)
        return Block(self.header.replace(merkle_root=root), txs)

    def with_header(self, **changes) -> "Block":
        return Block(self.header.replace(**changes), self.txs)


# --- merkle trees ---------------------------------------------------------------------------
def compute_merkle_root(hashes: list[bytes]) -> tuple[bytes, bool]:
    """Merkle root and Core's mutation flag (two identical adjacent nodes at any level)."""
    level = list(hashes)
    mutated = False
    while len(level) > 1:
        for pos in range(0, len(level) - 1, 2):
            if level[pos] == level[pos + 1]:
                mutated = True
        if len(level) & 1:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    if not level:
        return bytes(32), mutated
    return level[0], mutated


def block_merkle_root(txs: tuple[Transaction, ...] | list[Transaction]) -> tuple[bytes, bool]:
    return compute_merkle_root([tx.txid for tx in txs])


def witness_merkle_root(txs: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    """Merkle root of wtxids with the coinbase's replaced by zeros (BIP141)."""
    leaves = [bytes(32)] + [tx.wtxid for tx in txs[1:]]
    return compute_merkle_root(leaves)[0]


# --- witness commitment ---------------------------------------------------------------------
def is_witness_commitment_script(script: bytes) -> bool:
    return len(script) >= MINIMUM_WITNESS_COMMITMENT and script[:6] == WITNESS_COMMITMENT_PREFIX


def witness_commitment_index(block: Block) -> int:
    """Index of the last coinbase output that looks like a witness commitment, or -1."""
    pos = NO_WITNESS_COMMITMENT
    if block.txs:
        for i, out in enumerate(block.txs[0].vout):
            if is_witness_commitment_script(out.script_pubkey):
                pos = i
    return pos


def witness_commitment_hash(witness_root: bytes, reserved_value: bytes = bytes(32)) -> bytes:
    return sha256d(witness_root + reserved_value)


def witness_commitment_output(witness_root: bytes, reserved_value: bytes = bytes(32)) -> TxOut:
    return TxOut(0, WITNESS_COMMITMENT_PREFIX + witness_commitment_hash(witness_root, reserved_value))


# --- BIP34 coinbase height --------------------------------------------------------------------
def bip34_height_script(height: int) -> bytes:
    """The script `CScript() << height`: OP_0, OP_1..OP_16, or a minimal number push."""
    return push_int(height)


def decode_bip34_height(script_sig: bytes) -> int | None:
    """The height a coinbase script starts with, if it starts with a canonical height push."""
    if not script_sig:
        return None
    op = script_sig[0]
    if op == 0:
        return 0
    if 0x51 <= op <= 0x60:
        return op - 0x50
    if 1 <= op <= 8 and len(script_sig) > op:
        data = script_sig[1 : 1 + op]
        value = int.from_bytes(data, "little")
        if data[-1] & 0x80:
            value = -(value & ~(0x80 << (8 * (len(data) - 1))))
        if bip34_height_script(value) == script_sig[: 1 + op]:
            return value
    return None


# --- compact difficulty ("nBits") and chain work -------------------------------------------------
_MASK256 = (1 << 256) - 1


def compact_to_target(bits: int) -> tuple[int, bool, bool]:
    """Decode nBits as Core's SetCompact: (target, negative, overflow)."""
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        target = word >> (8 * (3 - size))
    else:
        target = (word << (8 * (size - 3))) & _MASK256
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32))
    return target, negative, overflow


def target_to_compact(target: int, negative: bool = False) -> int:
    """Encode a target as nBits, as Core's GetCompact."""
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = (target << (8 * (3 - size))) & 0xFFFFFFFF
    else:
        compact = (target >> (8 * (size - 3))) & 0xFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    compact |= size << 24
    if negative and compact & 0x007FFFFF:
        compact |= 0x00800000
    return compact


def block_proof(bits: int) -> int:
    """The work a block with these bits adds: 2^256 / (target + 1); 0 for invalid bits."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow or target == 0:
        return 0
    return (1 << 256) // (target + 1)


def check_proof_of_work(block_hash: bytes, bits: int, pow_limit: int) -> bool:
    """Core's CheckProofOfWork: valid bits within the limit and hash (as a number) <= target."""
    target, negative, overflow = compact_to_target(bits)
    if negative or overflow or target == 0 or target > pow_limit:
        return False
    return int.from_bytes(block_hash, "little") <= target
