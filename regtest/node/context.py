"""What RPC methods can reach: settings, network params, the chainstate, ZMQ, optional parts.

Other components attach themselves here (e.g. `ctx.mempool = Mempool(...)`) before the RPC
server leaves warm-up; methods check for `None` where a part is optional.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regtest.consensus.address import AddressPrefixes, REGTEST_PREFIXES, MAIN_PREFIXES
from regtest.node.config import Settings

MAX_TIP_AGE = 24 * 60 * 60


def prefixes_for(chain: str) -> AddressPrefixes:
    return MAIN_PREFIXES if chain == "main" else REGTEST_PREFIXES


@dataclass
class NodeContext:
    settings: Settings
    params: Any  # regtest.consensus.params.NetworkParams
    chainstate: Any = None  # regtest.chain.chainstate.Chainstate
    zmq: Any = None  # regtest.node.zmq_notify.ZmqPublisher
    txindex: Any = None  # regtest.node.txindex.TxIndex
    mempool: Any = None  # set by the mempool component
    coordinator_privkey: bytes | None = None
    request_stop: Callable[[], None] = lambda: None
    start_time: float = field(default_factory=time.time)
    clock: Callable[[], float] = time.time
    extras: dict[str, Any] = field(default_factory=dict)
    _ibd_latched_off: bool = False

    @property
    def chain(self) -> str:
        return self.settings.chain

    @property
    def prefixes(self) -> AddressPrefixes:
        return prefixes_for(self.settings.chain)

    def is_initial_block_download(self) -> bool:
        """Core's rule: true until the tip is less than 24 h old, then latched false."""
        if self._ibd_latched_off:
            return False
        if self.chainstate is None:
            return True
        if self.chainstate.tip.time < self.clock() - MAX_TIP_AGE:
            return True
        self._ibd_latched_off = True
        return False
