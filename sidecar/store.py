"""Durable coordinator state in SQLite (WAL, synchronous=FULL) plus checkpoint files.

Every state change is one transaction, so a kill -9 leaves either the old or the new state.
Certificates are keyed by (parent, height): the primary key makes a second certificate for the same
block position impossible, even across restarts.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .crypto import atomic_write

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS miners(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, xonly BLOB UNIQUE NOT NULL, payout BLOB NOT NULL,
  registered_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cycles(
  id INTEGER PRIMARY KEY, parent BLOB NOT NULL, height INTEGER NOT NULL, parent_time INTEGER NOT NULL,
  seed BLOB NOT NULL, heldout_secret BLOB NOT NULL, base_model TEXT NOT NULL,
  opened_at REAL NOT NULL, deadline REAL NOT NULL, state TEXT NOT NULL,
  model_after TEXT, log_json TEXT);
CREATE TABLE IF NOT EXISTS assignments(
  cycle INTEGER NOT NULL, miner BLOB NOT NULL, segment INTEGER NOT NULL, shard INTEGER NOT NULL,
  PRIMARY KEY(cycle, miner));
CREATE TABLE IF NOT EXISTS submissions(
  cycle INTEGER NOT NULL, miner BLOB NOT NULL, status TEXT NOT NULL, code TEXT, message TEXT,
  measured TEXT, delta BLOB, at REAL NOT NULL, PRIMARY KEY(cycle, miner));
CREATE TABLE IF NOT EXISTS certificates(
  parent BLOB NOT NULL, height INTEGER NOT NULL, cycle INTEGER NOT NULL, cert BLOB NOT NULL,
  block BLOB NOT NULL, created_at REAL NOT NULL, PRIMARY KEY(parent, height));
CREATE TABLE IF NOT EXISTS checkpoints(hash TEXT PRIMARY KEY, cycle INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class CycleRow:
    id: int
    parent: bytes
    height: int
    parent_time: int
    seed: bytes
    heldout_secret: bytes
    base_model: str
    opened_at: float
    deadline: float
    state: str  # open | sealed
    model_after: str | None
    log_json: str | None


class Store:
    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        (self.datadir / "checkpoints").mkdir(exist_ok=True)
        self.db = sqlite3.connect(self.datadir / "sidecar.sqlite3", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- transactions ------------------------------------------------------------------------
    def tx(self) -> "_Tx":
        return _Tx(self.db)

    # --- meta ----------------------------------------------------------------------------------
    def get_meta(self, k: str) -> Any:
        row = self.db.execute("SELECT v FROM meta WHERE k=?", (k,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, k: str, v: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)", (k, json.dumps(v)))

    # --- miners ---------------------------------------------------------------------------------
    def add_miner(self, xonly: bytes, payout: bytes) -> tuple[int, bool]:
        """Register (idempotent for the same key and payout).  Returns (seq, created)."""
        row = self.db.execute("SELECT seq, payout FROM miners WHERE xonly=?", (xonly,)).fetchone()
        if row is not None:
            if bytes(row[1]) != payout:
                with self.tx():
                    self.db.execute("UPDATE miners SET payout=? WHERE xonly=?", (payout, xonly))
            return row[0], False
        with self.tx():
            cur = self.db.execute("INSERT INTO miners(xonly, payout, registered_at) VALUES(?,?,?)",
                                  (xonly, payout, time.time()))
        return int(cur.lastrowid), True

    def miners(self) -> list[tuple[int, bytes, bytes]]:
        return [(r[0], bytes(r[1]), bytes(r[2])) for r in
                self.db.execute("SELECT seq, xonly, payout FROM miners ORDER BY seq")]

    def miner_payout(self, xonly: bytes) -> bytes | None:
        row = self.db.execute("SELECT payout FROM miners WHERE xonly=?", (xonly,)).fetchone()
        return None if row is None else bytes(row[0])

    # --- cycles ---------------------------------------------------------------------------------
    def insert_cycle(self, c: CycleRow, assignments: list[tuple[bytes, int, int]]) -> None:
        with self.tx():
            self.db.execute("INSERT INTO cycles VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                            (c.id, c.parent, c.height, c.parent_time, c.seed, c.heldout_secret, c.base_model,
                             c.opened_at, c.deadline, c.state, c.model_after, c.log_json))
            self.db.executemany("INSERT INTO assignments VALUES(?,?,?,?)",
                                [(c.id, m, s, sh) for m, s, sh in assignments])

    def add_assignment(self, cycle: int, miner: bytes, segment: int, shard: int) -> None:
        with self.tx():
            self.db.execute("INSERT OR IGNORE INTO assignments VALUES(?,?,?,?)", (cycle, miner, segment, shard))

    def assignments(self, cycle: int) -> dict[bytes, tuple[int, int]]:
        return {bytes(r[0]): (r[1], r[2]) for r in
                self.db.execute("SELECT miner, segment, shard FROM assignments WHERE cycle=?", (cycle,))}

    def rebind_cycle(self, cycle: int, parent: bytes, height: int, parent_time: int) -> None:
        with self.tx():
            self.db.execute("UPDATE cycles SET parent=?, height=?, parent_time=? WHERE id=?",
                            (parent, height, parent_time, cycle))

    def latest_cycle(self) -> CycleRow | None:
        row = self.db.execute("SELECT * FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else _cycle(row)

    def cycle(self, cycle: int) -> CycleRow | None:
        row = self.db.execute("SELECT * FROM cycles WHERE id=?", (cycle,)).fetchone()
        return None if row is None else _cycle(row)

    # --- submissions ----------------------------------------------------------------------------
    def finish_submission(self, cycle: int, miner: bytes, status: str, code: str | None = None,
                          message: str | None = None, measured: dict | None = None,
                          delta: bytes | None = None) -> None:
        """Record the verdict on a submission (one transaction; replaces a claim row if any)."""
        with self.tx():
            self.db.execute("INSERT OR REPLACE INTO submissions(cycle, miner, status, code, message, measured, "
                            "delta, at) VALUES(?,?,?,?,?,?,?,?)",
                            (cycle, miner, status, code, message,
                             None if measured is None else json.dumps(measured), delta, time.time()))

    def submissions(self, cycle: int) -> list[dict[str, Any]]:
        out = []
        for r in self.db.execute("SELECT miner, status, code, message, measured, delta FROM submissions "
                                 "WHERE cycle=? ORDER BY miner", (cycle,)):
            out.append({"miner": bytes(r[0]), "status": r[1], "code": r[2], "message": r[3],
                        "measured": None if r[4] is None else json.loads(r[4]),
                        "delta": None if r[5] is None else bytes(r[5])})
        return out

    # --- checkpoints ----------------------------------------------------------------------------
    def checkpoint_path(self, h: str) -> Path:
        if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise ValueError("bad checkpoint hash")
        return self.datadir / "checkpoints" / f"{h}.safetensors"

    def write_checkpoint(self, h: str, blob: bytes, cycle: int) -> None:
        p = self.checkpoint_path(h)
        if not p.exists():
            atomic_write(p, blob)
        with self.tx():
            self.db.execute("INSERT OR IGNORE INTO checkpoints VALUES(?,?)", (h, cycle))

    def read_checkpoint(self, h: str) -> bytes | None:
        try:
            p = self.checkpoint_path(h)
        except ValueError:
            return None
        return p.read_bytes() if p.exists() else None

    # --- sealing ----------------------------------------------------------------------------------
    def certificate_for(self, parent: bytes, height: int) -> tuple[int, bytes, bytes] | None:
        row = self.db.execute("SELECT cycle, cert, block FROM certificates WHERE parent=? AND height=?",
                              (parent, height)).fetchone()
        return None if row is None else (row[0], bytes(row[1]), bytes(row[2]))

    def seal(self, cycle: int, parent: bytes, height: int, cert: bytes, block: bytes,
             model_after: str, log_json: str) -> None:
        """One transaction: the certificate (unique per parent and height), the cycle's log and
        the new current model.  Raises sqlite3.IntegrityError if a certificate already exists."""
        with self.tx():
            self.db.execute("INSERT INTO certificates VALUES(?,?,?,?,?,?)",
                            (parent, height, cycle, cert, block, time.time()))
            self.db.execute("UPDATE cycles SET state='sealed', model_after=?, log_json=? WHERE id=?",
                            (model_after, log_json, cycle))
            self.set_meta("current_model", model_after)

    def certificates(self) -> Iterator[tuple[bytes, int, int, bytes]]:
        for r in self.db.execute("SELECT parent, height, cycle, cert FROM certificates ORDER BY cycle"):
            yield bytes(r[0]), r[1], r[2], bytes(r[3])


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> "_Tx":
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        self.db.execute("COMMIT" if et is None else "ROLLBACK")


def _cycle(row: tuple) -> CycleRow:
    return CycleRow(row[0], bytes(row[1]), row[2], row[3], bytes(row[4]), bytes(row[5]), row[6], row[7],
                    row[8], row[9], row[10], row[11])
