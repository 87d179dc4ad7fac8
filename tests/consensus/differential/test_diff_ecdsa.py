"""Differential: ECDSA spends (P2PK, P2PKH, bare and P2SH multisig, P2WPKH, P2WSH, nested
segwit, code separators, FindAndDelete) under every hashtype, with damaged signatures and keys
and with the transaction edited after signing. Core's engine and ours must agree on each."""

from __future__ import annotations

from hypothesis import strategies as st

from regtest.consensus.script import OP_CODESEPARATOR, OP_DROP, push_data
from regtest.testing import sighash_ref
from regtest.testing.keys import ECDSA_MUTATIONS, PUBKEY_MUTATIONS, Key, mutate_ecdsa, mutate_pubkey
from regtest.testing.mutate import TX_EDITS, edit_after_signing
from regtest.testing.txgen import (
    STANDARD_HASHTYPES,
    Case,
    build_case,
    multisig_script,
    p2pk_script,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
)
from tests.consensus.differential.harness import differential
from tests.consensus.differential.strategies import flags, keys, shapes

SINGLE_KEY = ("p2pk", "p2pkh", "p2sh-p2pkh", "p2wpkh", "p2sh-p2wpkh", "p2wsh-p2pk", "codesep", "findanddelete")
MULTI_KEY = ("multisig", "p2sh-multisig", "p2wsh-multisig", "p2sh-p2wsh-multisig")
SEGWIT = ("p2wpkh", "p2sh-p2wpkh", "p2wsh-p2pk", "p2wsh-multisig", "p2sh-p2wsh-multisig")

hashtypes = st.one_of(
    st.sampled_from(STANDARD_HASHTYPES), st.sampled_from(STANDARD_HASHTYPES), st.integers(0, 255)
)


