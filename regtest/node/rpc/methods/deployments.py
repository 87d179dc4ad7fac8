"""getdeploymentinfo: the soft forks as bitcoind reports them.

Buried deployments (bip34, bip66, bip65, csv, segwit) are active for a block's successor from
their network height on. Two BIP9 entries follow, as in Core: `testdummy` (regtest networks only:
bit 28, start 0, no timeout; its state machine runs over our real block versions) and `taproot`
(ALWAYS_ACTIVE on regtest networks; on main, reported from its activation height 709,632).
"""

from __future__ import annotations

from dataclasses import dataclass

from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

ALWAYS_ACTIVE = -1
NO_TIMEOUT = 2**63 - 1
TOP_MASK = 0xE0000000
TOP_BITS = 0x20000000


@dataclass(frozen=True, slots=True)
class Bip9:
    bit: int
    start_time: int
    timeout: int
    min_activation_height: int
    period: int
    threshold: int


TESTDUMMY_REGTEST = Bip9(28, 0, NO_TIMEOUT, 0, 144, 108)
TAPROOT_REGTEST = Bip9(2, ALWAYS_ACTIVE, NO_TIMEOUT, 0, 144, 108)
TAPROOT_MAIN = Bip9(2, 1619222400, 1628640000, 709632, 2016, 1815)


def _signals(entry, dep: Bip9) -> bool:
    v = entry.header.version & 0xFFFFFFFF
    return (v & TOP_MASK) == TOP_BITS and bool(v >> dep.bit & 1)


def _period_end(prev, dep: Bip9):
    """The last block of the period before the one `prev`'s successor is in (None: genesis's parent)."""
    if prev is None:
        return None
    return prev.get_ancestor(prev.height - (prev.height + 1) % dep.period)


def state_for(prev, dep: Bip9, cache: dict) -> str:
    """BIP9 state of the block after `prev` (Core's GetStateFor), memoised per period end."""
    if dep.start_time == ALWAYS_ACTIVE:
        return "active"
    prev = _period_end(prev, dep)
    todo = []
    while prev is not None and prev.hash not in cache:
        if prev.median_time_past() < dep.start_time:
            cache[prev.hash] = "defined"
            break
        todo.append(prev)
        prev = prev.get_ancestor(prev.height - dep.period)
    state = "defined" if prev is None else cache[prev.hash]
    for p in reversed(todo):
        if state == "defined" and p.median_time_past() >= dep.start_time:
            state = "started"
        elif state == "started":
            count, e = 0, p
            for _ in range(dep.period):
                count += _signals(e, dep)
                e = e.parent
            if count >= dep.threshold:
                state = "locked_in"
            elif p.median_time_past() >= dep.timeout:
                state = "failed"
        elif state == "locked_in" and p.height + 1 >= dep.min_activation_height:
            state = "active"
        cache[p.hash] = state
    return state


def state_since(prev, dep: Bip9, cache: dict) -> int:
    """Height of the first block with the state the block after `prev` has (Core's
    GetStateSinceHeightFor)."""
    if dep.start_time == ALWAYS_ACTIVE:
        return 0
    initial = state_for(prev, dep, cache)
    if initial == "defined":
        return 0
    prev = _period_end(prev, dep)
    earlier = prev.get_ancestor(prev.height - dep.period)
    while earlier is not None and state_for(earlier, dep, cache) == initial:
        prev = earlier
        earlier = prev.get_ancestor(prev.height - dep.period)
    return prev.height + 1


def _statistics(entry, dep: Bip9) -> tuple[dict, str]:
    """Signalling in the current period up to `entry` (Core's GetStateStatisticsFor)."""
    in_period = 1 + entry.height % dep.period
    marks = [False] * in_period
    count, e = 0, entry
    for i in range(in_period - 1, -1, -1):
        if _signals(e, dep):
            count += 1
            marks[i] = True
        e = e.parent
    stats = {"period": dep.period, "elapsed": in_period, "count": count,
             "threshold": dep.threshold, "possible": dep.period - dep.threshold >= in_period - count}
    return stats, "".join("#" if m else "-" for m in marks)


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
        stats, marks = _statistics(entry, dep)
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


def deployment_info(entry, params, caches: dict) -> dict:
    regtest_like = params.taproot_height == 0
    out = {
        "bip34": _buried(entry, params.bip34_height),
        "bip66": _buried(entry, params.bip66_height),
        "bip65": _buried(entry, params.bip65_height),
        "csv": _buried(entry, params.csv_height),
        "segwit": _buried(entry, params.segwit_height),
    }
    if regtest_like:
        out["testdummy"] = bip9_json(entry, TESTDUMMY_REGTEST, caches.setdefault("testdummy", {}))
        out["taproot"] = bip9_json(entry, TAPROOT_REGTEST, {})
    else:
        out["taproot"] = bip9_json(entry, TAPROOT_MAIN, caches.setdefault("taproot", {}))
    return out


_CACHES: dict[str, dict] = {}  # per network: BIP9 states by period-end hash (they never change)


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
        caches = _CACHES.setdefault(cs.params.name, {})
        return {"hash": entry.hash_hex, "height": entry.height,
                "deployments": deployment_info(entry, cs.params, caches)}
