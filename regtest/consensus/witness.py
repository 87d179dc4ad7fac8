"""Witness programs: Core's VerifyWitnessProgram for segwit v0 (P2WPKH, P2WSH) and taproot
(key path, script path with control blocks and annex, tapscript with OP_SUCCESSx and the
validation weight budget).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from regtest.consensus import checker as _config
from regtest.consensus import crypto
from regtest.consensus.checker import (
    E,
    F_DISCOURAGE_OP_SUCCESS,
    F_DISCOURAGE_TAPROOT_VERSION,
    F_DISCOURAGE_WITNESS_PROGRAM,
    F_TAPROOT,
    ExecData,
    ScriptFailure,
    TxChecker,
    fast_hash160,
)
from regtest.consensus.hashes import tag_prefix
from regtest.consensus.interpreter import (
    eval_checksig_pre_tapscript,
    next_op_pos,
    cast_to_bool,
    eval_script,
)
from regtest.consensus.script import (
    MAX_SCRIPT_ELEMENT_SIZE,
    MAX_STACK_SIZE,
    is_op_success,
)
from regtest.consensus.serialize import ser_compact_size
from regtest.consensus.sighash import (
    SIGVERSION_TAPROOT,
    SIGVERSION_TAPSCRIPT,
    SIGVERSION_WITNESS_V0,
)

_sha256 = hashlib.sha256

ANNEX_TAG = 0x50
TAPROOT_LEAF_MASK = 0xFE
TAPROOT_LEAF_TAPSCRIPT = 0xC0
TAPROOT_CONTROL_BASE_SIZE = 33
TAPROOT_CONTROL_NODE_SIZE = 32
TAPROOT_CONTROL_MAX_NODE_COUNT = 128
TAPROOT_CONTROL_MAX_SIZE = TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * TAPROOT_CONTROL_MAX_NODE_COUNT
VALIDATION_WEIGHT_OFFSET = 50

_TAPLEAF_PREFIX = tag_prefix("TapLeaf")
_TAPBRANCH_PREFIX = tag_prefix("TapBranch")
# The 64-byte tag prefixes fill one SHA256 block: copying the state after it saves hashing it.
_TAPLEAF_MID = _sha256(_TAPLEAF_PREFIX)
_TAPBRANCH_MID = _sha256(_TAPBRANCH_PREFIX)


def _serialized_witness_size(witness: Sequence[bytes]) -> int:
    """Bytes of the witness stack as serialized (the tapscript validation weight budget)."""
    total = len(ser_compact_size(len(witness)))
    for item in witness:
        total += len(ser_compact_size(len(item))) + len(item)
    return total


def execute_witness_script(
    stack: list[bytes], script: bytes, flags: int, sigversion: int, checker: TxChecker, execdata: ExecData
) -> None:
    """Core's ExecuteWitnessScript: OP_SUCCESSx pre-scan (tapscript), initial stack limits,
    evaluation, then the implicit clean-stack and true-result rules of witness scripts."""
    if sigversion == SIGVERSION_TAPSCRIPT:
        pc = 0
        end = len(script)
        while pc < end:
            op = script[pc]
            if op <= 0x4E:
                nxt = next_op_pos(script, pc)
                if nxt < 0:
                    raise ScriptFailure(E.BAD_OPCODE)
                pc = nxt
                continue
            if is_op_success(op):
                if flags & F_DISCOURAGE_OP_SUCCESS:
                    raise ScriptFailure(E.DISCOURAGE_OP_SUCCESS)
                return
            pc += 1
        if len(stack) > MAX_STACK_SIZE:
            raise ScriptFailure(E.STACK_SIZE)
    for item in stack:
        if len(item) > MAX_SCRIPT_ELEMENT_SIZE:
            raise ScriptFailure(E.PUSH_SIZE)
    eval_script(stack, script, flags, checker, sigversion, execdata)
    if len(stack) != 1:
        raise ScriptFailure(E.CLEANSTACK)
    if not cast_to_bool(stack[-1]):
        raise ScriptFailure(E.EVAL_FALSE)


def tapleaf_hash(leaf_version: int, script: bytes) -> bytes:
    """BIP341 leaf hash: TapLeaf-tagged hash of the leaf version and the length-prefixed script."""
    h = _TAPLEAF_MID.copy()
    n = len(script)
    h.update((bytes((leaf_version, n)) if n < 0xFD else bytes((leaf_version,)) + ser_compact_size(n)) + script)
    return h.digest()


def tapbranch_hash(a: bytes, b: bytes) -> bytes:
    """BIP341 branch hash of two child hashes, in sorted order."""
    if b < a:
        a, b = b, a
    h = _TAPBRANCH_MID.copy()
    h.update(a + b)
    return h.digest()


def verify_taproot_commitment(control: bytes, program: bytes, leaf_hash: bytes) -> bool:
    """Does the control block's path from `leaf_hash` commit to the output key `program`?"""
    k = leaf_hash
    for pos in range(TAPROOT_CONTROL_BASE_SIZE, len(control), TAPROOT_CONTROL_NODE_SIZE):
        k = tapbranch_hash(k, control[pos : pos + TAPROOT_CONTROL_NODE_SIZE])
    return crypto.check_tap_tweak(program, control[1:33], k, control[0] & 1)


