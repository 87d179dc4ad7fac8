"""ZMQ notifications from a real potcd, read by a plain pyzmq subscriber: Core's topics,
3-frame layout, per-notifier little-endian counters, display-order hashes, sequence bodies."""

from __future__ import annotations

import struct
import time

import pytest
import zmq

from tests.node.framework import TestNode, free_port

ADDR = "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c"


@pytest.fixture(scope="module")
def zmq_node(tmp_path_factory):
    blocks_ep = f"tcp://127.0.0.1:{free_port()}"
    txs_ep = f"tcp://127.0.0.1:{free_port()}"
    node = TestNode(
        tmp_path_factory.mktemp("zmq"),
        extra_args=[f"-zmqpubhashblock={blocks_ep}", f"-zmqpubrawblock={blocks_ep}",
                    f"-zmqpubhashtx={txs_ep}", f"-zmqpubrawtx={txs_ep}",
                    f"-zmqpubsequence={txs_ep}", "-zmqpubrawtxhwm=500"],
    ).start()
    ctx = zmq.Context()
    sub_blocks = subscribe(ctx, blocks_ep)
    sub_txs = subscribe(ctx, txs_ep)
    yield node, sub_blocks, sub_txs, blocks_ep, txs_ep
    sub_blocks.close(0)
    sub_txs.close(0)
    ctx.term()
    node.stop()


def subscribe(ctx, endpoint: str):
    """A SUB socket connected to `endpoint`, returned once the ZMTP handshake has completed
    (then a short pause lets the publisher's I/O thread register the subscription)."""
    from zmq.utils.monitor import recv_monitor_message

    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.setsockopt(zmq.RCVTIMEO, 10_000)
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    sock.connect(endpoint)
    try:
        if monitor.poll(20_000):
            recv_monitor_message(monitor)
    finally:
        sock.disable_monitor()
        monitor.close(0)
    time.sleep(0.3)
    return sock


def recv(sock) -> tuple[str, bytes, int]:
    frames = sock.recv_multipart()
    assert len(frames) == 3 and len(frames[2]) == 4
    return frames[0].decode(), frames[1], struct.unpack("<I", frames[2])[0]


def no_more(sock) -> bool:
    return sock.poll(300) == 0


def test_getzmqnotifications(zmq_node):
    node, _, _, blocks_ep, txs_ep = zmq_node
    rows = node.rpc("getzmqnotifications")
    assert {"type": "pubhashblock", "address": blocks_ep, "hwm": 1000} in rows
    assert {"type": "pubrawtx", "address": txs_ep, "hwm": 500} in rows
    assert len(rows) == 5


def test_blocks_and_transactions_after_generate(zmq_node):
    node, sub_blocks, sub_txs, _, _ = zmq_node
    hashes = node.rpc("generatetoaddress", 2, ADDR)
    for i, h in enumerate(hashes):
        topic, body, seq = recv(sub_blocks)
        assert (topic, body.hex(), seq) == ("hashblock", h, i)
        topic, body, seq = recv(sub_blocks)
        assert (topic, seq) == ("rawblock", i) and body.hex() == node.rpc("getblock", h, 0)
    assert no_more(sub_blocks)
    # genesis was published at start-up (counter 0), so a late subscriber starts at 1
    for i, h in enumerate(hashes, start=1):
        coinbase = node.rpc("getblock", h)["tx"][0]
        assert recv(sub_txs) == ("hashtx", bytes.fromhex(coinbase), i)
        topic, body, seq = recv(sub_txs)
        assert (topic, seq) == ("rawtx", i)
        assert body.hex() == node.rpc("getblock", h, 2)["tx"][0]["hex"]
        assert recv(sub_txs) == ("sequence", bytes.fromhex(h) + b"C", i)
    assert no_more(sub_txs)


def drain(sock) -> list[tuple[str, bytes, int]]:
    out = []
    while sock.poll(300):
        out.append(recv(sock))
    return out


def test_invalidate_and_reconsider_notifications(zmq_node):
    node, sub_blocks, sub_txs, _, _ = zmq_node
    # self-contained (test order across workers is not guaranteed): a fresh block to work on
    tip = node.rpc("generatetoaddress", 1, ADDR)[0]
    assert drain(sub_blocks)[-2][1].hex() == tip
    drain(sub_txs)
    coinbase = node.rpc("getblock", tip)["tx"][0]
    node.rpc("invalidateblock", tip)
    topic, body, seq_tx = recv(sub_txs)
    assert (topic, body.hex()) == ("hashtx", coinbase)
    assert recv(sub_txs)[0] == "rawtx"
    topic, body, seq = recv(sub_txs)
    assert (topic, body) == ("sequence", bytes.fromhex(tip) + b"D")
    assert no_more(sub_blocks)  # the tip moved back: no hashblock
    node.rpc("reconsiderblock", tip)
    assert recv(sub_txs) == ("hashtx", bytes.fromhex(coinbase), seq_tx + 1)
    assert recv(sub_txs)[0] == "rawtx"
    assert recv(sub_txs) == ("sequence", bytes.fromhex(tip) + b"C", seq + 1)
    topic, body, _ = recv(sub_blocks)
    assert (topic, body.hex()) == ("hashblock", tip)
    assert recv(sub_blocks)[0] == "rawblock"


def test_mempool_events_layout():
    """The publisher's mempool hooks: hashtx, rawtx, then 'A' + 8-byte LE mempool sequence;
    'R' carries the sequence too. Driven directly (the mempool calls these)."""
    from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
    from regtest.node.zmq_notify import Notifier, ZmqPublisher

    ep = f"tcp://127.0.0.1:{free_port()}"
    pub = ZmqPublisher([Notifier("hashtx", ep, 1000), Notifier("sequence", ep, 1000)], lambda h: None)
    pub.start()
    ctx = zmq.Context()
    sub = subscribe(ctx, ep)
    try:
        tx = Transaction(2, (TxIn(OutPoint(b"\x01" * 32, 0)),), (TxOut(1000, b"\x51"),), 0)
        pub.transaction_added(tx, 25)
        pub.transaction_removed(tx, 26)
        assert recv(sub) == ("hashtx", tx.txid[::-1], 0)
        assert recv(sub) == ("sequence", tx.txid[::-1] + b"A" + struct.pack("<Q", 25), 0)
        assert recv(sub) == ("sequence", tx.txid[::-1] + b"R" + struct.pack("<Q", 26), 1)
    finally:
        sub.close(0)
        ctx.term()
        pub.stop()


def test_bad_zmq_options_refused():
    from regtest.node.zmq_notify import ZmqConfigError, parse_notifier_options

    opts = {"zmqpubhashtxhwm": ["-1"], "zmqpubhashtx": ["tcp://127.0.0.1:1"]}
    with pytest.raises(ZmqConfigError):
        parse_notifier_options(lambda k: opts.get(k, []), lambda k: (opts.get(k) or [None])[0])
    opts = {"zmqpubrawtx": ["tcp://127.0.0.1:1", "tcp://127.0.0.1:1", "unix:/tmp/x"]}
    got = parse_notifier_options(lambda k: opts.get(k, []), lambda k: (opts.get(k) or [None])[0])
    assert [(n.topic, n.address, n.hwm) for n in got] == [
        ("rawtx", "tcp://127.0.0.1:1", 1000), ("rawtx", "ipc:///tmp/x", 1000)]
