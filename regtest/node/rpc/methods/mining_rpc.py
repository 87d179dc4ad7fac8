"""getblocktemplate (template and proposal modes, long polling) and getmininginfo."""

from __future__ import annotations

import asyncio
import time as _time
from typing import Any

from regtest.consensus.block import Block
from regtest.consensus.serialize import DeserializationError
from regtest.node import mining
from regtest.node.rpc.blockjson import compact_to_target, difficulty
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.jsonfmt import amount, double
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

LONGPOLL_FIRST_CHECK = 60.0
LONGPOLL_RECHECK = 10.0
LONGPOLL_TICK = 0.05
NETWORK_HASHPS_LOOKUP = 120
_SEGWIT_REQUIRED = 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})'


def _state(ctx: Any) -> dict:
    """Per-node template cache and counters (kept in ctx.extras)."""
    return ctx.extras.setdefault("mining", {"template": None, "key": None})


def _tx_updated(ctx: Any) -> int:
    return ctx.mempool.pool.transactions_updated if ctx.mempool is not None else 0


def current_template(ctx: Any) -> mining.BlockTemplate:
    """A template for the tip, rebuilt when the tip or the mempool changed."""
    cs = ctx.chainstate
    st = _state(ctx)
    key = (cs.tip.hash, _tx_updated(ctx))
    if st["template"] is None or st["key"] != key:
        reserved = int(ctx.extras.get("blockreservedweight", mining.DEFAULT_BLOCK_RESERVED_WEIGHT))
        st["template"] = mining.create_template(ctx.mempool, cs, now=int(ctx.clock()), reserved_weight=reserved)
        st["key"] = key
    tpl = st["template"]
    tpl.curtime = max(int(ctx.clock()), tpl.mintime)
    return tpl


def _proposal(ctx: Any, request: dict) -> str | None:
    cs = ctx.chainstate
    data = request.get("data")
    if not isinstance(data, str):
        raise RPCError(RPCErrorCode.TYPE_ERROR, "Missing data String key for proposal")
    try:
        block = Block.parse(bytes.fromhex(data))
    except (ValueError, DeserializationError):
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "Block decode failed") from None
    if not block.txs or not block.txs[0].is_coinbase():
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "Block decode failed")
    entry = cs.get_block_index(block.hash)
    if entry is not None:
        if entry.is_failed():
            return "duplicate-invalid"
        from regtest.chain.blockindex import BlockStatus

        if entry.status & BlockStatus.SCRIPTS_VALID:
            return "duplicate"
        return "duplicate-inconclusive"
    return mining.check_block_validity(cs, block)


async def _longpoll(ctx: Any, longpollid: Any) -> None:
    """Wait until the tip moves, or (after a minute, then every 10 s) the mempool changed."""
    cs = ctx.chainstate
    if isinstance(longpollid, str) and len(longpollid) >= 64:
        try:
            watched = bytes.fromhex(longpollid[:64])[::-1]
        except ValueError:
            raise RPCError(RPCErrorCode.INVALID_PARAMETER, "longpollid must be hexadecimal string") from None
        try:
            last_updated = int(longpollid[64:] or 0)
        except ValueError:
            last_updated = 0
    else:
        watched, last_updated = cs.tip.hash, _tx_updated(ctx)
    check_at = _time.monotonic() + LONGPOLL_FIRST_CHECK
    while cs.tip.hash == watched:
        await asyncio.sleep(LONGPOLL_TICK)
        if ctx.extras.get("shutting_down"):
            raise RPCError(RPCErrorCode.CLIENT_NOT_CONNECTED, "Shutting down")
        if _time.monotonic() >= check_at:
            if _tx_updated(ctx) != last_updated:
                return
            check_at += LONGPOLL_RECHECK


