"""Control and utility calls: help, stop, uptime, getzmqnotifications, validateaddress,
getindexinfo."""

from __future__ import annotations

import time

from regtest.consensus.address import AddressError, classify, decode_address
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.registry import REGISTRY, Arg, ArgType, rpc_method

STOP_MESSAGE = "potc stopping"


@rpc_method(
    "help", "Control", "List all commands, or get help for a specified command.",
    args=[Arg("command", ArgType.STR, "The command to get help on", optional=True,
              default_hint="all commands")],
    result='"str"    (string) The help text', examples=("", "getblockcount"),
)
def help_(ctx, p):
    name = p.raw("command")
    if name is None:
        return REGISTRY.overview()
    method = REGISTRY.get(name)
    if method is None:
        return f"help: unknown command: {name}"
    return method.help_text().rstrip("\n")


@rpc_method(
    "stop", "Control", "Request a graceful shutdown of potcd.",
    args=[Arg("wait", ArgType.NUM, "how long to wait in ms", optional=True, default_hint="0")],
    result='"str"    (string) A string with the content \'' + STOP_MESSAGE + "'",
    examples=("",),
)
def stop(ctx, p):
    ctx.request_stop()
    return STOP_MESSAGE


@rpc_method("uptime", "Control", "Returns the total uptime of the server.",
            result="n    (numeric) The number of seconds that the server has been running",
            examples=("",))
def uptime(ctx, p):
    return int(time.time() - ctx.start_time)


@rpc_method("getzmqnotifications", "Zmq", "Returns information about the active ZeroMQ notifications.",
            result='[{"type": "pubhashtx", "address": "...", "hwm": n}, ...]', examples=("",))
def getzmqnotifications(ctx, p):
    return ctx.zmq.active_notifications() if ctx.zmq is not None else []


@rpc_method(
    "validateaddress", "Util", "Return information about the given address.",
    args=[Arg("address", ArgType.STR, "The address to validate")],
    result='{"isvalid": bool, "address": "str", "scriptPubKey": "hex", "isscript": bool, '
           '"iswitness": bool, "witness_version": n, "witness_program": "hex", '
           '"error": "str", "error_locations": [n]}',
    examples=('"bcrt1q..."',),
)
def validateaddress(ctx, p):
    text = p.str("address")
    try:
        dec = decode_address(text, ctx.prefixes)
    except AddressError as e:
        return {"isvalid": False, "error_locations": e.locations, "error": str(e)}
    out = {"isvalid": True, "address": text, "scriptPubKey": dec.script_pubkey.hex()}
    kind = classify(dec.script_pubkey).type
    if kind != "witness_unknown":
        out["isscript"] = dec.is_script
    out["iswitness"] = dec.witness_version is not None
    if dec.witness_version is not None:
        out["witness_version"] = dec.witness_version
        out["witness_program"] = (dec.witness_program or b"").hex()
    return out


def require_chain(ctx):
    """The chainstate, or -28 while it is not open (the server runs before the chain loads)."""
    if ctx.chainstate is None:
        raise RPCError(RPCErrorCode.IN_WARMUP, "Loading block index…")
    return ctx.chainstate


@rpc_method("getindexinfo", "Util", "Returns the status of one or all available indices currently "
            "running in the node.",
            args=[Arg("index_name", ArgType.STR, "Filter results for an index with a specific name.",
                      optional=True)],
            result='{"txindex": {"synced": bool, "best_block_height": n}}    (json object) one key per '
                   "index (empty when none runs, or none has that name)",
            examples=("", '"txindex"'))
def getindexinfo(ctx, p):
    name = p.raw("index_name")
    out = {}
    if ctx.txindex is not None and ctx.chainstate is not None and name in (None, "txindex"):
        height = ctx.txindex.best_height(ctx.chainstate)
        out["txindex"] = {"synced": height == ctx.chainstate.height, "best_block_height": height}
    return out
