"""getdeploymentinfo: the soft forks as bitcoind reports them.

Buried deployments (bip34, bip66, bip65, csv, segwit) are active for a block's successor from
their network height on. Two BIP9 entries follow, as in Core: `testdummy` (regtest networks only:
bit 28, start 0, no timeout; its state machine runs over our real block versions) and `taproot`
(ALWAYS_ACTIVE on regtest networks; on main, reported from its activation height 709,632).
"""

from __future__ import annotations

from regtest.chain.versionbits import (
    Bip9,
    bip9_deployments,
    state_cache,
    state_for,
    state_since,
    statistics,
)
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, rpc_method


def bip9_json(entry, dep: Bip9, cache: dict) -> dict:
    nxt = state_for(entry, dep, cache)
    cur = state_for(entry.parent, dep, cache)
    signalling = cur in ("started", "locked_in")
    bip9: dict = {}
    if signalling:
        bip9["bit"] = dep.bit
    bip9.update(start_time=dep.start_time, timeout=dep.timeout,
                min_activation_height=dep.min_activation_height, status=cur,
                since=state_since(entry.parent, dep, cache), status_next=nxt)
    if signalling:
        stats, marks = statistics(entry, dep)
        if cur == "locked_in":
            del stats["threshold"], stats["possible"]
        bip9["statistics"] = stats
        bip9["signalling"] = marks
    out: dict = {"type": "bip9"}
    if nxt == "active":
        out["height"] = state_since(entry, dep, cache)
    out["active"] = nxt == "active"
    out["bip9"] = bip9
    return out


def _buried(entry, height: int) -> dict:
    return {"type": "buried", "active": entry.height + 1 >= height, "height": height}


def deployment_info(entry, params) -> dict:
    out = {
        "bip34": _buried(entry, params.bip34_height),
        "bip66": _buried(entry, params.bip66_height),
        "bip65": _buried(entry, params.bip65_height),
        "csv": _buried(entry, params.csv_height),
        "segwit": _buried(entry, params.segwit_height),
    }
    for name, dep in bip9_deployments(params).items():
        out[name] = bip9_json(entry, dep, state_cache(params, name))
    return out


@rpc_method(
    "getdeploymentinfo", "Blockchain", "Returns an object containing various state info regarding "
    "deployments of consensus changes.",
    args=[Arg("blockhash", ArgType.STR_HEX, "The block hash at which to query deployment state",
              optional=True, default_hint='"hash of current chain tip"')],
    result='{"hash": "str", "height": n, "deployments": {"xxxx": {"type": "str", "height": n, '
           '"active": bool, "bip9": {"bit": n, "start_time": n, "timeout": n, '
           '"min_activation_height": n, "status": "str", "since": n, "status_next": "str", '
           '"statistics": {"period": n, "threshold": n, "elapsed": n, "count": n, '
           '"possible": bool}, "signalling": "str"}}}}',
    examples=("",),
)
def getdeploymentinfo(ctx, p):
    cs = require_chain(ctx)
    with cs.lock:
        if p.given("blockhash"):
            entry = cs.get_block_index(p.hash("blockhash"))
            if entry is None:
                raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
        else:
            entry = cs.tip
        return {"hash": entry.hash_hex, "height": entry.height,
                "deployments": deployment_info(entry, cs.params)}
