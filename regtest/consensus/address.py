"""Addresses: Base58Check and Bech32/Bech32m encodings, and the standard output-script shapes.

Pure functions, no I/O. `classify` names an output script the way Core's solver does
(`pubkeyhash`, `witness_v0_keyhash`, ...); `script_to_address` / `address_to_script` convert
between scripts and the text form of a network with the given prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

from regtest.consensus.hashes import sha256d

# --- network prefixes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressPrefixes:
    """What a network's addresses look like (Core's regtest: bcrt / 111 / 196)."""

    hrp: str
    p2pkh: int
    p2sh: int


REGTEST_PREFIXES = AddressPrefixes(hrp="bcrt", p2pkh=111, p2sh=196)
MAIN_PREFIXES = AddressPrefixes(hrp="bc", p2pkh=0, p2sh=5)
TESTNET_PREFIXES = AddressPrefixes(hrp="tb", p2pkh=111, p2sh=196)

MAX_ADDRESS_LENGTH = 100  # longer input is refused before any decoding work


class AddressError(ValueError):
    """An address that does not decode; the message is Core's validateaddress error text."""

    def __init__(self, message: str, locations: list[int] | None = None) -> None:
        super().__init__(message)
        self.locations = locations or []


# --- base58 ------------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise ValueError("invalid base58 character")
        n = n * 58 + _B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def b58check_encode(version: int, payload: bytes) -> str:
    data = bytes([version]) + payload
    return b58encode(data + sha256d(data)[:4])


def b58check_decode(text: str) -> bytes:
    """Version byte + payload; ValueError on a bad character or checksum."""
    raw = b58decode(text)
    if len(raw) < 4 or sha256d(raw[:-4])[:4] != raw[-4:]:
        raise ValueError("bad base58 checksum")
    return raw[:-4]


# --- bech32 / bech32m (BIP173, BIP350) ---------------------------------------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(_CHARSET)}
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


# XOR of the generators selected by each 5-bit value of the top bits: one lookup per symbol.
_GEN_TABLE = [0] * 32
for _top in range(32):
    for _i in range(5):
        if (_top >> _i) & 1:
            _GEN_TABLE[_top] ^= _GEN[_i]


def _polymod(values: list[int]) -> int:
    chk = 1
    table = _GEN_TABLE
    for v in values:
        chk = (((chk & 0x1FFFFFF) << 5) ^ v) ^ table[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    values = _hrp_expand(hrp) + data
    pm = _polymod(values + [0] * 6) ^ const
    checksum = [(pm >> (5 * (5 - i))) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], int]:
    """(hrp, data without checksum, constant used); ValueError when it is not bech32(m)."""
    if len(text) > 90:
        raise ValueError("bech32 string too long")
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise ValueError("bad separator position")
    hrp, rest = text[:pos], text[pos + 1 :]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise ValueError("bad hrp character")
    try:
        data = [_CHARSET_INDEX[c] for c in rest]
    except KeyError:
        raise ValueError("invalid bech32 character") from None
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        raise ValueError("bad bech32 checksum")
    return hrp, data[:-6], const


def convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise ValueError("value out of range")
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise ValueError("invalid padding")
    return out


def encode_segwit(hrp: str, version: int, program: bytes) -> str:
    const = BECH32_CONST if version == 0 else BECH32M_CONST
    return bech32_encode(hrp, [version] + convertbits(program, 8, 5, True), const)


# --- output script shapes ----------------------------------------------------------------

OP_0, OP_1, OP_16 = 0x00, 0x51, 0x60
OP_DUP, OP_HASH160, OP_EQUAL, OP_EQUALVERIFY = 0x76, 0xA9, 0x87, 0x88
OP_CHECKSIG, OP_CHECKMULTISIG, OP_RETURN = 0xAC, 0xAE, 0x6A
ANCHOR_SCRIPT = bytes([OP_1, 2, 0x4E, 0x73])


def p2pkh_script(h160: bytes) -> bytes:
    return bytes([OP_DUP, OP_HASH160, 20]) + h160 + bytes([OP_EQUALVERIFY, OP_CHECKSIG])


def p2sh_script(h160: bytes) -> bytes:
    return bytes([OP_HASH160, 20]) + h160 + bytes([OP_EQUAL])


def witness_script(version: int, program: bytes) -> bytes:
    return bytes([OP_0 if version == 0 else OP_1 + version - 1, len(program)]) + program


