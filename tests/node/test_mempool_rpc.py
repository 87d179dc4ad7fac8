"""Mempool RPCs against a real potcd over HTTP (python-bitcoinlib's Proxy where it fits), and the
mempool's ZMQ events (hashtx/rawtx, sequence 'A'/'R' with mempool sequence numbers)."""

from __future__ import annotations

import struct
import time
from decimal import Decimal

import pytest
import zmq

from regtest.consensus.address import encode_segwit
from regtest.consensus.block import Block
from regtest.consensus.hashes import hash160
from regtest.consensus.transaction import OutPoint, TxOut
from regtest.testing.miniwallet import MiniWallet, Utxo
from tests.node.framework import RPCFailure, TestNode, free_port

ENTRY_KEYS = {
    "vsize", "weight", "time", "height", "descendantcount", "descendantsize", "ancestorcount",
    "ancestorsize", "wtxid", "chunkweight", "fees", "depends", "spentby", "bip125-replaceable", "unbroadcast",
}
INFO_KEYS = [
    "loaded", "size", "bytes", "usage", "total_fee", "maxmempool", "mempoolminfee", "minrelaytxfee",
    "incrementalrelayfee", "unbroadcastcount", "fullrbf", "permitbaremultisig", "maxdatacarriersize",
    "limitclustercount", "limitclustersize", "optimal",
]


class Funded:
    """A node, a wallet holding its coinbase outputs, and a ZMQ subscriber on hashtx + sequence."""

    def __init__(self, node: TestNode, wallet: MiniWallet, sub) -> None:
        self.node = node
        self.wallet = wallet
        self.sub = sub
        self.address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))

    def generate(self, n: int = 1) -> list[str]:
        hashes = self.node.rpc("generatetoaddress", n, self.address)
        for h in hashes:
            block = Block.parse(bytes.fromhex(self.node.rpc("getblock", h, 0)))
            self.wallet.scan_block(block, self.node.rpc("getblockheader", h)["height"])
        return hashes

    def utxo(self) -> Utxo:
        return self.wallet.take(self.node.rpc("getblockcount"))

    def send(self, tx) -> str:
        return self.node.rpc("sendrawtransaction", tx.serialize().hex())

    def drain(self, first_wait_ms: int = 2000) -> list[tuple[str, bytes, int]]:
        """Everything published so far: waits up to `first_wait_ms` for a first message, then
        stops at the first quiet 400 ms."""
        out = []
        wait = first_wait_ms
        while self.sub.poll(wait):
            wait = 400
            frames = self.sub.recv_multipart()
            out.append((frames[0].decode(), frames[1], struct.unpack("<I", frames[2])[0]))
        return out


@pytest.fixture(scope="module")
def funded(tmp_path_factory):
    ep = f"tcp://127.0.0.1:{free_port()}"
    node = TestNode(tmp_path_factory.mktemp("mempool"), extra_args=[f"-zmqpubsequence={ep}", f"-zmqpubhashtx={ep}"]).start()
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(ep)
    time.sleep(1.0)
    f = Funded(node, MiniWallet(), sub)
    f.generate(110)
    f.drain(first_wait_ms=400)
    yield f
    sub.close(0)
    ctx.term()
    node.stop()


def _fail(node, method, *params) -> RPCFailure:
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *params)
    return e.value


def test_sendrawtransaction_through_proxy_and_mempool_views(funded):
    import bitcoin.core

    proxy = funded.node.proxy()
    tx, _ = funded.wallet.self_transfer(funded.utxo(), 1000)
    txid = proxy.sendrawtransaction(bitcoin.core.CTransaction.deserialize(tx.serialize()))
    assert bitcoin.core.b2lx(txid) == tx.txid_hex
    assert tx.txid_hex in [bitcoin.core.b2lx(h) for h in proxy.getrawmempool()]
    entry = funded.node.rpc("getmempoolentry", tx.txid_hex)
    assert set(entry) == ENTRY_KEYS
    assert entry["vsize"] == 110 and entry["weight"] == tx.weight and entry["wtxid"] == tx.wtxid_hex
    assert entry["fees"] == {"base": Decimal("0.00001000"), "modified": Decimal("0.00001000"),
                             "ancestor": Decimal("0.00001000"), "descendant": Decimal("0.00001000"),
                             "chunk": Decimal("0.00001000")}
    assert entry["ancestorcount"] == entry["descendantcount"] == 1
    assert entry["depends"] == [] and entry["spentby"] == [] and entry["unbroadcast"] is True
    verbose = funded.node.rpc("getrawmempool", True)
    assert verbose[tx.txid_hex] == entry
    # sending it again answers its txid (already in the mempool)
    assert funded.send(tx) == tx.txid_hex


