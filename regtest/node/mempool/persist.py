"""mempool.dat: the mempool saved at shutdown and reloaded at start (-persistmempool, default 1).

Layout of Bitcoin Core's version-1 file (no obfuscation key): u64 version, u64 count, then per
transaction its witness serialization, i64 entry time and i64 fee delta; then the fee-delta map
and the unbroadcast txid set (compact-size counts). Reloading re-validates every transaction
against the current chain with the normal limits; entries older than the expiry are skipped.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from regtest.consensus.serialize import ByteReader, DeserializationError, ser_compact_size, ser_i64, ser_u64
from regtest.consensus.transaction import Transaction
from regtest.node.mempool.mempool import Mempool
from regtest.node.mempool.pool import MEMPOOL_EXPIRY

log = logging.getLogger("potc.mempool")

MEMPOOL_DUMP_VERSION = 1
MAX_DUMP_TXS = 1_000_000
MAX_DUMP_BYTES = 1 << 30
FILENAME = "mempool.dat"


class MempoolFileError(ValueError):
    pass


@dataclass(frozen=True)
class LoadStats:
    accepted: int
    failed: int
    expired: int
    already_there: int


def dump_mempool(mp: Mempool, path: Path) -> int:
    """Write every entry (parents first) atomically; returns how many were written."""
    pool = mp.pool
    order = pool.topological(pool.entries)
    parts = [ser_u64(MEMPOOL_DUMP_VERSION), ser_u64(len(order))]
    for txid in order:
        e = pool.entries[txid]
        parts += [e.tx.serialize(), ser_i64(e.time), ser_i64(0)]
    unbroadcast = [t for t in mp.unbroadcast if t in pool.entries]
    parts.append(ser_compact_size(0))  # no fee deltas (prioritisetransaction is not supported)
    parts.append(ser_compact_size(len(unbroadcast)))
    parts += unbroadcast
    tmp = path.with_name(path.name + ".new")
    with open(tmp, "wb") as f:
        f.write(b"".join(parts))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return len(order)


def read_dump(data: bytes) -> tuple[list[tuple[Transaction, int]], set[bytes]]:
    """Parse a version-1 file: [(tx, entry time)], unbroadcast txids. Raises MempoolFileError."""
    if len(data) > MAX_DUMP_BYTES:
        raise MempoolFileError("mempool.dat too large")
    r = ByteReader(data)
    try:
        version = r.read_u64()
        if version != MEMPOOL_DUMP_VERSION:
            raise MempoolFileError(f"unsupported mempool.dat version {version}")
        count = r.read_u64()
        if count > MAX_DUMP_TXS or count * 60 > r.remaining():
            raise MempoolFileError("implausible transaction count")
        txs = []
        for _ in range(count):
            tx = Transaction.read(r)
            t = r.read_i64()
            r.read_i64()  # fee delta: not supported, ignored
            txs.append((tx, t))
        for _ in range(r.read_vector_count(40)):
            r.read(32)
            r.read_i64()
        unbroadcast = {r.read(32) for _ in range(r.read_vector_count(32))}
    except DeserializationError as e:
        raise MempoolFileError(f"mempool.dat is corrupt: {e}") from None
    return txs, unbroadcast


def load_mempool(mp: Mempool, path: Path) -> LoadStats:
    """Re-accept the saved transactions (with their original entry times)."""
    if not path.exists():
        return LoadStats(0, 0, 0, 0)
    txs, unbroadcast = read_dump(path.read_bytes())
    now = mp.pool.clock()
    accepted = failed = expired = already = 0
    for tx, t in txs:
        if t + MEMPOOL_EXPIRY <= now:
            expired += 1
            continue
        if tx.txid in mp:
            already += 1
            continue
        res = mp.accept(tx, accept_time=t)
        if res.accepted:
            accepted += 1
        else:
            failed += 1
    mp.unbroadcast |= {t for t in unbroadcast if t in mp}
    log.info("Imported mempool transactions from disk: %d succeeded, %d failed, %d expired, %d already there",
             accepted, failed, expired, already)
    return LoadStats(accepted, failed, expired, already)
