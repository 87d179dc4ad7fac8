"""A small functional-test framework: start real `potcd` processes on free loopback ports with
a temporary data directory and talk to them over real HTTP (like Core's test_framework)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regtest.node.rpc import jsonfmt
from regtest.testing.ports import free_port  # noqa: F401 - re-exported for the node tests

REPO = Path(__file__).resolve().parents[2]
COORDINATOR_KEY = "11" * 32
START_TIMEOUT = 30.0


def potcd_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "regtest.node.daemon", *args]


def cli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "regtest.node.cli", *args]


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonfmt.loads(self.body)


@dataclass
class TestNode:
    """One potcd process. `extra_args` go on its command line; `conf` into potc.conf."""

    __test__ = False  # a helper, not a test class

    datadir: Path
    extra_args: list[str] = field(default_factory=list)
    conf: str = ""
    chain: str = "regtest"
    rpc_port: int = field(default_factory=free_port)
    user: str | None = None  # static credentials instead of the cookie
    password: str | None = None
    process: subprocess.Popen | None = None

    @property
    def chain_dir(self) -> Path:
        return self.datadir / self.chain

    @property
    def cookie_path(self) -> Path:
        return self.chain_dir / ".cookie"

    def args(self) -> list[str]:
        # no console log: stdout is a pipe read only at stop, which a long test would fill
        return [f"-datadir={self.datadir}", f"-rpcport={self.rpc_port}", "-printtoconsole=0",
                f"-coordinatorkey={COORDINATOR_KEY}", *self.extra_args]

    def start(self, wait: bool = True) -> "TestNode":
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.conf:
            (self.datadir / "potc.conf").write_text(self.conf)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.process = subprocess.Popen(
            potcd_cmd(*self.args()), cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                out, err = self.process.communicate()
                raise RuntimeError(f"potcd exited {self.process.returncode}: {err.decode()}")
            if self.cookie_path.exists() or self.user is not None:
                try:
                    r = self.post({"method": "getblockcount", "params": [], "id": 0})
                    if r.status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise TimeoutError("potcd did not become ready")

    # --- HTTP ----------------------------------------------------------------------------------
    def credentials(self) -> tuple[str, str]:
        if self.user is not None:
            return self.user, self.password or ""
        user, _, password = self.cookie_path.read_text().partition(":")
        return user, password

    def auth_header(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            user, password = self.credentials()
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method: str = "POST", path: str = "/", body: bytes | str | None = b"",
                headers: dict[str, str] | None = None, auth: str | None | bool = True,
                timeout: float = 60) -> HttpReply:
        hdrs = {"Content-Type": "application/json"}
        if auth is True:
            hdrs["Authorization"] = self.auth_header()
        elif isinstance(auth, str):
            hdrs["Authorization"] = auth
        hdrs.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.rpc_port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return HttpReply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def post(self, obj: Any, **kw: Any) -> HttpReply:
        return self.request(body=json.dumps(obj), **kw)

    def rpc(self, method: str, *params: Any) -> Any:
        """Call and return the result; raises RPCFailure with code and message on error."""
        r = self.post({"method": method, "params": list(params), "id": 1})
        reply = r.json()
        if reply.get("error") is not None:
            raise RPCFailure(reply["error"]["code"], reply["error"]["message"], r.status)
        return reply["result"]

    def proxy(self):
        """python-bitcoinlib's Proxy pointed at this node with the cookie credentials."""
        import bitcoin
        import bitcoin.rpc

        bitcoin.SelectParams("regtest")
        user, password = self.credentials()
        return bitcoin.rpc.Proxy(service_url=f"http://{user}:{password}@127.0.0.1:{self.rpc_port}")

    # --- stopping ------------------------------------------------------------------------------
    def stop(self, timeout: float = 30) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            try:
                self.rpc("stop")
            except (OSError, RPCFailure, ValueError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.communicate()
        code = self.process.returncode
        self.process = None
        return code

    def debug_log(self) -> str:
        p = self.chain_dir / "debug.log"
        return p.read_text() if p.exists() else ""


class RPCFailure(Exception):
    def __init__(self, code: int, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def run_cli(node: TestNode, *args: str, stdin: str | None = None, extra: list[str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = cli_cmd(f"-datadir={node.datadir}", f"-rpcport={node.rpc_port}", *(extra or []), *args)
    return subprocess.run(cmd, cwd=REPO, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=str(REPO)))