def witness_program(script: bytes) -> tuple[int, bytes] | None:
    """(version, program) when the script is a BIP141 witness program."""
    if not 4 <= len(script) <= 42:
        return None
    op = script[0]
    if op != OP_0 and not OP_1 <= op <= OP_16:
        return None
    if script[1] + 2 != len(script):
        return None
    return (0 if op == OP_0 else op - OP_1 + 1), script[2:]


def _is_pubkey(b: bytes) -> bool:
    """Core's CPubKey::ValidSize: the header byte fixes the length (hybrid 06/07 included)."""
    return (len(b) == 33 and b[0] in (2, 3)) or (len(b) == 65 and b[0] in (4, 6, 7))


def _small_int(op: int) -> int | None:
    return op - OP_1 + 1 if OP_1 <= op <= OP_16 else None


def _ops(script: bytes) -> list[tuple[int, bytes | None]] | None:
    """(opcode, pushed data) pairs, or None when a push runs past the end."""
    out: list[tuple[int, bytes | None]] = []
    pc, n = 0, len(script)
    while pc < n:
        op = script[pc]
        pc += 1
        if op > 0x4E:
            out.append((op, None))
            continue
        size = op
        if op >= 0x4C:
            width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
            if pc + width > n:
                return None
            size = int.from_bytes(script[pc : pc + width], "little")
            pc += width
        if pc + size > n:
            return None
        out.append((op, script[pc : pc + size]))
        pc += size
    return out


def _multisig(script: bytes) -> tuple[int, list[bytes]] | None:
    """Core's MatchMultisig: OP_m <keys> OP_n OP_CHECKMULTISIG with n == len(keys) >= m."""
    if len(script) < 3 or script[-1] != OP_CHECKMULTISIG:
        return None
    ops = _ops(script)
    if ops is None or len(ops) < 3:
        return None
    m = _small_int(ops[0][0])
    n = _small_int(ops[-2][0])
    if m is None or n is None:
        return None
    keys = []
    for op, data in ops[1:-2]:
        if data is None or not _is_pubkey(data):
            return None
        keys.append(data)
    if len(keys) != n or n < m:
        return None
    return m, keys


def _is_push_only_after_return(script: bytes) -> bool:
    pc = 1
    while pc < len(script):
        op = script[pc]
        pc += 1
        if op < 0x4C:
            pc += op
        elif op == 0x4C:
            if pc + 1 > len(script):
                return False
            pc += 1 + script[pc]
        elif op == 0x4D:
            if pc + 2 > len(script):
                return False
            pc += 2 + int.from_bytes(script[pc : pc + 2], "little")
        elif op == 0x4E:
            if pc + 4 > len(script):
                return False
            pc += 4 + int.from_bytes(script[pc : pc + 4], "little")
        elif op > OP_16:
            return False
        if pc > len(script):
            return False
    return True


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    """The solver's verdict: a Core type name and the solutions (hashes, keys, program)."""

    type: str
    solutions: tuple[bytes, ...] = ()
    required: int | None = None  # multisig m
    witness_version: int | None = None


def classify(script: bytes) -> ScriptInfo:
    """Core's output-script types: pubkey, pubkeyhash, scripthash, multisig, nulldata, anchor,
    witness_v0_keyhash, witness_v0_scripthash, witness_v1_taproot, witness_unknown, nonstandard."""
    if len(script) == 23 and script[0] == OP_HASH160 and script[1] == 20 and script[22] == OP_EQUAL:
        return ScriptInfo("scripthash", (script[2:22],))
    wp = witness_program(script)
    if wp is not None:
        version, prog = wp
        if version == 0 and len(prog) == 20:
            return ScriptInfo("witness_v0_keyhash", (prog,), witness_version=0)
        if version == 0 and len(prog) == 32:
            return ScriptInfo("witness_v0_scripthash", (prog,), witness_version=0)
        if version == 1 and len(prog) == 32:
            return ScriptInfo("witness_v1_taproot", (prog,), witness_version=1)
        if script == ANCHOR_SCRIPT:
            return ScriptInfo("anchor", (prog,), witness_version=1)
        if version != 0:
            return ScriptInfo("witness_unknown", (prog,), witness_version=version)
        return ScriptInfo("nonstandard")
    if script[:1] == bytes([OP_RETURN]) and _is_push_only_after_return(script):
        return ScriptInfo("nulldata")
    if len(script) in (35, 67) and script[0] == len(script) - 2 and script[-1] == OP_CHECKSIG:
        key = script[1:-1]
        if _is_pubkey(key):
            return ScriptInfo("pubkey", (key,))
    if (
        len(script) == 25
        and script[:3] == bytes([OP_DUP, OP_HASH160, 20])
        and script[23:] == bytes([OP_EQUALVERIFY, OP_CHECKSIG])
    ):
        return ScriptInfo("pubkeyhash", (script[3:23],))
    ms = _multisig(script)
    if ms is not None:
        return ScriptInfo("multisig", tuple(ms[1]), required=ms[0])
    return ScriptInfo("nonstandard")


