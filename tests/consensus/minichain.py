"""A tiny in-memory chain that applies every consensus check in Core's order, for tests.

Only one branch, no storage: enough to judge hand-built blocks against the rule functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regtest.consensus.block import Block
from regtest.consensus.block_validation import (
    check_block,
    check_block_header,
    connect_block,
    contextual_check_block,
    contextual_check_block_header,
    median_time_past,
)
from regtest.consensus.coins import Coin
from regtest.consensus.params import NetworkParams, next_work_required
from regtest.consensus.transaction import OutPoint


@dataclass
class Entry:
    height: int
    bits: int
    time: int
    hash: bytes


@dataclass
class MiniChain:
    params: NetworkParams
    check_scripts: bool = True
    now: int | None = None
    entries: list[Entry] = field(default_factory=list)
    utxo: dict[OutPoint, Coin] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.entries:
            return
        g = self.params.genesis
        self.entries.append(Entry(0, g.header.bits, g.header.time, g.hash))

    @property
    def height(self) -> int:
        return len(self.entries) - 1

    @property
    def tip(self) -> Entry:
        return self.entries[-1]

    def mtp_at(self, height: int) -> int:
        return median_time_past([e.time for e in self.entries[max(0, height - 10) : height + 1]])

    def validate(self, block: Block) -> "object":
        """All checks for `block` on top of the tip; returns the connect result."""
        prev = self.tip
        height = prev.height + 1
        if block.header.prev_hash != prev.hash:
            raise ValueError("block does not extend the tip")
        prev_mtp = self.mtp_at(prev.height)
        now = self.now if self.now is not None else block.header.time
        check_block_header(block.header, self.params)
        expected = next_work_required(self.params, prev, block.header.time, lambda h: self.entries[h])
        contextual_check_block_header(block.header, height, prev_mtp, expected, now, self.params)
        check_block(block, self.params)
        contextual_check_block(block, height, prev_mtp, self.params)
        return connect_block(
            block, height, self.utxo.get, self.params, prev_mtp, mtp_at=self.mtp_at,
            check_scripts=self.check_scripts,
        )

    def add(self, block: Block) -> "object":
        result = self.validate(block)
        for op, _ in result.spent:
            del self.utxo[op]
        for op, coin in result.created:
            self.utxo[op] = coin
        h = block.header
        self.entries.append(Entry(self.height + 1, h.bits, h.time, block.hash))
        return result


def fork(chain: MiniChain) -> MiniChain:
    """An independent copy (entries and coins are immutable, so shallow copies suffice)."""
    return MiniChain(chain.params, chain.check_scripts, chain.now, list(chain.entries), dict(chain.utxo))
