"""Signature encodings and checks: lax/strict DER, low S, pubkey forms, Schnorr, taproot tweak."""

from __future__ import annotations

import hashlib

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtest.consensus import crypto
from regtest.consensus.crypto import (
    NUMS_H,
    check_tap_tweak,
    is_compressed_or_uncompressed_pubkey,
    is_defined_hashtype,
    is_low_s,
    is_valid_pubkey,
    is_valid_signature_encoding,
    parse_der_lax,
    taproot_output_key,
    verify_ecdsa,
    verify_schnorr,
)

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY = coincurve.PrivateKey(hashlib.sha256(b"engine test key").digest())
MSG = hashlib.sha256(b"message").digest()


def _der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
        if b[0] & 0x80:
            b = b"\x00" + b
        return b"\x02" + bytes([len(b)]) + b

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def _rs(sig: bytes) -> tuple[int, int]:
    r, s = parse_der_lax(sig)  # type: ignore[misc]
    return int.from_bytes(r, "big"), int.from_bytes(s, "big")


def test_signature_from_libsecp_verifies_in_all_pubkey_forms() -> None:
    sig = KEY.sign(MSG, hasher=None)
    assert is_valid_signature_encoding(sig + b"\x01")
    assert is_low_s(sig)
    assert verify_ecdsa(sig, KEY.public_key.format(True), MSG)
    assert verify_ecdsa(sig, KEY.public_key.format(False), MSG)
    unc = KEY.public_key.format(False)
    hybrid = bytes([6 + (unc[-1] & 1)]) + unc[1:]
    assert verify_ecdsa(sig, hybrid, MSG)  # hybrid keys verify (consensus allows them)
    assert not is_compressed_or_uncompressed_pubkey(hybrid)
    wrong_parity = bytes([7 - (unc[-1] & 1)]) + unc[1:]
    assert not is_valid_pubkey(wrong_parity)
    assert not verify_ecdsa(sig, KEY.public_key.format(), hashlib.sha256(b"other").digest())


def test_high_s_is_normalised_for_verification_but_flagged() -> None:
    r, s = _rs(KEY.sign(MSG, hasher=None))
    high = _der(r, ORDER - s)
    assert not is_low_s(high)
    assert verify_ecdsa(high, KEY.public_key.format(), MSG)


def test_lax_der_accepts_pre_bip66_encodings() -> None:
    r, s = _rs(KEY.sign(MSG, hasher=None))
    rb, sb = r.to_bytes(32, "big"), s.to_bytes(32, "big")
    # Excess zero padding and long-form lengths: not DER, but the lax parser reads them.
    padded = b"\x30\x81\x48" + b"\x02\x22\x00\x00" + rb + b"\x02\x22\x00\x00" + sb
    assert parse_der_lax(padded) == (rb, sb)
    assert not is_valid_signature_encoding(padded + b"\x01")
    assert verify_ecdsa(padded, KEY.public_key.format(), MSG)
    long_len = b"\x30\x44\x02\x81\x20" + rb + b"\x02\x20" + sb
    assert parse_der_lax(long_len) == (rb, sb)
    trailing = _der(r, s) + b"junk"
    assert parse_der_lax(trailing) == (rb, sb)


@pytest.mark.parametrize(
    "sig",
    ["", "31", "30", "3000", "300602", "30060201", "3006020101", "30060201010301", "3006020101020201"],
)
def test_lax_der_rejects_structural_garbage(sig: str) -> None:
    assert parse_der_lax(bytes.fromhex(sig)) is None


def test_oversized_integers_parse_as_invalid_zero_signature() -> None:
    big = b"\x30\x46\x02\x21\x01" + bytes(32) + b"\x02\x21\x01" + bytes(32)
    assert parse_der_lax(big) == (bytes(32), bytes(32))
    assert not verify_ecdsa(big, KEY.public_key.format(), MSG)
    r_too_big = _der(ORDER, 1)
    assert not verify_ecdsa(r_too_big, KEY.public_key.format(), MSG)


@given(st.binary(max_size=80))
@settings(max_examples=400, deadline=None)
def test_lax_fast_path_equals_general_parser(data: bytes) -> None:
    assert parse_der_lax(data) == crypto._parse_der_lax_slow(data)


