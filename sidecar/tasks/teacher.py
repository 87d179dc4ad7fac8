"""Load-test task: a student MLP regressing a fixed random teacher on synthetic Gaussian inputs.

The student's width scales to millions of parameters.  Held-out samples are freshly generated each
cycle, so the evaluation set is literally new every time.  Segments are row blocks of every layer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..segments import Segment, Slice, row_blocks
from .base import ModelSpec, Task, register


class TeacherStudentSpec(ModelSpec):
    name = "teacher-student"

    def __init__(self, d_in: int = 64, width: int = 256, depth: int = 2, d_out: int = 8,
                 segments: int = 16) -> None:
        if not (1 <= d_in <= 8192 and 1 <= width <= 16384 and 1 <= depth <= 8 and 1 <= d_out <= 1024
                and 1 <= segments <= width):
            raise ValueError("bad teacher-student config")
        self.d_in, self.width, self.depth, self.d_out, self.n_segments = d_in, width, depth, d_out, segments

    def config(self) -> dict[str, Any]:
        return {"d_in": self.d_in, "width": self.width, "depth": self.depth, "d_out": self.d_out,
                "segments": self.n_segments}

    def build(self) -> nn.Module:
        layers: list[nn.Module] = []
        d = self.d_in
        for _ in range(self.depth):
            layers += [nn.Linear(d, self.width), nn.Tanh()]
            d = self.width
        layers.append(nn.Linear(d, self.d_out))
        return nn.Sequential(*layers)

    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(model(x), y)

    def segments(self) -> list[Segment]:
        """Segment i owns row block i of every hidden layer (weights and biases); the small output
        layer is split by rows over the first d_out segments' worth of blocks."""
        blocks = row_blocks(self.width, self.n_segments)
        out_blocks = row_blocks(self.d_out, min(self.d_out, self.n_segments))
        segs = []
        for i, (a, b) in enumerate(blocks):
            sl = []
            for layer in range(self.depth):
                idx = 2 * layer
                sl += [Slice(f"{idx}.weight", 0, a, b), Slice(f"{idx}.bias", 0, a, b)]
            if i < len(out_blocks):
                oa, ob = out_blocks[i]
                idx = 2 * self.depth
                sl += [Slice(f"{idx}.weight", 0, oa, ob), Slice(f"{idx}.bias", 0, oa, ob)]
            segs.append(Segment(i, tuple(sl)))
        return segs


register(TeacherStudentSpec.name, TeacherStudentSpec)


class TeacherStudentTask(Task):
    def __init__(self, d_in: int = 64, width: int = 256, depth: int = 2, d_out: int = 8,
                 segments: int = 16, shards: int = 16, shard_size: int = 256, teacher_seed: int = 1) -> None:
        self.spec = TeacherStudentSpec(d_in, width, depth, d_out, segments)
        g = torch.Generator().manual_seed(teacher_seed)
        self._teacher = nn.Sequential(nn.Linear(d_in, 32), nn.Tanh(), nn.Linear(32, d_out))
        with torch.no_grad():
            for p in self._teacher.parameters():
                p.copy_(torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5 * 2)
        self._shards = [self._make(g, shard_size) for _ in range(shards)]
        self._test = self._make(g, 512)

    def _make(self, g: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, self.spec.d_in, generator=g)
        with torch.no_grad():
            return x, self._teacher(x)

    def initial_state(self, seed: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(seed)
        return {k: v.detach().clone() for k, v in self.spec.build().state_dict().items()}

    def num_shards(self) -> int:
        return len(self._shards)

    def shard(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._shards[index]

    def heldout_sample(self, rng: torch.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._make(rng, size)

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._test
