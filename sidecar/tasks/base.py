"""The task interface: what the coordinator and the miners need to know about a training job.

A task has two halves.  `ModelSpec` is public (miners build the same model from it); the data half
(`Task`) stays with the coordinator: it preprocesses, shards, and keeps the held-out pool private.
Bring your own task by implementing `Task` and registering its `ModelSpec` factory with `register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

import torch
from torch import nn

from ..segments import Segment


class ModelSpec(ABC):
    """Everything a miner needs: architecture, loss and segmentation (no data)."""

    name: str

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-able constructor arguments; `spec_from_json` rebuilds an equal spec."""

    @abstractmethod
    def build(self) -> nn.Module:
        """A fresh module; parameters are overwritten from the coordinator's checkpoint."""

    @abstractmethod
    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean loss; the quantity the verifier asks an update to reduce."""

    @abstractmethod
    def segments(self) -> list[Segment]:
        """Disjoint parameter segments covering the trainable parameters."""

    def accuracy(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float | None:
        """Optional human metric (classification accuracy); None when meaningless."""
        return None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "config": self.config()}


class Task(ABC):
    """The coordinator side: a ModelSpec plus private data."""

    spec: ModelSpec

    @abstractmethod
    def initial_state(self, seed: int) -> dict[str, torch.Tensor]:
        """Initial parameters (deterministic in seed)."""

    @abstractmethod
    def num_shards(self) -> int: ...

    @abstractmethod
    def shard(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Preprocessed training shard `index`; the only data a miner ever sees."""

    @abstractmethod
    def heldout_sample(self, rng: torch.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh evaluation sample for one cycle; never leaves the coordinator."""

    @abstractmethod
    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The full private evaluation set, for reporting accuracy."""


_SPECS: dict[str, Callable[..., ModelSpec]] = {}


def register(name: str, factory: Callable[..., ModelSpec]) -> None:
    _SPECS[name] = factory


def spec_from_json(v: Any) -> ModelSpec:
    """Rebuild a ModelSpec from its JSON form (what the coordinator publishes to miners)."""
    if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not isinstance(v.get("config"), dict):
        raise ValueError("bad task spec")
    if v["name"] not in _SPECS:
        raise ValueError(f"unknown task {v['name']!r}")
    return _SPECS[v["name"]](**v["config"])


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: t.detach().clone().contiguous() for k, t in model.state_dict().items()}
