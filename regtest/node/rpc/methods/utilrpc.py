"""Small utility calls of bitcoind: getrpcinfo, echo/echojson, getmemoryinfo, estimatesmartfee."""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from pathlib import Path

from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.blockstats import json_int32
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

#: the longest horizon Core's fee estimator tracks (blocks)
MAX_CONF_TARGET = 1008
FEE_MODES = ("unset", "economical", "conservative")
_ECHO_ARGS = [Arg(f"arg{i}", ArgType.STR, "", optional=True, type_str="string") for i in range(10)]


def _log_path(ctx) -> str:
    """Where debug.log is written (as potcd's logging set-up chooses it)."""
    logfile = Path(ctx.settings.get("debuglogfile") or "debug.log")
    if not logfile.is_absolute():
        logfile = Path(ctx.settings.chain_dir) / logfile
    return str(logfile.resolve())


@rpc_method(
    "getrpcinfo", "Control", "Returns details of the RPC server.",
    result='{"active_commands": [{"method": "str", "duration": n}], "logpath": "str"}',
    examples=("",),
)
def getrpcinfo(ctx, p):
    # Calls run one at a time on the event loop, so this call is the one active command.
    started = time.perf_counter()
    return {
        "active_commands": [{"method": "getrpcinfo",
                             "duration": int((time.perf_counter() - started) * 1e6)}],
        "logpath": _log_path(ctx),
    }


def _echo(p) -> list:
    return [p.raw(f"arg{i}") for i in range(len(p))]


@rpc_method("echo", "hidden", "Simply echo back the input arguments. This command is for "
            "testing.\nThe difference between echo and echojson is that echojson has argument "
            "conversion enabled in the client-side table in potc-cli.",
            args=_ECHO_ARGS, result="any    (any) Returns whatever was passed in", hidden=True)
def echo(ctx, p):
    return _echo(p)


@rpc_method("echojson", "hidden", "Simply echo back the input arguments. This command is for "
            "testing.\nThe difference between echo and echojson is that echojson has argument "
            "conversion enabled in the client-side table in potc-cli.",
            args=_ECHO_ARGS, result="any    (any) Returns whatever was passed in", hidden=True)
def echojson(ctx, p):
    return _echo(p)


def _malloc_info() -> str | None:
    """glibc's malloc_info(0) XML, or None where the C library lacks it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not all(hasattr(libc, f) for f in ("malloc_info", "open_memstream", "fclose", "free")):
        return None
    buf = ctypes.c_char_p()
    size = ctypes.c_size_t()
    libc.open_memstream.restype = ctypes.c_void_p
    stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    if not stream:
        return None
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    text = ctypes.string_at(buf, size.value).decode("utf-8", "replace")
    libc.free(buf)
    return text


@rpc_method(
    "getmemoryinfo", "Control", "Returns an object containing information about memory usage.",
    args=[Arg("mode", ArgType.STR, 'determines what kind of information is returned.\n'
              '- "stats" returns general statistics about memory usage in the daemon.\n'
              '- "mallocinfo" returns an XML string describing low-level heap state (only '
              "available if compiled with glibc).", optional=True, default="stats")],
    result='{"locked": {"used": n, "free": n, "total": n, "locked": n, "chunks_used": n, '
           '"chunks_free": n}} (mode "stats") or "str" (mode "mallocinfo")',
    examples=("",),
)
def getmemoryinfo(ctx, p):
    mode = p.str("mode")
    if mode == "stats":
        # No locked (mlock'ed) pool: this node keeps no wallet keys in secure memory.
        return {"locked": {"used": 0, "free": 0, "total": 0, "locked": 0, "chunks_used": 0,
                           "chunks_free": 0}}
    if mode == "mallocinfo":
        text = _malloc_info()
        if text is None:
            raise RPCError(RPCErrorCode.INVALID_PARAMETER, "mallocinfo mode not available")
        return text
    raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"unknown mode {mode}")


@rpc_method(
    "estimatesmartfee", "Util", "Estimates the approximate fee per kilobyte needed for a "
    "transaction to begin confirmation within conf_target blocks if possible and return the "
    "number of blocks for which the estimate is valid. Uses virtual transaction size as defined "
    "in BIP 141 (witness data is discounted).\nThis node has no fee estimator: the answer is "
    "always bitcoind's reply for insufficient data.",
    args=[Arg("conf_target", ArgType.NUM, "Confirmation target in blocks (1 - 1008)"),
          Arg("estimate_mode", ArgType.STR, 'The fee estimate mode.\n"unset", "economical" or '
              '"conservative"', optional=True, default="economical")],
    result='{"feerate": n, "errors": ["str"], "blocks": n}',
    examples=("6", '6 "economical"'),
)
def estimatesmartfee(ctx, p):
    target = json_int32(p.get("conf_target"))
    if target < 1 or target > MAX_CONF_TARGET:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER,
                       f"Invalid conf_target, must be between 1 and {MAX_CONF_TARGET}")
    if p.given("estimate_mode") and p.str("estimate_mode").lower() not in FEE_MODES:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Invalid estimate_mode parameter, must be "
                       'one of: "unset", "economical", "conservative"')
    # With no blocks tracked, Core's estimator caps the target at 0 usable blocks.
    return {"errors": ["Insufficient data or no feerate found"], "blocks": 0}
