"""The training certificate: format, signing, and the proof rule of this project's regtest.

A certificate is a coordinator-signed statement that a training cycle produced a winner who may
mine the block at one height on one parent. It travels in the coinbase as an OP_RETURN output
`OP_RETURN <push: CERT_TAG || certificate bytes>` and commits to the rest of its block (like a
Signet block solution), so it cannot be lifted into another block. See docs/certificate.md.

Typical use (a miner or the sidecar):

    block = template_with(certificate_placeholder())         # coinbase holds a blank cert output
    cert = Certificate(..., block_commitment=block_commitment(block)).sign(coordinator_privkey)
    block = attach_certificate(block, cert)                  # fills it in, fixes the merkle root
    check_block_certificate(block, height, params)           # raises BlockValidationError
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass

import coincurve

from regtest.consensus.block import Block, block_merkle_root
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.hashes import tagged_hash
from regtest.consensus.serialize import ByteReader, DeserializationError, ser_var_bytes
from regtest.consensus.transaction import Transaction, TxOut

CERT_VERSION = 1
CERT_TAG = b"POTC"  # first bytes of the pushed data; identifies a certificate output
MAX_CERT_SIZE = 512  # serialized certificate (after the tag), bytes
MAX_PAYOUT_SCRIPT_SIZE = 128
SIGNATURE_TAG = "POTC/certificate"
COMMITMENT_TAG = "POTC/block-commitment"

OP_RETURN = 0x6A
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E

_FIXED_HEAD = struct.Struct("<B4s32sI")  # version, network, parent hash, height
_FIXED_MID = struct.Struct("<Q32s32s32sII32s32s")  # cycle .. block commitment
SIGNATURE_SIZE = 64


class CertificateError(ValueError):
    """A certificate could not be decoded or built; `reason` is the bad-cert-* string."""

    def __init__(self, reason: str, debug: str = "") -> None:
        super().__init__(f"{reason}: {debug}" if debug else reason)
        self.reason = reason
        self.debug = debug


@dataclass(frozen=True, slots=True)
class Certificate:
    """All fields of a version-1 certificate. Hashes are 32 bytes in internal byte order."""

    network: bytes  # 4-byte network magic of the chain it is valid on
    parent_hash: bytes  # hash of the block it builds on
    height: int  # height of the block it is valid for
    payout_script: bytes  # scriptPubKey of the lottery winner
    cycle_id: int  # training cycle number (u64)
    model_hash: bytes  # hash of the model state after the cycle
    contributions_root: bytes  # merkle root of the cycle's scored contributions
    lottery_seed: bytes  # revealed lottery seed
    issue_time: int  # earliest block time (inclusive, u32)
    expiry: int  # latest block time (inclusive, u32)
    block_commitment: bytes  # block_commitment() of the block carrying it
    coordinator_key: bytes = bytes(32)  # x-only key that signs; set by sign()
    signature: bytes = bytes(SIGNATURE_SIZE)  # BIP340 signature over signing_hash()
    version: int = CERT_VERSION

    # --- encoding ------------------------------------------------------------------------
    def serialize_unsigned(self) -> bytes:
        """Every field except the signature, in wire order: the signed message's preimage."""
        self._check_field_sizes()
        return (
            _FIXED_HEAD.pack(self.version, self.network, self.parent_hash, self.height)
            + ser_var_bytes(self.payout_script)
            + _FIXED_MID.pack(
                self.cycle_id,
                self.model_hash,
                self.contributions_root,
                self.lottery_seed,
                self.issue_time,
                self.expiry,
                self.coordinator_key,
                self.block_commitment,
            )
        )

    def serialize(self) -> bytes:
        return self.serialize_unsigned() + self.signature

    @classmethod
    def parse(cls, data: bytes) -> "Certificate":
        """Decode a certificate; raises CertificateError with its bad-cert-* reason."""
        if len(data) > MAX_CERT_SIZE:
            raise CertificateError("bad-cert-oversize", f"{len(data)} bytes > {MAX_CERT_SIZE}")
        if not data:
            raise CertificateError("bad-cert-malformed", "empty certificate")
        if data[0] != CERT_VERSION:
            raise CertificateError("bad-cert-version", f"unknown certificate version {data[0]}")
        try:
            r = ByteReader(data)
            version, network, parent, height = _FIXED_HEAD.unpack(r.read(_FIXED_HEAD.size))
            payout = r.read_var_bytes()
            if len(payout) > MAX_PAYOUT_SCRIPT_SIZE:
                raise CertificateError("bad-cert-malformed", "payout script too long")
            mid = _FIXED_MID.unpack(r.read(_FIXED_MID.size))
            signature = r.read(SIGNATURE_SIZE)
            if not r.at_end():
                raise CertificateError("bad-cert-malformed", "trailing bytes")
        except DeserializationError as e:
            raise CertificateError("bad-cert-malformed", str(e)) from None
        cycle, model, contrib, seed, issue, expiry, key, commitment = mid
        return cls(
            network=network,
            parent_hash=parent,
            height=height,
            payout_script=payout,
            cycle_id=cycle,
            model_hash=model,
            contributions_root=contrib,
            lottery_seed=seed,
            issue_time=issue,
            expiry=expiry,
            block_commitment=commitment,
            coordinator_key=key,
            signature=signature,
            version=version,
        )

    def _check_field_sizes(self) -> None:
        sizes = {
            "network": (self.network, 4),
            "parent_hash": (self.parent_hash, 32),
            "model_hash": (self.model_hash, 32),
            "contributions_root": (self.contributions_root, 32),
            "lottery_seed": (self.lottery_seed, 32),
            "coordinator_key": (self.coordinator_key, 32),
            "block_commitment": (self.block_commitment, 32),
            "signature": (self.signature, SIGNATURE_SIZE),
        }
        for name, (value, size) in sizes.items():
            if len(value) != size:
                raise CertificateError("bad-cert-malformed", f"{name} must be {size} bytes")
        if len(self.payout_script) > MAX_PAYOUT_SCRIPT_SIZE:
            raise CertificateError("bad-cert-malformed", "payout script too long")
        for name, value, bits in (
            ("version", self.version, 8),
            ("height", self.height, 32),
            ("cycle_id", self.cycle_id, 64),
            ("issue_time", self.issue_time, 32),
            ("expiry", self.expiry, 32),
        ):
            if not 0 <= value < (1 << bits):
                raise CertificateError("bad-cert-malformed", f"{name} out of range")

    # --- signing -----------------------------------------------------------------------------
    def signing_hash(self) -> bytes:
        return tagged_hash(SIGNATURE_TAG, self.serialize_unsigned())

    def sign(self, privkey: bytes | coincurve.PrivateKey, aux_rand: bytes | None = None) -> "Certificate":
        """A copy signed by `privkey`, with coordinator_key set to its x-only public key."""
        key = privkey if isinstance(privkey, coincurve.PrivateKey) else coincurve.PrivateKey(privkey)
        xonly = key.public_key_xonly.format()
        unsigned = dataclasses.replace(self, coordinator_key=xonly, signature=bytes(SIGNATURE_SIZE))
        sig = key.sign_schnorr(unsigned.signing_hash(), aux_rand if aux_rand is not None else b"")
        return dataclasses.replace(unsigned, signature=sig)

    def verify_signature(self) -> bool:
        try:
            pub = coincurve.PublicKeyXOnly(self.coordinator_key)
            return pub.verify(self.signature, self.signing_hash())
        except (ValueError, TypeError):
            return False

    def replace(self, **changes) -> "Certificate":
        return dataclasses.replace(self, **changes)


