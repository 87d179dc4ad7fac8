"""BIP9 version bits over the block index: deployment states (Core's VersionBitsCache) and the
block version a miner sets from them (Core's ComputeBlockVersion).

Deployments, as Core's: `testdummy` on regtest networks (bit 28, start 0, no timeout) and `taproot`
(always active on regtest networks; on main its 2021 parameters). getdeploymentinfo reports these
states and getblocktemplate and block assembly signal from them, so a chain's versions agree with its
reported states.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def signals(entry, dep: Bip9) -> bool:
    """Whether `entry`'s header version signals `dep` (BIP9 top bits 001 and the bit set)."""
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
                count += signals(e, dep)
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


def statistics(entry, dep: Bip9) -> tuple[dict, str]:
    """Signalling in the current period up to `entry` (Core's GetStateStatisticsFor)."""
    in_period = 1 + entry.height % dep.period
    marks = [False] * in_period
    count, e = 0, entry
    for i in range(in_period - 1, -1, -1):
        if signals(e, dep):
            count += 1
            marks[i] = True
        e = e.parent
    stats = {"period": dep.period, "elapsed": in_period, "count": count,
             "threshold": dep.threshold, "possible": dep.period - dep.threshold >= in_period - count}
    return stats, "".join("#" if m else "-" for m in marks)


def bip9_deployments(params) -> dict[str, Bip9]:
    """The BIP9 deployments of a network, in Core's order (GBT rule names)."""
    if params.taproot_height == 0:  # regtest networks
        return {"testdummy": TESTDUMMY_REGTEST, "taproot": TAPROOT_REGTEST}
    return {"taproot": TAPROOT_MAIN}


#: per network and deployment: BIP9 states by period-end block hash (they never change)
_CACHES: dict[tuple[str, str], dict] = {}


def state_cache(params, name: str) -> dict:
    return _CACHES.setdefault((params.name, name), {})


def next_block_states(prev, params) -> dict[str, str]:
    """State of every BIP9 deployment for the block after `prev`."""
    return {name: state_for(prev, dep, state_cache(params, name))
            for name, dep in bip9_deployments(params).items()}


def block_version(prev, params) -> int:
    """Version for a new block on `prev`: the top bits plus the bit of every deployment that is
    started or locked in (a miner signals both, as Core's ComputeBlockVersion)."""
    version = TOP_BITS
    deployments = bip9_deployments(params)
    for name, state in next_block_states(prev, params).items():
        if state in ("started", "locked_in"):
            version |= 1 << deployments[name].bit
    return version
