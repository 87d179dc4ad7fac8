"""The in-memory block index: every header and block seen, linked to its parent, with status.

The index decides which chain is best (most cumulative work, ties to the block seen first) and
answers ancestry questions (fork points, median time past, chain tips). It holds no I/O; the
chainstate persists entries through `regtest.chain.storage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag
from typing import Iterator

from regtest.consensus.hashes import hash_to_hex

MEDIAN_TIME_SPAN = 11


class BlockStatus(IntFlag):
    """Validity and storage flags, in the spirit of Core's BlockStatus (not its bit values)."""

    NONE = 0
    HEADER_VALID = 1 << 0  # header connects and passed header checks (Core: VALID_TREE)
    HAVE_DATA = 1 << 1  # full block stored
    TXS_VALID = 1 << 2  # block passed context-free and contextual block checks
    SCRIPTS_VALID = 1 << 3  # block was connected once: inputs, amounts and scripts valid
    HAVE_UNDO = 1 << 4  # undo data stored (block currently or once connected)
    FAILED = 1 << 5  # the block itself is invalid (Core: FAILED_VALID)
    FAILED_CHILD = 1 << 6  # an ancestor is invalid (Core: FAILED_CHILD)

    FAILED_MASK = FAILED | FAILED_CHILD


@dataclass(eq=False, slots=True)
class BlockIndexEntry:
    """One known header. `chain_work` is the total work of the chain ending here."""

    hash: bytes
    header: object  # regtest.consensus.block.BlockHeader
    height: int
    chain_work: int
    status: BlockStatus
    parent: "BlockIndexEntry | None"
    sequence: int  # order in which block data arrived (0 while headers-only); lower wins ties
    n_tx: int = 0
    # True when this block and every ancestor have their data (Core: nChainTx != 0).
    chain_has_data: bool = False
    children: list["BlockIndexEntry"] = field(default_factory=list, repr=False)
    # Memo for the min-difficulty walk (see rules.expected_bits); never stale, headers are fixed.
    walk_bits: int | None = field(default=None, repr=False)
    _mtp: int | None = field(default=None, repr=False)

    @property
    def prev_hash(self) -> bytes:
        return self.header.prev_hash  # type: ignore[attr-defined]

    @property
    def time(self) -> int:
        return self.header.time  # type: ignore[attr-defined]

    @property
    def bits(self) -> int:
        return self.header.bits  # type: ignore[attr-defined]

    @property
    def hash_hex(self) -> str:
        return hash_to_hex(self.hash)

    def is_failed(self) -> bool:
        return bool(self.status & BlockStatus.FAILED_MASK)

    def is_valid_candidate(self) -> bool:
        """Could this block be a chain tip: all data present and nothing known invalid."""
        return self.chain_has_data and not self.is_failed()

    def get_ancestor(self, height: int) -> "BlockIndexEntry | None":
        if height > self.height or height < 0:
            return None
        e: BlockIndexEntry | None = self
        while e is not None and e.height > height:
            e = e.parent
        return e

    def median_time_past(self) -> int:
        """Median of the times of this block and up to ten ancestors (Core's GetMedianTimePast).
        Memoised: headers never change, so neither does their median."""
        if self._mtp is not None:
            return self._mtp
        times = []
        e: BlockIndexEntry | None = self
        while e is not None and len(times) < MEDIAN_TIME_SPAN:
            times.append(e.time)
            e = e.parent
        times.sort()
        self._mtp = times[len(times) // 2]
        return self._mtp

    def sort_key(self) -> tuple[int, int]:
        """Bigger is better: more work, then earlier arrival (lower sequence)."""
        return (self.chain_work, -self.sequence)


def last_common_ancestor(a: BlockIndexEntry, b: BlockIndexEntry) -> BlockIndexEntry | None:
    while a.height > b.height:
        a = a.parent  # type: ignore[assignment]
    while b.height > a.height:
        b = b.parent  # type: ignore[assignment]
    while a is not b:
        if a.parent is None or b.parent is None:
            return None
        a, b = a.parent, b.parent
    return a


class ActiveChain:
    """The active chain as a height-indexed list, so lookups by height are O(1)."""

    def __init__(self) -> None:
        self._entries: list[BlockIndexEntry] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, height: int) -> BlockIndexEntry:
        return self._entries[height]

    def __iter__(self) -> Iterator[BlockIndexEntry]:
        return iter(self._entries)

    @property
    def tip(self) -> BlockIndexEntry | None:
        return self._entries[-1] if self._entries else None

    @property
    def height(self) -> int:
        return len(self._entries) - 1

    def at(self, height: int) -> BlockIndexEntry | None:
        if 0 <= height < len(self._entries):
            return self._entries[height]
        return None

    def contains(self, entry: BlockIndexEntry) -> bool:
        return entry.height < len(self._entries) and self._entries[entry.height] is entry

    def next(self, entry: BlockIndexEntry) -> BlockIndexEntry | None:
        if self.contains(entry):
            return self.at(entry.height + 1)
        return None

    def set_tip(self, entry: BlockIndexEntry | None) -> None:
        """Point the chain at `entry`, rewriting only the heights that changed."""
        if entry is None:
            self._entries.clear()
            return
        entries: list = self._entries
        del entries[entry.height + 1 :]
        entries.extend([None] * (entry.height + 1 - len(entries)))
        e: BlockIndexEntry | None = entry
        while e is not None and entries[e.height] is not e:
            entries[e.height] = e
            e = e.parent

    def find_fork(self, entry: BlockIndexEntry) -> BlockIndexEntry | None:
        """The last block of `entry`'s chain that is also in the active chain."""
        e: BlockIndexEntry | None = entry
        if e is not None and e.height > self.height:
            e = e.get_ancestor(self.height)
        while e is not None and not self.contains(e):
            e = e.parent
        return e


