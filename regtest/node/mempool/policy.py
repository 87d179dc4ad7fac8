"""Standardness rules of Bitcoin Core's mempool policy (policy/policy.cpp), with Core's reject strings.

Pure functions over a transaction and, for input checks, the outputs it spends; no chain access.
Constants are Core's defaults as of v30/v31 (minimum relay fee 100 sat/kvB, datacarrier 100,000
bytes in total, bare multisig permitted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regtest.consensus.address import classify
from regtest.consensus.script import ScriptParseError, get_op, is_p2sh, is_push_only, witness_program
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.sigops import legacy_sigop_count, p2sh_sigop_count, script_sigop_count, witness_sigop_count
from regtest.consensus.transaction import Transaction, TxOut

MAX_STANDARD_VERSION = 3
MIN_STANDARD_VERSION = 1
MAX_STANDARD_TX_WEIGHT = 400_000
MIN_STANDARD_TX_NONWITNESS_SIZE = 65
MAX_STANDARD_SCRIPTSIG_SIZE = 1650
MAX_STANDARD_TX_SIGOPS_COST = 16_000
MAX_P2SH_SIGOPS = 15
MAX_STANDARD_P2WSH_STACK_ITEMS = 100
MAX_STANDARD_P2WSH_STACK_ITEM_SIZE = 80
MAX_STANDARD_P2WSH_SCRIPT_SIZE = 3600
MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE = 80
TAPROOT_LEAF_MASK = 0xFE
TAPROOT_LEAF_TAPSCRIPT = 0xC0
ANNEX_TAG = 0x50
DEFAULT_BYTES_PER_SIGOP = 20
WITNESS_SCALE_FACTOR = 4

DUST_RELAY_FEE = 3000  # sat/kvB
DEFAULT_MIN_RELAY_FEE = 100  # sat/kvB
DEFAULT_INCREMENTAL_RELAY_FEE = 100  # sat/kvB
DEFAULT_BLOCK_MIN_TX_FEE = 1  # sat/kvB
DEFAULT_MAX_DATACARRIER_BYTES = 100_000
DEFAULT_MAX_MEMPOOL_MB = 300
DEFAULT_ANCESTOR_LIMIT = 25
DEFAULT_ANCESTOR_SIZE_LIMIT_KVB = 101
DEFAULT_DESCENDANT_LIMIT = 25
DEFAULT_DESCENDANT_SIZE_LIMIT_KVB = 101
MAX_REPLACEMENT_CANDIDATES = 100
DEFAULT_MAX_RAW_TX_FEE_RATE = 10_000_000  # sat/kvB: sendrawtransaction's maxfeerate 0.10 BTC/kvB


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """The node options that shape policy (-minrelaytxfee, -datacarriersize, ...), in sat/kvB."""

    min_relay_fee: int = DEFAULT_MIN_RELAY_FEE
    incremental_relay_fee: int = DEFAULT_INCREMENTAL_RELAY_FEE
    dust_relay_fee: int = DUST_RELAY_FEE
    block_min_tx_fee: int = DEFAULT_BLOCK_MIN_TX_FEE
    datacarrier: bool = True
    max_datacarrier_bytes: int = DEFAULT_MAX_DATACARRIER_BYTES
    permit_bare_multisig: bool = True
    max_mempool_bytes: int = DEFAULT_MAX_MEMPOOL_MB * 1_000_000
    ancestor_limit: int = DEFAULT_ANCESTOR_LIMIT
    ancestor_size_limit: int = DEFAULT_ANCESTOR_SIZE_LIMIT_KVB * 1000
    descendant_limit: int = DEFAULT_DESCENDANT_LIMIT
    descendant_size_limit: int = DEFAULT_DESCENDANT_SIZE_LIMIT_KVB * 1000
    bytes_per_sigop: int = DEFAULT_BYTES_PER_SIGOP


def fee_for(rate_per_kvb: int, vsize: int) -> int:
    """Core's CFeeRate::GetFee: rate x size / 1000, rounded up (at least 1 sat for a positive rate)."""
    fee = -((-rate_per_kvb * vsize) // 1000)
    if fee == 0 and vsize and rate_per_kvb > 0:
        fee = 1
    return fee


def policy_vsize(weight: int, sigop_cost: int, bytes_per_sigop: int = DEFAULT_BYTES_PER_SIGOP) -> int:
    """Core's GetVirtualTransactionSize: weight, or sigops x bytes-per-sigop when larger, in vbytes."""
    return (max(weight, sigop_cost * bytes_per_sigop) + WITNESS_SCALE_FACTOR - 1) // WITNESS_SCALE_FACTOR


def dust_threshold(txout: TxOut, dust_relay_fee: int = DUST_RELAY_FEE) -> int:
    """Core's GetDustThreshold: the fee to spend the output at the dust relay rate (0 if unspendable)."""
    spk = txout.script_pubkey
    if (spk and spk[0] == 0x6A) or len(spk) > 10_000:
        return 0
    size = 8 + _compact_len(len(spk)) + len(spk)
    if witness_program(spk) is not None:
        size += 32 + 4 + 1 + 107 // WITNESS_SCALE_FACTOR + 4
    else:
        size += 32 + 4 + 1 + 107 + 4
    return fee_for(dust_relay_fee, size)


def is_dust(txout: TxOut, dust_relay_fee: int = DUST_RELAY_FEE) -> bool:
    return txout.value < dust_threshold(txout, dust_relay_fee)


def _compact_len(n: int) -> int:
    return 1 if n < 0xFD else 3 if n <= 0xFFFF else 5 if n <= 0xFFFFFFFF else 9


def _common_type(spk: bytes) -> str | None:
    """The solver type of the common templates by their fixed layout (a fast path to `classify`)."""
    n = len(spk)
    if n == 22 and spk[0] == 0x00 and spk[1] == 20:
        return "witness_v0_keyhash"
    if n == 34 and spk[1] == 32:
        if spk[0] == 0x51:
            return "witness_v1_taproot"
        if spk[0] == 0x00:
            return "witness_v0_scripthash"
    if n == 23 and spk[0] == 0xA9 and spk[1] == 20 and spk[22] == 0x87:
        return "scripthash"
    if n == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23] == 0x88 and spk[24] == 0xAC:
        return "pubkeyhash"
    return None


