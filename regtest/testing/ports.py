"""Loopback ports for the test and benchmark processes we start.

Ports are taken below the kernel's ephemeral range (32768+ on Linux), so an outgoing connection can
never be handed the port a node is about to bind. Each pytest-xdist worker gets its own slice, and
every candidate is checked by binding it first.
"""

from __future__ import annotations

import os
import socket

_LOW, _HIGH = 20_000, 32_000
_SLICES = 8
_next: int | None = None


def _slice() -> tuple[int, int]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) % _SLICES if worker.startswith("gw") and worker[2:].isdigit() else os.getpid() % _SLICES
    size = (_HIGH - _LOW) // _SLICES
    return _LOW + index * size, size


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to now, not handed out before by this process."""
    global _next
    base, size = _slice()
    if _next is None:
        _next = (os.getpid() * 7919) % size
    for _ in range(size):
        port = base + _next
        _next = (_next + 1) % size
        if _bindable(port):
            return port
    raise RuntimeError("no free loopback port left in this worker's range")


def free_ports(n: int) -> list[int]:
    return [free_port() for _ in range(n)]
