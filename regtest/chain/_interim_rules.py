"""TEMPORARY stand-in for regtest/consensus/block_validation while it is being written.

Only the rules the chainstate's own tests exercise: merkle root, coinbase placement and BIP34
height, the certificate rule, inputs present and mature, amounts, coinbase value. No scripts.
`rules.py` uses the real module as soon as it exists; this file then goes away.
"""

from __future__ import annotations

from dataclasses import dataclass

from regtest.consensus.block import Block, block_merkle_root, decode_bip34_height
from regtest.consensus.certificate import check_block_certificate
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockResult, BlockValidationError
from regtest.consensus.params import COINBASE_MATURITY, ProofRule, block_subsidy
from regtest.consensus.transaction import OutPoint


@dataclass
class Result:
    spent: list[tuple[OutPoint, Coin]]
    created: list[tuple[OutPoint, Coin]]
    fees: int


def check_block(block: Block, params) -> None:
    if not block.txs:
        raise BlockValidationError("bad-blk-length", "size limits failed")
    root, mutated = block_merkle_root(block.txs)
    if root != block.header.merkle_root:
        raise BlockValidationError("bad-txnmrklroot", "hashMerkleRoot mismatch", BlockResult.MUTATED)
    if mutated:
        raise BlockValidationError("bad-txns-duplicate", "duplicate transaction", BlockResult.MUTATED)
    if not block.txs[0].is_coinbase():
        raise BlockValidationError("bad-cb-missing", "first tx is not coinbase")
    if any(tx.is_coinbase() for tx in block.txs[1:]):
        raise BlockValidationError("bad-cb-multiple", "more than one coinbase")


def contextual_check_block(block: Block, height: int, prev_mtp: int, params) -> None:
    if decode_bip34_height(block.txs[0].vin[0].script_sig) != height:
        raise BlockValidationError("bad-cb-height", "block height mismatch in coinbase")
    if params.proof_rule is ProofRule.CERTIFICATE:
        check_block_certificate(block, height, params)


def connect_block(block: Block, height: int, view, params, prev_mtp: int, **_: object) -> Result:
    spent: list[tuple[OutPoint, Coin]] = []
    created: list[tuple[OutPoint, Coin]] = []
    local: dict[OutPoint, Coin] = {}
    fees = 0
    for tx in block.txs:
        cb = tx.is_coinbase()
        if not cb:
            value_in = 0
            for txin in tx.vin:
                op = txin.prevout
                coin = local.pop(op, None) or view(op)
                if coin is None or any(op == s for s, _ in spent):
                    raise BlockValidationError("bad-txns-inputs-missingorspent", "")
                if coin.is_coinbase and height - coin.height < COINBASE_MATURITY:
                    raise BlockValidationError("bad-txns-premature-spend-of-coinbase", "")
                spent.append((op, coin))
                value_in += coin.value
            value_out = sum(o.value for o in tx.vout)
            if value_in < value_out:
                raise BlockValidationError("bad-txns-in-belowout", "")
            fees += value_in - value_out
        for i, out in enumerate(tx.vout):
            if out.script_pubkey[:1] == b"\x6a":
                continue
            coin = Coin(out.value, out.script_pubkey, height, cb)
            local[OutPoint(tx.txid, i)] = coin
            created.append((OutPoint(tx.txid, i), coin))
    if sum(o.value for o in block.txs[0].vout) > block_subsidy(height, params) + fees:
        raise BlockValidationError("bad-cb-amount", "coinbase pays too much")
    return Result(spent, created, fees)
