"""The hash functions consensus uses, in one place (hashlib underneath)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

_sha256 = hashlib.sha256


def sha256(data: bytes) -> bytes:
    return _sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    return _sha256(_sha256(data).digest()).digest()


def ripemd160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


def hash160(data: bytes) -> bytes:
    return ripemd160(sha256(data))


@lru_cache(maxsize=64)
def tag_prefix(tag: str) -> bytes:
    """sha256(tag) twice, the BIP340 tagged-hash prefix (cached: tags are few)."""
    t = sha256(tag.encode())
    return t + t


def tagged_hash(tag: str, data: bytes) -> bytes:
    return _sha256(tag_prefix(tag) + data).digest()


def hash_to_hex(h: bytes) -> str:
    """Display order (byte-reversed), as RPC and block explorers show hashes."""
    return h[::-1].hex()


def hex_to_hash(s: str) -> bytes:
    return bytes.fromhex(s)[::-1]
