"""The attack suite: dishonest miners against a real coordinator over HTTP.

Every attacker earns nothing (or gets a clear JSON error with the right status), the global model
never gets worse on the cycle's held-out sample, and no cheater wins a lottery.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib import error, request

import pytest
import torch

from sidecar import wire
from sidecar.audit import audit_cycle
from sidecar.crypto import Key
from sidecar.miner import Miner
from sidecar.segments import Segment
from sidecar.tasks import spec_from_json
from sidecar.training import TrainConfig, apply_delta, eval_loss, train_segment

from .helpers import Harness, digits_config

MAX_SUBMISSION = 1 << 20


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = request.Request(url + path, data=body, headers={"Content-Type": "application/octet-stream", **headers},
                          method="POST")
    try:
        with request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except error.HTTPError as e:
        return e.code, json.loads(e.read())


class Actor:
    """A miner identity that can build honest or doctored submissions."""

    def __init__(self, url: str, register: bool = True) -> None:
        self.key = Key.generate()
        self.url = url
        self.m = Miner(url, self.key, self.key.p2wpkh_script(), quiet=True)
        if register:
            self.m.register()

    def assignment(self) -> dict[str, Any]:
        a = self.m.client.json("/v1/assignment", {"after": 0, "wait": 0})
        assert a["status"] == "assigned"
        return a

    def honest(self, a: dict[str, Any], steps: int = 40) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        spec = spec_from_json(a["task"])
        seg = Segment.from_json(a["segment"])
        state = self.m.model(a["model"])
        shard, _ = wire.decode(self.m.client.call("POST", "/v1/shard", json.dumps({"cycle": a["cycle"]}).encode()))
        delta = train_segment(spec, state, seg, shard["x"], shard["y"], TrainConfig(steps=steps, lr=0.05, batch=64))
        return delta, self.meta(a, delta)

    def meta(self, a: dict[str, Any], delta: dict[str, torch.Tensor], **over: str) -> dict[str, str]:
        """Truthful metadata for `delta` (the shard losses computed as the coordinator would)."""
        spec = spec_from_json(a["task"])
        seg = Segment.from_json(a["segment"])
        state = self.m.model(a["model"])
        shard, _ = wire.decode(self.m.client.call("POST", "/v1/shard", json.dumps({"cycle": a["cycle"]}).encode()))
        mod = spec.build()
        before = eval_loss(spec, mod, state, shard["x"], shard["y"])
        try:
            after = eval_loss(spec, mod, apply_delta(state, seg, delta), shard["x"], shard["y"])
        except RuntimeError:  # shapes that do not fit the segment
            after = before
        m = {"cycle": str(a["cycle"]), "base": a["model"], "segment": str(seg.id), "shard": str(a["shard"]),
             "shard_before": repr(before), "shard_after": repr(after)}
        m.update(over)
        return m

    def submit_body(self, body: bytes) -> tuple[int, dict[str, Any]]:
        return post(self.url, "/v1/submit", body, self.key.sign_request("POST", "/v1/submit", body))

    def submit(self, delta: dict[str, torch.Tensor], meta: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return self.submit_body(wire.encode(delta, meta))


def expect(res: tuple[int, dict[str, Any]], status: int, code: str) -> None:
    got_status, body = res
    assert (got_status, body.get("error", {}).get("code")) == (status, code), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.fixture
def harness(tmp_path):
    h = Harness(digits_config(tmp_path / "coord"), max_submission=MAX_SUBMISSION)
    yield h
    h.stop()


def test_attack_suite(harness):
    url = harness.url
    honest = [Actor(url) for _ in range(4)]             # registry indices 0..3
    names = ["false_claims", "nan", "inf", "huge_norm", "copy_exact", "copy_near", "outside_extra",
             "outside_rows", "wrong_cycle", "bad_sig", "oversized", "malformed", "prober", "stale", "late",
             "wrong_segment"]
    att = {n: Actor(url) for n in names}                 # indices 4..19: copy_exact is 8, copy_near is 9
    outsider = Actor(url, register=False)
    # The first cycle opened before anyone registered: close it (empty) and start a fresh one.
    harness.connect_sealed(harness.close_cycle())
    c1 = harness.coord.cycle.id

    ha = [h.assignment() for h in honest]
    hsub = []
    for h, a in zip(honest, ha):
        d, m = h.honest(a)
        body = wire.encode(d, m)
        hsub.append((d, body))
        st, js = h.submit_body(body)
        assert st == 200 and js["status"] == "verified", js

    A = {n: x.assignment() for n, x in att.items()}
    assert A["copy_exact"]["segment"] == ha[0]["segment"] and A["copy_near"]["segment"] == ha[1]["segment"]

    d, m = att["false_claims"].honest(A["false_claims"])
    expect(att["false_claims"].submit(d, {**m, "shard_after": "0.0001"}), 422, "claim-mismatch")

    d, m = att["nan"].honest(A["nan"])
    k = next(iter(d))
    d[k].view(-1)[0] = float("nan")
    expect(att["nan"].submit(d, m), 422, "non-finite")

    d, m = att["inf"].honest(A["inf"])
    d[k].view(-1)[-1] = float("inf")
    expect(att["inf"].submit(d, m), 422, "non-finite")

    d, m = att["huge_norm"].honest(A["huge_norm"])
    d = {n: t * 1e4 for n, t in d.items()}
    expect(att["huge_norm"].submit(d, att["huge_norm"].meta(A["huge_norm"], d)), 422, "norm-too-large")

    d0 = hsub[0][0]
    expect(att["copy_exact"].submit(d0, att["copy_exact"].meta(A["copy_exact"], d0)), 409, "duplicate-update")
    d1 = {n: t + 1e-6 * torch.randn_like(t) for n, t in hsub[1][0].items()}
    expect(att["copy_near"].submit(d1, att["copy_near"].meta(A["copy_near"], d1)), 409, "copied-update")

    d, m = att["outside_extra"].honest(A["outside_extra"])
    spec = spec_from_json(A["outside_extra"]["task"])
    seg_names = {s[0] for s in A["outside_extra"]["segment"]["slices"]}
    other = next(n for n in ("2.bias", "0.weight") if n not in seg_names)
    d[other] = torch.zeros_like(dict(spec.build().state_dict())[other])
    expect(att["outside_extra"].submit(d, m), 422, "outside-segment")

    d, m = att["outside_rows"].honest(A["outside_rows"])
    d["0.weight"] = torch.zeros(64, 64)                  # the whole tensor instead of its rows
    expect(att["outside_rows"].submit(d, m), 422, "outside-segment")

    d, m = att["wrong_cycle"].honest(A["wrong_cycle"])
    expect(att["wrong_cycle"].submit(d, {**m, "cycle": str(c1 + 5)}), 409, "wrong-cycle")

    d, m = att["bad_sig"].honest(A["bad_sig"])
    body = wire.encode(d, m)
    hdr = att["bad_sig"].key.sign_request("POST", "/v1/submit", body)
    hdr["X-Potc-Sig"] = ("0" if hdr["X-Potc-Sig"][0] != "0" else "1") + hdr["X-Potc-Sig"][1:]
    expect(post(url, "/v1/submit", body, hdr), 401, "bad-signature")
    expect(post(url, "/v1/submit", body, {}), 401, "bad-signature")

    body = wire.encode(hsub[2][0], {"cycle": str(c1)})
    expect(outsider.submit_body(body), 403, "unregistered")
    expect(post(url, "/v1/assignment", b"{}", outsider.key.sign_request("POST", "/v1/assignment", b"{}")),
           403, "unregistered")

    big = os.urandom(MAX_SUBMISSION + 10)
    expect(att["oversized"].submit_body(big), 413, "too-large")
    expect(att["malformed"].submit_body(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}" + b"x" * 40),
           400, "malformed-payload")
    bad_json = json.dumps({"payout": "zz"}).encode()
    expect(post(url, "/v1/register", bad_json, att["malformed"].key.sign_request("POST", "/v1/register", bad_json)),
           400, "bad-payout")

    # Random probing of the evaluation: a random update with truthful claims, then a second try.
    real, _ = att["prober"].honest(A["prober"], steps=1)
    gen = torch.Generator().manual_seed(11)
    probe = {n: 0.05 * torch.randn(t.shape, generator=gen) for n, t in real.items()}
    st, js = att["prober"].submit(probe, att["prober"].meta(A["prober"], probe))
    assert st == 200, js
    probe2 = {n: 0.05 * torch.randn_like(t) for n, t in real.items()}
    expect(att["prober"].submit(probe2, att["prober"].meta(A["prober"], probe2)), 409, "duplicate-submission")

    d, m = att["wrong_segment"].honest(A["wrong_segment"])
    expect(att["wrong_segment"].submit(d, {**m, "segment": str((int(m["segment"]) + 1) % 8)}), 422,
           "wrong-assignment")

    # Late: the cycle has closed and the next one has not opened.
    d_late, m_late = att["late"].honest(A["late"])
    rec1 = harness.close_cycle()
    expect(att["late"].submit(d_late, m_late), 409, "cycle-closed")
    stale_delta, stale_meta = d_late, m_late
    harness.connect_sealed(rec1)

    # Cycle 2: replay an honest miner's cycle-1 submission, and a stale-base update.
    c2 = harness.coord.cycle.id
    assert c2 == c1 + 1
    expect(honest[2].submit_body(hsub[2][1]), 409, "wrong-cycle")
    a2 = att["stale"].m.client.json("/v1/assignment", {"after": c1, "wait": 5})
    assert a2["cycle"] == c2
    meta2 = {**stale_meta, "cycle": str(c2), "segment": str(a2["segment"]["id"]), "shard": str(a2["shard"])}
    expect(att["stale"].submit(stale_delta, meta2), 409, "stale-base")
    for h in honest:
        a = h.m.client.json("/v1/assignment", {"after": c1, "wait": 5})
        d, m = h.honest(a)
        assert h.submit(d, m)[0] == 200
    # The same honest body again in the same cycle: only one submission per miner per cycle.
    expect(honest[3].submit(d, m), 409, "duplicate-submission")
    rec2 = harness.close_cycle()

    cheaters = {x.key.xonly.hex() for x in att.values()} | {outsider.key.xonly.hex()}
    honest_keys = {h.key.xonly.hex() for h in honest}
    for rec in (rec1, rec2):
        assert rec["heldout_loss_after"] <= rec["heldout_loss_before"]
        for e in rec["contributions"]:
            if e["miner"] in cheaters:
                assert e["score"] == 0 and e["weight"] == 0, e
        assert rec["winner"] is not None
        assert rec["contributions"][rec["winner"]]["miner"] in honest_keys
        assert audit_cycle(bytes.fromhex(rec["certificate"]), rec).winner_miner in honest_keys
        assert not set(rec["merged"]) & cheaters
    probe_entry = next(e for e in rec1["contributions"] if e["miner"] == att["prober"].key.xonly.hex())
    assert probe_entry["score"] == 0 and abs(probe_entry["alignment"]) < 200, probe_entry
    codes = {r["code"] for r in rec1["rejections"]}
    assert {"claim-mismatch", "non-finite", "norm-too-large", "duplicate-update", "copied-update",
            "outside-segment", "wrong-assignment"} <= codes
