"""Core's EvalScript: every opcode, the stack and altstack, size and count limits, and the
signature opcodes for legacy, segwit v0 and tapscript.

Errors are raised as `ScriptFailure` (see checker.py) and turned into a `ScriptError` code by
`verify_script`, so a failing script costs one exception and the success path none.
"""

from __future__ import annotations

import hashlib

from regtest.consensus.checker import (
    E,
    F_CLTV,
    F_CONST_SCRIPTCODE,
    F_CSV,
    F_DISCOURAGE_NOPS,
    F_DISCOURAGE_PUBKEYTYPE,
    F_MINIMALDATA,
    F_MINIMALIF,
    F_NULLDUMMY,
    F_NULLFAIL,
    F_STRICT_DER,
    SEQUENCE_LOCKTIME_DISABLE_FLAG,
    ExecData,
    ScriptFailure,
    TxChecker,
    fast_hash160,
    RIPEMD160_TEMPLATE,
    check_pubkey_encoding,
    check_signature_encoding,
)
from regtest.consensus.script import (
    MAX_OPS_PER_SCRIPT,
    MAX_PUBKEYS_PER_MULTISIG,
    MAX_SCRIPT_ELEMENT_SIZE,
    MAX_SCRIPT_SIZE,
    MAX_STACK_SIZE,
    ScriptNumError,
    check_minimal_push,
    decode_num,
    encode_num,
    push_data_raw,
)
from regtest.consensus.sighash import (
    SIGVERSION_BASE,
    SIGVERSION_TAPSCRIPT,
    SIGVERSION_WITNESS_V0,
)

_sha256 = hashlib.sha256

VALIDATION_WEIGHT_PER_SIGOP_PASSED = 50

_TRUE = b"\x01"
_FALSE = b""
_DISABLED = frozenset((0x7E, 0x7F, 0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x8D, 0x8E, 0x95, 0x96, 0x97, 0x98, 0x99))
_UPGRADABLE_NOPS = frozenset((0xB0, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9))
#: OP_1NEGATE, OP_1..OP_16 -> the bytes they push
_SMALL_INT_PUSH = {0x4F: b"\x81", **{0x50 + n: bytes((n,)) for n in range(1, 17)}}


def cast_to_bool(v: bytes) -> bool:
    """Any non-zero byte is true, except a lone sign bit in the last byte (negative zero)."""
    n = len(v)
    if n == 0:
        return False
    last = v[-1]
    if last != 0 and last != 0x80:
        return True
    return v.count(0, 0, n - 1) < n - 1  # some earlier byte is non-zero


def find_and_delete(script: bytes, pattern: bytes) -> tuple[bytes, int]:
    """Core's FindAndDelete: remove op-aligned occurrences of `pattern`; returns (script, count)."""
    if not pattern or pattern not in script:
        return script, 0
    found = 0
    out = bytearray()
    n = len(script)
    m = len(pattern)
    pc = 0
    pc2 = 0
    while True:
        out += script[pc2:pc]
        while n - pc >= m and script[pc : pc + m] == pattern:
            pc += m
            found += 1
        pc2 = pc
        if pc >= n:
            break
        nxt = next_op_pos(script, pc)
        if nxt < 0:
            break
        pc = nxt
    if found:
        out += script[pc2:]
        return bytes(out), found
    return script, 0


def next_op_pos(script: bytes, pc: int) -> int:
    """Position after the op at `pc`, or -1 if it is a truncated push."""
    n = len(script)
    op = script[pc]
    pc += 1
    if op > 0x4E:
        return pc
    if op < 0x4C:
        size = op
    elif op == 0x4C:
        if n - pc < 1:
            return -1
        size = script[pc]
        pc += 1
    elif op == 0x4D:
        if n - pc < 2:
            return -1
        size = script[pc] | (script[pc + 1] << 8)
        pc += 2
    else:
        if n - pc < 4:
            return -1
        size = int.from_bytes(script[pc : pc + 4], "little")
        pc += 4
    if n - pc < size:
        return -1
    return pc + size