@rpc_method(
    "getblocktemplate", "Mining",
    "If the request parameters include a 'mode' key, that is used to explicitly select between "
    "the default 'template' request or a 'proposal'.\nIt returns data needed to construct a block "
    "to work on.\nFor full specification, see BIPs 22, 23, 9, and 145:\n"
    "    https://github.com/bitcoin/bips/blob/master/bip-0022.mediawiki\n"
    "    https://github.com/bitcoin/bips/blob/master/bip-0023.mediawiki\n"
    "    https://github.com/bitcoin/bips/blob/master/bip-0009.mediawiki#getblocktemplate_changes\n"
    "    https://github.com/bitcoin/bips/blob/master/bip-0145.mediawiki",
    args=[Arg("template_request", ArgType.OBJ, "Format of the template", optional=True, default_hint="{}")],
    result='{"version": n, "rules": ["str"], "vbavailable": {...}, "capabilities": ["str"], '
           '"vbrequired": n, "previousblockhash": "hex", "transactions": [{...}], "coinbaseaux": {}, '
           '"coinbasevalue": n, "longpollid": "str", "target": "hex", "mintime": n, "mutable": ["str"], '
           '"noncerange": "hex", "sigoplimit": n, "sizelimit": n, "weightlimit": n, "curtime": n, '
           '"bits": "str", "height": n, "default_witness_commitment": "str"} | null | "str"',
    examples=('\'{"rules": ["segwit"]}\'',),
)
async def getblocktemplate(ctx, p):
    cs = require_chain(ctx)
    request = p.get("template_request") or {}
    mode = request.get("mode", "template")
    if mode is None:
        mode = "template"
    if not isinstance(mode, str):
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Invalid mode")
    if mode == "proposal":
        return _proposal(ctx, request)
    if mode != "template":
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Invalid mode")
    rules = request.get("rules")
    if not isinstance(rules, list) or "segwit" not in rules:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, _SEGWIT_REQUIRED)
    if request.get("longpollid") is not None:
        await _longpoll(ctx, request.get("longpollid"))
    tpl = current_template(ctx)
    reserved = int(ctx.extras.get("blockreservedweight", mining.DEFAULT_BLOCK_RESERVED_WEIGHT))
    _state(ctx)["last"] = (reserved + tpl.weight, len(tpl.entries))  # Core counts the coinbase reserve
    longpollid = cs.tip.hash_hex + str(tpl.transactions_updated)
    return mining.template_json(tpl, longpollid)


def network_hashps(cs: Any, lookup: int = NETWORK_HASHPS_LOOKUP) -> float:
    """Core's GetNetworkHashPS: chain work over the time spanned by the last `lookup` blocks."""
    tip = cs.tip
    if tip.height == 0:
        return 0
    lookup = min(lookup, tip.height)
    first = tip
    lo = hi = tip.header.time
    for _ in range(lookup):
        first = first.parent
        lo = min(lo, first.header.time)
        hi = max(hi, first.header.time)
    if lo == hi:
        return 0
    return float(tip.chain_work - first.chain_work) / (hi - lo)


@rpc_method(
    "getmininginfo", "Mining", "Returns a json object containing mining-related information.",
    result='{"blocks": n, "currentblockweight": n, "currentblocktx": n, "bits": "hex", '
           '"difficulty": n, "target": "hex", "networkhashps": n, "pooledtx": n, '
           '"blockmintxfee": n, "chain": "str", "next": {"height": n, "bits": "hex", '
           '"difficulty": n, "target": "hex"}, "warnings": ["str"]}',
    examples=("",),
)
def getmininginfo(ctx, p):
    cs = require_chain(ctx)
    tip = cs.tip
    bits = tip.header.bits
    out: dict[str, Any] = {"blocks": cs.height}
    last = _state(ctx).get("last")
    if last is not None:
        out["currentblockweight"] = last[0]
        out["currentblocktx"] = last[1]
    from regtest.consensus.params import next_work_required

    nxt_time = max(int(ctx.clock()), tip.median_time_past() + 1)
    nxt_bits = next_work_required(
        cs.params, mining.HeaderView(tip), nxt_time, lambda h: mining.HeaderView(tip.get_ancestor(h))
    )
    block_min = ctx.mempool.settings.block_min_tx_fee if ctx.mempool is not None else 1
    out.update({
        "bits": "%08x" % bits,
        "difficulty": difficulty(bits),
        "target": "%064x" % compact_to_target(bits),
        "networkhashps": double(network_hashps(cs)),
        "pooledtx": len(ctx.mempool) if ctx.mempool is not None else 0,
        "blockmintxfee": amount(block_min),
        "chain": ctx.chain,
        "next": {
            "height": cs.height + 1,
            "bits": "%08x" % nxt_bits,
            "difficulty": difficulty(nxt_bits),
            "target": "%064x" % compact_to_target(nxt_bits),
        },
        "warnings": [],
    })
    return out
