"""Small synchronous clients the harness uses to watch its processes: the node's JSON-RPC (cookie
authentication) and the coordinator's public HTTP API. Replies are size-bounded."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MAX_REPLY = 64 * 1024 * 1024


class ClientError(RuntimeError):
    """The service answered with an error, or not at all (connection refused, timeout)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _request(url: str, method: str, path: str, body: bytes | None, headers: dict[str, str],
             timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_REPLY + 1)
        if len(data) > MAX_REPLY:
            raise ClientError(f"reply from {url}{path} larger than {MAX_REPLY} bytes")
        return resp.status, data
    except OSError as e:
        raise ClientError(f"{url}: {e}") from None
    finally:
        conn.close()


class NodeClient:
    """JSON-RPC to potcd with the credentials of its cookie file (read at every call: the node
    writes a new cookie when it restarts)."""

    def __init__(self, url: str, cookie: Path, timeout: float = 30.0) -> None:
        self.url, self.cookie, self.timeout = url, cookie, timeout

    def credentials(self) -> tuple[str, str]:
        try:
            user, _, password = self.cookie.read_text().strip().partition(":")
        except OSError:
            raise ClientError(f"no cookie at {self.cookie} (node not running?)") from None
        return user, password

    def call(self, method: str, *params: Any) -> Any:
        user, password = self.credentials()
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
        status, data = _request(self.url, "POST", "/", body, {"Authorization": f"Basic {auth}",
                                "Content-Type": "application/json"}, self.timeout)
        if status == 401:
            raise ClientError("node refused the cookie credentials", -342)
        try:
            reply = json.loads(data)
        except ValueError:
            raise ClientError(f"node answered HTTP {status} without JSON") from None
        err = reply.get("error") if isinstance(reply, dict) else None
        if err:
            raise ClientError(f"{method}: {err.get('message')} ({err.get('code')})", err.get("code"))
        return reply.get("result") if isinstance(reply, dict) else None


class SidecarClient:
    """The coordinator's public endpoints (status, audit log)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout = url, timeout

    def get(self, path: str) -> Any:
        status, data = _request(self.url, "GET", path, None, {}, self.timeout)
        try:
            value = json.loads(data)
        except ValueError:
            raise ClientError(f"sidecar answered HTTP {status} without JSON") from None
        if status != 200:
            err = value.get("error", {}) if isinstance(value, dict) else {}
            raise ClientError(f"sidecar {path}: HTTP {status} {err.get('code')}: {err.get('message')}", status)
        return value

    def status(self) -> dict[str, Any]:
        return self.get("/v1/status")

    def audit(self, cycle: int) -> dict[str, Any]:
        return self.get(f"/v1/audit/{cycle}")
