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
