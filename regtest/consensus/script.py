"""Script bytes: opcodes, Core's exact push parsing, script numbers and small builders.

Everything here is pure and allocation-light because the interpreter and the sigop counter
walk scripts on every input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

# --- limits (consensus) ------------------------------------------------------------------
MAX_SCRIPT_ELEMENT_SIZE = 520
MAX_OPS_PER_SCRIPT = 201
MAX_PUBKEYS_PER_MULTISIG = 20
MAX_SCRIPT_SIZE = 10_000
MAX_STACK_SIZE = 1000
LOCKTIME_THRESHOLD = 500_000_000
WITNESS_V0_KEYHASH_SIZE = 20
WITNESS_V0_SCRIPTHASH_SIZE = 32

# --- opcodes ---------------------------------------------------------------------------
OP_0 = OP_FALSE = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1NEGATE = 0x4F
OP_RESERVED = 0x50
OP_1 = OP_TRUE = 0x51
OP_2, OP_3, OP_4, OP_5, OP_6, OP_7, OP_8 = range(0x52, 0x59)
OP_9, OP_10, OP_11, OP_12, OP_13, OP_14, OP_15, OP_16 = range(0x59, 0x61)
OP_NOP = 0x61
OP_VER = 0x62
OP_IF = 0x63
OP_NOTIF = 0x64
OP_VERIF = 0x65
OP_VERNOTIF = 0x66
OP_ELSE = 0x67
OP_ENDIF = 0x68
OP_VERIFY = 0x69
OP_RETURN = 0x6A
OP_TOALTSTACK = 0x6B
OP_FROMALTSTACK = 0x6C
OP_2DROP = 0x6D
OP_2DUP = 0x6E
OP_3DUP = 0x6F
OP_2OVER = 0x70
OP_2ROT = 0x71
OP_2SWAP = 0x72
OP_IFDUP = 0x73
OP_DEPTH = 0x74
OP_DROP = 0x75
OP_DUP = 0x76
OP_NIP = 0x77
OP_OVER = 0x78
OP_PICK = 0x79
OP_ROLL = 0x7A
OP_ROT = 0x7B
OP_SWAP = 0x7C
OP_TUCK = 0x7D
OP_CAT = 0x7E
OP_SUBSTR = 0x7F
OP_LEFT = 0x80
OP_RIGHT = 0x81
OP_SIZE = 0x82
OP_INVERT = 0x83
OP_AND = 0x84
OP_OR = 0x85
OP_XOR = 0x86
OP_EQUAL = 0x87
OP_EQUALVERIFY = 0x88
OP_RESERVED1 = 0x89
OP_RESERVED2 = 0x8A
OP_1ADD = 0x8B
OP_1SUB = 0x8C
OP_2MUL = 0x8D
OP_2DIV = 0x8E
OP_NEGATE = 0x8F
OP_ABS = 0x90
OP_NOT = 0x91
OP_0NOTEQUAL = 0x92
OP_ADD = 0x93
OP_SUB = 0x94
OP_MUL = 0x95
OP_DIV = 0x96
OP_MOD = 0x97
OP_LSHIFT = 0x98
OP_RSHIFT = 0x99
OP_BOOLAND = 0x9A
OP_BOOLOR = 0x9B
OP_NUMEQUAL = 0x9C
OP_NUMEQUALVERIFY = 0x9D
OP_NUMNOTEQUAL = 0x9E
OP_LESSTHAN = 0x9F
OP_GREATERTHAN = 0xA0
OP_LESSTHANOREQUAL = 0xA1
OP_GREATERTHANOREQUAL = 0xA2
OP_MIN = 0xA3
OP_MAX = 0xA4
OP_WITHIN = 0xA5
OP_RIPEMD160 = 0xA6
OP_SHA1 = 0xA7
OP_SHA256 = 0xA8
OP_HASH160 = 0xA9
OP_HASH256 = 0xAA
OP_CODESEPARATOR = 0xAB
OP_CHECKSIG = 0xAC
OP_CHECKSIGVERIFY = 0xAD
OP_CHECKMULTISIG = 0xAE
OP_CHECKMULTISIGVERIFY = 0xAF
OP_NOP1 = 0xB0
OP_CHECKLOCKTIMEVERIFY = OP_NOP2 = 0xB1
OP_CHECKSEQUENCEVERIFY = OP_NOP3 = 0xB2
OP_NOP4 = 0xB3
OP_NOP5 = 0xB4
OP_NOP6 = 0xB5
OP_NOP7 = 0xB6
OP_NOP8 = 0xB7
OP_NOP9 = 0xB8
OP_NOP10 = 0xB9
OP_CHECKSIGADD = 0xBA
OP_INVALIDOPCODE = 0xFF

MAX_OPCODE = OP_NOP10


class Op(int):
    """An opcode: an int that `build_script` emits as a raw byte rather than a number push."""

    __slots__ = ()

    def __repr__(self) -> str:
        return _CONSTANT_NAMES.get(int(self), f"Op({int(self):#x})")

    __str__ = __repr__


for _name, _value in list(globals().items()):
    if _name.startswith("OP_") and type(_value) is int:
        globals()[_name] = Op(_value)

#: Opcode names as Core's GetOpName spells them (used for parsing the vectors' notation).
OPCODE_NAMES: dict[int, str] = {}
for _name, _value in list(globals().items()):
    if _name.startswith("OP_") and isinstance(_value, Op) and _name not in (
        "OP_FALSE", "OP_TRUE", "OP_NOP2", "OP_NOP3",
    ):
        OPCODE_NAMES.setdefault(_value, _name)
_CONSTANT_NAMES = dict(OPCODE_NAMES)  # OP_-prefixed constant names, for repr()
OPCODE_NAMES[OP_0] = "0"
OPCODE_NAMES[OP_1NEGATE] = "-1"
for _n in range(1, 17):
    OPCODE_NAMES[OP_1 + _n - 1] = str(_n)  # Core's GetOpName spells small ints as numbers
#: Every accepted spelling (with and without OP_) -> opcode.
OPCODES_BY_NAME: dict[str, int] = {}
for _name, _value in list(globals().items()):
    if _name.startswith("OP_") and isinstance(_value, Op):
        OPCODES_BY_NAME[_name] = _value
        OPCODES_BY_NAME.setdefault(_name[3:], _value)
del _name, _value, _n


def is_op_success(opcode: int) -> bool:
    """BIP342 OP_SUCCESSx: opcodes that make a tapscript unconditionally valid."""
    return (
        opcode == 80
        or opcode == 98
        or 126 <= opcode <= 129
        or 131 <= opcode <= 134
        or 137 <= opcode <= 138
        or 141 <= opcode <= 142
        or 149 <= opcode <= 153
        or 187 <= opcode <= 254
    )


# --- parsing -----------------------------------------------------------------------------
class ScriptParseError(ValueError):
    """A push runs past the end of the script (Core's GetOp returning false)."""


def get_op(script: bytes, pc: int) -> tuple[int, bytes | None, int]:
    """Decode the operation at `pc`: (opcode, push data or None, next pc).

    Raises ScriptParseError exactly where Core's GetScriptOp fails.
    """
    end = len(script)
    if pc >= end:
        raise ScriptParseError("read past end")
    opcode = script[pc]
    pc += 1
    if opcode > OP_PUSHDATA4:
        return opcode, None, pc
    if opcode < OP_PUSHDATA1:
        size = opcode
    elif opcode == OP_PUSHDATA1:
        if end - pc < 1:
            raise ScriptParseError("truncated PUSHDATA1 length")
        size = script[pc]
        pc += 1
    elif opcode == OP_PUSHDATA2:
        if end - pc < 2:
            raise ScriptParseError("truncated PUSHDATA2 length")
        size = script[pc] | (script[pc + 1] << 8)
        pc += 2
    else:
        if end - pc < 4:
            raise ScriptParseError("truncated PUSHDATA4 length")
        size = int.from_bytes(script[pc : pc + 4], "little")
        pc += 4
    if end - pc < size:
        raise ScriptParseError("push past end of script")
    return opcode, script[pc : pc + size], pc + size


def iter_script(script: bytes) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield (opcode, data, pc_after) for every op; raises ScriptParseError on a bad push."""
    pc = 0
    end = len(script)
    while pc < end:
        op, data, pc = get_op(script, pc)
        yield op, data, pc


def iter_script_lenient(script: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Yield ops until the first parse failure, then stop silently (as sigop counting does)."""
    pc = 0
    end = len(script)
    while pc < end:
        try:
            op, data, pc = get_op(script, pc)
        except ScriptParseError:
            return
        yield op, data


def is_push_only(script: bytes) -> bool:
    """True when every op is a push (OP_0..OP_16, OP_1NEGATE, OP_RESERVED count) and all parse."""
    try:
        for op, _data, _pc in iter_script(script):
            if op > OP_16:
                return False
    except ScriptParseError:
        return False
    return True


def check_minimal_push(data: bytes, opcode: int) -> bool:
    """Core's CheckMinimalPush: was `data` pushed with the smallest possible opcode?"""
    n = len(data)
    if n == 0:
        return opcode == OP_0
    if n == 1 and 1 <= data[0] <= 16:
        return opcode == OP_1 + data[0] - 1
    if n == 1 and data[0] == 0x81:
        return opcode == OP_1NEGATE
    if n <= 75:
        return opcode == n
    if n <= 255:
        return opcode == OP_PUSHDATA1
    if n <= 65535:
        return opcode == OP_PUSHDATA2
    return True


# --- templates ---------------------------------------------------------------------------
def is_p2sh(script: bytes) -> bool:
    return len(script) == 23 and script[0] == OP_HASH160 and script[1] == 0x14 and script[22] == OP_EQUAL


def is_p2pkh(script: bytes) -> bool:
    return (
        len(script) == 25
        and script[0] == OP_DUP
        and script[1] == OP_HASH160
        and script[2] == 0x14
        and script[23] == OP_EQUALVERIFY
        and script[24] == OP_CHECKSIG
    )


def witness_program(script: bytes) -> tuple[int, bytes] | None:
    """(version, program) when `script` is a witness program (BIP141), else None."""
    n = len(script)
    if n < 4 or n > 42:
        return None
    op = script[0]
    if op != OP_0 and not (OP_1 <= op <= OP_16):
        return None
    if script[1] + 2 != n:
        return None
    return decode_small_int(op), script[2:]


def is_witness_program(script: bytes) -> bool:
    return witness_program(script) is not None


def is_unspendable(script: bytes) -> bool:
    """OP_RETURN outputs and oversized scripts can never be spent."""
    return (len(script) > 0 and script[0] == OP_RETURN) or len(script) > MAX_SCRIPT_SIZE


def decode_small_int(opcode: int) -> int:
    """Value of OP_0 / OP_1..OP_16."""
    if opcode == OP_0:
        return 0
    if OP_1 <= opcode <= OP_16:
        return opcode - (OP_1 - 1)
    raise ValueError(f"not a small-int opcode: {opcode:#x}")


def encode_small_int(n: int) -> int:
    if n == 0:
        return OP_0
    if 1 <= n <= 16:
        return OP_1 + n - 1
    raise ValueError(f"not a small int: {n}")


# --- script numbers (CScriptNum) ----------------------------------------------------------
class ScriptNumError(ValueError):
    """Raised for a number operand that is too long or not minimally encoded."""


def encode_num(n: int) -> bytes:
    """Minimal little-endian sign-magnitude encoding (CScriptNum::serialize)."""
    if n == 0:
        return b""
    neg = n < 0
    absval = -n if neg else n
    out = bytearray()
    while absval:
        out.append(absval & 0xFF)
        absval >>= 8
    if out[-1] & 0x80:
        out.append(0x80 if neg else 0x00)
    elif neg:
        out[-1] |= 0x80
    return bytes(out)


def decode_num(data: bytes, require_minimal: bool = False, max_size: int = 4) -> int:
    """CScriptNum(vch, fRequireMinimal, nMaxNumSize): bounded, optionally minimal."""
    n = len(data)
    if n > max_size:
        raise ScriptNumError("script number overflow")
    if n == 0:
        return 0
    if require_minimal and (data[-1] & 0x7F) == 0:
        if n <= 1 or (data[-2] & 0x80) == 0:
            raise ScriptNumError("non-minimally encoded script number")
    value = int.from_bytes(data, "little")
    if data[-1] & 0x80:
        return -(value & ~(0x80 << (8 * (n - 1))))
    return value


def num_to_int32(n: int) -> int:
    """CScriptNum::getint(): clamp to the int32 range."""
    if n > 0x7FFFFFFF:
        return 0x7FFFFFFF
    if n < -0x80000000:
        return -0x80000000
    return n


# --- builders ----------------------------------------------------------------------------
def push_data(data: bytes) -> bytes:
    """The minimal push of `data` as a byte string (OP_n for 1..16 and 0x81, OP_0 for empty)."""
    n = len(data)
    if n == 0:
        return b"\x00"
    if n == 1 and 1 <= data[0] <= 16:
        return bytes([OP_1 + data[0] - 1])
    if n == 1 and data[0] == 0x81:
        return bytes([OP_1NEGATE])
    return push_data_raw(data)


def push_data_raw(data: bytes) -> bytes:
    """Direct push with the smallest length prefix but never rewritten into OP_n."""
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes([n]) + data
    if n <= 0xFF:
        return bytes([OP_PUSHDATA1, n]) + data
    if n <= 0xFFFF:
        return bytes([OP_PUSHDATA2]) + n.to_bytes(2, "little") + data
    return bytes([OP_PUSHDATA4]) + n.to_bytes(4, "little") + data


def push_int(n: int) -> bytes:
    """Minimal number push: OP_1NEGATE, OP_0..OP_16, else the encoded number."""
    if n == -1:
        return bytes([OP_1NEGATE])
    if 0 <= n <= 16:
        return bytes([encode_small_int(n)])
    return push_data_raw(encode_num(n))


ScriptItem = Union[int, bytes, bytearray, "Op"]


def build_script(*items: ScriptItem) -> bytes:
    """Assemble a script: OP_* constants (type Op) -> raw opcode byte, other ints -> minimal
    number push (OP_0..OP_16, OP_1NEGATE or encoded), bytes -> minimal push, str -> opcode name.
    """
    out = bytearray()
    for item in items:
        if isinstance(item, Op):
            out.append(int(item))
        elif isinstance(item, str):
            out.append(OPCODES_BY_NAME[item.upper()])
        elif isinstance(item, (bytes, bytearray)):
            out += push_data(bytes(item))
        elif isinstance(item, int):
            out += push_int(item)
        else:
            raise TypeError(f"cannot put {type(item).__name__} in a script")
    return bytes(out)


def script_to_asm(script: bytes) -> str:
    """Human-readable form (Core-like), tolerant of a trailing bad push."""
    parts: list[str] = []
    pc = 0
    while pc < len(script):
        try:
            op, data, pc = get_op(script, pc)
        except ScriptParseError:
            parts.append("[error]")
            break
        if data is not None:
            if len(data) <= 4:
                parts.append(str(decode_num(data, max_size=4)))
            else:
                parts.append(data.hex())
        else:
            parts.append(OPCODE_NAMES.get(op, "OP_UNKNOWN"))
    return " ".join(parts)
