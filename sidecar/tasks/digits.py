"""Default task: scikit-learn's bundled 8x8 digits (no download) with a one-hidden-layer MLP.

Segments are groups of hidden units: a group's input rows, biases and outgoing columns, so each
segment is a small sub-network a miner can improve on its own.  The output bias goes with segment 0.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..segments import Segment, Slice, row_blocks
from .base import ModelSpec, Task, register


class DigitsSpec(ModelSpec):
    name = "digits-mlp"

    def __init__(self, hidden: int = 64, segments: int = 8) -> None:
        if not (1 <= segments <= hidden <= 4096):
            raise ValueError("bad digits-mlp config")
        self.hidden, self.n_segments = hidden, segments

    def config(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "segments": self.n_segments}

    def build(self) -> nn.Module:
        return nn.Sequential(nn.Linear(64, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 10))

    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(model(x), y)

    def accuracy(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    def segments(self) -> list[Segment]:
        out = []
        for i, (a, b) in enumerate(row_blocks(self.hidden, self.n_segments)):
            sl = [Slice("0.weight", 0, a, b), Slice("0.bias", 0, a, b), Slice("2.weight", 1, a, b)]
            if i == 0:
                sl.append(Slice("2.bias", 0, 0, 10))
            out.append(Segment(i, tuple(sl)))
        return out


register(DigitsSpec.name, DigitsSpec)


class DigitsTask(Task):
    """Standardised digits, a private held-out pool, and the rest split into shards."""

    def __init__(self, hidden: int = 64, segments: int = 8, shards: int = 4,
                 heldout_fraction: float = 0.3, split_seed: int = 0) -> None:
        from sklearn.datasets import load_digits

        self.spec = DigitsSpec(hidden, segments)
        d = load_digits()
        x = torch.tensor(d.data, dtype=torch.float32)
        y = torch.tensor(d.target, dtype=torch.int64)
        g = torch.Generator().manual_seed(split_seed)
        perm = torch.randperm(len(y), generator=g)
        n_hold = int(len(y) * heldout_fraction)
        hold, train = perm[:n_hold], perm[n_hold:]
        mean = x[train].mean(0)
        std = x[train].std(0).clamp_min(1.0)  # constant pixels would blow up held-out inputs
        x = (x - mean) / std
        self._hold = (x[hold].contiguous(), y[hold].contiguous())
        self._shards = [(x[idx].contiguous(), y[idx].contiguous())
                        for idx in torch.tensor_split(train, shards)]

    def initial_state(self, seed: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(seed)
        m = self.spec.build()
        return {k: v.detach().clone() for k, v in m.state_dict().items()}

    def num_shards(self) -> int:
        return len(self._shards)

    def shard(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._shards[index]

    def heldout_sample(self, rng: torch.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self._hold
        idx = torch.randperm(len(y), generator=rng)[: min(size, len(y))]
        return x[idx], y[idx]

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._hold

    def train_all(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All training shards together (for the central-training baseline in bench/)."""
        return torch.cat([s[0] for s in self._shards]), torch.cat([s[1] for s in self._shards])
