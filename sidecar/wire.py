"""Tensors on the wire: safetensors only (never pickle), bounded and strictly checked."""

from __future__ import annotations

import json
import struct

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

MAX_TENSORS = 64
MAX_HEADER = 64 * 1024


class PayloadError(ValueError):
    """A malformed tensor payload (maps to HTTP 400)."""


def encode(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    return st_save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def decode(blob: bytes, max_tensors: int = MAX_TENSORS) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Parse a safetensors blob; checks the header size and tensor count before touching the data."""
    if len(blob) < 8:
        raise PayloadError("payload too short")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > MAX_HEADER or 8 + hlen > len(blob):
        raise PayloadError("bad safetensors header length")
    try:
        header = json.loads(blob[8:8 + hlen])
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("safetensors header is not JSON") from None
    if not isinstance(header, dict):
        raise PayloadError("safetensors header is not an object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise PayloadError("bad metadata")
    if len(header) > max_tensors:
        raise PayloadError("too many tensors")
    try:
        tensors = st_load(bytes(blob))
    except Exception as e:  # the library's own error types vary by version
        raise PayloadError(f"malformed safetensors: {e}") from None
    return tensors, meta
