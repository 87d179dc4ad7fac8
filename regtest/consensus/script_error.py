"""Script failure reasons with Bitcoin Core's names (SCRIPT_ERR_* without the prefix)."""

from __future__ import annotations

from enum import IntEnum


class ScriptError(IntEnum):
    """Why a script failed; OK means it passed. Names match Core's script_error.h."""

    OK = 0
    UNKNOWN_ERROR = 1
    EVAL_FALSE = 2
    OP_RETURN = 3
    SCRIPTNUM = 4
    # max sizes
    SCRIPT_SIZE = 5
    PUSH_SIZE = 6
    OP_COUNT = 7
    STACK_SIZE = 8
    SIG_COUNT = 9
    PUBKEY_COUNT = 10
    # failed verify operations
    VERIFY = 11
    EQUALVERIFY = 12
    CHECKMULTISIGVERIFY = 13
    CHECKSIGVERIFY = 14
    NUMEQUALVERIFY = 15
    # logical / format / canonical errors
    BAD_OPCODE = 16
    DISABLED_OPCODE = 17
    INVALID_STACK_OPERATION = 18
    INVALID_ALTSTACK_OPERATION = 19
    UNBALANCED_CONDITIONAL = 20
    # CLTV / CSV
    NEGATIVE_LOCKTIME = 21
    UNSATISFIED_LOCKTIME = 22
    # malleability (BIP62 and friends)
    SIG_HASHTYPE = 23
    SIG_DER = 24
    MINIMALDATA = 25
    SIG_PUSHONLY = 26
    SIG_HIGH_S = 27
    SIG_NULLDUMMY = 28
    PUBKEYTYPE = 29
    CLEANSTACK = 30
    MINIMALIF = 31
    SIG_NULLFAIL = 32
    # soft-fork safeness
    DISCOURAGE_UPGRADABLE_NOPS = 33
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 34
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 35
    DISCOURAGE_OP_SUCCESS = 36
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 37
    # segregated witness
    WITNESS_PROGRAM_WRONG_LENGTH = 38
    WITNESS_PROGRAM_WITNESS_EMPTY = 39
    WITNESS_PROGRAM_MISMATCH = 40
    WITNESS_MALLEATED = 41
    WITNESS_MALLEATED_P2SH = 42
    WITNESS_UNEXPECTED = 43
    WITNESS_PUBKEYTYPE = 44
    # taproot
    SCHNORR_SIG_SIZE = 45
    SCHNORR_SIG_HASHTYPE = 46
    SCHNORR_SIG = 47
    TAPROOT_WRONG_CONTROL_SIZE = 48
    TAPSCRIPT_VALIDATION_WEIGHT = 49
    TAPSCRIPT_CHECKMULTISIG = 50
    TAPSCRIPT_MINIMALIF = 51
    TAPSCRIPT_EMPTY_PUBKEY = 52
    # constant scriptCode
    OP_CODESEPARATOR = 53
    SIG_FINDANDDELETE = 54


#: The spellings Core's script_tests.cpp uses where they differ from the enum names.
_TEST_NAME_ALIASES = {"NULLFAIL": ScriptError.SIG_NULLFAIL}


def parse_script_error(name: str) -> ScriptError:
    """Map a test-vector error name ("EVAL_FALSE", "NULLFAIL", "SCRIPT_ERR_OK") to a ScriptError."""
    if name.startswith("SCRIPT_ERR_"):
        name = name[len("SCRIPT_ERR_"):]
    if name in _TEST_NAME_ALIASES:
        return _TEST_NAME_ALIASES[name]
    return ScriptError[name]


class ScriptVerifyError(Exception):
    """A script check failed: carries the Core error code and the failing input's index."""

    def __init__(self, error: ScriptError, input_index: int = -1, message: str = "") -> None:
        self.error = error
        self.input_index = input_index
        text = f"script verification failed for input {input_index}: {error.name}"
        if message:
            text += f" ({message})"
        super().__init__(text)


