"""Block templates (in process): ancestor fee-rate selection with CPFP, limits, the template JSON,
proposal checks, and the sidecar's path from template JSON to a sealed, accepted block."""

from __future__ import annotations

import pytest

from regtest.consensus.blockbuild import certify
from regtest.consensus.certificate import Certificate
from regtest.consensus.gbt import TemplateError, block_from_template, parse_template
from regtest.consensus.hashes import sha256
from regtest.consensus.params import block_subsidy
from regtest.consensus.transaction import TxOut
from regtest.node.mining import create_template, select_transactions, template_json, check_block_validity
from tests.node.mempool_env import COORDINATOR_PRIV, make_env


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def _accept_all(env, txs):
    for tx in txs:
        res = env.accept(tx)
        assert res.accepted, res.state_string


def test_child_pays_for_parent(env):
    parent, pu = env.wallet.self_transfer(env.utxo(), 110)  # 1 sat/vB
    child, _ = env.wallet.self_transfer(pu, 40_000)
    medium = [env.wallet.self_transfer(env.utxo(), 11_000)[0] for _ in range(3)]  # 100 sat/vB
    _accept_all(env, [parent, child, *medium])
    pool = env.mp.pool
    chosen = select_transactions(pool, max_weight=4 * 440)  # room for four 110-vbyte txs
    ids = [e.txid for e in chosen]
    assert ids[:2] == [parent.txid, child.txid]  # the package rate (~182 sat/vB) beats 100 sat/vB
    assert len(ids) == 4
    alone = select_transactions(pool, max_weight=4 * 110)
    assert [e.txid for e in alone] == [medium[0].txid]  # the package does not fit: skipped


def test_without_child_low_fee_parent_comes_last(env):
    parent, _ = env.wallet.self_transfer(env.utxo(), 110)
    medium = [env.wallet.self_transfer(env.utxo(), 11_000)[0] for _ in range(3)]
    _accept_all(env, [parent, *medium])
    ids = [e.txid for e in select_transactions(env.mp.pool)]
    assert ids[-1] == parent.txid and len(ids) == 4


def test_min_fee_rate_and_sigop_limit(env):
    free, _ = env.wallet.self_transfer(env.utxo(), 0)
    assert env.accept(free, bypass_limits=True).accepted
    paying, _ = env.wallet.self_transfer(env.utxo(), 1000)
    _accept_all(env, [paying])
    assert [e.txid for e in select_transactions(env.mp.pool)] == [paying.txid]
    assert select_transactions(env.mp.pool, max_sigops=0) == []  # each P2WPKH spend costs one sigop


def test_template_json_fields(env):
    a, ua = env.wallet.self_transfer(env.utxo(), 2000)
    b, _ = env.wallet.self_transfer(ua, 3000)
    _accept_all(env, [a, b])
    tpl = create_template(env.mp, env.cs)
    j = template_json(tpl, "id")
    assert j["height"] == env.height + 1
    assert j["previousblockhash"] == env.cs.tip.hash_hex
    assert j["coinbasevalue"] == block_subsidy(env.height + 1, env.params) + 5000
    assert j["rules"] == ["csv", "!segwit", "taproot"]
    signalling = 144 <= env.height + 1 < 432  # testdummy started or locked in (all blocks signal)
    assert j["version"] == (0x30000000 if signalling else 0x20000000)
    assert j["vbavailable"] == ({"testdummy": 28} if signalling else {})
    assert j["mintime"] == env.cs.tip.median_time_past() + 1 and j["curtime"] >= j["mintime"]
    assert j["bits"] == "207fffff" and j["target"].startswith("7fffff")
    assert [t["txid"] for t in j["transactions"]] == [a.txid_hex, b.txid_hex]
    assert j["transactions"][1]["depends"] == [1]
    assert j["transactions"][0] == {
        "data": a.serialize().hex(), "txid": a.txid_hex, "hash": a.wtxid_hex, "depends": [],
        "fee": 2000, "sigops": 1, "weight": a.weight,
    }
    assert j["default_witness_commitment"].startswith("6a24aa21a9ed")


