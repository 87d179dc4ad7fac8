"""The cycle lottery: a committed secret seed, revealed later, drives an integer-only weighted draw."""

from __future__ import annotations

from regtest.consensus.hashes import tagged_hash

COMMIT_TAG = "potc/lottery/commit"
DRAW_TAG = "potc/lottery/draw"


def seed_commitment(seed: bytes) -> bytes:
    if len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    return tagged_hash(COMMIT_TAG, seed)


def draw_point(seed: bytes, contributions_root: bytes, total: int) -> int:
    """A 512-bit hash reduced mod total (bias below 2**-400 for any realistic total)."""
    if total <= 0:
        raise ValueError("total weight must be positive")
    h = tagged_hash(DRAW_TAG, seed + contributions_root + b"\x00") + tagged_hash(DRAW_TAG, seed + contributions_root + b"\x01")
    return int.from_bytes(h, "big") % total


def draw_winner(seed: bytes, contributions_root: bytes, weights: list[int]) -> int | None:
    """Index of the winning entry (entries in contribution-log order), or None if all weights are 0."""
    if any(w < 0 for w in weights):
        raise ValueError("negative weight")
    total = sum(weights)
    if total == 0:
        return None
    r = draw_point(seed, contributions_root, total)
    acc = 0
    for i, w in enumerate(weights):
        acc += w
        if r < acc:
            return i
    raise AssertionError("unreachable")