def xonly_pubkey(privkey: bytes) -> bytes:
    """The 32-byte x-only public key of a private key (what the params' schedule lists)."""
    return coincurve.PrivateKey(privkey).public_key_xonly.format()


# --- the coinbase output -------------------------------------------------------------------------
def _push(data: bytes) -> bytes:
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    return bytes((OP_PUSHDATA2,)) + n.to_bytes(2, "little") + data


def certificate_script(cert: Certificate) -> bytes:
    return bytes((OP_RETURN,)) + _push(CERT_TAG + cert.serialize())


def certificate_output(cert: Certificate) -> TxOut:
    """The zero-value coinbase output that carries `cert`."""
    return TxOut(0, certificate_script(cert))


#: The certificate output with its payload blanked: what block_commitment() hashes in its place.
BLANK_CERTIFICATE_SCRIPT = bytes((OP_RETURN,)) + _push(CERT_TAG)


def certificate_placeholder() -> TxOut:
    """A blank certificate output to put in a coinbase before the certificate exists."""
    return TxOut(0, BLANK_CERTIFICATE_SCRIPT)


def _split_push(script: bytes) -> tuple[int, bytes] | None:
    """(declared length, pushed bytes present) of the push after OP_RETURN, or None."""
    if len(script) < 2 or script[0] != OP_RETURN:
        return None
    op = script[1]
    if 0 < op < OP_PUSHDATA1:
        return op, script[2:]
    if op == OP_PUSHDATA1 and len(script) >= 3:
        return script[2], script[3:]
    if op == OP_PUSHDATA2 and len(script) >= 4:
        return int.from_bytes(script[2:4], "little"), script[4:]
    if op == OP_PUSHDATA4 and len(script) >= 6:
        return int.from_bytes(script[2:6], "little"), script[6:]
    return None


def is_certificate_script(script: bytes) -> bool:
    """OP_RETURN whose first push starts with CERT_TAG (complete or not)."""
    split = _split_push(script)
    return split is not None and split[1][: len(CERT_TAG)] == CERT_TAG


