"""MuHash3072 as Core computes `gettxoutsetinfo muhash`: every coin (TxOutSer bytes) is hashed
with SHA256, stretched with ChaCha20 into a 3072-bit number, and the numbers are multiplied
modulo 2^3072 - 1103717; the digest is SHA256 of the 384-byte little-endian product."""

from __future__ import annotations

import hashlib
import struct

MODULUS = 2**3072 - 1103717
_SIGMA = struct.unpack("<4I", b"expand 32-byte k")
_MASK = 0xFFFFFFFF


def _rotl(v: int, c: int) -> int:
    return ((v << c) & _MASK) | (v >> (32 - c))


def _quarter(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key: bytes, counter: int, nonce: bytes) -> bytes:
    """One 64-byte ChaCha20 block (RFC 8439 layout: 32-bit counter, 96-bit nonce)."""
    state = [*_SIGMA, *struct.unpack("<8I", key), counter & _MASK, *struct.unpack("<3I", nonce)]
    w = list(state)
    for _ in range(10):
        _quarter(w, 0, 4, 8, 12)
        _quarter(w, 1, 5, 9, 13)
        _quarter(w, 2, 6, 10, 14)
        _quarter(w, 3, 7, 11, 15)
        _quarter(w, 0, 5, 10, 15)
        _quarter(w, 1, 6, 11, 12)
        _quarter(w, 2, 7, 8, 13)
        _quarter(w, 3, 4, 9, 14)
    return struct.pack("<16I", *((x + y) & _MASK for x, y in zip(w, state)))


def to_num3072(data: bytes) -> int:
    key = hashlib.sha256(data).digest()
    stream = b"".join(chacha20_block(key, i, bytes(12)) for i in range(6))
    return int.from_bytes(stream, "little")


class MuHash3072:
    def __init__(self) -> None:
        self.numerator = 1
        self.denominator = 1

    def insert(self, data: bytes) -> None:
        self.numerator = self.numerator * to_num3072(data) % MODULUS

    def remove(self, data: bytes) -> None:
        self.denominator = self.denominator * to_num3072(data) % MODULUS

    def digest(self) -> bytes:
        """Internal byte order (display with the bytes reversed, like any uint256)."""
        value = self.numerator * pow(self.denominator, -1, MODULUS) % MODULUS
        return hashlib.sha256(value.to_bytes(384, "little")).digest()
