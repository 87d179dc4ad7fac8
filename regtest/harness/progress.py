"""Live progress of a network: one line per sealed training cycle, read from the coordinator's
public audit log and checked against the node (is the block in its active chain?)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from regtest.harness.clients import ClientError, NodeClient, SidecarClient

#: how long a sealed cycle's block may be unknown to the node before the line says so
SUBMIT_GRACE = 10.0
BLOCK_NOT_FOUND = -5


@dataclass(frozen=True)
class CycleLine:
    """What one progress line shows."""

    cycle: int
    height: int
    block_hash: str             # display order
    in_chain: bool | None       # the node's active chain holds the block (None: node unknown)
    winner: str                 # minerN, a key prefix, or "fallback" (nobody scored)
    verified: int               # contributions that passed every check
    rejected: int
    loss_before: float          # held-out loss, nats
    loss_after: float
    accuracy: float | None      # on the coordinator's private test set

    def format(self) -> str:
        acc = "  n/a " if self.accuracy is None else f"{100 * self.accuracy:5.1f}%"
        chain = {True: "", False: "  (NOT in the node's chain)", None: "  (node unknown)"}[self.in_chain]
        return (f"cycle {self.cycle:>4}  height {self.height:>4}  winner {self.winner:<8}  "
                f"verified {self.verified:>2}" + (f" ({self.rejected} rejected)" if self.rejected else "")
                + f"  held-out loss {self.loss_before:.4f} -> {self.loss_after:.4f}  accuracy {acc}"
                f"  block {self.block_hash}{chain}")


def cycle_line(log: dict[str, Any], names: dict[str, str], in_chain: bool | None) -> CycleLine:
    """A progress line from a sealed cycle's audit log; `names` maps miner keys to labels."""
    entries = log.get("contributions") or []
    w = log.get("winner")
    if w is None:
        winner = "fallback"
    else:
        key = entries[w]["miner"]
        winner = names.get(key, key[:8])
    return CycleLine(cycle=log["cycle"], height=log["height"], block_hash=log.get("block_hash") or "?",
                     in_chain=in_chain, winner=winner, verified=len(entries),
                     rejected=len(log.get("rejections") or []),
                     loss_before=log["heldout_loss_before"] / 1e6, loss_after=log["heldout_loss_after"] / 1e6,
                     accuracy=log.get("test_accuracy"))


class ProgressWatcher:
    """Call `poll()` repeatedly; it returns the lines of cycles sealed since the last call.

    Starts at the coordinator's current cycle (a network started earlier shows its latest
    sealed cycle, then new ones)."""

    def __init__(self, node: NodeClient, sidecar: SidecarClient, names: dict[str, str] | None = None,
                 first_cycle: int | None = None) -> None:
        self.node, self.sidecar = node, sidecar
        self.names = names or {}
        self.next = first_cycle
        self.pending_since: dict[int, float] = {}

    def _in_chain(self, block_hash: str) -> bool | None:
        try:
            return self.node.call("getblockheader", block_hash)["confirmations"] >= 0
        except ClientError as e:
            return False if e.code == BLOCK_NOT_FOUND else None

    def poll(self) -> list[CycleLine]:
        status = self.sidecar.status()
        current = status.get("cycle")
        if current is None:
            return []
        if self.next is None:
            self.next = current
        out = []
        while self.next <= current:
            log = self.sidecar.audit(self.next)
            if log.get("state") != "sealed":
                break
            in_chain = self._in_chain(log["block_hash"]) if log.get("block_hash") else False
            if in_chain is False and not log.get("superseded"):
                first = self.pending_since.setdefault(self.next, time.monotonic())
                if time.monotonic() - first < SUBMIT_GRACE:
                    break  # submitted just now: ask again on the next poll
            self.pending_since.pop(self.next, None)
            out.append(cycle_line(log, self.names, in_chain))
            self.next += 1
        return out
