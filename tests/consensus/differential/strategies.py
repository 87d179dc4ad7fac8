"""Hypothesis strategies for differential cases: flags, transaction shapes, keys, random scripts.

Values are biased toward the boundaries where engines tend to differ (lock-time threshold,
sequence flag bits, push-size limits, number-encoding limits), while staying bounded in size.
"""

from __future__ import annotations

from hypothesis import strategies as st

from regtest.consensus import script as S
from regtest.consensus.script import encode_num, push_data, push_data_raw
from regtest.consensus.transaction import TxOut
from regtest.testing.core_oracle import CORE_FLAGS_MASK
from regtest.testing.keys import N, Key

P2SH, DERSIG, NULLDUMMY, CLTV, CSV, WITNESS, TAPROOT = (
    1 << 0, 1 << 2, 1 << 4, 1 << 9, 1 << 10, 1 << 11, 1 << 17,
)
ALL_CONSENSUS = CORE_FLAGS_MASK


@st.composite
def flags(draw: st.DrawFn) -> int:
    """A flag set Core's kernel accepts: half the time all consensus rules, else any subset."""
    if draw(st.booleans()):
        return ALL_CONSENSUS
    f = draw(st.integers(0, ALL_CONSENSUS)) & ALL_CONSENSUS
    if f & WITNESS:
        f |= P2SH
    return f


keys = st.integers(1, N - 1).map(Key) | st.integers(1, 50).map(lambda i: Key(i * 0x1234567 + 11))

u32 = st.integers(0, 0xFFFFFFFF)
int32 = st.integers(-(2**31), 2**31 - 1)

sequences = st.one_of(
    st.sampled_from([0xFFFFFFFF, 0xFFFFFFFE, 0, 1, 0xFFFF, 0x10000, 1 << 22, (1 << 22) | 1, 1 << 31]),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF).map(lambda v: v | (1 << 22)),
    u32,
)
locktimes = st.one_of(
    st.sampled_from([0, 1, 499_999_999, 500_000_000, 500_000_001, 0xFFFFFFFF]),
    st.integers(0, 1000),
    u32,
)
versions = st.one_of(st.sampled_from([1, 2, 2, 2, 0, 3, -1, -2, 2**31 - 1, -(2**31)]), int32)
amounts = st.one_of(st.sampled_from([0, 1, 546, 100_000, 21_000_000 * 10**8]), st.integers(0, 2**50))