def verify_witness_program(
    witness: Sequence[bytes], version: int, program: bytes, flags: int, checker: TxChecker, is_p2sh_spend: bool
) -> None:
    """Core's VerifyWitnessProgram; raises ScriptFailure."""
    if version == 0:
        if len(program) == 32:
            if not witness:
                raise ScriptFailure(E.WITNESS_PROGRAM_WITNESS_EMPTY)
            script = witness[-1]
            if _sha256(script).digest() != program:
                raise ScriptFailure(E.WITNESS_PROGRAM_MISMATCH)
            execute_witness_script(list(witness[:-1]), script, flags, SIGVERSION_WITNESS_V0, checker, ExecData())
            return
        if len(program) == 20:
            if len(witness) != 2:
                raise ScriptFailure(E.WITNESS_PROGRAM_MISMATCH)
            if _config.FAST_PATHS:
                _p2wpkh(witness, program, flags, checker)
            else:
                script = b"\x76\xa9\x14" + program + b"\x88\xac"
                execute_witness_script(list(witness), script, flags, SIGVERSION_WITNESS_V0, checker, ExecData())
            return
        raise ScriptFailure(E.WITNESS_PROGRAM_WRONG_LENGTH)
    if version == 1 and len(program) == 32 and not is_p2sh_spend:
        if not flags & F_TAPROOT:
            return
        execdata = ExecData()
        stack = list(witness)
        if not stack:
            raise ScriptFailure(E.WITNESS_PROGRAM_WITNESS_EMPTY)
        if len(stack) >= 2 and stack[-1] and stack[-1][0] == ANNEX_TAG:
            annex = stack.pop()
            execdata.annex_hash = _sha256(ser_compact_size(len(annex)) + annex).digest()
        if len(stack) == 1:
            checker.check_schnorr(stack[0], program, SIGVERSION_TAPROOT, execdata)
            return
        control = stack.pop()
        script = stack.pop()
        n = len(control)
        if (n < TAPROOT_CONTROL_BASE_SIZE or n > TAPROOT_CONTROL_MAX_SIZE
                or (n - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE):
            raise ScriptFailure(E.TAPROOT_WRONG_CONTROL_SIZE)
        leaf_version = control[0] & TAPROOT_LEAF_MASK
        execdata.tapleaf_hash = tapleaf_hash(leaf_version, script)
        if not verify_taproot_commitment(control, program, execdata.tapleaf_hash):
            raise ScriptFailure(E.WITNESS_PROGRAM_MISMATCH)
        if leaf_version == TAPROOT_LEAF_TAPSCRIPT:
            execdata.validation_weight_left = _serialized_witness_size(witness) + VALIDATION_WEIGHT_OFFSET
            execute_witness_script(stack, script, flags, SIGVERSION_TAPSCRIPT, checker, execdata)
            return
        if flags & F_DISCOURAGE_TAPROOT_VERSION:
            raise ScriptFailure(E.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION)
        return
    if not is_p2sh_spend and version == 1 and program == b"\x4e\x73":
        return  # pay-to-anchor: anyone can spend, and not a discouraged upgrade
    if flags & F_DISCOURAGE_WITNESS_PROGRAM:
        raise ScriptFailure(E.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM)


def _p2wpkh(witness: Sequence[bytes], program: bytes, flags: int, checker: TxChecker) -> None:
    """P2WPKH: exactly `DUP HASH160 <program> EQUALVERIFY CHECKSIG` run on the two witness items,
    without the generic interpreter (op count, stack size and conditionals cannot trigger)."""
    sig, pubkey = witness[0], witness[1]
    if len(sig) > MAX_SCRIPT_ELEMENT_SIZE or len(pubkey) > MAX_SCRIPT_ELEMENT_SIZE:
        raise ScriptFailure(E.PUSH_SIZE)
    if fast_hash160(pubkey) != program:
        raise ScriptFailure(E.EQUALVERIFY)
    script_code = b"\x76\xa9\x14" + program + b"\x88\xac"
    if not eval_checksig_pre_tapscript(sig, pubkey, script_code, flags, checker, SIGVERSION_WITNESS_V0):
        raise ScriptFailure(E.EVAL_FALSE)
