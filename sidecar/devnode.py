"""A stand-in node for development, tests and benchmarks (until potcd's services exist).

It subscribes to the coordinator's `sealedblock` topic, checks each block with the consensus
certificate rule on its current tip, and when it extends the tip announces it the way Bitcoin Core
does: `hashblock` and `rawblock` on a ZMQ PUB socket, each with its own little-endian counter.
Run as `python -m sidecar.devnode --listen tcp://127.0.0.1:28332 --sidecar tcp://127.0.0.1:28333
--coordinator-key <xonly hex>`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time

import zmq

from regtest.consensus.block import Block
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.certificate import check_block_certificate
from regtest.consensus.params import NetworkParams, regtest_params

from .zmqio import FramedPublisher, parse_notification

log = logging.getLogger("potc.devnode")


class DevNode:
    def __init__(self, params: NetworkParams, listen: str, sidecar: str | None, ctx: zmq.Context | None = None) -> None:
        self.ctx = ctx or zmq.Context.instance()
        self.params = params
        self.pub = FramedPublisher(self.ctx, listen)
        self.endpoint = self.pub.endpoint
        self.tip_hash = params.genesis.hash
        self.height = 0
        self.blocks: list[Block] = []
        self.rejected: list[tuple[str, str]] = []
        self.seen: list[Block] = []      # every sealed block received, duplicates included
        self.sidecar = sidecar
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, block: Block) -> str | None:
        """Connect `block` if it extends the tip with a valid certificate; None or the reject reason.
        Our own tip sent again is announced again: its coordinator missed the announcement (e.g. it
        restarted) and waits for it."""
        with self.lock:
            duplicate = block.hash == self.tip_hash
            if not duplicate:
                if block.header.prev_hash != self.tip_hash:
                    return "prev-blk-not-tip"
                try:
                    check_block_certificate(block, self.height + 1, self.params)
                except BlockValidationError as e:
                    self.rejected.append((block.hash.hex(), e.reason))
                    return e.reason
                self.blocks.append(block)
                self.tip_hash = block.hash
                self.height += 1
        self.pub.publish_tip(block)
        return "duplicate" if duplicate else None

    def announce_tip(self, block: Block) -> None:
        """Publish a block as the new tip without checks (simulates another miner's block)."""
        with self.lock:
            self.tip_hash = block.hash
            self.height += 1
            self.blocks.append(block)
        self.pub.publish_tip(block)

    def start(self) -> None:
        if self.sidecar is None:
            return
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sub = self.ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"sealedblock")
        sub.setsockopt(zmq.RCVTIMEO, 200)
        sub.setsockopt(zmq.LINGER, 0)
        sub.connect(self.sidecar)
        while not self._stop.is_set():
            try:
                parts = sub.recv_multipart()
            except zmq.Again:
                continue
            try:
                _topic, body, _seq = parse_notification(parts)
                block = Block.parse(body)
            except Exception as e:  # a stand-in node logs and carries on
                log.warning("bad sealedblock message: %s", e)
                continue
            self.seen.append(block)
            reason = self.submit(block)
            log.info("block %s: %s", block.hash[::-1].hex()[:16], reason or "connected")
        sub.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.pub.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sidecar.devnode", description=__doc__)
    p.add_argument("--listen", required=True)
    p.add_argument("--sidecar", required=True, help="the coordinator's --zmq-pub endpoint")
    p.add_argument("--coordinator-key", required=True, help="x-only public key, hex")
    p.add_argument("--status-file", help="write {height, tip, rejected} here after each block")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s devnode %(message)s")
    node = DevNode(regtest_params(a.coordinator_key), a.listen, a.sidecar)
    node.start()
    try:
        last = -1
        while True:
            time.sleep(0.2)
            if a.status_file and node.height != last:
                last = node.height
                with open(a.status_file + ".tmp", "w") as f:
                    json.dump({"height": node.height, "tip": node.tip_hash[::-1].hex(),
                               "blocks": [b.serialize().hex() for b in node.blocks], "rejected": node.rejected}, f)
                os.replace(a.status_file + ".tmp", a.status_file)
    except KeyboardInterrupt:
        node.stop()
        sys.exit(0)


if __name__ == "__main__":
    main()
