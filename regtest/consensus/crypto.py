"""Signature checks exactly as consensus needs them, all through libsecp256k1 (via coincurve's cffi).

ECDSA: Core's lax DER parser (pre-BIP66 signatures), S normalised before verifying, pubkeys in
compressed, uncompressed or hybrid form. Encoding rules (strict DER, low S, defined hash type,
pubkey type) are separate predicates the interpreter applies per flag. BIP340 Schnorr and the
BIP341 taproot tweak check are thin wrappers.
"""

from __future__ import annotations

import hashlib

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from regtest.consensus.hashes import tag_prefix

_CTX = GLOBAL_CONTEXT.ctx
_new = ffi.new
_ec_pubkey_parse = lib.secp256k1_ec_pubkey_parse
_sig_parse_compact = lib.secp256k1_ecdsa_signature_parse_compact
_sig_parse_der = lib.secp256k1_ecdsa_signature_parse_der
_sig_normalize = lib.secp256k1_ecdsa_signature_normalize
_ecdsa_verify = lib.secp256k1_ecdsa_verify
_xonly_parse = lib.secp256k1_xonly_pubkey_parse
_schnorr_verify = lib.secp256k1_schnorrsig_verify
_tweak_add_check = lib.secp256k1_xonly_pubkey_tweak_add_check

SIGHASH_DEFAULT = 0x00
SIGHASH_ALL = 0x01
SIGHASH_NONE = 0x02
SIGHASH_SINGLE = 0x03
SIGHASH_ANYONECANPAY = 0x80

_ZERO32 = bytes(32)


# --- ECDSA signature parsing -------------------------------------------------------------
def parse_der_lax(sig: bytes) -> tuple[bytes, bytes] | None:
    """Core's ecdsa_signature_parse_der_lax: (r, s) as 32-byte big-endian values, or None.

    Accepts BER-ish encodings that OpenSSL accepted before BIP66. An R or S longer than 32
    bytes (after leading zeros) parses but yields r = s = 0, which never verifies.
    """
    n = len(sig)
    # Fast path: short-form lengths throughout (every strict-DER signature). Same result as
    # the general walk below, which ignores trailing bytes exactly like this does.
    if n >= 6 and sig[0] == 0x30 and sig[1] < 0x80 and sig[2] == 0x02:
        len_r = sig[3]
        if len_r < 0x80 and len_r <= n - 4 and 6 + len_r <= n and sig[4 + len_r] == 0x02:
            len_s = sig[5 + len_r]
            if len_s < 0x80 and len_s <= n - 6 - len_r:
                r = sig[4 : 4 + len_r].lstrip(b"\x00")
                s = sig[6 + len_r : 6 + len_r + len_s].lstrip(b"\x00")
                if len(r) > 32 or len(s) > 32:
                    return _ZERO32, _ZERO32
                return r.rjust(32, b"\x00"), s.rjust(32, b"\x00")
    return _parse_der_lax_slow(sig)


def _parse_der_lax_slow(sig: bytes) -> tuple[bytes, bytes] | None:
    n = len(sig)
    pos = 0
    if pos == n or sig[pos] != 0x30:
        return None
    pos += 1
    if pos == n:
        return None
    lenbyte = sig[pos]
    pos += 1
    if lenbyte & 0x80:
        lenbyte -= 0x80
        if lenbyte > n - pos:
            return None
        pos += lenbyte
    spans: list[tuple[int, int]] = []
    for _ in range(2):
        if pos == n or sig[pos] != 0x02:
            return None
        pos += 1
        if pos == n:
            return None
        lenbyte = sig[pos]
        pos += 1
        if lenbyte & 0x80:
            lenbyte -= 0x80
            if lenbyte > n - pos:
                return None
            while lenbyte > 0 and sig[pos] == 0:
                pos += 1
                lenbyte -= 1
            if lenbyte >= 4:
                return None
            ilen = 0
            while lenbyte > 0:
                ilen = (ilen << 8) + sig[pos]
                pos += 1
                lenbyte -= 1
        else:
            ilen = lenbyte
        if ilen > n - pos:
            return None
        spans.append((pos, ilen))
        pos += ilen
    out: list[bytes] = []
    for start, ilen in spans:
        while ilen > 0 and sig[start] == 0:
            start += 1
            ilen -= 1
        if ilen > 32:
            return _ZERO32, _ZERO32
        out.append(bytes(32 - ilen) + sig[start : start + ilen])
    return out[0], out[1]