def test_getmempoolinfo_keys_and_values(funded):
    info = funded.node.rpc("getmempoolinfo")
    assert list(info) == INFO_KEYS
    assert info["loaded"] is True and info["fullrbf"] is True and info["optimal"] is True
    assert info["minrelaytxfee"] == Decimal("0.00000100") and info["mempoolminfee"] == Decimal("0.00000100")
    assert info["maxmempool"] == 300_000_000 and info["maxdatacarriersize"] == 100_000
    assert info["size"] == len(funded.node.rpc("getrawmempool"))


def test_getrawmempool_order(funded):
    low, lu = funded.wallet.self_transfer(funded.utxo(), 2000)
    high, _ = funded.wallet.self_transfer(funded.utxo(), 9000)
    child, _ = funded.wallet.self_transfer(lu, 50_000)
    for tx in (low, high, child):
        funded.send(tx)
    ids = funded.node.rpc("getrawmempool")
    # fewer in-mempool ancestors first, then by fee rate (the child's own rate does not lift it)
    assert ids.index(high.txid_hex) < ids.index(low.txid_hex) < ids.index(child.txid_hex)


def test_getrawmempool_sequence_and_errors(funded):
    res = funded.node.rpc("getrawmempool", False, True)
    assert set(res) == {"txids", "mempool_sequence"} and isinstance(res["mempool_sequence"], int)
    e = _fail(funded.node, "getrawmempool", True, True)
    assert (e.code, e.message) == (-8, "Verbose results cannot contain mempool sequence values.")
    e = _fail(funded.node, "getmempoolentry", "00" * 32)
    assert (e.code, e.message) == (-5, "Transaction not in mempool")


def test_testmempoolaccept_results(funded):
    u = funded.utxo()
    parent, pu = funded.wallet.self_transfer(u, 2000)
    child, _ = funded.wallet.self_transfer(pu, 2000)
    rows = funded.node.rpc("testmempoolaccept", [parent.serialize().hex()])
    assert rows == [{
        "txid": parent.txid_hex, "wtxid": parent.wtxid_hex, "allowed": True, "vsize": 110,
        "fees": {"base": Decimal("0.00002000"), "effective-feerate": Decimal("0.00018181"),
                 "effective-includes": [parent.wtxid_hex]},
    }]
    both = funded.node.rpc("testmempoolaccept", [parent.serialize().hex(), child.serialize().hex()])
    assert [r["allowed"] for r in both] == [True, True]
    assert parent.txid_hex not in funded.node.rpc("getrawmempool")  # nothing was added
    unsorted = funded.node.rpc("testmempoolaccept", [child.serialize().hex(), parent.serialize().hex()])
    assert unsorted == [{"txid": t.txid_hex, "wtxid": t.wtxid_hex, "package-error": "package-not-sorted"}
                        for t in (child, parent)]
    rival, _ = funded.wallet.self_transfer(u, 3000)
    clash = funded.node.rpc("testmempoolaccept", [parent.serialize().hex(), rival.serialize().hex()])
    assert [r["package-error"] for r in clash] == ["conflict-in-package"] * 2
    missing = funded.node.rpc("testmempoolaccept", [child.serialize().hex()])[0]
    assert missing == {"txid": child.txid_hex, "wtxid": child.wtxid_hex, "allowed": False, "reject-reason": "missing-inputs"}
    cheap, _ = funded.wallet.self_transfer(u, 10)
    row = funded.node.rpc("testmempoolaccept", [cheap.serialize().hex()])[0]
    assert row["reject-reason"] == "min relay fee not met" and row["reject-details"] == "min relay fee not met, 10 < 11"
    pricey, _ = funded.wallet.self_transfer(u, 20_000)
    row = funded.node.rpc("testmempoolaccept", [pricey.serialize().hex()], "0.001")
    assert row[0]["allowed"] is False and row[0]["reject-reason"] == "max-fee-exceeded"
    e = _fail(funded.node, "testmempoolaccept", [])
    assert (e.code, e.message) == (-8, "Array must contain between 1 and 25 transactions.")
    e = _fail(funded.node, "testmempoolaccept", ["zz"])
    assert e.code == -22 and e.message.startswith("TX decode failed")
    funded.wallet.utxos.append(u)


