"""Signature-operation counting (legacy, P2SH and witness) as Core's block limits count them."""

from __future__ import annotations

from collections.abc import Sequence

from regtest.consensus.script import (
    OP_1,
    OP_16,
    OP_CHECKMULTISIG,
    OP_CHECKMULTISIGVERIFY,
    OP_CHECKSIG,
    OP_CHECKSIGVERIFY,
    MAX_PUBKEYS_PER_MULTISIG,
    ScriptParseError,
    get_op,
    is_p2sh,
    is_push_only,
    witness_program,
)
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.transaction import Transaction, TxOut

WITNESS_SCALE_FACTOR = 4
MAX_BLOCK_SIGOPS_COST = 80_000

_CHECKSIG = (OP_CHECKSIG, OP_CHECKSIGVERIFY)
_CHECKMULTISIG = (OP_CHECKMULTISIG, OP_CHECKMULTISIGVERIFY)


def script_sigop_count(script: bytes, accurate: bool) -> int:
    """Core's CScript::GetSigOpCount(fAccurate): stops silently at the first bad push."""
    if OP_CHECKSIG not in script and OP_CHECKSIGVERIFY not in script and (
        OP_CHECKMULTISIG not in script and OP_CHECKMULTISIGVERIFY not in script
    ):
        return 0
    count = 0
    last = 0xFF
    pc = 0
    end = len(script)
    while pc < end:
        try:
            op, _data, pc = get_op(script, pc)
        except ScriptParseError:
            break
        if op == OP_CHECKSIG or op == OP_CHECKSIGVERIFY:
            count += 1
        elif op == OP_CHECKMULTISIG or op == OP_CHECKMULTISIGVERIFY:
            if accurate and OP_1 <= last <= OP_16:
                count += last - OP_1 + 1
            else:
                count += MAX_PUBKEYS_PER_MULTISIG
        last = op
    return count


def _last_push(script_sig: bytes) -> bytes | None:
    """The last pushed item of a push-only scriptSig, or None if it is not push-only / malformed."""
    data: bytes | None = b""
    pc = 0
    end = len(script_sig)
    while pc < end:
        try:
            op, pushed, pc = get_op(script_sig, pc)
        except ScriptParseError:
            return None
        if op > OP_16:
            return None
        data = pushed if pushed is not None else b""
    return data


def p2sh_sigop_count(script_pubkey: bytes, script_sig: bytes) -> int:
    """Core's GetSigOpCount(scriptSig): accurate count of the redeem script for P2SH outputs."""
    if not is_p2sh(script_pubkey):
        return script_sigop_count(script_pubkey, True)
    redeem = _last_push(script_sig)
    if redeem is None:
        return 0
    return script_sigop_count(redeem, True)


def _witness_program_sigops(version: int, program: bytes, witness: Sequence[bytes]) -> int:
    if version == 0:
        if len(program) == 20:
            return 1
        if len(program) == 32 and len(witness) > 0:
            return script_sigop_count(witness[-1], True)
    return 0


def witness_sigop_count(
    script_sig: bytes, script_pubkey: bytes, witness: Sequence[bytes], flags: int
) -> int:
    """Core's CountWitnessSigOps (unscaled witness sigops; taproot counts none)."""
    if not flags & ScriptFlags.WITNESS:
        return 0
    wp = witness_program(script_pubkey)
    if wp is not None:
        return _witness_program_sigops(wp[0], wp[1], witness)
    if is_p2sh(script_pubkey) and is_push_only(script_sig):
        redeem = _last_push(script_sig)
        if redeem is not None:
            wp = witness_program(redeem)
            if wp is not None:
                return _witness_program_sigops(wp[0], wp[1], witness)
    return 0


def legacy_sigop_count(tx: Transaction) -> int:
    """Core's GetLegacySigOpCount: inaccurate count over every scriptSig and scriptPubKey."""
    n = 0
    for txin in tx.vin:
        n += script_sigop_count(txin.script_sig, False)
    for txout in tx.vout:
        n += script_sigop_count(txout.script_pubkey, False)
    return n


def p2sh_sigop_count_tx(tx: Transaction, spent_outputs: Sequence[TxOut]) -> int:
    """Core's GetP2SHSigOpCount: redeem-script sigops of every P2SH input."""
    if tx.is_coinbase():
        return 0
    n = 0
    for txin, prev in zip(tx.vin, spent_outputs, strict=True):
        if is_p2sh(prev.script_pubkey):
            n += p2sh_sigop_count(prev.script_pubkey, txin.script_sig)
    return n


def transaction_sigop_cost(tx: Transaction, spent_outputs: Sequence[TxOut], flags: int) -> int:
    """Core's GetTransactionSigOpCost: legacy*4 + P2SH*4 + witness sigops.

    For a coinbase `spent_outputs` is ignored (pass an empty list).
    """
    cost = legacy_sigop_count(tx) * WITNESS_SCALE_FACTOR
    if tx.is_coinbase():
        return cost
    if flags & ScriptFlags.P2SH:
        cost += p2sh_sigop_count_tx(tx, spent_outputs) * WITNESS_SCALE_FACTOR
    for txin, prev in zip(tx.vin, spent_outputs, strict=True):
        cost += witness_sigop_count(txin.script_sig, prev.script_pubkey, txin.witness, flags)
    return cost
