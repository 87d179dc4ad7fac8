"""What script evaluation checks against the spending transaction: Core's
TransactionSignatureChecker (signatures, lock times, sequences), the per-input execution data
taproot hashing commits to, and the signature/pubkey encoding rules selected by flags.
"""

from __future__ import annotations

import hashlib

from regtest.consensus import crypto
from regtest.consensus.crypto import (
    is_compressed_or_uncompressed_pubkey,
    is_compressed_pubkey,
    is_defined_hashtype,
    is_low_s,
    is_valid_signature_encoding,
)
from regtest.consensus.script import LOCKTIME_THRESHOLD
from regtest.consensus.script_error import ScriptError
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.sighash import (
    SIGVERSION_WITNESS_V0,
    PrecomputedTxData,
    legacy_sighash,
    segwit_v0_sighash,
    taproot_sighash,
)
from regtest.consensus.transaction import Transaction

E = ScriptError
_sha256 = hashlib.sha256

#: The template fast paths (P2PKH, P2WPKH, native witness programs) are exact equivalents of
#: the general interpreter; tests switch them off to compare the two.
FAST_PATHS = True

# flag bits as plain ints (IntFlag arithmetic is slow in the hot loop)
F_P2SH = int(ScriptFlags.P2SH)
F_STRICTENC = int(ScriptFlags.STRICTENC)
F_DERSIG = int(ScriptFlags.DERSIG)
F_LOW_S = int(ScriptFlags.LOW_S)
F_NULLDUMMY = int(ScriptFlags.NULLDUMMY)
F_SIGPUSHONLY = int(ScriptFlags.SIGPUSHONLY)
F_MINIMALDATA = int(ScriptFlags.MINIMALDATA)
F_DISCOURAGE_NOPS = int(ScriptFlags.DISCOURAGE_UPGRADABLE_NOPS)
F_CLEANSTACK = int(ScriptFlags.CLEANSTACK)
F_CLTV = int(ScriptFlags.CHECKLOCKTIMEVERIFY)
F_CSV = int(ScriptFlags.CHECKSEQUENCEVERIFY)
F_WITNESS = int(ScriptFlags.WITNESS)
F_DISCOURAGE_WITNESS_PROGRAM = int(ScriptFlags.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM)
F_MINIMALIF = int(ScriptFlags.MINIMALIF)
F_NULLFAIL = int(ScriptFlags.NULLFAIL)
F_WITNESS_PUBKEYTYPE = int(ScriptFlags.WITNESS_PUBKEYTYPE)
F_CONST_SCRIPTCODE = int(ScriptFlags.CONST_SCRIPTCODE)
F_TAPROOT = int(ScriptFlags.TAPROOT)
F_DISCOURAGE_TAPROOT_VERSION = int(ScriptFlags.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION)
F_DISCOURAGE_OP_SUCCESS = int(ScriptFlags.DISCOURAGE_OP_SUCCESS)
F_DISCOURAGE_PUBKEYTYPE = int(ScriptFlags.DISCOURAGE_UPGRADABLE_PUBKEYTYPE)

#: Any of these makes check_signature_encoding demand BIP66 strict DER of a non-empty signature.
F_STRICT_DER = F_DERSIG | F_LOW_S | F_STRICTENC

SEQUENCE_FINAL = 0xFFFFFFFF
SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31
SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22
SEQUENCE_LOCKTIME_MASK = 0x0000FFFF

class ScriptFailure(Exception):
    """Internal: evaluation stopped with `error`."""

    __slots__ = ("error",)

    def __init__(self, error: ScriptError) -> None:
        self.error = error


RIPEMD160_TEMPLATE = hashlib.new("ripemd160")


def fast_hash160(data: bytes) -> bytes:
    """hash160 with a copied ripemd160 object (hashlib.new by name is twice as slow)."""
    h = RIPEMD160_TEMPLATE.copy()
    h.update(_sha256(data).digest())
    return h.digest()


class ExecData:
    """Per-input execution state that taproot signature hashing commits to (Core's ScriptExecutionData)."""

    __slots__ = ("codesep_pos", "annex_hash", "tapleaf_hash", "validation_weight_left")

    def __init__(self) -> None:
        self.codesep_pos = 0xFFFFFFFF
        self.annex_hash: bytes | None = None
        self.tapleaf_hash: bytes | None = None
        self.validation_weight_left = 0