def test_sendrawtransaction_errors(funded):
    node = funded.node
    e = _fail(node, "sendrawtransaction", "00")
    assert (e.code, e.message) == (-22, "TX decode failed. Make sure the tx has at least one input.")
    orphan, _ = funded.wallet.self_transfer(Utxo(OutPoint(bytes(range(32)), 0), 50_000, funded.wallet.script_pubkey), 1000)
    e = _fail(node, "sendrawtransaction", orphan.serialize().hex())
    assert (e.code, e.message) == (-25, "bad-txns-inputs-missingorspent")
    u = funded.utxo()
    cheap, _ = funded.wallet.self_transfer(u, 10)
    e = _fail(node, "sendrawtransaction", cheap.serialize().hex())
    assert (e.code, e.message) == (-26, "min relay fee not met, 10 < 11")
    pricey, _ = funded.wallet.self_transfer(u, 1_200_000)  # > 0.10 BTC/kvB default
    e = _fail(node, "sendrawtransaction", pricey.serialize().hex())
    assert (e.code, e.message) == (-25, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
    assert node.rpc("sendrawtransaction", pricey.serialize().hex(), 0) == pricey.txid_hex
    e = _fail(node, "sendrawtransaction", pricey.serialize().hex(), True)
    assert e.code == -3
    burn = funded.wallet.spend([funded.utxo()], [TxOut(1000, b"\x6a\x01\x01"), TxOut(10_000, funded.wallet.script_pubkey)])
    e = _fail(node, "sendrawtransaction", burn.serialize().hex(), 0)
    assert (e.code, e.message) == (-25, "Unspendable output exceeds maximum configured by user (maxburnamount)")
    funded.generate(1)
    e = _fail(node, "sendrawtransaction", pricey.serialize().hex())
    assert (e.code, e.message) == (-27, "Transaction outputs already in utxo set")


def test_invalidateblock_returns_mined_transaction(funded):
    node = funded.node
    tx, _ = funded.wallet.self_transfer(funded.utxo(), 3000)
    funded.send(tx)
    [h] = funded.generate(1)
    assert tx.txid_hex not in node.rpc("getrawmempool")
    assert tx.txid_hex in node.rpc("getblock", h)["tx"]
    node.rpc("invalidateblock", h)
    assert tx.txid_hex in node.rpc("getrawmempool")
    node.rpc("reconsiderblock", h)
    assert tx.txid_hex not in node.rpc("getrawmempool")
    assert node.rpc("getbestblockhash") == h


def test_zmq_mempool_sequence_events(funded):
    node = funded.node
    funded.drain(first_wait_ms=400)
    u = funded.utxo()
    old, _ = funded.wallet.self_transfer(u, 1000)
    funded.send(old)
    seq_after = node.rpc("getrawmempool", False, True)["mempool_sequence"]
    events = funded.drain()
    assert [t for t, _, _ in events] == ["hashtx", "sequence"]
    assert events[0][1] == bytes.fromhex(old.txid_hex)
    body = events[1][1]
    assert body[:32] == bytes.fromhex(old.txid_hex) and body[32:33] == b"A"
    assert struct.unpack("<Q", body[33:])[0] == seq_after - 1
    new, _ = funded.wallet.self_transfer(u, 5000)  # replaces `old`
    funded.send(new)
    events = [e for e in funded.drain() if e[0] == "sequence"]
    assert [(e[1][:32], e[1][32:33]) for e in events] == [(bytes.fromhex(old.txid_hex), b"R"), (bytes.fromhex(new.txid_hex), b"A")]
    r_seq, a_seq = (struct.unpack("<Q", e[1][33:])[0] for e in events)
    assert a_seq == r_seq + 1 == seq_after + 1
    funded.generate(1)  # `new` is mined: a block consumes a sequence number but sends no 'R'
    labels = [e[1][32:33] for e in funded.drain() if e[0] == "sequence"]
    assert labels == [b"C"]
    assert node.rpc("getrawmempool", False, True)["mempool_sequence"] == a_seq + 2


def test_mempool_options(tmp_path):
    (tmp_path / "n").mkdir()
    node = TestNode(tmp_path / "n", extra_args=["-minrelaytxfee=0.00001", "-mempoolfullrbf=0", "-datacarriersize=40"],
                    conf="maxmempool=50\npermitbaremultisig=0\n").start()
    try:
        info = node.rpc("getmempoolinfo")
        assert info["minrelaytxfee"] == Decimal("0.00001000") and info["mempoolminfee"] == Decimal("0.00001000")
        assert info["maxmempool"] == 50_000_000 and info["fullrbf"] is False
        assert info["permitbaremultisig"] is False and info["maxdatacarriersize"] == 40
        wallet = MiniWallet()
        address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
        for h in node.rpc("generatetoaddress", 101, address):
            wallet.scan_block(Block.parse(bytes.fromhex(node.rpc("getblock", h, 0))), node.rpc("getblockheader", h)["height"])
        tx, _ = wallet.self_transfer(wallet.take(101), 100)
        e = _fail(node, "sendrawtransaction", tx.serialize().hex())
        assert (e.code, e.message) == (-26, "min relay fee not met, 100 < 110")
    finally:
        node.stop()
    bad = TestNode(tmp_path / "n", extra_args=["-minrelaytxfee=abc"])
    with pytest.raises(RuntimeError, match="Invalid amount for -minrelaytxfee"):
        bad.start()


def test_mempool_survives_restart(tmp_path):
    node = TestNode(tmp_path / "p").start()
    try:
        wallet = MiniWallet()
        address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
        for h in node.rpc("generatetoaddress", 102, address):
            wallet.scan_block(Block.parse(bytes.fromhex(node.rpc("getblock", h, 0))), node.rpc("getblockheader", h)["height"])
        a, ua = wallet.self_transfer(wallet.take(102), 1000)
        b, _ = wallet.self_transfer(ua, 2000)
        for tx in (a, b):
            node.rpc("sendrawtransaction", tx.serialize().hex())
        before = node.rpc("getrawmempool", True)
        saved = node.rpc("savemempool")
        assert saved == {"filename": str(node.chain_dir / "mempool.dat")}
        from regtest.node.mempool.persist import read_dump

        assert [t.txid for t, _ in read_dump((node.chain_dir / "mempool.dat").read_bytes())[0]] == [a.txid, b.txid]
    finally:
        assert node.stop() == 0
    assert (node.chain_dir / "mempool.dat").exists()
    node.start()
    try:
        after = node.rpc("getrawmempool", True)
        assert set(after) == {a.txid_hex, b.txid_hex}
        assert after[b.txid_hex]["depends"] == [a.txid_hex]
        assert {t: e["time"] for t, e in after.items()} == {t: e["time"] for t, e in before.items()}
        assert after[a.txid_hex]["unbroadcast"] is True
    finally:
        node.stop()
    node.extra_args = ["-persistmempool=0"]
    node.start()
    try:
        assert node.rpc("getrawmempool") == []
    finally:
        node.stop()


def test_zmq_order_on_invalidate_and_reconsider(funded):
    """Core's order (doc section 0, item 18): the block's transactions and 'D', then the
    returning transaction with 'A'; on reconsider its transactions and 'C', no 'R'."""
    node = funded.node
    tx, _ = funded.wallet.self_transfer(funded.utxo(), 3000)
    funded.send(tx)
    [h] = funded.generate(1)
    funded.drain()
    coinbase = node.rpc("getblock", h)["tx"][0]
    seq_before = node.rpc("getrawmempool", False, True)["mempool_sequence"]
    node.rpc("invalidateblock", h)
    got = [(t, b[:32].hex(), b[32:33]) for t, b, _ in funded.drain()]
    assert got == [
        ("hashtx", coinbase, b""), ("hashtx", tx.txid_hex, b""), ("sequence", h, b"D"),
        ("hashtx", tx.txid_hex, b""), ("sequence", tx.txid_hex, b"A"),
    ]
    node.rpc("reconsiderblock", h)
    got = [(t, b[:32].hex(), b[32:33]) for t, b, _ in funded.drain()]
    assert got == [("hashtx", coinbase, b""), ("hashtx", tx.txid_hex, b""), ("sequence", h, b"C")]
    assert node.rpc("getrawmempool", False, True)["mempool_sequence"] == seq_before + 2


def test_maxmempool_lower_bound(tmp_path):
    (tmp_path / "m").mkdir()
    node = TestNode(tmp_path / "m", extra_args=["-maxmempool=4"])
    with pytest.raises(RuntimeError, match="-maxmempool must be at least 5 MB"):
        node.start()


def test_getmempoolancestors_and_descendants(funded):
    node = funded.node
    a, ua = funded.wallet.self_transfer(funded.utxo(), 1000)
    b, ub = funded.wallet.self_transfer(ua, 1000)
    c, _ = funded.wallet.self_transfer(ub, 1000)
    for tx in (a, b, c):
        funded.send(tx)
    assert node.rpc("getmempoolancestors", c.txid_hex) == [a.txid_hex, b.txid_hex]
    assert node.rpc("getmempooldescendants", a.txid_hex) == [b.txid_hex, c.txid_hex]
    verbose = node.rpc("getmempoolancestors", b.txid_hex, True)
    assert list(verbose) == [a.txid_hex] and set(verbose[a.txid_hex]) == ENTRY_KEYS
    assert verbose[a.txid_hex]["descendantcount"] == 3
    e = _fail(node, "getmempooldescendants", "11" * 32)
    assert (e.code, e.message) == (-5, "Transaction not in mempool")
