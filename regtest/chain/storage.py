"""SQLite persistence for the chainstate: block data, block index, UTXO set, undo data, tip.

Why SQLite in WAL mode: one file, atomic multi-table transactions, readers never block the
writer. Every block connect or disconnect is a single transaction (`with store.transaction()`),
so after any crash the UTXO set, the undo data and the tip always agree.

Durability setting: `synchronous=NORMAL` by default. In WAL mode NORMAL keeps every commit atomic
and survives any process crash (SIGKILL included, the WAL is in the OS page cache); only a power
loss or kernel crash may roll back the last few commits, leaving an older but consistent tip that
the node re-syncs from. `synchronous="FULL"` fsyncs every commit, for callers who want each block
durable before it is announced.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

from regtest.chain.coinser import coin_from_row, height_code, key_outpoint, outpoint_key
from regtest.consensus.coins import Coin
from regtest.consensus.transaction import OutPoint

SCHEMA_VERSION = 1
DB_NAME = "chainstate.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_index (
    hash BLOB PRIMARY KEY,
    header BLOB NOT NULL,
    height INTEGER NOT NULL,
    chain_work BLOB NOT NULL,
    status INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    n_tx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_data (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS undo_data (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS utxo (
    key BLOB PRIMARY KEY,
    value INTEGER NOT NULL,
    script BLOB NOT NULL,
    code INTEGER NOT NULL
) WITHOUT ROWID;
"""


class StorageError(RuntimeError):
    """The data directory is unusable (wrong network, newer schema, corrupt rows)."""


@dataclass(frozen=True, slots=True)
class IndexRow:
    hash: bytes
    header: bytes
    height: int
    chain_work: int
    status: int
    sequence: int
    n_tx: int


class ChainStore:
    """Thin typed access to the database; it knows tables, not consensus."""

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self.path = path
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per block.
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.1)
        # One process per data directory (Core locks its datadir too): a second chainstate
        # would write behind the first one's coins cache. EXCLUSIVE also keeps the WAL index
        # in process memory instead of a shared-memory file.
        self.db.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            self.db.close()
            raise StorageError(f"data directory is in use by another process ({e})") from None
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        # Checkpoints (which fsync) every ~40 MB of WAL instead of every 4 MB; the WAL file is
        # truncated back after each one.
        self.db.execute("PRAGMA wal_autocheckpoint=10000")
        self.db.execute("PRAGMA journal_size_limit=67108864")
        self.db.executescript(_SCHEMA)
        self._in_txn = False

    @classmethod
    def open_datadir(cls, datadir: str, synchronous: str = "NORMAL") -> "ChainStore":
        os.makedirs(datadir, exist_ok=True)
        return cls(os.path.join(datadir, DB_NAME), synchronous)

    def close(self) -> None:
        if self._in_txn:
            self.db.execute("ROLLBACK")
            self._in_txn = False
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        if self._in_txn:
            raise RuntimeError("nested transaction")
        self.db.execute("BEGIN IMMEDIATE")
        self._in_txn = True
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._in_txn = False
            raise
        self.db.execute("COMMIT")
        self._in_txn = False

    # --- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return bytes(row[0]) if row else None

    def set_meta(self, key: str, value: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- block index ----------------------------------------------------------------------
    def load_index(self) -> list[IndexRow]:
        rows = self.db.execute(
            "SELECT hash, header, height, chain_work, status, sequence, n_tx FROM block_index"
            " ORDER BY height"
        )
        return [
            IndexRow(bytes(h), bytes(hd), ht, int.from_bytes(w, "big"), st, seq, ntx)
            for h, hd, ht, w, st, seq, ntx in rows
        ]

    def put_index(self, rows: Iterable[IndexRow]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO block_index"
            " (hash, header, height, chain_work, status, sequence, n_tx) VALUES (?,?,?,?,?,?,?)",
            [
                (r.hash, r.header, r.height, r.chain_work.to_bytes(32, "big"), r.status, r.sequence, r.n_tx)
                for r in rows
            ],
        )

    # --- blocks and undo ------------------------------------------------------------------
    def put_block(self, block_hash: bytes, raw: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO block_data (hash, data) VALUES (?, ?)", (block_hash, raw))

    def get_block(self, block_hash: bytes) -> bytes | None:
        row = self.db.execute("SELECT data FROM block_data WHERE hash=?", (block_hash,)).fetchone()
        return bytes(row[0]) if row else None

    def put_undo(self, block_hash: bytes, raw: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO undo_data (hash, data) VALUES (?, ?)", (block_hash, raw))

    def get_undo(self, block_hash: bytes) -> bytes | None:
        row = self.db.execute("SELECT data FROM undo_data WHERE hash=?", (block_hash,)).fetchone()
        return bytes(row[0]) if row else None

    # --- UTXO set -------------------------------------------------------------------------
    def get_coin(self, op: OutPoint) -> Coin | None:
        row = self.db.execute(
            "SELECT value, script, code FROM utxo WHERE key=?", (outpoint_key(op),)
        ).fetchone()
        return coin_from_row(*row) if row else None

    def get_coins(self, ops: list[OutPoint]) -> dict[OutPoint, Coin]:
        """Many coins in few queries (batches of 500 keys); absent ones are left out."""
        found: dict[OutPoint, Coin] = {}
        by_key = {outpoint_key(op): op for op in ops}
        keys = list(by_key)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            sql = f"SELECT key, value, script, code FROM utxo WHERE key IN ({','.join('?' * len(chunk))})"
            for key, value, script, code in self.db.execute(sql, chunk):
                found[by_key[bytes(key)]] = coin_from_row(value, script, code)
        return found

    def delete_coins(self, ops: Iterable[OutPoint]) -> None:
        rows = [(outpoint_key(op),) for op in ops]
        if rows:
            self.db.executemany("DELETE FROM utxo WHERE key=?", rows)

    def add_coins(self, coins: Iterable[tuple[OutPoint, Coin]]) -> None:
        rows = [(outpoint_key(op), c.value, c.script_pubkey, height_code(c)) for op, c in coins]
        if rows:
            self.db.executemany("INSERT OR REPLACE INTO utxo (key, value, script, code) VALUES (?,?,?,?)", rows)

    def iter_coins(self) -> Iterator[tuple[OutPoint, Coin]]:
        """Every coin in (txid, index) order."""
        for key, value, script, code in self.db.execute(
            "SELECT key, value, script, code FROM utxo ORDER BY key"
        ):
            yield key_outpoint(bytes(key)), coin_from_row(value, script, code)

    def disk_size(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.path.getsize(self.path + suffix)
            except OSError:
                pass
        return total