def script_type(spk: bytes) -> str:
    return _common_type(spk) or classify(spk).type


def standard_output_type(spk: bytes, settings: PolicySettings) -> str | None:
    """Core's IsStandard(scriptPubKey): the solver type when standard, else None."""
    common = _common_type(spk)
    if common is not None:
        return common
    info = classify(spk)
    t = info.type
    if t == "nonstandard":
        return None
    if t == "multisig":
        n = len(info.solutions)
        m = info.required or 0
        if not (1 <= n <= 3 and 1 <= m <= n):
            return None
    return t


def check_standard_tx(tx: Transaction, settings: PolicySettings, weight: int | None = None) -> str | None:
    """Core's IsStandardTx: None when standard, else the reject reason."""
    if tx.version > MAX_STANDARD_VERSION or tx.version < MIN_STANDARD_VERSION:
        return "version"
    if (tx.weight if weight is None else weight) > MAX_STANDARD_TX_WEIGHT:
        return "tx-size"
    for txin in tx.vin:
        ss = txin.script_sig
        if len(ss) > MAX_STANDARD_SCRIPTSIG_SIZE:
            return "scriptsig-size"
        if ss and not is_push_only(ss):
            return "scriptsig-not-pushonly"
    datacarrier_left = settings.max_datacarrier_bytes
    dust_rate = settings.dust_relay_fee
    for txout in tx.vout:
        t = standard_output_type(txout.script_pubkey, settings)
        if t is None:
            return "scriptpubkey"
        if t == "nulldata":
            if not settings.datacarrier:
                return "datacarrier"
            datacarrier_left -= len(txout.script_pubkey)
            if datacarrier_left < 0:
                return "datacarrier"
        elif t == "multisig" and not settings.permit_bare_multisig:
            return "bare-multisig"
    for txout in tx.vout:
        if txout.value < dust_threshold(txout, dust_rate):
            return "dust"
    return None