# --- signature opcodes -------------------------------------------------------------------------
def eval_checksig_pre_tapscript(
    sig: bytes, pubkey: bytes, script_code: bytes, flags: int, checker: TxChecker, sigversion: int
) -> bool:
    if sigversion == SIGVERSION_BASE:
        script_code, found = find_and_delete(script_code, push_data_raw(sig))
        if found and flags & F_CONST_SCRIPTCODE:
            raise ScriptFailure(E.SIG_FINDANDDELETE)
    check_signature_encoding(sig, flags)
    check_pubkey_encoding(pubkey, flags, sigversion)
    ok = checker.check_ecdsa(sig, pubkey, script_code, sigversion, bool(flags & F_STRICT_DER))
    if not ok and flags & F_NULLFAIL and sig:
        raise ScriptFailure(E.SIG_NULLFAIL)
    return ok


def eval_checksig_tapscript(
    sig: bytes, pubkey: bytes, flags: int, checker: TxChecker, execdata: ExecData
) -> bool:
    success = len(sig) > 0
    if success:
        execdata.validation_weight_left -= VALIDATION_WEIGHT_PER_SIGOP_PASSED
        if execdata.validation_weight_left < 0:
            raise ScriptFailure(E.TAPSCRIPT_VALIDATION_WEIGHT)
    n = len(pubkey)
    if n == 0:
        raise ScriptFailure(E.TAPSCRIPT_EMPTY_PUBKEY)
    if n == 32:
        if success:
            checker.check_schnorr(sig, pubkey, SIGVERSION_TAPSCRIPT, execdata)
    elif flags & F_DISCOURAGE_PUBKEYTYPE:
        raise ScriptFailure(E.DISCOURAGE_UPGRADABLE_PUBKEYTYPE)
    return success


def _checkmultisig(
    stack: list[bytes], script_code: bytes, flags: int, checker: TxChecker, sigversion: int,
    op_count: int, require_minimal: bool,
) -> tuple[bool, int]:
    """OP_CHECKMULTISIG(VERIFY) on `stack`; returns (success, new op count)."""
    size = len(stack)
    i = 1
    if size < i:
        raise ScriptFailure(E.INVALID_STACK_OPERATION)
    n_keys = _getint(decode_num(stack[-i], require_minimal, 4))
    if n_keys < 0 or n_keys > MAX_PUBKEYS_PER_MULTISIG:
        raise ScriptFailure(E.PUBKEY_COUNT)
    op_count += n_keys
    if op_count > MAX_OPS_PER_SCRIPT:
        raise ScriptFailure(E.OP_COUNT)
    i += 1
    ikey = i
    ikey2 = n_keys + 2  # where the cleanup loop stops checking keys (NULLFAIL applies to sigs only)
    i += n_keys
    if size < i:
        raise ScriptFailure(E.INVALID_STACK_OPERATION)
    n_sigs = _getint(decode_num(stack[-i], require_minimal, 4))
    if n_sigs < 0 or n_sigs > n_keys:
        raise ScriptFailure(E.SIG_COUNT)
    i += 1
    isig = i
    i += n_sigs
    if size < i:
        raise ScriptFailure(E.INVALID_STACK_OPERATION)

    if sigversion == SIGVERSION_BASE:
        for k in range(n_sigs):
            script_code, found = find_and_delete(script_code, push_data_raw(stack[-isig - k]))
            if found and flags & F_CONST_SCRIPTCODE:
                raise ScriptFailure(E.SIG_FINDANDDELETE)

    strict_der = bool(flags & F_STRICT_DER)
    success = True
    while success and n_sigs > 0:
        sig = stack[-isig]
        pubkey = stack[-ikey]
        check_signature_encoding(sig, flags)
        check_pubkey_encoding(pubkey, flags, sigversion)
        if checker.check_ecdsa(sig, pubkey, script_code, sigversion, strict_der):
            isig += 1
            n_sigs -= 1
        ikey += 1
        n_keys -= 1
        if n_sigs > n_keys:
            success = False

    while i > 1:
        i -= 1
        if not success and flags & F_NULLFAIL and not ikey2 and stack[-1]:
            raise ScriptFailure(E.SIG_NULLFAIL)
        if ikey2 > 0:
            ikey2 -= 1
        stack.pop()
    if not stack:
        raise ScriptFailure(E.INVALID_STACK_OPERATION)
    if flags & F_NULLDUMMY and stack[-1]:
        raise ScriptFailure(E.SIG_NULLDUMMY)
    stack.pop()
    return success, op_count


