"""The node's transaction memory pool: Core's policy, RBF, limits, reorg handling.

    mp = Mempool(chainstate, PolicySettings())     # chainstate.add_listener(mp) keeps it in sync
    res = mp.accept(tx)                            # AcceptResult(accepted, reason, debug, fee, vsize)
    attach_mempool(ctx)                            # the daemon: options, chain listener, ZMQ events
"""

from regtest.node.mempool.accept import AcceptResult, MempoolReject
from regtest.node.mempool.mempool import Mempool
from regtest.node.mempool.policy import PolicySettings
from regtest.node.mempool.pool import MempoolEntry, MempoolListener, RemovalReason

__all__ = [
    "AcceptResult",
    "Mempool",
    "MempoolEntry",
    "MempoolListener",
    "MempoolReject",
    "PolicySettings",
    "RemovalReason",
]
