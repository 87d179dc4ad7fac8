"""Consensus code: pure functions and data types, no I/O."""

from regtest.consensus.script_error import ScriptError, ScriptVerifyError
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.verify import (
    PrecomputedTxData,
    check_input,
    verify_input,
    verify_transaction,
)

__all__ = [
    "PrecomputedTxData",
    "ScriptError",
    "ScriptFlags",
    "ScriptVerifyError",
    "check_input",
    "verify_input",
    "verify_transaction",
]
