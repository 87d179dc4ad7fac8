"""Focused interpreter behaviour: witness fast paths against the generic path, taproot key and
script path rules, tapscript specifics, legacy scriptCode rules, lock times and the public API."""

from __future__ import annotations

import hashlib

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtest.consensus import checker as chk
from regtest.consensus import interpreter as itp
from regtest.consensus import witness as wit
from regtest.consensus.crypto import taproot_output_key, tap_tweak_hash
from regtest.consensus.hashes import hash160, sha256
from regtest.consensus.script import (
    OP_CHECKLOCKTIMEVERIFY,
    OP_CHECKMULTISIG,
    OP_CHECKSEQUENCEVERIFY,
    OP_CHECKSIG,
    OP_CHECKSIGADD,
    OP_CHECKSIGVERIFY,
    OP_CODESEPARATOR,
    OP_DROP,
    OP_DUP,
    OP_EQUALVERIFY,
    OP_HASH160,
    OP_NUMEQUAL,
    OP_TRUE,
    build_script,
)
from regtest.consensus.script_error import ScriptError, ScriptVerifyError
from regtest.consensus.script_flags import MANDATORY_FLAGS, STANDARD_FLAGS, ScriptFlags
from regtest.consensus.sighash import (
    SIGVERSION_TAPROOT,
    SIGVERSION_TAPSCRIPT,
    PrecomputedTxData,
    legacy_sighash,
    segwit_v0_sighash,
    taproot_sighash,
)
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.consensus.verify import check_input, verify_input, verify_transaction
from regtest.testing.core_oracle import CORE_FLAGS_MASK, CoreTx, is_valid_combination

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEYS = [coincurve.PrivateKey(hashlib.sha256(b"interp %d" % i).digest()) for i in range(4)]
STD = int(STANDARD_FLAGS)
E = ScriptError


def _check(tx: Transaction, index: int, spent: list[TxOut], flags: int) -> ScriptError:
    """Our verdict under `flags`, plus a cross-check against Core's engine (pbk): on the
    consensus subset of `flags` our verdict must equal Core's, and passing under `flags`
    must imply passing under the subset (policy flags only add restrictions)."""
    ours = check_input(tx, index, spent, flags)
    consensus = flags & CORE_FLAGS_MASK
    if is_valid_combination(consensus):
        ours_consensus = check_input(tx, index, spent, consensus)
        core = CoreTx(tx.serialize(), spent).verify(index, consensus)
        assert core == (ours_consensus == E.OK), f"Core says {core}, we say {ours_consensus.name}"
        assert ours != E.OK or ours_consensus == E.OK
    return ours


def _tx(n_inputs: int = 1, version: int = 2, locktime: int = 0, sequence: int = 0xFFFFFFFE) -> Transaction:
    vin = tuple(TxIn(OutPoint(bytes([i + 1]) * 32, i), sequence=sequence) for i in range(n_inputs))
    return Transaction(version, vin, (TxOut(1000, b"\x51"), TxOut(2000, b"\x52")), locktime)


def _with(tx: Transaction, i: int, script_sig: bytes = b"", witness: tuple[bytes, ...] = ()) -> Transaction:
    vin = list(tx.vin)
    vin[i] = TxIn(vin[i].prevout, script_sig, vin[i].sequence, witness)
    return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)


def _ecdsa(key: coincurve.PrivateKey, msg: bytes, hashtype: int = 1) -> bytes:
    return key.sign(msg, hasher=None) + bytes([hashtype])


def _xonly(key: coincurve.PrivateKey) -> bytes:
    return key.public_key_xonly.format()


def _tweaked(key: coincurve.PrivateKey, merkle_root: bytes | None) -> coincurve.PrivateKey:
    secret = int.from_bytes(key.secret, "big")
    if key.public_key.format()[0] == 3:
        secret = ORDER - secret
    base = coincurve.PrivateKey(secret.to_bytes(32, "big"))
    return base.add(tap_tweak_hash(_xonly(key), merkle_root))


