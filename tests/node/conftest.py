"""Fixtures: one shared potcd per test module (starting a node costs about a second)."""

from __future__ import annotations

import pytest

from tests.node.framework import TestNode


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = TestNode(tmp_path_factory.mktemp("potcd"), extra_args=["-txindex=1"])
    n.start()
    yield n
    n.stop()
