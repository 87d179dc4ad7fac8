"""The training coordinator: cycles bound to the node's tip, verification, merge, lottery, sealing.

Life of a cycle (all persisted in `Store` before anything is announced):
  open   -> a fresh lottery seed is committed, a fresh held-out sample drawn (from a secret), every
            registered miner gets a segment and a shard; miners submit one update each;
  close  -> (deadline, or every assigned miner has answered) scores, merge, checkpoint, lottery,
            block sealed for the winner; certificate, log and new model committed in one transaction,
            then published on ZMQ;
  sealed -> waits for the node's tip to move; then the next cycle opens on the new tip.
A tip change while a cycle is open rebinds the cycle to the new parent and height (the training
work does not depend on the parent).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import torch

from regtest.consensus.block import Block
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.params import NetworkParams, regtest_params

from . import wire
from .audit import leaf_hash
from .crypto import Key, load_or_create_key
from .lottery import draw_winner, seed_commitment
from .merkle import merkle_proof, merkle_root
from .scoring import ScoreWeights, cap_weights, quantise, score
from .segments import Segment
from .store import CycleRow, Store
from .tasks import Task, make_task
from .template import ParentOnlyTemplateSource, Template, TemplateSource, seal_block
from .training import load_model
from .verify import Assignment, CycleVerifier, Rejected, Submission, VerifyLimits, update_hash
from .zmqio import FramedPublisher, Tip

log = logging.getLogger("potc.sidecar")


@dataclass
class CoordinatorConfig:
    datadir: Path
    task: str = "digits"
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    cycle_seconds: float = 5.0
    heldout_size: int = 300
    cap_permille: int = 500
    score_weights: ScoreWeights = ScoreWeights()
    limits: VerifyLimits = VerifyLimits()
    train_hints: dict[str, Any] = field(default_factory=lambda: {"steps": 50, "lr": 0.05, "batch": 64})
    cert_validity: int = 7200
    model_seed: int = 0
    early_close: bool = True
    max_miners: int = 100_000
    params: NetworkParams | None = None       # default: regtest with this coordinator's key
    fallback_payout: bytes | None = None      # paid when no contribution scored; default: own key


def state_blob(state: dict[str, torch.Tensor]) -> tuple[str, bytes]:
    blob = wire.encode(state)
    return hashlib.sha256(blob).hexdigest(), blob


class Coordinator:
    def __init__(self, cfg: CoordinatorConfig, task: Task | None = None,
                 templates: TemplateSource | None = None, publisher: FramedPublisher | None = None,
                 tip_source: "Callable[[], Awaitable[Tip]] | None" = None) -> None:
        """`tip_source` gives the node's tip on a first start (else genesis)."""
        self.cfg = cfg
        self.tip_source = tip_source
        self.task = task or make_task(cfg.task, **cfg.task_kwargs)
        self.spec = self.task.spec
        self.segments: list[Segment] = self.spec.segments()
        self.templates = templates or ParentOnlyTemplateSource()
        self.publisher = publisher
        self.store = Store(cfg.datadir)
        self.key: Key = load_or_create_key(Path(cfg.datadir) / "coordinator.key")
        self.params = cfg.params or regtest_params(self.key.xonly)
        self.fallback_payout = cfg.fallback_payout or self.key.p2wpkh_script()
        self.cycle: CycleRow | None = None
        self.verifier: CycleVerifier | None = None
        self.assign: dict[bytes, tuple[int, int]] = {}
        self.answered: set[bytes] = set()
        self.claimed: set[bytes] = set()
        self._registered: set[bytes] = set()
        self._shard_blobs: dict[int, bytes] = {}
        self._checkpoint_cache: tuple[str, bytes] | None = None
        self.verified_count = 0
        self.tip: Tip | None = None
        self.changed = asyncio.Condition()
        self.lock = asyncio.Lock()          # one verification / close at a time
        self.wake = asyncio.Event()
        self.sealed_heights: dict[bytes, int] = {}
        self.cpu_verify = 0.0
        self.cpu_close = 0.0
        self._stop = False
        self.republish_interval = 2.0

    # --- start-up and recovery ----------------------------------------------------------------
    async def start(self) -> None:
        cur = self.store.get_meta("current_model")
        if cur is None:
            h, blob = state_blob(self.task.initial_state(self.cfg.model_seed))
            self.store.write_checkpoint(h, blob, 0)
            self.store.set_meta("current_model", h)
        t = self.store.get_meta("tip")
        if self.tip_source is not None:
            # The node's view wins over the stored one: blocks may have arrived while we were down.
            try:
                tip = await self.tip_source()
                t = [tip.hash.hex(), tip.height, tip.time]
                self.store.set_meta("tip", t)
            except Exception as e:
                log.warning("could not read the node's tip (%s): using the last one seen", e)
        if t is None:
            g = self.params.genesis
            self.tip = Tip(g.hash, 0, g.header.time)
            self.store.set_meta("tip", [g.hash.hex(), 0, g.header.time])
        else:
            self.tip = Tip(bytes.fromhex(t[0]), t[1], t[2])
        for row in self.store.db.execute("SELECT height, block FROM certificates"):
            self.sealed_heights[Block.parse(bytes(row[1])).hash] = row[0]
        last = self.store.latest_cycle()
        if last is not None and last.state == "open":
            self.store.db.execute("DELETE FROM submissions WHERE cycle=? AND status='pending'", (last.id,))
            # Give miners (backing off while we were down) a fresh window to answer.
            deadline = max(last.deadline, time.time() + self.cfg.cycle_seconds)
            self.store.db.execute("UPDATE cycles SET deadline=? WHERE id=?", (deadline, last.id))
            last = self.store.cycle(last.id)
            self._activate(last)
            for s in self.store.submissions(last.id):
                if s["status"] == "verified":
                    seg, _ = self.assign[s["miner"]]
                    tensors, _ = wire.decode(s["delta"])
                    self.verifier.remember(tensors, seg, s["measured"]["update"])
            log.info("resumed open cycle %d", last.id)
        elif last is not None:
            self.cycle = last
            await self._republish(last.parent, last.height)
        if self.cycle is None or (self.cycle.state == "sealed" and self.cycle.parent != self.tip.hash):
            await self._open_cycle()

    def _activate(self, row: CycleRow) -> None:
        self.cycle = row
        self.assign = self.store.assignments(row.id)
        subs = self.store.submissions(row.id)
        self.answered = {s["miner"] for s in subs if s["status"] != "pending"}
        self.claimed = {s["miner"] for s in subs}
        self.verified_count = sum(1 for s in subs if s["status"] == "verified")
        blob = self.store.read_checkpoint(row.base_model)
        assert blob is not None, "checkpoint missing"
        state, _ = wire.decode(blob, max_tensors=10_000)
        g = torch.Generator().manual_seed(int.from_bytes(row.heldout_secret[:8], "little"))
        heldout = self.task.heldout_sample(g, self.cfg.heldout_size)
        self.verifier = CycleVerifier(self.spec, row.id, row.base_model, state, heldout, self.task.shard,
                                      self.cfg.limits)

    def _assignment_of(self, index: int, cycle: int) -> tuple[int, int]:
        nseg, nsh = len(self.segments), self.task.num_shards()
        return (index + cycle) % nseg, (index + 3 * cycle) % nsh

    async def _open_cycle(self) -> None:
        assert self.tip is not None and self.tip.height is not None
        last = self.store.latest_cycle()
        cid = 1 if last is None else last.id + 1
        if self.store.certificate_for(self.tip.hash, self.tip.height + 1) is not None:
            # Already sealed a block on this tip (restart before the node took it): republish, wait.
            await self._republish(self.tip.hash, self.tip.height + 1)
            return
        now = time.time()
        miners = self.store.miners()
        assignments = []
        for i, (_seq, xonly, _payout) in enumerate(miners):
            seg, sh = self._assignment_of(i, cid)
            assignments.append((xonly, seg, sh))
        row = CycleRow(cid, self.tip.hash, self.tip.height + 1, self.tip.time or 0, os.urandom(32), os.urandom(32),
                       self.store.get_meta("current_model"), now, now + self.cfg.cycle_seconds, "open", None, None)
        self.store.insert_cycle(row, assignments)
        self._activate(row)
        log.info("cycle %d open: parent %s height %d, %d miners", cid, hash_to_hex(row.parent), row.height,
                 len(assignments))
        async with self.changed:
            self.changed.notify_all()
        self.wake.set()

    async def _republish(self, parent: bytes, height: int) -> None:
        """Announce the block sealed on (parent, height) again and hand it to the node again.
        No second certificate is ever signed for that slot, so if the node never got the block
        (down or restarting at the seal, a dropped ZMQ message) this is the only way on."""
        got = self.store.certificate_for(parent, height)
        if got is None:
            return
        _cycle, cert, block = got
        if self.publisher is not None:
            self.publisher.send(b"certificate", cert)
            self.publisher.send(b"sealedblock", block)
        await self._submit(Block.parse(block))

    async def _submit(self, block: Block) -> None:
        """submitblock through the template source, when it has a node; never raises."""
        submit = getattr(self.templates, "submit_block", None)
        if submit is None:
            return
        try:
            reason = await submit(block)
            if reason not in (None, "duplicate"):
                log.error("node refused sealed block %s: %s", hash_to_hex(block.hash), reason)
        except Exception as e:  # the node being down must not lose the (persisted) block
            log.error("could not submit block %s: %s", hash_to_hex(block.hash), e)

    # --- tip following --------------------------------------------------------------------------
    async def on_tip(self, tip: Tip) -> None:
        if tip.height is None:
            h = self.sealed_heights.get(tip.hash)
            if h is None:
                log.debug("hashblock %s of unknown height: waiting for its rawblock", hash_to_hex(tip.hash))
                return
            tip = Tip(tip.hash, h, tip.time, tip.block)
        if tip.time is None:
            tip = Tip(tip.hash, tip.height, int(time.time()), tip.block)
        if self.tip is not None and tip.hash == self.tip.hash:
            return
        async with self.lock:
            self.tip = tip
            self.store.set_meta("tip", [tip.hash.hex(), tip.height, tip.time])
            if self.cycle is not None and self.cycle.state == "open":
                self.store.rebind_cycle(self.cycle.id, tip.hash, tip.height + 1, tip.time)
                self.cycle = self.store.cycle(self.cycle.id)
                log.info("cycle %d rebound to new tip %s height %d", self.cycle.id, hash_to_hex(tip.hash),
                         tip.height + 1)
            else:
                await self._open_cycle()

    # --- miners ---------------------------------------------------------------------------------
    def register(self, xonly: bytes, payout: bytes) -> int:
        if len(self.store.miners()) >= self.cfg.max_miners and self.store.miner_payout(xonly) is None:
            raise Rejected("registry-full", "no more miners accepted", 503)
        seq, _ = self.store.add_miner(xonly, payout)
        return seq

    def is_registered(self, xonly: bytes) -> bool:
        if xonly in self._registered:
            return True
        if self.store.miner_payout(xonly) is not None:
            self._registered.add(xonly)
            return True
        return False

    def assignment_json(self, xonly: bytes) -> dict[str, Any] | None:
        c = self.cycle
        if c is None or c.state != "open":
            return None
        if xonly not in self.assign:
            if not self.is_registered(xonly):
                return None
            index = [m[1] for m in self.store.miners()].index(xonly)
            seg, sh = self._assignment_of(index, c.id)
            self.store.add_assignment(c.id, xonly, seg, sh)
            self.assign[xonly] = (seg, sh)
        seg, sh = self.assign[xonly]
        return {"cycle": c.id, "parent": hash_to_hex(c.parent), "height": c.height, "model": c.base_model,
                "segment": self.segments[seg].to_json(), "shard": sh, "deadline": c.deadline,
                "seed_commitment": seed_commitment(c.seed).hex(), "task": self.spec.to_json(),
                "train": self.cfg.train_hints}

    async def wait_assignment(self, xonly: bytes, after: int, timeout: float) -> dict[str, Any] | None:
        end = time.monotonic() + timeout
        async with self.changed:
            while True:
                a = self.assignment_json(xonly)
                if a is not None and a["cycle"] > after:
                    return a
                left = end - time.monotonic()
                if left <= 0:
                    return None
                try:
                    await asyncio.wait_for(self.changed.wait(), left)
                except asyncio.TimeoutError:
                    return None

    def shard_blob(self, xonly: bytes, cycle: int) -> bytes:
        c = self.cycle
        if c is None or c.id != cycle or c.state != "open":
            raise Rejected("wrong-cycle", "no such open cycle", 409)
        if xonly not in self.assign:
            raise Rejected("not-assigned", "no assignment for this miner in this cycle", 403)
        index = self.assign[xonly][1]
        if index not in self._shard_blobs:  # shards never change: encode each once
            x, y = self.task.shard(index)
            self._shard_blobs[index] = wire.encode({"x": x, "y": y})
        return self._shard_blobs[index]

    # --- submissions ----------------------------------------------------------------------------
    def parse_submission(self, xonly: bytes, blob: bytes) -> Submission:
        tensors, meta = wire.decode(blob)
        try:
            return Submission(xonly, int(meta["cycle"]), meta["base"], int(meta["segment"]), int(meta["shard"]),
                              float(meta["shard_before"]), float(meta["shard_after"]), tensors)
        except (KeyError, ValueError) as e:
            raise wire.PayloadError(f"bad submission metadata: {e}") from None

    async def submit(self, xonly: bytes, blob: bytes) -> dict[str, Any]:
        """Verify and record one update; raises Rejected (or wire.PayloadError) on failure."""
        sub = self.parse_submission(xonly, blob)
        c = self.cycle
        if c is None or c.state != "open" or sub.cycle != c.id:
            late = c is not None and sub.cycle == c.id
            raise Rejected("cycle-closed" if late else "wrong-cycle",
                           "the cycle is closed" if late else f"no open cycle {sub.cycle}", 409)
        if xonly not in self.assign:
            raise Rejected("not-assigned", "no assignment for this miner in this cycle", 403)
        # The slot is taken in memory at once (concurrent duplicates lose) and made durable with the
        # verdict; a crash in between loses only an unanswered submission.
        if xonly in self.claimed:
            raise Rejected("duplicate-submission", "one submission per miner per cycle", 409)
        self.claimed.add(xonly)
        seg, sh = self.assign[xonly]
        a = Assignment(xonly, self.segments[seg], sh)
        async with self.lock:
            if self.cycle is None or self.cycle.id != sub.cycle or self.cycle.state != "open":
                self.store.finish_submission(sub.cycle, xonly, "rejected", "cycle-closed", "the cycle closed")
                raise Rejected("cycle-closed", "the cycle is closed", 409)
            t0 = time.process_time()
            try:
                m = await asyncio.to_thread(self.verifier.verify, sub, a)
            except Rejected as r:
                self.store.finish_submission(c.id, xonly, "rejected", r.code, r.message)
                self.answered.add(xonly)
                raise
            finally:
                self.cpu_verify += time.process_time() - t0
            measured = {"segment": seg, "shard": sh, "trained": m.trained, "segment_size": m.segment_size,
                        "heldout_before": quantise(m.heldout_before), "heldout_after": quantise(m.heldout_after),
                        "shard_before": quantise(m.shard_before), "shard_after": quantise(m.shard_after),
                        "alignment": m.alignment, "update": m.update_hash}
            self.store.finish_submission(c.id, xonly, "verified", None, None, measured, blob)
            self.answered.add(xonly)
            self.verified_count += 1
        if self.cfg.early_close and self._all_answered():
            self.wake.set()
        return {"status": "verified", "cycle": c.id, "trained": m.trained}

    def _all_answered(self) -> bool:
        """Every assigned miner has had its submission judged, and at least one verified."""
        return bool(self.assign) and set(self.assign) <= self.answered and self.verified_count > 0

    # --- closing --------------------------------------------------------------------------------
    async def run(self) -> None:
        """The cycle driver: close open cycles at their deadline (or early), forever."""
        while not self._stop:
            c = self.cycle
            if c is not None and c.state == "open":
                left = c.deadline - time.time()
                if left <= 0 or (self.cfg.early_close and self._all_answered()):
                    await self.close_cycle()
                    continue
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), left)
                except asyncio.TimeoutError:
                    pass
            else:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), self.republish_interval)
                except asyncio.TimeoutError:
                    # Sealed and the tip has not moved: either we missed the node's announcement
                    # (ask the node, when we can) or the node missed the block (a PUB socket drops
                    # messages to late subscribers), so announce it again.
                    if c is not None and c.state == "sealed" and self.tip is not None and c.parent == self.tip.hash:
                        await self._poll_tip()
                        if self.tip is not None and c.parent == self.tip.hash:
                            await self._republish(c.parent, c.height)

    async def _poll_tip(self) -> None:
        if self.tip_source is None:
            return
        try:
            tip = await self.tip_source()
        except Exception as e:  # the node may be restarting: try again next round
            log.warning("could not read the node's tip: %s", e)
            return
        await self.on_tip(tip)

    def stop(self) -> None:
        self._stop = True
        self.wake.set()

    async def close_cycle(self) -> dict[str, Any]:
        async with self.lock:
            t0 = time.process_time()
            try:
                return await self._close_locked()
            finally:
                self.cpu_close += time.process_time() - t0

    async def _close_locked(self) -> dict[str, Any]:
        c = self.cycle
        assert c is not None and c.state == "open" and self.verifier is not None
        subs = self.store.submissions(c.id)
        payouts = {m[1]: m[2] for m in self.store.miners()}
        verified = sorted((s for s in subs if s["status"] == "verified"), key=lambda s: s["miner"])
        w = self.cfg.score_weights
        entries, deltas = [], []
        for s in verified:
            m = s["measured"]
            sc = score(m["heldout_before"] - m["heldout_after"], m["shard_before"] - m["shard_after"],
                       m["trained"], m["segment_size"], m["alignment"], w)
            entries.append({"cycle": c.id, "miner": s["miner"].hex(), "payout": payouts[s["miner"]].hex(),
                            "segment": m["segment"], "shard": m["shard"], "trained": m["trained"],
                            "segment_size": m["segment_size"], "heldout_before": m["heldout_before"],
                            "heldout_after": m["heldout_after"], "shard_before": m["shard_before"],
                            "shard_after": m["shard_after"], "alignment": m["alignment"], "score": sc, "weight": 0,
                            "update": m["update"]})
            deltas.append(s["delta"])
        weights = cap_weights([e["score"] for e in entries], self.cfg.cap_permille)
        for e, wt in zip(entries, weights):
            e["weight"] = wt
        # Merge the scored updates (positive score = reduced both held-out and own-shard loss).
        ups = []
        idx_map = []
        for i, (e, d) in enumerate(zip(entries, deltas)):
            if e["score"] > 0:
                tensors, _ = wire.decode(d)
                ups.append((self.segments[e["segment"]], tensors, float(e["score"])))
                idx_map.append(i)
        new_state, merged, loss_after = await asyncio.to_thread(self.verifier.merge, ups)
        model_after, blob = state_blob(new_state)
        self.store.write_checkpoint(model_after, blob, c.id)
        leaves = [leaf_hash(e) for e in entries]
        root = merkle_root(leaves)
        winner = draw_winner(c.seed, root, weights)
        payout = self.fallback_payout if winner is None else bytes.fromhex(entries[winner]["payout"])
        tx, ty = self.task.test_set()
        acc = self.spec.accuracy(load_model(self.spec, new_state), tx, ty)
        tpl = await self._template(c, payout)
        if (tpl.parent, tpl.height) != (c.parent, c.height):
            log.info("template is for parent %s height %d: sealing for it", hash_to_hex(tpl.parent), tpl.height)
            self.store.rebind_cycle(c.id, tpl.parent, tpl.height, c.parent_time)
            c = self.store.cycle(c.id)
            if self.store.certificate_for(c.parent, c.height) is not None:
                raise RuntimeError("a certificate for the template's parent and height already exists")
        block, cert = seal_block(self.params, tpl, payout, c.id, bytes.fromhex(model_after), root, c.seed,
                                 self.cfg.cert_validity, self.key.priv.secret)
        record = {
            "cycle": c.id, "parent": c.parent.hex(), "parent_display": hash_to_hex(c.parent), "height": c.height,
            "seed_commitment": seed_commitment(c.seed).hex(), "seed": c.seed.hex(),
            "base_model": c.base_model, "model_after": model_after,
            "score_weights": {"loss": w.loss, "params": w.params, "min_gain": w.min_gain,
                              "min_alignment": w.min_alignment}, "cap_permille": self.cfg.cap_permille,
            "fallback_payout": self.fallback_payout.hex(),
            "heldout_loss_before": quantise(self.verifier.heldout_before), "heldout_loss_after": quantise(loss_after),
            "test_accuracy": acc, "merged": [entries[idx_map[i]]["miner"] for i in merged],
            "contributions": entries, "proofs": [[[s, h.hex()] for s, h in merkle_proof(leaves, i)]
                                                 for i in range(len(leaves))],
            "contributions_root": root.hex(), "winner": winner, "payout_script": payout.hex(),
            "rejections": [{"miner": s["miner"].hex(), "code": s["code"], "message": s["message"]}
                           for s in subs if s["status"] == "rejected"],
            "certificate": cert.serialize().hex(), "block_hash": hash_to_hex(block.hash),
            "block": block.serialize().hex(),
        }
        try:
            self.store.seal(c.id, c.parent, c.height, cert.serialize(), block.serialize(), model_after,
                            json.dumps(record))
        except sqlite3.IntegrityError:
            log.error("a certificate for parent %s height %d already exists: not signing another",
                      hash_to_hex(c.parent), c.height)
            with self.store.tx():
                self.store.db.execute("UPDATE cycles SET state='sealed', model_after=?, log_json=? WHERE id=?",
                                      (model_after, json.dumps({**record, "certificate": None, "block": None,
                                                                "superseded": True}), c.id))
                self.store.set_meta("current_model", model_after)
            self.cycle = self.store.cycle(c.id)
            await self._republish(c.parent, c.height)
            return record
        self.sealed_heights[block.hash] = c.height
        self.cycle = self.store.cycle(c.id)
        self.verifier = None
        if self.publisher is not None:
            self.publisher.send(b"certificate", cert.serialize())
            self.publisher.send(b"sealedblock", block.serialize())
        await self._submit(block)
        log.info("cycle %d sealed: %d contributions, winner %s, held-out loss %.4f -> %.4f, accuracy %s",
                 c.id, len(entries), None if winner is None else entries[winner]["miner"][:16],
                 record["heldout_loss_before"] / 1e6, loss_after, acc)
        async with self.changed:
            self.changed.notify_all()
        return record

    async def _template(self, c: CycleRow, payout: bytes) -> "Template":
        """The source's template, or a coinbase-only one if the source cannot give one."""
        try:
            return await self.templates.template(c.parent, c.height, c.parent_time)
        except Exception as e:
            log.error("no template from the node (%s): sealing a coinbase-only block", e)
        return await ParentOnlyTemplateSource().template(c.parent, c.height, c.parent_time)

    # --- public reads -----------------------------------------------------------------------------
    def checkpoint(self, h: str) -> bytes | None:
        """A checkpoint's bytes; the newest one is kept in memory (every miner fetches it)."""
        if self._checkpoint_cache is not None and self._checkpoint_cache[0] == h:
            return self._checkpoint_cache[1]
        blob = self.store.read_checkpoint(h)
        if blob is not None and h == self.store.get_meta("current_model"):
            self._checkpoint_cache = (h, blob)
        return blob

    def audit_log(self, cycle: int) -> dict[str, Any] | None:
        row = self.store.cycle(cycle)
        if row is None:
            return None
        if row.state != "sealed" or row.log_json is None:
            return {"cycle": row.id, "state": row.state, "parent": row.parent.hex(), "height": row.height,
                    "seed_commitment": seed_commitment(row.seed).hex(), "base_model": row.base_model}
        return {"state": "sealed", **json.loads(row.log_json)}

    def status(self) -> dict[str, Any]:
        c = self.cycle
        return {"cycle": None if c is None else c.id, "state": None if c is None else c.state,
                "parent": None if c is None else hash_to_hex(c.parent), "height": None if c is None else c.height,
                "deadline": None if c is None else c.deadline, "model": self.store.get_meta("current_model"),
                "miners": len(self.store.miners()), "coordinator_key": self.key.xonly.hex(),
                "network": self.params.name, "task": self.spec.to_json(),
                "tip": None if self.tip is None else {"hash": hash_to_hex(self.tip.hash), "height": self.tip.height},
                "cpu": {"verify": self.cpu_verify, "close": self.cpu_close}}
