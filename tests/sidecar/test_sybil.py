"""Sybil neutrality: splitting one miner's work across many identities does not raise its expected
share of the lottery (statistical test over many seeded lotteries)."""

from __future__ import annotations

import math
import random

import pytest

from regtest.consensus.hashes import sha256
from sidecar.lottery import draw_winner
from sidecar.scoring import ScoreWeights, cap_weights, score

W = ScoreWeights()
N = 6000


def win_rate(weights: list[int], mine: set[int], salt: bytes) -> float:
    wins = 0
    for i in range(N):
        seed = sha256(salt + i.to_bytes(4, "little"))
        root = sha256(b"root" + seed)
        if draw_winner(seed, root, weights) in mine:
            wins += 1
    return wins / N


def split_score(gain: int, shard_gain: int, trained: int, size: int, k: int, rng: random.Random) -> list[int]:
    """The same work split over k identities: gains and trained parameters divide among them."""
    cuts = sorted(rng.randint(1, gain - 1) for _ in range(k - 1))
    parts = [b - a for a, b in zip([0] + cuts, cuts + [gain])]
    return [score(p, max(1, shard_gain // k), max(1, trained // k), max(1, size // k), 800, W) for p in parts]


@pytest.mark.parametrize("k", [2, 5, 20])
def test_splitting_does_not_raise_expected_share(k):
    rng = random.Random(k)
    others = [score(rng.randint(5_000, 60_000), 1000, 900, 1000, 800, W) for _ in range(6)]
    gain, shard_gain, trained, size = 40_000, 20_000, 800, 1000
    single = score(gain, shard_gain, trained, size, 800, W)
    sybils = split_score(gain, shard_gain, trained, size, k, rng)
    assert sum(sybils) <= single                      # integer scoring: splitting can only lose
    cap = 1000                                        # the cap is per identity; neutrality is measured without it
    wa = cap_weights(others + [single], cap)
    wb = cap_weights(others + sybils, cap)
    pa = wa[-1] / sum(wa)
    pb = sum(wb[len(others):]) / sum(wb)
    assert pb <= pa
    ra = win_rate(wa, {len(others)}, b"A%d" % k)
    rb = win_rate(wb, set(range(len(others), len(others) + k)), b"B%d" % k)
    sd = math.sqrt(pa * (1 - pa) / N)
    # Both observed shares match their expectation, and the split one is not significantly larger.
    assert abs(ra - pa) < 4 * sd
    assert abs(rb - pb) < 4 * sd
    assert rb - ra < 4 * math.sqrt(2) * sd


def test_cap_limits_one_identity():
    w = cap_weights([900_000, 50_000, 50_000, 50_000], 400)
    assert w[0] * 1000 <= 400 * sum(w)
    rate = win_rate(w, {0}, b"cap")
    assert rate < 0.4 + 4 * math.sqrt(0.4 * 0.6 / N)
