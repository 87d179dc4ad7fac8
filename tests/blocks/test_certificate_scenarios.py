"""Issue 5, item 2: on this project's `regtest` (certificate proof rule) the block scenarios give
the outcomes they expect, and certificate attacks are each rejected with their own reason while
the chain (tip and UTXO set hash) stays exactly as it was and still accepts the honest block.
"""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block
from regtest.consensus.certificate import (
    CERT_TAG,
    OP_RETURN,
    Certificate,
    certificate_output,
    certificate_payload,
    find_certificates,
    xonly_pubkey,
)
from regtest.consensus.hashes import sha256
from regtest.consensus.params import BITCOIN_REGTEST, CoordinatorKey, regtest_params
from regtest.consensus.script import push_data
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.testing.blockbuilder import OP_TRUE
from regtest.testing.blockscenarios import SCENARIOS, build_scenario, new_builder
from regtest.testing.scenario_runner import OurChain, check_scenario

NETWORK = "regtest"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenarios_with_certificates(name, tmp_path):
    sc = build_scenario(name, NETWORK)
    assert all(st.reason != "high-hash" for st in sc.steps)  # no proof of work to miss
    chain = OurChain(str(tmp_path), _scenario_params())
    try:
        bad = check_scenario(chain, sc)
        assert not bad, "\n".join(m.describe() for m in bad)
        assert chain.tip == sc.final_tip
    finally:
        chain.close()


def _scenario_params():
    from regtest.testing.blockscenarios import scenario_params

    return scenario_params(NETWORK)


def test_pow_blocks_are_not_certificate_blocks(tmp_path):
    """The same scenario built for proof of work does not pass on the certificate network."""
    pow_sc = build_scenario("long_chain_halving", "bitcoin-regtest")
    chain = OurChain(str(tmp_path), _scenario_params())
    try:
        v = chain.submit(pow_sc.steps[0].block.serialize())
        assert v.reason == "bad-cert-missing" and v.tip == _scenario_params().genesis_hash
    finally:
        chain.close()


# --- attacks -----------------------------------------------------------------------------------
KEY_A = sha256(b"coordinator key A (retired after height 8)")
KEY_B = sha256(b"coordinator key B (from height 9)")
KEY_STRANGER = sha256(b"a key no schedule lists")
RETIRE_AFTER = 8
PARAMS = regtest_params((
    CoordinatorKey(0, RETIRE_AFTER, xonly_pubkey(KEY_A)),
    CoordinatorKey(RETIRE_AFTER + 1, None, xonly_pubkey(KEY_B)),
))
OTHER_SPK = bytes([0x00, 0x14]) + bytes(range(20))


def _key_for(height: int) -> bytes:
    return KEY_A if height <= RETIRE_AFTER else KEY_B


def _cert_of(block: Block) -> Certificate:
    cb = block.txs[0]
    (i,) = find_certificates(cb)
    return Certificate.parse(certificate_payload(cb.vout[i].script_pubkey))


def _with_cert_script(block: Block, script: bytes | None, extra: bytes | None = None) -> Block:
    """The block with its certificate output's script replaced (None: removed; `extra`: a
    second certificate output appended), merkle root recomputed."""
    cb = block.txs[0]
    (i,) = find_certificates(cb)
    vout = list(cb.vout)
    if script is None:
        del vout[i]
    else:
        vout[i] = TxOut(0, script)
    if extra is not None:
        vout.append(TxOut(0, extra))
    new_cb = Transaction(cb.version, cb.vin, tuple(vout), cb.locktime)
    return block.with_txs((new_cb,) + block.txs[1:])


def _cert_script_raw(payload: bytes) -> bytes:
    return bytes([OP_RETURN]) + push_data(CERT_TAG + payload)


def _lift_cert_from(honest: Block):
    """post_mod: put the honest block's (valid, signed) certificate into another block."""
    cert = _cert_of(honest)
    return lambda blk: _with_cert_script(blk, certificate_output(cert).script_pubkey)


def _flip_sig(blk: Block) -> Block:
    cert = _cert_of(blk)
    sig = bytearray(cert.signature)
    sig[5] ^= 1
    return _with_cert_script(blk, certificate_output(cert.replace(signature=bytes(sig))).script_pubkey)


def _divert_payout(txs: list[Transaction]) -> list[Transaction]:
    cb = txs[0]
    pay = cb.vout[0]
    vout = (TxOut(pay.value - 1000, pay.script_pubkey), TxOut(1000, OTHER_SPK)) + cb.vout[1:]
    return [Transaction(cb.version, cb.vin, vout, cb.locktime), *txs[1:]]


