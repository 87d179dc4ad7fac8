"""Model arithmetic shared by miner and coordinator: train one segment, apply a delta, evaluate."""

from __future__ import annotations

from typing import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from .segments import Segment
from .tasks.base import ModelSpec


MOMENTUM = 0.9


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 60
    lr: float = 0.01
    batch: int = 128
    seed: int = 0
    device: str = "cpu"


def load_model(spec: ModelSpec, state: dict[str, torch.Tensor]) -> nn.Module:
    m = spec.build()
    m.load_state_dict(state)
    return m


def segment_masks(segment: Segment, shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    masks = {}
    for s in segment.slices:
        m = torch.zeros(shapes[s.name])
        s.view(m).fill_(1.0)
        masks[s.name] = m
    return masks


def train_segment(spec: ModelSpec, state: dict[str, torch.Tensor], segment: Segment,
                  x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
                  on_step: Callable[[int], None] | None = None) -> dict[str, torch.Tensor]:
    """Train only `segment` on (x, y) with SGD + momentum; return the delta of each slice (name -> tensor)."""
    dev = torch.device(cfg.device)
    model = load_model(spec, state).to(dev)
    x, y = x.to(dev), y.to(dev)
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    masks = {k: m.to(dev) for k, m in segment_masks(segment, shapes).items()}
    params = dict(model.named_parameters())
    trainable = [params[n] for n in masks]
    for n, p in params.items():
        p.requires_grad_(n in masks)
    # Plain SGD with momentum 0.9, written out: torch.optim's first construction in a process costs
    # about a second of CPU (lazy imports), more than a whole cycle of training on digits.
    bufs = {name: torch.zeros_like(params[name]) for name in masks}
    g = torch.Generator().manual_seed(cfg.seed)
    n = len(y)
    for step in range(cfg.steps):
        idx = torch.randint(0, n, (min(cfg.batch, n),), generator=g).to(dev) if cfg.batch < n else slice(None)
        for p in trainable:
            p.grad = None
        loss = spec.loss(model, x[idx], y[idx])
        loss.backward()
        with torch.no_grad():
            for name, m in masks.items():
                p = params[name]
                bufs[name].mul_(MOMENTUM).add_(p.grad.mul_(m))
                p.sub_(bufs[name], alpha=cfg.lr)
        if on_step is not None:
            on_step(step)
    out = {}
    for s in segment.slices:
        out[s.name] = (s.view(params[s.name].detach().cpu()) - s.view(state[s.name])).contiguous()
    return out


def apply_delta(state: dict[str, torch.Tensor], segment: Segment,
                delta: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A new state with `delta` added to the segment's slices (other tensors shared, not copied)."""
    new = dict(state)
    for s in segment.slices:
        t = state[s.name].clone()
        s.view(t).add_(delta[s.name])
        new[s.name] = t
    return new


@torch.no_grad()
def eval_loss(spec: ModelSpec, module: nn.Module, state: dict[str, torch.Tensor],
              x: torch.Tensor, y: torch.Tensor) -> float:
    """Loss of `state` on (x, y) using `module` only as the architecture (no copy of weights)."""

    class _Bound(nn.Module):
        def forward(self, inp: torch.Tensor) -> torch.Tensor:
            return functional_call(module, state, (inp,))

    return float(spec.loss(_Bound(), x, y))


@torch.no_grad()
def eval_accuracy(spec: ModelSpec, state: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float | None:
    return spec.accuracy(load_model(spec, state), x, y)
