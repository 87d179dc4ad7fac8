"""The chainstate's one doorway to the consensus rules (regtest/consensus).

Everything the chainstate asks of consensus goes through these few functions, so the storage
and reorganisation logic never depends on how the rule modules are split up.
"""

from __future__ import annotations

from typing import Callable

from regtest.chain.blockindex import BlockIndexEntry
from regtest.consensus.block import Block, BlockHeader, block_proof, check_proof_of_work
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockResult, BlockValidationError
from regtest.consensus.params import (
    MAX_FUTURE_BLOCK_TIME,
    NetworkParams,
    ProofRule,
    next_work_required,
)
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
    """Proof of work for PoW networks (Core's CheckBlockHeader); certificate networks check
    their proof with the block body."""
    if params.proof_rule is ProofRule.POW and not check_proof_of_work(header.hash, header.bits, params.pow_limit):
        raise BlockValidationError("high-hash", "proof of work failed", BlockResult.INVALID_HEADER)


def check_header_contextual(header: BlockHeader, prev: BlockIndexEntry, params: NetworkParams, now: int) -> None:
    """Core's ContextualCheckBlockHeader: difficulty, time window, version gates."""
    height = prev.height + 1
    expected = next_work_required(params, _HeaderView(prev), header.time, lambda h: _HeaderView(prev.get_ancestor(h)))
    if header.bits != expected:
        raise BlockValidationError("bad-diffbits", "incorrect proof of work", BlockResult.INVALID_HEADER)
    if header.time <= prev.median_time_past():
        raise BlockValidationError("time-too-old", "block's timestamp is too early", BlockResult.INVALID_HEADER)
    if header.time > now + MAX_FUTURE_BLOCK_TIME:
        raise BlockValidationError("time-too-new", "block timestamp too far in the future", BlockResult.TIME_FUTURE)
    v = header.version
    if (v < 2 and height >= params.bip34_height) or (v < 3 and height >= params.bip66_height) or (
        v < 4 and height >= params.bip65_height
    ):
        raise BlockValidationError(
            f"bad-version(0x{v & 0xFFFFFFFF:08x})", f"rejected nVersion=0x{v & 0xFFFFFFFF:08x} block",
            BlockResult.INVALID_HEADER,
        )


class _HeaderView:
    """Adapts an index entry to the (height, bits, time) shape retargeting reads."""

    __slots__ = ("height", "bits", "time")

    def __init__(self, e: BlockIndexEntry | None) -> None:
        assert e is not None
        self.height = e.height
        self.bits = e.header.bits
        self.time = e.header.time


def _bv():
    """The consensus block-rule module (a local interim copy until it is available)."""
    try:
        from regtest.consensus import block_validation as bv
    except ImportError:
        from regtest.chain import _interim_rules as bv
    return bv


def check_block(block: Block, params: NetworkParams) -> None:
    """Context-free block checks (Core's CheckBlock)."""
    _bv().check_block(block, params)


def check_block_contextual(block: Block, entry: BlockIndexEntry, params: NetworkParams) -> None:
    """Checks that need the block's height and parent (Core's ContextualCheckBlock, plus the
    certificate rule on certificate networks)."""
    prev = entry.parent
    assert prev is not None
    _bv().contextual_check_block(block, entry.height, prev.median_time_past(), params)


def connect_block(
    block: Block, entry: BlockIndexEntry, view: CoinView, params: NetworkParams
) -> tuple[list[tuple[OutPoint, Coin]], list[tuple[OutPoint, Coin]]]:
    """Inputs, amounts and scripts against the UTXO view: (spent coins, created coins)."""
    prev = entry.parent
    assert prev is not None
    res = _bv().connect_block(block, entry.height, view, params, prev.median_time_past())
    return list(res.spent), list(res.created)
