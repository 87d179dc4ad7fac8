"""Core's CheckTransaction: the context-free rules every transaction must meet."""

from __future__ import annotations

from regtest.consensus.transaction import MAX_MONEY, Transaction

MAX_BLOCK_WEIGHT = 4_000_000
WITNESS_SCALE_FACTOR = 4


class TxValidationError(Exception):
    """A transaction broke a consensus rule; `reason` is Core's reject string."""

    def __init__(self, reason: str, debug: str = "") -> None:
        super().__init__(f"{reason}, {debug}" if debug else reason)
        self.reason = reason
        self.debug = debug


def check_transaction(tx: Transaction) -> None:
    """Raise TxValidationError with Core's reason for the first rule `tx` breaks."""
    if not tx.vin:
        raise TxValidationError("bad-txns-vin-empty")
    if not tx.vout:
        raise TxValidationError("bad-txns-vout-empty")
    if tx.stripped_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT:
        raise TxValidationError("bad-txns-oversize")
    total = 0
    for out in tx.vout:
        if out.value < 0:
            raise TxValidationError("bad-txns-vout-negative")
        if out.value > MAX_MONEY:
            raise TxValidationError("bad-txns-vout-toolarge")
        total += out.value
        if total > MAX_MONEY:
            raise TxValidationError("bad-txns-txouttotal-toolarge")
    seen = set()
    for txin in tx.vin:
        if txin.prevout in seen:
            raise TxValidationError("bad-txns-inputs-duplicate")
        seen.add(txin.prevout)
    if tx.is_coinbase():
        if not 2 <= len(tx.vin[0].script_sig) <= 100:
            raise TxValidationError("bad-cb-length")
    else:
        for txin in tx.vin:
            if txin.prevout.is_null():
                raise TxValidationError("bad-txns-prevout-null")
