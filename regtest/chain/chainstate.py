"""The chainstate: accepts headers and blocks, keeps the best valid chain active, persists it.

Public API (see docs/chainstate.md):

    cs = Chainstate.open(datadir, params)        # resumes at the stored tip
    res = cs.process_block(raw_or_block)         # ProcessResult(accepted, reason, ...)
    cs.process_header(header)
    cs.tip                                        # BlockIndexEntry (hash, height, ...)
    cs.get_block(hash) / cs.get_block_index(hash) / cs.get_coin(outpoint)
    cs.utxo_set_hash()                            # sha256d over every coin, Core's hash_serialized_3 layout
    cs.invalidate_block(hash) / cs.reconsider_block(hash)
    cs.chain_tips()                               # getchaintips rows
    cs.add_listener(listener)                     # block connected/disconnected events
    cs.close()

Every block connect or disconnect is one database transaction holding the UTXO changes, the
undo data, the index status and the new tip; the in-memory state changes only after it commits.
Thread-safe through one re-entrant lock (`Chainstate.lock`); validation itself is serial.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time as _time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from regtest.chain import rules
from regtest.chain.blockindex import (
    ActiveChain,
    BlockIndex,
    BlockIndexEntry,
    BlockStatus,
    ChainTip,
    last_common_ancestor,
)
from regtest.chain.coinscache import DEFAULT_MAX_ENTRIES, CoinsCache
from regtest.chain.coinser import hash_serialize_coin, parse_undo, serialize_undo
from regtest.chain.events import ChainListener, ListenerSet
from regtest.chain.scriptcheck import ParallelScriptChecker, default_workers
from regtest.chain.storage import ChainStore, IndexRow, StorageError
from regtest.consensus.block import Block, BlockHeader
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockResult, BlockValidationError
from regtest.consensus.params import NetworkParams
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import OutPoint

log = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run the method under the chainstate's re-entrant lock (see Chainstate.lock)."""

    @functools.wraps(method)
    def wrapper(self: "Chainstate", *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


_BLOCK_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """What happened to a submitted block or header.

    accepted: the block was stored and not itself found invalid (it may sit on a side branch,
        or its branch may have been dropped because an ancestor failed: `debug` says so).
    reason: Core's reject string when not accepted ("duplicate", "prev-blk-not-found",
        "bad-cb-amount", ...), also when the block failed while being connected.
    is_new: the block (or header) was not known before this call.
    connected: the block is on the active chain after the call.
    """

    hash: bytes
    accepted: bool
    reason: str | None = None
    is_new: bool = False
    connected: bool = False
    debug: str = ""

    @property
    def hash_hex(self) -> str:
        return hash_to_hex(self.hash)


@dataclass(frozen=True, slots=True)
class UtxoStats:
    """The numbers behind `gettxoutsetinfo`."""

    height: int
    best_block: bytes
    txouts: int
    transactions: int
    bogosize: int
    total_amount: int
    hash_serialized: bytes  # internal order; display with hash_to_hex
    disk_size: int


@dataclass
class _ConnectOutcome:
    ok: bool
    error: BlockValidationError | None = None
    failed: list[tuple[bytes, str, str]] = field(default_factory=list)  # (hash, reason, debug)


class Chainstate:
    """One network's chain under one data directory."""

    def __init__(
        self,
        store: ChainStore,
        params: NetworkParams,
        clock: Callable[[], int] | None = None,
        cache_entries: int = DEFAULT_MAX_ENTRIES,
        script_workers: int | None = None,
    ) -> None:
        # Every public method that reads the database or changes state holds this lock, so
        # callers on several threads (RPC, P2P) see whole blocks only. Hold it yourself to make
        # several reads consistent with each other.
        self.lock = threading.RLock()
        self.store = store
        self.params = params
        self.clock: Callable[[], int] = clock or (lambda: int(_time.time()))
        self.index = BlockIndex()
        self.active = ActiveChain()
        self.coins = CoinsCache(store, cache_entries)
        self.listeners = ListenerSet()
        self._blocks: OrderedDict[bytes, Block] = OrderedDict()
        self._pending: dict[bytes, bytes] = {}  # accepted block data not yet written
        workers = default_workers() if script_workers is None else script_workers
        self.script_checker = ParallelScriptChecker(workers)
        self._load_or_init()

    # --- opening ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        datadir: str,
        params: NetworkParams,
        *,
        synchronous: str = "NORMAL",
        clock: Callable[[], int] | None = None,
        cache_entries: int = DEFAULT_MAX_ENTRIES,
        script_workers: int | None = None,
    ) -> "Chainstate":
        """Open (or create) the chainstate in `datadir`; resumes at the stored tip and then
        finishes any reorganisation a crash interrupted.

        `script_workers`: processes that check scripts of big blocks besides this one
        (None: one per extra core, started on the first big block; 0: all inline)."""
        store = ChainStore.open_datadir(datadir, synchronous)
        try:
            cs = cls(store, params, clock, cache_entries, script_workers)
            cs.activate_best_chain()
        except BaseException:
            store.close()
            raise
        return cs

    @_locked
    def close(self) -> None:
        self.script_checker.close()
        self.store.close()

    def __enter__(self) -> "Chainstate":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load_or_init(self) -> None:
        name = rules.network_name(self.params).encode()
        stored = self.store.get_meta("network")
        if stored is None:
            self._init_genesis(name)
            return
        if stored != name:
            raise StorageError(f"data directory belongs to network {stored.decode()!r}, not {name.decode()!r}")
        version = self.store.get_meta("schema")
        if version != b"1":
            raise StorageError(f"unsupported chainstate schema {version!r}")
        for row in self.store.load_index():
            header = BlockHeader.parse(row.header)
            parent = self.index.get(header.prev_hash) if row.height > 0 else None
            if row.height > 0 and parent is None:
                raise StorageError(f"block index row {hash_to_hex(row.hash)} has no parent")
            entry = BlockIndexEntry(
                row.hash, header, row.height, row.chain_work, BlockStatus(row.status), parent,
                row.sequence, row.n_tx,
            )
            entry.chain_has_data = bool(entry.status & BlockStatus.HAVE_DATA) and (
                parent is None or parent.chain_has_data
            )
            self.index.add(entry)
            self.index.next_sequence = max(self.index.next_sequence, row.sequence + 1)
        tip_hash = self.store.get_meta("tip")
        tip = self.index.get(tip_hash) if tip_hash else None
        if tip is None:
            raise StorageError("stored tip is not in the block index")
        self.active.set_tip(tip)
        self.index.rebuild_candidates()

    def _init_genesis(self, network: bytes) -> None:
        """A new data directory: store and connect the genesis block (its outputs stay unspendable)."""
        genesis = rules.genesis_block(self.params)
        h = genesis.hash
        status = (
            BlockStatus.HEADER_VALID | BlockStatus.HAVE_DATA | BlockStatus.TXS_VALID
            | BlockStatus.SCRIPTS_VALID | BlockStatus.HAVE_UNDO
        )
        entry = BlockIndexEntry(
            h, genesis.header, 0, rules.block_work(genesis.header, self.params), status, None,
            self.index.take_sequence(), len(genesis.txs), chain_has_data=True,
        )
        with self.store.transaction():
            self.store.set_meta("network", network)
            self.store.set_meta("schema", b"1")
            self.store.put_block(h, genesis.serialize())
            self.store.put_undo(h, serialize_undo([]))
            self.store.put_index([_row(entry)])
            self.store.set_meta("tip", h)
        self.index.add(entry)
        self.index.candidates.add(entry)
        self.active.set_tip(entry)

    # --- reading ----------------------------------------------------------------------------
    @property
    def tip(self) -> BlockIndexEntry:
        tip = self.active.tip
        assert tip is not None
        return tip

    @property
    def height(self) -> int:
        return self.active.height

    def get_block_index(self, block_hash: bytes) -> BlockIndexEntry | None:
        return self.index.get(block_hash)

    @_locked
    def get_block(self, block_hash: bytes) -> Block | None:
        blk = self._blocks.get(block_hash)
        if blk is not None:
            return blk
        raw = self.store.get_block(block_hash)
        return Block.parse(raw) if raw is not None else None

    @_locked
    def get_raw_block(self, block_hash: bytes) -> bytes | None:
        raw = self._pending.get(block_hash)
        return raw if raw is not None else self.store.get_block(block_hash)

    @_locked
    def get_undo(self, block_hash: bytes) -> list[tuple[OutPoint, Coin]] | None:
        raw = self.store.get_undo(block_hash)
        return parse_undo(raw) if raw is not None else None

    @_locked
    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.coins.get(outpoint)

    def block_hash_at(self, height: int) -> bytes | None:
        e = self.active.at(height)
        return e.hash if e is not None else None

    def best_header(self) -> BlockIndexEntry:
        return self.index.best_header() or self.tip

    @_locked
    def chain_tips(self) -> list[ChainTip]:
        return self.index.chain_tips(self.active)

    def utxo_set_hash(self) -> bytes:
        """sha256d over every coin in (txid, index) order, each as Core's TxOutSer writes it
        (outpoint, height*2+coinbase, value, script): the layout of Core's hash_serialized_3."""
        return self.utxo_stats().hash_serialized

    @_locked
    def utxo_stats(self) -> UtxoStats:
        h = hashlib.sha256()
        txouts = total = bogo = txs = 0
        last_txid = b""
        for op, coin in self.store.iter_coins():
            h.update(hash_serialize_coin(op, coin))
            txouts += 1
            total += coin.value
            bogo += 50 + len(coin.script_pubkey)
            if op.txid != last_txid:
                txs += 1
                last_txid = op.txid
        digest = hashlib.sha256(h.digest()).digest()
        return UtxoStats(self.height, self.tip.hash, txouts, txs, bogo, total, digest, self.store.disk_size())

    # --- listeners --------------------------------------------------------------------------
    def add_listener(self, listener: ChainListener) -> None:
        self.listeners.add(listener)

    def remove_listener(self, listener: ChainListener) -> None:
        self.listeners.remove(listener)

    # --- headers ----------------------------------------------------------------------------
    def process_header(self, header: BlockHeader) -> ProcessResult:
        """Add one header to the index (headers-first sync)."""
        return self.process_headers([header])[0]

    @_locked
    def process_headers(self, headers: list[BlockHeader]) -> list[ProcessResult]:
        """Headers in order (a `headers` message); stops at the first rejected one. The new
        entries are written in one transaction."""
        out: list[ProcessResult] = []
        new_entries: list[BlockIndexEntry] = []
        for header in headers:
            h = header.hash
            try:
                entry, is_new = self._accept_header(header)
            except BlockValidationError as e:
                out.append(ProcessResult(h, False, e.reason, debug=e.debug))
                break
            if is_new:
                new_entries.append(entry)
            out.append(ProcessResult(h, True, None, is_new, self.active.contains(entry)))
        if new_entries:
            with self.store.transaction():
                self.store.put_index([_row(e) for e in new_entries])
        return out

    def _accept_header(self, header: BlockHeader) -> tuple[BlockIndexEntry, bool]:
        """Core's AcceptBlockHeader: known, parent checks, header rules, then a new index entry."""
        h = header.hash
        entry = self.index.get(h)
        if entry is not None:
            if entry.is_failed():
                raise BlockValidationError("duplicate", "block is marked invalid", BlockResult.CONSENSUS)
            return entry, False
        rules.check_header_context_free(header, self.params)
        prev = self.index.get(header.prev_hash)
        if prev is None:
            raise BlockValidationError("prev-blk-not-found", "", BlockResult.MISSING_PREV)
        if prev.is_failed():
            raise BlockValidationError("bad-prevblk", "", BlockResult.INVALID_PREV)
        rules.check_header_contextual(header, prev, self.params, self.clock())
        entry = BlockIndexEntry(
            h, header, prev.height + 1, prev.chain_work + rules.block_work(header, self.params),
            BlockStatus.HEADER_VALID, prev, 0,
        )
        self.index.add(entry)
        return entry, True

    # --- blocks -----------------------------------------------------------------------------
    @_locked
    def process_block(self, block: Block | bytes) -> ProcessResult:
        """Validate, store and (if it makes the best chain) connect one block."""
        raw: bytes | None = None
        if isinstance(block, (bytes, bytearray, memoryview)):
            raw = bytes(block)
            try:
                block = Block.parse(raw)
            except DeserializationError as e:
                return ProcessResult(b"\x00" * 32, False, "block-decode-failed", debug=str(e))
        h = block.hash
        known = self.index.get(h)
        if known is not None:
            if known.is_failed():
                return ProcessResult(h, False, "duplicate-invalid")
            if known.status & BlockStatus.HAVE_DATA:
                return ProcessResult(h, False, "duplicate", connected=self.active.contains(known))
        # Context-free checks first, as Core's ProcessNewBlock: failures here mark nothing.
        try:
            rules.check_block(block, self.params)
        except BlockValidationError as e:
            return ProcessResult(h, False, e.reason, debug=e.debug)
        try:
            entry, is_new = self._accept_header(block.header)
        except BlockValidationError as e:
            return ProcessResult(h, False, e.reason, debug=e.debug)
        try:
            rules.check_block_contextual(block, entry, self.params)
        except BlockValidationError as e:
            if e.result is not BlockResult.MUTATED:
                self._mark_invalid(entry)
            elif is_new:
                with self.store.transaction():
                    self.store.put_index([_row(entry)])
            return ProcessResult(h, False, e.reason, is_new, debug=e.debug)
        self._store_block(entry, block, raw)
        try:
            outcome = self.activate_best_chain()
        finally:
            self._flush_pending()
        for failed_hash, reason, debug in outcome.failed:
            if failed_hash == h:
                return ProcessResult(h, False, reason, True, debug=debug)
        if outcome.failed:
            # As Core's ProcessNewBlock: the block itself was accepted (stored); an ancestor
            # failed when the branch was connected, which the debug text names.
            failed_hash, reason, debug = outcome.failed[-1]
            note = f"{hash_to_hex(failed_hash)} failed: {reason} {debug}".rstrip()
            return ProcessResult(h, True, None, True, self.active.contains(entry), debug=note)
        return ProcessResult(h, True, None, True, self.active.contains(entry))

    def _store_block(self, entry: BlockIndexEntry, block: Block, raw: bytes | None = None) -> None:
        """Accept the block's data. The write is deferred: if the block is connected at once
        its data goes into the connect transaction (one commit per block); otherwise
        `_flush_pending` writes it before process_block returns."""
        entry.status |= BlockStatus.HAVE_DATA | BlockStatus.TXS_VALID
        entry.sequence = self.index.take_sequence()
        entry.n_tx = len(block.txs)
        self._pending[entry.hash] = raw if raw is not None else block.serialize()
        self.index.update_chain_has_data(entry)
        self._remember_block(block)

    def _flush_pending(self) -> None:
        """Write accepted blocks that were not connected (side branches, failures)."""
        if not self._pending:
            return
        with self.store.transaction():
            for h, raw in self._pending.items():
                self.store.put_block(h, raw)
                e = self.index.get(h)
                if e is not None:
                    self.store.put_index([_row(e)])
        self._pending.clear()

    def _remember_block(self, block: Block) -> None:
        self._blocks[block.hash] = block
        self._blocks.move_to_end(block.hash)
        while len(self._blocks) > _BLOCK_CACHE_SIZE:
            self._blocks.popitem(last=False)

    def _load_block(self, entry: BlockIndexEntry) -> Block:
        blk = self.get_block(entry.hash)
        if blk is None:
            raise StorageError(f"block data missing for {entry.hash_hex}")
        return blk

    # --- activation -------------------------------------------------------------------------
    @_locked
    def activate_best_chain(self, _start_tip: BlockIndexEntry | None = None) -> _ConnectOutcome:
        """Move the active chain to the most-work valid chain, one atomic block at a time.

        A block that fails to connect is marked invalid with its descendants, and the search
        starts again, so the chain ends on the best chain that is still valid.
        """
        outcome = _ConnectOutcome(True)
        start_tip = _start_tip or self.active.tip
        while True:
            best = self.index.best_candidate()
            tip = self.active.tip
            if best is None or best is tip:
                break
            fork = last_common_ancestor(tip, best) if tip is not None else None
            while self.active.tip is not fork:
                self._disconnect_tip()
            path = []
            e: BlockIndexEntry | None = best
            while e is not None and e is not fork:
                path.append(e)
                e = e.parent
            for e in reversed(path):
                err = self._connect(e)
                if err is not None:
                    outcome.ok = False
                    outcome.error = err
                    outcome.failed.append((e.hash, err.reason, err.debug))
                    self._mark_invalid(e)
                    self.index.rebuild_candidates()
                    break
        if self.active.tip is not None:
            self.index.prune_candidates(self.active.tip)
        if self.active.tip is not start_tip and self.active.tip is not None:
            self.listeners.emit("tip_changed", self.active.tip)
        return outcome

    def _connect(self, entry: BlockIndexEntry) -> BlockValidationError | None:
        """Validate `entry` against the UTXO set and commit it as the new tip."""
        assert entry.parent is self.active.tip
        block = self._load_block(entry)
        self.coins.prefetch(rules.lookups(block, entry, self.params, self._active_ancestor))
        try:
            spent, created = rules.connect_block(
                block, entry, self.coins.get, self.params, self._active_ancestor, self.script_checker
            )
        except BlockValidationError as e:
            log.info("block %s at height %d failed: %s", entry.hash_hex, entry.height, e)
            return e
        # Net effect (the consensus contract): `spent` are coins that existed before the block
        # (its undo data), `created` the new coins it leaves unspent.
        removed = [op for op, _ in spent]
        old_status = entry.status
        entry.status |= BlockStatus.SCRIPTS_VALID | BlockStatus.HAVE_UNDO
        pending = self._pending.get(entry.hash)
        try:
            with self.store.transaction():
                if pending is not None:
                    self.store.put_block(entry.hash, pending)
                self.store.delete_coins(removed)
                self.store.add_coins(created)
                self.store.put_undo(entry.hash, serialize_undo(spent))
                self.store.put_index([_row(entry)])
                self.store.set_meta("tip", entry.hash)
        except BaseException:
            entry.status = old_status
            self.coins.clear()
            raise
        self._pending.pop(entry.hash, None)
        self.coins.apply(removed, created)
        self.active.set_tip(entry)
        self.listeners.emit("block_connected", block, entry)
        return None

    def _disconnect_tip(self) -> None:
        """Undo the tip block: remove its outputs, restore the coins it spent, move the tip back."""
        entry = self.tip
        if entry.parent is None:
            raise ValueError("cannot disconnect the genesis block")
        block = self._load_block(entry)
        raw_undo = self.store.get_undo(entry.hash)
        if raw_undo is None:
            raise StorageError(f"undo data missing for {entry.hash_hex}")
        restored = parse_undo(raw_undo)
        removed = [OutPoint(tx.txid, i) for tx in block.txs for i in range(len(tx.vout))]
        try:
            with self.store.transaction():
                self.store.delete_coins(removed)
                self.store.add_coins(restored)
                self.store.set_meta("tip", entry.parent.hash)
        except BaseException:
            self.coins.clear()
            raise
        self.coins.apply(removed, restored)
        self.active.set_tip(entry.parent)
        self.listeners.emit("block_disconnected", block, entry)

    def _active_ancestor(self, height: int) -> BlockIndexEntry:
        e = self.active.at(height)
        if e is None:
            raise ValueError(f"no active block at height {height}")
        return e

    # --- validity marks ---------------------------------------------------------------------
    def _mark_invalid(self, entry: BlockIndexEntry) -> None:
        """Core's InvalidBlockFound: the block FAILED, every descendant FAILED_CHILD."""
        self._flush_pending()
        changed = [entry]
        entry.status |= BlockStatus.FAILED
        for d in self.index.descendants(entry):
            if not d.status & BlockStatus.FAILED_CHILD:
                d.status |= BlockStatus.FAILED_CHILD
                changed.append(d)
        with self.store.transaction():
            self.store.put_index([_row(e) for e in changed])

    @_locked
    def invalidate_block(self, block_hash: bytes) -> None:
        """Core's invalidateblock: mark the block and its descendants invalid, step the chain off
        it, and activate the best chain that remains."""
        entry = self.index.get(block_hash)
        if entry is None:
            raise KeyError("Block not found")
        if entry.parent is None:
            raise ValueError("cannot invalidate the genesis block")
        start_tip = self.tip
        while self.active.contains(entry):
            self._disconnect_tip()
        self._mark_invalid(entry)
        self.index.rebuild_candidates()
        self.activate_best_chain(start_tip)

    @_locked
    def reconsider_block(self, block_hash: bytes) -> None:
        """Core's reconsiderblock: clear failure marks on the block, its descendants and its
        ancestors, then activate the best chain (blocks that really are invalid fail again)."""
        entry = self.index.get(block_hash)
        if entry is None:
            raise KeyError("Block not found")
        changed = []
        for e in [entry, *self.index.descendants(entry)]:
            if e.status & BlockStatus.FAILED_MASK:
                e.status &= ~BlockStatus.FAILED_MASK
                changed.append(e)
        a = entry.parent
        while a is not None:
            if a.status & BlockStatus.FAILED_MASK:
                a.status &= ~BlockStatus.FAILED_MASK
                changed.append(a)
            a = a.parent
        if changed:
            with self.store.transaction():
                self.store.put_index([_row(e) for e in changed])
        self.index.rebuild_candidates()
        self.index.forget_best_header()
        self.activate_best_chain()


def _row(e: BlockIndexEntry) -> IndexRow:
    return IndexRow(e.hash, e.header.serialize(), e.height, e.chain_work, int(e.status), e.sequence, e.n_tx)


__all__ = ["Chainstate", "ChainListener", "ProcessResult", "UtxoStats"]