# --- P2WPKH fast path == generic P2PKH witness script ---------------------------------------
def _p2wpkh_case(witness: tuple[bytes, ...], program: bytes) -> tuple[Transaction, list[TxOut]]:
    spent = [TxOut(5000, b"\x00\x14" + program)]
    return _with(_tx(), 0, witness=witness), spent


def _both_paths(tx: Transaction, spent: list[TxOut], flags: int) -> tuple[ScriptError, ScriptError]:
    """(verdict with the template fast paths, verdict through the general interpreter)."""
    fast = check_input(tx, 0, spent, flags)
    chk.FAST_PATHS = False
    try:
        general = check_input(tx, 0, spent, flags)
    finally:
        chk.FAST_PATHS = True
    return fast, general


def _p2wpkh_variants() -> list:
    key = KEYS[0]
    pub = key.public_key.format()
    unc = key.public_key.format(False)
    tx = _tx()
    spent = [TxOut(5000, b"\x00\x14" + hash160(pub))]
    code = build_script(OP_DUP, OP_HASH160, hash160(pub), OP_EQUALVERIFY, OP_CHECKSIG)
    msg = segwit_v0_sighash(code, tx, 0, 1, 5000, PrecomputedTxData(tx, spent))
    good = _ecdsa(key, msg)
    r_s = good[:-1]
    high_s_sig = _high_s(r_s) + b"\x01"
    unc_code = build_script(OP_DUP, OP_HASH160, hash160(unc), OP_EQUALVERIFY, OP_CHECKSIG)
    unc_msg = segwit_v0_sighash(unc_code, tx, 0, 1, 5000, PrecomputedTxData(tx, [TxOut(5000, b"\x00\x14" + hash160(unc))]))
    return [
        ("good", (good, pub), hash160(pub)),
        ("wrong-msg", (_ecdsa(key, sha256(b"x")), pub), hash160(pub)),
        ("empty-sig", (b"", pub), hash160(pub)),
        ("high-s", (high_s_sig, pub), hash160(pub)),
        ("bad-hashtype", (good[:-1] + b"\x05", pub), hash160(pub)),
        ("not-der", (b"\x30\x01" + good[2:], pub), hash160(pub)),
        ("wrong-key-hash", (good, pub), b"\x01" * 20),
        ("uncompressed", (_ecdsa(key, unc_msg), unc), hash160(unc)),
        ("oversized", (good, pub + bytes(500)), hash160(pub + bytes(500))),
    ]


