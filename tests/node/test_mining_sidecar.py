"""The sidecar's RPC template source against a real potcd: fetch, proposal check, seal with the
certificate (sidecar.template.seal_block), submit; the mempool's transaction is mined."""

from __future__ import annotations

import asyncio

import pytest
from coincurve import PrivateKey

from regtest.consensus.address import encode_segwit
from regtest.consensus.block import Block
from regtest.consensus.hashes import hash160, sha256
from regtest.consensus.params import regtest_params
from regtest.testing.miniwallet import MiniWallet
from sidecar.rpc_template import NodeRpc, NodeRpcError, RpcTemplateSource, TemplateUnavailable
from sidecar.template import seal_block
from tests.node.framework import COORDINATOR_KEY, TestNode

PRIV = bytes.fromhex(COORDINATOR_KEY)
PARAMS = regtest_params(PrivateKey(PRIV).public_key.format(compressed=True)[1:])


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = TestNode(tmp_path_factory.mktemp("sidecar-rpc")).start()
    yield n
    n.stop()


def test_rpc_template_source_mines_mempool_transaction(node):
    wallet = MiniWallet()
    address = encode_segwit("bcrt", 0, hash160(wallet.pubkey))
    for h in node.rpc("generatetoaddress", 101, address):
        wallet.scan_block(Block.parse(bytes.fromhex(node.rpc("getblock", h, 0))), node.rpc("getblockheader", h)["height"])
    tx, _ = wallet.self_transfer(wallet.take(node.rpc("getblockcount")), 2500)
    node.rpc("sendrawtransaction", tx.serialize().hex())
    source = RpcTemplateSource(NodeRpc(f"http://127.0.0.1:{node.rpc_port}", cookie_path=node.cookie_path), PARAMS)
    tip = node.rpc("getblockheader", node.rpc("getbestblockhash"))
    parent = bytes.fromhex(tip["hash"])[::-1]
    winner = bytes([0, 20]) + bytes(range(20))

    async def cycle():
        tpl = await source.template(parent, tip["height"] + 1, tip["time"])
        assert [t.txid for t in tpl.txs] == [tx.txid] and tpl.fees == 2500
        block, cert = seal_block(PARAMS, tpl, winner, 1, sha256(b"m"), bytes(32), sha256(b"s"), 3600, PRIV)
        return block, await source.submit_block(block)

    block, verdict = asyncio.run(cycle())
    assert verdict is None
    assert node.rpc("getbestblockhash") == block.hash_hex
    assert tx.txid_hex in node.rpc("getblock", block.hash_hex)["tx"]
    cert = node.rpc("getcertificate", block.hash_hex)
    assert cert["payout_script"] == winner.hex()

    with pytest.raises(TemplateUnavailable):  # the cycle's parent is no longer the tip
        asyncio.run(source.template(parent, tip["height"] + 1, tip["time"]))
    bad = RpcTemplateSource(NodeRpc(f"http://127.0.0.1:{node.rpc_port}", user="x", password="y"), PARAMS)
    with pytest.raises(NodeRpcError):
        asyncio.run(bad.template(parent, tip["height"] + 1, tip["time"]))
