"""submitheader, preciousblock, verifychain, getdeploymentinfo and the small utility calls
(getrpcinfo, echo/echojson, getmemoryinfo, estimatesmartfee) against a real potcd."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from regtest.consensus.address import encode_segwit
from regtest.chain.coinser import serialize_undo
from regtest.consensus.block import Block
from regtest.consensus.coins import Coin
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.transaction import OutPoint
from tests.node.framework import RPCFailure, TestNode

ADDR_A = "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c"
ADDR_B = encode_segwit("bcrt", 0, b"\x42" * 20)  # another payee: another coinbase


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = TestNode(tmp_path_factory.mktemp("chainrpc")).start()
    n.rpc("generatetoaddress", 142, ADDR_A)
    yield n
    n.stop()


def _fail(node, method, *params) -> RPCFailure:
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *params)
    return e.value


def _next_block(node, address: str = ADDR_A) -> Block:
    return Block.from_hex(node.rpc("generateblock", address, [], False)["hex"])


def _tip_row(node, h: str) -> dict | None:
    return next((t for t in node.rpc("getchaintips") if t["hash"] == h), None)


# --- getdeploymentinfo (first: it needs the chain at heights 142..144) ------------------------
def _signals(version: int) -> bool:
    return (version & 0xE0000000) == 0x20000000 and bool(version >> 28 & 1)


def test_getdeploymentinfo(node):
    tip = node.rpc("getblockcount")
    assert tip == 142
    info = node.rpc("getdeploymentinfo")
    assert info["hash"] == node.rpc("getbestblockhash") and info["height"] == 142
    deps = info["deployments"]
    assert list(deps) == ["bip34", "bip66", "bip65", "csv", "segwit", "testdummy", "taproot"]
    for name, height in (("bip34", 1), ("bip66", 1), ("bip65", 1), ("csv", 1), ("segwit", 0)):
        assert deps[name] == {"type": "buried", "active": True, "height": height}
    assert deps["taproot"] == {"type": "bip9", "height": 0, "active": True, "bip9": {
        "start_time": -1, "timeout": 2**63 - 1, "min_activation_height": 0, "status": "active",
        "since": 0, "status_next": "active"}}
    # before the first 144-block period ends, testdummy is DEFINED
    td = deps["testdummy"]
    assert td == {"type": "bip9", "active": False, "bip9": {
        "start_time": 0, "timeout": 2**63 - 1, "min_activation_height": 0, "status": "defined",
        "since": 0, "status_next": "defined"}}
    genesis = node.rpc("getdeploymentinfo", node.rpc("getblockhash", 0))
    assert genesis["height"] == 0
    # heights are "active for the next block": the genesis' successor is at height 1
    assert genesis["deployments"]["bip34"]["active"] is True
    node.rpc("generatetoaddress", 1, ADDR_A)  # height 143 ends the period: STARTED comes next
    td = node.rpc("getdeploymentinfo")["deployments"]["testdummy"]["bip9"]
    assert (td["status"], td["status_next"], td["since"]) == ("defined", "started", 0)
    node.rpc("generatetoaddress", 2, ADDR_A)  # heights 144, 145: first two of a STARTED period
    td = node.rpc("getdeploymentinfo")["deployments"]["testdummy"]["bip9"]
    versions = [node.rpc("getblockheader", node.rpc("getblockhash", h))["version"] for h in (144, 145)]
    marks = "".join("#" if _signals(v) else "-" for v in versions)
    assert td == {"bit": 28, "start_time": 0, "timeout": 2**63 - 1, "min_activation_height": 0,
                  "status": "started", "since": 144, "status_next": "started",
                  "statistics": {"period": 144, "elapsed": 2, "count": marks.count("#"),
                                 "threshold": 108, "possible": 144 - 108 >= 2 - marks.count("#")},
                  "signalling": marks}
    e = _fail(node, "getdeploymentinfo", "00" * 32)
    assert (e.code, e.message) == (-5, "Block not found")


# --- submitheader ---------------------------------------------------------------------------
def test_submitheader_adds_a_headers_only_tip(node):
    tip = node.rpc("getblockcount")
    block = _next_block(node)
    h = block.hash_hex
    assert _tip_row(node, h) is None
    assert node.rpc("submitheader", block.header.serialize().hex()) is None
    assert _tip_row(node, h) == {"height": tip + 1, "hash": h, "branchlen": 1, "status": "headers-only"}
    assert node.rpc("getblockchaininfo")["headers"] == tip + 1
    assert node.rpc("getblockcount") == tip
    assert node.rpc("submitheader", block.serialize().hex()) is None  # a whole block: its header
    e = _fail(node, "getblockstats", h)
    assert (e.code, e.message) == (-1, "Block not available (not fully downloaded)")
    assert node.rpc("submitblock", block.serialize().hex()) is None
    assert node.rpc("getbestblockhash") == h


def test_submitheader_errors(node):
    header = _next_block(node).header
    raw = header.serialize()
    for bad in ("xx" * 80, "ff" * 78, "", raw.hex()[:-1], raw.hex() + "0", " " + raw.hex()[1:]):
        e = _fail(node, "submitheader", bad)
        assert (e.code, e.message) == (-22, "Block header decode failed"), bad
    orphan = header.replace(prev_hash=bytes(range(32)))
    e = _fail(node, "submitheader", orphan.serialize().hex())
    assert (e.code, e.message) == (-25, f"Must submit previous header ({hash_to_hex(bytes(range(32)))}) first")
    e = _fail(node, "submitheader", header.replace(bits=0x1D00FFFF).serialize().hex())
    assert e.code == -25 and e.message == "bad-diffbits"
    e = _fail(node, "submitheader", header.replace(time=1).serialize().hex())
    assert (e.code, e.message) == (-25, "time-too-old")
    assert _fail(node, "submitheader", 5).code == -3


# --- preciousblock --------------------------------------------------------------------------
def test_preciousblock_switches_between_equal_work_tips(node):
    a, b = _next_block(node, ADDR_A), _next_block(node, ADDR_B)
    assert a.hash != b.hash and a.header.prev_hash == b.header.prev_hash
    assert node.rpc("submitblock", a.serialize().hex()) is None
    assert node.rpc("submitblock", b.serialize().hex()) == "inconclusive"
    assert node.rpc("getbestblockhash") == a.hash_hex  # first seen wins the tie
    assert node.rpc("preciousblock", b.hash_hex) is None
    assert node.rpc("getbestblockhash") == b.hash_hex
    assert _tip_row(node, a.hash_hex)["status"] == "valid-fork"
    node.rpc("preciousblock", a.hash_hex)  # a later call overrides an earlier one
    assert node.rpc("getbestblockhash") == a.hash_hex
    node.rpc("preciousblock", node.rpc("getblockhash", 0))  # less work: nothing moves
    assert node.rpc("getbestblockhash") == a.hash_hex
    e = _fail(node, "preciousblock", "00" * 32)
    assert (e.code, e.message) == (-5, "Block not found")
    assert _fail(node, "preciousblock", "zz").code == -8


def test_getblockstats_of_a_block_never_connected(node):
    """A side block that never joined the active chain has no undo data, so no fees."""
    side = _next_block(node, ADDR_B)
    node.rpc("generatetoaddress", 1, ADDR_A)
    assert node.rpc("submitblock", side.serialize().hex()) == "inconclusive"
    e = _fail(node, "getblockstats", side.hash_hex)
    assert (e.code, e.message) == (-1, "Undo data not available")


# --- utility calls --------------------------------------------------------------------------
def test_getrpcinfo_echo_getmemoryinfo(node):
    info = node.rpc("getrpcinfo")
    assert info["active_commands"][0]["method"] == "getrpcinfo"
    assert isinstance(info["active_commands"][0]["duration"], int)
    assert Path(info["logpath"]) == (node.chain_dir / "debug.log").resolve()
    assert node.rpc("echo") == []
    assert node.rpc("echo", "a", 1, None, [True], {"k": "v"}) == ["a", 1, None, [True], {"k": "v"}]
    named = node.post({"method": "echojson", "params": {"arg2": 7}, "id": 1}).json()["result"]
    assert named == [None, None, 7]
    assert _fail(node, "echo", *range(11)).code == -1  # 10 arguments at most
    assert "echo" not in node.rpc("help")  # hidden, as in bitcoind
    stats = node.rpc("getmemoryinfo")
    assert list(stats) == ["locked"]
    assert list(stats["locked"]) == ["used", "free", "total", "locked", "chunks_used", "chunks_free"]
    assert node.rpc("getmemoryinfo", "stats") == stats
    assert node.rpc("getmemoryinfo", "mallocinfo").startswith("<malloc")
    e = _fail(node, "getmemoryinfo", "foo")
    assert (e.code, e.message) == (-8, "unknown mode foo")


def test_estimatesmartfee_without_an_estimator(node):
    answer = {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
    assert node.rpc("estimatesmartfee", 6) == answer
    for mode in ("unset", "economical", "CONSERVATIVE"):
        assert node.rpc("estimatesmartfee", 1, mode) == answer
    for target in (0, -1, 1009):
        e = _fail(node, "estimatesmartfee", target)
        assert (e.code, e.message) == (-8, "Invalid conf_target, must be between 1 and 1008")
    e = _fail(node, "estimatesmartfee", 6, "foo")
    assert (e.code, e.message) == (-8, 'Invalid estimate_mode parameter, must be one of: '
                                       '"unset", "economical", "conservative"')
    assert _fail(node, "estimatesmartfee", "6").code == -3
    assert _fail(node, "estimatesmartfee", 6, 1).code == -3


# --- verifychain (its own node: it damages the stored state) --------------------------------
def _utxo_key(txid_hex: str, n: int) -> bytes:
    return bytes.fromhex(txid_hex)[::-1] + struct.pack(">I", n)


def test_verifychain_passes_then_finds_damage(tmp_path):
    n = TestNode(tmp_path / "v").start()
    try:
        n.rpc("generatetoaddress", 8, ADDR_A)
        assert n.rpc("verifychain") is True
        for level in range(5):
            assert n.rpc("verifychain", level, 0) is True, level
        assert n.rpc("verifychain", 9, -3) is True  # clamped to 4, all blocks
        assert _fail(n, "verifychain", "3").code == -3
        tip = n.rpc("getblock", n.rpc("getbestblockhash"))
        coinbase = tip["tx"][0]
        third = n.rpc("getblockhash", 3)
        fourth = n.rpc("getblockhash", 4)
        seventh_hex = n.rpc("getblockhash", 7)
    finally:
        n.stop()
    db = sqlite3.connect(n.chain_dir / "chainstate.sqlite")
    with db:  # the tip's coinbase output leaves the UTXO set; block 3's data becomes block 4's;
        # block 7 (coinbase only) gets undo data naming a coin it never spent
        assert db.execute("DELETE FROM utxo WHERE key=?", (_utxo_key(coinbase, 0),)).rowcount == 1
        fake = serialize_undo([(OutPoint(b"\x01" * 32, 0), Coin(1000, b"\x51", 1, False))])
        seventh = bytes.fromhex(seventh_hex)[::-1]
        assert db.execute("UPDATE undo_data SET data=? WHERE hash=?", (fake, seventh)).rowcount == 1
        data = db.execute("SELECT data FROM block_data WHERE hash=?", (bytes.fromhex(fourth)[::-1],)).fetchone()[0]
        db.execute("UPDATE block_data SET data=? WHERE hash=?", (data, bytes.fromhex(third)[::-1]))
    db.close()
    n.start()
    try:
        assert n.rpc("verifychain", 2, 1) is True  # block data and undo of the tip are intact
        assert n.rpc("verifychain", 3, 1) is False  # its coinbase output is not in the UTXO set
        assert n.rpc("verifychain", 1, 2) is True
        assert n.rpc("verifychain", 2, 2) is False  # block 7's undo data names a foreign coin
        assert n.rpc("verifychain", 0, 4) is True  # heights 5..8
        assert n.rpc("verifychain", 0, 6) is False  # height 3 holds the wrong block
    finally:
        n.stop()