@given(st.integers(1, ORDER - 1), st.integers(1, ORDER - 1), st.integers(0, 4), st.binary(max_size=3))
@settings(max_examples=200, deadline=None)
def test_lax_fast_path_equals_general_parser_on_der_shapes(r: int, s: int, cut: int, tail: bytes) -> None:
    sig = _der(r, s)
    for candidate in (sig, sig[: len(sig) - cut], sig + tail):
        assert parse_der_lax(candidate) == crypto._parse_der_lax_slow(candidate)


@pytest.mark.parametrize(
    ("sig", "valid"),
    [
        ("300602010102010101", True),  # shortest valid: r=1, s=1, hashtype
        ("3006020101020101", False),  # missing hash type: lengths no longer match
        ("300702010102010101", False),  # wrong total length
        ("3006020181020101" + "01", False),  # negative R
        ("300702020001020101" + "01", False),  # R padded with an unnecessary zero
        ("30060200020101" + "0101", False),  # zero-length R
        ("300602010102018101", False),  # negative S
        ("3007020101020200" + "0101", False),  # S padded with an unnecessary zero
        ("310602010102010101", False),  # not a sequence
        ("300603010102010101", False),  # R not an integer
        ("300602010103010101", False),  # S not an integer
    ],
)
def test_strict_der(sig: str, valid: bool) -> None:
    assert is_valid_signature_encoding(bytes.fromhex(sig)) is valid


def test_strict_der_size_bounds() -> None:
    assert not is_valid_signature_encoding(bytes(8))
    assert not is_valid_signature_encoding(b"\x30" + bytes(73))


def test_defined_hashtypes() -> None:
    for t in (1, 2, 3, 0x81, 0x82, 0x83):
        assert is_defined_hashtype(b"\x30" + bytes([t]))
    for t in (0, 4, 0x80, 0x84, 0x21):
        assert not is_defined_hashtype(b"\x30" + bytes([t]))
    assert not is_defined_hashtype(b"")


def test_schnorr_and_tweak() -> None:
    xonly = KEY.public_key_xonly.format()
    sig = KEY.sign_schnorr(MSG)
    assert verify_schnorr(sig, xonly, MSG)
    assert not verify_schnorr(sig[:-1] + bytes([sig[-1] ^ 1]), xonly, MSG)
    assert not verify_schnorr(sig, bytes(32), MSG)  # not a curve point
    assert not verify_schnorr(sig + b"\x00", xonly, MSG)
    root = hashlib.sha256(b"root").digest()
    out, parity = taproot_output_key(NUMS_H, root)
    assert check_tap_tweak(out, NUMS_H, root, parity)
    assert not check_tap_tweak(out, NUMS_H, root, parity ^ 1)
    assert not check_tap_tweak(out, NUMS_H, None, parity)
    with pytest.raises(ValueError):
        taproot_output_key(bytes(32), None)


def _der_bytes(rb: bytes, sb: bytes) -> bytes:
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
    return b"\x30" + bytes([len(body)]) + body


def test_strict_der_verifier_agrees_with_lax_on_bip66_signatures() -> None:
    """verify_ecdsa_strict is used once the BIP66 check passed: same verdict as the lax path,
    including values at or above the group order, zero, and integers wider than 32 bytes."""
    r, s = _rs(KEY.sign(MSG, hasher=None))
    pub_c, pub_u = KEY.public_key.format(True), KEY.public_key.format(False)
    ints = [r, s, ORDER - s, 0, 1, ORDER, ORDER + 1, ORDER - 1, 2**256 - 1, 2**256, 2**300]
    sigs = [_der(a, b) for a in ints for b in ints]
    sigs.append(_der_bytes(b"\x01" * 40, s.to_bytes(32, "big")))
    checked = 0
    for sig in sigs:
        if not is_valid_signature_encoding(sig + b"\x01"):
            continue
        checked += 1
        for pub in (pub_c, pub_u, b"\x02" + bytes(32)):
            assert crypto.verify_ecdsa_strict(sig, pub, MSG) == verify_ecdsa(sig, pub, MSG), sig.hex()
    assert checked > 100
    assert crypto.verify_ecdsa_strict(_der(r, s), pub_c, MSG)
    assert crypto.verify_ecdsa_strict(_der(r, ORDER - s), pub_c, MSG)  # high S normalised


@given(st.binary(min_size=8, max_size=72))
@settings(max_examples=300, deadline=None)
def test_strict_der_verifier_agrees_with_lax_on_random_encodings(data: bytes) -> None:
    if is_valid_signature_encoding(data + b"\x01"):
        pub = KEY.public_key.format()
        assert crypto.verify_ecdsa_strict(data, pub, MSG) == verify_ecdsa(data, pub, MSG)
