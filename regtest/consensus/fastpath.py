"""Whole-input fast paths for the common spend templates (P2WPKH, P2PKH, P2TR key path, P2TR
`<x> CHECKSIG` leaf): the same verdict and error as VerifyScript through the general
interpreter, without building a checker, a stack or per-opcode dispatch.

Why: block validation spends most of its Python time on these few templates; the generic
path costs several microseconds of interpreter overhead around each libsecp256k1 call.
`fast_check` returns None for anything it does not handle, and the caller then runs the
general engine. Tests compare both paths error for error (checker.FAST_PATHS off/on).

With the optional C extension `_accel` built (setup.py), the P2WPKH, P2PKH, P2SH multisig and
P2TR templates run in C first; it answers only the cases it handles exactly and returns -1 for the rest,
which then take the Python code below. `ACCEL` switches it (tests flip it; the environment
variable POTC_NO_ACCEL=1 turns it off at import).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Sequence

from regtest.consensus import crypto
from regtest.consensus.checker import (
    E,
    F_LOW_S,
    F_NULLFAIL,
    F_P2SH,
    F_CONST_SCRIPTCODE,
    F_STRICT_DER,
    F_STRICTENC,
    F_TAPROOT,
    F_WITNESS,
    F_WITNESS_PUBKEYTYPE,
    RIPEMD160_TEMPLATE,
    ScriptFailure,
)
from regtest.consensus.crypto import (
    is_compressed_or_uncompressed_pubkey,
    is_compressed_pubkey,
    is_defined_hashtype,
    is_low_s,
    is_valid_signature_encoding,
)
from regtest.consensus.interpreter import find_and_delete
from regtest.consensus.script import push_data_raw
from regtest.consensus.script_error import ScriptError
from regtest.consensus.sighash import (
    SIGVERSION_TAPROOT,
    SIGVERSION_TAPSCRIPT,
    PrecomputedTxData,
    legacy_sighash,
    segwit_v0_sighash,
    taproot_sighash,
)
from regtest.consensus.transaction import Transaction, TxIn, TxOut

_sha256 = hashlib.sha256
_I64 = struct.Struct("<q").pack
_U32 = struct.Struct("<I").pack
_CTX = crypto._CTX
_new = crypto._new
_sig_parse_der = crypto._sig_parse_der
_sig_normalize = crypto._sig_normalize
_PUBKEY_CACHE = crypto._PUBKEY_CACHE
_XONLY_CACHE = crypto._XONLY_CACHE
_OK = ScriptError.OK
_SIG_T = "secp256k1_ecdsa_signature *"
_PK_T = "secp256k1_pubkey *"
_ec_pubkey_parse = crypto._ec_pubkey_parse
_ecdsa_verify = crypto._ecdsa_verify
_CACHE_MAX = crypto._CACHE_MAX
_XONLY_T = "secp256k1_xonly_pubkey *"
_xonly_parse = crypto._xonly_parse
_schnorr_verify = crypto._schnorr_verify
_P2WPKH_HEAD = b"\x19\x76\xa9\x14"  # length-prefixed scriptCode `DUP HASH160 <20>` ...
_P2WPKH_TAIL = b"\x88\xac"
#: encoding rules beyond BIP66 that _encoding_checks applies
_OTHER_ENCODING_FLAGS = F_LOW_S | F_STRICTENC | F_WITNESS_PUBKEYTYPE


def _load_accel():
    """The C extension, initialised with coincurve's libsecp256k1 context and functions, or
    None where it was not built (no compiler or OpenSSL headers at install time)."""
    try:
        from regtest.consensus import _accel
    except ImportError:
        return None
    ffi = crypto.ffi
    lib = crypto.lib
    names = (
        "secp256k1_ec_pubkey_parse", "secp256k1_ecdsa_signature_parse_compact",
        "secp256k1_ecdsa_signature_normalize", "secp256k1_ecdsa_verify", "secp256k1_xonly_pubkey_parse",
        "secp256k1_schnorrsig_verify", "secp256k1_xonly_pubkey_tweak_add_check",
    )
    try:
        _accel.init(
            int(ffi.cast("uintptr_t", _CTX)),
            *[int(ffi.cast("uintptr_t", ffi.addressof(lib, name))) for name in names],
        )
    except (AttributeError, TypeError, ValueError, ffi.error):
        return None  # a coincurve build without one of these functions: stay in Python
    return _accel


_ACCEL_MODULE = _load_accel()
#: Run the C templates first (when built). Tests switch it off to compare against pure Python.
ACCEL = _ACCEL_MODULE is not None and os.environ.get("POTC_NO_ACCEL", "") in ("", "0")
_NO_PIECES = b""  # tx_pieces found nothing usable: the C checks fall back
if _ACCEL_MODULE is not None:
    _c_pieces = _ACCEL_MODULE.tx_pieces
    _c_p2wpkh = _ACCEL_MODULE.p2wpkh
    _c_p2pkh = _ACCEL_MODULE.p2pkh
    _c_p2tr = _ACCEL_MODULE.p2tr
    _c_p2sh_multisig = _ACCEL_MODULE.p2sh_multisig
_ERRORS = tuple(sorted(ScriptError, key=int))
assert all(int(e) == i for i, e in enumerate(_ERRORS))


def _pieces(txdata: PrecomputedTxData) -> bytes:
    """The C per-transaction pieces, made once per PrecomputedTxData."""
    p = txdata.accel
    if p is None:
        try:
            raw = txdata.tx.serialize_without_witness()
        except (struct.error, ValueError, OverflowError, TypeError, AttributeError):
            raw = None  # a transaction object that cannot be encoded: Python decides
        p = _c_pieces(raw, txdata.spent_outputs) if raw is not None else None
        if p is None:
            p = _NO_PIECES
        txdata.accel = p
    return p


def fast_check(tx: Transaction, n_in: int, txin: TxIn, spent: TxOut, flags: int, txdata: PrecomputedTxData) -> ScriptError | None:
    """Verdict for input `n_in` when it is one of the handled templates, else None."""
    spk = spent.script_pubkey
    n = len(spk)
    script_sig = txin.script_sig
    try:
        if n == 22:
            if spk[0] == 0 and spk[1] == 20 and not script_sig and flags & F_WITNESS:
                if ACCEL:
                    r = _c_p2wpkh(txin.witness, spk, spent.value, flags, n_in, txdata.accel or _pieces(txdata))
                    if r >= 0:
                        return _ERRORS[r]
                return _p2wpkh(tx, n_in, txin.witness, spk[2:], spent.value, flags, txdata)
        elif n == 34:
            if spk[0] == 0x51 and spk[1] == 32 and not script_sig and flags & F_WITNESS:
                if ACCEL:
                    r = _c_p2tr(txin.witness, spk, flags, n_in, txdata.accel or _pieces(txdata))
                    if r >= 0:
                        return _ERRORS[r]
                return _p2tr(n_in, txin.witness, spk[2:], flags, txdata)
        elif n == 23:
            if (spk[0] == 0xA9 and spk[1] == 20 and spk[22] == 0x87 and flags & F_P2SH
                    and script_sig and script_sig[0] == 0):
                if ACCEL:
                    r = _c_p2sh_multisig(script_sig, spk, txin.witness, flags, n_in, txdata.accel or _pieces(txdata))
                    if r >= 0:
                        return _ERRORS[r]
                return _p2sh_multisig(tx, n_in, txin, spk, flags, txdata)
        elif n == 25:
            if (spk[0] == 0x76 and spk[1] == 0xA9 and spk[2] == 20 and spk[23] == 0x88 and spk[24] == 0xAC):
                if ACCEL:
                    r = _c_p2pkh(script_sig, spk, txin.witness, flags, n_in, txdata.accel or _pieces(txdata))
                    if r >= 0:
                        return _ERRORS[r]
                return _p2pkh(tx, n_in, txin, spk, flags, txdata)
    except ScriptFailure as failure:
        return failure.error
    return None


# --- ECDSA (legacy / segwit v0 CHECKSIG) --------------------------------------------------------
def _encoding_checks(sig: bytes, pubkey: bytes, flags: int, witness_v0: bool) -> None:
    """check_signature_encoding then check_pubkey_encoding, raising the same ScriptFailure."""
    if sig:
        if flags & F_STRICT_DER and not is_valid_signature_encoding(sig):
            raise ScriptFailure(E.SIG_DER)
        if flags & F_LOW_S and not is_low_s(sig[:-1]):
            raise ScriptFailure(E.SIG_HIGH_S)
        if flags & F_STRICTENC and not is_defined_hashtype(sig):
            raise ScriptFailure(E.SIG_HASHTYPE)
    if flags & F_STRICTENC and not is_compressed_or_uncompressed_pubkey(pubkey):
        raise ScriptFailure(E.PUBKEYTYPE)
    if witness_v0 and flags & F_WITNESS_PUBKEYTYPE and not is_compressed_pubkey(pubkey):
        raise ScriptFailure(E.WITNESS_PUBKEYTYPE)


def _ecdsa(sig: bytes, pubkey: bytes, msg: bytes, flags: int) -> bool:
    """CheckECDSASignature's verification for a non-empty sig and a 33/65-byte key."""
    if not flags & F_STRICT_DER:
        return crypto.verify_ecdsa(sig[:-1], pubkey, msg)
    # BIP66-valid (checked above): one strict parse of all but the hash-type byte.
    pk = _PUBKEY_CACHE.get(pubkey)
    if pk is None:
        pk = _new(_PK_T)
        if not _ec_pubkey_parse(_CTX, pk, pubkey, len(pubkey)):
            return False
        if len(_PUBKEY_CACHE) >= _CACHE_MAX:
            _PUBKEY_CACHE.clear()
        _PUBKEY_CACHE[pubkey] = pk
    sigobj = _new(_SIG_T)
    if not _sig_parse_der(_CTX, sigobj, sig, len(sig) - 1):
        return crypto.verify_ecdsa(sig[:-1], pubkey, msg)
    _sig_normalize(_CTX, sigobj, sigobj)
    return bool(_ecdsa_verify(_CTX, sigobj, msg, pk))