@st.composite
def ecdsa_cases(draw: st.DrawFn) -> Case:
    template = draw(st.sampled_from(SINGLE_KEY + MULTI_KEY))
    shape = draw(shapes())
    fl = draw(flags())
    amount = draw(st.integers(0, 2**40))
    n_keys = draw(st.integers(1, 3)) if template in MULTI_KEY else 1
    ks: list[Key] = [draw(keys) for _ in range(n_keys)]
    form = draw(st.sampled_from(["compressed", "compressed", "compressed", "uncompressed", "hybrid"]))
    pubs = [k.pub_form(form) for k in ks]
    label = [template, form]
    if draw(st.integers(0, 6)) == 0:  # damaged key (the signature stays the real key's)
        how = draw(st.sampled_from(PUBKEY_MUTATIONS))
        pubs[0] = mutate_pubkey(pubs[0], how, draw(st.integers(0, 2**16)), draw(keys))
        label.append(f"key:{how}")

    # which keys sign (in script order) and with which hashtypes
    m = draw(st.integers(0, n_keys)) if template in MULTI_KEY else 1
    signers = sorted(draw(st.permutations(range(n_keys)))[:m])
    hts = [draw(hashtypes) for _ in signers]
    sig_mut = None
    if signers and draw(st.integers(0, 2)) == 0:
        sig_mut = (draw(st.sampled_from(ECDSA_MUTATIONS + ("wrong_hashtype",))), draw(st.integers(0, 2**16)))
        label.append(f"sig:{sig_mut[0]}")
    reorder = len(signers) > 1 and draw(st.integers(0, 4)) == 0
    dummy = draw(st.sampled_from([b"", b"", b"", b"", b"\x01", b"\x00", b"\x80"]))
    if reorder:
        label.append("reordered")
    if dummy:
        label.append("dummy")
    if hts:
        label.append(f"ht{hts[0]:02x}")

    ms = multisig_script(m, pubs)
    if template == "p2pk":
        spk, code, sigver = p2pk_script(pubs[0]), p2pk_script(pubs[0]), 0
    elif template in ("p2pkh", "p2sh-p2pkh"):
        code, sigver = p2pkh_script(pubs[0]), 0
        spk = code if template == "p2pkh" else p2sh_script(code)
    elif template in ("p2wpkh", "p2sh-p2wpkh"):
        code, sigver = p2pkh_script(pubs[0]), 1
        spk = p2wpkh_script(pubs[0])
        if template == "p2sh-p2wpkh":
            spk = p2sh_script(spk)
    elif template == "p2wsh-p2pk":
        code, sigver = p2pk_script(pubs[0]), 1
        spk = p2wsh_script(code)
    elif template == "codesep":  # P2SH redeem with a separator: only what follows is signed
        redeem = bytes([OP_CODESEPARATOR]) + p2pk_script(pubs[0])
        code, sigver, spk = p2pk_script(pubs[0]), 0, p2sh_script(redeem)
    elif template == "findanddelete":  # the signature sits in the script and is deleted
        code, sigver, spk = bytes([OP_DROP]) + p2pk_script(pubs[0]), 0, b""
    elif template in ("multisig", "p2sh-multisig"):
        code, sigver = ms, 0
        spk = ms if template == "multisig" else p2sh_script(ms)
    else:  # p2wsh-multisig, p2sh-p2wsh-multisig
        code, sigver = ms, 1
        spk = p2wsh_script(ms)
        if template == "p2sh-p2wsh-multisig":
            spk = p2sh_script(spk)

    def sign_all(tx, index: int) -> list[bytes]:
        sigs = []
        for j, (signer, ht) in enumerate(zip(signers, hts)):
            if sigver == 0:
                h = sighash_ref.legacy(code, tx, index, ht)
            else:
                h = sighash_ref.segwit_v0(code, tx, index, amount, ht)
            der = ks[signer].sign_ecdsa(h)
            htb = ht
            if sig_mut is not None and j == 0:
                how, n = sig_mut
                if how == "wrong_hashtype":
                    htb = (ht + 1 + n % 255) & 0xFF
                else:
                    der = mutate_ecdsa(der, how, n)
            sigs.append(der + bytes([htb]) if der or sig_mut is None else b"")
        if reorder:
            sigs.reverse()
        return sigs

    if template == "findanddelete":
        # spk = <sig> DROP <pub> CHECKSIG; the sighash covers the script with the sig deleted
        def unlock_fad(tx, spent):
            return b"", ()

        probe = build_case(shape, b"\x51", amount, unlock_fad, fl)
        sig = sign_all(probe.tx, shape.index)[0]
        spk = push_data(sig) + code
        base = build_case(shape, spk, amount, lambda tx, spent: (push_data(sig), ()), fl, "/".join(label))
        return _maybe_edit(draw, base)

    def unlock(tx, spent):
        sigs = sign_all(tx, shape.index)
        if template in ("p2pk",):
            return b"".join(push_data(s) for s in sigs), ()
        if template == "codesep":
            return push_data(sigs[0]) + push_data(bytes([OP_CODESEPARATOR]) + code), ()
        if template in ("p2pkh", "p2sh-p2pkh"):
            ss = push_data(sigs[0]) + push_data(pubs[0])
            return (ss + push_data(code) if template == "p2sh-p2pkh" else ss), ()
        if template in ("p2wpkh", "p2sh-p2wpkh"):
            ss = push_data(p2wpkh_script(pubs[0])) if template == "p2sh-p2wpkh" else b""
            return ss, (sigs[0], pubs[0])
        if template == "p2wsh-p2pk":
            return b"", (sigs[0], code)
        if template in ("multisig", "p2sh-multisig"):
            ss = push_data(dummy) + b"".join(push_data(s) for s in sigs)
            return (ss + push_data(ms) if template == "p2sh-multisig" else ss), ()
        ss = push_data(p2wsh_script(ms)) if template == "p2sh-p2wsh-multisig" else b""
        return ss, (dummy, *sigs, ms)

    base = build_case(shape, spk, amount, unlock, fl, "/".join(label))
    return _maybe_edit(draw, base)


def _maybe_edit(draw: st.DrawFn, case: Case) -> Case:
    if draw(st.integers(0, 3)) == 0:
        return edit_after_signing(case, draw(st.sampled_from(TX_EDITS)), draw(st.integers(0, 2**16)))
    return case


def test_ecdsa_spends_agree_with_core() -> None:
    seen = differential(ecdsa_cases(), examples=1400, min_valid=300, min_invalid=300)
    for template in SINGLE_KEY + MULTI_KEY:
        assert any(str(k).startswith(template + "/") for k in seen), template
    valid_labels = [k[0] for k, n in seen.items() if isinstance(k, tuple) and k[1]]
    for ht in STANDARD_HASHTYPES:  # every hashtype signed and accepted by both engines
        assert any(f"/ht{ht:02x}" in label for label in valid_labels), hex(ht)


def test_segwit_flag_subsets_agree_with_core() -> None:
    """Segwit templates again under arbitrary flag subsets (WITNESS off: anyone-can-spend)."""
    differential(ecdsa_cases().filter(lambda c: c.label.split("/")[0] in SEGWIT), 300, 50, 30)


def test_ecdsa_general_interpreter_agrees_with_core() -> None:
    """ECDSA templates with our fast paths off (the general interpreter path)."""
    differential(ecdsa_cases(), examples=400, min_valid=80, min_invalid=80, fast_paths=False)


def test_ecdsa_python_fast_paths_agree_with_core() -> None:
    """ECDSA templates with the C accelerator off (the pure-Python fast paths)."""
    differential(ecdsa_cases(), examples=400, min_valid=80, min_invalid=80, accel=False)
