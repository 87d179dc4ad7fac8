"""A coordinator that misses the node's block announcements still follows the chain.

ZMQ drops messages (a restart, a slow subscriber); a coordinator that sealed a block and never hears
about it must not wait forever. Here the sidecar gets no ZMQ feed at all: it must learn every new tip
from the node's RPC, so the chain keeps growing by training cycles (no miners: each cycle pays the
coordinator's fallback script)."""

from __future__ import annotations

import os
import subprocess
import time

from regtest.testing.ports import free_port
from tests.node.framework import COORDINATOR_KEY, REPO, TestNode
from tests.sidecar.test_integration import script


def test_sidecar_without_zmq_follows_the_node_over_rpc(tmp_path) -> None:
    node = TestNode(tmp_path / "node").start()
    sidecar_dir = tmp_path / "sidecar"
    sidecar_dir.mkdir()
    (sidecar_dir / "coordinator.key").write_text(COORDINATOR_KEY + "\n")
    log = open(tmp_path / "sidecar.log", "w")
    sidecar = subprocess.Popen(
        [*script("potc-sidecar", "sidecar.cli"), "--datadir", str(sidecar_dir), "--port", str(free_port()),
         "--rpc-url", f"http://127.0.0.1:{node.rpc_port}", "--rpc-cookie", str(node.cookie_path),
         "--cycle-seconds", "1"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while node.rpc("getblockcount") < 4:
            assert sidecar.poll() is None, (tmp_path / "sidecar.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "sidecar.log").read_text()[-3000:]
            time.sleep(0.2)
        for height in range(1, 5):
            cert = node.rpc("getcertificate", node.rpc("getblockhash", height))
            assert cert["height"] == height and cert["signature_valid"]
    finally:
        sidecar.terminate()
        sidecar.wait(20)
        log.close()
        node.stop()


def test_block_sealed_while_the_node_was_down_reaches_it_once_it_is_up(tmp_path) -> None:
    """The coordinator never signs a second certificate for a parent and height, so a block it
    sealed while the node was unreachable must be handed to the node later (submitblock), or the
    chain stops for good. The node starts only after cycle 1 has been sealed."""
    import json
    from urllib import request

    node = TestNode(tmp_path / "node")  # its port is chosen; nothing listens there yet
    sidecar_dir = tmp_path / "sidecar"
    sidecar_dir.mkdir()
    (sidecar_dir / "coordinator.key").write_text(COORDINATOR_KEY + "\n")
    port = free_port()
    log = open(tmp_path / "sidecar.log", "w")
    sidecar = subprocess.Popen(
        [*script("potc-sidecar", "sidecar.cli"), "--datadir", str(sidecar_dir), "--port", str(port),
         "--rpc-url", f"http://127.0.0.1:{node.rpc_port}", "--rpc-cookie", str(node.cookie_path),
         "--cycle-seconds", "1"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=subprocess.STDOUT)

    def sidecar_log() -> str:
        return (tmp_path / "sidecar.log").read_text()[-3000:]

    try:
        deadline = time.monotonic() + 60
        while True:
            assert sidecar.poll() is None and time.monotonic() < deadline, sidecar_log()
            try:
                with request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=10) as r:
                    status = json.loads(r.read())
                if status["cycle"] == 1 and status["state"] == "sealed":
                    break
            except OSError:
                pass
            time.sleep(0.2)
        node.start()
        deadline = time.monotonic() + 60
        while node.rpc("getblockcount") < 2:
            assert sidecar.poll() is None and time.monotonic() < deadline, sidecar_log()
            time.sleep(0.2)
        first = node.rpc("getcertificate", node.rpc("getblockhash", 1))
        assert first["cycle_id"] == 1 and first["signature_valid"]
    finally:
        sidecar.terminate()
        sidecar.wait(20)
        log.close()
        node.stop()
