"""Differential: structural edge cases where engines typically part ways.

CHECKMULTISIG counts and the 201-op limit, code separators with signatures in legacy and
segwit v0 scripts, FindAndDelete of signatures pushed in odd ways, witness malleation and
unexpected witnesses, the tapscript validation-weight budget, and size limits (script size,
element size, stack size) in each script version. Core's engine and ours must agree.
"""

from __future__ import annotations

from hypothesis import strategies as st

from regtest.consensus import script as S
from regtest.consensus.script import push_data, push_data_raw, push_int
from regtest.testing import sighash_ref
from regtest.testing.txgen import (
    SIGHASH_DEFAULT,
    TAPROOT_LEAF_TAPSCRIPT,
    Case,
    build_case,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
    sign_taproot,
    tapleaf_hash,
    taproot_output,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import flags, keys, shapes

EDGE_KINDS = (
    "multisig_counts", "codesep_legacy", "codesep_v0", "findanddelete_variants",
    "witness_malleation", "tapscript_budget", "size_limits",
)


def _op(*ops: int) -> bytes:
    return bytes(ops)


def _filler(size: int) -> bytes:
    """A script of exactly `size` bytes that leaves one true element, using few opcodes
    (big pushes, each dropped), so only the script-size limit is in play."""
    out = bytearray([S.OP_1])
    while len(out) < size:
        r = size - len(out)
        if r >= 260:
            n = min(500, r - 4)
            out += _op(S.OP_PUSHDATA2) + n.to_bytes(2, "little") + bytes(n) + _op(S.OP_DROP)
        elif r >= 3:
            out += (push_data_raw(bytes(r - 2)) if r - 2 <= 75 else _op(S.OP_PUSHDATA1, r - 3) + bytes(r - 3))
            out += _op(S.OP_DROP)
        elif r == 2:
            out += _op(S.OP_0, S.OP_DROP)
        else:
            out += _op(S.OP_NOP)
    return bytes(out)


@st.composite
def edge_cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(EDGE_KINDS))
    shape = draw(shapes(max_inputs=2, max_outputs=2))
    fl = draw(flags())
    amount = draw(st.integers(0, 10**9))
    ks = [draw(keys) for _ in range(3)]
    label = kind

    if kind == "multisig_counts":
        n_keys = draw(st.sampled_from([0, 1, 2, 3, 19, 20, 21]))
        m = draw(st.sampled_from([-1, 0, 1, 2, 3, n_keys, n_keys + 1]))
        n_field = draw(st.sampled_from([n_keys, n_keys, n_keys + 1, -1, 21]))
        nops = draw(st.sampled_from([0, 0, 150, 180, 181, 182, 200]))
        pubs = [ks[i % 3].pub for i in range(n_keys)]
        ms = _op(*[S.OP_NOP] * nops) + push_int(m) + b"".join(push_data(p) for p in pubs) + push_int(n_field)
        ms += _op(draw(st.sampled_from([S.OP_CHECKMULTISIG, S.OP_CHECKMULTISIGVERIFY])))
        if ms[-1] == S.OP_CHECKMULTISIGVERIFY:
            ms += _op(S.OP_1)
        wrap = draw(st.sampled_from(["bare", "p2sh", "p2wsh"]))
        signers = [i for i in range(min(max(m, 0), n_keys, 3))]
        label = f"{kind}/{wrap}/m{m}/n{n_keys}/ops{nops}"
        dummy = draw(st.sampled_from([b"", b"", b"\x01"]))

        def unlock(tx, spent):
            code = ms
            sigs = []
            for i in signers:
                if wrap == "p2wsh":
                    h = sighash_ref.segwit_v0(code, tx, shape.index, amount, 1)
                else:
                    h = sighash_ref.legacy(code, tx, shape.index, 1)
                sigs.append(ks[i % 3].sign_ecdsa(h) + b"\x01")
            if wrap == "p2wsh":
                return b"", (dummy, *sigs, ms)
            ss = push_data(dummy) + b"".join(push_data(s) for s in sigs)
            return (ss + push_data(ms) if wrap == "p2sh" else ss), ()

        spk = {"bare": ms, "p2sh": p2sh_script(ms), "p2wsh": p2wsh_script(ms)}[wrap]
        return build_case(shape, spk, amount, unlock, fl, label)

    if kind in ("codesep_legacy", "codesep_v0"):
        # <pre> CODESEP <mid> <pub> CHECKSIG [with separators before/after, executed or not]
        variant = draw(st.integers(0, 4))
        pub = ks[0].pub
        if variant == 0:
            script = _op(S.OP_CODESEPARATOR) + push_data(pub) + _op(S.OP_CHECKSIG)
            signed_from = 1
        elif variant == 1:
            script = push_data(pub) + _op(S.OP_CODESEPARATOR, S.OP_CHECKSIG)
            signed_from = len(push_data(pub)) + 1
        elif variant == 2:  # separator in an unexecuted branch: does not move the start
            script = _op(S.OP_0, S.OP_IF, S.OP_CODESEPARATOR, S.OP_ENDIF) + push_data(pub) + _op(S.OP_CHECKSIG)
            signed_from = 0
        elif variant == 3:  # two separators, the last one counts
            script = _op(S.OP_CODESEPARATOR, S.OP_NOP, S.OP_CODESEPARATOR) + push_data(pub) + _op(S.OP_CHECKSIG)
            signed_from = 3
        else:  # signed from the wrong place
            script = _op(S.OP_NOP, S.OP_CODESEPARATOR) + push_data(pub) + _op(S.OP_CHECKSIG)
            signed_from = 0
        ht = draw(st.sampled_from([1, 2, 3, 0x81]))
        wrap = "p2wsh" if kind == "codesep_v0" else draw(st.sampled_from(["bare", "p2sh"]))
        label = f"{kind}/{wrap}/v{variant}"

        def unlock(tx, spent):
            code = script[signed_from:]
            if wrap == "p2wsh":
                h = sighash_ref.segwit_v0(code, tx, shape.index, amount, ht)
            else:
                h = sighash_ref.legacy(code, tx, shape.index, ht)
            sig = ks[0].sign_ecdsa(h) + bytes([ht])
            if wrap == "p2wsh":
                return b"", (sig, script)
            return push_data(sig) + (push_data(script) if wrap == "p2sh" else b""), ()

        spk = {"bare": script, "p2sh": p2sh_script(script), "p2wsh": p2wsh_script(script)}[wrap]
        return build_case(shape, spk, amount, unlock, fl, label)

    if kind == "findanddelete_variants":
        # spk = <sig pushed some way> DROP <pub> CHECKSIG: Core deletes only the exact
        # minimal-push encoding; other encodings stay in the signed scriptCode.
        enc = draw(st.sampled_from(["minimal", "minimal", "pushdata1", "pushdata2", "twice"]))
        delete = draw(st.integers(0, 2)) > 0  # whether the signer assumes deletion
        pub = ks[0].pub
        tail = _op(S.OP_DROP) + push_data(pub) + _op(S.OP_CHECKSIG)
        label = f"{kind}/{enc}/{'del' if delete else 'keep'}"
        probe = build_case(shape, b"\x51", amount, lambda tx, spent: (b"", ()), fl)
        der = ks[0].sign_ecdsa(b"\x00" * 32)  # placeholder length only

        def encode(sig: bytes) -> bytes:
            if enc == "pushdata1":
                return _op(S.OP_PUSHDATA1, len(sig)) + sig
            if enc == "pushdata2":
                return _op(S.OP_PUSHDATA2) + len(sig).to_bytes(2, "little") + sig
            if enc == "twice":
                return push_data(sig) + _op(S.OP_DROP) + push_data(sig)
            return push_data(sig)

        # fixed point: the signature must be in the script it signs (when not deleted) —
        # impossible, so in "keep" mode the signer signs the script with a dummy; Core decides.
        code = tail if delete else encode(der + b"\x01") + tail
        h = sighash_ref.legacy(code, probe.tx, shape.index, 1)
        sig = ks[0].sign_ecdsa(h) + b"\x01"
        spk = encode(sig) + tail
        return build_case(shape, spk, amount, lambda tx, spent: (push_data(sig), ()), fl, label)

    if kind == "witness_malleation":
        variant = draw(st.sampled_from(
            ["native_with_scriptsig", "nested_extra_push", "nested_nonpush", "legacy_with_witness",
             "p2sh_legacy_with_witness", "nested_ok"]
        ))
        pub = ks[0].pub
        code = p2pkh_script(pub)
        label = f"{kind}/{variant}"

        def unlock(tx, spent):
            sig = ks[0].sign_ecdsa(sighash_ref.segwit_v0(code, tx, shape.index, amount, 1)) + b"\x01"
            legacy_sig = ks[0].sign_ecdsa(sighash_ref.legacy(code, tx, shape.index, 1)) + b"\x01"
            wp = p2wpkh_script(pub)
            if variant == "native_with_scriptsig":
                return _op(S.OP_1), (sig, pub)
            if variant == "nested_extra_push":
                return _op(S.OP_1) + push_data(wp), (sig, pub)
            if variant == "nested_nonpush":
                return push_data(wp) + _op(S.OP_NOP), (sig, pub)
            if variant == "legacy_with_witness":
                return push_data(legacy_sig) + push_data(pub), (b"\x01",)
            if variant == "p2sh_legacy_with_witness":
                return push_data(legacy_sig) + push_data(pub) + push_data(code), (b"",)
            return push_data(wp), (sig, pub)

        if variant in ("native_with_scriptsig",):
            spk = p2wpkh_script(pub)
        elif variant == "legacy_with_witness":
            spk = code
        elif variant == "p2sh_legacy_with_witness":
            spk = p2sh_script(code)
        else:
            spk = p2sh_script(p2wpkh_script(pub))
        return build_case(shape, spk, amount, unlock, fl, label)

    if kind == "tapscript_budget":
        # witness [sig, pub]; leaf: (2DUP CHECKSIGVERIFY) * k, CHECKSIG. Each signature check
        # costs 50 against a budget of 50 + witness size; an annex adds budget.
        k = draw(st.integers(0, 6))
        leaf = _op(S.OP_2DUP, S.OP_CHECKSIGVERIFY) * k + _op(S.OP_CHECKSIG)
        annex_len = draw(st.sampled_from([0, 0, 1, 20, 50, 51, 100]))
        annex = b"\x50" + bytes(annex_len - 1) if annex_len else None
        out = taproot_output(ks[1], [(TAPROOT_LEAF_TAPSCRIPT, leaf)])
        lh = tapleaf_hash(leaf)
        label = f"{kind}/k{k}/annex{annex_len}"

        def unlock(tx, spent):
            sig = sign_taproot(ks[0].secret, tx, shape.index, spent, SIGHASH_DEFAULT, annex, lh)
            wit = (sig, ks[0].xonly, leaf, out.control_blocks[0])
            return b"", wit + ((annex,) if annex else ())

        return build_case(shape, out.script_pubkey, amount, unlock, fl | (1 << 17) | (1 << 11) | 1, label)

    # size_limits
    version = draw(st.sampled_from(["bare", "p2sh", "p2wsh", "tapscript"]))
    what = draw(st.sampled_from(["script_size", "element_520", "element_521", "stack_1000", "stack_1001", "ops_201", "ops_202"]))
    label = f"{kind}/{version}/{what}"
    items: tuple[bytes, ...] = ()
    if what == "script_size":
        size = draw(st.sampled_from([520, 521, 9_999, 10_000, 10_001]))
        script = _op(S.OP_1) + _op(S.OP_NOP) * (size - 1) if version == "tapscript" else _filler(size)
        label += f"/{len(script)}"
    elif what in ("element_520", "element_521"):
        n = 520 if what == "element_520" else 521
        script = push_data_raw(b"\x01" * n) + _op(S.OP_SIZE, S.OP_NIP)
    elif what in ("stack_1000", "stack_1001"):
        n = 999 if what == "stack_1000" else 1000
        items = (b"\x01",) * (n - 2)
        script = _op(S.OP_1, S.OP_1) + _op(S.OP_DROP) * (n - 1)
        if version in ("bare", "p2sh"):  # legacy: build the stack in the script itself
            script = _op(S.OP_1) * n + _op(S.OP_DROP) * (n - 1)
            items = ()
    else:
        n = 201 if what == "ops_201" else 202
        script = _op(S.OP_1) + _op(S.OP_NOP) * n
    if version == "bare":
        spk, ss, wit = script, b"".join(push_data(i) for i in items), ()
    elif version == "p2sh":
        spk, ss, wit = p2sh_script(script), push_data_raw(script) if len(script) > 520 else push_data(script), ()
    elif version == "p2wsh":
        spk, ss, wit = p2wsh_script(script), b"", items + (script,)
    else:
        out = taproot_output(ks[1], [(TAPROOT_LEAF_TAPSCRIPT, script)])
        spk, ss, wit = out.script_pubkey, b"", items + (script, out.control_blocks[0])
    return build_case(shape, spk, amount, lambda tx, spent: (ss, wit), fl, label)


def test_structural_edges_agree_with_core() -> None:
    seen = differential(edge_cases(), examples=700, min_valid=100, min_invalid=100)
    for kind in EDGE_KINDS:
        assert any(str(k).startswith(kind) for k in seen), kind
