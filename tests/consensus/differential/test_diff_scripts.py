"""Differential: random opcode sequences (IF/ELSE nesting, arithmetic, stack ops, disabled and
reserved opcodes, pushes of every size and encoding) run in every script context: bare
scriptPubKey, P2SH redeem script, P2WSH and P2SH-P2WSH witness script, tapscript leaf, and
arbitrary witness programs. Core's engine and ours must agree on each."""

from __future__ import annotations

from hypothesis import strategies as st

from regtest.consensus.script import push_data
from regtest.testing.txgen import (
    TAPROOT_LEAF_TAPSCRIPT,
    Case,
    build_case,
    p2sh_script,
    p2wsh_script,
    taproot_output,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import (
    flags,
    keys,
    numeric_scripts,
    push_only_scripts,
    random_scripts,
    random_tapscripts,
    shapes,
    stack_items,
)

CONTEXTS = ("bare", "bare_nonpush_sig", "p2sh", "p2wsh", "p2sh_p2wsh", "tapscript", "witness_program")


@st.composite
def random_script_cases(draw: st.DrawFn) -> Case:
    context = draw(st.sampled_from(CONTEXTS))
    shape = draw(shapes(max_inputs=2, max_outputs=2))
    fl = draw(flags())
    amount = draw(st.integers(0, 2**40))
    script = draw(random_scripts)
    label = context
    if context in ("bare", "p2sh") and draw(st.booleans()):
        # with a trailing OP_1 the verdict says exactly whether the random part ran cleanly
        script += b"\x51"
        label += "/ok-probe"
    inputs = st.one_of(push_only_scripts(), numeric_scripts())
    if context == "bare":
        spk, ss, wit = script, draw(inputs), ()
    elif context == "bare_nonpush_sig":
        spk, ss, wit = draw(random_scripts), script, ()
    elif context == "p2sh":
        spk, ss, wit = p2sh_script(script), draw(inputs) + push_data(script), ()
    elif context == "p2wsh":
        spk, ss, wit = p2wsh_script(script), b"", draw(stack_items()) + (script,)
    elif context == "p2sh_p2wsh":
        inner = p2wsh_script(script)
        spk, ss, wit = p2sh_script(inner), push_data(inner), draw(stack_items()) + (script,)
    elif context == "tapscript":
        script = draw(random_tapscripts)
        out = taproot_output(draw(keys), [(TAPROOT_LEAF_TAPSCRIPT, script)])
        spk, ss, wit = out.script_pubkey, b"", draw(stack_items()) + (script, out.control_blocks[0])
    else:  # any witness version and program length, possibly malformed
        version = draw(st.sampled_from([0x00, 0x51, 0x52, 0x60]))
        prog = draw(st.binary(min_size=0, max_size=42))
        spk = bytes([version, len(prog)]) + prog
        if draw(st.booleans()):
            spk = bytes([version]) + push_data(prog)
        ss = b"" if draw(st.booleans()) else draw(push_only_scripts(max_items=2))
        wit = draw(stack_items())
        label = f"witprog/v{version:02x}/len{len(prog)}"
        if draw(st.integers(0, 2)) == 0:  # nested in P2SH (v1+ programs there are not taproot)
            ss = push_data(spk) if draw(st.integers(0, 4)) else ss + push_data(spk)
            spk = p2sh_script(spk)
            label += "/p2sh"
    return build_case(shape, spk, amount, lambda tx, spent: (ss, wit), fl, label)


def test_random_scripts_agree_with_core() -> None:
    seen = differential(random_script_cases(), examples=1500, min_valid=150, min_invalid=400)
    for context in CONTEXTS[:-1]:
        assert seen[context] + seen[f"{context}/ok-probe"] > 0, context
