"""JSON-RPC envelopes as bitcoind handles them: 1.0/2.0 styles, batches, HTTP status mapping.

`Dispatcher.handle_body` takes a request body and returns (HTTP status, reply text or None);
it knows nothing of HTTP itself, so the rules are testable without a socket.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

from regtest.node.rpc import jsonfmt
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.registry import Registry

log = logging.getLogger("potc.rpc")

LEGACY, V2 = "1.0", "2.0"
_ABSENT = object()

HTTP_OK, HTTP_NO_CONTENT, HTTP_BAD_REQUEST = 200, 204, 400
HTTP_NOT_FOUND, HTTP_INTERNAL_SERVER_ERROR = 404, 500


@dataclass
class RequestState:
    """What Core keeps in its one reused request object while walking a batch."""

    id: Any = None  # `_ABSENT` when the request had no id key
    version: str = LEGACY
    method: str = ""
    params: Any = None

    def is_notification(self) -> bool:
        return self.id is _ABSENT and self.version == V2

    def reply(self, result: Any = None, error: dict | None = None) -> dict:
        out: dict[str, Any] = {}
        if self.version == V2:
            out["jsonrpc"] = "2.0"
            if error is not None:
                out["error"] = error
            else:
                out["result"] = result
        else:
            out["result"] = result
            out["error"] = error
        if self.id is not _ABSENT:
            out["id"] = self.id
        return out

    def parse(self, request: Any) -> None:
        """Fill from one request object; RPCError on a bad envelope (state kept up to there)."""
        if not isinstance(request, dict):
            raise RPCError(RPCErrorCode.INVALID_REQUEST, "Invalid Request object")
        self.id = request["id"] if "id" in request else _ABSENT
        self.version = LEGACY
        jsonrpc = request.get("jsonrpc")
        if jsonrpc is not None:
            if not isinstance(jsonrpc, str):
                raise RPCError(RPCErrorCode.INVALID_REQUEST, "jsonrpc field must be a string")
            if jsonrpc == "2.0":
                self.version = V2
            elif jsonrpc != "1.0":
                raise RPCError(RPCErrorCode.INVALID_REQUEST, "JSON-RPC version not supported")
        method = request.get("method")
        if method is None:
            raise RPCError(RPCErrorCode.INVALID_REQUEST, "Missing method")
        if not isinstance(method, str):
            raise RPCError(RPCErrorCode.INVALID_REQUEST, "Method must be a string")
        self.method = method
        params = request.get("params")
        if params is None:
            params = []
        elif not isinstance(params, (list, dict)):
            raise RPCError(RPCErrorCode.INVALID_REQUEST, "Params must be an array or object")
        self.params = params


def http_status_for(code: int) -> int:
    if code == RPCErrorCode.INVALID_REQUEST:
        return HTTP_BAD_REQUEST
    if code == RPCErrorCode.METHOD_NOT_FOUND:
        return HTTP_NOT_FOUND
    return HTTP_INTERNAL_SERVER_ERROR


class Dispatcher:
    """Runs calls against a registry with a node context; `warmup` set = every call gets -28."""

    def __init__(self, registry: Registry, context: Any) -> None:
        self.registry = registry
        self.context = context
        self.warmup: str | None = None

    async def execute(self, method_name: str, params: Any) -> Any:
        if self.warmup is not None:
            raise RPCError(RPCErrorCode.IN_WARMUP, self.warmup)
        log.debug("ThreadRPCServer method=%r", method_name[:100])
        method = self.registry.get(method_name)
        if method is None:
            raise RPCError(RPCErrorCode.METHOD_NOT_FOUND, "Method not found")
        values = self.registry.positional(method, params)
        checked = self.registry.check(method, values)
        try:
            result = method.handler(self.context, checked)
            if inspect.isawaitable(result):
                result = await result
        except RPCError:
            raise
        except Exception as exc:  # Core turns std::exception into -1 with its text
            log.exception("RPC %s failed", method_name)
            raise RPCError(RPCErrorCode.MISC_ERROR, str(exc) or type(exc).__name__) from exc
        return result

    async def _exec_one(self, state: RequestState, catch_errors: bool) -> dict:
        try:
            result = await self.execute(state.method, state.params)
        except RPCError as e:
            if not catch_errors:
                raise
            return state.reply(error=e.to_json())
        return state.reply(result=result)

    async def handle_body(self, body: bytes) -> tuple[int, str | None]:
        """One HTTP POST body in, (status, JSON text + newline or None for no body) out."""
        state = RequestState()
        try:
            try:
                request = jsonfmt.loads(body)
            except (ValueError, RecursionError):
                raise RPCError(RPCErrorCode.PARSE_ERROR, "Parse error") from None
            if isinstance(request, dict):
                state.parse(request)
                reply = await self._exec_one(state, catch_errors=state.version == V2)
                if state.is_notification():
                    return HTTP_NO_CONTENT, None
                return HTTP_OK, jsonfmt.dumps(reply) + "\n"
            if isinstance(request, list):
                return await self._batch(request, state)
            raise RPCError(RPCErrorCode.PARSE_ERROR, "Top-level object parse error")
        except RPCError as e:
            return http_status_for(e.code), jsonfmt.dumps(state.reply(error=e.to_json())) + "\n"

    async def _batch(self, requests: list, state: RequestState) -> tuple[int, str | None]:
        replies = []
        for item in requests:
            try:
                state.parse(item)
                response = await self._exec_one(state, catch_errors=True)
            except RPCError as e:
                response = state.reply(error=e.to_json())
            if not state.is_notification():
                replies.append(response)
        if requests and not replies:
            return HTTP_NO_CONTENT, None
        return HTTP_OK, jsonfmt.dumps(replies) + "\n"
