"""Absolute (nLockTime, BIP113) and relative (BIP68 sequence lock) transaction finality."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from regtest.consensus.transaction import SEQUENCE_FINAL, Transaction

LOCKTIME_THRESHOLD = 500_000_000
SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31
SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22
SEQUENCE_LOCKTIME_MASK = 0x0000FFFF
SEQUENCE_LOCKTIME_GRANULARITY = 9


def is_final_tx(tx: Transaction, height: int, block_time: int) -> bool:
    """Core's IsFinalTx: lock time passed, or every input opted out with a final sequence."""
    if tx.locktime == 0:
        return True
    if tx.locktime < (height if tx.locktime < LOCKTIME_THRESHOLD else block_time):
        return True
    return all(txin.sequence == SEQUENCE_FINAL for txin in tx.vin)


def sequence_lock_pair(
    tx: Transaction,
    enforce_bip68: bool,
    prev_heights: Sequence[int],
    mtp_at: Callable[[int], int],
) -> tuple[int, int]:
    """Core's CalculateSequenceLocks: (min height, min time) the spend must exceed; -1 = none.

    `mtp_at(h)` is the median time past of the block at height h on the chain being extended.
    """
    min_height = -1
    min_time = -1
    if not enforce_bip68 or (tx.version & 0xFFFFFFFF) < 2:
        return min_height, min_time
    for txin, coin_height in zip(tx.vin, prev_heights, strict=True):
        seq = txin.sequence
        if seq & SEQUENCE_LOCKTIME_DISABLE_FLAG:
            continue
        if seq & SEQUENCE_LOCKTIME_TYPE_FLAG:
            coin_time = mtp_at(max(coin_height - 1, 0))
            min_time = max(min_time, coin_time + ((seq & SEQUENCE_LOCKTIME_MASK) << SEQUENCE_LOCKTIME_GRANULARITY) - 1)
        else:
            min_height = max(min_height, coin_height + (seq & SEQUENCE_LOCKTIME_MASK) - 1)
    return min_height, min_time


def sequence_locks_met(lock: tuple[int, int], height: int, prev_mtp: int) -> bool:
    """Core's EvaluateSequenceLocks for a block at `height` whose parent has MTP `prev_mtp`."""
    min_height, min_time = lock
    return min_height < height and min_time < prev_mtp
