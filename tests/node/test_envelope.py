"""The dispatcher without HTTP: warm-up answers, handler exceptions, async handlers."""

from __future__ import annotations

import asyncio
import json

from regtest.node.rpc.envelope import Dispatcher
from regtest.node.rpc.registry import Arg, ArgType, Registry, rpc_method


def _registry() -> Registry:
    reg = Registry()

    @rpc_method("boom", "Test", "Raises a plain exception.", registry=reg)
    def boom(ctx, p):
        raise ValueError("something broke")

    @rpc_method("echo", "Test", "Async echo.", args=[Arg("x", ArgType.ANY, "anything")], registry=reg)
    async def echo(ctx, p):
        await asyncio.sleep(0)
        return p.get("x")

    return reg


def call(d: Dispatcher, obj) -> tuple[int, object]:
    status, text = asyncio.run(d.handle_body(json.dumps(obj).encode()))
    return status, (json.loads(text) if text else None)


def test_warmup_answers_minus_28():
    d = Dispatcher(_registry(), context=None)
    d.warmup = "Loading block index…"
    status, reply = call(d, {"method": "echo", "params": [1], "id": 1})
    assert status == 500
    assert reply == {"result": None, "error": {"code": -28, "message": "Loading block index…"}, "id": 1}
    d.warmup = None
    assert call(d, {"method": "echo", "params": [[1, "a"]], "id": 1})[1]["result"] == [1, "a"]


def test_uncaught_exception_is_misc_error():
    d = Dispatcher(_registry(), context=None)
    status, reply = call(d, {"method": "boom", "id": 9})
    assert status == 500 and reply["error"] == {"code": -1, "message": "something broke"}
    status, reply = call(d, {"jsonrpc": "2.0", "method": "boom", "id": 9})
    assert status == 200 and reply == {"jsonrpc": "2.0", "error": {"code": -1, "message": "something broke"}, "id": 9}