_ERROR_STRINGS = {
    ScriptError.OK: "No error",
    ScriptError.EVAL_FALSE: "Script evaluated without error but finished with a false/empty top stack element",
    ScriptError.VERIFY: "Script failed an OP_VERIFY operation",
    ScriptError.EQUALVERIFY: "Script failed an OP_EQUALVERIFY operation",
    ScriptError.CHECKMULTISIGVERIFY: "Script failed an OP_CHECKMULTISIGVERIFY operation",
    ScriptError.CHECKSIGVERIFY: "Script failed an OP_CHECKSIGVERIFY operation",
    ScriptError.NUMEQUALVERIFY: "Script failed an OP_NUMEQUALVERIFY operation",
    ScriptError.SCRIPT_SIZE: "Script is too big",
    ScriptError.PUSH_SIZE: "Push value size limit exceeded",
    ScriptError.OP_COUNT: "Operation limit exceeded",
    ScriptError.STACK_SIZE: "Stack size limit exceeded",
    ScriptError.SIG_COUNT: "Signature count negative or greater than pubkey count",
    ScriptError.PUBKEY_COUNT: "Pubkey count negative or limit exceeded",
    ScriptError.BAD_OPCODE: "Opcode missing or not understood",
    ScriptError.DISABLED_OPCODE: "Attempted to use a disabled opcode",
    ScriptError.INVALID_STACK_OPERATION: "Operation not valid with the current stack size",
    ScriptError.INVALID_ALTSTACK_OPERATION: "Operation not valid with the current altstack size",
    ScriptError.OP_RETURN: "OP_RETURN was encountered",
    ScriptError.UNBALANCED_CONDITIONAL: "Invalid OP_IF construction",
    ScriptError.NEGATIVE_LOCKTIME: "Negative locktime",
    ScriptError.UNSATISFIED_LOCKTIME: "Locktime requirement not satisfied",
    ScriptError.SIG_HASHTYPE: "Signature hash type missing or not understood",
    ScriptError.SIG_DER: "Non-canonical DER signature",
    ScriptError.MINIMALDATA: "Data push larger than necessary",
    ScriptError.SIG_PUSHONLY: "Only push operators allowed in signatures",
    ScriptError.SIG_HIGH_S: "Non-canonical signature: S value is unnecessarily high",
    ScriptError.SIG_NULLDUMMY: "Dummy CHECKMULTISIG argument must be zero",
    ScriptError.MINIMALIF: "OP_IF/NOTIF argument must be minimal",
    ScriptError.SIG_NULLFAIL: "Signature must be zero for failed CHECK(MULTI)SIG operation",
    ScriptError.PUBKEYTYPE: "Public key is neither compressed or uncompressed",
    ScriptError.CLEANSTACK: "Stack size must be exactly one after execution",
    ScriptError.WITNESS_PROGRAM_WRONG_LENGTH: "Witness program has incorrect length",
    ScriptError.WITNESS_PROGRAM_WITNESS_EMPTY: "Witness program was passed an empty witness",
    ScriptError.WITNESS_PROGRAM_MISMATCH: "Witness program hash mismatch",
    ScriptError.WITNESS_MALLEATED: "Witness requires empty scriptSig",
    ScriptError.WITNESS_MALLEATED_P2SH: "Witness requires only-redeemscript scriptSig",
    ScriptError.WITNESS_UNEXPECTED: "Witness provided for non-witness script",
    ScriptError.WITNESS_PUBKEYTYPE: "Using non-compressed keys in segwit",
    ScriptError.SCHNORR_SIG_SIZE: "Invalid Schnorr signature size",
    ScriptError.SCHNORR_SIG_HASHTYPE: "Invalid Schnorr signature hash type",
    ScriptError.SCHNORR_SIG: "Invalid Schnorr signature",
    ScriptError.TAPROOT_WRONG_CONTROL_SIZE: "Invalid Taproot control block size",
    ScriptError.TAPSCRIPT_VALIDATION_WEIGHT: "Too much signature validation relative to witness weight",
    ScriptError.TAPSCRIPT_CHECKMULTISIG: "OP_CHECKMULTISIG(VERIFY) is not available in tapscript",
    ScriptError.TAPSCRIPT_MINIMALIF: "OP_IF/NOTIF argument must be minimal in tapscript",
    ScriptError.TAPSCRIPT_EMPTY_PUBKEY: "Empty public key in tapscript",
    ScriptError.OP_CODESEPARATOR: "Using OP_CODESEPARATOR in non-witness script",
    ScriptError.SIG_FINDANDDELETE: "Signature is found in scriptCode",
    # Released Core reports bad number operands as SCRIPT_ERR_UNKNOWN_ERROR, so reject
    # reasons keep its text.
    ScriptError.SCRIPTNUM: "unknown error",
}


def error_string(error: ScriptError) -> str:
    """Core's human-readable text for an error (ScriptErrorString)."""
    return _ERROR_STRINGS.get(error, "unknown error")
