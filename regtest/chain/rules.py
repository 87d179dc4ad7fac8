"""The chainstate's one doorway to the consensus rules (regtest/consensus).

Everything the chainstate asks of consensus goes through these few functions, so the storage
and reorganisation logic never depends on how the rule modules are split up.
"""

from __future__ import annotations

from typing import Callable

from regtest.chain.blockindex import BlockIndexEntry
from regtest.consensus import block_validation as bv
from regtest.consensus.block import Block, BlockHeader, block_proof
from regtest.consensus.coins import Coin
from regtest.consensus.params import NetworkParams, next_work_required
from regtest.consensus.transaction import OutPoint

CoinView = Callable[[OutPoint], Coin | None]


def network_name(params: NetworkParams) -> str:
    return params.name


def genesis_block(params: NetworkParams) -> Block:
    return params.genesis


def block_work(header: BlockHeader, params: NetworkParams) -> int:
    """Chain work a header adds; certificate blocks all carry the network's constant nBits."""
    return block_proof(header.bits)


def check_header_context_free(header: BlockHeader, params: NetworkParams) -> None:
    """Core's CheckBlockHeader: proof of work (PoW networks) or the fixed nBits (certificate
    networks, whose proof is checked with the block body)."""
    bv.check_block_header(header, params)


def check_header_contextual(header: BlockHeader, prev: BlockIndexEntry, params: NetworkParams, now: int) -> None:
    """Core's ContextualCheckBlockHeader: difficulty, time window, version gates."""
    expected = expected_bits(params, prev, header.time)
    bv.contextual_check_block_header(header, prev.height + 1, prev.median_time_past(), expected, now, params)


def expected_bits(params: NetworkParams, prev: BlockIndexEntry, new_time: int) -> int:
    """The nBits the block after `prev` must carry (params.next_work_required), with Core's
    min-difficulty walk back through the chain memoised per entry so long regtest chains
    stay O(1) per block instead of O(height)."""
    interval = params.difficulty_adjustment_interval
    if params.pow_allow_min_difficulty_blocks and (prev.height + 1) % interval != 0:
        if new_time > prev.time + params.pow_target_spacing * 2:
            return params.pow_limit_bits
        return _min_difficulty_walk(prev, interval, params.pow_limit_bits)
    return next_work_required(params, prev, new_time, _ancestor_of(prev))


def _min_difficulty_walk(entry: BlockIndexEntry, interval: int, limit_bits: int) -> int:
    """Bits of the last block at or below `entry` that is at a retarget height, the genesis,
    or not at the limit: where Core's loop in GetNextWorkRequired stops."""
    path = []
    e = entry
    while e.walk_bits is None:
        if e.height == 0 or e.height % interval == 0 or e.bits != limit_bits:
            e.walk_bits = e.bits
            break
        path.append(e)
        e = e.parent  # type: ignore[assignment]
    for p in path:
        p.walk_bits = e.walk_bits
    return e.walk_bits  # type: ignore[return-value]


def _ancestor_of(entry: BlockIndexEntry) -> Callable[[int], BlockIndexEntry]:
    def ancestor(height: int) -> BlockIndexEntry:
        a = entry.get_ancestor(height)
        if a is None:
            raise ValueError(f"no ancestor at height {height}")
        return a

    return ancestor


def check_block(block: Block, params: NetworkParams) -> None:
    """Context-free block checks (Core's CheckBlock; certificate rule on certificate networks)."""
    bv.check_block(block, params)


def check_block_contextual(block: Block, entry: BlockIndexEntry, params: NetworkParams) -> None:
    """Checks that need the block's height and parent (Core's ContextualCheckBlock)."""
    prev = entry.parent
    assert prev is not None
    bv.contextual_check_block(block, entry.height, prev.median_time_past(), params)


def _bip34_ancestor_hash(params: NetworkParams, prev: BlockIndexEntry, ancestor) -> bytes | None:
    return ancestor(params.bip34_height).hash if params.bip34_height <= prev.height else None


def lookups(
    block: Block, entry: BlockIndexEntry, params: NetworkParams, ancestor: Callable[[int], BlockIndexEntry]
) -> list[OutPoint]:
    """The outpoints connect_block will look up: every input, plus every output where BIP30
    is enforced (so a cache can fetch them in one batch)."""
    ops = [txin.prevout for tx in block.txs[1:] for txin in tx.vin]
    prev = entry.parent
    assert prev is not None
    if bv.bip30_enforced(params, entry.height, block.hash, _bip34_ancestor_hash(params, prev, ancestor)):
        ops.extend(OutPoint(tx.txid, n) for tx in block.txs for n in range(len(tx.vout)))
    return ops


def connect_block(
    block: Block,
    entry: BlockIndexEntry,
    view: CoinView,
    params: NetworkParams,
    ancestor: Callable[[int], BlockIndexEntry],
    script_checker: bv.ScriptChecker = bv.run_script_checks,
) -> tuple[list[tuple[OutPoint, Coin]], list[tuple[OutPoint, Coin]]]:
    """Inputs, amounts and scripts against the UTXO view: (spent coins, created coins).

    `ancestor(h)` returns the block at height h on the chain being extended (O(1) on the
    active chain); it serves BIP68 time locks and the BIP30/BIP34 rule."""
    prev = entry.parent
    assert prev is not None
    bip34 = _bip34_ancestor_hash(params, prev, ancestor)
    res = bv.connect_block(
        block, entry.height, view, params, prev.median_time_past(),
        mtp_at=lambda h: ancestor(h).median_time_past(),
        bip34_ancestor_hash=bip34,
        script_checker=script_checker,
    )
    return res.spent, res.created
