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


def test_nan_is_a_parse_error():
    d = Dispatcher(_registry(), context=None)
    status, text = asyncio.run(d.handle_body(b'{"method": "echo", "params": [NaN], "id": 1}'))
    assert status == 500 and json.loads(text)["error"]["code"] == -32700


def test_every_registered_method_has_consistent_help():
    """All methods (this layer's and other components') render help whose first line names them
    and whose argument list matches their arity rules."""
    from regtest.node.rpc.registry import load_all_methods

    reg = load_all_methods()
    assert {"getblock", "stop", "help", "validateaddress", "generatetoaddress"} <= set(reg.methods)
    for name, m in reg.methods.items():
        text = m.help_text()
        assert text.split("\n", 1)[0].split(" ")[0] == name
        assert m.valid_arity(len(m.args)) and not m.valid_arity(len(m.args) + 1)
        assert (("Arguments:" in text) == bool(m.args)), name


def test_json_writer_formats():
    from decimal import Decimal

    from regtest.node.rpc.blockjson import difficulty
    from regtest.node.rpc.jsonfmt import amount, dumps

    value = {"a": amount(0), "b": [amount(123), difficulty(0x207FFFFF)], "c": "\x00x",
             "d": Decimal("1.5"), "e": 7, "f": None, "g": True}
    compact = '{"a":0.00000000,"b":[0.00000123,4.656542373906925e-10],"c":"\\u0000x","d":1.5,"e":7,"f":null,"g":true}'
    assert dumps(value) == compact
    assert dumps({"x": float("nan")}) == '{"x":null}'
    assert dumps({"a": [amount(5)], "b": {}}, indent=2) == '{\n  "a": [\n    0.00000005\n  ],\n  "b": {}\n}'
    assert json.loads(dumps(value, indent=4)) == json.loads(compact)


def test_doubles_print_as_univalue_does():
    """Core writes a double with 16 significant digits: 2.0 as `2`, a third as 0.3333333333333333."""
    from regtest.node.rpc.jsonfmt import double, dumps

    values = [double(2.0), double(1 / 3), double(1e21), double(123456789.123), double(2.5e-10)]
    expected = "[2,0.3333333333333333,1e+21,123456789.123,2.5e-10]"
    assert dumps(values) == expected
    assert dumps(values, indent=1).replace("\n", "").replace(" ", "") == expected
    assert dumps([double(float("inf"))]) == "[null]"
