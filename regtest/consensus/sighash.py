"""Signature hashes: legacy (with its quirks), BIP143 (segwit v0) and BIP341/342 (taproot).

`PrecomputedTxData` holds per-transaction pieces (serialized prevouts, sequences, outputs and
the BIP143/BIP341 midstate hashes) computed lazily once, so checking n inputs costs O(n) hashing
for segwit and taproot instead of O(n^2).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from regtest.consensus.crypto import (
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
)
from regtest.consensus.hashes import tag_prefix
from regtest.consensus.script import OP_CODESEPARATOR, ScriptParseError, get_op
from regtest.consensus.serialize import ser_compact_size
from regtest.consensus.transaction import Transaction, TxOut

_sha256 = hashlib.sha256
_U32 = struct.Struct("<I").pack
_I32 = struct.Struct("<i").pack
_I64 = struct.Struct("<q").pack

#: Legacy SIGHASH_SINGLE with no matching output signs the number 1 (little-endian uint256).
SIGHASH_ONE = b"\x01" + bytes(31)
_EMPTY_TXOUT = b"\xff" * 8 + b"\x00"  # CTxOut() as serialized: value -1, empty script
_ZERO4 = bytes(4)
_TAPSIGHASH_PREFIX = tag_prefix("TapSighash")

SIGVERSION_BASE = 0
SIGVERSION_WITNESS_V0 = 1
SIGVERSION_TAPROOT = 2
SIGVERSION_TAPSCRIPT = 3


def _dsha(data: bytes) -> bytes:
    return _sha256(_sha256(data).digest()).digest()


class PrecomputedTxData:
    """Per-transaction data reused across all inputs' signature checks (Core's PrecomputedTxData)."""

    __slots__ = (
        "tx", "spent_outputs", "_prevouts", "_sequences", "_outputs", "_bip143", "_bip143_all",
        "_bip341", "_tap_mid", "_outputs_blob", "_legacy_all", "_singles", "accel",
    )

    def __init__(self, tx: Transaction, spent_outputs: Sequence[TxOut] | None) -> None:
        """`spent_outputs` (one per input, in order) is needed only for taproot hashes; pass
        None where just legacy/BIP143 hashes are wanted."""
        if spent_outputs is not None and len(spent_outputs) != len(tx.vin):
            raise ValueError(
                f"spent_outputs has {len(spent_outputs)} entries for {len(tx.vin)} inputs"
            )
        self.tx = tx
        self.spent_outputs = spent_outputs
        self._prevouts: list[bytes] | None = None
        self._sequences: list[bytes] | None = None
        self._outputs: list[bytes] | None = None
        self._bip143: tuple[bytes, bytes, bytes] | None = None
        self._bip143_all: tuple[bytes, bytes] | None = None
        self._bip341: tuple[bytes, bytes, bytes, bytes, bytes] | None = None
        self._tap_mid: dict[int, object] | None = None
        self._outputs_blob: bytes | None = None
        self._legacy_all: tuple[bytes, list[bytes], bytes] | None = None
        self._singles: tuple[bytes, bytes, bytes] | None = None
        #: the C accelerator's per-transaction pieces (fastpath.py fills it on first use)
        self.accel: bytes | None = None

    # serialized pieces ---------------------------------------------------------------------
    @property
    def prevouts(self) -> list[bytes]:
        p = self._prevouts
        if p is None:
            p = self._prevouts = [txin.prevout.txid + _U32(txin.prevout.n) for txin in self.tx.vin]
        return p

    @property
    def sequences(self) -> list[bytes]:
        s = self._sequences
        if s is None:
            s = self._sequences = [_U32(txin.sequence) for txin in self.tx.vin]
        return s

    @property
    def outputs(self) -> list[bytes]:
        o = self._outputs
        if o is None:
            o = self._outputs = [
                _I64(out.value) + ser_compact_size(len(out.script_pubkey)) + out.script_pubkey
                for out in self.tx.vout
            ]
        return o

    @property
    def outputs_blob(self) -> bytes:
        """All outputs serialized back to back: cut from the transaction's cached encoding
        when there is one (the outputs sit just before the lock time), else joined."""
        blob = self._outputs_blob
        if blob is None:
            tx = self.tx
            raw = tx._cache.get("nowit")
            if raw is None:
                blob = b"".join(self.outputs)
            else:
                size = 0
                for out in tx.vout:
                    n = len(out.script_pubkey)
                    size += n + (9 if n < 0xFD else 11 if n <= 0xFFFF else 13)
                end = len(raw) - 4
                blob = raw[end - size : end]
            self._outputs_blob = blob
        return blob

    @property
    def legacy_all(self) -> tuple[bytes, list[bytes], bytes]:
        """Pieces of the legacy preimage for hash types that keep every input's sequence and
        every output: head (version, input count), each input with an empty script, and tail
        (output count, outputs, lock time)."""
        la = self._legacy_all
        if la is None:
            tx = self.tx
            blank = [p + b"\x00" + q for p, q in zip(self.prevouts, self.sequences)]
            la = self._legacy_all = (
                _I32(tx.version) + ser_compact_size(len(blank)),
                blank,
                ser_compact_size(len(tx.vout)) + self.outputs_blob + _U32(tx.locktime),
            )
        return la

    # midstates ----------------------------------------------------------------------------
    @property
    def bip143_all(self) -> tuple[bytes, bytes]:
        """BIP143 preimage head (version, hashPrevouts, hashSequence) and tail (hashOutputs,
        locktime, hash type) for SIGHASH_ALL."""
        h = self._bip143_all
        if h is None:
            hp, hs, ho = self.bip143
            h = self._bip143_all = (
                _I32(self.tx.version) + hp + hs,
                ho + _U32(self.tx.locktime) + b"\x01\x00\x00\x00",
            )
        return h

    @property
    def singles(self) -> tuple[bytes, bytes, bytes]:
        """Single SHA256 of all prevouts, all sequences and all outputs: BIP341 uses them as
        they are and BIP143's double hashes are one more SHA256 of each, so a transaction
        spending both kinds hashes its inputs and outputs once."""
        h = self._singles
        if h is None:
            h = self._singles = (
                _sha256(b"".join(self.prevouts)).digest(),
                _sha256(b"".join(self.sequences)).digest(),
                _sha256(self.outputs_blob).digest(),
            )
        return h

    @property
    def bip143(self) -> tuple[bytes, bytes, bytes]:
        """(hashPrevouts, hashSequence, hashOutputs), double SHA256."""
        h = self._bip143
        if h is None:
            sp, ss, so = self.singles
            h = self._bip143 = (_sha256(sp).digest(), _sha256(ss).digest(), _sha256(so).digest())
        return h

    @property
    def bip341(self) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """(prevouts, amounts, scriptPubKeys, sequences, outputs), single SHA256."""
        h = self._bip341
        if h is None:
            if self.spent_outputs is None:
                raise ValueError("taproot signature hashes need the spent outputs")
            spent = self.spent_outputs
            amounts = struct.pack(f"<{len(spent)}q", *[o.value for o in spent])
            scripts = b"".join([
                bytes((len(spk),)) + spk if len(spk) < 0xFD else ser_compact_size(len(spk)) + spk
                for spk in [o.script_pubkey for o in spent]
            ])
            sp, ss, so = self.singles
            h = self._bip341 = (sp, _sha256(amounts).digest(), _sha256(scripts).digest(), ss, so)
        return h


    def taproot_midstate(self, hash_type: int):
        """SHA256 state after the part of the BIP341 SigMsg every input shares, for hash type
        DEFAULT (0) or ALL (1): tag, epoch, hash type, version, locktime and the five hashes.
        Callers copy it and feed the per-input rest (taproot_sighash's layout)."""
        mids = self._tap_mid
        if mids is None:
            mids = self._tap_mid = {}
        h = mids.get(hash_type)
        if h is None:
            if hash_type > 1:
                raise ValueError("midstate only for SIGHASH_DEFAULT and SIGHASH_ALL")
            tx = self.tx
            h = mids[hash_type] = _sha256(b"".join((
                _TAPSIGHASH_PREFIX, b"\x00", bytes((hash_type,)), _I32(tx.version), _U32(tx.locktime),
                *self.bip341,
            )))
        return h


# --- legacy --------------------------------------------------------------------------------
def _serialize_script_code(script: bytes) -> bytes:
    """scriptCode with every OP_CODESEPARATOR removed (parsing stops at a bad push), length-prefixed."""
    if OP_CODESEPARATOR not in script:
        return ser_compact_size(len(script)) + script
    out = bytearray()
    start = 0
    pc = 0
    end = len(script)
    while pc < end:
        try:
            op, _data, nxt = get_op(script, pc)
        except ScriptParseError:
            break
        if op == OP_CODESEPARATOR:
            out += script[start:pc]
            start = nxt
        pc = nxt
    out += script[start:]
    return ser_compact_size(len(out)) + bytes(out)


def legacy_sighash(
    script_code: bytes,
    tx: Transaction,
    n_in: int,
    hash_type: int,
    txdata: PrecomputedTxData | None = None,
    no_codeseparator: bool = False,
) -> bytes:
    """Core's original SignatureHash (SigVersion::BASE), internal byte order.

    `no_codeseparator`: the caller knows `script_code` has no OP_CODESEPARATOR opcode (a
    template), so the 0xab-byte scan that may hit push data is skipped.

    Reproduces the SIGHASH_SINGLE bug (returns 1 when there is no output at n_in) and the
    out-of-range input index case; `hash_type` is the full 32-bit value that gets committed.
    """
    if n_in >= len(tx.vin):
        return SIGHASH_ONE
    base = hash_type & 0x1F
    if base == SIGHASH_SINGLE and n_in >= len(tx.vout):
        return SIGHASH_ONE
    if txdata is None:
        txdata = PrecomputedTxData(tx, None)
    prevouts = txdata.prevouts
    sequences = txdata.sequences
    if no_codeseparator:
        code = ser_compact_size(len(script_code)) + script_code
    else:
        code = _serialize_script_code(script_code)
    if not hash_type & SIGHASH_ANYONECANPAY and base != SIGHASH_NONE and base != SIGHASH_SINGLE:
        head, blank, tail = txdata.legacy_all
        parts = [head]
        parts += blank[:n_in]
        parts += (prevouts[n_in], code, sequences[n_in])
        parts += blank[n_in + 1 :]
        parts += (tail, _U32(hash_type & 0xFFFFFFFF))
        return _dsha(b"".join(parts))
    parts = [_I32(tx.version)]
    if hash_type & SIGHASH_ANYONECANPAY:
        parts += (b"\x01", prevouts[n_in], code, sequences[n_in])
    else:
        zero_seq = base == SIGHASH_NONE or base == SIGHASH_SINGLE
        parts.append(ser_compact_size(len(prevouts)))
        for i, prevout in enumerate(prevouts):
            if i == n_in:
                parts += (prevout, code, sequences[i])
            else:
                parts += (prevout, b"\x00", _ZERO4 if zero_seq else sequences[i])
    if base == SIGHASH_NONE:
        parts.append(b"\x00")
    elif base == SIGHASH_SINGLE:
        parts.append(ser_compact_size(n_in + 1))
        parts += [_EMPTY_TXOUT] * n_in
        parts.append(txdata.outputs[n_in])
    else:
        outputs = txdata.outputs
        parts.append(ser_compact_size(len(outputs)))
        parts += outputs
    parts.append(_U32(tx.locktime))
    parts.append(_U32(hash_type & 0xFFFFFFFF))
    return _dsha(b"".join(parts))


# --- BIP143 ----------------------------------------------------------------------------------
_ZERO32 = bytes(32)


def segwit_v0_sighash(
    script_code: bytes,
    tx: Transaction,
    n_in: int,
    hash_type: int,
    amount: int,
    txdata: PrecomputedTxData | None = None,
) -> bytes:
    """BIP143 signature hash (scriptCode committed as is, OP_CODESEPARATORs included)."""
    if txdata is None:
        txdata = PrecomputedTxData(tx, None)
    if hash_type == 1:  # SIGHASH_ALL, by far the most common: fixed head and tail per tx
        head, tail = txdata.bip143_all
        return _dsha(b"".join((
            head,
            txdata.prevouts[n_in],
            ser_compact_size(len(script_code)),
            script_code,
            _I64(amount),
            txdata.sequences[n_in],
            tail,
        )))
    base = hash_type & 0x1F
    acp = hash_type & SIGHASH_ANYONECANPAY
    h_prevouts, h_sequence, h_outputs = txdata.bip143
    if acp:
        h_prevouts = _ZERO32
    if acp or base == SIGHASH_SINGLE or base == SIGHASH_NONE:
        h_sequence = _ZERO32
    if base != SIGHASH_SINGLE and base != SIGHASH_NONE:
        pass
    elif base == SIGHASH_SINGLE and n_in < len(tx.vout):
        h_outputs = _dsha(txdata.outputs[n_in])
    else:
        h_outputs = _ZERO32
    txin = tx.vin[n_in]
    preimage = b"".join((
        _I32(tx.version),
        h_prevouts,
        h_sequence,
        txdata.prevouts[n_in],
        ser_compact_size(len(script_code)),
        script_code,
        _I64(amount),
        _U32(txin.sequence),
        h_outputs,
        _U32(tx.locktime),
        _U32(hash_type & 0xFFFFFFFF),
    ))
    return _dsha(preimage)


# --- BIP341 / BIP342 ------------------------------------------------------------------------
def taproot_sighash(
    txdata: PrecomputedTxData,
    n_in: int,
    hash_type: int,
    sigversion: int,
    annex_hash: bytes | None = None,
    tapleaf_hash: bytes | None = None,
    codesep_pos: int = 0xFFFFFFFF,
) -> bytes | None:
    """BIP341 SigMsg hashed with the TapSighash tag; None where Core's SignatureHashSchnorr fails
    (undefined hash type, or SIGHASH_SINGLE without a matching output)."""
    if not (hash_type <= 0x03 or 0x81 <= hash_type <= 0x83):
        return None
    tx = txdata.tx
    output_type = SIGHASH_ALL_ if hash_type == 0 else hash_type & 0x03
    acp = hash_type & SIGHASH_ANYONECANPAY
    parts = [
        _TAPSIGHASH_PREFIX,
        b"\x00",
        bytes((hash_type,)),
        _I32(tx.version),
        _U32(tx.locktime),
    ]
    if not acp:
        parts += txdata.bip341[:4]
    if output_type == SIGHASH_ALL_:
        parts.append(txdata.bip341[4])
    ext_flag = 1 if sigversion == SIGVERSION_TAPSCRIPT else 0
    parts.append(bytes(((ext_flag << 1) + (1 if annex_hash is not None else 0),)))
    if acp:
        spent = txdata.spent_outputs[n_in]
        parts += (
            txdata.prevouts[n_in],
            _I64(spent.value),
            ser_compact_size(len(spent.script_pubkey)),
            spent.script_pubkey,
            txdata.sequences[n_in],
        )
    else:
        parts.append(_U32(n_in))
    if annex_hash is not None:
        parts.append(annex_hash)
    if output_type == SIGHASH_SINGLE:
        if n_in >= len(tx.vout):
            return None
        parts.append(_sha256(txdata.outputs[n_in]).digest())
    if sigversion == SIGVERSION_TAPSCRIPT:
        assert tapleaf_hash is not None
        parts += (tapleaf_hash, b"\x00", _U32(codesep_pos))
    return _sha256(b"".join(parts)).digest()


SIGHASH_ALL_ = 0x01
