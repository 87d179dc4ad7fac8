"""An unspent output as the UTXO set stores it (Core's Coin)."""

from __future__ import annotations

from dataclasses import dataclass

from regtest.consensus.transaction import TxOut


@dataclass(frozen=True, slots=True)
class Coin:
    value: int
    script_pubkey: bytes
    height: int  # height of the block that created it
    is_coinbase: bool

    @property
    def txout(self) -> TxOut:
        return TxOut(self.value, self.script_pubkey)