ATTACKS = [
    # name, reason, builder keyword arguments (on the tip, height h)
    ("forged_signature", "bad-cert-sig", lambda b, hon, h: dict(post_mod=_flip_sig)),
    ("unscheduled_key", "bad-cert-key", lambda b, hon, h: dict(cert_key=KEY_STRANGER)),
    ("retired_key", "bad-cert-key", lambda b, hon, h: dict(cert_key=KEY_A)),
    ("retired_key_backdated", "bad-cert-height",
     lambda b, hon, h: dict(cert_key=KEY_A, cert_mod=lambda c: c.replace(height=RETIRE_AFTER))),
    ("wrong_height", "bad-cert-height", lambda b, hon, h: dict(cert_mod=lambda c: c.replace(height=h + 1))),
    ("wrong_network", "bad-cert-network",
     lambda b, hon, h: dict(cert_mod=lambda c: c.replace(network=BITCOIN_REGTEST.magic))),
    ("lifted_other_txs", "bad-cert-commitment",
     lambda b, hon, h: dict(txs=[Transaction(2, (TxIn(OutPoint(sha256(b"x"), 0), b"", 0),), (TxOut(1, OP_TRUE),), 0)],
                            post_mod=_lift_cert_from(hon))),
    ("lifted_other_time", "bad-cert-commitment",
     lambda b, hon, h: dict(time=hon.header.time + 1, post_mod=_lift_cert_from(hon))),
    ("lifted_other_version", "bad-cert-commitment",
     lambda b, hon, h: dict(version=0x20000004, post_mod=_lift_cert_from(hon))),
    ("commits_to_other_block", "bad-cert-commitment",
     lambda b, hon, h: dict(cert_mod=lambda c: c.replace(block_commitment=sha256(b"elsewhere")))),
    ("payout_extra_output", "bad-cert-payout", lambda b, hon, h: dict(tx_mod=_divert_payout)),
    ("payout_main_output", "bad-cert-payout", lambda b, hon, h: dict(cert_mod=lambda c: c.replace(payout_script=OTHER_SPK))),
    ("two_certificates", "bad-cert-multiple",
     lambda b, hon, h: dict(post_mod=lambda blk: _with_cert_script(
         blk, certificate_output(_cert_of(blk)).script_pubkey, extra=certificate_output(_cert_of(blk)).script_pubkey))),
    ("expired", "bad-cert-expired",
     lambda b, hon, h: dict(cert_mod=lambda c: c.replace(issue_time=c.issue_time - 7200, expiry=c.issue_time + 3599))),
    ("not_yet_valid", "bad-cert-premature",
     lambda b, hon, h: dict(cert_mod=lambda c: c.replace(issue_time=c.expiry - 3599))),
    ("unknown_version", "bad-cert-version", lambda b, hon, h: dict(cert_mod=lambda c: c.replace(version=2))),
    ("truncated", "bad-cert-malformed",
     lambda b, hon, h: dict(post_mod=lambda blk: _with_cert_script(
         blk, _cert_script_raw(_cert_of(blk).serialize()[:-10])))),
    ("push_length_lies", "bad-cert-malformed",
     lambda b, hon, h: dict(post_mod=lambda blk: _with_cert_script(
         blk, certificate_output(_cert_of(blk)).script_pubkey[:-1]))),
    ("oversized", "bad-cert-oversize",
     lambda b, hon, h: dict(post_mod=lambda blk: _with_cert_script(
         blk, _cert_script_raw(_cert_of(blk).serialize() + bytes(600))))),
    ("missing", "bad-cert-missing", lambda b, hon, h: dict(post_mod=lambda blk: _with_cert_script(blk, None))),
]


def test_at_least_twelve_attacks():
    assert len({reason for _, reason, _ in ATTACKS}) >= 12


def test_certificate_attacks_rejected_chain_unharmed(tmp_path):
    b = new_builder(NETWORK, "attacks", params=PARAMS, coordinator_secret=_key_for)
    names = b.chain("c", 12)
    tip = names[-1]
    h = b.height_of(tip) + 1
    honest = b.block("honest", tip)
    chain = OurChain(str(tmp_path), PARAMS)
    try:
        for st in b.steps:
            assert chain.submit(st.block.serialize()).reason is None, st.name
        assert chain.tip == b[tip].hash
        tip_hash, utxo_hash = chain.tip, chain.chainstate.utxo_set_hash()
        failures = []
        for name, reason, kw in ATTACKS:
            blk = b.block(name, tip, **kw(b, honest, h))
            assert blk.header.prev_hash == b[tip].hash
            v = chain.submit(blk.serialize())
            if v.reason != reason:
                failures.append(f"{name}: want {reason}, got {v.reason}")
            assert chain.tip == tip_hash and chain.chainstate.utxo_set_hash() == utxo_hash, name
        assert not failures, "\n".join(failures)

        # Replay on another parent: the honest certificate (parent = tip) in a block at the same
        # height built on the tip's sibling.
        sibling = b.block("sibling", names[-2])
        assert chain.submit(sibling.serialize()).reason is None  # stored on a side branch
        assert chain.tip == tip_hash
        replay = b.block("replayed", "sibling", post_mod=_lift_cert_from(honest))
        assert b.height_of("replayed") == h
        v = chain.submit(replay.serialize())
        assert v.reason == "bad-cert-parent", v
        assert chain.tip == tip_hash and chain.chainstate.utxo_set_hash() == utxo_hash

        # The honest block still connects, and a block on it too.
        assert chain.submit(honest.serialize()).reason is None
        assert chain.tip == honest.hash
        after = b.block("after", "honest")
        assert chain.submit(after.serialize()).reason is None and chain.tip == after.hash
    finally:
        chain.close()


@pytest.mark.parametrize("seed", range(4))
def test_random_trees_behave_as_with_proof_of_work(seed, tmp_path):
    """The same random block tree (forks, invalid blocks, out-of-order sends) built once with
    proof of work and once with certificates: every submission gets the same verdict and the
    tip is the same named block after every step, so the proof rule does not change chain
    selection. (The proof-of-work sequence itself is compared with Core elsewhere.)"""
    from regtest.testing.blockscenarios import random_block_tree, scenario_params

    runs = []
    for network in ("bitcoin-regtest", NETWORK):
        seq = random_block_tree(network, seed, 100)
        names = {blk.hash: name for name, blk in seq}
        names[scenario_params(network).genesis_hash] = "genesis"
        chain = OurChain(str(tmp_path / network), scenario_params(network))
        try:
            runs.append([(name, v.reason, names[v.tip]) for name, blk in seq for v in [chain.submit(blk.serialize())]])
        finally:
            chain.close()
    assert runs[0] == runs[1]
