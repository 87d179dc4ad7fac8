"""What mempool validation reads from the active chain: coins, the tip, median times past.

A thin adapter over the chainstate so that policy code names the few things it needs, and so
the tip's median time past is computed once per tip rather than once per transaction.
"""

from __future__ import annotations

from typing import Any

from regtest.consensus.coins import Coin
from regtest.consensus.transaction import OutPoint

#: Core's MEMPOOL_HEIGHT: the height given to coins created by unconfirmed transactions.
MEMPOOL_HEIGHT = 0x7FFFFFFF


class ChainView:
    def __init__(self, chainstate: Any) -> None:
        self.cs = chainstate
        self.params = chainstate.params
        self._mtp_cache: tuple[bytes, int] | None = None

    @property
    def tip_height(self) -> int:
        return self.cs.height

    @property
    def tip_hash(self) -> bytes:
        return self.cs.tip.hash

    def tip_mtp(self) -> int:
        tip = self.cs.tip
        cached = self._mtp_cache
        if cached is not None and cached[0] == tip.hash:
            return cached[1]
        mtp = tip.median_time_past()
        self._mtp_cache = (tip.hash, mtp)
        return mtp

    def mtp_at(self, height: int) -> int:
        """Median time past of the active chain's block at `height` (the tip's for anything above)."""
        if height >= self.cs.height:
            return self.tip_mtp()
        entry = self.cs.active.at(height)
        return entry.median_time_past()

    def get_coin(self, op: OutPoint) -> Coin | None:
        return self.cs.get_coin(op)
