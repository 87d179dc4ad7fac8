"""Subprocess for the crash-safety test: connects and reorganises forever until killed.

Usage: python -m tests.chain.crash_worker DATADIR BLOCKS_FILE PIVOT_HEX
Feeds every block (one hex per line), then loops: invalidate PIVOT (a deep reorg back to the
other branch) and reconsider it (a deep reorg forward again).
"""

from __future__ import annotations

import sys

from regtest.chain.chainstate import Chainstate
from regtest.consensus.block import Block

from tests.chain.helpers import regtest


def main(argv: list[str]) -> None:
    datadir, blocks_file, pivot_hex = argv
    with open(blocks_file) as f:
        blocks = [Block.parse(bytes.fromhex(line.strip())) for line in f if line.strip()]
    pivot = bytes.fromhex(pivot_hex)
    cs = Chainstate.open(datadir, regtest())
    print("ready", flush=True)
    while True:
        for b in blocks:
            cs.process_block(b)
        cs.invalidate_block(pivot)
        cs.reconsider_block(pivot)


if __name__ == "__main__":
    main(sys.argv[1:])
