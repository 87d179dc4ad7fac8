"""Deterministic test keys and signature encodings (ECDSA DER, BIP340), plus hostile variants.

Signing goes through coincurve (libsecp256k1); nothing here is consensus code. The mutation
helpers build the malformed signatures and keys the differential tests feed to both engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi, lib

#: secp256k1 group order.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Key:
    """A private key (1 <= secret < N) with its public encodings computed once."""

    secret: int

    def __post_init__(self) -> None:
        if not 1 <= self.secret < N:
            raise ValueError("secret out of range")

    @cached_property
    def priv(self) -> PrivateKey:
        return PrivateKey.from_int(self.secret)

    @cached_property
    def pub(self) -> bytes:
        """Compressed SEC1 encoding (33 bytes)."""
        return self.priv.public_key.format(compressed=True)

    @cached_property
    def pub_uncompressed(self) -> bytes:
        return self.priv.public_key.format(compressed=False)

    @cached_property
    def pub_hybrid(self) -> bytes:
        """0x06/0x07 || x || y: accepted by libsecp256k1's parser, refused by STRICTENC."""
        unc = self.pub_uncompressed
        return bytes([0x06 | (unc[-1] & 1)]) + unc[1:]

    @cached_property
    def xonly(self) -> bytes:
        return self.pub[1:]

    @property
    def y_is_odd(self) -> bool:
        return self.pub[0] == 0x03

    def pub_form(self, form: str) -> bytes:
        """'compressed' | 'uncompressed' | 'hybrid'."""
        if form == "compressed":
            return self.pub
        if form == "uncompressed":
            return self.pub_uncompressed
        if form == "hybrid":
            return self.pub_hybrid
        raise ValueError(form)

    def sign_ecdsa(self, msg32: bytes) -> bytes:
        """DER signature, low S (libsecp256k1 normalises), RFC6979 nonce."""
        return self.priv.sign(msg32, hasher=None)

    def sign_ecdsa_fixed_size(self, msg32: bytes) -> bytes:
        """Like Core's wallet, retry RFC6979 with a counter as extra entropy until R is low; and
        further, until R and S are both exactly 32 bytes, so the DER encoding is always 70 bytes.

        Low R alone still leaves one signature in about 128 a byte shorter (a leading zero byte
        in R or S), and one in about 16,000 two bytes shorter, which moves a one-input P2WPKH
        spend from 110 to 109 vbytes: transaction sizes, and the fee rates tests compute from
        them, must not depend on the run.
        """
        sig = self.sign_ecdsa(msg32)
        counter = 0
        while sig[3] != 32 or sig[4] >= 0x80 or len(sig) != 70:
            counter += 1
            extra = ffi.new("unsigned char[32]", counter.to_bytes(4, "little") + bytes(28))
            sig = self.priv.sign(msg32, hasher=None, custom_nonce=(lib.secp256k1_nonce_function_rfc6979, extra))
        return sig

    def sign_schnorr(self, msg32: bytes, aux: bytes = bytes(32)) -> bytes:
        return self.priv.sign_schnorr(msg32, aux)


def key_from_index(i: int) -> Key:
    """Small deterministic keys for readable repros (index 0 -> secret 1 is avoided: too special)."""
    return Key((0x1000 + 7919 * i) % N or 1)


# --- DER -----------------------------------------------------------------------------
def der_decode(sig: bytes) -> tuple[int, int]:
    """(r, s) from a strict DER signature (no hashtype byte). ValueError if not strict DER."""
    if len(sig) < 8 or sig[0] != 0x30 or sig[1] != len(sig) - 2 or sig[2] != 0x02:
        raise ValueError("not DER")
    lr = sig[3]
    r = int.from_bytes(sig[4 : 4 + lr], "big")
    if sig[4 + lr] != 0x02:
        raise ValueError("not DER")
    ls = sig[5 + lr]
    s = int.from_bytes(sig[6 + lr : 6 + lr + ls], "big")
    return r, s


def _der_int(v: int) -> bytes:
    b = v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return b


def der_encode(r: int, s: int) -> bytes:
    rb, sb = _der_int(r), _der_int(s)
    body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
    return b"\x30" + bytes([len(body)]) + body


