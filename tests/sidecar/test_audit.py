"""The audit test: from the certificate (taken from the sealed block) and the published log alone,
an independent function recomputes the winner and checks the contributions root."""

from __future__ import annotations

import copy
import json
from urllib import request

import pytest

from regtest.consensus.block import Block
from regtest.consensus.certificate import check_block_certificate, extract_certificate
from regtest.consensus.params import regtest_params
from sidecar.audit import AuditError, audit_cycle
from sidecar.crypto import Key
from sidecar.miner import Miner

from .helpers import Harness, digits_config


def get_json(url: str) -> dict:
    with request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    h = Harness(digits_config(tmp_path_factory.mktemp("audit")))
    try:
        miners = [Miner(h.url, Key.generate(), b"\x51\x20" + bytes([i]) * 32, quiet=True) for i in range(5)]
        for m in miners:
            m.register()
        h.connect_sealed(h.close_cycle())           # the empty first cycle
        cycles = []
        for _ in range(2):
            c = h.coord.cycle.id
            pre = get_json(f"{h.url}/v1/audit/{c}")
            assert pre["state"] == "open" and "seed" not in pre and len(pre["seed_commitment"]) == 64
            for m in miners:
                a = m.client.json("/v1/assignment", {"after": c - 1, "wait": 5})
                m.work(a)
            rec = h.close_cycle()
            h.connect_sealed(rec)
            cycles.append((c, pre["seed_commitment"]))
        logs = [(get_json(f"{h.url}/v1/audit/{c}"), commit) for c, commit in cycles]
        key = h.coord.key.xonly
    finally:
        h.stop()
    return logs, key


def test_audit_recomputes_winner_from_public_data(sealed):
    logs, key = sealed
    for log, commit_at_open in logs:
        block = Block.parse(bytes.fromhex(log["block"]))
        check_block_certificate(block, log["height"], regtest_params(key))
        cert = extract_certificate(block)
        assert log["seed_commitment"] == commit_at_open        # the seed was committed at cycle open
        report = audit_cycle(cert, log)
        assert report.winner_index is not None and report.total_weight > 0
        # The block pays exactly the recomputed winner.
        payouts = {o.script_pubkey for o in block.txs[0].vout if o.script_pubkey[:1] != b"\x6a"}
        assert payouts == {report.payout_script}
        assert report.payout_script.hex() == log["contributions"][report.winner_index]["payout"]


@pytest.mark.parametrize("tamper", ["score", "weight", "metric", "proof", "order", "seed_commit", "winner",
                                    "drop_entry", "cap", "payout"])
def test_audit_detects_tampering(sealed, tamper):
    log = sealed[0][0][0]
    cert = extract_certificate(Block.parse(bytes.fromhex(log["block"])))
    bad = copy.deepcopy(log)
    e = bad["contributions"]
    if tamper == "score":
        e[0]["score"] += 1
    elif tamper == "weight":
        e[0]["weight"] += 1
    elif tamper == "metric":
        e[0]["heldout_after"] -= 1000
    elif tamper == "proof":
        side, h = bad["proofs"][0][0]
        bad["proofs"][0][0] = [side, ("00" if h[:2] != "00" else "11") + h[2:]]
    elif tamper == "order":
        e.reverse()
        bad["proofs"].reverse()
    elif tamper == "seed_commit":
        bad["seed_commitment"] = "00" * 32
    elif tamper == "winner":
        bad["winner"] = (bad["winner"] + 1) % len(e)
    elif tamper == "drop_entry":
        del e[-1]
        del bad["proofs"][-1]
    elif tamper == "cap":
        bad["cap_permille"] = 1 if bad["cap_permille"] != 1 else 2
    elif tamper == "payout":
        e[bad["winner"]]["payout"] = "51" + "20" + "ab" * 32
    with pytest.raises(AuditError):
        audit_cycle(cert, bad)
