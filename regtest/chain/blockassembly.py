"""Regtest convenience, like bitcoind's generatetoaddress: build the next block on the tip.

On certificate networks the node holds the coordinator's private key (regtest only) and signs
its own certificate, so tests can grow chains without the sidecar. On proof-of-work networks
the nonce is ground instead (instant at regtest difficulty).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from regtest.chain.versionbits import block_version
from regtest.consensus.block import Block
from regtest.consensus.blockbuild import DEFAULT_BLOCK_VERSION, certify, make_block, solve_pow
from regtest.consensus.certificate import Certificate
from regtest.consensus.hashes import sha256
from regtest.consensus.params import ProofRule
from regtest.consensus.transaction import OutPoint, Transaction

if TYPE_CHECKING:
    from regtest.chain.chainstate import Chainstate

#: How long a self-issued regtest certificate stays valid around the block time.
CERT_WINDOW = 2 * 60 * 60


class AssemblyError(ValueError):
    """The requested block cannot be built (missing inputs, no key on a certificate network)."""


def block_fees(chainstate: "Chainstate", txs: Sequence[Transaction]) -> int:
    """Sum of input values minus output values; inputs may come from earlier txs in `txs`."""
    created: dict[OutPoint, int] = {}
    fees = 0
    for tx in txs:
        value_in = 0
        for txin in tx.vin:
            op = txin.prevout
            if op in created:
                value_in += created.pop(op)
                continue
            coin = chainstate.get_coin(op)
            if coin is None:
                raise AssemblyError(f"input {op} is missing or spent")
            value_in += coin.value
        fees += value_in - sum(out.value for out in tx.vout)
        for i, out in enumerate(tx.vout):
            created[OutPoint(tx.txid, i)] = out.value
    return fees


def next_block_time(chainstate: "Chainstate", time: int | None = None) -> int:
    """The requested time, or the clock, but always after the tip's median time past."""
    if time is not None:
        return time
    return max(chainstate.clock(), chainstate.tip.median_time_past() + 1)


def assemble_block(
    params,
    prev_hash: bytes,
    height: int,
    time: int,
    coordinator_privkey: bytes | None,
    payout_script: bytes,
    txs: Sequence[Transaction] = (),
    *,
    fees: int = 0,
    version: int = DEFAULT_BLOCK_VERSION,
    cycle_id: int | None = None,
) -> Block:
    """A complete block on any parent: coinbase paying subsidy + `fees`, witness commitment,
    and a signed certificate (certificate networks) or a solved nonce (proof of work)."""
    block = make_block(params, prev_hash, height, time, payout_script, tuple(txs), fees=fees, version=version)
    if params.proof_rule is ProofRule.POW:
        return solve_pow(block, params.pow_limit)
    if coordinator_privkey is None:
        raise AssemblyError("a certificate network needs the coordinator's private key")
    seed = sha256(b"regtest-lottery" + prev_hash)
    cert = Certificate(
        network=params.magic,
        parent_hash=prev_hash,
        height=height,
        payout_script=payout_script,
        cycle_id=height if cycle_id is None else cycle_id,
        model_hash=sha256(b"regtest-model" + seed),
        contributions_root=bytes(32),
        lottery_seed=seed,
        issue_time=max(0, time - CERT_WINDOW),
        expiry=min(0xFFFFFFFF, time + CERT_WINDOW),
        block_commitment=bytes(32),
    )
    return certify(block, cert, coordinator_privkey)


def generate_block(
    chainstate: "Chainstate",
    coordinator_privkey: bytes | None,
    payout_script: bytes,
    txs: Sequence[Transaction] = (),
    time: int | None = None,
    *,
    version: int | None = None,
) -> Block:
    """Assemble (and sign or mine) a block on the current tip paying subsidy + fees to
    `payout_script`, with the version a miner sets from the deployment states (BIP9) unless
    `version` is given. The block is returned, not submitted: pass it to `process_block`."""
    tip = chainstate.tip
    if version is None:
        version = block_version(tip, chainstate.params)
    return assemble_block(
        chainstate.params, tip.hash, tip.height + 1, next_block_time(chainstate, time),
        coordinator_privkey, payout_script, txs, fees=block_fees(chainstate, txs), version=version,
    )


def generate_blocks(
    chainstate: "Chainstate",
    n: int,
    coordinator_privkey: bytes | None,
    payout_script: bytes,
    *,
    time_step: int | None = None,
) -> list[bytes]:
    """Build and connect `n` blocks on the tip (generatetoaddress); returns their hashes.

    With `time_step`, block times are tip time + step (deterministic chains for tests)."""
    hashes = []
    for _ in range(n):
        t = chainstate.tip.time + time_step if time_step is not None else None
        block = generate_block(chainstate, coordinator_privkey, payout_script, time=t)
        res = chainstate.process_block(block)
        if not res.accepted:
            raise AssemblyError(f"generated block rejected: {res.reason} {res.debug}")
        hashes.append(block.hash)
    return hashes