def _p2wpkh(
    tx: Transaction, n_in: int, witness: Sequence[bytes], program: bytes, amount: int, flags: int,
    txdata: PrecomputedTxData,
) -> ScriptError:
    # the pushed program is the scriptPubKey's result: cast_to_bool, inlined
    if not program[19] & 0x7F and program.count(0, 0, 19) == 19:
        return E.EVAL_FALSE
    if len(witness) != 2:
        return E.WITNESS_PROGRAM_MISMATCH
    sig, pubkey = witness
    if len(sig) > 520 or len(pubkey) > 520:
        return E.PUSH_SIZE
    h = RIPEMD160_TEMPLATE.copy()
    h.update(_sha256(pubkey).digest())
    if h.digest() != program:
        return E.EQUALVERIFY
    if sig and flags & F_STRICT_DER and not is_valid_signature_encoding(sig):
        return E.SIG_DER
    if flags & _OTHER_ENCODING_FLAGS:
        _encoding_checks(sig, pubkey, flags, True)
    n = len(pubkey)
    ok = False
    if sig and (n == 33 or n == 65):
        hash_type = sig[-1]
        if hash_type == 1:
            head, tail = txdata.bip143_all
            msg = _sha256(_sha256(b"".join((
                head, txdata.prevouts[n_in], _P2WPKH_HEAD, program, _P2WPKH_TAIL,
                _I64(amount), txdata.sequences[n_in], tail,
            ))).digest()).digest()
        else:
            msg = segwit_v0_sighash(b"\x76\xa9\x14" + program + _P2WPKH_TAIL, tx, n_in, hash_type, amount, txdata)
        ok = _ecdsa(sig, pubkey, msg, flags)
    if not ok:
        return E.SIG_NULLFAIL if flags & F_NULLFAIL and sig else E.EVAL_FALSE
    return _OK