def _redeem_script(script_sig: bytes) -> bytes | None:
    """The last push of a scriptSig (the P2SH redeem script), None when it is not push-only."""
    last: bytes | None = None
    pc = 0
    end = len(script_sig)
    while pc < end:
        try:
            op, data, pc = get_op(script_sig, pc)
        except ScriptParseError:
            return None
        if op > 0x60:
            return None
        if data is not None:
            last = data
        elif op == 0x4F:
            last = b"\x81"
        elif 0x51 <= op <= 0x60:
            last = bytes((op - 0x50,))
        else:
            last = b""
    return last


def inputs_standard(tx: Transaction, spent: Sequence[TxOut]) -> bool:
    """Core's AreInputsStandard: known spent script types, and at most 15 sigops per P2SH redeem script."""
    for txin, prev in zip(tx.vin, spent):
        spk = prev.script_pubkey
        t = script_type(spk)
        if t in ("nonstandard", "witness_unknown"):
            return False
        if t == "scripthash":
            redeem = _redeem_script(txin.script_sig)
            if redeem is None:
                return False
            if script_sigop_count(redeem, True) > MAX_P2SH_SIGOPS:
                return False
    return True


def witness_standard(tx: Transaction, spent: Sequence[TxOut]) -> bool:
    """Core's IsWitnessStandard: witness only on witness programs, P2WSH and tapscript size limits,
    no annex, no witness for pay-to-anchor."""
    for txin, prev in zip(tx.vin, spent):
        wit = txin.witness
        if not wit:
            continue
        spk = prev.script_pubkey
        p2sh = False
        if is_p2sh(spk):
            redeem = _redeem_script(txin.script_sig)
            if not redeem:
                return False
            spk = redeem
            p2sh = True
        wp = witness_program(spk)
        if wp is None:
            return False
        version, prog = wp
        if version == 1 and prog == bytes.fromhex("4e73") and not p2sh:
            return False  # pay-to-anchor must be spent with an empty witness
        if version == 0 and len(prog) == 32:
            if len(wit[-1]) > MAX_STANDARD_P2WSH_SCRIPT_SIZE:
                return False
            if len(wit) - 1 > MAX_STANDARD_P2WSH_STACK_ITEMS:
                return False
            if any(len(item) > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE for item in wit[:-1]):
                return False
        if version == 1 and len(prog) == 32 and not p2sh:
            stack = list(wit)
            if len(stack) >= 2 and stack[-1] and stack[-1][0] == ANNEX_TAG:
                return False
            if len(stack) >= 2:
                control = stack[-1]
                if control and (control[0] & TAPROOT_LEAF_MASK) == TAPROOT_LEAF_TAPSCRIPT:
                    if any(len(item) > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE for item in stack[:-2]):
                        return False
    return True


def sigop_cost(tx: Transaction, spent: Sequence[TxOut]) -> int:
    """Core's GetTransactionSigOpCost under the standard flags (P2SH and WITNESS set), with the
    native witness outputs counted by their layout: P2WPKH costs 1, taproot 0. Equal to
    `sigops.transaction_sigop_cost(tx, spent, STANDARD_FLAGS)`, without its per-input flag tests."""
    cost = legacy_sigop_count(tx) * WITNESS_SCALE_FACTOR
    for txin, prev in zip(tx.vin, spent, strict=True):
        spk = prev.script_pubkey
        n = len(spk)
        if n == 22 and spk[0] == 0x00 and spk[1] == 20:
            cost += 1
        elif n == 34 and spk[0] == 0x51 and spk[1] == 32:
            pass
        else:
            if is_p2sh(spk):
                cost += p2sh_sigop_count(spk, txin.script_sig) * WITNESS_SCALE_FACTOR
            cost += witness_sigop_count(txin.script_sig, spk, txin.witness, _WITNESS)
    return cost


_WITNESS = int(ScriptFlags.WITNESS)