def _cert_for(env, block, height):
    return Certificate(
        network=env.params.magic, parent_hash=block.header.prev_hash, height=height,
        payout_script=env.wallet.script_pubkey, cycle_id=7, model_hash=sha256(b"m"),
        contributions_root=bytes(32), lottery_seed=sha256(b"s"),
        issue_time=block.header.time - 60, expiry=block.header.time + 3600, block_commitment=bytes(32),
    )


def test_sidecar_path_template_to_sealed_block(env):
    a, _ = env.wallet.self_transfer(env.utxo(), 5000)
    _accept_all(env, [a])
    j = template_json(create_template(env.mp, env.cs), "id")
    tpl = parse_template(j, env.params)
    block = block_from_template(tpl, env.params, env.wallet.script_pubkey)
    assert check_block_validity(env.cs, block) is None  # proposal mode: certificate not checked yet
    assert block.txs[0].vout[-1].script_pubkey == bytes.fromhex(j["default_witness_commitment"])
    sealed = certify(block, _cert_for(env, block, tpl.height), COORDINATOR_PRIV)
    assert check_block_validity(env.cs, sealed, check_proof=True) is None
    res = env.cs.process_block(sealed)
    assert res.accepted and res.connected
    assert a.txid not in env.mp


def test_proposal_rejections(env):
    a, _ = env.wallet.self_transfer(env.utxo(), 5000)
    _accept_all(env, [a])
    tpl = parse_template(template_json(create_template(env.mp, env.cs), "id"), env.params)
    block = block_from_template(tpl, env.params, env.wallet.script_pubkey)
    bad_root = block.with_header(merkle_root=bytes(32))
    assert check_block_validity(env.cs, bad_root) == "bad-txnmrklroot"
    assert check_block_validity(env.cs, block.with_header(prev_hash=bytes(32))) == "inconclusive-not-best-prevblk"
    assert check_block_validity(env.cs, block.with_header(time=tpl.mintime - 1)) == "time-too-old"
    greedy = block_from_template(
        parse_template({**template_json(create_template(env.mp, env.cs), "id"), "coinbasevalue": tpl.coinbase_value + 1}),
        env.params, env.wallet.script_pubkey,
    )
    assert check_block_validity(env.cs, greedy) == "bad-cb-amount"
    assert check_block_validity(env.cs, block, check_proof=True).startswith("bad-cert")


def test_parse_template_refuses_inconsistent_input(env):
    a, _ = env.wallet.self_transfer(env.utxo(), 5000)
    _accept_all(env, [a])
    j = template_json(create_template(env.mp, env.cs), "id")
    with pytest.raises(TemplateError):
        parse_template({**j, "coinbasevalue": j["coinbasevalue"] + 1}, env.params)
    with pytest.raises(TemplateError):
        parse_template({**j, "transactions": [{**j["transactions"][0], "txid": "00" * 32}]})
    with pytest.raises(TemplateError):
        parse_template({**j, "transactions": [{**j["transactions"][0], "data": "zz"}]})
    with pytest.raises(TemplateError):
        parse_template({**j, "height": "1"})


def test_template_follows_tip_and_mempool(env):
    t1 = create_template(env.mp, env.cs)
    assert t1.entries == []
    a, _ = env.wallet.self_transfer(env.utxo(), 5000)
    _accept_all(env, [a])
    t2 = create_template(env.mp, env.cs)
    assert [e.txid for e in t2.entries] == [a.txid]
    env.mine([env.wallet.spend([env.utxo()], [TxOut(1_000_000, env.wallet.script_pubkey)])])
    t3 = create_template(env.mp, env.cs)
    assert t3.height == t2.height + 1 and t3.prev_hash == env.cs.tip.hash
