"""Each RPC method against a real potcd: Core's result keys and types, and its error paths.

The chain: 101 blocks paying an anyone-can-spend P2WSH(OP_TRUE) output, then one block (via
generateblock) holding a transaction T that spends the first coinbase.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from regtest.consensus.address import REGTEST_PREFIXES, encode_segwit, witness_script
from regtest.consensus.block import Block
from regtest.consensus.hashes import hex_to_hash, sha256
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from tests.node.framework import RPCFailure, TestNode

TRUE_SCRIPT = b"\x51"
ADDR = encode_segwit(REGTEST_PREFIXES.hrp, 0, sha256(TRUE_SCRIPT))
GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
OTHER_ADDR_P2PKH = "mh5CE8Nbj38iND267s4XnvhSmhDW7yWc6Q"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = TestNode(tmp_path_factory.mktemp("methods"), extra_args=["-txindex=1"]).start()
    hashes = node.rpc("generatetoaddress", 101, ADDR)
    cb_txid = node.rpc("getblock", hashes[0])["tx"][0]
    spend = Transaction(
        2,
        (TxIn(OutPoint(hex_to_hash(cb_txid), 0), b"", 0xFFFFFFFD, (TRUE_SCRIPT,)),),
        (TxOut(49_99900000, witness_script(0, sha256(TRUE_SCRIPT))), TxOut(0, b"\x6a\x02hi")),
        0,
    )
    block_hash = node.rpc("generateblock", ADDR, [spend.serialize().hex()])["hash"]
    yield node, hashes, spend, block_hash
    node.stop()


def fails(node, method, *params):
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *params)
    return e.value


def test_getblockchaininfo(chain):
    node, hashes, _, tip = chain
    info = node.rpc("getblockchaininfo")
    assert set(info) >= {"chain", "blocks", "headers", "bestblockhash", "difficulty", "time",
                         "mediantime", "verificationprogress", "initialblockdownload", "chainwork",
                         "size_on_disk", "pruned", "warnings", "bits", "target"}
    assert info["chain"] == "regtest" and info["blocks"] == 102 and info["headers"] == 102
    assert info["bestblockhash"] == tip and info["initialblockdownload"] is False
    assert info["chainwork"] == "%064x" % (2 * 103) and info["warnings"] == []
    assert info["bits"] == "207fffff" and info["pruned"] is False
    raw = node.post({"method": "getblockchaininfo", "id": 1}).body
    assert b'"verificationprogress":1,' in raw and b'"difficulty":4.656542373906925e-10' in raw


def test_counts_hashes_difficulty(chain):
    node, hashes, _, tip = chain
    assert node.rpc("getblockcount") == 102
    assert node.rpc("getbestblockhash") == tip
    assert node.rpc("getblockhash", 0) == GENESIS and node.rpc("getblockhash", 1) == hashes[0]
    for bad in (103, -1):
        e = fails(node, "getblockhash", bad)
        assert (e.code, e.message) == (-8, "Block height out of range")
    assert node.post({"method": "getdifficulty", "id": 1}).body == \
        b'{"result":4.656542373906925e-10,"error":null,"id":1}\n'


def test_getblock_verbosities(chain):
    node, hashes, spend, tip = chain
    raw = node.rpc("getblock", tip, 0)
    block = Block.from_hex(raw)
    assert block.hash_hex == tip and node.rpc("getblock", tip, False) == raw
    v1 = node.rpc("getblock", tip)
    assert v1 == node.rpc("getblock", tip, True) == node.rpc("getblock", tip, 1)
    for key in ("hash", "confirmations", "size", "strippedsize", "weight", "height", "version",
                "versionHex", "merkleroot", "tx", "time", "mediantime", "nonce", "bits",
                "difficulty", "chainwork", "nTx", "previousblockhash", "target", "coinbase_tx"):
        assert key in v1, key
    assert "nextblockhash" not in v1 and v1["confirmations"] == 1 and v1["height"] == 102
    assert v1["tx"] == [block.txs[0].txid_hex, spend.txid_hex] and v1["nTx"] == 2
    assert v1["size"] == len(raw) // 2 and v1["versionHex"] == "%08x" % v1["version"]
    assert set(v1["coinbase_tx"]) == {"version", "locktime", "sequence", "coinbase", "witness"}
    first = node.rpc("getblock", hashes[0])
    assert first["nextblockhash"] == hashes[1] and first["confirmations"] == 102
    v2 = node.rpc("getblock", tip, 2)
    tx = v2["tx"][1]
    assert tx["txid"] == spend.txid_hex and tx["hex"] == spend.serialize().hex()
    assert tx["fee"] == Decimal("0.00100000") and "fee" not in v2["tx"][0]
    assert tx["vin"][0]["txinwitness"] == ["51"]
    assert tx["vout"][1]["scriptPubKey"]["type"] == "nulldata"
    assert "prevout" not in tx["vin"][0]
    v3 = node.rpc("getblock", tip, 3)["tx"][1]
    assert v3["vin"][0]["prevout"] == {
        "generated": True, "height": 1, "value": Decimal("50.00000000"),
        "scriptPubKey": node.rpc("getrawtransaction", v3["vin"][0]["txid"], 1)["vout"][0]["scriptPubKey"],
    }
    body = node.post({"method": "getblock", "params": [tip, 2], "id": 1}).body
    assert b'"fee":0.00100000' in body and b'"value":49.99900000' in body


def test_getblock_errors(chain):
    node = chain[0]
    e = fails(node, "getblock", "00" * 32)
    assert (e.code, e.message) == (-5, "Block not found")
    e = fails(node, "getblock", "abc")
    assert (e.code, e.message) == (-8, "blockhash must be of length 64 (not 3, for 'abc')")
    e = fails(node, "getblock", "zz" * 32)
    assert e.code == -8 and e.message == f"blockhash must be hexadecimal string (not '{'zz' * 32}')"
    e = fails(node, "getblock", 5)
    assert e.code == -3


def test_certificate_in_block_and_getcertificate(chain):
    node, hashes, _, tip = chain
    cert = node.rpc("getcertificate", tip)
    assert cert == node.rpc("getcertificate")
    assert cert["height"] == 102 and cert["parent_hash"] == node.rpc("getblockhash", 101)
    assert cert["payout_address"] == ADDR and cert["signature_valid"] is True
    assert len(cert["signature"]) == 128 and len(cert["coordinator_key"]) == 64
    assert node.rpc("getblock", tip)["certificate"] == cert
    assert node.rpc("getblockheader", tip)["certificate"] == cert
    e = fails(node, "getcertificate", "00" * 32)
    assert (e.code, e.message) == (-5, "Block not found")
    e = fails(node, "getcertificate", GENESIS)
    assert e.code == -5


def test_getblockheader(chain):
    node, hashes, _, tip = chain
    h = node.rpc("getblockheader", tip)
    for key in ("hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time",
                "mediantime", "nonce", "bits", "difficulty", "chainwork", "nTx", "previousblockhash"):
        assert key in h
    assert "size" not in h and "tx" not in h
    raw = node.rpc("getblockheader", tip, False)
    assert len(raw) == 160 and node.rpc("getblock", tip, 0).startswith(raw)
    e = fails(node, "getblockheader", "11" * 32)
    assert (e.code, e.message) == (-5, "Block not found")


def test_getrawtransaction(chain):
    node, hashes, spend, tip = chain
    txid = spend.txid_hex
    assert node.rpc("getrawtransaction", txid) == spend.serialize().hex()
    v = node.rpc("getrawtransaction", txid, True)
    assert v == node.rpc("getrawtransaction", txid, 1)
    for key in ("txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout",
                "hex", "blockhash", "confirmations", "time", "blocktime"):
        assert key in v
    assert v["blockhash"] == tip and v["confirmations"] == 1 and "in_active_chain" not in v
    assert "fee" not in v
    v2 = node.rpc("getrawtransaction", txid, 2)
    assert v2["fee"] == Decimal("0.00100000") and v2["vin"][0]["prevout"]["generated"] is True
    vb = node.rpc("getrawtransaction", txid, 1, tip)
    assert vb["in_active_chain"] is True
    e = fails(node, "getrawtransaction", "22" * 32)
    assert e.code == -5 and e.message.startswith("No such mempool or blockchain transaction.")
    e = fails(node, "getrawtransaction", txid, 0, hashes[0])
    assert e.code == -5 and e.message.startswith("No such transaction found in the provided block.")
    e = fails(node, "getrawtransaction", txid, 0, "33" * 32)
    assert (e.code, e.message) == (-5, "Block hash not found")
    genesis_cb = node.rpc("getblock", GENESIS)["tx"][0]
    e = fails(node, "getrawtransaction", genesis_cb)
    assert e.code == -5 and "genesis block coinbase" in e.message


def test_decoderawtransaction(chain):
    node, _, spend, _ = chain
    d = node.rpc("decoderawtransaction", spend.serialize().hex())
    assert list(d) == ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"]
    assert d["txid"] == spend.txid_hex and d["hash"] == spend.wtxid_hex
    assert d["vin"][0]["sequence"] == 0xFFFFFFFD and d["vin"][0]["scriptSig"] == {"asm": "", "hex": ""}
    assert d["vout"][0]["scriptPubKey"]["address"] == ADDR
    # Trailing data is tested with iswitness=true: without it the legacy reading is tried too (as
    # Core does), and for some transactions (their txid changes every run) it consumes every byte.
    for args in (("00",), ("zz",), (spend.serialize().hex() + "00", True)):
        e = fails(node, "decoderawtransaction", *args)
        assert (e.code, e.message) == (-22, "TX decode failed")


def test_decodescript(chain):
    node = chain[0]
    d = node.rpc("decodescript", "76a914" + "11" * 20 + "88ac")
    assert d["type"] == "pubkeyhash" and d["address"] == OTHER_ADDR_P2PKH
    assert d["asm"] == "OP_DUP OP_HASH160 " + "11" * 20 + " OP_EQUALVERIFY OP_CHECKSIG"
    assert d["desc"].startswith(f"addr({OTHER_ADDR_P2PKH})#") and d["p2sh"].startswith("2")
    assert d["segwit"]["type"] == "witness_v0_keyhash" and "p2sh-segwit" in d["segwit"]
    d = node.rpc("decodescript", "6a0568656c6c6f")
    assert d == {"asm": "OP_RETURN 68656c6c6f", "desc": d["desc"], "type": "nulldata"}
    assert d["desc"].startswith("raw(6a0568656c6c6f)#")
    d = node.rpc("decodescript", "")
    assert d["type"] == "nonstandard" and d["asm"] == ""
    e = fails(node, "decodescript", "zz")
    assert (e.code, e.message) == (-8, "argument must be hexadecimal string (not 'zz')")


def test_gettxout(chain):
    node, hashes, spend, tip = chain
    out = node.rpc("gettxout", spend.txid_hex, 0)
    assert set(out) == {"bestblock", "confirmations", "value", "scriptPubKey", "coinbase"}
    assert out["bestblock"] == tip and out["confirmations"] == 1 and out["coinbase"] is False
    assert out["value"] == Decimal("49.99900000") and out["scriptPubKey"]["address"] == ADDR
    assert node.rpc("gettxout", spend.txid_hex, 1) is None  # OP_RETURN is never a coin
    cb1 = node.rpc("getblock", hashes[0])["tx"][0]
    assert node.rpc("gettxout", cb1, 0) is None  # spent by T
    cb2 = node.rpc("getblock", hashes[1])["tx"][0]
    c = node.rpc("gettxout", cb2, 0, False)
    assert c["coinbase"] is True and c["confirmations"] == 101
    assert node.rpc("gettxout", cb2, 99) is None
    assert fails(node, "gettxout", "x", 0).code == -8


def test_gettxoutsetinfo(chain):
    node, hashes, spend, tip = chain
    info = node.rpc("gettxoutsetinfo")
    assert set(info) == {"height", "bestblock", "txouts", "bogosize", "hash_serialized_3",
                         "total_amount", "transactions", "disk_size"}
    assert info["height"] == 102 and info["bestblock"] == tip
    # 102 subsidies; T moved one of them minus a fee that block 102's coinbase collected
    assert info["txouts"] == 102 and info["total_amount"] == Decimal("5100.00000000")
    assert "hash_serialized_3" not in node.rpc("gettxoutsetinfo", "none")
    mu = node.rpc("gettxoutsetinfo", "muhash")
    assert "hash_serialized_3" not in mu and len(mu["muhash"]) == 64
    assert {k: v for k, v in mu.items() if k != "muhash"} == {
        k: v for k, v in info.items() if k != "hash_serialized_3"}
    e = fails(node, "gettxoutsetinfo", "foo")
    assert (e.code, e.message) == (-8, "'foo' is not a valid hash_type")


def test_validateaddress(chain):
    node = chain[0]
    v = node.rpc("validateaddress", ADDR)
    assert v == {"isvalid": True, "address": ADDR, "scriptPubKey": "0020" + sha256(TRUE_SCRIPT).hex(),
                 "isscript": True, "iswitness": True, "witness_version": 0,
                 "witness_program": sha256(TRUE_SCRIPT).hex()}
    v = node.rpc("validateaddress", OTHER_ADDR_P2PKH)
    assert v["isvalid"] and v["isscript"] is False and v["iswitness"] is False
    tr = encode_segwit("bcrt", 1, b"\x22" * 32)
    v = node.rpc("validateaddress", tr)
    assert v["isscript"] is True and v["witness_version"] == 1
    bad = node.rpc("validateaddress", "notanaddress")
    assert bad == {"isvalid": False, "error_locations": [],
                   "error": "Invalid checksum or length of Base58 address (P2PKH or P2SH)"}
    main_addr = encode_segwit("bc", 0, b"\x11" * 20)
    bad = node.rpc("validateaddress", main_addr)
    assert bad["isvalid"] is False
    assert bad["error"] == "Invalid or unsupported Segwit (Bech32) or Base58 encoding."
    assert node.rpc("validateaddress", ADDR[:-1] + ("q" if ADDR[-1] != "q" else "p"))["isvalid"] is False


def test_invalidate_and_reconsider(chain):
    node, hashes, spend, tip = chain
    node.rpc("invalidateblock", tip)
    assert node.rpc("getblockcount") == 101
    tips = node.rpc("getchaintips")
    assert {"height": 102, "hash": tip, "branchlen": 1, "status": "invalid"} in tips
    assert tips[0]["height"] == 102  # sorted by height, descending
    assert {"height": 101, "hash": hashes[-1], "branchlen": 0, "status": "active"} in tips
    assert node.rpc("getblock", tip)["confirmations"] == -1
    v = node.rpc("getrawtransaction", spend.txid_hex, 1)
    if "blockhash" in v:  # a node without mempool: txindex keeps it, its block left the chain
        assert v["blockhash"] == tip and v["confirmations"] == 0
    else:  # as bitcoind: the disconnected block's transaction went back to the mempool
        assert spend.txid_hex in node.rpc("getrawmempool")
    node.rpc("reconsiderblock", tip)
    assert node.rpc("getbestblockhash") == tip
    assert node.rpc("getchaintips") == [{"height": 102, "hash": tip, "branchlen": 0, "status": "active"}]
    e = fails(node, "invalidateblock", "44" * 32)
    assert (e.code, e.message) == (-5, "Block not found")
    assert fails(node, "reconsiderblock", "44" * 32).code == -5


def test_submitblock_and_generateblock(chain):
    node, hashes, spend, tip = chain
    raw = node.rpc("getblock", tip, 0)
    assert node.rpc("submitblock", raw) == "duplicate"
    e = fails(node, "submitblock", "00")
    assert (e.code, e.message) == (-22, "Block decode failed")
    made = node.rpc("generateblock", ADDR, [], False)
    assert set(made) == {"hash", "hex"} and node.rpc("getblockcount") == 102
    blk = Block.from_hex(made["hex"])
    broken = blk.with_header(merkle_root=b"\x00" * 32)
    assert node.rpc("submitblock", broken.serialize().hex()) == "bad-txnmrklroot"
    assert node.rpc("submitblock", made["hex"]) is None
    assert node.rpc("getbestblockhash") == made["hash"]
    e = fails(node, "generateblock", ADDR, ["55" * 32])
    assert (e.code, e.message) == (-5, f"Transaction {'55' * 32} not in mempool.")
    e = fails(node, "generateblock", ADDR, ["abcd"])
    assert e.code == -22 and e.message.startswith("Transaction decode failed for abcd.")
    e = fails(node, "generateblock", "nope", [])
    assert (e.code, e.message) == (-5, "Error: Invalid address or descriptor")
    e = fails(node, "generatetoaddress", 1, "nope")
    assert (e.code, e.message) == (-5, "Error: Invalid address")
    # a spent input: consensus rejects the block
    e = fails(node, "generateblock", ADDR, [spend.serialize().hex()])
    assert e.code in (-1, -25)
    node.rpc("invalidateblock", made["hash"])
    assert node.rpc("getbestblockhash") == tip


def test_help_stop_uptime(chain):
    node = chain[0]
    overview = node.rpc("help")
    assert "== Blockchain ==" in overview and "\ngetblockcount\n" in overview
    assert 'getblock "blockhash" ( verbosity )' in overview
    assert "generatetoaddress" not in overview and "invalidateblock" not in overview
    text = node.rpc("help", "getblock")
    assert text.startswith('getblock "blockhash" ( verbosity )\n') and "Arguments:" in text
    assert node.rpc("help", "nosuch") == "help: unknown command: nosuch"
    up = node.rpc("uptime")
    assert isinstance(up, int) and up >= 0
    e = fails(node, "generate", 1)  # section 0: a registered stub, -1 with its help text
    assert (e.code, e.message) == (
        -1, "generate\n\nhas been replaced by the -generate cli option. Refer to -help for more information.")
    assert fails(node, "getinfo").code == -32601


def test_python_bitcoinlib_proxy(chain):
    """The calls python-bitcoinlib's Proxy makes, parsed by its own code."""
    import bitcoin.rpc
    from bitcoin.core import lx

    node, hashes, spend, tip = chain
    proxy = node.proxy()
    assert proxy.getblockcount() == 102
    assert proxy.getbestblockhash() == lx(tip)
    assert proxy.getblockhash(1) == lx(hashes[0])
    with pytest.raises(IndexError):
        proxy.getblockhash(1000)
    blk = proxy.getblock(lx(tip))
    assert blk.GetHash() == lx(tip) and len(blk.vtx) == 2
    hdr = proxy.getblockheader(lx(tip), verbose=True)
    assert hdr["height"] == 102 and hdr["confirmations"] == 1
    tx = proxy.getrawtransaction(lx(spend.txid_hex), verbose=True)
    assert tx["blockhash"] == lx(tip) and tx["tx"].GetTxid() == lx(spend.txid_hex)
    from bitcoin.core import COutPoint

    txout = proxy.gettxout(COutPoint(lx(spend.txid_hex), 0))
    assert txout["txout"].nValue == 49_99900000
    with pytest.raises(IndexError):
        proxy.gettxout(COutPoint(lx(spend.txid_hex), 1))
    assert proxy.validateaddress(ADDR)["isvalid"] is True
    assert proxy.submitblock(blk) == "duplicate"
    with pytest.raises(bitcoin.rpc.JSONRPCError) as e:
        proxy.call("nosuchmethod")
    assert e.value.error["code"] == -32601
    bad = bitcoin.rpc.Proxy(service_url=f"http://__cookie__:wrong@127.0.0.1:{node.rpc_port}")
    with pytest.raises(bitcoin.rpc.JSONRPCError) as e:
        bad.getblockcount()
    assert e.value.error["code"] == -342  # the library's code for a non-JSON (empty 401) reply