def certificate_payload(script: bytes) -> bytes:
    """The certificate bytes of a certificate output; CertificateError if the push is broken."""
    split = _split_push(script)
    if split is None or split[1][: len(CERT_TAG)] != CERT_TAG:
        raise CertificateError("bad-cert-missing", "not a certificate output")
    declared, present = split
    if declared != len(present):
        raise CertificateError("bad-cert-malformed", "push length does not match the script")
    return present[len(CERT_TAG):]


def find_certificates(coinbase: Transaction) -> list[int]:
    """Indexes of the coinbase outputs that carry a certificate (well-formed or not)."""
    return [i for i, out in enumerate(coinbase.vout) if is_certificate_script(out.script_pubkey)]


# --- the block commitment ----------------------------------------------------------------------
def _blank_certificates(coinbase: Transaction) -> Transaction:
    vout = tuple(
        TxOut(out.value, BLANK_CERTIFICATE_SCRIPT) if is_certificate_script(out.script_pubkey) else out
        for out in coinbase.vout
    )
    return Transaction(coinbase.version, coinbase.vin, vout, coinbase.locktime)


def commitment_merkle_root(block: Block) -> bytes:
    """The merkle root of the block with every certificate output blanked."""
    if not block.txs:
        return bytes(32)
    txs = (_blank_certificates(block.txs[0]),) + tuple(block.txs[1:])
    return block_merkle_root(txs)[0]


def block_commitment(block: Block) -> bytes:
    """What a certificate commits to: version, parent, time, bits and the blanked merkle root."""
    h = block.header
    preimage = (
        struct.pack("<i", h.version)
        + h.prev_hash
        + commitment_merkle_root(block)
        + struct.pack("<II", h.time, h.bits)
    )
    return tagged_hash(COMMITMENT_TAG, preimage)


def attach_certificate(block: Block, cert: Certificate) -> Block:
    """Put `cert` into the block's (single) certificate output and recompute the merkle root.

    The coinbase must already hold a certificate output (e.g. certificate_placeholder()); if it
    has none, one is appended, which changes the block commitment, so sign after building.
    """
    coinbase = block.txs[0]
    indexes = find_certificates(coinbase)
    if len(indexes) > 1:
        raise CertificateError("bad-cert-multiple", "coinbase has several certificate outputs")
    vout = list(coinbase.vout)
    if indexes:
        vout[indexes[0]] = TxOut(vout[indexes[0]].value, certificate_script(cert))
    else:
        vout.append(certificate_output(cert))
    new_cb = Transaction(coinbase.version, coinbase.vin, tuple(vout), coinbase.locktime)
    return block.with_txs((new_cb,) + tuple(block.txs[1:]))


def extract_certificate(block: Block) -> Certificate:
    """The block's one certificate, decoded; raises BlockValidationError(bad-cert-...)."""
    if not block.txs or not block.txs[0].vout:
        raise BlockValidationError("bad-cert-missing", "no coinbase outputs")
    coinbase = block.txs[0]
    indexes = find_certificates(coinbase)
    if not indexes:
        raise BlockValidationError("bad-cert-missing", "no certificate output in the coinbase")
    if len(indexes) > 1:
        raise BlockValidationError("bad-cert-multiple", f"{len(indexes)} certificate outputs")
    try:
        payload = certificate_payload(coinbase.vout[indexes[0]].script_pubkey)
        return Certificate.parse(payload)
    except CertificateError as e:
        raise BlockValidationError(e.reason, e.debug) from None


# --- the rule ---------------------------------------------------------------------------------
def check_block_certificate(block: Block, height: int | None, params) -> Certificate:
    """The certificate proof rule. `height` None checks everything but the block's height
    (context-free use, the key schedule is then read at the certificate's own height).
    Returns the certificate; raises BlockValidationError with a bad-cert-* reason."""
    cert = extract_certificate(block)
    if cert.network != params.magic:
        raise BlockValidationError("bad-cert-network", f"certificate for network {cert.network.hex()}")
    if height is not None and cert.height != height:
        raise BlockValidationError("bad-cert-height", f"certificate for height {cert.height}, block at {height}")
    if cert.coordinator_key not in params.coordinator_keys_at(cert.height):
        raise BlockValidationError("bad-cert-key", "coordinator key not valid at this height")
    if not cert.verify_signature():
        raise BlockValidationError("bad-cert-sig", "certificate signature invalid")
    if cert.parent_hash != block.header.prev_hash:
        raise BlockValidationError("bad-cert-parent", "certificate for another parent block")
    if cert.block_commitment != block_commitment(block):
        raise BlockValidationError("bad-cert-commitment", "certificate commits to another block")
    for out in block.txs[0].vout:
        spk = out.script_pubkey
        if (not spk or spk[0] != OP_RETURN) and spk != cert.payout_script:
            raise BlockValidationError("bad-cert-payout", "coinbase pays a script other than the winner's")
    if block.header.time < cert.issue_time:
        raise BlockValidationError("bad-cert-premature", "block time before the certificate's issue time")
    if block.header.time > cert.expiry:
        raise BlockValidationError("bad-cert-expired", "block time after the certificate's expiry")
    return cert
