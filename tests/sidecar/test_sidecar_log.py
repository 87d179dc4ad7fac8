"""The coordinator's log is about cycles: no line per miner HTTP request unless -v asks for it
(they drowned the cycle lines of `potc-net`'s logs/sidecar.log and cost coordinator CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from urllib import request

from regtest.testing.ports import free_port
from tests.node.framework import REPO
from tests.sidecar.test_integration import script


def run_and_poll_status(tmp_path, *extra: str) -> str:
    tmp_path.mkdir(parents=True)
    datadir, port = tmp_path / "sidecar", free_port()
    log_path = tmp_path / "sidecar.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*script("potc-sidecar", "sidecar.cli"), "--datadir", str(datadir),
                                 "--port", str(port), "--cycle-seconds", "60", *extra],
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline, answered = time.monotonic() + 60, 0
            while answered < 2:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
                try:
                    with request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=10) as r:
                        answered += r.status == 200
                except OSError:
                    time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return log_path.read_text()


def test_no_access_log_lines_by_default(tmp_path):
    text = run_and_poll_status(tmp_path / "quiet")
    assert "cycle 1 open" in text and "listening on" in text
    assert "GET /v1/status" not in text
    text = run_and_poll_status(tmp_path / "verbose", "-v")
    assert text.count("GET /v1/status") >= 2