#: Names of the ways `mutate_ecdsa` can damage a signature (without its hashtype byte).
ECDSA_MUTATIONS = (
    "flip_bit",
    "high_s",
    "pad_r",
    "pad_s",
    "ber_length",
    "wrong_total_length",
    "trailing_byte",
    "truncate",
    "negative_r",
    "zero_r",
    "zero_s",
    "bad_tag",
    "empty",
)


def mutate_ecdsa(der: bytes, how: str, n: int) -> bytes:
    """A damaged variant of DER signature `der`; `n` is a free parameter (position, count)."""
    r, s = der_decode(der)
    if how == "flip_bit":
        pos = n % (len(der) * 8)
        b = bytearray(der)
        b[pos // 8] ^= 1 << (pos % 8)
        return bytes(b)
    if how == "high_s":
        return der_encode(r, N - s)
    if how == "pad_r":  # superfluous leading zero: BER, fine for the lax parser, not DERSIG
        rb = b"\x00" + _der_int(r)
        sb = _der_int(s)
        body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
        return b"\x30" + bytes([len(body)]) + body
    if how == "pad_s":
        rb = _der_int(r)
        sb = b"\x00" + _der_int(s)
        body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
        return b"\x30" + bytes([len(body)]) + body
    if how == "ber_length":  # long-form length octets for the sequence
        body = der[2:]
        return b"\x30\x81" + bytes([len(body)]) + body
    if how == "wrong_total_length":
        return b"\x30" + bytes([(der[1] + 1 + n % 3) & 0xFF]) + der[2:]
    if how == "trailing_byte":
        return der + bytes([n & 0xFF])
    if how == "truncate":
        return der[: max(0, len(der) - 1 - n % len(der))]
    if how == "negative_r":  # drop the sign-padding zero so r reads as negative
        rb = r.to_bytes(32, "big").lstrip(b"\x00") or b"\x00"
        sb = _der_int(s)
        body = b"\x02" + bytes([len(rb)]) + rb + b"\x02" + bytes([len(sb)]) + sb
        return b"\x30" + bytes([len(body)]) + body
    if how == "zero_r":
        return der_encode(0, s)
    if how == "zero_s":
        return der_encode(r, 0)
    if how == "bad_tag":
        return der[:2] + b"\x03" + der[3:]
    if how == "empty":
        return b""
    raise ValueError(how)


SCHNORR_MUTATIONS = ("flip_bit", "truncate", "extend", "zero_r", "r_eq_p", "s_eq_n", "empty")

_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F


def mutate_schnorr(sig64: bytes, how: str, n: int) -> bytes:
    if how == "flip_bit":
        pos = n % 512
        b = bytearray(sig64)
        b[pos // 8] ^= 1 << (pos % 8)
        return bytes(b)
    if how == "truncate":
        return sig64[: 63 - n % 63]
    if how == "extend":  # 65 bytes with an explicit hashtype, or 66
        return sig64 + bytes([n & 0xFF]) * (1 + (n >> 8) % 2)
    if how == "zero_r":
        return bytes(32) + sig64[32:]
    if how == "r_eq_p":
        return _P.to_bytes(32, "big") + sig64[32:]
    if how == "s_eq_n":
        return sig64[:32] + N.to_bytes(32, "big")
    if how == "empty":
        return b""
    raise ValueError(how)


PUBKEY_MUTATIONS = ("flip_bit", "bad_prefix", "truncate", "other_key", "hybrid_wrong_parity", "empty")


def mutate_pubkey(pub: bytes, how: str, n: int, other: Key) -> bytes:
    if how == "flip_bit":
        pos = n % (len(pub) * 8)
        b = bytearray(pub)
        b[pos // 8] ^= 1 << (pos % 8)
        return bytes(b)
    if how == "bad_prefix":
        return bytes([(pub[0] + 1 + n % 250) & 0xFF]) + pub[1:]
    if how == "truncate":
        return pub[: len(pub) - 1 - n % (len(pub) - 1)]
    if how == "other_key":
        return other.pub if len(pub) == 33 else other.pub_uncompressed
    if how == "hybrid_wrong_parity":
        if len(pub) == 65:
            return bytes([0x06 | ((pub[-1] & 1) ^ 1)]) + pub[1:]
        return pub
    if how == "empty":
        return b""
    raise ValueError(how)
