"""Wallet-less transaction signing: what signrawtransactionwithkey needs, as Core's SignTransaction.

Given private keys (WIF), known scripts (redeemScript / witnessScript) and the coins spent, each
input is solved for its output type (P2PK, P2PKH, P2WPKH, P2SH-wrapped forms, bare / P2SH /
P2WSH multisig, P2TR key path), signatures already in the input are kept and merged (partial
multisig), and the result is checked with our own script engine under the standard flags.
Signatures: ECDSA with RFC6979 ground for a low R, as Core's wallet (size-predictable
transactions); BIP340 Schnorr with fresh auxiliary randomness.
Pure code over consensus types: no I/O, no RPC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping, Sequence

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi, lib

from regtest.consensus.address import b58check_decode, b58check_encode, classify, p2pkh_script
from regtest.consensus.crypto import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_DEFAULT,
    SIGHASH_SINGLE,
    tap_tweak_hash,
    verify_ecdsa,
)
from regtest.consensus.hashes import hash160, ripemd160
from regtest.consensus.script import iter_script, push_data, ScriptParseError
from regtest.consensus.script_error import ScriptError, error_string
from regtest.consensus.script_flags import STANDARD_FLAGS
from regtest.consensus.sighash import (
    SIGVERSION_TAPROOT,
    PrecomputedTxData,
    legacy_sighash,
    segwit_v0_sighash,
    taproot_sighash,
)
from regtest.consensus.transaction import MAX_MONEY, Transaction, TxIn, TxOut
from regtest.consensus.verify import check_input

#: secp256k1 group order.
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

#: WIF version bytes (Core's SECRET_KEY prefix): mainnet 128, test networks and regtest 239.
WIF_MAIN = 0x80
WIF_TEST = 0xEF

#: Core's sighash names (ParseSighashString / SighashFromStr).
SIGHASH_NAMES = {
    "DEFAULT": SIGHASH_DEFAULT,
    "ALL": SIGHASH_ALL,
    "ALL|ANYONECANPAY": SIGHASH_ALL | SIGHASH_ANYONECANPAY,
    "NONE": 0x02,
    "NONE|ANYONECANPAY": 0x02 | SIGHASH_ANYONECANPAY,
    "SINGLE": SIGHASH_SINGLE,
    "SINGLE|ANYONECANPAY": SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
}

ERR_NOT_FOUND = "Input not found or already spent"
ERR_STACK = "Unable to sign input, invalid stack size (possibly missing key)"
ERR_NULLFAIL = "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)"
ERR_MISSING_AMOUNT = "Missing amount"

_BASE, _WITNESS_V0 = 0, 1


# --- keys ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    """A private key with the public-key form it commits to (compressed or not), as CKey."""

    secret: bytes
    compressed: bool = True

    def __post_init__(self) -> None:
        if len(self.secret) != 32 or not 0 < int.from_bytes(self.secret, "big") < _N:
            raise ValueError("private key out of range")

    @cached_property
    def pubkey(self) -> bytes:
        return PrivateKey(self.secret).public_key.format(compressed=self.compressed)

    @cached_property
    def xonly(self) -> bytes:
        return PrivateKey(self.secret).public_key.format(compressed=True)[1:]


def decode_wif(text: str, version: int) -> SigningKey | None:
    """Core's DecodeSecret: version byte, 32-byte secret, optional 0x01 compression flag."""
    if not isinstance(text, str) or len(text) > 60:
        return None
    try:
        raw = b58check_decode(text)
    except ValueError:
        return None
    if not raw or raw[0] != version:
        return None
    body = raw[1:]
    if len(body) == 33 and body[32] == 1:
        secret, compressed = body[:32], True
    elif len(body) == 32:
        secret, compressed = body, False
    else:
        return None
    try:
        return SigningKey(secret, compressed)
    except ValueError:
        return None


def encode_wif(key: SigningKey, version: int) -> str:
    return b58check_encode(version, key.secret + (b"\x01" if key.compressed else b""))


def sign_ecdsa_low_r(secret: bytes, msg32: bytes) -> bytes:
    """DER signature with low S and low R: RFC6979, retried with a counter as extra entropy
    until R's top bit is clear (Core's CKey::Sign with grinding), so R never needs a pad byte."""
    priv = PrivateKey(secret)
    sig = priv.sign(msg32, hasher=None)
    counter = 0
    while sig[3] > 32:  # a 33-byte R carries a pad byte: its top bit is set
        counter += 1
        extra = ffi.new("unsigned char[32]", counter.to_bytes(4, "little") + bytes(28))
        sig = priv.sign(msg32, hasher=None, custom_nonce=(lib.secp256k1_nonce_function_rfc6979, extra))
    return sig