# The low-S check and the verification parse the same signature back to back: remember one.
_LAST_PARSE: tuple[bytes | None, tuple[bytes, bytes] | None] = (None, None)


def _parse_sig_object(sig_der: bytes):
    """A libsecp256k1 signature object from a lax-DER signature (no hash type), or None."""
    global _LAST_PARSE
    last = _LAST_PARSE
    if last[0] == sig_der:
        rs = last[1]
    else:
        rs = parse_der_lax(sig_der)
        _LAST_PARSE = (sig_der, rs)
    if rs is None:
        return None
    sigobj = _new("secp256k1_ecdsa_signature *")
    if not _sig_parse_compact(_CTX, sigobj, rs[0] + rs[1]):
        # r or s >= group order: Core substitutes the all-zero signature (never valid).
        return False
    return sigobj


def is_valid_signature_encoding(sig: bytes) -> bool:
    """BIP66 strict DER check of a signature *including* its trailing hash-type byte."""
    n = len(sig)
    if n < 9 or n > 73:
        return False
    if sig[0] != 0x30 or sig[1] != n - 3:
        return False
    len_r = sig[3]
    if 5 + len_r >= n:
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != n:
        return False
    if sig[2] != 0x02 or len_r == 0 or sig[4] & 0x80:
        return False
    if len_r > 1 and sig[4] == 0x00 and not sig[5] & 0x80:
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0 or sig[len_r + 6] & 0x80:
        return False
    if len_s > 1 and sig[len_r + 6] == 0x00 and not sig[len_r + 7] & 0x80:
        return False
    return True


def is_low_s(sig_der: bytes) -> bool:
    """Core's CPubKey::CheckLowS on a signature without its hash-type byte."""
    sigobj = _parse_sig_object(sig_der)
    if sigobj is None:
        return False
    if sigobj is False:
        return True  # the zero signature substituted for overflow is "low"
    return not _sig_normalize(_CTX, ffi.NULL, sigobj)


def is_defined_hashtype(sig: bytes) -> bool:
    """STRICTENC: the trailing hash type is ALL, NONE or SINGLE, optionally ANYONECANPAY."""
    if not sig:
        return False
    t = sig[-1] & ~SIGHASH_ANYONECANPAY
    return SIGHASH_ALL <= t <= SIGHASH_SINGLE


def is_compressed_or_uncompressed_pubkey(pubkey: bytes) -> bool:
    n = len(pubkey)
    if n < 33:
        return False
    if pubkey[0] == 0x04:
        return n == 65
    if pubkey[0] == 0x02 or pubkey[0] == 0x03:
        return n == 33
    return False


def is_compressed_pubkey(pubkey: bytes) -> bool:
    return len(pubkey) == 33 and (pubkey[0] == 0x02 or pubkey[0] == 0x03)


# --- verification ------------------------------------------------------------------------
# Parsed public keys, keyed by their encoding: parsing a compressed key costs a square root,
# and keys repeat (address reuse, multisig cosigners). Bounded; cleared wholesale when full.
_PUBKEY_CACHE: dict[bytes, object] = {}
_XONLY_CACHE: dict[bytes, object] = {}
_CACHE_MAX = 4096


def _parse_pubkey(pubkey: bytes):
    pk = _PUBKEY_CACHE.get(pubkey)
    if pk is None:
        pk = _new("secp256k1_pubkey *")
        if not _ec_pubkey_parse(_CTX, pk, pubkey, len(pubkey)):
            return None
        if len(_PUBKEY_CACHE) >= _CACHE_MAX:
            _PUBKEY_CACHE.clear()
        _PUBKEY_CACHE[pubkey] = pk
    return pk


def _parse_xonly(key: bytes):
    pk = _XONLY_CACHE.get(key)
    if pk is None:
        pk = _new("secp256k1_xonly_pubkey *")
        if not _xonly_parse(_CTX, pk, key):
            return None
        if len(_XONLY_CACHE) >= _CACHE_MAX:
            _XONLY_CACHE.clear()
        _XONLY_CACHE[key] = pk
    return pk


def is_valid_pubkey(pubkey: bytes) -> bool:
    """Does libsecp256k1 accept this encoding (compressed, uncompressed or hybrid)?"""
    n = len(pubkey)
    return (n == 33 or n == 65) and _parse_pubkey(bytes(pubkey)) is not None


