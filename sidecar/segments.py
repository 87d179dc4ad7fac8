"""Disjoint parameter segments: the unit of work a miner is assigned.

A segment is a set of slices, at most one per parameter tensor, each a contiguous range along one
dimension.  Segments of a task never overlap, so updates to different segments merge by addition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Slice:
    """Rows (dim 0) or columns (dim 1) [start, stop) of one parameter tensor."""

    name: str
    dim: int
    start: int
    stop: int

    def shape(self, full: tuple[int, ...]) -> tuple[int, ...]:
        s = list(full)
        s[self.dim] = self.stop - self.start
        return tuple(s)

    def view(self, t: torch.Tensor) -> torch.Tensor:
        return t.narrow(self.dim, self.start, self.stop - self.start)

    def to_json(self) -> list[Any]:
        return [self.name, self.dim, self.start, self.stop]

    @classmethod
    def from_json(cls, v: Any) -> "Slice":
        if not (isinstance(v, list) and len(v) == 4 and isinstance(v[0], str)
                and all(isinstance(x, int) for x in v[1:])):
            raise ValueError("bad slice")
        return cls(v[0], v[1], v[2], v[3])


@dataclass(frozen=True)
class Segment:
    id: int
    slices: tuple[Slice, ...]

    def numel(self, shapes: dict[str, tuple[int, ...]]) -> int:
        n = 0
        for s in self.slices:
            size = 1
            for d in s.shape(shapes[s.name]):
                size *= d
            n += size
        return n

    def expected_shapes(self, shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        return {s.name: s.shape(shapes[s.name]) for s in self.slices}

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "slices": [s.to_json() for s in self.slices]}

    @classmethod
    def from_json(cls, v: Any) -> "Segment":
        if not isinstance(v, dict) or not isinstance(v.get("id"), int) or not isinstance(v.get("slices"), list):
            raise ValueError("bad segment")
        return cls(v["id"], tuple(Slice.from_json(s) for s in v["slices"]))


def row_blocks(shape_rows: int, parts: int) -> list[tuple[int, int]]:
    """Split range(shape_rows) into `parts` contiguous nearly equal blocks."""
    parts = max(1, min(parts, shape_rows))
    base, extra = divmod(shape_rows, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def check_disjoint(segments: list[Segment], shapes: dict[str, tuple[int, ...]]) -> None:
    """Raise ValueError if two segments overlap or a slice is out of range (task sanity check)."""
    masks = {n: torch.zeros(s, dtype=torch.int32) for n, s in shapes.items()}
    for seg in segments:
        names = [s.name for s in seg.slices]
        if len(set(names)) != len(names):
            raise ValueError(f"segment {seg.id}: two slices of one tensor")
        for s in seg.slices:
            if s.name not in shapes or not (0 <= s.dim < len(shapes[s.name])):
                raise ValueError(f"segment {seg.id}: bad slice {s}")
            if not (0 <= s.start < s.stop <= shapes[s.name][s.dim]):
                raise ValueError(f"segment {seg.id}: slice out of range {s}")
            s.view(masks[s.name]).add_(1)
    for n, m in masks.items():
        if int(m.max()) > 1:
            raise ValueError(f"segments overlap on {n}")