def _high_s(der: bytes) -> bytes:
    len_r = der[3]
    r = int.from_bytes(der[4 : 4 + len_r], "big")
    s = int.from_bytes(der[6 + len_r :], "big")
    s = ORDER - s

    def integer(v: int) -> bytes:
        b = v.to_bytes((v.bit_length() + 7) // 8, "big")
        return b"\x02" + bytes([len(b) + (b[0] >> 7)]) + (b"\x00" if b[0] & 0x80 else b"") + b

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


FLAG_SETS = [
    int(MANDATORY_FLAGS),
    STD,
    int(ScriptFlags.P2SH | ScriptFlags.WITNESS),
    int(ScriptFlags.NONE),
    int(MANDATORY_FLAGS | ScriptFlags.CONST_SCRIPTCODE | ScriptFlags.MINIMALDATA),
]


@pytest.mark.parametrize(("name", "witness", "program"), _p2wpkh_variants(), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("flags", FLAG_SETS)
def test_p2wpkh_fast_path_matches_general_path(name: str, witness: tuple, program: bytes, flags: int) -> None:
    tx, spent = _p2wpkh_case(witness, program)
    fast, general = _both_paths(tx, spent, flags)
    assert fast == general
    _check(tx, 0, spent, flags)
    if name == "good" and flags:
        assert fast == E.OK


def _p2pkh_variants() -> list:
    key = KEYS[3]
    pub = key.public_key.format()
    spk = build_script(OP_DUP, OP_HASH160, hash160(pub), OP_EQUALVERIFY, OP_CHECKSIG)
    tx = _tx()
    good = _ecdsa(key, legacy_sighash(spk, tx, 0, 1))
    # A "signature" equal to the pushed hash: FindAndDelete removes it from the scriptCode.
    in_code = hash160(pub)
    return [
        ("good", build_script(good, pub), spk, ()),
        ("pushdata1-sig", bytes([0x4C, len(good)]) + good + build_script(pub), spk, ()),
        ("three-pushes", build_script(b"", good, pub), spk, ()),
        ("one-push", build_script(pub), spk, ()),
        ("op-n-push", build_script(good) + b"\x51", spk, ()),
        ("non-push", build_script(good, pub) + b"\x61", spk, ()),
        ("truncated", build_script(good) + b"\x21\x02", spk, ()),
        ("wrong-key", build_script(good, KEYS[0].public_key.format()), spk, ()),
        ("bad-sig", build_script(good[:-2] + b"\x00\x01", pub), spk, ()),
        ("empty-sig", build_script(b"", pub), spk, ()),
        ("sig-in-code", build_script(in_code, pub), spk, ()),
        ("witness", build_script(good, pub), spk, (b"\x01",)),
        ("oversized", build_script(good + bytes(530), pub), spk, ()),
    ]


@pytest.mark.parametrize(("name", "script_sig", "spk", "witness"), _p2pkh_variants(), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("flags", FLAG_SETS)
def test_p2pkh_fast_path_matches_general_path(name: str, script_sig: bytes, spk: bytes, witness: tuple, flags: int) -> None:
    tx = _with(_tx(), 0, script_sig, witness)
    spent = [TxOut(5000, spk)]
    fast, general = _both_paths(tx, spent, flags)
    assert fast == general
    _check(tx, 0, spent, flags)
    if name == "good":
        assert fast == E.OK


def test_p2wpkh_witness_shape_and_malleation() -> None:
    pub = KEYS[0].public_key.format()
    spent = [TxOut(5000, b"\x00\x14" + hash160(pub))]
    assert _check(_with(_tx(), 0, witness=(b"",)), 0, spent, STD) == E.WITNESS_PROGRAM_MISMATCH
    assert _check(_with(_tx(), 0, b"\x51", (b"", pub)), 0, spent, STD) == E.WITNESS_MALLEATED
    assert _check(_with(_tx(), 0), 0, [TxOut(1, b"\x00\x14" + bytes(20))], STD) == E.EVAL_FALSE
    assert _check(_with(_tx(), 0), 0, [TxOut(1, b"\x00\x15" + b"\x01" * 21)], STD) == E.WITNESS_PROGRAM_WRONG_LENGTH


def test_witness_unexpected_and_upgradable_programs() -> None:
    assert _check(_with(_tx(), 0, b"\x51", (b"\x01",)), 0, [TxOut(1, b"")], STD) == E.WITNESS_UNEXPECTED
    v2 = [TxOut(1, b"\x52\x02\xaa\xbb")]
    assert _check(_with(_tx(), 0), 0, v2, int(MANDATORY_FLAGS)) == E.OK
    assert _check(_with(_tx(), 0), 0, v2, STD) == E.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM
    anchor = [TxOut(1, b"\x51\x02\x4e\x73")]
    assert _check(_with(_tx(), 0), 0, anchor, STD) == E.OK


# --- taproot key path ---------------------------------------------------------------------------
def _p2tr_key_spend(hashtype: int, annex: bytes | None = None, tamper: bool = False) -> ScriptError:
    key = KEYS[1]
    out_key, _ = taproot_output_key(_xonly(key), None)
    tx = _tx(2)
    spent = [TxOut(7000, b"\x51\x20" + out_key), TxOut(8000, b"\x51\x20" + out_key)]
    txdata = PrecomputedTxData(tx, spent)
    annex_hash = None if annex is None else sha256(bytes([len(annex)]) + annex)
    msg = taproot_sighash(txdata, 1, hashtype, SIGVERSION_TAPROOT, annex_hash)
    assert msg is not None
    sig = _tweaked(key, None).sign_schnorr(msg) + (bytes([hashtype]) if hashtype else b"")
    if tamper:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    witness = (sig,) if annex is None else (sig, annex)
    tx = _with(tx, 1, witness=witness)
    return _check(tx, 1, spent, STD)


@pytest.mark.parametrize("hashtype", [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83])
def test_taproot_key_path_hashtypes(hashtype: int) -> None:
    assert _p2tr_key_spend(hashtype) == E.OK


def test_taproot_key_path_failures_and_annex() -> None:
    assert _p2tr_key_spend(0, tamper=True) == E.SCHNORR_SIG
    assert _p2tr_key_spend(0x01, annex=b"\x50\x01\x02") == E.OK
    out_key, _ = taproot_output_key(_xonly(KEYS[1]), None)
    spent = [TxOut(1, b"\x51\x20" + out_key)]
    assert _check(_with(_tx(), 0, witness=(bytes(63),)), 0, spent, STD) == E.SCHNORR_SIG_SIZE
    assert _check(_with(_tx(), 0, witness=(bytes(64) + b"\x00",)), 0, spent, STD) == E.SCHNORR_SIG_HASHTYPE
    assert _check(_with(_tx(), 0, witness=(bytes(64) + b"\x04",)), 0, spent, STD) == E.SCHNORR_SIG_HASHTYPE
    assert _check(_with(_tx(), 0), 0, spent, STD) == E.WITNESS_PROGRAM_WITNESS_EMPTY
    # Without the TAPROOT flag a v1 program is anyone-can-spend.
    assert _check(_with(_tx(), 0, witness=(bytes(64),)), 0, spent, int(ScriptFlags.P2SH | ScriptFlags.WITNESS)) == E.OK
    # SIGHASH_SINGLE with no matching output.
    tx = _tx(3)
    spent3 = spent * 3
    sig = _tweaked(KEYS[1], None).sign_schnorr(bytes(32)) + b"\x03"
    assert _check(_with(tx, 2, witness=(sig,)), 2, spent3, STD) == E.SCHNORR_SIG_HASHTYPE


# --- taproot script path ------------------------------------------------------------------------
class _Tree:
    """A two-leaf tree: `script` and a sibling leaf; internal key NUMS-free (a real key)."""

    def __init__(self, script: bytes, leaf_version: int = 0xC0) -> None:
        self.script = script
        self.leaf_version = leaf_version
        self.internal = _xonly(KEYS[2])
        self.sibling = wit.tapleaf_hash(0xC0, b"\x51")
        self.leaf = wit.tapleaf_hash(leaf_version, script)
        self.root = wit.tapbranch_hash(self.leaf, self.sibling)
        self.output, self.parity = taproot_output_key(self.internal, self.root)

    def control(self) -> bytes:
        return bytes([self.leaf_version | self.parity]) + self.internal + self.sibling

    def spent(self) -> list[TxOut]:
        return [TxOut(9000, b"\x51\x20" + self.output)]

    def sign(self, tx: Transaction, key: coincurve.PrivateKey, hashtype: int = 0, codesep: int = 0xFFFFFFFF) -> bytes:
        msg = taproot_sighash(PrecomputedTxData(tx, self.spent()), 0, hashtype, SIGVERSION_TAPSCRIPT, None, self.leaf, codesep)
        assert msg is not None
        return key.sign_schnorr(msg) + (bytes([hashtype]) if hashtype else b"")

    def check(self, stack: tuple[bytes, ...], flags: int = STD, control: bytes | None = None) -> ScriptError:
        tx = _with(_tx(), 0, witness=stack + (self.script, control if control is not None else self.control()))
        return _check(tx, 0, self.spent(), flags)


def test_tapscript_checksig() -> None:
    tree = _Tree(build_script(_xonly(KEYS[0]), OP_CHECKSIG))
    sig = tree.sign(_tx(), KEYS[0])
    assert tree.check((sig,)) == E.OK
    assert tree.check((b"",)) == E.EVAL_FALSE  # empty signature: CHECKSIG pushes false
    assert tree.check((bytes([sig[0] ^ 1]) + sig[1:],)) == E.SCHNORR_SIG
    assert tree.check((tree.sign(_tx(), KEYS[0], 0x83),)) == E.OK


def test_tapscript_control_block_rules() -> None:
    tree = _Tree(build_script(_xonly(KEYS[0]), OP_CHECKSIG))
    sig = tree.sign(_tx(), KEYS[0])
    ctrl = tree.control()
    assert tree.check((sig,), control=bytes([ctrl[0] ^ 1]) + ctrl[1:]) == E.WITNESS_PROGRAM_MISMATCH
    assert tree.check((sig,), control=ctrl[:-1]) == E.TAPROOT_WRONG_CONTROL_SIZE
    assert tree.check((sig,), control=ctrl[:32]) == E.TAPROOT_WRONG_CONTROL_SIZE
    assert tree.check((sig,), control=ctrl + bytes(32)) == E.WITNESS_PROGRAM_MISMATCH


def test_unknown_leaf_version_and_op_success() -> None:
    other = _Tree(b"\x00", leaf_version=0xC2)
    assert other.check(()) == E.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION
    assert other.check((), flags=int(MANDATORY_FLAGS)) == E.OK
    success = _Tree(b"\x50\x6a")  # OP_SUCCESS80 then OP_RETURN: OP_SUCCESS wins
    assert success.check((), flags=int(MANDATORY_FLAGS)) == E.OK
    assert success.check(()) == E.DISCOURAGE_OP_SUCCESS
    bad_push = _Tree(b"\x4c")  # truncated push before any OP_SUCCESS
    assert bad_push.check(()) == E.BAD_OPCODE


def test_tapscript_checksigadd_threshold_and_multisig_disabled() -> None:
    keys = KEYS[:3]
    script = build_script(
        _xonly(keys[0]), OP_CHECKSIG, _xonly(keys[1]), OP_CHECKSIGADD, _xonly(keys[2]), OP_CHECKSIGADD, 2, OP_NUMEQUAL
    )
    tree = _Tree(script)
    s0, s2 = tree.sign(_tx(), keys[0]), tree.sign(_tx(), keys[2])
    assert tree.check((s2, b"", s0)) == E.OK  # stack order: last key's sig first
    assert tree.check((b"", b"", s0)) == E.EVAL_FALSE
    ms = _Tree(build_script(1, _xonly(keys[0]), 1, OP_CHECKMULTISIG))
    assert ms.check((b"", b"")) == E.TAPSCRIPT_CHECKMULTISIG


def test_tapscript_minimalif_and_empty_pubkey() -> None:
    tree = _Tree(b"\x63\x51\x67\x51\x68")  # IF 1 ELSE 1 ENDIF
    assert tree.check((b"\x01",), flags=int(MANDATORY_FLAGS)) == E.OK
    assert tree.check((b"\x02",), flags=int(MANDATORY_FLAGS)) == E.TAPSCRIPT_MINIMALIF
    empty_key = _Tree(build_script(b"", OP_CHECKSIG))
    assert empty_key.check((b"",)) == E.TAPSCRIPT_EMPTY_PUBKEY
    unknown_key = _Tree(build_script(b"\x01\x02", OP_CHECKSIG, OP_DROP, OP_TRUE))
    assert unknown_key.check((b"\x01",)) == E.DISCOURAGE_UPGRADABLE_PUBKEYTYPE
    assert unknown_key.check((b"\x01",), flags=int(MANDATORY_FLAGS)) == E.OK


def test_tapscript_validation_weight_budget() -> None:
    # 4 signature checks cost 200 weight; the witness must be big enough to pay for them.
    key = KEYS[0]
    script = build_script(*([_xonly(key), OP_CHECKSIGVERIFY] * 3), _xonly(key), OP_CHECKSIG)
    tree = _Tree(script)
    sig = tree.sign(_tx(), key)
    assert tree.check((sig, sig, sig, sig)) == E.OK
    # One signature reused by DUP: every check costs 50 but the witness stays small.
    many = build_script(*([OP_DUP, _xonly(key), OP_CHECKSIGVERIFY] * 19), _xonly(key), OP_CHECKSIG)
    heavy = _Tree(many)
    assert heavy.check((heavy.sign(_tx(), key),)) == E.TAPSCRIPT_VALIDATION_WEIGHT
    few = _Tree(build_script(*([OP_DUP, _xonly(key), OP_CHECKSIGVERIFY] * 5), _xonly(key), OP_CHECKSIG))
    assert few.check((few.sign(_tx(), key),)) == E.OK


def test_tapscript_codeseparator_position_is_committed() -> None:
    key = KEYS[0]
    script = build_script(OP_CODESEPARATOR, _xonly(key), OP_CHECKSIG)
    tree = _Tree(script)
    assert tree.check((tree.sign(_tx(), key, codesep=0),)) == E.OK
    assert tree.check((tree.sign(_tx(), key),)) == E.SCHNORR_SIG


# --- legacy scriptCode rules -------------------------------------------------------------------
def test_find_and_delete_and_const_scriptcode() -> None:
    key = KEYS[3]
    pub = key.public_key.format()
    tx = _tx()
    # The scriptPubKey carries a copy of the signature; FindAndDelete removes it before
    # hashing, so the signature commits to the script without its own push.
    code_after = build_script(OP_DROP, pub, OP_CHECKSIG)
    sig = _ecdsa(key, legacy_sighash(code_after, tx, 0, 1))
    spk = build_script(sig) + code_after
    spend = _with(tx, 0, build_script(sig))
    spent = [TxOut(1, spk)]
    assert _check(spend, 0, spent, int(MANDATORY_FLAGS)) == E.OK
    assert _check(spend, 0, spent, int(MANDATORY_FLAGS | ScriptFlags.CONST_SCRIPTCODE)) == E.SIG_FINDANDDELETE
    sep = [TxOut(1, build_script(OP_CODESEPARATOR, OP_TRUE))]
    assert _check(_with(tx, 0), 0, sep, int(MANDATORY_FLAGS)) == E.OK
    assert _check(_with(tx, 0), 0, sep, int(ScriptFlags.CONST_SCRIPTCODE)) == E.OP_CODESEPARATOR


def test_find_and_delete_is_op_aligned() -> None:
    assert itp.find_and_delete(b"\x02\xab\xcd\x51", b"\x02\xab\xcd") == (b"\x51", 1)
    # The pattern bytes inside another push are not an op boundary: nothing removed.
    assert itp.find_and_delete(b"\x03\x02\xab\xcd", b"\x02\xab\xcd") == (b"\x03\x02\xab\xcd", 0)
    assert itp.find_and_delete(b"\x01\x01\x01\x01", b"\x01\x01") == (b"", 2)
    assert itp.find_and_delete(b"\x51\x4c", b"\x51") == (b"\x4c", 1)  # truncated tail kept


# --- lock times -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script_num", "locktime", "sequence", "expected"),
    [
        (100, 100, 0xFFFFFFFE, E.OK),
        (101, 100, 0xFFFFFFFE, E.UNSATISFIED_LOCKTIME),
        (100, 100, 0xFFFFFFFF, E.UNSATISFIED_LOCKTIME),  # final sequence disables nLockTime
        (500_000_000, 100, 0xFFFFFFFE, E.UNSATISFIED_LOCKTIME),  # height vs time mismatch
        (-1, 100, 0xFFFFFFFE, E.NEGATIVE_LOCKTIME),
    ],
)
def test_checklocktimeverify(script_num: int, locktime: int, sequence: int, expected: ScriptError) -> None:
    tx = _tx(locktime=locktime, sequence=sequence)
    spent = [TxOut(1, build_script(script_num, OP_CHECKLOCKTIMEVERIFY, OP_DROP, OP_TRUE))]
    assert _check(tx, 0, spent, STD) == expected
    assert _check(tx, 0, spent, int(ScriptFlags.P2SH)) == E.OK  # flag off: a NOP


@pytest.mark.parametrize(
    ("script_num", "version", "sequence", "expected"),
    [
        (10, 2, 10, E.OK),
        (11, 2, 10, E.UNSATISFIED_LOCKTIME),
        (10, 1, 10, E.UNSATISFIED_LOCKTIME),
        (10 | (1 << 22), 2, 10, E.UNSATISFIED_LOCKTIME),
        (1 << 31, 2, 0, E.OK),  # disable flag in the operand: a NOP
        (10, 2, (1 << 31) | 10, E.UNSATISFIED_LOCKTIME),
    ],
)
def test_checksequenceverify(script_num: int, version: int, sequence: int, expected: ScriptError) -> None:
    tx = _tx(version=version, sequence=sequence)
    spent = [TxOut(1, build_script(script_num, OP_CHECKSEQUENCEVERIFY, OP_DROP, OP_TRUE))]
    assert _check(tx, 0, spent, STD) == expected


# --- API --------------------------------------------------------------------------------------------
def test_public_api_errors() -> None:
    tx = _tx(2)
    spent = [TxOut(1, b"\x51"), TxOut(1, b"\x00")]
    assert check_input(tx, 0, spent, STD) == E.OK
    verify_input(tx, 0, spent, STD)
    with pytest.raises(ScriptVerifyError) as info:
        verify_transaction(tx, spent, STD)
    assert info.value.error == E.EVAL_FALSE and info.value.input_index == 1
    with pytest.raises(ValueError):
        check_input(tx, 0, spent[:1], STD)
    with pytest.raises(IndexError):
        check_input(tx, 2, spent, STD)


@pytest.mark.parametrize(
    ("value", "truth"),
    [
        (b"", False), (b"\x00", False), (b"\x80", False), (b"\x00\x00\x80", False), (b"\x00" * 520, False),
        (b"\x01", True), (b"\x00\x80\x00", True), (b"\x80\x00", True), (b"\x00\x01\x80", True),
        (b"\x00\x00\x81", True), (b"\x7f", True),
    ],
)
def test_cast_to_bool(value: bytes, truth: bool) -> None:
    assert itp.cast_to_bool(value) is truth
    assert chk.fast_hash160(value) == hash160(value)


@st.composite
def _template_spends(draw: st.DrawFn) -> tuple[Transaction, list[TxOut], int]:
    """P2PKH / P2WPKH spends with randomly damaged unlocking data and random flag sets."""
    key = KEYS[draw(st.integers(0, 3))]
    pub = key.public_key.format(compressed=draw(st.booleans()))
    h = hash160(pub)
    tx = _tx()
    flags = draw(st.integers(0, (1 << 21) - 1))
    if draw(st.booleans()):
        spk = build_script(OP_DUP, OP_HASH160, h, OP_EQUALVERIFY, OP_CHECKSIG)
        sig = _ecdsa(key, legacy_sighash(spk, tx, 0, draw(st.sampled_from([1, 2, 3, 0x81, 0]))))
    else:
        spk = b"\x00\x14" + h
        code = build_script(OP_DUP, OP_HASH160, h, OP_EQUALVERIFY, OP_CHECKSIG)
        msg = segwit_v0_sighash(code, tx, 0, 1, 5000, PrecomputedTxData(tx, [TxOut(5000, spk)]))
        sig = _ecdsa(key, msg, draw(st.sampled_from([1, 0x41])))
    items = [sig, pub]
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.integers(0, 4))
        pos = draw(st.integers(0, len(items)))
        if action == 0:
            items.insert(pos, draw(st.binary(max_size=3)))
        elif action == 1 and items:
            del items[min(pos, len(items) - 1)]
        elif action == 2 and items:
            i = min(pos, len(items) - 1)
            items[i] = items[i][:-1] + bytes([(items[i][-1:] or b"\x00")[0] ^ 1])
        elif action == 3:
            items.insert(pos, draw(st.sampled_from([b"\x81", b"\x05", b"\x00"])))
    if spk[0] == 0x00 and draw(st.booleans()):
        script_sig = b""
        witness = tuple(items)
    else:
        encoded = [
            (bytes([0x4C, len(i)]) + i) if draw(st.integers(0, 5)) == 0 else build_script(i) for i in items
        ]
        script_sig = b"".join(encoded)
        witness = (b"\x01",) if draw(st.integers(0, 5)) == 0 else ()
    return _with(tx, 0, script_sig, witness), [TxOut(5000, spk)], flags


@given(_template_spends())
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_template_fast_paths_match_general_path(case: tuple[Transaction, list[TxOut], int]) -> None:
    tx, spent, flags = case
    fast, general = _both_paths(tx, spent, flags)
    assert fast == general