def bip86_tweaked_secret(secret: bytes) -> bytes:
    """The secret of the BIP86 output key (internal key tweaked with no script tree)."""
    priv = PrivateKey(secret)
    full = priv.public_key.format(compressed=True)
    d = int.from_bytes(secret, "big")
    if full[0] == 0x03:
        d = _N - d
    t = int.from_bytes(tap_tweak_hash(full[1:], None), "big")
    if t >= _N:
        raise ValueError("taproot tweak out of range")
    out = (d + t) % _N
    if out == 0:
        raise ValueError("taproot tweak gives the zero key")
    return out.to_bytes(32, "big")


def sign_schnorr(secret: bytes, msg32: bytes, aux: bytes | None = None) -> bytes:
    """BIP340 signature; `aux` defaults to 32 fresh random bytes, as BIP340 recommends."""
    return PrivateKey(secret).sign_schnorr(msg32, os.urandom(32) if aux is None else aux)


@dataclass
class KeyStore:
    """Keys by hash160 of their public key and scripts by hash160 (P2SH) - which is also
    RIPEMD160 of a P2WSH program - as Core's FlatSigningProvider."""

    keys: dict[bytes, SigningKey] = field(default_factory=dict)
    scripts: dict[bytes, bytes] = field(default_factory=dict)
    _taproot: dict[bytes, bytes] | None = field(default=None, repr=False)

    def add_key(self, key: SigningKey) -> None:
        self.keys[hash160(key.pubkey)] = key
        self._taproot = None

    def add_script(self, script: bytes) -> None:
        self.scripts[hash160(script)] = script

    def taproot_secret(self, output_key: bytes) -> bytes | None:
        """A secret able to sign for x-only `output_key` on the key path: a BIP86 internal key,
        or (Core's fallback) the output key's own secret. The index is built once per key set,
        so many taproot inputs cost one tweak per key, not one per key and input."""
        if self._taproot is None:
            index: dict[bytes, bytes] = {}
            for key in self.keys.values():
                index.setdefault(key.xonly, key.secret)
                try:
                    tweaked = bip86_tweaked_secret(key.secret)
                except ValueError:
                    continue
                index[PrivateKey(tweaked).public_key.format(compressed=True)[1:]] = tweaked
            self._taproot = index
        return self._taproot.get(output_key)


# --- per-input solving ----------------------------------------------------------------------------
@dataclass
class _InputState:
    """What is known while solving one input: signatures by pubkey, scripts seen in the input."""

    tx: Transaction
    index: int
    amount: int
    hash_type: int
    store: KeyStore
    txdata: PrecomputedTxData
    taproot_ready: bool
    sigs: dict[bytes, bytes] = field(default_factory=dict)
    redeem_script: bytes | None = None
    witness_script: bytes | None = None

    def script_for(self, h160: bytes) -> bytes | None:
        s = self.store.scripts.get(h160)
        if s is not None:
            return s
        for known in (self.redeem_script, self.witness_script):
            if known is not None and hash160(known) == h160:
                return known
        return None

    def pubkey_for(self, h160: bytes) -> bytes | None:
        for pub in self.sigs:
            if hash160(pub) == h160:
                return pub
        key = self.store.keys.get(h160)
        return key.pubkey if key is not None else None

    def sighash(self, script_code: bytes, sigversion: int, hash_type: int) -> bytes:
        if sigversion == _WITNESS_V0:
            return segwit_v0_sighash(script_code, self.tx, self.index, hash_type, self.amount, self.txdata)
        return legacy_sighash(script_code, self.tx, self.index, hash_type, self.txdata)

    def ecdsa_sig(self, pubkey: bytes, script_code: bytes, sigversion: int) -> bytes | None:
        existing = self.sigs.get(pubkey)
        if existing is not None:
            return existing
        key = self.store.keys.get(hash160(pubkey))
        if key is None or key.pubkey != pubkey:
            return None
        if sigversion == _WITNESS_V0 and not key.compressed:
            return None  # uncompressed keys are not standard in witness scripts
        ht = SIGHASH_ALL if self.hash_type == SIGHASH_DEFAULT else self.hash_type
        sig = sign_ecdsa_low_r(key.secret, self.sighash(script_code, sigversion, ht)) + bytes([ht])
        self.sigs[pubkey] = sig
        return sig

    def check_ecdsa(self, sig: bytes, pubkey: bytes, script_code: bytes, sigversion: int) -> bool:
        if len(sig) < 2:
            return False
        msg = self.sighash(script_code, sigversion, sig[-1])
        return verify_ecdsa(sig[:-1], pubkey, msg)

    def schnorr_sig(self, output_key: bytes) -> bytes | None:
        if not self.taproot_ready:
            return None
        secret = self.store.taproot_secret(output_key)
        if secret is None:
            return None
        msg = taproot_sighash(self.txdata, self.index, self.hash_type, SIGVERSION_TAPROOT)
        if msg is None:
            return None
        sig = sign_schnorr(secret, msg)
        return sig + bytes([self.hash_type]) if self.hash_type else sig