@dataclass(frozen=True, slots=True)
class ChainTip:
    """One row of `getchaintips`."""

    height: int
    hash: bytes
    branchlen: int
    status: str  # active | valid-fork | valid-headers | headers-only | invalid

    def to_json(self) -> dict:
        return {
            "height": self.height,
            "hash": hash_to_hex(self.hash),
            "branchlen": self.branchlen,
            "status": self.status,
        }


class BlockIndex:
    """All known headers by hash, plus the bookkeeping to pick the best chain."""

    def __init__(self) -> None:
        self.entries: dict[bytes, BlockIndexEntry] = {}
        self.next_sequence = 1
        # Blocks that could become the tip (all data, not failed), pruned of those worse than
        # the tip; like Core's setBlockIndexCandidates. Rebuilt after invalidations.
        self.candidates: set[BlockIndexEntry] = set()
        self._best_header: BlockIndexEntry | None = None

    def __contains__(self, h: bytes) -> bool:
        return h in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, h: bytes) -> BlockIndexEntry | None:
        return self.entries.get(h)

    def add(self, entry: BlockIndexEntry) -> None:
        self.entries[entry.hash] = entry
        if entry.parent is not None:
            entry.parent.children.append(entry)
        best = self._best_header
        if not entry.is_failed() and (best is None or entry.sort_key() > best.sort_key()):
            self._best_header = entry

    def take_sequence(self) -> int:
        s = self.next_sequence
        self.next_sequence += 1
        return s

    def descendants(self, entry: BlockIndexEntry) -> Iterator[BlockIndexEntry]:
        """Every block built on `entry` (not `entry` itself), depth first."""
        stack = list(entry.children)
        while stack:
            e = stack.pop()
            yield e
            stack.extend(e.children)

    def update_chain_has_data(self, entry: BlockIndexEntry) -> list[BlockIndexEntry]:
        """After `entry` got its data: propagate `chain_has_data` down; return newly complete."""
        parent_ok = entry.parent is None or entry.parent.chain_has_data
        if not (parent_ok and entry.status & BlockStatus.HAVE_DATA):
            return []
        done = []
        stack = [entry]
        while stack:
            e = stack.pop()
            if e.chain_has_data:
                continue
            e.chain_has_data = True
            done.append(e)
            if not e.is_failed():
                self.candidates.add(e)
            stack.extend(c for c in e.children if c.status & BlockStatus.HAVE_DATA)
        return done

    def best_candidate(self) -> BlockIndexEntry | None:
        """The valid block with all data that has the most work (first seen among equals)."""
        best: BlockIndexEntry | None = None
        stale = []
        for e in self.candidates:
            if not e.is_valid_candidate():
                stale.append(e)
            elif best is None or e.sort_key() > best.sort_key():
                best = e
        self.candidates.difference_update(stale)
        return best

    def prune_candidates(self, tip: BlockIndexEntry) -> None:
        """Forget candidates worse than the tip: only an invalidation can revive them, and
        that rebuilds the set."""
        key = tip.sort_key()
        self.candidates = {e for e in self.candidates if e is tip or e.sort_key() > key}

    def rebuild_candidates(self) -> None:
        self.candidates = {e for e in self.entries.values() if e.is_valid_candidate()}

    def best_header(self) -> BlockIndexEntry | None:
        """The most-work header not known to be invalid (data or not)."""
        best = self._best_header
        if best is None or best.is_failed():
            best = self._best_header = None
            for e in self.entries.values():
                if not e.is_failed() and (best is None or e.sort_key() > best.sort_key()):
                    best = e
            self._best_header = best
        return best

    def forget_best_header(self) -> None:
        """Call after failure marks were cleared: a better header may be valid again."""
        self._best_header = None

    def chain_tips(self, active: ActiveChain) -> list[ChainTip]:
        """Core's getchaintips: the active tip plus every block without children off the chain."""
        tips = [e for e in self.entries.values() if not e.children and not active.contains(e)]
        tip = active.tip
        if tip is not None:
            tips.append(tip)
        rows = []
        for e in tips:
            fork = active.find_fork(e)
            fork_height = fork.height if fork is not None else -1
            rows.append(ChainTip(e.height, e.hash, e.height - fork_height, self._tip_status(e, active)))
        rows.sort(key=lambda r: (-r.height, r.hash[::-1]))
        return rows

    @staticmethod
    def _tip_status(e: BlockIndexEntry, active: ActiveChain) -> str:
        if active.contains(e):
            return "active"
        if e.is_failed():
            return "invalid"
        if not e.chain_has_data:
            return "headers-only"
        if e.status & BlockStatus.SCRIPTS_VALID:
            return "valid-fork"
        return "valid-headers"
