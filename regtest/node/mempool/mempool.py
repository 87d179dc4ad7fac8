"""The node's mempool: acceptance, chain synchronisation (blocks, reorgs) and event fan-out.

Block connected: confirmed transactions leave silently (each still consumes a mempool sequence
number, as in Core), conflicting ones leave with 'R'. Block disconnected: its transactions are
offered back (re-validated against the new tip, as Core's MaybeUpdateMempoolForReorg), then every
entry that is no longer valid at the new tip (spent coinbase now immature, lock times, missing
inputs) is removed with its descendants.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from typing import Any

from regtest.chain.events import ChainListener
from regtest.consensus.block import Block
from regtest.consensus.coins import Coin
from regtest.consensus.params import COINBASE_MATURITY
from regtest.consensus.transaction import OutPoint, Transaction
from regtest.consensus.tx_finality import is_final_tx, sequence_lock_pair, sequence_locks_met
from regtest.node.mempool.accept import AcceptResult, MempoolAccept
from regtest.node.mempool.chainview import MEMPOOL_HEIGHT, ChainView
from regtest.node.mempool.policy import PolicySettings
from regtest.node.mempool.pool import MempoolListener, RemovalReason, TxPool


MAX_PACKAGE_COUNT = 25
MAX_PACKAGE_WEIGHT = 404_000


class Mempool(ChainListener):
    def __init__(
        self,
        chainstate: Any,
        settings: PolicySettings | None = None,
        *,
        full_rbf: bool = True,
        clock: Callable[[], float] = _time.time,
    ) -> None:
        self.settings = settings or PolicySettings()
        self.full_rbf = full_rbf
        self.chain = ChainView(chainstate)
        self.pool = TxPool(clock)
        self.acceptor = MempoolAccept(self.pool, self.chain, self.settings, full_rbf)
        self.loaded = True
        self.unbroadcast: set[bytes] = set()  # submitted over RPC, not yet sent to a peer

    # --- acceptance ---------------------------------------------------------------------------
    def accept(
        self,
        tx: Transaction,
        *,
        test_accept: bool = False,
        bypass_limits: bool = False,
        accept_time: int | None = None,
        max_fee: int = 0,
    ) -> AcceptResult:
        """Validate `tx` and add it (see MempoolAccept.accept); `accept_time` sets the entry time
        (mempool.dat reloads), `max_fee` > 0 refuses valid transactions paying more."""
        return self.acceptor.accept(
            tx, test_accept=test_accept, bypass_limits=bypass_limits, accept_time=accept_time, max_fee=max_fee
        )

    def test_package(self, txs: list[Transaction]) -> list[AcceptResult | None]:
        """testmempoolaccept of several transactions: each may spend outputs of earlier ones.
        Accepted ones are added quietly (no events, no sequence numbers, no trimming) and taken
        out again; after the first failure the rest are not evaluated (None)."""
        if len(txs) == 1:
            return [self.accept(txs[0], test_accept=True)]
        results: list[AcceptResult | None] = []
        added: list[bytes] = []
        pool = self.pool
        saved = (pool.sequence, pool.transactions_updated, pool.listeners)
        pool.listeners = []
        try:
            failed = False
            for i, tx in enumerate(txs):
                if failed:
                    results.append(None)
                    continue
                last = i == len(txs) - 1
                res = self.acceptor.accept(tx, test_accept=last, package_member=not last)
                if res.accepted and not last:
                    added.append(tx.txid)
                results.append(res)
                failed = not res.accepted
        finally:
            pool.remove(list(reversed(added)), RemovalReason.REPLACED, notify=False)
            pool.sequence, pool.transactions_updated, pool.listeners = saved
        return results

    @staticmethod
    def package_error(txs: list[Transaction]) -> str | None:
        """Core's IsWellFormedPackage (sorted): the package-level reason, or None."""
        if len(txs) > MAX_PACKAGE_COUNT:
            return "package-too-many-transactions"
        if sum(tx.weight for tx in txs) > MAX_PACKAGE_WEIGHT:
            return "package-too-large"
        txids = [tx.txid for tx in txs]
        if len(set(txids)) != len(txids):
            return "package-contains-duplicates"
        later = set(txids)
        for tx in txs:
            later.discard(tx.txid)
            if any(txin.prevout.txid in later for txin in tx.vin):
                return "package-not-sorted"
        spent = [txin.prevout for tx in txs for txin in tx.vin]
        if len(set(spent)) != len(spent):
            return "conflict-in-package"
        return None

    def add_listener(self, listener: MempoolListener) -> None:
        self.pool.listeners.append(listener)

    # --- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.pool)

    def __contains__(self, txid: bytes) -> bool:
        return txid in self.pool

    def get(self, txid: bytes):
        return self.pool.get(txid)

    def get_transaction(self, txid: bytes) -> Transaction | None:
        e = self.pool.get(txid)
        return e.tx if e is not None else None

    def is_spent(self, op: OutPoint) -> bool:
        """An in-mempool transaction spends `op` (gettxout with include_mempool)."""
        return op in self.pool.spenders

    def get_coin(self, op: OutPoint) -> Coin | None:
        """An output of an in-mempool transaction, at Core's MEMPOOL_HEIGHT."""
        e = self.pool.get(op.txid)
        if e is None or op.n >= len(e.tx.vout):
            return None
        out = e.tx.vout[op.n]
        return Coin(out.value, out.script_pubkey, MEMPOOL_HEIGHT, False)

    def block_transactions(self) -> list[Transaction]:
        """What the block assembler would put in the next block (generatetoaddress uses it)."""
        from regtest.node.mining import select_transactions

        return [e.tx for e in select_transactions(self.pool, min_fee_rate=self.settings.block_min_tx_fee)]

    @property
    def sequence(self) -> int:
        return self.pool.sequence

    def min_fee_rate(self) -> int:
        """mempoolminfee in sat/kvB: the rolling floor, never below -minrelaytxfee."""
        s = self.settings
        return max(self.pool.min_fee_rate(s.max_mempool_bytes, s.incremental_relay_fee), s.min_relay_fee)

    # --- chain events -------------------------------------------------------------------------
    def block_connected(self, block: Block, entry: Any) -> None:
        pool = self.pool
        for tx in block.txs[1:]:
            if tx.txid in pool.entries:
                pool.remove([tx.txid], RemovalReason.BLOCK)
            pool.remove_conflicts(tx)
        pool.note_block()
        self.unbroadcast &= pool.entries.keys()

    def block_disconnected(self, block: Block, entry: Any) -> None:
        for tx in block.txs[1:]:
            if tx.txid not in self.pool.entries:
                self.accept(tx, bypass_limits=True)
        self.remove_invalid_for_tip()
        s = self.settings
        self.pool.trim_to_size(s.max_mempool_bytes, s.incremental_relay_fee)

    def remove_invalid_for_tip(self) -> int:
        """Core's removeForReorg: drop entries whose inputs, lock times or coinbase maturity no
        longer hold for a block on the current tip (with their descendants)."""
        pool, chain = self.pool, self.chain
        next_height = chain.tip_height + 1
        mtp = chain.tip_mtp()
        doomed: list[bytes] = []
        for txid, e in pool.entries.items():
            tx = e.tx
            if not is_final_tx(tx, next_height, mtp):
                doomed.append(txid)
                continue
            heights = []
            ok = True
            for txin in tx.vin:
                op = txin.prevout
                parent = pool.entries.get(op.txid)
                if parent is not None:
                    ok = op.n < len(parent.tx.vout)
                    heights.append(next_height)
                else:
                    coin: Coin | None = chain.get_coin(op)
                    if coin is None:
                        ok = False
                    else:
                        heights.append(coin.height)
                        if coin.is_coinbase and next_height - coin.height < COINBASE_MATURITY:
                            ok = False
                if not ok:
                    break
            if ok and tx.version >= 2:
                lock = sequence_lock_pair(tx, True, heights, chain.mtp_at)
                ok = sequence_locks_met(lock, next_height, mtp)
            if not ok:
                doomed.append(txid)
        n = 0
        for txid in doomed:
            n += len(pool.remove_recursive(txid, RemovalReason.REORG))
        return n


__all__ = ["Mempool", "MEMPOOL_HEIGHT"]
