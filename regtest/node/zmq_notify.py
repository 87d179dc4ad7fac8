"""ZMQ notifications exactly as bitcoind publishes them.

Topics hashblock, hashtx, rawblock, rawtx, sequence; every message has three frames: the topic,
the body, and a 4-byte little-endian counter kept per notifier (topic + address). Hashes go out
in display order (reversed internal bytes). Notifiers that share an address share one PUB socket.
Options: `zmqpub<topic>=<address>` (repeatable) and `zmqpub<topic>hwm=<n>` (default 1000).

Chain events arrive through the chainstate's listener interface; the mempool calls
`transaction_added` / `transaction_removed` itself.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import zmq

from regtest.chain.events import ChainListener

if TYPE_CHECKING:
    from regtest.chain.blockindex import BlockIndexEntry
    from regtest.consensus.block import Block
    from regtest.consensus.transaction import Transaction

log = logging.getLogger("potc.zmq")

TOPICS = ("hashblock", "hashtx", "rawblock", "rawtx", "sequence")
DEFAULT_HWM = 1000
MAX_ADDRESS_LEN = 512


class ZmqConfigError(ValueError):
    pass


@dataclass
class Notifier:
    """One `zmqpub<topic>=<address>` line: its socket and its own message counter."""

    topic: str
    address: str
    hwm: int
    socket: "zmq.Socket | None" = None
    sequence: int = 0

    def send(self, body: bytes) -> None:
        if self.socket is None:
            return
        frames = [self.topic.encode(), body, struct.pack("<I", self.sequence)]
        try:
            self.socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:  # high-water mark reached: ZMQ drops it, the counter still advances
            pass
        except zmq.ZMQError as e:
            log.warning("zmq: failed to send %s on %s: %s", self.topic, self.address, e)
        self.sequence = (self.sequence + 1) & 0xFFFFFFFF


def parse_notifier_options(get_all: Callable[[str], list[str]], get: Callable[[str], str | None]) -> list[Notifier]:
    """Notifiers from option lookups (Settings.get_all / Settings.get)."""
    out = []
    for topic in TOPICS:
        hwm_text = get(f"zmqpub{topic}hwm")
        try:
            hwm = DEFAULT_HWM if hwm_text is None else int(hwm_text)
        except ValueError:
            raise ZmqConfigError(f"Invalid value for -zmqpub{topic}hwm: '{hwm_text}'") from None
        if hwm < 0:
            raise ZmqConfigError(f"Invalid -zmqpub{topic}hwm value: {hwm} (must be >= 0)")
        seen = set()
        for address in get_all(f"zmqpub{topic}"):
            if address.startswith("unix:"):
                address = "ipc://" + address[5:]
            if not address or len(address) > MAX_ADDRESS_LEN or address in seen:
                continue
            seen.add(address)
            out.append(Notifier(topic, address, hwm))
    return out


class ZmqPublisher(ChainListener):
    """Binds the PUB sockets and turns chain and mempool events into Core-framed messages."""

    def __init__(
        self,
        notifiers: list[Notifier],
        raw_block: Callable[[bytes], bytes | None],
        in_ibd: Callable[[], bool] = lambda: False,
    ) -> None:
        self.notifiers = notifiers
        self._raw_block = raw_block
        self._in_ibd = in_ibd
        self._ctx: zmq.Context | None = None
        self._sockets: dict[str, zmq.Socket] = {}
        self._connected_since_tip = False
        self._by_topic: dict[str, list[Notifier]] = {t: [] for t in TOPICS}
        for n in notifiers:
            self._by_topic[n.topic].append(n)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self.notifiers:
            return
        self._ctx = zmq.Context()
        for n in self.notifiers:
            sock = self._sockets.get(n.address)
            if sock is None:
                sock = self._ctx.socket(zmq.PUB)
                sock.setsockopt(zmq.SNDHWM, n.hwm)
                sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
                sock.setsockopt(zmq.IPV6, 1)
                sock.setsockopt(zmq.LINGER, 0)
                try:
                    sock.bind(n.address)
                except zmq.ZMQError as e:
                    sock.close()
                    self.stop()
                    raise ZmqConfigError(f"Unable to bind ZMQ socket {n.address}: {e}") from e
                self._sockets[n.address] = sock
                log.info("zmq: Outbound message high water mark for %s at %s is %d", n.topic, n.address, n.hwm)
            n.socket = sock

    def stop(self) -> None:
        for n in self.notifiers:
            n.socket = None
        for sock in self._sockets.values():
            sock.close(linger=0)
        self._sockets.clear()
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    def active_notifications(self) -> list[dict]:
        """getzmqnotifications rows."""
        return [{"type": f"pub{n.topic}", "address": n.address, "hwm": n.hwm} for n in self.notifiers]

    # --- publishing ---------------------------------------------------------------------------
    def _publish(self, topic: str, body: bytes) -> None:
        for n in self._by_topic[topic]:
            n.send(body)

    def _transaction(self, tx: "Transaction") -> None:
        if self._by_topic["hashtx"]:
            self._publish("hashtx", tx.txid[::-1])
        if self._by_topic["rawtx"]:
            self._publish("rawtx", tx.serialize())

    def _sequence(self, hash_internal: bytes, label: bytes, mempool_seq: int | None = None) -> None:
        if not self._by_topic["sequence"]:
            return
        body = hash_internal[::-1] + label
        if mempool_seq is not None:
            body += struct.pack("<Q", mempool_seq)
        self._publish("sequence", body)

    # chain events (ChainListener)
    def block_connected(self, block: "Block", entry: "BlockIndexEntry") -> None:
        for tx in block.txs:
            self._transaction(tx)
        self._sequence(entry.hash, b"C")
        self._connected_since_tip = True

    def block_disconnected(self, block: "Block", entry: "BlockIndexEntry") -> None:
        for tx in block.txs:
            self._transaction(tx)
        self._sequence(entry.hash, b"D")

    def tip_changed(self, entry: "BlockIndexEntry") -> None:
        connected, self._connected_since_tip = self._connected_since_tip, False
        if not connected or self._in_ibd():
            return
        if self._by_topic["hashblock"]:
            self._publish("hashblock", entry.hash[::-1])
        if self._by_topic["rawblock"]:
            raw = self._raw_block(entry.hash)
            if raw is not None:
                self._publish("rawblock", raw)

    # mempool events (called by the mempool)
    def transaction_added(self, tx: "Transaction", mempool_sequence: int) -> None:
        self._transaction(tx)
        self._sequence(tx.txid, b"A", mempool_sequence)

    def transaction_removed(self, tx: "Transaction", mempool_sequence: int) -> None:
        """Removal for a non-block reason (expiry, size limit, reorg, conflict, replacement)."""
        self._sequence(tx.txid, b"R", mempool_sequence)
