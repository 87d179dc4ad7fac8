"""The mempool's bookkeeping: entries, the spends index, parent/child links, sequence numbers.

No validation here (see accept.py): this module only keeps the set consistent and tells
listeners what entered and left. Ancestor and descendant sets are walked on demand; the
ancestor/descendant limits (25) keep those walks short.
"""

from __future__ import annotations

import enum
import math
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from regtest.consensus.transaction import OutPoint, Transaction

#: A rough per-entry memory overhead (maps, links, the entry object) on top of the raw tx bytes.
ENTRY_OVERHEAD = 640
MEMPOOL_EXPIRY = 336 * 60 * 60
ROLLING_FEE_HALFLIFE = 12 * 60 * 60


class RemovalReason(enum.Enum):
    """Core's MemPoolRemovalReason; every reason but BLOCK is announced as ZMQ 'R'."""

    EXPIRY = "expiry"
    SIZELIMIT = "sizelimit"
    REORG = "reorg"
    BLOCK = "block"
    CONFLICT = "conflict"
    REPLACED = "replaced"


@dataclass(eq=False, slots=True)
class MempoolEntry:
    tx: Transaction
    fee: int
    vsize: int  # policy virtual size (weight or sigop-adjusted)
    weight: int
    sigop_cost: int
    time: int
    height: int  # chain height when the transaction entered
    spends_coinbase: bool = False
    usage: int = 0  # estimated memory: ENTRY_OVERHEAD + serialized size (set when 0)
    entry_sequence: int = 0
    parents: set[bytes] = field(default_factory=set)
    children: set[bytes] = field(default_factory=set)

    @property
    def txid(self) -> bytes:
        return self.tx.txid

    @property
    def wtxid(self) -> bytes:
        return self.tx.wtxid

    def __post_init__(self) -> None:
        if not self.usage:
            self.usage = ENTRY_OVERHEAD + self.tx.total_size


class MempoolListener:
    """Receives mempool events with the mempool sequence number each one consumed."""

    def transaction_added(self, tx: Transaction, mempool_sequence: int) -> None:
        pass

    def transaction_removed(self, tx: Transaction, mempool_sequence: int) -> None:
        """Called for every reason except BLOCK."""


@dataclass(frozen=True, slots=True)
class Aggregate:
    count: int
    vsize: int
    fee: int
    weight: int = 0
    sigops: int = 0


