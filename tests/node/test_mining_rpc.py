"""getblocktemplate and getmininginfo against a real potcd, and the sidecar's mining path over
RPC: template -> proposal check -> certificate -> submitblock."""

from __future__ import annotations

import threading
import time

import pytest
from coincurve import PrivateKey

from regtest.consensus.address import encode_segwit
from regtest.consensus.block import Block
from regtest.consensus.blockbuild import certify
from regtest.consensus.certificate import Certificate
from regtest.consensus.gbt import block_from_template, parse_template
from regtest.consensus.hashes import hash160, sha256
from regtest.consensus.params import regtest_params
from regtest.testing.miniwallet import MiniWallet
from tests.node.framework import COORDINATOR_KEY, RPCFailure, TestNode

GBT_KEYS = [
    "capabilities", "version", "rules", "vbavailable", "vbrequired", "previousblockhash", "transactions",
    "coinbaseaux", "coinbasevalue", "longpollid", "target", "mintime", "mutable", "noncerange", "sigoplimit",
    "sizelimit", "weightlimit", "curtime", "bits", "height", "default_witness_commitment",
]
SEGWIT = {"rules": ["segwit"]}
PRIV = bytes.fromhex(COORDINATOR_KEY)
PARAMS = regtest_params(PrivateKey(PRIV).public_key.format(compressed=True)[1:])


@pytest.fixture(scope="module")
def miner(tmp_path_factory):
    node = TestNode(tmp_path_factory.mktemp("mining")).start()
    wallet = MiniWallet()
    address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
    for h in node.rpc("generatetoaddress", 110, address):
        block = Block.parse(bytes.fromhex(node.rpc("getblock", h, 0)))
        wallet.scan_block(block, node.rpc("getblockheader", h)["height"])
    yield node, wallet
    node.stop()


def _seal(block: Block, height: int, payout: bytes) -> Block:
    cert = Certificate(
        network=PARAMS.magic, parent_hash=block.header.prev_hash, height=height, payout_script=payout,
        cycle_id=height, model_hash=sha256(b"model"), contributions_root=bytes(32), lottery_seed=sha256(b"seed"),
        issue_time=block.header.time - 600, expiry=block.header.time + 600, block_commitment=bytes(32),
    )
    return certify(block, cert, PRIV)


def test_getblocktemplate_fields(miner):
    node, _ = miner
    tpl = node.rpc("getblocktemplate", SEGWIT)
    assert list(tpl) == GBT_KEYS
    assert tpl["height"] == node.rpc("getblockcount") + 1
    assert tpl["previousblockhash"] == node.rpc("getbestblockhash")
    # height 111 is in the first BIP9 period, where testdummy is still "defined" (as on Core's regtest)
    assert tpl["rules"] == ["csv", "!segwit", "taproot"] and tpl["version"] == 0x20000000
    assert tpl["vbavailable"] == {} and tpl["capabilities"] == ["proposal"]
    assert tpl["sigoplimit"] == 80000 and tpl["weightlimit"] == 4000000 and tpl["sizelimit"] == 4000000
    assert tpl["longpollid"] == tpl["previousblockhash"] + tpl["longpollid"][64:]
    assert tpl["longpollid"][64:].isdigit()


def test_block_versions_follow_the_testdummy_deployment(tmp_path):
    """As a Core regtest miner: no signal in the first period, bit 28 while testdummy is started
    or locked in (templates and generated blocks alike), then plain versions with the rule active."""
    node = TestNode(tmp_path).start()
    try:
        address = encode_segwit("bcrt", 0, hash160(MiniWallet().pubkey))

        def mine_to(height: int) -> None:
            node.rpc("generatetoaddress", height - node.rpc("getblockcount"), address)

        def version_at(height: int) -> int:
            return node.rpc("getblockheader", node.rpc("getblockhash", height))["version"]

        mine_to(143)
        assert version_at(143) == 0x20000000
        tpl = node.rpc("getblocktemplate", SEGWIT)
        assert tpl["version"] == 0x30000000 and tpl["vbavailable"] == {"testdummy": 28}
        mine_to(431)
        assert version_at(144) == version_at(431) == 0x30000000
        testdummy = node.rpc("getdeploymentinfo")["deployments"]["testdummy"]
        assert testdummy["bip9"]["status"] == "locked_in" and testdummy["bip9"]["status_next"] == "active"
        tpl = node.rpc("getblocktemplate", SEGWIT)
        assert tpl["version"] == 0x20000000 and tpl["vbavailable"] == {}
        assert tpl["rules"] == ["csv", "!segwit", "testdummy", "taproot"]
        mine_to(432)
        assert version_at(432) == 0x20000000
        assert node.rpc("getdeploymentinfo")["deployments"]["testdummy"]["active"] is True
    finally:
        node.stop()


def test_getblocktemplate_errors(miner):
    node, _ = miner
    with pytest.raises(RPCFailure) as e:
        node.rpc("getblocktemplate")
    assert (e.value.code, e.value.message) == (
        -8, 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})')
    with pytest.raises(RPCFailure) as e:
        node.rpc("getblocktemplate", {"mode": "bogus"})
    assert (e.value.code, e.value.message) == (-8, "Invalid mode")
    with pytest.raises(RPCFailure) as e:
        node.rpc("getblocktemplate", {"mode": "proposal", "data": "00"})
    assert (e.value.code, e.value.message) == (-22, "Block decode failed")
    with pytest.raises(RPCFailure) as e:
        node.rpc("getblocktemplate", {"mode": "proposal"})
    assert e.value.code == -3


