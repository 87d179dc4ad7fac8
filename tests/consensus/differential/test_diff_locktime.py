"""Differential: OP_CHECKLOCKTIMEVERIFY and OP_CHECKSEQUENCEVERIFY against the transaction's
lock time, input sequence and version, around every boundary (height/time threshold, final
sequence, disable and type flags, version 2 as unsigned), in legacy, P2SH, segwit and tapscript
contexts, with the flags on and off. Core's engine and ours must agree on each."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from regtest.consensus import script as S
from regtest.consensus.script import encode_num, push_data, push_data_raw
from regtest.testing.txgen import (
    TAPROOT_LEAF_TAPSCRIPT,
    Case,
    build_case,
    p2sh_script,
    p2wsh_script,
    taproot_output,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import flags, keys, shapes

THRESHOLD = 500_000_000
DISABLE = 1 << 31
TYPE = 1 << 22
MASK = 0xFFFF


@st.composite
def lock_args(draw: st.DrawFn, reference: int) -> bytes:
    """The operand push: near `reference`, across the threshold, negative, oversized, odd encodings."""
    kind = draw(st.integers(0, 9))
    if kind <= 4:
        value = reference + draw(st.sampled_from([-1, 0, 0, 1, 2, -2]))
    elif kind == 5:
        value = draw(st.sampled_from([0, 1, -1, THRESHOLD - 1, THRESHOLD, 2**31 - 1, 2**31, 2**32 - 1, 2**39 - 1, 2**39]))
    elif kind == 6:
        value = reference ^ draw(st.sampled_from([TYPE, DISABLE, TYPE | DISABLE, 1 << 16, 1 << 23]))
    elif kind == 7:
        value = draw(st.integers(-(2**39), 2**40))
    elif kind == 8:  # non-minimal encoding of the right value
        return push_data_raw(encode_num(reference) + b"\x00") if reference >= 0 else push_data(b"\x00\x80")
    else:
        return draw(st.sampled_from([b"", bytes([S.OP_1NEGATE]), bytes([S.OP_0]), b"\x06\x00\x00\x00\x00\x00\x01"]))
    if -1 <= value <= 16:
        return bytes([S.OP_1NEGATE if value == -1 else (S.OP_0 if value == 0 else S.OP_1 + value - 1)])
    return push_data_raw(encode_num(value))


@st.composite
def locktime_cases(draw: st.DrawFn) -> Case:
    shape = draw(shapes(max_inputs=2, max_outputs=1))
    op = draw(st.sampled_from([S.OP_CHECKLOCKTIMEVERIFY, S.OP_CHECKSEQUENCEVERIFY]))
    own_seq = shape.sequences[shape.index]
    if op == S.OP_CHECKLOCKTIMEVERIFY:
        # make the input non-final most of the time so the lock time counts
        if draw(st.integers(0, 4)):
            own_seq = draw(st.sampled_from([0, 0xFFFFFFFE, 1, DISABLE]))
        reference = shape.locktime
    else:
        if draw(st.integers(0, 3)):
            own_seq = draw(st.integers(0, MASK)) | draw(st.sampled_from([0, 0, TYPE, DISABLE, 0x00FF0000]))
        reference = own_seq & (TYPE | MASK)
        if draw(st.integers(0, 2)) and shape.version not in (2, 3):
            shape = replace(shape, version=draw(st.sampled_from([2, 2, 3, 1, 0, -1, 0x7FFFFFFF])))
    seqs = list(shape.sequences)
    seqs[shape.index] = own_seq
    shape = replace(shape, sequences=tuple(seqs))
    arg = draw(lock_args(reference))
    body = arg + bytes([op])
    tail = draw(st.sampled_from([bytes([S.OP_DROP, S.OP_1]), b"", bytes([S.OP_DROP])]))
    script = body + tail
    context = draw(st.sampled_from(["bare", "bare", "p2sh", "p2wsh", "tapscript"]))
    fl = draw(flags())
    if draw(st.booleans()):
        fl |= (1 << 9) | (1 << 10)
    if context == "bare":
        spk, ss, wit = script, b"", ()
    elif context == "p2sh":
        spk, ss, wit = p2sh_script(script), push_data(script), ()
    elif context == "p2wsh":
        spk, ss, wit = p2wsh_script(script), b"", (script,)
    else:
        out = taproot_output(draw(keys), [(TAPROOT_LEAF_TAPSCRIPT, script)])
        spk, ss, wit = out.script_pubkey, b"", (script, out.control_blocks[0])
    name = "cltv" if op == S.OP_CHECKLOCKTIMEVERIFY else "csv"
    return build_case(shape, spk, 1000, lambda tx, spent: (ss, wit), fl, f"{name}/{context}")


def test_locktime_and_sequence_agree_with_core() -> None:
    seen = differential(locktime_cases(), examples=900, min_valid=200, min_invalid=200)
    for name in ("cltv/bare", "csv/bare", "cltv/p2sh", "csv/p2wsh", "cltv/tapscript"):
        assert seen[name] > 0, name
