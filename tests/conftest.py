"""Shared fixtures: where the read-only reference material lives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
VECTORS = SHARED / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS
