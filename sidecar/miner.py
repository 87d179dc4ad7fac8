"""`potc-miner`: register, then loop over cycles: fetch assignment, model and shard, train the
assigned segment, sign and submit.  Survives coordinator restarts with exponential back-off.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib import error, request

import torch

from regtest.consensus.address import REGTEST_PREFIXES, decode_address

from . import wire
from .crypto import Key, load_or_create_key
from .segments import Segment
from .tasks import spec_from_json
from .tasks.base import ModelSpec
from .training import TrainConfig, apply_delta, eval_loss, train_segment

log = logging.getLogger("potc.miner")


class CoordinatorError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class MinerStats:
    """CPU accounting: the bench reads these to report the training fraction."""

    started_cpu: float = field(default_factory=time.process_time)
    train_cpu: float = 0.0
    train_steps: int = 0
    cycles: int = 0
    submitted: int = 0
    verified: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"loop_cpu": time.process_time() - self.started_cpu, "train_cpu": self.train_cpu,
                "train_steps": self.train_steps,
                "cycles": self.cycles, "submitted": self.submitted, "verified": self.verified}


class Client:
    """Minimal HTTP client (urllib): signed JSON and binary requests with timeouts."""

    def __init__(self, url: str, key: Key, timeout: float = 90.0) -> None:
        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout

    def call(self, method: str, path: str, body: bytes = b"", signed: bool = True,
             content_type: str = "application/json") -> bytes:
        headers = {"Content-Type": content_type}
        if signed:
            headers.update(self.key.sign_request(method, path, body))
        req = request.Request(self.url + path, data=body if method == "POST" else None, headers=headers,
                              method=method)
        try:
            with request.urlopen(req, timeout=self.timeout) as r:
                return r.read()
        except error.HTTPError as e:
            raw = e.read()
            try:
                j = json.loads(raw)["error"]
                raise CoordinatorError(e.code, j["code"], j["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise CoordinatorError(e.code, "http", raw[:200].decode("utf-8", "replace")) from None

    def json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return json.loads(self.call("POST", path, json.dumps(payload).encode()))


class Miner:
    def __init__(self, url: str, key: Key, payout: bytes, train_override: dict[str, Any] | None = None,
                 quiet: bool = False, device: str = "cpu") -> None:
        self.device = device
        self.client = Client(url, key)
        self.key, self.payout = key, payout
        self.train_override = train_override or {}
        self.models: dict[str, dict[str, torch.Tensor]] = {}
        self.stats = MinerStats()
        self.quiet = quiet

    def register(self) -> None:
        self.client.json("/v1/register", {"payout": self.payout.hex()})

    def model(self, version: str) -> dict[str, torch.Tensor]:
        if version not in self.models:
            blob = self.client.call("GET", f"/v1/model/{version}", signed=False)
            if hashlib.sha256(blob).hexdigest() != version:
                raise CoordinatorError(0, "bad-model", "checkpoint hash mismatch")
            self.models = {version: wire.decode(blob, max_tensors=10_000)[0]}  # keep only the newest
        return self.models[version]

    def work(self, a: dict[str, Any]) -> dict[str, Any]:
        """Train on one assignment and submit; returns the coordinator's answer."""
        spec: ModelSpec = spec_from_json(a["task"])
        segment = Segment.from_json(a["segment"])
        state = self.model(a["model"])
        shard, _ = wire.decode(self.client.call("POST", "/v1/shard", json.dumps({"cycle": a["cycle"]}).encode()))
        x, y = shard["x"], shard["y"]
        hints = {**a.get("train", {}), **self.train_override}
        cfg = TrainConfig(steps=int(hints.get("steps", 50)), lr=float(hints.get("lr", 0.05)),
                          batch=int(hints.get("batch", 64)), seed=int.from_bytes(os.urandom(4), "little"),
                          device=self.device)
        t0 = time.process_time()
        delta = train_segment(spec, state, segment, x, y, cfg)
        self.stats.train_cpu += time.process_time() - t0
        self.stats.train_steps += cfg.steps
        module = spec.build()
        before = eval_loss(spec, module, state, x, y)
        after = eval_loss(spec, module, apply_delta(state, segment, delta), x, y)
        meta = {"cycle": str(a["cycle"]), "base": a["model"], "segment": str(segment.id), "shard": str(a["shard"]),
                "shard_before": repr(before), "shard_after": repr(after)}
        body = wire.encode(delta, meta)
        self.stats.submitted += 1
        res = json.loads(self.client.call("POST", "/v1/submit", body, content_type="application/octet-stream"))
        self.stats.verified += 1
        if not self.quiet:
            print(f"cycle {a['cycle']}: segment {segment.id} shard {a['shard']} shard loss {before:.4f} -> {after:.4f}"
                  f" {res.get('status')}", flush=True)
        return res

    def run(self, max_cycles: int | None = None, stats_file: Path | None = None) -> None:
        backoff = 0.5
        registered = False
        after = 0
        while max_cycles is None or self.stats.cycles < max_cycles:
            try:
                if not registered:
                    self.register()
                    registered = True
                    log.info("registered %s", self.key.xonly.hex())
                a = self.client.json("/v1/assignment", {"after": after, "wait": 30})
                backoff = 0.5
                if a.get("status") != "assigned":
                    continue
                after = a["cycle"]
                self.stats.cycles += 1
                try:
                    self.work(a)
                except CoordinatorError as e:
                    if e.status in (0, 500) or e.status >= 502:
                        raise
                    print(f"cycle {a['cycle']}: rejected {e.code}: {e.message}", flush=True)
            except (OSError, CoordinatorError) as e:
                if isinstance(e, CoordinatorError) and e.code == "unregistered":
                    registered = False
                log.warning("coordinator unavailable (%s); retrying in %.1fs", e, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 4.0)
            finally:
                if stats_file is not None:
                    stats_file.write_text(json.dumps(self.stats.to_json()))


def payout_script(args: argparse.Namespace, key: Key) -> bytes:
    if args.payout_script:
        return bytes.fromhex(args.payout_script)
    if args.payout_address:
        return decode_address(args.payout_address, REGTEST_PREFIXES).script_pubkey
    return key.p2wpkh_script()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="potc-miner", description=__doc__)
    p.add_argument("--url", default="http://127.0.0.1:18550")
    p.add_argument("--key-file", type=Path, default=Path.home() / ".potc-miner" / "key")
    p.add_argument("--payout-address", help="regtest address (bcrt1..., m/n..., 2...)")
    p.add_argument("--payout-script", help="payout scriptPubKey, hex (default: P2WPKH of the miner key)")
    p.add_argument("--cycles", type=int, default=None, help="stop after this many cycles")
    p.add_argument("--train", default="{}", help="override training hints (JSON: steps, lr, batch)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--stats-file", type=Path)
    p.add_argument("--import", dest="imports", action="append", default=[],
                   help="module to import first (registers a custom task's ModelSpec)")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s miner %(levelname)s %(message)s")
    for module in args.imports:
        importlib.import_module(module)
    torch.set_num_threads(args.threads)
    key = load_or_create_key(args.key_file)
    m = Miner(args.url, key, payout_script(args, key), json.loads(args.train), quiet=args.quiet,
              device=args.device)
    print(f"potc-miner {key.xonly.hex()} -> {args.url}", flush=True)
    try:
        m.run(args.cycles, args.stats_file)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