def _solve(script: bytes, sigversion: int, st: _InputState) -> tuple[list[bytes], str, bool]:
    """One step (Core's SignStep): the stack items satisfying `script`, its type, solved?"""
    info = classify(script)
    t = info.type
    if t == "pubkey":
        sig = st.ecdsa_sig(info.solutions[0], script, sigversion)
        return ([sig], t, True) if sig else ([], t, False)
    if t == "pubkeyhash":
        pub = st.pubkey_for(info.solutions[0])
        if pub is None:
            return [], t, False
        sig = st.ecdsa_sig(pub, script, sigversion)
        return ([sig, pub], t, True) if sig else ([], t, False)
    if t == "scripthash":
        sub = st.script_for(info.solutions[0])
        return ([sub], t, True) if sub is not None else ([], t, False)
    if t == "witness_v0_keyhash":
        return [info.solutions[0]], t, True
    if t == "witness_v0_scripthash":
        sub = st.script_for(ripemd160(info.solutions[0]))
        return ([sub], t, True) if sub is not None else ([], t, False)
    if t == "multisig":
        required = info.required or 0
        stack = [b""]  # the extra item CHECKMULTISIG pops
        for pub in info.solutions:
            if len(stack) < required + 1:
                sig = st.ecdsa_sig(pub, script, sigversion)
                if sig:
                    stack.append(sig)
        ok = len(stack) == required + 1
        i = 0
        while i + len(stack) < required + 1:  # Core pads this way (fewer than one per gap)
            stack.append(b"")
            i += 1
        return stack, t, ok
    if t == "witness_v1_taproot":
        sig = st.schnorr_sig(info.solutions[0])
        return ([sig], t, True) if sig else ([], t, False)
    if t == "witness_unknown":
        return [], t, True
    return [], t, False


def _produce(spk: bytes, st: _InputState, keep_witness: tuple[bytes, ...]) -> tuple[bytes, tuple[bytes, ...]]:
    """scriptSig and witness for an input paying `spk` (Core's ProduceSignature); `keep_witness`
    is the input's witness as found, which stays where nothing replaces it."""
    stack, t, solved = _solve(spk, _BASE, st)
    p2sh_sub = None
    if solved and t == "scripthash":
        p2sh_sub = stack[0]
        st.redeem_script = p2sh_sub
        stack, t, ok = _solve(p2sh_sub, _BASE, st)
        solved = ok and t != "scripthash"
    witness: list[bytes] = []
    if solved and t == "witness_v0_keyhash":
        witness, _, solved = _solve(p2pkh_script(stack[0]), _WITNESS_V0, st)
        stack = []
    elif solved and t == "witness_v0_scripthash":
        ws = stack[0]
        st.witness_script = ws
        inner, sub_t, ok = _solve(ws, _WITNESS_V0, st)
        solved = ok and sub_t not in ("scripthash", "witness_v0_scripthash", "witness_v0_keyhash")
        witness = inner + [ws]
        stack = []
    elif t == "witness_v1_taproot" and p2sh_sub is None:
        witness = stack if solved else list(keep_witness)  # Core leaves an unsolved one as found
        stack = []
    elif solved and t == "witness_unknown":
        witness = list(keep_witness)
    if p2sh_sub is not None:
        stack.append(p2sh_sub)
    return b"".join(push_data(v) for v in stack), tuple(witness)


