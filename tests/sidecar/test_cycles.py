"""Cycle binding to the node's tip, and never two certificates for one parent and height."""

from __future__ import annotations

import sqlite3

import pytest

from regtest.consensus.blockbuild import make_block
from regtest.consensus.certificate import check_block_certificate
from regtest.consensus.block import Block
from regtest.consensus.params import regtest_params
from sidecar.crypto import Key
from sidecar.miner import Miner
from sidecar.store import Store
from sidecar.zmqio import tip_from_rawblock

from .helpers import Harness, digits_config


def foreign_block(parent: Block, height: int, coord_params) -> Block:
    """Someone else's block on `parent` (e.g. a node's generatetoaddress)."""
    return make_block(coord_params, parent.hash, height, parent.header.time + 1, b"\x51", certificate_slot=True)


def test_tip_change_mid_cycle_rebinds(tmp_path):
    h = Harness(digits_config(tmp_path / "c"))
    try:
        miners = [Miner(h.url, Key.generate(), b"\x51", quiet=True) for _ in range(2)]
        for m in miners:
            m.register()
        rec = h.close_cycle()
        b1 = h.connect_sealed(rec)
        cycle = h.coord.cycle.id
        a = miners[0].client.json("/v1/assignment", {"after": 0, "wait": 5})
        assert a["height"] == 2
        miners[0].work(a)
        # A block from elsewhere arrives mid-cycle: the cycle keeps its work and moves to the new tip.
        other = foreign_block(b1, 2, h.coord.params)
        h.call(h.coord.on_tip(tip_from_rawblock(other.serialize())))
        assert h.coord.cycle.id == cycle and h.coord.cycle.height == 3 and h.coord.cycle.parent == other.hash
        a2 = miners[1].client.json("/v1/assignment", {"after": 0, "wait": 5})
        assert a2["cycle"] == cycle and a2["height"] == 3
        miners[1].work(a2)
        rec2 = h.close_cycle()
        assert len(rec2["contributions"]) == 2             # the submission made before the rebind counts
        block = Block.parse(bytes.fromhex(rec2["block"]))
        cert = check_block_certificate(block, 3, regtest_params(h.coord.key.xonly))
        assert cert.parent_hash == other.hash and cert.height == 3
        # A competing block at the sealed height replaces the tip: a new cycle opens on it.
        rival = foreign_block(other, 3, h.coord.params)
        h.call(h.coord.on_tip(tip_from_rawblock(rival.serialize())))
        assert h.coord.cycle.id == cycle + 1 and h.coord.cycle.parent == rival.hash
    finally:
        h.stop()


def test_restart_after_seal_republishes_instead_of_signing_again(tmp_path):
    cfg = digits_config(tmp_path / "c")
    h = Harness(cfg)
    try:
        rec = h.close_cycle()
    finally:
        h.stop()
    h2 = Harness(cfg)
    try:
        # The tip has not moved: the restarted coordinator must not open a cycle on the same parent.
        c = h2.coord.cycle
        assert c.id == rec["cycle"] and c.state == "sealed"
        rows = h2.coord.store.db.execute("SELECT COUNT(*) FROM certificates").fetchone()[0]
        assert rows == 1
        got = h2.coord.store.certificate_for(bytes.fromhex(rec["parent"]), rec["height"])
        assert got[1].hex() == rec["certificate"]
        # Opening a cycle explicitly on the same tip is refused as well.
        h2.call(h2.coord._open_cycle())
        assert h2.coord.cycle.id == rec["cycle"]
    finally:
        h2.stop()


def test_store_refuses_second_certificate(tmp_path):
    s = Store(tmp_path)
    parent = b"\x01" * 32
    from sidecar.store import CycleRow
    for cid in (1, 2):
        s.insert_cycle(CycleRow(cid, parent, 5, 0, b"s" * 32, b"h" * 32, "0" * 64, 0.0, 1.0, "open", None, None), [])
    s.seal(1, parent, 5, b"cert1", b"block1", "a" * 64, "{}")
    with pytest.raises(sqlite3.IntegrityError):
        s.seal(2, parent, 5, b"cert2", b"block2", "b" * 64, "{}")
    assert s.certificate_for(parent, 5) == (1, b"cert1", b"block1")
    assert s.cycle(2).state == "open"                      # the failed seal left nothing behind
    s.close()


def test_register_with_address_and_errors(tmp_path):
    import json as _json
    from urllib import error, request

    from regtest.consensus.address import encode_segwit

    h = Harness(digits_config(tmp_path / "c"))
    try:
        k = Key.generate()
        prog = bytes(range(20))

        def reg(payload: dict) -> tuple[int, dict]:
            body = _json.dumps(payload).encode()
            req = request.Request(h.url + "/v1/register", data=body, method="POST",
                                  headers=k.sign_request("POST", "/v1/register", body))
            try:
                with request.urlopen(req, timeout=30) as r:
                    return r.status, _json.loads(r.read())
            except error.HTTPError as e:
                return e.code, _json.loads(e.read())

        st, js = reg({"address": encode_segwit("bcrt", 0, prog)})
        assert st == 200 and js["miner"] == k.xonly.hex()
        assert h.coord.store.miner_payout(k.xonly) == b"\x00\x14" + prog
        st, js = reg({"address": "bc1qnotregtest"})
        assert (st, js["error"]["code"]) == (400, "bad-address")
        st, js = reg({"payout": "6a00"})                 # OP_RETURN cannot be paid
        assert (st, js["error"]["code"]) == (400, "bad-payout")
        try:
            request.urlopen(h.url + "/v1/audit/999", timeout=30)
            raise AssertionError("expected 404")
        except error.HTTPError as e:
            assert e.code == 404 and _json.loads(e.read())["error"]["code"] == "not-found"
    finally:
        h.stop()