def verify_ecdsa(sig_der: bytes, pubkey: bytes, msg32: bytes) -> bool:
    """Core's CPubKey::Verify: lax DER, S normalised, any parseable (incl. hybrid) pubkey."""
    n = len(pubkey)
    if n != 33 and n != 65:
        return False
    if not sig_der:
        return False
    pk = _parse_pubkey(pubkey)
    if pk is None:
        return False
    sigobj = _parse_sig_object(sig_der)
    if not sigobj:
        return False
    _sig_normalize(_CTX, sigobj, sigobj)
    return bool(_ecdsa_verify(_CTX, sigobj, msg32, pk))


def verify_ecdsa_strict(sig_der: bytes, pubkey: bytes, msg32: bytes) -> bool:
    """verify_ecdsa for a signature already known to be BIP66 strict DER (hash type removed).

    One libsecp256k1 strict-DER parse replaces the lax parser: on such input both yield the
    same r and s, and where either value overflows the group order both end in a signature
    that cannot verify (lax: the all-zero substitute; libsecp256k1: that value set to zero).
    A strict parse failure (not expected) falls back to the lax path.
    """
    n = len(pubkey)
    if n != 33 and n != 65:
        return False
    pk = _PUBKEY_CACHE.get(pubkey)
    if pk is None:
        pk = _parse_pubkey(pubkey)
        if pk is None:
            return False
    sigobj = _new("secp256k1_ecdsa_signature *")
    if not _sig_parse_der(_CTX, sigobj, sig_der, len(sig_der)):
        return verify_ecdsa(sig_der, pubkey, msg32)
    _sig_normalize(_CTX, sigobj, sigobj)
    return bool(_ecdsa_verify(_CTX, sigobj, msg32, pk))


def verify_schnorr(sig64: bytes, xonly_pubkey: bytes, msg32: bytes) -> bool:
    """BIP340 verification of a 64-byte signature against a 32-byte x-only key."""
    if len(sig64) != 64 or len(xonly_pubkey) != 32:
        return False
    pk = _parse_xonly(xonly_pubkey)
    if pk is None:
        return False
    return bool(_schnorr_verify(_CTX, sig64, msg32, 32, pk))


_TAPTWEAK_MID = hashlib.sha256(tag_prefix("TapTweak"))  # state after the one-block tag prefix


def tap_tweak_hash(internal_key: bytes, merkle_root: bytes | None) -> bytes:
    h = _TAPTWEAK_MID.copy()
    h.update(internal_key if merkle_root is None else internal_key + merkle_root)
    return h.digest()


def check_tap_tweak(output_key: bytes, internal_key: bytes, merkle_root: bytes | None, parity: int) -> bool:
    """Is `output_key` (with `parity`) the BIP341 tweak of `internal_key` by `merkle_root`?"""
    if len(internal_key) != 32 or len(output_key) != 32:
        return False
    pk = _parse_xonly(internal_key)
    if pk is None:
        return False
    tweak = tap_tweak_hash(internal_key, merkle_root)
    return bool(_tweak_add_check(_CTX, output_key, parity & 1, pk, tweak))


#: BIP341's provably unspendable internal key ("H"), for script-path-only outputs.
NUMS_H = bytes.fromhex("50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0")


def taproot_output_key(internal_key: bytes, merkle_root: bytes | None) -> tuple[bytes, int]:
    """(x-only output key, parity) of `internal_key` tweaked by `merkle_root` (BIP341)."""
    pk = _new("secp256k1_xonly_pubkey *")
    if not _xonly_parse(_CTX, pk, internal_key):
        raise ValueError("internal key is not a valid x-only public key")
    tweaked = _new("secp256k1_pubkey *")
    if not lib.secp256k1_xonly_pubkey_tweak_add(_CTX, tweaked, pk, tap_tweak_hash(internal_key, merkle_root)):
        raise ValueError("taproot tweak failed")
    out = _new("secp256k1_xonly_pubkey *")
    parity = _new("int *")
    lib.secp256k1_xonly_pubkey_from_pubkey(_CTX, out, parity, tweaked)
    buf = _new("unsigned char[32]")
    lib.secp256k1_xonly_pubkey_serialize(_CTX, buf, out)
    return bytes(ffi.buffer(buf, 32)), parity[0]
