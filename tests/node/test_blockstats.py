"""getblockstats and getchaintxstats against a real potcd: every value is recomputed here from the
transactions this test built (fees known by construction, sizes from their serializations) and
the blocks read back, never taken from the implementation."""

from __future__ import annotations

import pytest

from regtest.consensus.address import encode_segwit
from regtest.consensus.block import Block
from regtest.consensus.hashes import hash160
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.testing.miniwallet import MiniWallet
from tests.node.framework import RPCFailure, TestNode

OP_TRUE = b"\x51"
NULL_DATA = b"\x6a\x04test"
FEES = {"a": 1000, "b": 5000, "c": 300, "d": 12345}


class Chain:
    """A node, a wallet paid by its coinbases, and one block of hand-made transactions."""

    def __init__(self, node: TestNode) -> None:
        self.node = node
        self.wallet = MiniWallet()
        self.address = encode_segwit("bcrt", 0, hash160(self.wallet.pubkey))

    def block(self, h: str) -> Block:
        return Block.parse(bytes.fromhex(self.node.rpc("getblock", h, 0)))

    def generate(self, n: int) -> list[str]:
        hashes = self.node.rpc("generatetoaddress", n, self.address)
        for h in hashes:
            self.wallet.scan_block(self.block(h), self.node.rpc("getblockheader", h)["height"])
        return hashes


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = TestNode(tmp_path_factory.mktemp("blockstats")).start()
    c = Chain(node)
    c.generate(104)
    height = node.rpc("getblockcount")
    w = c.wallet
    u = [w.take(height) for _ in range(4)]
    tx_a, _ = w.self_transfer(u[0], FEES["a"])
    third = u[1].value // 3
    tx_b = w.spend([u[1]], [TxOut(third, w.script_pubkey), TxOut(third, OP_TRUE),
                            TxOut(u[1].value - 2 * third - FEES["b"], w.script_pubkey)])
    # no witness, spends an output of the same block, leaves an unspendable output
    tx_c = Transaction(2, (TxIn(OutPoint(tx_b.txid, 1), b"", 0xFFFFFFFF),),
                       (TxOut(0, NULL_DATA), TxOut(third - FEES["c"], w.script_pubkey)), 0)
    tx_d = w.spend([u[2], u[3]], [TxOut(u[2].value + u[3].value - FEES["d"], w.script_pubkey)])
    c.txs = {"a": tx_a, "b": tx_b, "c": tx_c, "d": tx_d}
    c.spent_scripts = [w.script_pubkey] * 4 + [OP_TRUE]  # what the 5 inputs spent
    c.hash = node.rpc("generateblock", c.address, [t.serialize().hex() for t in c.txs.values()])["hash"]
    c.generate(1)  # a coinbase-only block on top
    yield c
    node.stop()


def _fail(node, method, *params) -> RPCFailure:
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *params)
    return e.value


def _weight(tx: Transaction) -> int:
    return 3 * len(tx.serialize_without_witness()) + len(tx.serialize())


def _utxo_bytes(script: bytes) -> int:
    length = 1 if len(script) < 253 else 3  # compact size (scripts here stay below 65,536)
    return 8 + length + len(script) + 41  # value, length, script, outpoint+height+coinbase


def _percentiles(pairs: list[tuple[int, int]]) -> list[int]:
    """For each of 10/25/50/75/90 %: the rate of the first tx (cheapest first) at which the
    running weight reaches that share of the total."""
    total = sum(w for _, w in pairs)
    out = []
    for share in (0.10, 0.25, 0.50, 0.75, 0.90):
        running = 0
        for rate, w in sorted(pairs):
            running += w
            if running >= total * share:
                out.append(rate)
                break
    return out