class TxChecker:
    """Signature, locktime and sequence checks against one input of a transaction."""

    __slots__ = ("tx", "n_in", "amount", "txdata", "_sighashes")

    def __init__(self, tx: Transaction, n_in: int, amount: int, txdata: PrecomputedTxData) -> None:
        self.tx = tx
        self.n_in = n_in
        self.amount = amount
        self.txdata = txdata
        # Signature hashes already computed for this input: CHECKMULTISIG tries several
        # signatures against the same scriptCode and hash type.
        self._sighashes: dict[tuple, bytes | None] = {}

    def check_ecdsa(
        self, sig: bytes, pubkey: bytes, script_code: bytes, sigversion: int, strict_der: bool = False
    ) -> bool:
        """CheckECDSASignature; `strict_der` says `sig` already passed the BIP66 encoding check."""
        n = len(pubkey)
        if n != 33 and n != 65:
            return False
        if not sig:
            return False
        hash_type = sig[-1]
        key = (sigversion, hash_type, script_code)
        msg = self._sighashes.get(key)
        if msg is None:
            if sigversion == SIGVERSION_WITNESS_V0:
                msg = segwit_v0_sighash(script_code, self.tx, self.n_in, hash_type, self.amount, self.txdata)
            else:
                msg = legacy_sighash(script_code, self.tx, self.n_in, hash_type, self.txdata)
            self._sighashes[key] = msg
        if strict_der and FAST_PATHS:
            return crypto.verify_ecdsa_strict(sig[:-1], pubkey, msg)
        return crypto.verify_ecdsa(sig[:-1], pubkey, msg)

    def check_schnorr(self, sig: bytes, pubkey: bytes, sigversion: int, execdata: ExecData) -> None:
        """Raise ScriptFailure unless `sig` is a valid BIP340 signature for this input."""
        n = len(sig)
        if n == 64:
            hash_type = 0
        elif n == 65:
            hash_type = sig[64]
            if hash_type == 0:
                raise ScriptFailure(E.SCHNORR_SIG_HASHTYPE)
            sig = sig[:64]
        else:
            raise ScriptFailure(E.SCHNORR_SIG_SIZE)
        key = (sigversion, hash_type, execdata.codesep_pos, execdata.annex_hash, execdata.tapleaf_hash)
        if key in self._sighashes:
            msg = self._sighashes[key]
        else:
            msg = self._sighashes[key] = taproot_sighash(
                self.txdata, self.n_in, hash_type, sigversion,
                execdata.annex_hash, execdata.tapleaf_hash, execdata.codesep_pos,
            )
        if msg is None:
            raise ScriptFailure(E.SCHNORR_SIG_HASHTYPE)
        if not crypto.verify_schnorr(sig, pubkey, msg):
            raise ScriptFailure(E.SCHNORR_SIG)

    def check_locktime(self, locktime: int) -> bool:
        tx_lt = self.tx.locktime
        if not ((tx_lt < LOCKTIME_THRESHOLD and locktime < LOCKTIME_THRESHOLD)
                or (tx_lt >= LOCKTIME_THRESHOLD and locktime >= LOCKTIME_THRESHOLD)):
            return False
        if locktime > tx_lt:
            return False
        return self.tx.vin[self.n_in].sequence != SEQUENCE_FINAL

    def check_sequence(self, sequence: int) -> bool:
        tx_seq = self.tx.vin[self.n_in].sequence
        if (self.tx.version & 0xFFFFFFFF) < 2:
            return False
        if tx_seq & SEQUENCE_LOCKTIME_DISABLE_FLAG:
            return False
        mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK
        tx_masked = tx_seq & mask
        masked = sequence & mask
        if not ((tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG and masked < SEQUENCE_LOCKTIME_TYPE_FLAG)
                or (tx_masked >= SEQUENCE_LOCKTIME_TYPE_FLAG and masked >= SEQUENCE_LOCKTIME_TYPE_FLAG)):
            return False
        return masked <= tx_masked


# --- encoding checks -------------------------------------------------------------------------
def check_signature_encoding(sig: bytes, flags: int) -> None:
    """Core's CheckSignatureEncoding (empty signatures always pass)."""
    if not sig:
        return
    if flags & (F_DERSIG | F_LOW_S | F_STRICTENC) and not is_valid_signature_encoding(sig):
        raise ScriptFailure(E.SIG_DER)
    if flags & F_LOW_S and not is_low_s(sig[:-1]):
        raise ScriptFailure(E.SIG_HIGH_S)
    if flags & F_STRICTENC and not is_defined_hashtype(sig):
        raise ScriptFailure(E.SIG_HASHTYPE)


def check_pubkey_encoding(pubkey: bytes, flags: int, sigversion: int) -> None:
    if flags & F_STRICTENC and not is_compressed_or_uncompressed_pubkey(pubkey):
        raise ScriptFailure(E.PUBKEYTYPE)
    if flags & F_WITNESS_PUBKEYTYPE and sigversion == SIGVERSION_WITNESS_V0 and not is_compressed_pubkey(pubkey):
        raise ScriptFailure(E.WITNESS_PUBKEYTYPE)