class TxPool:
    """Transactions by txid and wtxid, which outpoint each spends, and the dependency graph."""

    def __init__(self, clock: Callable[[], float] = _time.time) -> None:
        self.clock = clock
        self.entries: dict[bytes, MempoolEntry] = {}
        self.by_wtxid: dict[bytes, bytes] = {}
        self.spenders: dict[OutPoint, bytes] = {}
        self.sequence = 1  # Core's m_sequence_number: the value the next event takes
        self.total_vsize = 0
        self.total_fee = 0
        self.usage = 0
        self.transactions_updated = 0
        self.listeners: list[MempoolListener] = []
        self._entry_counter = 0
        self._last_time = 0  # entry times seen so far are non-decreasing while _times_sorted
        self._times_sorted = True
        self.rolling_min_fee = 0.0  # sat/kvB
        self._last_rolling_update = 0.0
        self.block_since_bump = False

    # --- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, txid: bytes) -> bool:
        return txid in self.entries

    def get(self, txid: bytes) -> MempoolEntry | None:
        return self.entries.get(txid)

    def get_by_wtxid(self, wtxid: bytes) -> MempoolEntry | None:
        txid = self.by_wtxid.get(wtxid)
        return self.entries.get(txid) if txid is not None else None

    def spender(self, op: OutPoint) -> bytes | None:
        return self.spenders.get(op)

    def ancestors(self, txid: bytes) -> set[bytes]:
        """Every in-mempool ancestor of `txid` (not including itself)."""
        return self._reachable(txid, "parents")

    def descendants(self, txid: bytes) -> set[bytes]:
        """Every in-mempool descendant of `txid` (not including itself)."""
        return self._reachable(txid, "children")

    def _reachable(self, txid: bytes, edges: str) -> set[bytes]:
        out: set[bytes] = set()
        stack = list(getattr(self.entries[txid], edges))
        while stack:
            t = stack.pop()
            if t not in out:
                out.add(t)
                stack.extend(getattr(self.entries[t], edges))
        return out

    def aggregate(self, txids: Iterable[bytes]) -> Aggregate:
        n = size = fee = weight = sigops = 0
        for t in txids:
            e = self.entries[t]
            n += 1
            size += e.vsize
            fee += e.fee
            weight += e.weight
            sigops += e.sigop_cost
        return Aggregate(n, size, fee, weight, sigops)

    def with_ancestors(self, txid: bytes) -> Aggregate:
        return self.aggregate(self.ancestors(txid) | {txid})

    def with_descendants(self, txid: bytes) -> Aggregate:
        return self.aggregate(self.descendants(txid) | {txid})

    def parents_of(self, tx: Transaction) -> set[bytes]:
        """In-mempool transactions whose outputs `tx` spends."""
        return {txin.prevout.txid for txin in tx.vin if txin.prevout.txid in self.entries}

    def topological(self, txids: Iterable[bytes]) -> list[bytes]:
        """`txids` ordered so that parents come before children (by entry order, which respects
        dependencies except after a reorg, hence the explicit sort by ancestor count)."""
        ids = list(txids)
        return sorted(ids, key=lambda t: (len(self.ancestors(t)), self.entries[t].entry_sequence))

    # --- changes ------------------------------------------------------------------------------
    def _next_sequence(self) -> int:
        seq = self.sequence
        self.sequence += 1
        return seq

    def add(self, entry: MempoolEntry, notify: bool = True) -> int:
        """Insert `entry`, link it to parents and to children already in the pool (a reorg puts
        parents back after their children); returns the mempool sequence it consumed."""
        tx = entry.tx
        txid = tx.txid
        self._entry_counter += 1
        entry.entry_sequence = self._entry_counter
        entry.parents = self.parents_of(tx)
        for p in entry.parents:
            self.entries[p].children.add(txid)
        for txin in tx.vin:
            self.spenders[txin.prevout] = txid
        for n in range(len(tx.vout)):
            child = self.spenders.get(OutPoint(txid, n))
            if child is not None:
                entry.children.add(child)
                self.entries[child].parents.add(txid)
        if entry.time < self._last_time:
            self._times_sorted = False
        self._last_time = max(self._last_time, entry.time)
        self.entries[txid] = entry
        self.by_wtxid[tx.wtxid] = txid
        self.total_vsize += entry.vsize
        self.total_fee += entry.fee
        self.usage += entry.usage
        self.transactions_updated += 1
        seq = self._next_sequence() if notify else 0
        if notify:
            for listener in self.listeners:
                listener.transaction_added(tx, seq)
        return seq

    def remove(self, txids: Iterable[bytes], reason: RemovalReason, notify: bool = True) -> list[Transaction]:
        """Remove exactly these transactions (callers include descendants where needed)."""
        removed = []
        for txid in list(txids):
            entry = self.entries.pop(txid, None)
            if entry is None:
                continue
            tx = entry.tx
            for txin in tx.vin:
                if self.spenders.get(txin.prevout) == txid:
                    del self.spenders[txin.prevout]
            for p in entry.parents:
                pe = self.entries.get(p)
                if pe is not None:
                    pe.children.discard(txid)
            for c in entry.children:
                ce = self.entries.get(c)
                if ce is not None:
                    ce.parents.discard(txid)
            self.by_wtxid.pop(tx.wtxid, None)
            self.total_vsize -= entry.vsize
            self.total_fee -= entry.fee
            self.usage -= entry.usage
            self.transactions_updated += 1
            removed.append(tx)
            if notify:
                seq = self._next_sequence()
                if reason is not RemovalReason.BLOCK:
                    for listener in self.listeners:
                        listener.transaction_removed(tx, seq)
        return removed

    def remove_recursive(self, txid: bytes, reason: RemovalReason) -> list[Transaction]:
        """Remove `txid` and everything that depends on it (children first in the event stream
        is not required by Core; parents first keeps the log readable)."""
        if txid not in self.entries:
            return []
        doomed = self.descendants(txid) | {txid}
        return self.remove(self.topological(doomed), reason)

    def remove_conflicts(self, tx: Transaction) -> list[Transaction]:
        """Remove mempool transactions (and descendants) spending any input `tx` spends."""
        removed: list[Transaction] = []
        txid = tx.txid
        for txin in tx.vin:
            other = self.spenders.get(txin.prevout)
            if other is not None and other != txid:
                removed += self.remove_recursive(other, RemovalReason.CONFLICT)
        return removed

    def check_consistency(self) -> None:
        """Core's CTxMemPool::check for the bookkeeping: raises AssertionError on any mismatch
        (links symmetric, spends index exact, totals equal the sums). For tests and debugging."""
        spenders: dict[OutPoint, bytes] = {}
        vsize = fee = usage = 0
        for txid, e in self.entries.items():
            assert e.tx.txid == txid and self.by_wtxid.get(e.tx.wtxid) == txid
            for txin in e.tx.vin:
                assert txin.prevout not in spenders, "two entries spend one outpoint"
                spenders[txin.prevout] = txid
            assert e.parents == self.parents_of(e.tx), "parent links out of date"
            for p in e.parents:
                assert txid in self.entries[p].children
            for c in e.children:
                assert c in self.entries and txid in self.entries[c].parents
            vsize += e.vsize
            fee += e.fee
            usage += e.usage
        assert spenders == self.spenders
        assert len(self.by_wtxid) == len(self.entries)
        assert (vsize, fee, usage) == (self.total_vsize, self.total_fee, self.usage)

    # --- size limit and rolling minimum fee ---------------------------------------------------
    def expire(self, cutoff: float) -> int:
        """Remove entries (with descendants) that entered before `cutoff`. Entries normally sit
        in insertion order with the clock's time, so the scan stops at the first young one."""
        old = []
        for t, e in self.entries.items():
            if e.time >= cutoff:
                if self._times_sorted:
                    break
                continue
            old.append(t)
        if not self.entries:
            self._times_sorted = True
        n = 0
        for t in old:
            n += len(self.remove_recursive(t, RemovalReason.EXPIRY))
        return n

    def descendant_score(self, txid: bytes) -> float:
        """Core's eviction key: the higher of own and with-descendants fee rate (sat/vB)."""
        e = self.entries[txid]
        agg = self.with_descendants(txid)
        return max(e.fee / e.vsize, agg.fee / agg.vsize)

    def trim_to_size(self, limit: int, incremental_fee: int) -> list[Transaction]:
        """Evict the lowest descendant-score packages until usage fits `limit`; raises the rolling
        minimum fee to the evicted rate plus the incremental relay fee (Core's TrimToSize)."""
        removed: list[Transaction] = []
        while self.usage > limit and self.entries:
            worst = min(self.entries, key=self.descendant_score)
            agg = self.with_descendants(worst)
            rate = agg.fee * 1000 / agg.vsize + incremental_fee
            if rate > self.rolling_min_fee:
                self.rolling_min_fee = rate
                self.block_since_bump = False
            removed += self.remove_recursive(worst, RemovalReason.SIZELIMIT)
        return removed

    def min_fee_rate(self, limit: int, incremental_fee: int) -> int:
        """Core's GetMinFee (sat/kvB): the rolling floor after evictions, decaying once blocks arrive."""
        if not self.block_since_bump or self.rolling_min_fee == 0:
            return math.ceil(self.rolling_min_fee)
        now = self.clock()
        if now > self._last_rolling_update + 10:
            halflife = ROLLING_FEE_HALFLIFE
            if self.usage < limit / 4:
                halflife /= 4
            elif self.usage < limit / 2:
                halflife /= 2
            self.rolling_min_fee /= 2 ** ((now - self._last_rolling_update) / halflife)
            self._last_rolling_update = now
            if self.rolling_min_fee < incremental_fee / 2:
                self.rolling_min_fee = 0
                return 0
        return max(math.ceil(self.rolling_min_fee), incremental_fee)

    def note_block(self) -> None:
        self._last_rolling_update = self.clock()
        self.block_since_bump = True
