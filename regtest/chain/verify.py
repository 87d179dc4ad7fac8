"""verifychain: re-check the last blocks of the active chain against the stored state, read-only.

Levels as Core's VerifyDB (each includes the ones below):
  0  read every block and check it hashes to its index entry
  1  context-free and contextual block rules again
  2  read the undo data; it must name exactly the coins the block spent from before it
  3  disconnect the blocks from the tip in memory: their outputs must be the coins the UTXO set
     holds, the coins they spent must be absent
  4  reconnect them in memory, scripts included: the result must be the UTXO set as stored
Nothing is written: levels 3 and 4 work on an in-memory overlay of the coins database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from regtest.chain import rules
from regtest.consensus.block import Block
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.script import is_unspendable
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import OutPoint

log = logging.getLogger(__name__)

DEFAULT_CHECKLEVEL = 3
DEFAULT_CHECKBLOCKS = 6
_MISSING = object()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    reason: str = ""
    checked: int = 0  # blocks looked at


class _Overlay:
    """Coins changed in memory on top of the chainstate's view (None = spent)."""

    def __init__(self, base) -> None:
        self._base = base
        self.changed: dict[OutPoint, Coin | None] = {}

    def get(self, op: OutPoint) -> Coin | None:
        v = self.changed.get(op, _MISSING)
        return self._base(op) if v is _MISSING else v  # type: ignore[return-value]

    def set(self, op: OutPoint, coin: Coin | None) -> None:
        self.changed[op] = coin


def _new_coins(block: Block, height: int) -> dict[OutPoint, Coin]:
    """The coins a connected block leaves in the UTXO set (outputs not spent in the block)."""
    out: dict[OutPoint, Coin] = {}
    for i, tx in enumerate(block.txs):
        for txin in tx.vin if i else ():
            out.pop(txin.prevout, None)
        for n, o in enumerate(tx.vout):
            if not is_unspendable(o.script_pubkey):
                out[OutPoint(tx.txid, n)] = Coin(o.value, o.script_pubkey, height, i == 0)
    return out


def _outside_prevouts(block: Block) -> set[OutPoint]:
    """Inputs that spend coins from before the block (what its undo data must hold)."""
    seen: set[bytes] = set()
    ops: set[OutPoint] = set()
    for i, tx in enumerate(block.txs):
        if i:
            ops.update(txin.prevout for txin in tx.vin if txin.prevout.txid not in seen)
        seen.add(tx.txid)
    return ops


def _fail(reason: str, checked: int) -> VerifyResult:
    log.warning("verifychain: %s", reason)
    return VerifyResult(False, reason, checked)


def verify_chain(cs, level: int = DEFAULT_CHECKLEVEL, depth: int = DEFAULT_CHECKBLOCKS) -> VerifyResult:
    """Check the last `depth` blocks (0 or more than the height: all but genesis) at `level`
    (clamped to 0..4). Holds the chainstate lock throughout, so the chain cannot move."""
    level = max(0, min(4, level))
    with cs.lock:
        height = cs.height
        if height <= 0:
            return VerifyResult(True)
        if depth <= 0 or depth > height:
            depth = height
        log.info("Verifying last %d blocks at level %d", depth, level)
        entries = [cs.active.at(h) for h in range(height, height - depth, -1)]
        view = _Overlay(cs.get_coin)
        loaded: list[tuple[object, Block, list[tuple[OutPoint, Coin]]]] = []
        for n, e in enumerate(entries, 1):
            block = cs.get_block(e.hash)
            if block is None or block.hash != e.hash:
                return _fail(f"block {e.hash_hex} at height {e.height}: data missing or wrong", n)
            if level >= 1:
                try:
                    rules.check_block(block, cs.params)
                    rules.check_block_contextual(block, e, cs.params)
                except BlockValidationError as err:
                    return _fail(f"block {e.hash_hex} at height {e.height}: {err}", n)
            undo: list[tuple[OutPoint, Coin]] = []
            if level >= 2:
                try:
                    undo = cs.get_undo(e.hash)
                except DeserializationError as err:
                    return _fail(f"undo data of {e.hash_hex} does not parse: {err}", n)
                if undo is None or {op for op, _ in undo} != _outside_prevouts(block) or len(undo) != len(
                    {op for op, _ in undo}
                ):
                    return _fail(f"undo data of {e.hash_hex} does not match the block", n)
            if level >= 3:
                # Core skips the two mainnet coinbases that duplicated earlier ones (BIP30)
                bip30_repeat = (e.height, e.hash) in cs.params.bip30_exceptions
                for op, coin in _new_coins(block, e.height).items():
                    if bip30_repeat and coin.is_coinbase:
                        continue
                    if view.get(op) != coin:
                        return _fail(f"disconnecting {e.hash_hex}: output {op} is not in the UTXO set", n)
                    view.set(op, None)
                for op, coin in undo:
                    if view.get(op) is not None:
                        return _fail(f"disconnecting {e.hash_hex}: spent coin {op} still unspent", n)
                    view.set(op, coin)
            loaded.append((e, block, undo))
        if level >= 4:
            for e, block, undo in reversed(loaded):
                try:
                    spent, created = rules.connect_block(block, e, view.get, cs.params, cs.active.__getitem__)
                except BlockValidationError as err:
                    return _fail(f"reconnecting {e.hash_hex}: {err}", depth)
                if sorted(spent, key=_key) != sorted(undo, key=_key):
                    return _fail(f"reconnecting {e.hash_hex}: spent coins differ from its undo data", depth)
                for op, _ in spent:
                    view.set(op, None)
                for op, coin in created:
                    view.set(op, coin)
            for op, coin in view.changed.items():
                if cs.get_coin(op) != coin:
                    return _fail(f"after reconnecting, coin {op} differs from the UTXO set", depth)
    return VerifyResult(True, "", depth)


def _key(item: tuple[OutPoint, Coin]) -> tuple[bytes, int]:
    return item[0].txid, item[0].n
