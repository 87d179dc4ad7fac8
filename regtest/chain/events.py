"""Listener hook for chain events; the node's ZMQ publisher and mempool subscribe here."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from regtest.chain.blockindex import BlockIndexEntry
    from regtest.consensus.block import Block

log = logging.getLogger(__name__)


class ChainListener:
    """Override what you need; every method is called after the change has been committed.

    During a reorganisation the calls come in chain order: each disconnected block (tip first),
    then each connected block (fork point upwards), then one `tip_changed`.
    """

    def block_connected(self, block: "Block", entry: "BlockIndexEntry") -> None:
        pass

    def block_disconnected(self, block: "Block", entry: "BlockIndexEntry") -> None:
        pass

    def tip_changed(self, entry: "BlockIndexEntry") -> None:
        pass


class ListenerSet:
    """Fans events out; a failing listener is logged and never breaks the chainstate."""

    def __init__(self) -> None:
        self._listeners: list[ChainListener] = []

    def add(self, listener: ChainListener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: ChainListener) -> None:
        self._listeners.remove(listener)

    def emit(self, method: str, *args: object) -> None:
        for listener in list(self._listeners):
            try:
                getattr(listener, method)(*args)
            except Exception:  # noqa: BLE001 - a listener bug must not corrupt the chain
                log.exception("chain listener %r failed in %s", listener, method)
