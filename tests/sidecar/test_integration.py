"""Integration with real processes: `potc-sidecar`, >= 4 `potc-miner` processes, and a stand-in node
that validates sealed blocks with the consensus certificate rule and announces them in Bitcoin
Core's ZMQ format (real pyzmq sockets on loopback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib import request

import pytest

from regtest.consensus.certificate import extract_certificate
from regtest.consensus.params import regtest_params
from sidecar import wire
from sidecar.audit import audit_cycle
from sidecar.crypto import load_or_create_key
from sidecar.devnode import DevNode
from sidecar.tasks import DigitsTask
from sidecar.training import eval_accuracy

from .helpers import free_port

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def script(name: str, module: str) -> list[str]:
    """The installed console script when there is one, else the same entry point via -m."""
    exe = Path(PY).parent / name
    return [str(exe)] if exe.exists() else [PY, "-m", module]


def get(url: str) -> bytes:
    with request.urlopen(url, timeout=30) as r:
        return r.read()


class Network:
    def __init__(self, tmp: Path, miners: int = 4, cycle_seconds: float = 4.0) -> None:
        self.tmp = tmp
        self.datadir = tmp / "sidecar"
        self.key = load_or_create_key(self.datadir / "coordinator.key")
        self.params = regtest_params(self.key.xonly)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.node_ep = f"tcp://127.0.0.1:{free_port()}"
        self.pub_ep = f"tcp://127.0.0.1:{free_port()}"
        self.node = DevNode(self.params, self.node_ep, self.pub_ep)
        self.node.start()
        self.cycle_seconds = cycle_seconds
        self.sidecar: subprocess.Popen | None = None
        self.start_sidecar()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.miners = [subprocess.Popen(
            [*script("potc-miner", "sidecar.miner"), "--url", self.url, "--key-file", str(tmp / f"miner{i}.key")],
            cwd=REPO, env=env, stdout=open(tmp / f"miner{i}.log", "w"), stderr=subprocess.STDOUT)
            for i in range(miners)]

    def start_sidecar(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.sidecar = subprocess.Popen(
            [*script("potc-sidecar", "sidecar.cli"), "--datadir", str(self.datadir), "--port", str(self.port),
             "--zmq-node", self.node_ep, "--zmq-pub", self.pub_ep, "--cycle-seconds", str(self.cycle_seconds)],
            cwd=REPO, env=env, stdout=open(self.tmp / "sidecar.log", "a"), stderr=subprocess.STDOUT)

    def wait_height(self, h: int, timeout: float) -> None:
        end = time.time() + timeout
        while self.node.height < h:
            if time.time() > end:
                raise AssertionError(f"height {self.node.height} < {h} after {timeout}s; "
                                     f"log tail: {(self.tmp / 'sidecar.log').read_text()[-3000:]}")
            assert self.sidecar.poll() is None, (self.tmp / "sidecar.log").read_text()[-3000:]
            time.sleep(0.2)

    def wait_miners(self, n: int, timeout: float) -> None:
        end = time.time() + timeout
        while True:
            try:
                if json.loads(get(f"{self.url}/v1/status"))["miners"] >= n:
                    return
            except OSError:
                pass
            if time.time() > end:
                raise AssertionError(f"fewer than {n} miners registered after {timeout}s")
            time.sleep(0.2)

    def stop(self) -> None:
        for p in self.miners + [self.sidecar]:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.miners + [self.sidecar]:
            if p is not None:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        self.node.stop()


def check_chain(net: Network) -> list[dict]:
    """Every connected block: right parent and height, a certificate that pays the audited winner."""
    logs = []
    prev = net.params.genesis.hash
    for height, block in enumerate(net.node.blocks, start=1):
        assert block.header.prev_hash == prev
        cert = extract_certificate(block)
        assert (cert.parent_hash, cert.height) == (prev, height)
        log = json.loads(get(f"{net.url}/v1/audit/{cert.cycle_id}"))
        report = audit_cycle(cert, log)
        pays = {o.script_pubkey for o in block.txs[0].vout if o.script_pubkey[:1] != b"\x6a"}
        assert pays == {report.payout_script}
        logs.append(log)
        prev = block.hash
    return logs


@pytest.mark.slow
def test_coordinator_and_four_miner_processes(tmp_path):
    net = Network(tmp_path)
    try:
        net.wait_miners(4, timeout=240)
        net.wait_height(net.node.height + 10, timeout=300)
        logs = check_chain(net)
        assert max(len(lg["contributions"]) for lg in logs) == 4
        assert not net.node.rejected
        winners = [lg["contributions"][lg["winner"]]["miner"] for lg in logs if lg["winner"] is not None]
        assert len(winners) >= 5
        status = json.loads(get(f"{net.url}/v1/status"))
        assert status["miners"] == 4
        # Download the newest checkpoint (public) and measure it on the private held-out set.
        last = logs[-1]
        blob = get(f"{net.url}/v1/model/{last['model_after']}")
        state, _ = wire.decode(blob, max_tensors=100)
        task = DigitsTask()
        acc = eval_accuracy(task.spec, state, *task.test_set())
        assert acc > 0.95, acc
        for lg in logs:
            assert lg["heldout_loss_after"] <= lg["heldout_loss_before"]
        assert "verified" in (tmp_path / "miner0.log").read_text()
    finally:
        net.stop()


@pytest.mark.slow
def test_kill9_restart_resumes_without_double_issue(tmp_path):
    net = Network(tmp_path, cycle_seconds=3.0)
    try:
        net.wait_height(2, timeout=240)
        import random
        rng = random.Random(7)
        for kill in range(3):
            time.sleep(rng.uniform(0.2, 2.5))
            net.sidecar.send_signal(signal.SIGKILL)
            net.sidecar.wait(10)
            h = net.node.height
            net.start_sidecar()
            net.wait_height(h + 2, timeout=240)
        logs = check_chain(net)
        cycles = [extract_certificate(b).cycle_id for b in net.node.blocks]
        assert cycles == sorted(cycles) and len(set(cycles)) == len(cycles)
        # Every certificate ever published: one per (parent, height), re-announcements included.
        by_slot: dict[tuple[bytes, int], set[bytes]] = defaultdict(set)
        for b in net.node.seen:
            c = extract_certificate(b)
            by_slot[(c.parent_hash, c.height)].add(c.serialize())
        assert all(len(v) == 1 for v in by_slot.values()), by_slot
        status = json.loads(get(f"{net.url}/v1/status"))
        assert status["miners"] == 4                      # the registry survived
        # The current model is the outcome of the newest cycle sealed when status was read: the last
        # one checked above, or one sealed since (the network keeps running while the test reads it).
        last = status["cycle"] if status["state"] == "sealed" else status["cycle"] - 1
        newer = [json.loads(get(f"{net.url}/v1/audit/{c}")) for c in range(logs[-1]["cycle"] + 1, last + 1)]
        sealed = [lg for lg in [logs[-1], *newer] if lg["state"] == "sealed"]
        assert status["model"] == sealed[-1]["model_after"]
    finally:
        net.stop()