def test_cpfp_over_rpc(miner):
    node, wallet = miner
    height = node.rpc("getblockcount")
    parent, pu = wallet.self_transfer(wallet.take(height), 110)
    child, _ = wallet.self_transfer(pu, 30_000)
    for tx in (parent, child):
        node.rpc("sendrawtransaction", tx.serialize().hex())
    tpl = node.rpc("getblocktemplate", SEGWIT)
    ids = [t["txid"] for t in tpl["transactions"]]
    assert ids[:2] == [parent.txid_hex, child.txid_hex]
    assert tpl["transactions"][1]["depends"] == [1]
    assert tpl["coinbasevalue"] == (50 * 10**8 >> (tpl["height"] // 150)) + sum(t["fee"] for t in tpl["transactions"])
    assert tpl["transactions"][0]["fee"] + tpl["transactions"][1]["fee"] == 30_110


def test_sidecar_mining_path(miner):
    """What the sidecar does each cycle: fetch, check by proposal, seal, submit."""
    node, wallet = miner
    tx, _ = wallet.self_transfer(wallet.take(node.rpc("getblockcount")), 4000)
    node.rpc("sendrawtransaction", tx.serialize().hex())
    tpl = parse_template(node.rpc("getblocktemplate", SEGWIT), PARAMS)
    block = block_from_template(tpl, PARAMS, wallet.script_pubkey)
    assert node.rpc("getblocktemplate", {"mode": "proposal", "data": block.serialize().hex()}) is None
    sealed = _seal(block, tpl.height, wallet.script_pubkey)
    assert node.rpc("submitblock", sealed.serialize().hex()) is None
    assert node.rpc("getbestblockhash") == sealed.hash_hex
    assert tx.txid_hex in node.rpc("getblock", sealed.hash_hex)["tx"]
    assert tx.txid_hex not in node.rpc("getrawmempool")
    assert node.rpc("getblocktemplate", {"mode": "proposal", "data": sealed.serialize().hex()}) == "duplicate"
    stale = block_from_template(tpl, PARAMS, wallet.script_pubkey, time=tpl.curtime + 1)
    verdict = node.rpc("getblocktemplate", {"mode": "proposal", "data": stale.serialize().hex()})
    assert verdict == "inconclusive-not-best-prevblk"
    bad = block_from_template(parse_template(node.rpc("getblocktemplate", SEGWIT)), PARAMS, wallet.script_pubkey)
    bad = bad.with_header(merkle_root=bytes(32))
    assert node.rpc("getblocktemplate", {"mode": "proposal", "data": bad.serialize().hex()}) == "bad-txnmrklroot"


def test_getmininginfo(miner):
    node, _ = miner
    tpl = node.rpc("getblocktemplate", SEGWIT)
    info = node.rpc("getmininginfo")
    assert info["currentblocktx"] == len(tpl["transactions"])
    assert info["currentblockweight"] == 8000 + sum(t["weight"] for t in tpl["transactions"])
    assert list(info) == ["blocks", "currentblockweight", "currentblocktx", "bits", "difficulty", "target",
                          "networkhashps", "pooledtx", "blockmintxfee", "chain", "next", "warnings"]
    assert info["blocks"] == node.rpc("getblockcount") and info["chain"] == "regtest"
    assert info["bits"] == "207fffff" and info["warnings"] == []
    raw = node.post({"method": "getmininginfo", "params": [], "id": 1}).body
    assert b'"blockmintxfee":0.00000001' in raw
    assert info["next"]["height"] == info["blocks"] + 1 and info["next"]["bits"] == "207fffff"
    assert info["pooledtx"] == len(node.rpc("getrawmempool"))
    assert info["networkhashps"] > 0


def test_longpoll_returns_when_tip_changes(miner):
    node, wallet = miner
    tpl = node.rpc("getblocktemplate", SEGWIT)
    out: dict = {}

    def poll():
        out["tpl"] = node.rpc("getblocktemplate", {"rules": ["segwit"], "longpollid": tpl["longpollid"]})

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    assert t.is_alive()  # still waiting: the tip has not moved
    address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
    [h] = node.rpc("generatetoaddress", 1, address)
    t.join(20)
    assert not t.is_alive()
    assert out["tpl"]["previousblockhash"] == h


def test_longpoll_ends_on_stop(tmp_path):
    node = TestNode(tmp_path / "lp").start()
    tpl = node.rpc("getblocktemplate", SEGWIT)
    out: dict = {}

    def poll():
        try:
            node.rpc("getblocktemplate", {"rules": ["segwit"], "longpollid": tpl["longpollid"]})
        except RPCFailure as e:
            out["error"] = (e.code, e.message)

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    start = time.monotonic()
    assert node.stop() == 0
    t.join(10)
    assert out["error"] == (-9, "Shutting down")
    assert time.monotonic() - start < 30  # the waiting call does not hold the shutdown (60 s in aiohttp)
