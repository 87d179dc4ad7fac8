"""ZMQ in Bitcoin Core's framing: [topic, body, 4-byte little-endian sequence].

`TipFollower` subscribes to a node's hashblock/rawblock notifications; `FramedPublisher` publishes
with the same framing (the coordinator uses it for issued certificates and sealed blocks, tests use
it to play the node's part).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from typing import Awaitable, Callable

import zmq
import zmq.asyncio

from regtest.consensus.block import Block, decode_bip34_height
from regtest.consensus.serialize import DeserializationError

log = logging.getLogger("potc.sidecar.zmq")
MAX_ZMQ_MESSAGE = 8 * 1024 * 1024


@dataclass(frozen=True)
class Tip:
    hash: bytes          # internal byte order
    height: int | None   # None when only a hashblock was seen for an unknown block
    time: int | None
    block: Block | None = None


class FramedPublisher:
    """A PUB socket with one sequence counter per topic, starting at 0 (as Core does)."""

    def __init__(self, ctx: zmq.Context, endpoint: str) -> None:
        self.sock = ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.LINGER, 500)
        self.sock.bind(endpoint)
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.seq: dict[bytes, int] = {}

    def send(self, topic: bytes, body: bytes) -> int:
        n = self.seq.get(topic, 0)
        self.sock.send_multipart([topic, body, struct.pack("<I", n)])
        self.seq[topic] = (n + 1) & 0xFFFFFFFF
        return n

    def publish_tip(self, block: Block) -> None:
        """What a Core node sends on a tip change: hashblock (display order), then rawblock."""
        self.send(b"hashblock", block.hash[::-1])
        self.send(b"rawblock", block.serialize())

    def close(self) -> None:
        self.sock.close()


def parse_notification(parts: list[bytes]) -> tuple[str, bytes, int]:
    if len(parts) != 3 or len(parts[2]) != 4:
        raise ValueError("not a 3-part Core-format notification")
    return parts[0].decode("ascii", "replace"), parts[1], struct.unpack("<I", parts[2])[0]


def tip_from_rawblock(body: bytes) -> Tip:
    block = Block.parse(body)
    h = decode_bip34_height(block.txs[0].vin[0].script_sig) if block.txs else None
    return Tip(block.hash, h, block.header.time, block)


class TipFollower:
    """Calls `on_tip` for every new tip seen on a node's ZMQ endpoint (rawblock preferred)."""

    def __init__(self, ctx: zmq.asyncio.Context, endpoint: str, on_tip: Callable[[Tip], Awaitable[None]]) -> None:
        self.sock = ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_ZMQ_MESSAGE)
        self.sock.setsockopt(zmq.LINGER, 0)
        for t in (b"hashblock", b"rawblock"):
            self.sock.setsockopt(zmq.SUBSCRIBE, t)
        self.sock.connect(endpoint)
        self.on_tip = on_tip
        self.last_seq: dict[str, int] = {}

    async def run(self) -> None:
        while True:
            parts = await self.sock.recv_multipart()
            try:
                topic, body, seq = parse_notification(parts)
            except ValueError as e:
                log.warning("ignoring ZMQ message: %s", e)
                continue
            prev = self.last_seq.get(topic)
            if prev is not None and seq != (prev + 1) & 0xFFFFFFFF:
                log.warning("ZMQ %s: sequence gap %d -> %d (lost notifications)", topic, prev, seq)
            self.last_seq[topic] = seq
            try:
                if topic == "rawblock":
                    tip = tip_from_rawblock(body)
                elif topic == "hashblock" and len(body) == 32:
                    tip = Tip(body[::-1], None, None)
                else:
                    continue
            except (DeserializationError, ValueError, IndexError) as e:
                log.warning("ignoring bad %s notification: %s", topic, e)
                continue
            await self.on_tip(tip)

    def close(self) -> None:
        self.sock.close()
