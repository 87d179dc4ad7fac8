"""From measured metrics to lottery weights, in integers.

Metrics are measured in floats by the verifier and quantised once, to micro-units, into the
published contribution log.  Everything after that (score, cap, lottery) is integer arithmetic, so
anyone recomputes the same weights from the log.

score = R * (w_loss * 1000 + w_params * P) // (1000 * (w_loss + w_params))
  R = held-out loss reduction in micro-units (0 when the update does not reduce both the held-out
      loss and the loss on the miner's own shard),
  P = permille of the segment's parameters the update actually changed.
An update whose held-out gain is below `min_gain` micro-units scores 0, and so does one whose
direction is not aligned with the descent direction of the miner's own shard (A = permille cosine
between the update and minus the shard-loss gradient at the base model, below `min_alignment`):
that is the evidence it trained on what it was given.  Trained updates sit far above the bar
(cosine 0.5-0.95 on digits); random probes of the evaluation sit near 0 (standard deviation
1/sqrt(segment size)), so they earn nothing even when they happen to lower a loss.
The score is linear in R, so splitting the same work over several identities never adds up to more
(floor rounding can only lose), and a miner that touches only a few parameters earns less.
"""

from __future__ import annotations

from dataclasses import dataclass

MICRO = 1_000_000


def quantise(x: float) -> int:
    """Float metric to integer micro-units (round half away from zero; finite inputs only)."""
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("non-finite metric")
    return int(round(x * MICRO))


@dataclass(frozen=True)
class ScoreWeights:
    loss: int = 700
    params: int = 300
    min_gain: int = 500
    min_alignment: int = 200

    def __post_init__(self) -> None:
        if self.loss < 0 or self.params < 0 or self.loss + self.params == 0 or self.min_gain < 1:
            raise ValueError("score weights must be non-negative and not both zero; min_gain >= 1")
        if not -1000 <= self.min_alignment <= 1000:
            raise ValueError("min_alignment is a permille cosine in [-1000, 1000]")


def score(loss_reduction_micro: int, shard_reduction_micro: int, trained: int, segment_size: int,
          alignment_permille: int, w: ScoreWeights) -> int:
    if (loss_reduction_micro < w.min_gain or shard_reduction_micro <= 0 or segment_size <= 0 or trained <= 0
            or alignment_permille < w.min_alignment):
        return 0
    permille = min(1000, trained * 1000 // segment_size)
    return loss_reduction_micro * (w.loss * 1000 + w.params * permille) // (1000 * (w.loss + w.params))


def cap_weights(scores: list[int], cap_permille: int) -> list[int]:
    """Clamp the largest scores so no entry exceeds cap_permille/1000 of the capped total.

    Water-filling in integers: clamp the top k entries to v = cap*R // (1000 - cap*k), where R is
    the sum of the others, for the smallest k that makes the next entry fit.  When the cap cannot
    be met (fewer than 1000/cap positive entries) the cap is relaxed to an equal split of the top.
    """
    if not 0 < cap_permille <= 1000:
        raise ValueError("cap_permille must be in (0, 1000]")
    n = len(scores)
    total = sum(scores)
    if total == 0 or cap_permille == 1000:
        return list(scores)
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    s = [scores[i] for i in order]
    if s[0] * 1000 <= cap_permille * total:
        return list(scores)
    positive = [x for x in s if x > 0]
    if len(positive) * cap_permille <= 1000:
        # Cap infeasible with this few entries: equal split (everyone at the smallest positive score).
        return [min(x, positive[-1]) for x in scores]
    rest = total
    for k in range(1, n + 1):
        rest -= s[k - 1]
        denom = 1000 - cap_permille * k
        if denom <= 0:
            break
        v = cap_permille * rest // denom
        if k == n or s[k] <= v:
            out = list(scores)
            for j in range(k):
                out[order[j]] = min(v, s[j])
            return out
    raise AssertionError("water-filling found no level")  # unreachable when feasible