def _p2pkh(
    tx: Transaction, n_in: int, txin: TxIn, spk: bytes, flags: int, txdata: PrecomputedTxData
) -> ScriptError | None:
    """scriptSig `<sig> <pubkey>` as two direct pushes (opcodes 1-75, so minimal unless a
    one-byte item, which is left to the general path) against a P2PKH scriptPubKey."""
    ss = txin.script_sig
    end = len(ss)
    if end < 2:
        return None
    n1 = ss[0]
    if not 2 <= n1 <= 75 or end < n1 + 2:
        return None
    n2 = ss[n1 + 1]
    if not 2 <= n2 <= 75 or end != n1 + n2 + 2:
        return None
    sig = ss[1 : 1 + n1]
    pubkey = ss[n1 + 2 :]
    h = RIPEMD160_TEMPLATE.copy()
    h.update(_sha256(pubkey).digest())
    if h.digest() != spk[3:23]:
        return E.EQUALVERIFY
    # FindAndDelete of the signature push in the 25-byte scriptCode: a push of 2+ bytes can
    # match only if it is at most 25 bytes long; leave those rare cases to the general path.
    if n1 + 1 <= 25:
        return None
    _encoding_checks(sig, pubkey, flags, False)
    n = len(pubkey)
    ok = False
    if n == 33 or n == 65:
        msg = legacy_sighash(spk, tx, n_in, sig[-1], txdata, True)  # the P2PKH template
        ok = _ecdsa(sig, pubkey, msg, flags)
    if not ok:
        return E.SIG_NULLFAIL if flags & F_NULLFAIL else E.EVAL_FALSE
    if flags & F_WITNESS and txin.witness:
        return E.WITNESS_UNEXPECTED
    return _OK


