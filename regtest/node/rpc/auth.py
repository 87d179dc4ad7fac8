"""RPC credentials: the `.cookie` file, rpcuser/rpcpassword and rpcauth (salted HMAC-SHA256).

Every configured method is accepted at once, as Core does; comparisons are timing-safe.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

COOKIE_USER = "__cookie__"
MAX_AUTH_HEADER = 4096


class AuthConfigError(ValueError):
    """A malformed rpcauth entry or unusable credential option."""


@dataclass(frozen=True)
class RpcAuthEntry:
    user: str
    salt: str
    hmac_hex: str

    @classmethod
    def parse(cls, text: str) -> "RpcAuthEntry":
        """`<user>:<salt>$<hmac hex>` as share/rpcauth/rpcauth.py prints it."""
        user, sep, rest = text.partition(":")
        salt, sep2, digest = rest.partition("$")
        if not sep or not sep2 or not user or not salt or len(digest) != 64:
            raise AuthConfigError("Invalid -rpcauth argument.")
        try:
            bytes.fromhex(digest)
        except ValueError:
            raise AuthConfigError("Invalid -rpcauth argument.") from None
        return cls(user, salt, digest.lower())

    def matches(self, user: str, password: str) -> bool:
        mac = hmac.new(self.salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(user.encode(), self.user.encode()) & hmac.compare_digest(
            mac, self.hmac_hex
        )


def make_rpcauth(user: str, password: str, salt: str | None = None) -> str:
    """An rpcauth= line for `user`/`password` (what rpcauth.py would print)."""
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
    return f"{user}:{salt}${digest}"


@dataclass
class Authenticator:
    """Checks `Authorization: Basic ...` headers against all configured credentials."""

    plain: list[tuple[str, str]] = field(default_factory=list)
    rpcauth: list[RpcAuthEntry] = field(default_factory=list)

    def add_plain(self, user: str, password: str) -> None:
        self.plain.append((user, password))

    def check_header(self, header: str | None) -> bool:
        if not header or len(header) > MAX_AUTH_HEADER or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        if not sep:
            return False
        return self.check(user, password)

    def check(self, user: str, password: str) -> bool:
        ok = False
        for u, p in self.plain:
            ok |= hmac.compare_digest(u.encode(), user.encode()) & hmac.compare_digest(
                p.encode(), password.encode()
            )
        for entry in self.rpcauth:
            ok |= entry.matches(user, password)
        return ok


class CookieFile:
    """`__cookie__:<64 hex>` written via a temp file + rename, mode 0600, no newline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.created = False

    def write(self) -> str:
        password = secrets.token_hex(32)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{COOKIE_USER}:{password}")
        os.replace(tmp, self.path)
        self.created = True
        return password

    def remove(self) -> None:
        if self.created:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.created = False


def read_cookie(path: Path) -> tuple[str, str] | None:
    """(user, password) from a cookie file, or None when it is missing or malformed."""
    try:
        text = path.read_text()[:1024]
    except OSError:
        return None
    user, sep, password = text.strip().partition(":")
    return (user, password) if sep else None
