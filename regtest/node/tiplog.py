"""Log every change of the active tip in debug.log as bitcoind does ("UpdateTip: new best=...
height=..."), so that a node's log shows its chain moving, block by block, and reorgs."""

from __future__ import annotations

import logging
import time

from regtest.chain.blockindex import BlockIndexEntry
from regtest.chain.events import ChainListener
from regtest.consensus.block import Block

log = logging.getLogger("potc")


def update_tip_line(entry: BlockIndexEntry) -> str:
    h = entry.header
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h.time))
    return (f"UpdateTip: new best={entry.hash_hex} height={entry.height} "
            f"version=0x{h.version & 0xFFFFFFFF:08x} txs={entry.n_tx} date='{date}'")


class TipLogger(ChainListener):
    """One line per block connected (its block is the new tip) and per block disconnected (its
    parent is); Core's line also gives chain-wide tx counts and cache sizes, which we do not keep."""

    def block_connected(self, block: Block, entry: BlockIndexEntry) -> None:
        log.info(update_tip_line(entry))

    def block_disconnected(self, block: Block, entry: BlockIndexEntry) -> None:
        if entry.parent is not None:
            log.info(update_tip_line(entry.parent))