def _p2sh_multisig(
    tx: Transaction, n_in: int, txin: TxIn, spk: bytes, flags: int, txdata: PrecomputedTxData
) -> ScriptError | None:
    """scriptSig `OP_0 <sig>... <redeem>` (exactly m direct pushes of 2-75 bytes, the redeem
    script pushed minimally) against P2SH, redeem `OP_m <key33|key65>... OP_n CHECKMULTISIG`."""
    ss = txin.script_sig
    end = len(ss)
    sigs: list[bytes] = []
    pc = 1
    while True:
        if pc >= end:
            return None
        op = ss[pc]
        if op < 2 or op > 0x4D:
            return None
        if op == 0x4C or op == 0x4D:
            break
        if pc + 1 + op == end:
            break  # a direct push that ends the scriptSig: the redeem script
        sigs.append(ss[pc + 1 : pc + 1 + op])
        pc += 1 + op
        if pc > end:
            return None
    if op == 0x4C:
        if end - pc < 2:
            return None
        size = ss[pc + 1]
        start = pc + 2
        if size <= 75:
            return None  # not minimal
    elif op == 0x4D:
        if end - pc < 3:
            return None
        size = ss[pc + 1] | (ss[pc + 2] << 8)
        start = pc + 3
        if size <= 255:
            return None
    else:
        size = op
        start = pc + 1
    if start + size != end or size > 520:
        return None
    redeem = ss[start:]
    # the redeem script: OP_m, n key pushes, OP_n, OP_CHECKMULTISIG
    rn = len(redeem)
    if rn < 37 or redeem[-1] != 0xAE:
        return None
    m = redeem[0] - 0x50
    n_keys = redeem[-2] - 0x50
    if not 1 <= m <= 16 or not 1 <= n_keys <= 16 or m > n_keys or len(sigs) != m:
        return None
    keys: list[bytes] = []
    pc = 1
    stop = rn - 2
    while pc < stop:
        op = redeem[pc]
        if op != 33 and op != 65:
            return None
        keys.append(redeem[pc + 1 : pc + 1 + op])
        pc += 1 + op
    if pc != stop or len(keys) != n_keys:
        return None
    h = RIPEMD160_TEMPLATE.copy()
    h.update(_sha256(redeem).digest())
    if h.digest() != spk[2:22]:
        return E.EVAL_FALSE  # OP_EQUAL pushes false
    # CHECKMULTISIG (SigVersion::BASE): FindAndDelete every signature push, then match
    # signatures to keys from the top of the stack down (last signature, last key first).
    script_code = redeem
    deleted = False
    for sig in reversed(sigs):  # the general path's order: from the top of the stack
        script_code, found = find_and_delete(script_code, push_data_raw(sig))
        if found:
            if flags & F_CONST_SCRIPTCODE:
                return E.SIG_FINDANDDELETE
            deleted = True
    msgs: dict[int, bytes] = {}
    isig = m - 1
    ikey = n_keys - 1
    n_sigs = m
    remaining = n_keys
    success = True
    while success and n_sigs > 0:
        sig = sigs[isig]
        pubkey = keys[ikey]
        _encoding_checks(sig, pubkey, flags, False)
        ok = False
        if len(pubkey) in (33, 65):  # always, by the template; CheckECDSASignature's guard
            hash_type = sig[-1]
            msg = msgs.get(hash_type)
            if msg is None:
                # the template's only opcodes are OP_m, pushes, OP_n and CHECKMULTISIG
                msg = msgs[hash_type] = legacy_sighash(script_code, tx, n_in, hash_type, txdata, not deleted)
            ok = _ecdsa(sig, pubkey, msg, flags)
        if ok:
            isig -= 1
            n_sigs -= 1
        ikey -= 1
        remaining -= 1
        if n_sigs > remaining:
            success = False
    if not success:
        # every signature is non-empty, so NULLFAIL fails the spend; the dummy is OP_0
        return E.SIG_NULLFAIL if flags & F_NULLFAIL else E.EVAL_FALSE
    if flags & F_WITNESS and txin.witness:
        return E.WITNESS_UNEXPECTED  # the redeem script is never a witness program
    return _OK


