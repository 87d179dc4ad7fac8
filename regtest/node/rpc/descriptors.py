"""Output descriptors (BIP380-386) for the RPCs that take one: non-ranged, single-path
descriptors parsed to their output scripts, with Core's canonical text and Core's error strings.

Supported: raw, addr, pk, pkh, wpkh, combo, multi/sortedmulti (bare, sh, wsh, sh(wsh)),
sh(...), wsh(...), tr(KEY) and tr(KEY,TREE) with pk/multi_a/sortedmulti_a leaves, rawtr.
Keys: hex public keys (33/65 bytes; 32-byte x-only inside tr), WIF private keys, an optional
`[fingerprint/path]` origin. Extended keys (xpub/xprv, hence ranged descriptors), musig()
and miniscript are refused with a clear error. The BIP380 checksum is scriptjson's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import coincurve

from regtest.consensus.address import (
    AddressError,
    AddressPrefixes,
    b58check_decode,
    decode_address,
    p2pkh_script,
    p2sh_script,
    script_to_address,
    witness_script,
)
from regtest.consensus.crypto import taproot_output_key
from regtest.consensus.hashes import hash160, sha256, tagged_hash
from regtest.consensus.serialize import ser_compact_size
from regtest.node.rpc.scriptjson import descriptor_checksum

MAX_DESCRIPTOR_LENGTH = 16_384  # characters; longer input is refused before any parsing
MAX_PUBKEYS_PER_MULTISIG = 20
MAX_PUBKEYS_PER_MULTI_A = 999
MAX_SCRIPT_ELEMENT_SIZE = 520
TAPROOT_CONTROL_MAX_NODE_COUNT = 128
_SPACE = " \f\n\r\t\v"
_HEX = set("0123456789abcdefABCDEF")
_EXT_KEY_VERSIONS = {bytes.fromhex(v) for v in ("0488b21e", "0488ade4", "043587cf", "04358394")}


class DescriptorError(ValueError):
    """A descriptor Core would refuse; the message is Core's parse error text."""


class Ctx(Enum):
    TOP = "top"
    P2SH = "p2sh"
    P2WPKH = "p2wpkh"
    P2WSH = "p2wsh"
    P2TR = "p2tr"


@dataclass(frozen=True)
class Key:
    """One key expression: `pub` is the 33/65-byte key; `xonly` says it prints as 32 bytes."""

    pub: bytes
    xonly: bool
    origin: str  # "[fingerprint/path]" as Core prints it, or ""
    private: bool

    def __str__(self) -> str:
        return self.origin + (self.pub[1:33].hex() if self.xonly else self.pub.hex())

    @property
    def xonly_bytes(self) -> bytes:
        return self.pub[1:33]


@dataclass(frozen=True)
class Descriptor:
    """A parsed descriptor: canonical public text (no checksum) and its output scripts."""

    text: str
    scripts: tuple[bytes, ...]  # combo gives several; every other form exactly one
    solvable: bool
    has_private_keys: bool
    is_combo: bool = False
    is_range: bool = False  # always False: ranged descriptors are not supported

    @property
    def with_checksum(self) -> str:
        return f"{self.text}#{descriptor_checksum(self.text)}"

    def mining_script(self) -> bytes:
        """The one script generatetodescriptor/generateblock pay to (Core: combo of a compressed
        key gives P2WPKH, of an uncompressed key P2PKH)."""
        if len(self.scripts) == 4:
            return self.scripts[2]
        if len(self.scripts) == 2:
            return self.scripts[1]
        return self.scripts[0]


# --- checksum -----------------------------------------------------------------------------------
def checksum_of(text: str) -> str:
    """BIP380 checksum of `text`; DescriptorError for characters outside the charset."""
    try:
        return descriptor_checksum(text)
    except KeyError:
        raise DescriptorError("Invalid characters in payload") from None


def split_checksum(text: str, require: bool) -> tuple[str, str]:
    """Core's CheckChecksum: (descriptor without '#...', its computed checksum)."""
    parts = text.split("#")
    if len(parts) > 2:
        raise DescriptorError("Multiple '#' symbols")
    if len(parts) == 1 and require:
        raise DescriptorError("Missing checksum")
    if len(parts) == 2 and len(parts[1]) != 8:
        raise DescriptorError(f"Expected 8 character checksum, not {len(parts[1])} characters")
    computed = checksum_of(parts[0])
    if len(parts) == 2 and parts[1] != computed:
        raise DescriptorError(
            f"Provided checksum '{parts[1]}' does not match computed checksum '{computed}'")
    return parts[0], computed


