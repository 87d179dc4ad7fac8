"""`-txindex=1`: txid -> block hash for every transaction of every connected block (SQLite).

Entries are kept when a block is disconnected (as Core's index does); getrawtransaction then
reports the block with `confirmations: 0` until the transaction is connected again.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from regtest.chain.events import ChainListener

if TYPE_CHECKING:
    from regtest.chain.blockindex import BlockIndexEntry
    from regtest.consensus.block import Block

log = logging.getLogger("potc.txindex")


class TxIndex(ChainListener):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # opened during start-up in a worker thread, used afterwards from the event loop
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS tx (txid BLOB PRIMARY KEY, block BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB)")
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def _best(self) -> bytes | None:
        row = self._db.execute("SELECT v FROM meta WHERE k='best'").fetchone()
        return row[0] if row else None

    def sync(self, chainstate) -> None:
        """Index what the chain has that the index lacks (from its last block still active)."""
        best = self._best()
        start = 0
        if best is not None:
            entry = chainstate.get_block_index(best)
            if entry is not None and chainstate.active.contains(entry):
                start = entry.height + 1
        for height in range(start, chainstate.height + 1):
            h = chainstate.block_hash_at(height)
            block = chainstate.get_block(h)
            if block is not None:
                self._add(block, h)
        self._db.commit()
        log.info("txindex synced to height %d", chainstate.height)

    def _add(self, block: "Block", block_hash: bytes) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO tx (txid, block) VALUES (?, ?)",
            [(tx.txid, block_hash) for tx in block.txs],
        )
        self._db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('best', ?)", (block_hash,))

    def block_connected(self, block: "Block", entry: "BlockIndexEntry") -> None:
        self._add(block, entry.hash)
        self._db.commit()

    def best_height(self, chainstate) -> int:
        """Height up to which the index covers the active chain (-1 when empty): its last block,
        or, after a reorg took that block out, the fork point below it (getindexinfo)."""
        best = self._best()
        entry = chainstate.get_block_index(best) if best is not None else None
        while entry is not None and not chainstate.active.contains(entry):
            entry = entry.parent
        return -1 if entry is None else entry.height

    def lookup(self, txid: bytes) -> bytes | None:
        row = self._db.execute("SELECT block FROM tx WHERE txid=?", (txid,)).fetchone()
        return row[0] if row else None
