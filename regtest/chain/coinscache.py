"""A write-through coins cache over the store's UTXO table.

Why write-through: every block commit already writes its UTXO changes in its own transaction, so
the cache never holds anything the database lacks and a crash can never lose cached state. The
cache only saves reads: coins created by recent blocks are spent soon after, and repeated lookups
(mempool, RPC) of the same outpoint hit memory. Misses are cached too (as None), which is safe
because every write goes through `apply` after its transaction commits.
"""

from __future__ import annotations

from itertools import islice
from typing import Iterable

from regtest.chain.storage import ChainStore
from regtest.consensus.coins import Coin
from regtest.consensus.transaction import OutPoint

DEFAULT_MAX_ENTRIES = 200_000  # about 60 MB of Python objects at most


class CoinsCache:
    def __init__(self, store: ChainStore, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.store = store
        self.max_entries = max(1, max_entries)
        self._map: dict[OutPoint, Coin | None] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._map)

    def get(self, op: OutPoint) -> Coin | None:
        try:
            coin = self._map[op]
            self.hits += 1
            return coin
        except KeyError:
            pass
        self.misses += 1
        coin = self.store.get_coin(op)
        self._remember(op, coin)
        return coin

    def prefetch(self, ops: Iterable[OutPoint]) -> None:
        """Load every outpoint not yet cached in batched queries (a block's inputs, and its
        outputs where BIP30 makes validation look them up)."""
        m = self._map
        missing = [op for op in dict.fromkeys(ops) if op not in m]
        if not missing:
            return
        found = self.store.get_coins(missing)
        self.misses += len(missing)
        for op in missing:
            m[op] = found.get(op)
        self._trim()

    def apply(self, removed: Iterable[OutPoint], added: Iterable[tuple[OutPoint, Coin]]) -> None:
        """Mirror a committed change; call only after the database transaction committed."""
        m = self._map
        for op in removed:
            m[op] = None
        for op, coin in added:
            m[op] = coin
        self._trim()

    def clear(self) -> None:
        """Forget everything (e.g. after a rolled-back transaction left the cache unsure)."""
        self._map.clear()

    def _remember(self, op: OutPoint, coin: Coin | None) -> None:
        self._map[op] = coin
        self._trim()

    def _trim(self) -> None:
        excess = len(self._map) - self.max_entries
        if excess > 0:
            # Drop the oldest half-plus-excess in insertion order: cheap, and recent coins stay.
            drop = excess + self.max_entries // 2
            for op in list(islice(self._map, drop)):
                del self._map[op]
