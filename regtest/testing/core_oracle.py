"""Bitcoin Core's script engine (libbitcoinkernel through py-bitcoinkernel) as a verdict oracle.

Only the differential tests and the benchmark use this; `pbk` is a dev dependency. Core's
kernel knows only the consensus flags and aborts the whole process (a C assert) on any other
bit, so every call goes through `core_flags`, which refuses what Core would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence

import pbk
from pbk.script import PrecomputedTransactionData as _CorePrecomputed

from regtest.consensus.transaction import TxOut

#: The flag bits libbitcoinkernel accepts (same values as our ScriptFlags).
CORE_FLAGS_MASK = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 17)
_P2SH = 1 << 0
_WITNESS = 1 << 11


class UnsupportedFlags(ValueError):
    """A flag set Core's kernel would reject (unknown bits, or WITNESS without P2SH)."""


def core_flags(flags: int) -> int:
    """Validate `flags` for the kernel: only consensus bits, and WITNESS implies P2SH."""
    if flags & ~CORE_FLAGS_MASK:
        raise UnsupportedFlags(f"non-consensus bits {flags & ~CORE_FLAGS_MASK:#x}")
    if flags & _WITNESS and not flags & _P2SH:
        raise UnsupportedFlags("WITNESS requires P2SH")
    return flags


def is_valid_combination(flags: int) -> bool:
    try:
        core_flags(flags)
    except UnsupportedFlags:
        return False
    return True


class CoreTx:
    """One transaction loaded into the kernel with its spent outputs, reusable across inputs."""

    __slots__ = ("raw", "tx", "spks", "amounts", "outputs", "precomputed")

    def __init__(self, raw_tx: bytes, spent_outputs: Sequence[TxOut]) -> None:
        self.raw = raw_tx
        self.tx = pbk.Transaction(raw_tx)
        self.spks = [pbk.ScriptPubkey(o.script_pubkey) for o in spent_outputs]
        self.amounts = [o.value for o in spent_outputs]
        self.outputs = [pbk.TransactionOutput(s, a) for s, a in zip(self.spks, self.amounts)]
        self.precomputed = _CorePrecomputed(self.tx, self.outputs)

    def verify(self, input_index: int, flags: int) -> bool:
        """Core's verdict for one input (True = scripts pass)."""
        if not 0 <= input_index < len(self.spks):
            raise IndexError(input_index)  # the kernel would assert
        return bool(
            self.spks[input_index].verify(
                self.amounts[input_index], self.tx, self.precomputed, input_index, core_flags(flags)
            )
        )


def core_verdict(raw_tx: bytes, input_index: int, spent_outputs: Sequence[TxOut], flags: int) -> bool:
    """One-shot convenience: load the tx and verify one input."""
    return CoreTx(raw_tx, spent_outputs).verify(input_index, flags)
