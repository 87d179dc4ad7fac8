"""Verification of one miner update against the current cycle, by the coordinator itself.

Checks run cheapest first; each failure is a `Rejected` with a stable code and an HTTP status.
Claimed metrics are never trusted: they must match what the coordinator measures, and the score
uses only the measured values.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .segments import Segment
from .tasks.base import ModelSpec
from .training import apply_delta, eval_loss, load_model


class Rejected(Exception):
    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class VerifyLimits:
    max_norm: float = 25.0           # L2 norm bound of a whole update
    claim_abs_tol: float = 1e-3      # claimed shard losses must match within abs + rel * |measured|
    claim_rel_tol: float = 1e-2
    copy_cosine: float = 0.999       # same-segment updates this parallel to an earlier one are copies


@dataclass(frozen=True)
class Assignment:
    miner: bytes
    segment: Segment
    shard: int


@dataclass(frozen=True)
class Submission:
    miner: bytes
    cycle: int
    base_version: str
    segment_id: int
    shard: int
    claimed_shard_before: float
    claimed_shard_after: float
    tensors: dict[str, torch.Tensor]


@dataclass(frozen=True)
class Measured:
    trained: int
    segment_size: int
    heldout_before: float
    heldout_after: float
    shard_before: float
    shard_after: float
    alignment: int       # permille cosine between the update and minus the shard-loss gradient
    update_hash: str


def update_hash(tensors: dict[str, torch.Tensor]) -> str:
    """Hash of names, shapes and float32 bytes in name order (identity of an update's content)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(name.encode() + b"\0" + repr(tuple(t.shape)).encode() + b"\0")
        h.update(t.numpy().tobytes())
    return h.hexdigest()


@dataclass
class CycleVerifier:
    """Per-cycle verification state: base model, this cycle's held-out sample, shards, and what has
    been accepted so far (for duplicate and copy detection)."""

    spec: ModelSpec
    cycle: int
    base_version: str
    state: dict[str, torch.Tensor]
    heldout: tuple[torch.Tensor, torch.Tensor]
    shards: Callable[[int], tuple[torch.Tensor, torch.Tensor]]
    limits: VerifyLimits = VerifyLimits()
    module: nn.Module = field(init=False)
    heldout_before: float = field(init=False)
    _shard_before: dict[int, float] = field(default_factory=dict, init=False)
    _shard_grad: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict, init=False)
    _hashes: set[str] = field(default_factory=set, init=False)
    _by_segment: dict[int, list[torch.Tensor]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.module = self.spec.build()
        self.shapes = {k: tuple(v.shape) for k, v in self.state.items()}
        self.heldout_before = eval_loss(self.spec, self.module, self.state, *self.heldout)

    def shard_before(self, shard: int) -> float:
        if shard not in self._shard_before:
            x, y = self.shards(shard)
            self._shard_before[shard] = eval_loss(self.spec, self.module, self.state, x, y)
        return self._shard_before[shard]

    def shard_grad(self, shard: int) -> dict[str, torch.Tensor]:
        """Gradient of the shard loss at the base model (once per shard and cycle)."""
        if shard not in self._shard_grad:
            x, y = self.shards(shard)
            m = load_model(self.spec, self.state)
            self.spec.loss(m, x, y).backward()
            self._shard_grad[shard] = {n: p.grad.detach() for n, p in m.named_parameters() if p.grad is not None}
        return self._shard_grad[shard]

    def alignment(self, segment: Segment, shard: int, tensors: dict[str, torch.Tensor]) -> int:
        g = self.shard_grad(shard)
        dot = gn = dn = 0.0
        for s in segment.slices:
            gs = s.view(g[s.name]).double() if s.name in g else torch.zeros(tensors[s.name].shape, dtype=torch.float64)
            d = tensors[s.name].double()
            dot -= float((gs * d).sum())
            gn += float(gs.pow(2).sum())
            dn += float(d.pow(2).sum())
        if gn <= 0 or dn <= 0:
            return 0
        return int(round(1000 * dot / math.sqrt(gn * dn)))

    def check_structure(self, sub: Submission, a: Assignment) -> None:
        """Everything but the loss evaluations (cycle, assignment, base, shapes, values, norm)."""
        if sub.cycle != self.cycle:
            raise Rejected("wrong-cycle", f"submission for cycle {sub.cycle}, current cycle is {self.cycle}", 409)
        if sub.base_version != self.base_version:
            raise Rejected("stale-base", "update computed against another model version", 409)
        if sub.segment_id != a.segment.id or sub.shard != a.shard:
            raise Rejected("wrong-assignment", "segment or shard differs from the assignment", 422)
        want = a.segment.expected_shapes(self.shapes)
        extra = set(sub.tensors) - set(want)
        if extra:
            raise Rejected("outside-segment", f"tensors outside the assigned segment: {sorted(extra)[:4]}", 422)
        for name, shape in want.items():
            t = sub.tensors.get(name)
            if t is None:
                raise Rejected("bad-shape", f"missing tensor {name}", 422)
            if t.dtype != torch.float32:
                raise Rejected("bad-dtype", f"{name} must be float32, got {t.dtype}", 422)
            if tuple(t.shape) != shape:
                raise Rejected("outside-segment" if t.numel() > math.prod(shape) else "bad-shape",
                               f"{name} has shape {tuple(t.shape)}, segment slice is {shape}", 422)
            if not bool(torch.isfinite(t).all()):
                raise Rejected("non-finite", f"{name} contains NaN or Inf", 422)
        norm = math.sqrt(sum(float(t.double().pow(2).sum()) for t in sub.tensors.values()))
        if norm > self.limits.max_norm:
            raise Rejected("norm-too-large", f"update norm {norm:.3g} exceeds {self.limits.max_norm}", 422)
        for v in (sub.claimed_shard_before, sub.claimed_shard_after):
            if not math.isfinite(v):
                raise Rejected("bad-claim", "claimed metrics must be finite", 422)

    def check_copy(self, sub: Submission, a: Assignment) -> str:
        h = update_hash(sub.tensors)
        if h in self._hashes:
            raise Rejected("duplicate-update", "an identical update was already submitted this cycle", 409)
        flat = torch.cat([sub.tensors[n].reshape(-1) for n in sorted(sub.tensors)]).double()
        fn = float(flat.norm())
        for other in self._by_segment.get(a.segment.id, []):
            on = float(other.norm())
            if fn > 0 and on > 0 and float(flat @ other) / (fn * on) > self.limits.copy_cosine:
                raise Rejected("copied-update", "update is a near copy of another miner's update", 409)
        return h

    def verify(self, sub: Submission, a: Assignment) -> Measured:
        """All checks, then the measurements.  On success the update is remembered for copy checks."""
        self.check_structure(sub, a)
        h = self.check_copy(sub, a)
        new_state = apply_delta(self.state, a.segment, sub.tensors)
        after = eval_loss(self.spec, self.module, new_state, *self.heldout)
        x, y = self.shards(a.shard)
        sb = self.shard_before(a.shard)
        sa = eval_loss(self.spec, self.module, new_state, x, y)
        lim = self.limits
        for claimed, real in ((sub.claimed_shard_before, sb), (sub.claimed_shard_after, sa)):
            if abs(claimed - real) > lim.claim_abs_tol + lim.claim_rel_tol * abs(real):
                raise Rejected("claim-mismatch", f"claimed shard loss {claimed:.6g}, measured {real:.6g}", 422)
        if not (math.isfinite(after) and math.isfinite(sa)):
            raise Rejected("non-finite", "update makes the loss non-finite", 422)
        trained = sum(int(torch.count_nonzero(t)) for t in sub.tensors.values())
        align = self.alignment(a.segment, a.shard, sub.tensors)
        self.remember(sub.tensors, a.segment.id, h)
        return Measured(trained, a.segment.numel(self.shapes), self.heldout_before, after, sb, sa, align, h)

    def remember(self, tensors: dict[str, torch.Tensor], segment_id: int, h: str) -> None:
        """Register a verified update for the duplicate and copy checks (also used after a restart)."""
        self._hashes.add(h)
        self._by_segment.setdefault(segment_id, []).append(
            torch.cat([tensors[n].reshape(-1) for n in sorted(tensors)]).double())

    def merge(self, updates: list[tuple[Segment, dict[str, torch.Tensor], float]]
              ) -> tuple[dict[str, torch.Tensor], list[int], float]:
        """Merge improving updates (segment, delta, held-out gain) so the held-out loss never rises.

        First all of them together; if that is not better than the base, greedily in order of gain,
        keeping each one only if it lowers the loss further.  Returns (state, merged indices, loss).
        """
        base = self.heldout_before
        good = [i for i, u in enumerate(updates) if u[2] > 0]
        if not good:
            return self.state, [], base
        cand = self.state
        for i in good:
            cand = apply_delta(cand, updates[i][0], updates[i][1])
        loss = eval_loss(self.spec, self.module, cand, *self.heldout)
        if loss < base:
            return cand, good, loss
        state, cur, merged = self.state, base, []
        for i in sorted(good, key=lambda j: -updates[j][2]):
            c = apply_delta(state, updates[i][0], updates[i][1])
            lc = eval_loss(self.spec, self.module, c, *self.heldout)
            if lc < cur:
                state, cur = c, lc
                merged.append(i)
        return state, sorted(merged), cur