# --- the tokenizer (Core's Expr / Func / Const on a string cursor) ------------------------------
class _Span:
    def __init__(self, text: str) -> None:
        self.text = text

    def __bool__(self) -> bool:
        return bool(self.text)

    def const(self, s: str) -> bool:
        if self.text.startswith(s):
            self.text = self.text[len(s):]
            return True
        return False

    def expr(self) -> str:
        """Consume up to the first ',' / ')' / '}' outside brackets."""
        level, i, t = 0, 0, self.text
        while i < len(t):
            c = t[i]
            if c in "({":
                level += 1
            elif level and c in ")}":
                level -= 1
            elif level == 0 and c in ")},":
                break
            i += 1
        out, self.text = t[:i], t[i:]
        return out


def _func(name: str, expr: str) -> str | None:
    """The argument text of `name(...)`, or None when `expr` is not that call."""
    if len(expr) >= len(name) + 2 and expr.startswith(name + "(") and expr.endswith(")"):
        return expr[len(name) + 1 : -1]
    return None


def _is_hex(s: str) -> bool:
    return bool(s) and len(s) % 2 == 0 and all(c in _HEX for c in s)


# --- keys ---------------------------------------------------------------------------------------
def _fully_valid(data: bytes) -> bool:
    try:
        coincurve.PublicKey(data)
        return True
    except (ValueError, TypeError):
        return False


def _header_len_ok(data: bytes) -> bool:
    """CPubKey::IsValid: the first byte names this length."""
    if not data:
        return False
    return (data[0] in (2, 3) and len(data) == 33) or (data[0] in (4, 6, 7) and len(data) == 65)


def _decode_wif(text: str, prefixes: AddressPrefixes) -> tuple[bytes, bool] | None:
    """(secret, compressed) of a WIF key for this chain, or None."""
    if len(text) > 60:
        return None
    try:
        raw = b58check_decode(text)
    except (AddressError, ValueError):
        return None
    version = 128 if prefixes.p2pkh == 0 else 239
    if not raw or raw[0] != version:
        return None
    body = raw[1:]
    if len(body) == 33 and body[32] == 1:
        return body[:32], True
    if len(body) == 32:
        return body, False
    return None


def _is_ext_key(text: str) -> bool:
    if len(text) > 120:
        return False
    try:
        raw = b58check_decode(text)
    except (AddressError, ValueError):
        return False
    return len(raw) == 78 and raw[:4] in _EXT_KEY_VERSIONS


def _parse_path(elems: list[str]) -> tuple[str, bool]:
    """Key-origin path elements -> ("/1h/2", used apostrophe); Core's ParseKeyPath errors."""
    out, apostrophe = [], False
    for e in elems:
        hardened = e.endswith(("'", "h"))
        if hardened:
            apostrophe = apostrophe or e.endswith("'")
            e = e[:-1]
        if not e.isdigit() or not e.isascii() or len(e) > 10 or int(e) > 0xFFFFFFFF:
            raise DescriptorError(f"Key path value '{e}' is not a valid uint32")
        n = int(e)
        if n >= 1 << 31:
            raise DescriptorError(f"Key path value {n} is out of range")
        out.append((n, hardened))
    mark = "'" if apostrophe else "h"
    return "".join(f"/{n}{mark if h else ''}" for n, h in out), apostrophe


def parse_key(text: str, ctx: Ctx, prefixes: AddressPrefixes) -> Key:
    """Core's ParsePubkey for the key forms potcd supports."""
    if text.startswith("musig("):
        if ctx is not Ctx.P2TR:
            raise DescriptorError("musig() is only allowed in tr() and rawtr()")
        raise DescriptorError("musig() keys are not supported by potcd")
    origin = ""
    pieces = text.split("]")
    if len(pieces) > 2:
        raise DescriptorError("Multiple ']' characters found for a single pubkey")
    if len(pieces) == 2:
        head = pieces[0]
        if not head or head[0] != "[":
            got = "]" if not head else head[0]
            raise DescriptorError(
                f"Key origin start '[ character expected but not found, got '{got}' instead")
        parts = head[1:].split("/")
        if len(parts[0]) != 8:
            raise DescriptorError(
                f"Fingerprint is not 4 bytes ({len(parts[0])} characters instead of 8 characters)")
        if not _is_hex(parts[0]):
            raise DescriptorError(f"Fingerprint '{parts[0]}' is not hex")
        path, _ = _parse_path(parts[1:])
        origin = f"[{parts[0].lower()}{path}]"
        text = pieces[1]
    return _parse_key_inner(text, ctx, prefixes, origin)