def _getint(n: int) -> int:
    if n > 0x7FFFFFFF:
        return 0x7FFFFFFF
    if n < -0x80000000:
        return -0x80000000
    return n


# --- EvalScript ---------------------------------------------------------------------------------
def eval_script(
    stack: list[bytes],
    script: bytes,
    flags: int,
    checker: TxChecker,
    sigversion: int = SIGVERSION_BASE,
    execdata: ExecData | None = None,
) -> None:
    """Run `script` on `stack` (modified in place); raises ScriptFailure on any failure."""
    try:
        _eval(stack, script, flags, checker, sigversion, execdata if execdata is not None else ExecData())
    except ScriptNumError:
        # Core catches scriptnum_error around EvalScript. Any other exception is a bug of
        # ours and is deliberately not turned into a verdict.
        raise ScriptFailure(E.SCRIPTNUM) from None


def _eval(
    stack: list[bytes], script: bytes, flags: int, checker: TxChecker, sigversion: int, execdata: ExecData
) -> None:
    end = len(script)
    legacy = sigversion == SIGVERSION_BASE or sigversion == SIGVERSION_WITNESS_V0
    if legacy and end > MAX_SCRIPT_SIZE:
        raise ScriptFailure(E.SCRIPT_SIZE)
    require_minimal = bool(flags & F_MINIMALDATA)
    pc = 0
    begin_code_hash = 0
    op_count = 0
    opcode_pos = 0
    vf_exec: list[bool] = []
    n_false = 0
    alt: list[bytes] = []
    execdata.codesep_pos = 0xFFFFFFFF
    push = stack.append

    while pc < end:
        f_exec = n_false == 0
        op = script[pc]
        pc += 1
        if op <= 0x4E:
            # ---- data push (inlined GetScriptOp) ----
            if op < 0x4C:
                size = op
            elif op == 0x4C:
                if end - pc < 1:
                    raise ScriptFailure(E.BAD_OPCODE)
                size = script[pc]
                pc += 1
            elif op == 0x4D:
                if end - pc < 2:
                    raise ScriptFailure(E.BAD_OPCODE)
                size = script[pc] | (script[pc + 1] << 8)
                pc += 2
            else:
                if end - pc < 4:
                    raise ScriptFailure(E.BAD_OPCODE)
                size = int.from_bytes(script[pc : pc + 4], "little")
                pc += 4
            if end - pc < size:
                raise ScriptFailure(E.BAD_OPCODE)
            if size > MAX_SCRIPT_ELEMENT_SIZE:
                raise ScriptFailure(E.PUSH_SIZE)
            if f_exec:
                data = script[pc : pc + size]
                if require_minimal and not check_minimal_push(data, op):
                    raise ScriptFailure(E.MINIMALDATA)
                push(data)
            pc += size
            if len(stack) + len(alt) > MAX_STACK_SIZE:
                raise ScriptFailure(E.STACK_SIZE)
            opcode_pos += 1
            continue

        if legacy and op > 0x60:
            op_count += 1
            if op_count > MAX_OPS_PER_SCRIPT:
                raise ScriptFailure(E.OP_COUNT)
        if op in _DISABLED:
            raise ScriptFailure(E.DISABLED_OPCODE)
        if op == 0xAB and sigversion == SIGVERSION_BASE and flags & F_CONST_SCRIPTCODE:
            raise ScriptFailure(E.OP_CODESEPARATOR)

        if f_exec or 0x63 <= op <= 0x68:
            if op <= 0x60:
                small = _SMALL_INT_PUSH.get(op)
                if small is None:  # OP_RESERVED
                    raise ScriptFailure(E.BAD_OPCODE)
                push(small)
            elif op == 0x76:  # OP_DUP
                if not stack:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                push(stack[-1])
            elif op == 0xA9 or op == 0xA8 or op == 0xA6 or op == 0xA7 or op == 0xAA:
                if not stack:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                v = stack.pop()
                if op == 0xA9:
                    h = fast_hash160(v)
                elif op == 0xA8:
                    h = _sha256(v).digest()
                elif op == 0xA6:
                    r = RIPEMD160_TEMPLATE.copy()
                    r.update(v)
                    h = r.digest()
                elif op == 0xA7:
                    h = hashlib.sha1(v).digest()
                else:
                    h = _sha256(_sha256(v).digest()).digest()
                push(h)
            elif op == 0x87 or op == 0x88:  # OP_EQUAL / OP_EQUALVERIFY
                if len(stack) < 2:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                b = stack.pop()
                a = stack.pop()
                equal = a == b
                if op == 0x88:
                    if not equal:
                        raise ScriptFailure(E.EQUALVERIFY)
                else:
                    push(_TRUE if equal else _FALSE)
            elif op == 0xAC or op == 0xAD:  # OP_CHECKSIG / OP_CHECKSIGVERIFY
                if len(stack) < 2:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                sig = stack[-2]
                pubkey = stack[-1]
                if sigversion == SIGVERSION_TAPSCRIPT:
                    ok = eval_checksig_tapscript(sig, pubkey, flags, checker, execdata)
                else:
                    ok = eval_checksig_pre_tapscript(
                        sig, pubkey, script[begin_code_hash:], flags, checker, sigversion
                    )
                del stack[-2:]
                if op == 0xAD:
                    if not ok:
                        raise ScriptFailure(E.CHECKSIGVERIFY)
                else:
                    push(_TRUE if ok else _FALSE)
            elif op == 0x63 or op == 0x64:  # OP_IF / OP_NOTIF
                value = False
                if f_exec:
                    if not stack:
                        # the vectors (and current Core) report a missing condition this way
                        raise ScriptFailure(E.INVALID_STACK_OPERATION)
                    v = stack[-1]
                    if sigversion == SIGVERSION_TAPSCRIPT:
                        if len(v) > 1 or (len(v) == 1 and v[0] != 1):
                            raise ScriptFailure(E.TAPSCRIPT_MINIMALIF)
                    elif sigversion == SIGVERSION_WITNESS_V0 and flags & F_MINIMALIF:
                        if len(v) > 1 or (len(v) == 1 and v[0] != 1):
                            raise ScriptFailure(E.MINIMALIF)
                    value = cast_to_bool(v)
                    if op == 0x64:
                        value = not value
                    stack.pop()
                vf_exec.append(value)
                if not value:
                    n_false += 1
            elif op == 0x67:  # OP_ELSE
                if not vf_exec:
                    raise ScriptFailure(E.UNBALANCED_CONDITIONAL)
                top = vf_exec[-1]
                vf_exec[-1] = not top
                n_false += 1 if top else -1
            elif op == 0x68:  # OP_ENDIF
                if not vf_exec:
                    raise ScriptFailure(E.UNBALANCED_CONDITIONAL)
                if not vf_exec.pop():
                    n_false -= 1
            elif op == 0x65 or op == 0x66:  # OP_VERIF / OP_VERNOTIF: invalid even unexecuted
                raise ScriptFailure(E.BAD_OPCODE)
            elif op == 0x69:  # OP_VERIFY
                if not stack:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                if not cast_to_bool(stack[-1]):
                    raise ScriptFailure(E.VERIFY)
                stack.pop()
            elif op == 0x61:  # OP_NOP
                pass
            elif op == 0x6A:
                raise ScriptFailure(E.OP_RETURN)
            elif 0x6B <= op <= 0x82:
                _stack_op(op, stack, alt, require_minimal)
            elif 0x8B <= op <= 0xA5:
                _arith_op(op, stack, require_minimal)
            elif op == 0xAB:  # OP_CODESEPARATOR
                begin_code_hash = pc
                execdata.codesep_pos = opcode_pos
            elif op == 0xAE or op == 0xAF:
                if sigversion == SIGVERSION_TAPSCRIPT:
                    raise ScriptFailure(E.TAPSCRIPT_CHECKMULTISIG)
                ok, op_count = _checkmultisig(
                    stack, script[begin_code_hash:], flags, checker, sigversion, op_count, require_minimal
                )
                if op == 0xAF:
                    if not ok:
                        raise ScriptFailure(E.CHECKMULTISIGVERIFY)
                else:
                    push(_TRUE if ok else _FALSE)
            elif op == 0xBA:  # OP_CHECKSIGADD
                if legacy:
                    raise ScriptFailure(E.BAD_OPCODE)
                if len(stack) < 3:
                    raise ScriptFailure(E.INVALID_STACK_OPERATION)
                sig = stack[-3]
                num = decode_num(stack[-2], require_minimal, 4)
                pubkey = stack[-1]
                ok = eval_checksig_tapscript(sig, pubkey, flags, checker, execdata)
                del stack[-3:]
                push(encode_num(num + (1 if ok else 0)))
            elif op == 0xB1:  # OP_CHECKLOCKTIMEVERIFY
                if flags & F_CLTV:
                    if not stack:
                        raise ScriptFailure(E.INVALID_STACK_OPERATION)
                    locktime = decode_num(stack[-1], require_minimal, 5)
                    if locktime < 0:
                        raise ScriptFailure(E.NEGATIVE_LOCKTIME)
                    if not checker.check_locktime(locktime):
                        raise ScriptFailure(E.UNSATISFIED_LOCKTIME)
            elif op == 0xB2:  # OP_CHECKSEQUENCEVERIFY
                if flags & F_CSV:
                    if not stack:
                        raise ScriptFailure(E.INVALID_STACK_OPERATION)
                    sequence = decode_num(stack[-1], require_minimal, 5)
                    if sequence < 0:
                        raise ScriptFailure(E.NEGATIVE_LOCKTIME)
                    if not sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG and not checker.check_sequence(sequence):
                        raise ScriptFailure(E.UNSATISFIED_LOCKTIME)
            elif op in _UPGRADABLE_NOPS:
                if flags & F_DISCOURAGE_NOPS:
                    raise ScriptFailure(E.DISCOURAGE_UPGRADABLE_NOPS)
            else:
                raise ScriptFailure(E.BAD_OPCODE)

        if len(stack) + len(alt) > MAX_STACK_SIZE:
            raise ScriptFailure(E.STACK_SIZE)
        opcode_pos += 1

    if vf_exec:
        raise ScriptFailure(E.UNBALANCED_CONDITIONAL)


