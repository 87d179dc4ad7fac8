"""Core-format ZMQ on real loopback sockets: the tip follower reads hashblock/rawblock as a Core
node sends them and ignores malformed messages."""

from __future__ import annotations

import asyncio
import struct
import time

import zmq
import zmq.asyncio

from regtest.consensus.blockbuild import make_block
from regtest.consensus.params import REGTEST
from sidecar.zmqio import FramedPublisher, Tip, TipFollower, parse_notification

from .helpers import free_port


def test_tip_follower_reads_core_format():
    async def run() -> list[Tip]:
        ctx = zmq.asyncio.Context()
        ep = f"tcp://127.0.0.1:{free_port()}"
        pub = FramedPublisher(ctx, ep)
        got: list[Tip] = []
        done = asyncio.Event()

        async def on_tip(t: Tip) -> None:
            got.append(t)
            if len(got) == 2:
                done.set()

        follower = TipFollower(ctx, ep, on_tip)
        task = asyncio.ensure_future(follower.run())
        await asyncio.sleep(0.3)                                  # let the subscription settle
        g = REGTEST.genesis
        b1 = make_block(REGTEST, g.hash, 1, g.header.time + 1, b"\x51")
        pub.sock.send_multipart([b"rawblock", b"\x00garbage", struct.pack("<I", 0)])   # not a block
        pub.sock.send_multipart([b"rawblock", b1.serialize()])                       # not 3 parts
        pub.seq[b"rawblock"] = 1
        pub.publish_tip(b1)
        await asyncio.wait_for(done.wait(), 10)
        task.cancel()
        follower.close()
        pub.close()
        ctx.term()
        return got

    got = asyncio.run(run())
    hashblock, rawblock = got
    assert hashblock.height is None and hashblock.hash == rawblock.hash   # display order reversed back
    assert rawblock.height == 1 and rawblock.time == rawblock.block.header.time


def test_publisher_framing():
    ctx = zmq.Context()
    ep = f"tcp://127.0.0.1:{free_port()}"
    pub = FramedPublisher(ctx, ep)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RCVTIMEO, 5000)
    sub.connect(ep)
    time.sleep(0.3)
    b = make_block(REGTEST, REGTEST.genesis.hash, 1, REGTEST.genesis.header.time + 1, b"\x51")
    pub.publish_tip(b)
    pub.publish_tip(b)
    msgs = [parse_notification(sub.recv_multipart()) for _ in range(4)]
    assert [(t, n) for t, _, n in msgs] == [("hashblock", 0), ("rawblock", 0), ("hashblock", 1), ("rawblock", 1)]
    assert msgs[0][1] == b.hash[::-1] and msgs[1][1] == b.serialize()
    sub.close()
    pub.close()
    ctx.term()
