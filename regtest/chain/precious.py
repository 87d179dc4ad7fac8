"""preciousblock: prefer one block over others of equal work, as Core's PreciousBlock.

The block index breaks ties in chain work by arrival order (lower `sequence` wins). A precious
block gets a sequence below every real one (-1, -2, ... for successive calls while the tip's
work stays the same, so a later call beats an earlier one), then the best chain is activated.
The counter restarts when the tip has gained work since the last call, as in Core.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from regtest.chain.blockindex import BlockStatus


@dataclass
class _PreciousState:
    last_chain_work: int = 0
    next_sequence: int = -1


_STATES: "weakref.WeakKeyDictionary[object, _PreciousState]" = weakref.WeakKeyDictionary()


def precious_block(cs, block_hash: bytes) -> None:
    """Mark the block precious and re-activate the best chain. KeyError if unknown.
    A block with less work than the tip changes nothing (it could not win anyway)."""
    with cs.lock:
        entry = cs.get_block_index(block_hash)
        if entry is None:
            raise KeyError("Block not found")
        tip = cs.tip
        if entry.chain_work < tip.chain_work:
            return
        state = _STATES.setdefault(cs, _PreciousState())
        if tip.chain_work > state.last_chain_work:
            state.next_sequence = -1
        state.last_chain_work = tip.chain_work
        entry.sequence = state.next_sequence
        state.next_sequence -= 1
        if entry.status & BlockStatus.TXS_VALID and entry.is_valid_candidate():
            cs.index.candidates.add(entry)
        cs.activate_best_chain()