def _stack_op(op: int, stack: list[bytes], alt: list[bytes], require_minimal: bool) -> None:
    """Opcodes 0x6b..0x82: altstack and stack shuffling, OP_SIZE."""
    n = len(stack)
    if op == 0x6B:  # TOALTSTACK
        if n < 1:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        alt.append(stack.pop())
    elif op == 0x6C:  # FROMALTSTACK
        if not alt:
            raise ScriptFailure(E.INVALID_ALTSTACK_OPERATION)
        stack.append(alt.pop())
    elif op == 0x6D:  # 2DROP
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        del stack[-2:]
    elif op == 0x6E:  # 2DUP
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.extend(stack[-2:])
    elif op == 0x6F:  # 3DUP
        if n < 3:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.extend(stack[-3:])
    elif op == 0x70:  # 2OVER
        if n < 4:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.extend(stack[-4:-2])
    elif op == 0x71:  # 2ROT
        if n < 6:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        moved = stack[-6:-4]
        del stack[-6:-4]
        stack.extend(moved)
    elif op == 0x72:  # 2SWAP
        if n < 4:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack[-4], stack[-3], stack[-2], stack[-1] = stack[-2], stack[-1], stack[-4], stack[-3]
    elif op == 0x73:  # IFDUP
        if n < 1:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        if cast_to_bool(stack[-1]):
            stack.append(stack[-1])
    elif op == 0x74:  # DEPTH
        stack.append(encode_num(n))
    elif op == 0x75:  # DROP
        if n < 1:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.pop()
    elif op == 0x76:  # DUP
        if n < 1:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.append(stack[-1])
    elif op == 0x77:  # NIP
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        del stack[-2]
    elif op == 0x78:  # OVER
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.append(stack[-2])
    elif op == 0x79 or op == 0x7A:  # PICK / ROLL
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        k = _getint(decode_num(stack[-1], require_minimal, 4))
        stack.pop()
        if k < 0 or k >= len(stack):
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        v = stack[-k - 1]
        if op == 0x7A:
            del stack[-k - 1]
        stack.append(v)
    elif op == 0x7B:  # ROT
        if n < 3:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack[-3], stack[-2], stack[-1] = stack[-2], stack[-1], stack[-3]
    elif op == 0x7C:  # SWAP
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack[-2], stack[-1] = stack[-1], stack[-2]
    elif op == 0x7D:  # TUCK
        if n < 2:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.insert(-2, stack[-1])
    elif op == 0x82:  # SIZE
        if n < 1:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        stack.append(encode_num(len(stack[-1])))
    else:  # pragma: no cover - disabled splice ops are rejected before dispatch
        raise ScriptFailure(E.BAD_OPCODE)