def _push_stack(script_sig: bytes) -> list[bytes]:
    """The items a push-only scriptSig leaves (what an existing partial signature holds)."""
    out: list[bytes] = []
    try:
        for op, data, _ in iter_script(script_sig):
            if data is not None:
                out.append(data)
            elif op == 0x00:
                out.append(b"")
            elif 0x51 <= op <= 0x60:
                out.append(bytes([op - 0x50]))
            elif op == 0x4F:
                out.append(b"\x81")
            else:
                return []
    except ScriptParseError:
        return []
    return out


def _extract(txin: TxIn, spk: bytes, st: _InputState) -> None:
    """Learn the scripts and signatures already in an input (Core's DataFromTransaction)."""
    script_stack = _push_stack(txin.script_sig)
    witness_stack = list(txin.witness)
    info = classify(spk)
    next_script = spk
    sigversion = _BASE
    if info.type == "scripthash" and script_stack and script_stack[-1]:
        next_script = script_stack.pop()
        st.redeem_script = next_script
        info = classify(next_script)
    if info.type == "witness_v0_scripthash" and witness_stack and witness_stack[-1]:
        next_script = witness_stack.pop()
        st.witness_script = next_script
        info = classify(next_script)
        script_stack = witness_stack
        sigversion = _WITNESS_V0
    if info.type == "multisig" and script_stack:
        keys = info.solutions
        last = 0
        for sig in script_stack:
            for i in range(last, len(keys)):
                pub = keys[i]
                if pub in st.sigs:
                    last = i + 1
                    break
                if st.check_ecdsa(sig, pub, next_script, sigversion):
                    st.sigs[pub] = sig
                    last = i + 1
                    break


def _verify_error(tx: Transaction, i: int, spent: Sequence[TxOut], txdata: PrecomputedTxData) -> str | None:
    err = check_input(tx, i, spent, STANDARD_FLAGS, txdata)
    if err == ScriptError.OK:
        return None
    if err == ScriptError.INVALID_STACK_OPERATION:
        return ERR_STACK
    if err == ScriptError.SIG_NULLFAIL:
        return ERR_NULLFAIL
    return error_string(err)


def sign_transaction(
    tx: Transaction,
    store: KeyStore,
    coins: Mapping[int, TxOut | None],
    hash_type: int = SIGHASH_DEFAULT,
) -> tuple[Transaction, dict[int, str]]:
    """Sign what the keys allow. `coins[i]` is the output input i spends (None: unknown).

    Returns the transaction with every found input's scriptSig/witness rebuilt and the errors
    by input index (Core's texts; ERR_MISSING_AMOUNT marks a witness spend of a coin given
    without an amount, which the RPC turns into an exception as Core does). Complete when
    the error map is empty.
    """
    spent_all = [coins.get(i) for i in range(len(tx.vin))]
    taproot_ready = all(c is not None for c in spent_all)
    spent_list = [c if c is not None else TxOut(0, b"") for c in spent_all]
    single = (hash_type & ~SIGHASH_ANYONECANPAY) == SIGHASH_SINGLE
    unsigned_txdata = PrecomputedTxData(tx, spent_list)
    errors: dict[int, str] = {}
    vin = list(tx.vin)
    for i, txin in enumerate(tx.vin):
        coin = spent_all[i]
        if coin is None:
            errors[i] = ERR_NOT_FOUND
            continue
        if check_input(tx, i, spent_list, STANDARD_FLAGS, unsigned_txdata) == ScriptError.OK:
            continue  # already complete: keep as it is
        st = _InputState(tx, i, coin.value, hash_type, store, unsigned_txdata, taproot_ready)
        _extract(txin, coin.script_pubkey, st)
        if not single or i < len(tx.vout):
            script_sig, witness = _produce(coin.script_pubkey, st, txin.witness)
            vin[i] = replace(txin, script_sig=script_sig, witness=witness)
    signed = replace(tx, vin=tuple(vin))
    signed_txdata = PrecomputedTxData(signed, spent_list)
    for i, txin in enumerate(signed.vin):
        coin = spent_all[i]
        if coin is None:
            continue
        if coin.value == MAX_MONEY and txin.witness:
            errors[i] = ERR_MISSING_AMOUNT
            continue
        err = _verify_error(signed, i, spent_list, signed_txdata)
        if err is not None:
            errors[i] = err
    return signed, errors