@st.composite
def random_spk(draw: st.DrawFn) -> bytes:
    """Script pubkeys for the other inputs and outputs (they enter taproot/segwit sighashes)."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return bytes([0x51])
    if kind == 1:
        return bytes([0x00, 20]) + draw(st.binary(min_size=20, max_size=20))
    if kind == 2:
        return bytes([0x51, 32]) + draw(st.binary(min_size=32, max_size=32))
    if kind == 3:
        return bytes([0xA9, 20]) + draw(st.binary(min_size=20, max_size=20)) + bytes([0x87])
    return draw(st.binary(max_size=40))


txouts = st.builds(TxOut, amounts, random_spk())


@st.composite
def shapes(draw: st.DrawFn, max_inputs: int = 3, min_outputs: int = 0, max_outputs: int = 3):
    from regtest.testing.txgen import TxShape

    n_in = draw(st.integers(1, max_inputs))
    index = draw(st.integers(0, n_in - 1))
    n_out = draw(st.integers(min_outputs, max_outputs))
    other_unlock = tuple(
        (
            draw(st.binary(max_size=8)),
            tuple(draw(st.lists(st.binary(max_size=8), max_size=2))),
        )
        for _ in range(n_in - 1)
    )
    return TxShape(
        version=draw(versions),
        locktime=draw(locktimes),
        index=index,
        sequences=tuple(draw(sequences) for _ in range(n_in)),
        outputs=tuple(draw(txouts) for _ in range(n_out)),
        other_spent=tuple(draw(txouts) for _ in range(n_in - 1)),
        other_unlock=other_unlock,
        prevout_seed=draw(st.integers(0, 2**32)),
    )


# --- random scripts -----------------------------------------------------------------
_STACK_OPS = [
    S.OP_TOALTSTACK, S.OP_FROMALTSTACK, S.OP_2DROP, S.OP_2DUP, S.OP_3DUP, S.OP_2OVER, S.OP_2ROT,
    S.OP_2SWAP, S.OP_IFDUP, S.OP_DEPTH, S.OP_DROP, S.OP_DUP, S.OP_NIP, S.OP_OVER, S.OP_PICK,
    S.OP_ROLL, S.OP_ROT, S.OP_SWAP, S.OP_TUCK, S.OP_SIZE,
]
_ARITH_OPS = [
    S.OP_1ADD, S.OP_1SUB, S.OP_NEGATE, S.OP_ABS, S.OP_NOT, S.OP_0NOTEQUAL, S.OP_ADD, S.OP_SUB,
    S.OP_BOOLAND, S.OP_BOOLOR, S.OP_NUMEQUAL, S.OP_NUMEQUALVERIFY, S.OP_NUMNOTEQUAL,
    S.OP_LESSTHAN, S.OP_GREATERTHAN, S.OP_LESSTHANOREQUAL, S.OP_GREATERTHANOREQUAL, S.OP_MIN,
    S.OP_MAX, S.OP_WITHIN, S.OP_EQUAL, S.OP_EQUALVERIFY, S.OP_VERIFY,
]
_CRYPTO_OPS = [
    S.OP_RIPEMD160, S.OP_SHA1, S.OP_SHA256, S.OP_HASH160, S.OP_HASH256, S.OP_CHECKSIG,
    S.OP_CHECKSIGVERIFY, S.OP_CHECKMULTISIG, S.OP_CHECKMULTISIGVERIFY, S.OP_CODESEPARATOR,
    S.OP_CHECKSIGADD,
]
_DISABLED_OPS = [
    S.OP_CAT, S.OP_SUBSTR, S.OP_LEFT, S.OP_RIGHT, S.OP_INVERT, S.OP_AND, S.OP_OR, S.OP_XOR,
    S.OP_2MUL, S.OP_2DIV, S.OP_MUL, S.OP_DIV, S.OP_MOD, S.OP_LSHIFT, S.OP_RSHIFT,
]
_ODD_OPS = [
    S.OP_RESERVED, S.OP_VER, S.OP_VERIF, S.OP_VERNOTIF, S.OP_RESERVED1, S.OP_RESERVED2,
    S.OP_RETURN, S.OP_NOP, S.OP_NOP1, S.OP_CHECKLOCKTIMEVERIFY, S.OP_CHECKSEQUENCEVERIFY,
    S.OP_NOP4, S.OP_NOP5, S.OP_NOP6, S.OP_NOP7, S.OP_NOP8, S.OP_NOP9, S.OP_NOP10,
    0xBB, 0xC0, 0xFE, S.OP_INVALIDOPCODE,
]
_INTERESTING_NUMS = [
    0, 1, -1, 2, 16, 17, 127, 128, -128, 255, 256, 32767, 32768, -32768, 2**23, 2**31 - 1,
    -(2**31 - 1), 2**31, 2**32, 2**39, -(2**39),
]
_ODD_NUM_ENCODINGS = [b"\x00", b"\x80", b"\x00\x00", b"\x01\x00", b"\x00\x80", b"\xff\xff\xff\xff\x00"]
_PUSH_SIZES = [0, 1, 2, 3, 4, 5, 20, 32, 33, 64, 65, 75, 76, 255, 256, 519, 520, 521]


@st.composite
def push_items(draw: st.DrawFn) -> bytes:
    """One push, of any size up to just over the element limit, minimal or not."""
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        data = encode_num(draw(st.sampled_from(_INTERESTING_NUMS) | st.integers(-1000, 1000)))
    elif kind == 4:
        data = draw(st.sampled_from(_ODD_NUM_ENCODINGS))
    else:
        size = draw(st.sampled_from(_PUSH_SIZES) | st.integers(0, 80))
        data = bytes([draw(st.integers(0, 255))]) * size
    enc = draw(st.integers(0, 7))
    if enc == 0 and len(data) < 256:  # non-minimal PUSHDATA1
        return bytes([S.OP_PUSHDATA1, len(data)]) + data
    if enc == 1 and len(data) < 65536:
        return bytes([S.OP_PUSHDATA2]) + len(data).to_bytes(2, "little") + data
    if enc == 2:
        return bytes([S.OP_PUSHDATA4]) + len(data).to_bytes(4, "little") + data
    if enc == 3:
        return push_data_raw(data)
    return push_data(data)


small_ints = st.sampled_from(
    [S.OP_0, S.OP_1NEGATE] + list(range(S.OP_1, S.OP_16 + 1))
).map(lambda op: bytes([op]))


def _ops(group: list[int]) -> st.SearchStrategy[bytes]:
    return st.sampled_from(group).map(lambda op: bytes([op]))


def _token_strategy(no_success: bool) -> st.SearchStrategy[bytes]:
    def keep(group: list[int]) -> list[int]:
        return [op for op in group if not (no_success and S.is_op_success(op))]

    return st.one_of(
        push_items(),
        small_ints,
        small_ints,
        _ops(keep(_STACK_OPS)),
        _ops(keep(_ARITH_OPS)),
        _ops(keep(_ARITH_OPS)),
        _ops(keep(_CRYPTO_OPS)),
        _ops(keep(_DISABLED_OPS) or [S.OP_NOP]),
        _ops(keep(_ODD_OPS)),
    )


plain_tokens = _token_strategy(False)
#: Without OP_SUCCESSx, so random tapscripts actually execute.
tapscript_tokens = _token_strategy(True)


@st.composite
def script_body(
    draw: st.DrawFn, depth: int = 0, max_len: int = 12, no_success: bool = False
) -> bytes:
    """A random op sequence with (usually balanced) IF/NOTIF/ELSE/ENDIF nesting."""
    out = bytearray()
    for _ in range(draw(st.integers(0, max_len))):
        if depth < 3 and draw(st.integers(0, 7)) == 0:
            out += bytes([draw(st.sampled_from([S.OP_IF, S.OP_NOTIF]))])
            out += draw(script_body(depth + 1, max_len // 2, no_success))
            if draw(st.booleans()):
                out.append(S.OP_ELSE)
                out += draw(script_body(depth + 1, max_len // 2, no_success))
                if draw(st.integers(0, 5)) == 0:
                    out.append(S.OP_ELSE)  # repeated ELSE is legal
            if draw(st.integers(0, 15)):
                out.append(S.OP_ENDIF)  # sometimes left unbalanced
        elif draw(st.integers(0, 40)) == 0:
            out.append(draw(st.sampled_from([S.OP_ELSE, S.OP_ENDIF])))  # stray
        else:
            out += draw(tapscript_tokens if no_success else plain_tokens)
    if draw(st.integers(0, 30)) == 0:  # truncated push at the very end
        out += draw(st.sampled_from([b"\x05ab", b"\x4c", b"\x4c\x09", b"\x4d\x01", b"\x4e\x00\x01"]))
    return bytes(out)


random_scripts = script_body()
random_tapscripts = st.one_of(script_body(no_success=True), script_body(no_success=True), script_body())


@st.composite
def push_only_scripts(draw: st.DrawFn, max_items: int = 6) -> bytes:
    return b"".join(draw(st.lists(st.one_of(push_items(), small_ints), max_size=max_items)))


#: Small numbers, minimally pushed: inputs that arithmetic and stack ops can actually consume.
numeric_pushes = st.one_of(
    small_ints, st.integers(-300, 300).map(lambda n: push_data(encode_num(n)) if n else b"\x00")
)


@st.composite
def numeric_scripts(draw: st.DrawFn, max_items: int = 8) -> bytes:
    return b"".join(draw(st.lists(numeric_pushes, min_size=2, max_size=max_items)))


@st.composite
def stack_items(draw: st.DrawFn, max_items: int = 6) -> tuple[bytes, ...]:
    """Witness stack elements: numbers, booleans in odd encodings, occasional larger blobs."""
    item = st.one_of(
        st.sampled_from([b"", b"\x01", b"\x00", b"\x80", b"\x02", b"\x01\x00"]),
        st.sampled_from(_INTERESTING_NUMS).map(encode_num),
        st.binary(max_size=40),
        st.sampled_from([520, 521]).map(lambda n: b"\x07" * n),
    )
    return tuple(draw(st.lists(item, max_size=max_items)))