def _arith_op(op: int, stack: list[bytes], require_minimal: bool) -> None:
    """Opcodes 0x8b..0xa5: numeric operations on up-to-4-byte script numbers."""
    if op <= 0x92:  # unary
        if not stack:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        a = decode_num(stack[-1], require_minimal, 4)
        if op == 0x8B:
            r = a + 1
        elif op == 0x8C:
            r = a - 1
        elif op == 0x8F:
            r = -a
        elif op == 0x90:
            r = abs(a)
        elif op == 0x91:
            r = 1 if a == 0 else 0
        elif op == 0x92:
            r = 0 if a == 0 else 1
        else:  # pragma: no cover - 2MUL/2DIV are disabled
            raise ScriptFailure(E.BAD_OPCODE)
        stack[-1] = encode_num(r)
        return
    if op == 0xA5:  # WITHIN
        if len(stack) < 3:
            raise ScriptFailure(E.INVALID_STACK_OPERATION)
        x = decode_num(stack[-3], require_minimal, 4)
        lo = decode_num(stack[-2], require_minimal, 4)
        hi = decode_num(stack[-1], require_minimal, 4)
        del stack[-3:]
        stack.append(_TRUE if lo <= x < hi else _FALSE)
        return
    if len(stack) < 2:
        raise ScriptFailure(E.INVALID_STACK_OPERATION)
    a = decode_num(stack[-2], require_minimal, 4)
    b = decode_num(stack[-1], require_minimal, 4)
    if op == 0x93:
        r = a + b
    elif op == 0x94:
        r = a - b
    elif op == 0x9A:
        r = int(a != 0 and b != 0)
    elif op == 0x9B:
        r = int(a != 0 or b != 0)
    elif op == 0x9C or op == 0x9D:
        r = int(a == b)
    elif op == 0x9E:
        r = int(a != b)
    elif op == 0x9F:
        r = int(a < b)
    elif op == 0xA0:
        r = int(a > b)
    elif op == 0xA1:
        r = int(a <= b)
    elif op == 0xA2:
        r = int(a >= b)
    elif op == 0xA3:
        r = min(a, b)
    elif op == 0xA4:
        r = max(a, b)
    else:  # pragma: no cover - MUL/DIV/MOD/shifts are disabled
        raise ScriptFailure(E.BAD_OPCODE)
    del stack[-2:]
    if op == 0x9D:
        if not r:
            raise ScriptFailure(E.NUMEQUALVERIFY)
        return
    stack.append(encode_num(r))
