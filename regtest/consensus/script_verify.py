"""Core's VerifyScript: scriptSig then scriptPubKey on one stack, P2SH, witness programs
(native and P2SH-nested), CLEANSTACK and unexpected witnesses, with exact fast paths for the
common templates.
"""

from __future__ import annotations

from collections.abc import Sequence

from regtest.consensus import checker as _config
from regtest.consensus.checker import (
    E,
    F_CLEANSTACK,
    F_MINIMALDATA,
    F_P2SH,
    F_SIGPUSHONLY,
    F_WITNESS,
    ScriptFailure,
    TxChecker,
    fast_hash160,
)
from regtest.consensus.interpreter import eval_checksig_pre_tapscript, cast_to_bool, eval_script
from regtest.consensus.script import (
    MAX_SCRIPT_ELEMENT_SIZE,
    ScriptParseError,
    check_minimal_push,
    get_op,
    is_p2pkh,
    is_p2sh,
    is_push_only,
    push_data_raw,
    witness_program,
)
from regtest.consensus.script_error import ScriptError
from regtest.consensus.sighash import SIGVERSION_BASE
from regtest.consensus.witness import verify_witness_program



def _two_pushes(script_sig: bytes, require_minimal: bool) -> tuple[bytes, bytes] | None:
    """The two items of a scriptSig made of exactly two data pushes (each <= 520 bytes and
    minimal where required), or None when the general interpreter must handle it."""
    items: list[bytes] = []
    pc = 0
    end = len(script_sig)
    while pc < end:
        if len(items) == 2 or script_sig[pc] > 0x4E:
            return None
        try:
            op, data, pc = get_op(script_sig, pc)
        except ScriptParseError:
            return None
        assert data is not None
        if len(data) > MAX_SCRIPT_ELEMENT_SIZE or (require_minimal and not check_minimal_push(data, op)):
            return None
        items.append(data)
    if len(items) != 2:
        return None
    return items[0], items[1]


def _fast_template(
    script_sig: bytes, script_pubkey: bytes, witness: Sequence[bytes], flags: int, checker: TxChecker
) -> bool:
    """Handle native witness programs and plain P2PKH spends directly; False if not applicable.

    Raises ScriptFailure with exactly the error the general path would give.
    """
    if not script_sig and flags & F_WITNESS:
        wp = witness_program(script_pubkey)
        if wp is not None:
            # Evaluating `OP_n <program>` on an empty stack can only leave [n, program] (its
            # pushes are minimal), so just check the program is true; P2SH cannot apply, and
            # the stack is cut to one item before CLEANSTACK.
            if not cast_to_bool(wp[1]):
                raise ScriptFailure(E.EVAL_FALSE)
            verify_witness_program(witness, wp[0], wp[1], flags, checker, False)
            return True
    if len(script_pubkey) == 25 and is_p2pkh(script_pubkey):
        items = _two_pushes(script_sig, bool(flags & F_MINIMALDATA))
        if items is None:
            return False
        # scriptSig leaves [sig, pubkey] (push-only, so SIGPUSHONLY holds); then
        # DUP HASH160 <h> EQUALVERIFY CHECKSIG with the whole scriptPubKey as scriptCode.
        sig, pubkey = items
        if fast_hash160(pubkey) != script_pubkey[3:23]:
            raise ScriptFailure(E.EQUALVERIFY)
        if not eval_checksig_pre_tapscript(sig, pubkey, script_pubkey, flags, checker, SIGVERSION_BASE):
            raise ScriptFailure(E.EVAL_FALSE)
        # One item left: CLEANSTACK holds; not P2SH, not a witness program.
        if flags & F_WITNESS and witness:
            raise ScriptFailure(E.WITNESS_UNEXPECTED)
        return True
    return False

def verify_script(
    script_sig: bytes,
    script_pubkey: bytes,
    witness: Sequence[bytes],
    flags: int,
    checker: TxChecker,
) -> ScriptError:
    """Core's VerifyScript: ScriptError.OK when the input is valid, else the reason."""
    try:
        _verify_script(script_sig, script_pubkey, witness, int(flags), checker)
    except ScriptFailure as failure:
        return failure.error
    return E.OK


def _verify_script(
    script_sig: bytes, script_pubkey: bytes, witness: Sequence[bytes], flags: int, checker: TxChecker
) -> None:
    if _config.FAST_PATHS and _fast_template(script_sig, script_pubkey, witness, flags, checker):
        return
    if flags & F_SIGPUSHONLY and not is_push_only(script_sig):
        raise ScriptFailure(E.SIG_PUSHONLY)
    had_witness = False
    stack: list[bytes] = []
    if script_sig:
        eval_script(stack, script_sig, flags, checker, SIGVERSION_BASE)
    stack_copy = list(stack) if flags & F_P2SH else None
    eval_script(stack, script_pubkey, flags, checker, SIGVERSION_BASE)
    if not stack or not cast_to_bool(stack[-1]):
        raise ScriptFailure(E.EVAL_FALSE)

    if flags & F_WITNESS:
        wp = witness_program(script_pubkey)
        if wp is not None:
            had_witness = True
            if script_sig:
                raise ScriptFailure(E.WITNESS_MALLEATED)
            verify_witness_program(witness, wp[0], wp[1], flags, checker, False)
            del stack[1:]

    if stack_copy is not None and is_p2sh(script_pubkey):
        if not is_push_only(script_sig):
            raise ScriptFailure(E.SIG_PUSHONLY)
        stack = stack_copy
        redeem = stack.pop()
        eval_script(stack, redeem, flags, checker, SIGVERSION_BASE)
        if not stack or not cast_to_bool(stack[-1]):
            raise ScriptFailure(E.EVAL_FALSE)
        if flags & F_WITNESS:
            wp = witness_program(redeem)
            if wp is not None:
                had_witness = True
                if script_sig != push_data_raw(redeem):
                    raise ScriptFailure(E.WITNESS_MALLEATED_P2SH)
                verify_witness_program(witness, wp[0], wp[1], flags, checker, True)
                del stack[1:]

    if flags & F_CLEANSTACK and len(stack) != 1:
        raise ScriptFailure(E.CLEANSTACK)
    if flags & F_WITNESS and not had_witness and witness:
        raise ScriptFailure(E.WITNESS_UNEXPECTED)