def _parse_key_inner(text: str, ctx: Ctx, prefixes: AddressPrefixes, origin: str) -> Key:
    permit_uncompressed = ctx in (Ctx.TOP, Ctx.P2SH)
    split = text.split("/")
    s = split[0]
    if not s:
        raise DescriptorError("No key provided")
    if s[0] in _SPACE or s[-1] in _SPACE:
        raise DescriptorError(f"Key '{s}' is invalid due to whitespace")
    if len(split) == 1:
        if _is_hex(s):
            data = bytes.fromhex(s)
            if _header_len_ok(data) and data[0] in (6, 7):
                raise DescriptorError("Hybrid public keys are not allowed")
            if _header_len_ok(data) and _fully_valid(data):
                if permit_uncompressed or len(data) == 33:
                    return Key(data, False, origin, False)
                raise DescriptorError("Uncompressed keys are not allowed")
            if len(data) == 32 and ctx is Ctx.P2TR and _fully_valid(b"\x02" + data):
                return Key(b"\x02" + data, True, origin, False)
            raise DescriptorError(f"Pubkey '{s}' is invalid")
        wif = _decode_wif(s, prefixes)
        if wif is not None:
            secret, compressed = wif
            try:
                pub = coincurve.PrivateKey(secret).public_key.format(compressed=compressed)
            except (ValueError, TypeError):
                pub = None
            if pub is not None:
                if permit_uncompressed or compressed:
                    return Key(pub, ctx is Ctx.P2TR, origin, True)
                raise DescriptorError("Uncompressed keys are not allowed")
    if _is_ext_key(s):
        raise DescriptorError(
            f"key '{s}' is an extended key (xpub/xprv); potcd supports only hex public keys and "
            "WIF private keys in descriptors")
    raise DescriptorError(f"key '{s}' is not valid")


# --- scripts ------------------------------------------------------------------------------------
def _push(data: bytes) -> bytes:
    n = len(data)
    if n < 0x4C:
        return bytes([n]) + data
    if n <= 0xFF:
        return bytes([0x4C, n]) + data
    return bytes([0x4D]) + n.to_bytes(2, "little") + data


