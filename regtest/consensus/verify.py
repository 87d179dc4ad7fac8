"""The stable public API for script validation of transaction inputs."""

from __future__ import annotations

from collections.abc import Sequence

from regtest.consensus import checker as _config
from regtest.consensus.checker import TxChecker
from regtest.consensus.fastpath import fast_check
from regtest.consensus.script_verify import verify_script
from regtest.consensus.script_error import ScriptError, ScriptVerifyError
from regtest.consensus.sighash import PrecomputedTxData
from regtest.consensus.transaction import Transaction, TxOut

__all__ = [
    "PrecomputedTxData",
    "check_input",
    "verify_input",
    "verify_transaction",
]


def check_input(
    tx: Transaction,
    input_index: int,
    spent_outputs: Sequence[TxOut],
    flags: int,
    txdata: PrecomputedTxData | None = None,
) -> ScriptError:
    """Validate one input's scripts; ScriptError.OK on success, otherwise Core's reason.

    `spent_outputs` lists the coin spent by every input of `tx`, in input order (taproot
    signatures commit to all of them). Pass one `txdata` for all inputs of a transaction.
    """
    if not 0 <= input_index < len(tx.vin):
        raise IndexError(f"input index {input_index} out of range for {len(tx.vin)} inputs")
    if txdata is None:
        txdata = PrecomputedTxData(tx, spent_outputs)
    spent = spent_outputs[input_index]
    txin = tx.vin[input_index]
    flags = int(flags)
    if _config.FAST_PATHS:
        verdict = fast_check(tx, input_index, txin, spent, flags, txdata)
        if verdict is not None:
            return verdict
    checker = TxChecker(tx, input_index, spent.value, txdata)
    return verify_script(txin.script_sig, spent.script_pubkey, txin.witness, flags, checker)


def verify_input(
    tx: Transaction,
    input_index: int,
    spent_outputs: Sequence[TxOut],
    flags: int,
    txdata: PrecomputedTxData | None = None,
) -> None:
    """As check_input, but raises ScriptVerifyError on failure."""
    err = check_input(tx, input_index, spent_outputs, flags, txdata)
    if err != ScriptError.OK:
        raise ScriptVerifyError(err, input_index)


def verify_transaction(tx: Transaction, spent_outputs: Sequence[TxOut], flags: int) -> None:
    """Validate every input; raises ScriptVerifyError for the first failing one."""
    txdata = PrecomputedTxData(tx, spent_outputs)
    for i in range(len(tx.vin)):
        verify_input(tx, i, spent_outputs, flags, txdata)
