"""Differential: taproot key path and script path (BIP341/342) against Core's engine.

Key path: every hashtype incl. DEFAULT and undefined ones, annex, damaged and misplaced
signatures. Script path: CHECKSIG / CHECKSIGVERIFY / CHECKSIGADD leaves, code separators,
OP_SUCCESSx, disabled CHECKMULTISIG, unknown leaf versions, damaged control blocks.
"""

from __future__ import annotations

from hypothesis import strategies as st

from regtest.consensus import script as S
from regtest.consensus.script import push_data, push_int
from regtest.testing.keys import SCHNORR_MUTATIONS, Key, mutate_schnorr
from regtest.testing.mutate import TX_EDITS, edit_after_signing
from regtest.testing.sighash_ref import UnsignableHashtype
from regtest.testing.txgen import (
    SIGHASH_DEFAULT,
    TAPROOT_HASHTYPES,
    TAPROOT_LEAF_TAPSCRIPT,
    Case,
    build_case,
    sign_taproot,
    tapleaf_hash,
    taproot_output,
    taproot_output_from_path,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import (
    TAPROOT,
    WITNESS,
    flags,
    keys,
    random_scripts,
    random_tapscripts,
    shapes,
    stack_items,
)

taproot_flags = st.one_of(flags().map(lambda f: f | TAPROOT | WITNESS | 1), flags())
hashtypes = st.one_of(
    st.sampled_from(TAPROOT_HASHTYPES),
    st.sampled_from(TAPROOT_HASHTYPES),
    st.sampled_from(TAPROOT_HASHTYPES),
    st.sampled_from([0x04, 0x80, 0x84, 0x40, 0xFF]),
)
annexes = st.one_of(
    st.none(),
    st.none(),
    st.none(),
    st.binary(max_size=40).map(lambda b: b"\x50" + b),
)
OP_SUCCESS = [op for op in range(256) if S.is_op_success(op)]


def _sig(secret: int, tx, index, spent, ht, annex, leaf_hash=None, codesep=0xFFFFFFFF, rnd=0) -> bytes:
    """A signature for `ht`, or random bytes of the right length where taproot defines none."""
    try:
        return sign_taproot(secret, tx, index, spent, ht, annex, leaf_hash, codesep)
    except UnsignableHashtype:
        return rnd.to_bytes(64, "big") + (bytes([ht]) if ht else b"")


@st.composite
def key_path_cases(draw: st.DrawFn) -> Case:
    shape = draw(shapes())
    fl = draw(taproot_flags)
    internal = draw(keys)
    n_leaves = draw(st.integers(0, 3))
    leaves = [(TAPROOT_LEAF_TAPSCRIPT, push_int(i) + bytes([S.OP_EQUAL])) for i in range(n_leaves)]
    out = taproot_output(internal, leaves, draw(st.integers(0, 100)))
    ht = draw(hashtypes)
    annex = draw(annexes)
    label = ["keypath", f"ht{ht:02x}"]
    twist = draw(st.sampled_from(
        ["none"] * 6 + ["mutate", "internal_key", "annex_unsigned", "annex_dropped", "explicit_default", "empty"]
    ))
    label.append(twist)
    how = draw(st.sampled_from(SCHNORR_MUTATIONS))
    n = draw(st.integers(0, 2**16))
    rnd = draw(st.integers(0, 2**512 - 1))
    amount = draw(st.integers(0, 2**40))

    def unlock(tx, spent):
        secret = internal.secret if twist == "internal_key" else out.tweaked_secret
        signed_annex = None if twist == "annex_unsigned" else annex
        if twist == "annex_dropped" and annex is None:
            signed_annex = b"\x50"
        sig = _sig(secret, tx, shape.index, spent, ht, signed_annex, rnd=rnd)
        if twist == "mutate":
            sig = mutate_schnorr(sig[:64], how, n) + sig[64:]
        elif twist == "explicit_default" and ht == SIGHASH_DEFAULT:
            sig = sig + b"\x00"
        elif twist == "empty":
            sig = b""
        wit = (sig,) if twist == "annex_dropped" or annex is None else (sig, annex)
        return b"", wit

    case = build_case(shape, out.script_pubkey, amount, unlock, fl, "/".join(label))
    if draw(st.integers(0, 3)) == 0:
        case = edit_after_signing(case, draw(st.sampled_from(TX_EDITS)), n)
    return case


LEAF_KINDS = (
    "checksig", "checksigverify", "checksigadd", "codesep", "success", "multisig", "random",
    "unknown_version", "pushes", "unknown_pubkey", "deep_path",
)
CB_TWISTS = (
    "flip_parity", "wrong_internal", "truncate_path", "extra_node", "bad_length",
    "wrong_leaf_version", "too_long", "annex_like_version",
)


@st.composite
def script_path_cases(draw: st.DrawFn) -> Case:
    shape = draw(shapes())
    fl = draw(taproot_flags)
    internal = draw(keys)
    kind = draw(st.sampled_from(LEAF_KINDS))
    ks: list[Key] = [draw(keys) for _ in range(3)]
    label = ["scriptpath", kind]
    version = TAPROOT_LEAF_TAPSCRIPT
    hts = [draw(hashtypes) for _ in range(3)]
    codesep_pos = 0xFFFFFFFF
    signers: list[int] = []  # key indices that sign, in witness order (last consumed first)
    extra_stack: tuple[bytes, ...] = ()
    if kind == "checksig":
        leaf = push_data(ks[0].xonly) + bytes([S.OP_CHECKSIG])
        signers = [0]
    elif kind == "checksigverify":
        leaf = push_data(ks[0].xonly) + bytes([S.OP_CHECKSIGVERIFY]) + push_data(ks[1].xonly) + bytes([S.OP_CHECKSIG])
        signers = [1, 0]
    elif kind == "checksigadd":
        k = draw(st.integers(0, 3))
        leaf = (
            push_data(ks[0].xonly) + bytes([S.OP_CHECKSIG])
            + push_data(ks[1].xonly) + bytes([S.OP_CHECKSIGADD])
            + push_data(ks[2].xonly) + bytes([S.OP_CHECKSIGADD])
            + push_int(k) + bytes([S.OP_NUMEQUAL])
        )
        signers = [2, 1, 0]
        label.append(f"k{k}")
    elif kind == "codesep":
        pre = draw(st.sampled_from([b"", bytes([S.OP_1, S.OP_DROP]), bytes([S.OP_NOP])]))
        leaf = pre + bytes([S.OP_CODESEPARATOR]) + push_data(ks[0].xonly) + bytes([S.OP_CHECKSIG])
        codesep_pos = {b"": 0, bytes([S.OP_NOP]): 1}.get(pre, 2)  # opcode index of the separator
        if draw(st.integers(0, 3)) == 0:
            codesep_pos = 0xFFFFFFFF  # signed as if no separator ran
            label.append("wrong_pos")
        signers = [0]
    elif kind == "success":
        leaf = draw(random_scripts)[:30] + bytes([draw(st.sampled_from(OP_SUCCESS))]) + draw(random_scripts)
        extra_stack = draw(stack_items())
    elif kind == "multisig":
        leaf = push_int(1) + push_data(ks[0].xonly) + push_int(1) + bytes([S.OP_CHECKMULTISIG])
        extra_stack = (b"",)
        signers = [0]
    elif kind == "unknown_version":
        version = draw(st.sampled_from([0xC2, 0xC4, 0x00, 0x02, 0x66, 0x7E, 0xFE, 0x50]))
        leaf = draw(random_scripts)
        extra_stack = draw(stack_items())
        label.append(f"v{version:02x}")
    elif kind == "pushes":  # stack/element limits: many or large items, MINIMALIF inputs
        leaf = draw(st.sampled_from([
            bytes([S.OP_IF, S.OP_1, S.OP_ELSE, S.OP_0, S.OP_ENDIF]),
            bytes([S.OP_NOTIF, S.OP_0, S.OP_ELSE, S.OP_1, S.OP_ENDIF]),
            bytes([S.OP_DEPTH, S.OP_1, S.OP_GREATERTHAN]),
            bytes([S.OP_SIZE, S.OP_NIP]),
            bytes([S.OP_2DUP, S.OP_2DUP, S.OP_2DROP, S.OP_2DROP, S.OP_DEPTH]),
        ]))
        n_items = draw(st.sampled_from([0, 1, 2, 997, 998, 999, 1000]))
        item = draw(st.sampled_from([b"", b"\x01", b"\x02", b"\x01\x00", b"\x80", b"\x00"]))
        extra_stack = (item,) * n_items
        label.append(f"n{n_items}")
    elif kind == "unknown_pubkey":  # non-32-byte keys: empty fails, others succeed unchecked
        pk = draw(st.sampled_from([b"", b"\x01", bytes(31), b"\x02" * 33, b"\x04" * 65, bytes(32)]))
        op = draw(st.sampled_from([S.OP_CHECKSIG, S.OP_CHECKSIGVERIFY, S.OP_CHECKSIGADD]))
        prefix = push_int(draw(st.integers(0, 2))) if op == S.OP_CHECKSIGADD else b""
        leaf = prefix + push_data(pk) + bytes([op])  # CHECKSIGADD: sig n pk -> n or n+1
        if op == S.OP_CHECKSIGVERIFY:
            leaf += bytes([S.OP_1])
        sig = draw(st.sampled_from([b"", bytes(64), bytes(65), b"\x01"]))
        extra_stack = (sig,)
        label.append(f"pk{len(pk)}/sig{len(sig)}")
    else:
        leaf = draw(random_tapscripts)
        extra_stack = draw(stack_items())

    if kind == "deep_path":  # merkle paths of 0..129 nodes (BIP341 allows at most 128)
        leaf = push_data(ks[0].xonly) + bytes([S.OP_CHECKSIG])
        signers = [0]
        extra_stack = ()
        depth = draw(st.sampled_from([0, 1, 7, 127, 128, 128, 129]))
        path = [bytes([j & 0xFF, draw(st.integers(0, 255))]) * 16 for j in range(depth)]
        out = taproot_output_from_path(internal, leaf, path)
        pos = 0
        label.append(f"d{depth}")
    else:
        other_leaves = [
            (TAPROOT_LEAF_TAPSCRIPT, push_int(i + 2) + bytes([S.OP_EQUAL]))
            for i in range(draw(st.integers(0, 4)))
        ]
        pos = draw(st.integers(0, len(other_leaves)))
        leaves = other_leaves[:pos] + [(version, leaf)] + other_leaves[pos:]
        out = taproot_output(internal, leaves, draw(st.integers(0, 100)))
    cb = out.control_blocks[pos]
    lh = tapleaf_hash(leaf, version)
    annex = draw(annexes)
    sig_twist = None
    if signers and draw(st.integers(0, 3)) == 0:
        sig_twist = (draw(st.sampled_from(SCHNORR_MUTATIONS + ("omit",))), draw(st.integers(0, 2**16)))
        label.append(f"sig:{sig_twist[0]}")
    if draw(st.integers(0, 4)) == 0:
        twist = draw(st.sampled_from(CB_TWISTS))
        label.append(f"cb:{twist}")
        n = draw(st.integers(0, 2**16))
        if twist == "flip_parity":
            cb = bytes([cb[0] ^ 1]) + cb[1:]
        elif twist == "wrong_internal":
            cb = cb[:1] + ks[2].xonly + cb[33:]
        elif twist == "truncate_path" and len(cb) > 33:
            cb = cb[:-32]
        elif twist == "extra_node":
            cb = cb + bytes([n & 0xFF]) * 32
        elif twist == "bad_length":
            cb = cb + b"\x00" if n & 1 else cb[:-1]
        elif twist == "wrong_leaf_version":
            cb = bytes([cb[0] ^ 2]) + cb[1:]
        elif twist == "too_long":
            cb = cb + bytes(32) * (129 - (len(cb) - 33) // 32)
        elif twist == "annex_like_version":
            cb = bytes([0x50 | (cb[0] & 1)]) + cb[1:]
    amount = draw(st.integers(0, 2**40))
    rnds = [draw(st.integers(0, 2**512 - 1)) for _ in range(3)]

    def unlock(tx, spent):
        sigs = []
        for j, signer in enumerate(signers):
            sig = _sig(ks[signer].secret, tx, shape.index, spent, hts[j], annex, lh, codesep_pos, rnds[j])
            if sig_twist is not None and j == 0:
                how, n = sig_twist
                sig = b"" if how == "omit" else mutate_schnorr(sig[:64], how, n) + sig[64:]
            sigs.append(sig)
        if kind == "checksigadd":  # some signers abstain with an empty signature
            for j in range(len(sigs)):
                if (rnds[0] >> j) & 1:
                    sigs[j] = b""
        wit = extra_stack + tuple(sigs) + (leaf, cb) + ((annex,) if annex is not None else ())
        return b"", wit

    case = build_case(shape, out.script_pubkey, amount, unlock, fl, "/".join(label))
    if draw(st.integers(0, 5)) == 0:
        case = edit_after_signing(case, draw(st.sampled_from(TX_EDITS)), rnds[1] & 0xFFFF)
    return case


def test_taproot_key_path_agrees_with_core() -> None:
    seen = differential(key_path_cases(), examples=900, min_valid=150, min_invalid=150)
    valid_labels = [k[0] for k, n in seen.items() if isinstance(k, tuple) and k[1]]
    for ht in TAPROOT_HASHTYPES:  # DEFAULT and the six others, accepted by both engines
        assert any(label.startswith(f"keypath/ht{ht:02x}/") for label in valid_labels), hex(ht)


def test_taproot_script_path_agrees_with_core() -> None:
    seen = differential(script_path_cases(), examples=1100, min_valid=150, min_invalid=150)
    for kind in LEAF_KINDS:
        assert any(str(k).startswith(f"scriptpath/{kind}") for k in seen), kind


def test_taproot_python_fast_paths_agree_with_core() -> None:
    """Key and script paths with the C accelerator off (the pure-Python fast paths)."""
    differential(key_path_cases(), examples=300, min_valid=50, min_invalid=50, accel=False)
    differential(script_path_cases(), examples=300, min_valid=40, min_invalid=40, accel=False)