def _push_int(n: int) -> bytes:
    if n == 0:
        return b"\x00"
    if 1 <= n <= 16:
        return bytes([0x50 + n])
    body = n.to_bytes((n.bit_length() + 8) // 8, "little")  # sign bit kept clear
    return _push(body)


def _pk_script(key: Key, tapscript: bool = False) -> bytes:
    return _push(key.xonly_bytes if tapscript else key.pub) + b"\xac"


def _multi_script(k: int, keys: list[Key], sort: bool) -> bytes:
    pubs = sorted(key.pub for key in keys) if sort else [key.pub for key in keys]
    return _push_int(k) + b"".join(_push(p) for p in pubs) + _push_int(len(pubs)) + b"\xae"


def _multi_a_script(k: int, keys: list[Key], sort: bool) -> bytes:
    pubs = sorted(key.xonly_bytes for key in keys) if sort else [key.xonly_bytes for key in keys]
    out = b""
    for i, p in enumerate(pubs):
        out += _push(p) + (b"\xac" if i == 0 else b"\xba")
    return out + _push_int(k) + b"\x9c"


@dataclass(frozen=True)
class _Node:
    """A parsed sub-expression: its text, its script(s), solvability and private-key use."""

    text: str
    scripts: tuple[bytes, ...]
    solvable: bool = True
    private: bool = False


class _Parser:
    def __init__(self, prefixes: AddressPrefixes) -> None:
        self.prefixes = prefixes
        self.private = False

    def key(self, text: str, ctx: Ctx, func: str) -> Key:
        try:
            k = parse_key(text, ctx, self.prefixes)
        except DescriptorError as e:
            raise DescriptorError(f"{func}: {e}") from None
        self.private = self.private or k.private
        return k

    def script(self, sp: _Span, ctx: Ctx) -> _Node:
        expr = sp.expr()
        if (arg := _func("pk", expr)) is not None:
            k = self.key(arg, ctx, "pk()")
            return _Node(f"pk({k})", (_pk_script(k, ctx is Ctx.P2TR),))
        if (arg := _func("pkh", expr)) is not None and ctx in (Ctx.TOP, Ctx.P2SH, Ctx.P2WSH):
            k = self.key(arg, ctx, "pkh()")
            return _Node(f"pkh({k})", (p2pkh_script(hash160(k.pub)),))
        if (arg := _func("combo", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have combo() at top level")
            k = self.key(arg, ctx, "combo()")
            scripts = [_pk_script(k), p2pkh_script(hash160(k.pub))]
            if len(k.pub) == 33:
                wpkh = witness_script(0, hash160(k.pub))
                scripts += [wpkh, p2sh_script(hash160(wpkh))]
            return _Node(f"combo({k})", tuple(scripts))
        for name in ("multi", "sortedmulti", "multi_a", "sortedmulti_a"):
            if (arg := _func(name, expr)) is not None:
                return self.multi(name, arg, ctx)
        if (arg := _func("wpkh", expr)) is not None:
            if ctx not in (Ctx.TOP, Ctx.P2SH):
                raise DescriptorError("Can only have wpkh() at top level or inside sh()")
            k = self.key(arg, Ctx.P2WPKH, "wpkh()")
            return _Node(f"wpkh({k})", (witness_script(0, hash160(k.pub)),))
        if (arg := _func("sh", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have sh() at top level")
            inner_sp = _Span(arg)
            inner = self.script(inner_sp, Ctx.P2SH)
            if inner_sp:
                raise DescriptorError("")
            return _Node(f"sh({inner.text})", (p2sh_script(hash160(inner.scripts[0])),), inner.solvable)
        if (arg := _func("wsh", expr)) is not None:
            if ctx not in (Ctx.TOP, Ctx.P2SH):
                raise DescriptorError("Can only have wsh() at top level or inside sh()")
            inner_sp = _Span(arg)
            inner = self.script(inner_sp, Ctx.P2WSH)
            if inner_sp:
                raise DescriptorError("")
            return _Node(f"wsh({inner.text})", (witness_script(0, sha256(inner.scripts[0])),))
        if (arg := _func("addr", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have addr() at top level")
            try:
                script = decode_address(arg, self.prefixes).script_pubkey
            except AddressError:
                raise DescriptorError("Address is not valid") from None
            return _Node(f"addr({script_to_address(script, self.prefixes)})", (script,), False)
        if (arg := _func("tr", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have tr at top level")
            return self.tr(arg)
        if (arg := _func("rawtr", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have rawtr at top level")
            sp2 = _Span(arg)
            karg = sp2.expr()
            if sp2:
                raise DescriptorError("rawtr(): only one key expected.")
            k = self.key(karg, Ctx.P2TR, "rawtr()")
            return _Node(f"rawtr({k})", (b"\x51\x20" + k.xonly_bytes,))
        if (arg := _func("raw", expr)) is not None:
            if ctx is not Ctx.TOP:
                raise DescriptorError("Can only have raw() at top level")
            if not _is_hex(arg):
                raise DescriptorError("Raw script is not hex")
            return _Node(f"raw({arg.lower()})", (bytes.fromhex(arg),), False)
        if ctx in (Ctx.P2WSH, Ctx.P2TR) and re.fullmatch(r"[a-z_:]+\(.*\)", expr, re.S):
            raise DescriptorError(f"Miniscript expression '{expr}' is not supported by potcd")
        if ctx is Ctx.P2SH:
            raise DescriptorError("A function is needed within P2SH")
        if ctx is Ctx.P2WSH:
            raise DescriptorError("A function is needed within P2WSH")
        raise DescriptorError(f"'{expr}' is not a valid descriptor function")

    def multi(self, name: str, arg: str, ctx: Ctx) -> _Node:
        tapscript = name.endswith("_a")
        if tapscript and ctx is not Ctx.P2TR:
            raise DescriptorError("Can only have multi_a/sortedmulti_a inside tr()")
        if not tapscript and ctx not in (Ctx.TOP, Ctx.P2SH, Ctx.P2WSH):
            raise DescriptorError("Can only have multi/sortedmulti at top level, in sh(), or in wsh()")
        sp = _Span(arg)
        thres_text = sp.expr()
        if not (thres_text.isascii() and thres_text.isdigit() and len(thres_text) <= 10
                and int(thres_text) <= 0xFFFFFFFF):
            raise DescriptorError(f"Multi threshold '{thres_text}' is not valid")
        thres = int(thres_text)
        keys: list[Key] = []
        limit = MAX_PUBKEYS_PER_MULTI_A if tapscript else MAX_PUBKEYS_PER_MULTISIG
        n = 0
        while sp:
            if not sp.const(","):
                raise DescriptorError(f"Multi: expected ',', got '{sp.text[0]}'")
            key_text = sp.expr()
            n += 1
            if n <= limit:  # past the limit only count: the count error below follows Core
                keys.append(self.key(key_text, ctx, "Multi"))
        if not tapscript and not 1 <= n <= MAX_PUBKEYS_PER_MULTISIG:
            raise DescriptorError(f"Cannot have {n} keys in multisig; must have between 1 and "
                                  f"{MAX_PUBKEYS_PER_MULTISIG} keys, inclusive")
        if tapscript and not 1 <= n <= MAX_PUBKEYS_PER_MULTI_A:
            raise DescriptorError(f"Cannot have {n} keys in multi_a; must have between 1 and "
                                  f"{MAX_PUBKEYS_PER_MULTI_A} keys, inclusive")
        if thres < 1:
            raise DescriptorError(f"Multisig threshold cannot be {thres}, must be at least 1")
        if thres > n:
            raise DescriptorError("Multisig threshold cannot be larger than the number of keys; "
                                  f"threshold is {thres} but only {n} keys specified")
        if ctx is Ctx.TOP and n > 3:
            raise DescriptorError(f"Cannot have {n} pubkeys in bare multisig; only at most 3 pubkeys")
        if ctx is Ctx.P2SH:
            size = sum(len(k.pub) + 1 for k in keys) + 3
            if size > MAX_SCRIPT_ELEMENT_SIZE:
                raise DescriptorError(f"P2SH script is too large, {size} bytes is larger than "
                                      f"{MAX_SCRIPT_ELEMENT_SIZE} bytes")
        sort = name.startswith("sorted")
        script = _multi_a_script(thres, keys, sort) if tapscript else _multi_script(thres, keys, sort)
        return _Node(f"{name}({thres}," + ",".join(str(k) for k in keys) + ")", (script,))

    def tr(self, arg: str) -> _Node:
        sp = _Span(arg)
        internal = self.key(sp.expr(), Ctx.P2TR, "tr()")
        if not sp:
            out, _ = taproot_output_key(internal.xonly_bytes, None)
            return _Node(f"tr({internal})", (b"\x51\x20" + out,))
        if not sp.const(","):
            raise DescriptorError(f"tr: expected ',', got '{sp.text[0]}'")
        text, root = self.tap_tree(sp, 0)
        if sp:
            raise DescriptorError("tr(): expected ')' after script expression")
        out, _ = taproot_output_key(internal.xonly_bytes, root)
        return _Node(f"tr({internal},{text})", (b"\x51\x20" + out,))

    def tap_tree(self, sp: _Span, depth: int) -> tuple[str, bytes]:
        """One tree node: `{left,right}` or a leaf script; (text, node hash)."""
        if sp.const("{"):
            if depth + 1 > TAPROOT_CONTROL_MAX_NODE_COUNT:
                raise DescriptorError(
                    f"tr() supports at most {TAPROOT_CONTROL_MAX_NODE_COUNT} nesting levels")
            left_text, left = self.tap_tree(sp, depth + 1)
            if not sp.const(","):
                raise DescriptorError("tr(): expected ',' after script expression")
            right_text, right = self.tap_tree(sp, depth + 1)
            if not sp.const("}"):
                raise DescriptorError("tr(): expected '}' after script expression")
            a, b = sorted((left, right))
            return "{" + left_text + "," + right_text + "}", tagged_hash("TapBranch", a + b)
        leaf_sp = _Span(sp.expr())
        leaf = self.script(leaf_sp, Ctx.P2TR)
        script = leaf.scripts[0]
        return leaf.text, tagged_hash("TapLeaf", b"\xc0" + ser_compact_size(len(script)) + script)


def parse_descriptor(text: str, prefixes: AddressPrefixes, require_checksum: bool = False) -> Descriptor:
    """Parse `text` (optionally ending in '#checksum') as Core's Parse would; DescriptorError with
    Core's message otherwise (an empty message where Core gives none: text after the end)."""
    if len(text) > MAX_DESCRIPTOR_LENGTH:
        raise DescriptorError(
            f"Descriptor is too long ({len(text)} characters; at most {MAX_DESCRIPTOR_LENGTH})")
    body, _ = split_checksum(text, require_checksum)
    parser = _Parser(prefixes)
    sp = _Span(body)
    node = parser.script(sp, Ctx.TOP)
    if sp:
        raise DescriptorError("")
    return Descriptor(node.text, node.scripts, node.solvable, parser.private,
                      is_combo=node.text.startswith("combo("))
