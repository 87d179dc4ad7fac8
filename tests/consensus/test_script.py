"""Script bytes: Core's push parsing, script numbers, minimal pushes, templates and builders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtest.consensus.script import (
    OP_0,
    OP_1,
    OP_1NEGATE,
    OP_16,
    OP_CHECKSIG,
    OP_DUP,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_HASH160,
    OP_PUSHDATA1,
    OP_PUSHDATA2,
    OP_PUSHDATA4,
    OPCODE_NAMES,
    OPCODES_BY_NAME,
    Op,
    ScriptNumError,
    ScriptParseError,
    build_script,
    check_minimal_push,
    decode_num,
    encode_num,
    get_op,
    is_op_success,
    is_p2pkh,
    is_p2sh,
    is_push_only,
    is_unspendable,
    iter_script,
    push_data,
    push_int,
    script_to_asm,
    witness_program,
)


# --- script numbers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, ""), (1, "01"), (-1, "81"), (127, "7f"), (128, "8000"), (-128, "8080"),
        (255, "ff00"), (256, "0001"), (-255, "ff80"), (32767, "ff7f"), (32768, "008000"),
        (2**31 - 1, "ffffff7f"), (-(2**31 - 1), "ffffffff"), (2**31, "0000008000"),
    ],
)
def test_encode_num_known_values(value: int, encoded: str) -> None:
    assert encode_num(value).hex() == encoded
    assert decode_num(bytes.fromhex(encoded), require_minimal=True, max_size=5) == value


@given(st.integers(min_value=-(2**39) + 1, max_value=2**39 - 1))
@settings(max_examples=300, deadline=None)
def test_num_round_trip_is_minimal(n: int) -> None:
    enc = encode_num(n)
    assert decode_num(enc, require_minimal=True, max_size=5) == n


@pytest.mark.parametrize("raw", ["00", "80", "0100", "ff0000", "0080", "000080"])
def test_non_minimal_numbers_rejected_only_when_required(raw: str) -> None:
    data = bytes.fromhex(raw)
    with pytest.raises(ScriptNumError):
        decode_num(data, require_minimal=True)
    decode_num(data, require_minimal=False)  # accepted when minimality is not required


def test_negative_zero_and_padding_decode() -> None:
    assert decode_num(b"\x80") == 0
    assert decode_num(b"\x00\x80") == 0
    assert decode_num(b"\x01\x80") == -1
    assert decode_num(b"\xff\x80") == -255  # 0x80 sign byte needed: minimal
    assert decode_num(b"\xff\x80", require_minimal=True) == -255


def test_number_size_limit() -> None:
    assert decode_num(b"\xff\xff\xff\x7f") == 2**31 - 1
    with pytest.raises(ScriptNumError):
        decode_num(b"\x00\x00\x00\x80\x00")  # 5 bytes with the default limit of 4
    assert decode_num(b"\x00\x00\x00\x80\x00", max_size=5) == 2**31


# --- parsing -------------------------------------------------------------------------------
def test_get_op_push_forms() -> None:
    assert get_op(b"\x02ab", 0) == (2, b"ab", 3)
    assert get_op(bytes([OP_PUSHDATA1, 1, 7]), 0) == (OP_PUSHDATA1, b"\x07", 3)
    assert get_op(bytes([OP_PUSHDATA2, 1, 0, 8]), 0) == (OP_PUSHDATA2, b"\x08", 4)
    assert get_op(bytes([OP_PUSHDATA4, 1, 0, 0, 0, 9]), 0) == (OP_PUSHDATA4, b"\x09", 6)
    assert get_op(bytes([OP_DUP]), 0) == (OP_DUP, None, 1)


@pytest.mark.parametrize(
    "script",
    ["01", "4c", "4c01", "4d01", "4d0100", "4e010000", "4e01000000", "0511223344", "4b" + "00" * 74],
)
def test_truncated_pushes_fail_to_parse(script: str) -> None:
    with pytest.raises(ScriptParseError):
        list(iter_script(bytes.fromhex(script)))
    assert not is_push_only(bytes.fromhex(script))


def test_push_only() -> None:
    assert is_push_only(b"")
    assert is_push_only(bytes([OP_0, OP_1NEGATE, OP_1, OP_16, 0x50]))  # OP_RESERVED counts as a push
    assert not is_push_only(bytes([OP_1, OP_DUP]))


def test_check_minimal_push() -> None:
    assert check_minimal_push(b"", OP_0)
    assert not check_minimal_push(b"", OP_PUSHDATA1)
    assert check_minimal_push(b"\x05", OP_1 + 4)
    assert not check_minimal_push(b"\x05", 1)
    assert check_minimal_push(b"\x81", OP_1NEGATE)
    assert not check_minimal_push(b"\x81", 1)
    assert check_minimal_push(b"\x00", 1)  # zero byte is not OP_0's value
    assert check_minimal_push(b"a" * 75, 75)
    assert check_minimal_push(b"a" * 76, OP_PUSHDATA1)
    assert not check_minimal_push(b"a" * 76, OP_PUSHDATA2)
    assert check_minimal_push(b"a" * 256, OP_PUSHDATA2)
    assert not check_minimal_push(b"a" * 256, OP_PUSHDATA4)


# --- builders --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [-1, 0, 1, 5, 16, 17, -2, 127, 128, 1000, 2**31])
def test_push_int_matches_core_rules(n: int) -> None:
    out = push_int(n)
    if n == -1:
        assert out == bytes([OP_1NEGATE])
    elif 0 <= n <= 16:
        assert out == bytes([OP_0 if n == 0 else OP_1 + n - 1])
    else:
        op, data, end = get_op(out, 0)
        assert end == len(out) and decode_num(data, True, 5) == n


@given(st.binary(max_size=600))
@settings(max_examples=200, deadline=None)
def test_push_data_is_minimal_and_round_trips(data: bytes) -> None:
    script = push_data(data)
    op, pushed, end = get_op(script, 0)
    assert end == len(script)
    assert check_minimal_push(data, op)
    if pushed is not None:
        assert pushed == data


def test_build_script_p2pkh() -> None:
    h = bytes(range(20))
    script = build_script(OP_DUP, OP_HASH160, h, OP_EQUALVERIFY, OP_CHECKSIG)
    assert script == b"\x76\xa9\x14" + h + b"\x88\xac"
    assert is_p2pkh(script)
    assert build_script(2, -1, 0, 1000) == bytes([0x52, 0x4F, 0x00, 0x02, 0xE8, 0x03])
    assert build_script("CHECKSIG", Op(0xB0)) == bytes([0xAC, 0xB0])
    with pytest.raises(TypeError):
        build_script(1.5)  # type: ignore[arg-type]


def test_opcode_names() -> None:
    assert OPCODES_BY_NAME["DUP"] == OPCODES_BY_NAME["OP_DUP"] == 0x76
    assert OPCODES_BY_NAME["NOP2"] == OPCODES_BY_NAME["CHECKLOCKTIMEVERIFY"] == 0xB1
    assert OPCODE_NAMES[0xB2] == "OP_CHECKSEQUENCEVERIFY"
    assert repr(OP_DUP) == "OP_DUP"
    assert script_to_asm(build_script(OP_DUP, b"\x01\x02")) == "OP_DUP 513"


# --- templates -----------------------------------------------------------------------------
def test_witness_program_detection() -> None:
    assert witness_program(b"\x00\x14" + bytes(20)) == (0, bytes(20))
    assert witness_program(b"\x51\x20" + bytes(32)) == (1, bytes(32))
    assert witness_program(b"\x60\x02\xaa\xbb") == (16, b"\xaa\xbb")
    assert witness_program(b"\x51\x02\x4e\x73") == (1, b"\x4e\x73")
    assert witness_program(b"\x00\x01\xaa") is None  # program too short
    assert witness_program(b"\x00\x29" + bytes(41)) is None  # too long
    assert witness_program(b"\x4f\x02\xaa\xbb") is None  # OP_1NEGATE is not a version
    assert witness_program(b"\x00\x14" + bytes(19)) is None  # length byte mismatch


def test_p2sh_and_unspendable() -> None:
    assert is_p2sh(bytes([OP_HASH160, 20]) + bytes(20) + bytes([OP_EQUAL]))
    assert not is_p2sh(bytes([OP_HASH160, 20]) + bytes(20) + bytes([OP_EQUALVERIFY]))
    assert is_unspendable(b"\x6a")
    assert is_unspendable(b"\x51" * 10_001)
    assert not is_unspendable(b"\x51")


def test_op_success_set() -> None:
    successes = [op for op in range(256) if is_op_success(op)]
    assert 80 in successes and 98 in successes and 0xBB in successes and 0xFE in successes
    assert 0xBA not in successes and 0xFF not in successes and 0x65 not in successes
    assert len(successes) == 87


def test_core_opcode_spellings() -> None:
    # GetOpName spells small ints as numbers; repr() keeps the constant's name.
    assert OPCODE_NAMES[0x00] == "0" and OPCODE_NAMES[0x4F] == "-1"
    assert OPCODE_NAMES[0x51] == "1" and OPCODE_NAMES[0x60] == "16"
    assert OPCODE_NAMES[0xBA] == "OP_CHECKSIGADD" and OPCODE_NAMES[0xFF] == "OP_INVALIDOPCODE"
    assert repr(OP_16) == "OP_16" and int(OP_16) == 0x60