def test_getblockstats_matches_the_block_recomputed(chain):
    node = chain.node
    stats = node.rpc("getblockstats", chain.hash)
    header = node.rpc("getblockheader", chain.hash)
    block = chain.block(chain.hash)
    txs = list(chain.txs.values())
    assert [t.txid for t in block.txs[1:]] == [t.txid for t in txs]
    sizes = [len(t.serialize()) for t in txs]
    weights = [_weight(t) for t in txs]
    fees = [FEES[k] for k in chain.txs]
    rates = [f * 4 // w for f, w in zip(fees, weights)]
    outs = [o for t in block.txs for o in t.vout]
    spendable = [o for o in outs if o.script_pubkey[:1] != b"\x6a"]
    created = sum(_utxo_bytes(o.script_pubkey) for o in outs)
    created_actual = sum(_utxo_bytes(o.script_pubkey) for o in spendable)
    spent = sum(_utxo_bytes(s) for s in chain.spent_scripts)
    expected = {
        "avgfee": sum(fees) // 4,
        "avgfeerate": sum(fees) * 4 // sum(weights),
        "avgtxsize": sum(sizes) // 4,
        "blockhash": chain.hash,
        "feerate_percentiles": _percentiles(list(zip(rates, weights))),
        "height": header["height"],
        "ins": 5,
        "maxfee": 12345,
        "maxfeerate": max(rates),
        "maxtxsize": max(sizes),
        "medianfee": (1000 + 5000) // 2,
        "mediantime": header["mediantime"],
        "mediantxsize": sum(sorted(sizes)[1:3]) // 2,
        "minfee": 300,
        "minfeerate": min(rates),
        "mintxsize": min(sizes),
        "outs": len(outs),
        "subsidy": (50 * 100_000_000) >> (header["height"] // 150),
        "swtotal_size": sum(s for s, k in zip(sizes, chain.txs) if k != "c"),
        "swtotal_weight": sum(w for w, k in zip(weights, chain.txs) if k != "c"),
        "swtxs": 3,
        "time": header["time"],
        "total_out": sum(o.value for t in txs for o in t.vout),
        "total_size": sum(sizes),
        "total_weight": sum(weights),
        "totalfee": sum(fees),
        "txs": 5,
        "utxo_increase": len(outs) - 5,
        "utxo_size_inc": created - spent,
        "utxo_increase_actual": len(spendable) - 5,
        "utxo_size_inc_actual": created_actual - spent,
    }
    assert stats == expected
    assert list(stats) == list(expected)  # Core's key order
    assert node.rpc("getblockstats", header["height"]) == expected
    # the coinbase pays subsidy + fees
    assert sum(o.value for o in block.txs[0].vout) == expected["subsidy"] + sum(fees)


def test_getblockstats_selected_and_plain_blocks(chain):
    node = chain.node
    sel = node.rpc("getblockstats", chain.hash, ["txs", "minfee", "avgfeerate", "minfee"])
    assert list(sel) == ["avgfeerate", "minfee", "txs"]  # sorted, duplicates merged
    assert sel["minfee"] == 300 and sel["txs"] == 5
    tip = node.rpc("getblockstats", node.rpc("getblockcount"))
    cb = chain.block(tip["blockhash"]).txs[0]
    assert tip["txs"] == 1 and tip["ins"] == 0 and tip["outs"] == len(cb.vout)
    for key in ("avgfee", "avgfeerate", "avgtxsize", "maxfee", "minfee", "minfeerate",
                "mintxsize", "medianfee", "mediantxsize", "total_size", "total_weight", "swtxs"):
        assert tip[key] == 0, key
    assert tip["feerate_percentiles"] == [0, 0, 0, 0, 0]
    assert tip["utxo_increase"] == len(cb.vout)
    assert tip["utxo_increase_actual"] == sum(o.script_pubkey[:1] != b"\x6a" for o in cb.vout)
    genesis = node.rpc("getblockstats", 0)
    g = chain.block(genesis["blockhash"]).txs[0]
    assert genesis["height"] == 0 and genesis["txs"] == 1 and genesis["subsidy"] == 5_000_000_000
    # the genesis outputs never enter the UTXO set
    assert genesis["utxo_increase_actual"] == 0 and genesis["utxo_size_inc_actual"] == 0
    assert genesis["utxo_size_inc"] == sum(_utxo_bytes(o.script_pubkey) for o in g.vout)


def test_getblockstats_off_the_active_chain(chain):
    """A block stepped off the chain keeps its undo data, so its stats stay available."""
    node = chain.node
    before = node.rpc("getblockstats", chain.hash)
    node.rpc("invalidateblock", chain.hash)
    try:
        assert node.rpc("getblockstats", chain.hash) == before
        e = _fail(node, "getblockstats", before["height"] + 1)
        assert (e.code, e.message) == (-8, f"Target block height {before['height'] + 1} after "
                                            f"current tip {before['height'] - 1}")
    finally:
        node.rpc("reconsiderblock", chain.hash)
    assert node.rpc("getbestblockhash") != chain.hash  # the chain is back on top of it
    assert node.rpc("getblockheader", chain.hash)["confirmations"] == 2


def test_getblockstats_errors(chain):
    node = chain.node
    tip = node.rpc("getblockcount")
    cases = [
        ((-1,), -8, "Target block height -1 is negative"),
        ((tip + 1,), -8, f"Target block height {tip + 1} after current tip {tip}"),
        (("00" * 32,), -5, "Block not found"),
        (("xx",), -8, "hash_or_height must be of length 64 (not 2, for 'xx')"),
        ((0, ["txs", "bogus"]), -8, "Invalid selected statistic 'bogus'"),
        ((0, [1]), -3, "JSON value of type number is not of expected type string"),
        ((1.5,), -1, "JSON integer out of range"),
    ]
    for params, code, message in cases:
        e = _fail(node, "getblockstats", *params)
        assert (e.code, e.message) == (code, message), params
    assert _fail(node, "getblockstats", 0, "txs").code == -3
    assert _fail(node, "getblockstats").code == -1  # arity: the help text


def test_getchaintxstats(chain):
    node = chain.node
    tip = node.rpc("getblockcount")
    headers = [node.rpc("getblockheader", node.rpc("getblockhash", h)) for h in range(tip + 1)]
    ntx = [hd["nTx"] for hd in headers]
    assert sum(ntx) == tip + 1 + 4  # one coinbase a block (genesis too) + our 4 transactions

    def expect(end: int, count: int) -> dict:
        out = {"time": headers[end]["time"], "txcount": sum(ntx[: end + 1]),
               "window_final_block_hash": headers[end]["hash"], "window_final_block_height": end,
               "window_block_count": count}
        if count:
            interval = headers[end]["mediantime"] - headers[end - count]["mediantime"]
            out["window_interval"] = interval
            out["window_tx_count"] = sum(ntx[end - count + 1: end + 1])
            if interval > 0:
                out["txrate"] = pytest.approx(out["window_tx_count"] / interval)
        return out

    def call(*params) -> dict:
        out = node.rpc("getchaintxstats", *params)
        if "txrate" in out:
            out["txrate"] = float(out["txrate"])  # a JSON double, read back as Decimal
        return out

    assert call() == expect(tip, tip - 1)  # default: min(one month of blocks, height - 1)
    assert call(5) == expect(tip, 5)
    assert call(0) == expect(tip, 0)
    mid = chain.hash
    h = headers[[hd["hash"] for hd in headers].index(mid)]["height"]
    assert call(3, mid) == expect(h, 3)
    assert call(None, mid) == expect(h, h - 1)
    genesis = headers[0]["hash"]
    assert call(None, genesis) == expect(0, 0)
    bad_count = "Invalid block count: should be between 0 and the block's height - 1"
    for params, code, message in [
        ((tip,), -8, bad_count), ((-1,), -8, bad_count), ((1, genesis), -8, bad_count),
        ((None, "00" * 32), -5, "Block not found"),
        (("5",), -3, None),
    ]:
        e = _fail(node, "getchaintxstats", *params)
        assert e.code == code and (message is None or e.message == message), params
    node.rpc("invalidateblock", headers[tip]["hash"])
    try:
        e = _fail(node, "getchaintxstats", 1, headers[tip]["hash"])
        assert (e.code, e.message) == (-8, "Block is not in main chain")
    finally:
        node.rpc("reconsiderblock", headers[tip]["hash"])
