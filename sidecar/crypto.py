"""Keys and signed messages.

Scheme (documented in docs/sidecar.md): BIP340 Schnorr signatures (coincurve) by the miner's key
over `tagged_hash("potc/sidecar/request", method || 0x00 || path || 0x00 || sha256(body))`; the key
is identified by its 32-byte x-only public key.  Binding method and path keeps a signature for one
endpoint from being replayed at another; what is inside the body (cycle, base version) stops replays
across cycles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coincurve import PrivateKey, PublicKeyXOnly

from regtest.consensus.hashes import hash160, sha256, tagged_hash

REQUEST_TAG = "potc/sidecar/request"


class SignatureError(ValueError):
    pass


def request_digest(method: str, path: str, body: bytes) -> bytes:
    return tagged_hash(REQUEST_TAG, method.upper().encode() + b"\0" + path.encode() + b"\0" + sha256(body))


@dataclass(frozen=True)
class Key:
    priv: PrivateKey

    @property
    def xonly(self) -> bytes:
        return self.priv.public_key_xonly.format()

    @property
    def compressed(self) -> bytes:
        return self.priv.public_key.format(compressed=True)

    def sign(self, digest: bytes) -> bytes:
        return self.priv.sign_schnorr(digest, os.urandom(32))

    def sign_request(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """The two headers a signed request carries."""
        return {"X-Potc-Key": self.xonly.hex(), "X-Potc-Sig": self.sign(request_digest(method, path, body)).hex()}

    def p2wpkh_script(self) -> bytes:
        """Default payout: pay-to-witness-pubkey-hash of this key."""
        return b"\x00\x14" + hash160(self.compressed)

    @classmethod
    def generate(cls) -> "Key":
        return cls(PrivateKey())

    @classmethod
    def from_bytes(cls, b: bytes) -> "Key":
        if len(b) != 32:
            raise ValueError("private key must be 32 bytes")
        return cls(PrivateKey(b))


def verify(xonly: bytes, digest: bytes, sig: bytes) -> bool:
    if len(xonly) != 32 or len(sig) != 64 or len(digest) != 32:
        return False
    try:
        return bool(PublicKeyXOnly(xonly).verify(sig, digest))
    except Exception:  # not a valid point: same as a bad signature
        return False


def parse_hex(s: str | None, n: int, what: str) -> bytes:
    if s is None:
        raise SignatureError(f"missing {what}")
    try:
        b = bytes.fromhex(s)
    except ValueError:
        raise SignatureError(f"{what} is not hex") from None
    if len(b) != n:
        raise SignatureError(f"{what} must be {n} bytes")
    return b


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write-to-temp, fsync, rename, fsync the directory: the file is old or new after a crash."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def load_or_create_key(path: Path) -> Key:
    """The key file holds 64 hex characters; it is created (mode 0600) on first run."""
    path = Path(path)
    if path.exists():
        text = path.read_text().strip()
        try:
            return Key.from_bytes(bytes.fromhex(text))
        except ValueError as e:
            raise ValueError(f"bad key file {path}: {e}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Key.generate()
    atomic_write(path, (key.priv.secret.hex() + "\n").encode(), 0o600)
    return key
