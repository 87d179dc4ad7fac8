"""Bitcoin's wire encoding: compact sizes, length-prefixed byte strings, little-endian integers.

Every decoder in the project reads through `ByteReader`, so truncation, oversize claims and
non-canonical encodings fail in one place with one exception type.
"""

from __future__ import annotations

import struct

MAX_SIZE = 0x02000000  # Core's MAX_SIZE: no compact size or vector may claim more than 32 MiB.

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")


class DeserializationError(ValueError):
    """Raised for any malformed, truncated or oversized encoding."""


class ByteReader:
    """A cursor over immutable bytes with bounds-checked reads."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.data = bytes(data)
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def read(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise DeserializationError(
                f"truncated: wanted {n} bytes at offset {self.pos}, {len(self.data) - self.pos} left"
            )
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def read_u8(self) -> int:
        if self.pos >= len(self.data):
            raise DeserializationError(f"truncated: wanted 1 byte at offset {self.pos}")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def read_u16(self) -> int:
        return _U16.unpack(self.read(2))[0]

    def read_u32(self) -> int:
        return _U32.unpack(self.read(4))[0]

    def read_i32(self) -> int:
        return _I32.unpack(self.read(4))[0]

    def read_u64(self) -> int:
        return _U64.unpack(self.read(8))[0]

    def read_i64(self) -> int:
        return _I64.unpack(self.read(8))[0]

    def read_compact_size(self, range_check: bool = True) -> int:
        """Read a canonical compact size; non-minimal encodings are rejected as Core does."""
        first = self.read_u8()
        if first < 253:
            value = first
        elif first == 253:
            value = self.read_u16()
            if value < 253:
                raise DeserializationError("non-canonical ReadCompactSize()")
        elif first == 254:
            value = self.read_u32()
            if value < 0x10000:
                raise DeserializationError("non-canonical ReadCompactSize()")
        else:
            value = self.read_u64()
            if value < 0x100000000:
                raise DeserializationError("non-canonical ReadCompactSize()")
        if range_check and value > MAX_SIZE:
            raise DeserializationError("ReadCompactSize(): size too large")
        return value

    def read_var_bytes(self) -> bytes:
        n = self.read_compact_size()
        return self.read(n)

    def read_vector_count(self, min_item_size: int) -> int:
        """A count of items that must still fit in the remaining input (bounds memory up front)."""
        n = self.read_compact_size()
        if min_item_size > 0 and n * min_item_size > self.remaining():
            raise DeserializationError(
                f"truncated: {n} items claimed, only {self.remaining()} bytes left"
            )
        return n


def ser_compact_size(n: int) -> bytes:
    if n < 253:
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + _U16.pack(n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + _U32.pack(n)
    return b"\xff" + _U64.pack(n)


def ser_var_bytes(b: bytes) -> bytes:
    return ser_compact_size(len(b)) + b


def ser_u32(n: int) -> bytes:
    return _U32.pack(n)


def ser_i32(n: int) -> bytes:
    return _I32.pack(n)


def ser_u64(n: int) -> bytes:
    return _U64.pack(n)


def ser_i64(n: int) -> bytes:
    return _I64.pack(n)
