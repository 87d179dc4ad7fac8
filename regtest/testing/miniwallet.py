"""A tiny wallet for tests and benchmarks (in the spirit of Core's MiniWallet): one P2WPKH key,
a list of spendable outputs, and signed spends built from them.

Not consensus code: signing uses the project's own BIP143 sighash and coincurve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regtest.consensus.hashes import hash160
from regtest.consensus.sighash import PrecomputedTxData, segwit_v0_sighash
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.testing.keys import Key

SIGHASH_ALL = 1
SEQUENCE_FINAL = 0xFFFFFFFF
#: vsize of a one-input one-output P2WPKH spend (for fee arithmetic in tests).
P2WPKH_1IN_1OUT_VSIZE = 110


@dataclass(frozen=True, slots=True)
class Utxo:
    outpoint: OutPoint
    value: int
    script_pubkey: bytes
    coinbase_height: int | None = None  # set for coinbase outputs (maturity)

    @property
    def txout(self) -> TxOut:
        return TxOut(self.value, self.script_pubkey)


class MiniWallet:
    def __init__(self, secret: int = 0xC0FFEE) -> None:
        self.key = Key(secret)
        self.pubkey = self.key.pub
        self.script_pubkey = bytes([0x00, 20]) + hash160(self.pubkey)
        self.utxos: list[Utxo] = []

    # --- bookkeeping ----------------------------------------------------------------------
    def scan_block(self, block, height: int) -> None:
        """Remember outputs of `block` paying this wallet; forget the ones it spends."""
        spent = {txin.prevout for tx in block.txs for txin in tx.vin}
        self.utxos = [u for u in self.utxos if u.outpoint not in spent]
        for i, tx in enumerate(block.txs):
            for n, out in enumerate(tx.vout):
                if out.script_pubkey == self.script_pubkey:
                    self.utxos.append(Utxo(OutPoint(tx.txid, n), out.value, out.script_pubkey, height if i == 0 else None))

    def mature_utxos(self, tip_height: int, maturity: int = 100) -> list[Utxo]:
        """Utxos a transaction in the next block may spend."""
        return [u for u in self.utxos if u.coinbase_height is None or tip_height + 1 - u.coinbase_height >= maturity]

    def take(self, tip_height: int) -> Utxo:
        """Remove and return the oldest spendable utxo."""
        for i, u in enumerate(self.utxos):
            if u.coinbase_height is None or tip_height + 1 - u.coinbase_height >= 100:
                return self.utxos.pop(i)
        raise LookupError("no mature utxo")

    # --- signing --------------------------------------------------------------------------
    def sign(self, tx: Transaction, spent: Sequence[TxOut]) -> Transaction:
        """Fill the witness of every input spending this wallet's script (SIGHASH_ALL)."""
        txdata = PrecomputedTxData(tx, spent)
        script_code = bytes([0x76, 0xA9, 20]) + self.script_pubkey[2:] + bytes([0x88, 0xAC])
        vin = []
        for i, (txin, prev) in enumerate(zip(tx.vin, spent)):
            if prev.script_pubkey == self.script_pubkey:
                digest = segwit_v0_sighash(script_code, tx, i, SIGHASH_ALL, prev.value, txdata)
                sig = self.key.sign_ecdsa_fixed_size(digest) + bytes([SIGHASH_ALL])
                txin = TxIn(txin.prevout, txin.script_sig, txin.sequence, (sig, self.pubkey))
            vin.append(txin)
        return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)

    def spend(
        self,
        utxos: Sequence[Utxo],
        outputs: Sequence[TxOut],
        *,
        version: int = 2,
        locktime: int = 0,
        sequence: int = SEQUENCE_FINAL,
    ) -> Transaction:
        vin = tuple(TxIn(u.outpoint, b"", sequence) for u in utxos)
        tx = Transaction(version, vin, tuple(outputs), locktime)
        return self.sign(tx, [u.txout for u in utxos])

    def self_transfer(self, utxo: Utxo, fee: int, **kw) -> tuple[Transaction, Utxo]:
        """One input, one output back to this wallet paying `fee`; returns (tx, its output)."""
        tx = self.spend([utxo], [TxOut(utxo.value - fee, self.script_pubkey)], **kw)
        return tx, Utxo(OutPoint(tx.txid, 0), utxo.value - fee, self.script_pubkey)

    def split(self, utxo: Utxo, n: int, fee: int) -> tuple[Transaction, list[Utxo]]:
        """One input into `n` equal outputs to this wallet."""
        each = (utxo.value - fee) // n
        tx = self.spend([utxo], [TxOut(each, self.script_pubkey)] * n)
        return tx, [Utxo(OutPoint(tx.txid, i), each, self.script_pubkey) for i in range(n)]
