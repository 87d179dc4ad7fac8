"""Building blocks the way Core's miner does: coinbase with BIP34 height, witness commitment,
optional certificate, and a nonce that meets the target. For miners, tests and generators.
"""

from __future__ import annotations

from regtest.consensus.block import (
    Block,
    BlockHeader,
    block_merkle_root,
    bip34_height_script,
    check_proof_of_work,
    is_witness_commitment_script,
    witness_commitment_output,
    witness_merkle_root,
)
from regtest.consensus.certificate import Certificate, attach_certificate, block_commitment, certificate_placeholder
from regtest.consensus.params import NetworkParams, ProofRule, block_subsidy
from regtest.consensus.transaction import NULL_OUTPOINT, Transaction, TxIn, TxOut

DEFAULT_BLOCK_VERSION = 0x20000000


def make_coinbase(
    height: int,
    payout_script: bytes,
    value: int,
    *,
    extra_outputs: tuple[TxOut, ...] = (),
    extranonce: bytes = b"\x00",
    witness_reserved: bytes | None = bytes(32),
) -> Transaction:
    """A coinbase paying `value` to `payout_script`; scriptSig = <height> <extranonce>."""
    script_sig = bip34_height_script(height)
    if extranonce:
        script_sig += bytes((len(extranonce),)) + extranonce  # a direct push: at most 75 bytes
    if len(script_sig) < 2:
        script_sig += b"\x00"
    witness = (witness_reserved,) if witness_reserved is not None else ()
    txin = TxIn(NULL_OUTPOINT, script_sig, 0xFFFFFFFF, witness)
    return Transaction(2, (txin,), (TxOut(value, payout_script),) + tuple(extra_outputs), 0)


def add_witness_commitment(block: Block, reserved_value: bytes = bytes(32)) -> Block:
    """Append (or refresh) the witness commitment output, then fix the merkle root."""
    cb = block.txs[0]
    vout = tuple(o for o in cb.vout if not is_witness_commitment_script(o.script_pubkey))
    commitment = witness_commitment_output(witness_merkle_root(block.txs), reserved_value)
    cb = Transaction(cb.version, cb.vin, vout + (commitment,), cb.locktime)
    return block.with_txs((cb,) + tuple(block.txs[1:]))


def make_block(
    params: NetworkParams,
    prev_hash: bytes,
    height: int,
    time: int,
    payout_script: bytes,
    txs: tuple[Transaction, ...] | list[Transaction] = (),
    *,
    fees: int = 0,
    version: int = DEFAULT_BLOCK_VERSION,
    bits: int | None = None,
    witness_commitment: bool = True,
    certificate_slot: bool | None = None,
) -> Block:
    """An unsolved block: coinbase paying subsidy + fees, optional witness commitment and (on
    certificate networks by default) a blank certificate output; merkle root filled in."""
    if certificate_slot is None:
        certificate_slot = params.proof_rule is ProofRule.CERTIFICATE
    extra = (certificate_placeholder(),) if certificate_slot else ()
    value = block_subsidy(height, params) + fees
    coinbase = make_coinbase(height, payout_script, value, extra_outputs=extra)
    all_txs = (coinbase,) + tuple(txs)
    root, _ = block_merkle_root(all_txs)
    header = BlockHeader(version, prev_hash, root, time, params.pow_limit_bits if bits is None else bits, 0)
    block = Block(header, all_txs)
    if witness_commitment:
        block = add_witness_commitment(block)
    return block


def solve_pow(block: Block, pow_limit: int, max_tries: int = 1 << 24) -> Block:
    """Grind the nonce until the header hash meets its target (instant at regtest difficulty)."""
    header = block.header
    for nonce in range(max_tries):
        h = header.replace(nonce=nonce)
        if check_proof_of_work(h.hash, h.bits, pow_limit):
            return Block(h, block.txs)
    raise RuntimeError("no nonce found")


def certify(block: Block, cert: Certificate, privkey: bytes) -> Block:
    """Fill `cert` with the block's commitment, sign it and attach it to the block."""
    signed = cert.replace(block_commitment=block_commitment(block)).sign(privkey)
    return attach_certificate(block, signed)