def script_to_address(script: bytes, prefixes: AddressPrefixes) -> str | None:
    """The address paying to `script`, or None when the script has no address form."""
    info = classify(script)
    if info.type == "pubkeyhash":
        return b58check_encode(prefixes.p2pkh, info.solutions[0])
    if info.type == "scripthash":
        return b58check_encode(prefixes.p2sh, info.solutions[0])
    if info.witness_version is not None:
        return encode_segwit(prefixes.hrp, info.witness_version, info.solutions[0])
    return None


@dataclass(frozen=True, slots=True)
class DecodedAddress:
    script_pubkey: bytes
    is_script: bool
    witness_version: int | None = None
    witness_program: bytes | None = None


_ERR_B58 = "Invalid checksum or length of Base58 address (P2PKH or P2SH)"
_ERR_BOTH = "Invalid or unsupported Segwit (Bech32) or Base58 encoding."


def _looks_bech32(text: str, hrp: str) -> bool:
    return text.lower().startswith(hrp + "1")


def decode_address(text: str, prefixes: AddressPrefixes) -> DecodedAddress:
    """Parse an address of the network described by `prefixes`; AddressError otherwise."""
    if len(text) > MAX_ADDRESS_LENGTH:
        raise AddressError(_ERR_BOTH)
    if _looks_bech32(text, prefixes.hrp):
        return _decode_segwit(text, prefixes)
    try:
        raw = b58check_decode(text)
    except ValueError:
        if _is_bech32(text):  # a segwit address of another network
            raise AddressError(_ERR_BOTH) from None
        raise AddressError(_ERR_B58 if _all_base58(text) else _ERR_BOTH) from None
    if len(raw) == 21 and raw[0] == prefixes.p2pkh:
        return DecodedAddress(p2pkh_script(raw[1:]), False)
    if len(raw) == 21 and raw[0] == prefixes.p2sh:
        return DecodedAddress(p2sh_script(raw[1:]), True)
    if len(raw) == 21:
        raise AddressError("Invalid or unsupported Base58-encoded address.")
    raise AddressError("Invalid length for Base58 address (P2PKH or P2SH)")


def _is_bech32(text: str) -> bool:
    try:
        bech32_decode(text)
    except ValueError:
        return False
    return True


def _all_base58(text: str) -> bool:
    return all(c in _B58_INDEX for c in text)


def _decode_segwit(text: str, prefixes: AddressPrefixes) -> DecodedAddress:
    try:
        hrp, data, const = bech32_decode(text)
    except ValueError:
        raise AddressError("Invalid Bech32 checksum", []) from None
    if hrp != prefixes.hrp or not data:
        raise AddressError(_ERR_BOTH)
    version = data[0]
    if version > 16:
        raise AddressError("Invalid Bech32 address witness version")
    if (version == 0) != (const == BECH32_CONST):
        raise AddressError(
            "Version 0 witness address must use Bech32 checksum"
            if version == 0
            else "Version 1+ witness address must use Bech32m checksum"
        )
    try:
        prog = bytes(convertbits(data[1:], 5, 8, False))
    except ValueError:
        raise AddressError("Invalid padding in Bech32 data section") from None
    if not 2 <= len(prog) <= 40:
        raise AddressError("Invalid Bech32 address program size (%d bytes)" % len(prog))
    if version == 0 and len(prog) not in (20, 32):
        raise AddressError(
            "Invalid Bech32 v0 address program size (%d bytes), per BIP141" % len(prog)
        )
    script = witness_script(version, prog)
    return DecodedAddress(script, version != 0 or len(prog) == 32, version, prog)