# --- taproot ------------------------------------------------------------------------------------
def _schnorr(sig: bytes, pubkey: bytes, n_in: int, sigversion: int, txdata: PrecomputedTxData,
             leaf_hash: bytes | None) -> ScriptError:
    """TxChecker.check_schnorr without an annex and with no OP_CODESEPARATOR executed."""
    n = len(sig)
    if n == 64:
        hash_type = 0
    elif n == 65:
        hash_type = sig[64]
        if hash_type == 0:
            return E.SCHNORR_SIG_HASHTYPE
        sig = sig[:64]
    else:
        return E.SCHNORR_SIG_SIZE
    if hash_type <= 1:
        # shared prefix from the midstate; then spend type (ext flag, no annex) and the
        # input index, and for tapscript the leaf hash, key version 0 and no code separator
        h = txdata.taproot_midstate(hash_type).copy()
        if leaf_hash is None:
            h.update(b"\x00" + _U32(n_in))
        else:
            h.update(b"\x02" + _U32(n_in) + leaf_hash + b"\x00\xff\xff\xff\xff")
        msg = h.digest()
    else:
        msg = taproot_sighash(txdata, n_in, hash_type, sigversion, None, leaf_hash, 0xFFFFFFFF)
        if msg is None:
            return E.SCHNORR_SIG_HASHTYPE
    pk = _XONLY_CACHE.get(pubkey)
    if pk is None:
        pk = _new(_XONLY_T)
        if not _xonly_parse(_CTX, pk, pubkey):
            return E.SCHNORR_SIG
        if len(_XONLY_CACHE) >= _CACHE_MAX:
            _XONLY_CACHE.clear()
        _XONLY_CACHE[pubkey] = pk
    if not _schnorr_verify(_CTX, sig, msg, 32, pk):
        return E.SCHNORR_SIG
    return _OK


def _p2tr(n_in: int, witness: Sequence[bytes], program: bytes, flags: int,
          txdata: PrecomputedTxData) -> ScriptError | None:
    if not program[31] & 0x7F and program.count(0, 0, 31) == 31:  # cast_to_bool, inlined
        return E.EVAL_FALSE
    if not flags & F_TAPROOT:
        return _OK
    nw = len(witness)
    if nw == 1:
        return _schnorr(witness[0], program, n_in, SIGVERSION_TAPROOT, txdata, None)
    if nw == 3:
        return _p2tr_checksig_leaf(n_in, witness, program, txdata)
    return None


def _p2tr_checksig_leaf(n_in: int, witness: Sequence[bytes], program: bytes,
                        txdata: PrecomputedTxData) -> ScriptError | None:
    """Script path with leaf `<32-byte key> OP_CHECKSIG`, tapscript leaf version, no annex."""
    from regtest.consensus.witness import tapleaf_hash, verify_taproot_commitment

    sig, script, control = witness
    if len(script) != 34 or script[0] != 0x20 or script[33] != 0xAC:
        return None
    nc = len(control)
    if nc < 33 or nc > 33 + 32 * 128 or (nc - 33) % 32 or control[0] & 0xFE != 0xC0:
        return None  # annex, other leaf versions and bad control sizes: general path
    leaf = tapleaf_hash(0xC0, script)
    if not verify_taproot_commitment(control, program, leaf):
        return E.WITNESS_PROGRAM_MISMATCH
    # No OP_SUCCESSx; one stack item, at most 520 bytes; the push is minimal; the budget
    # (witness size + 50) always covers one signature check.
    if len(sig) > 520:
        return E.PUSH_SIZE
    if not sig:
        return E.EVAL_FALSE  # CHECKSIG pushes false
    return _schnorr(sig, script[1:33], n_in, SIGVERSION_TAPSCRIPT, txdata, leaf)
