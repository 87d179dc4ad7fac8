"""The miner-facing HTTP API (aiohttp).

Signed endpoints carry X-Potc-Key (x-only key, hex) and X-Potc-Sig (BIP340 signature, hex) over
request_digest(method, path, body).  Errors are JSON: {"error": {"code": ..., "message": ...}}.

  POST /v1/register        {"payout": hex script} or {"address": regtest address}   proof of key possession
  POST /v1/assignment      {"after": cycle, "wait": seconds}       long-poll for the next assignment
  POST /v1/shard           {"cycle": n}                            the assigned shard (safetensors)
  POST /v1/submit          safetensors body with metadata          one update per cycle
  GET  /v1/model/{hash}    checkpoint (safetensors), public
  GET  /v1/audit/{cycle}   the cycle's public contribution log
  GET  /v1/status
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from aiohttp import web

from regtest.consensus.address import REGTEST_PREFIXES, decode_address

from .coordinator import Coordinator
from .crypto import SignatureError, parse_hex, request_digest, verify
from .verify import Rejected
from .wire import PayloadError

MAX_JSON_BODY = 16 * 1024
MAX_PAYOUT_SCRIPT = 128
MAX_WAIT = 60.0
ST_TYPE = "application/octet-stream"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def err(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                            ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return err(e.status, e.code, e.message)
    except Rejected as e:
        return err(e.status, e.code, e.message)
    except PayloadError as e:
        return err(400, "malformed-payload", str(e))
    except web.HTTPRequestEntityTooLarge:
        return err(413, "too-large", "request body too large")
    except web.HTTPException as e:
        return err(e.status, e.reason.lower().replace(" ", "-"), e.text or e.reason)


async def read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too-large", f"body of {request.content_length} bytes exceeds {limit}")
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too-large", f"body exceeds {limit} bytes")
    return bytes(body)


def authenticate(request: web.Request, body: bytes) -> bytes:
    try:
        key = parse_hex(request.headers.get("X-Potc-Key"), 32, "X-Potc-Key")
        sig = parse_hex(request.headers.get("X-Potc-Sig"), 64, "X-Potc-Sig")
    except SignatureError as e:
        raise ApiError(401, "bad-signature", str(e)) from None
    if not verify(key, request_digest(request.method, request.path, body), sig):
        raise ApiError(401, "bad-signature", "signature does not verify")
    return key


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        v = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed-json", "body is not JSON") from None
    if not isinstance(v, dict):
        raise ApiError(400, "malformed-json", "body must be a JSON object")
    return v


def int_field(v: dict[str, Any], name: str, default: int | None = None) -> int:
    x = v.get(name, default)
    if type(x) is not int:
        raise ApiError(400, "bad-field", f"{name} must be an integer")
    return x


class Api:
    def __init__(self, coord: Coordinator, max_submission: int = 64 * 1024 * 1024) -> None:
        self.coord = coord
        self.max_submission = max_submission

    def app(self) -> web.Application:
        app = web.Application(middlewares=[errors_middleware], client_max_size=self.max_submission + 1)
        app.add_routes([
            web.post("/v1/register", self.register), web.post("/v1/assignment", self.assignment),
            web.post("/v1/shard", self.shard), web.post("/v1/submit", self.submit),
            web.get("/v1/model/{hash}", self.model), web.get("/v1/audit/{cycle}", self.audit),
            web.get("/v1/status", self.status),
        ])
        return app

    def registered(self, key: bytes) -> None:
        if not self.coord.is_registered(key):
            raise ApiError(403, "unregistered", "key is not registered")

    async def register(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_JSON_BODY)
        key = authenticate(request, body)
        v = parse_json(body)
        payout_hex = v.get("payout")
        if isinstance(v.get("address"), str):
            try:
                payout_hex = decode_address(v["address"], REGTEST_PREFIXES).script_pubkey.hex()
            except ValueError as e:
                raise ApiError(400, "bad-address", str(e)) from None
        try:
            payout = bytes.fromhex(payout_hex) if isinstance(payout_hex, str) else None
        except ValueError:
            payout = None
        if payout is None or not 1 <= len(payout) <= MAX_PAYOUT_SCRIPT or payout[0] == 0x6A:
            raise ApiError(400, "bad-payout", "payout must be a hex script of 1..128 bytes, not OP_RETURN")
        seq = self.coord.register(key, payout)
        return web.json_response({"miner": key.hex(), "seq": seq, "coordinator_key": self.coord.key.xonly.hex()})

    async def assignment(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_JSON_BODY)
        key = authenticate(request, body)
        self.registered(key)
        v = parse_json(body)
        after = int_field(v, "after", 0)
        wait = v.get("wait", 30)
        if not isinstance(wait, (int, float)) or not 0 <= wait <= MAX_WAIT:
            raise ApiError(400, "bad-field", f"wait must be a number of seconds in [0, {MAX_WAIT}]")
        a = await self.coord.wait_assignment(key, after, float(wait))
        if a is None:
            return web.json_response({"status": "no-assignment"}, status=200)
        return web.json_response({"status": "assigned", **a})

    async def shard(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_JSON_BODY)
        key = authenticate(request, body)
        self.registered(key)
        blob = self.coord.shard_blob(key, int_field(parse_json(body), "cycle"))
        return web.Response(body=blob, content_type=ST_TYPE)

    async def submit(self, request: web.Request) -> web.Response:
        body = await read_body(request, self.max_submission)
        key = authenticate(request, body)
        self.registered(key)
        res = await self.coord.submit(key, body)
        return web.json_response(res)

    async def model(self, request: web.Request) -> web.Response:
        blob = self.coord.checkpoint(request.match_info["hash"])
        if blob is None:
            raise ApiError(404, "not-found", "no such checkpoint")
        return web.Response(body=blob, content_type=ST_TYPE)

    async def audit(self, request: web.Request) -> web.Response:
        try:
            cycle = int(request.match_info["cycle"])
        except ValueError:
            raise ApiError(400, "bad-cycle", "cycle must be an integer") from None
        logd = self.coord.audit_log(cycle)
        if logd is None:
            raise ApiError(404, "not-found", "no such cycle")
        return web.json_response(logd)

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(self.coord.status())
