"""Argument parsing for createrawtransaction and signrawtransactionwithkey, with Core's errors
(ConstructTransaction, ParsePrevouts, DecodeSecret, ParseSighashString in Core's RPC code).

Kept apart from the method table so the raw-transaction module stays a list of thin handlers.
"""

from __future__ import annotations

from typing import Any

from regtest.consensus.address import (
    AddressError, AddressPrefixes, decode_address, p2sh_script, witness_script,
)
from regtest.consensus.hashes import hash160, hash_to_hex, sha256
from regtest.consensus.script import push_data_raw
from regtest.consensus.transaction import MAX_MONEY, OutPoint, Transaction, TxIn, TxOut
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.jsonfmt import amount_to_sats
from regtest.node.rpc.registry import as_int, json_type_name, parse_hash, parse_hex
from regtest.node.rpc.scriptjson import script_to_asm
from regtest.node.signing import ERR_MISSING_AMOUNT, SIGHASH_NAMES, KeyStore, SigningKey, decode_wif

LOCKTIME_MAX = 0xFFFFFFFF
SEQUENCE_FINAL = 0xFFFFFFFF
MAX_BIP125_RBF_SEQUENCE = 0xFFFFFFFD
TX_MIN_STANDARD_VERSION = 1
TX_MAX_STANDARD_VERSION = 3
DEFAULT_RAWTX_VERSION = 2
MAX_ITEMS = 100_000  # inputs, outputs, keys or prevtxs per call: far above any standard tx


def _misc(msg: str) -> RPCError:
    return RPCError(RPCErrorCode.MISC_ERROR, msg)


def _param(msg: str) -> RPCError:
    return RPCError(RPCErrorCode.INVALID_PARAMETER, msg)


def expect(value: Any, kind: str) -> Any:
    """UniValue's get_obj/get_array/get_str: a mismatch is a -1 error, as Core reports it."""
    if json_type_name(value) != kind:
        raise _misc(f"JSON value of type {json_type_name(value)} is not of expected type {kind}")
    return value


def _bounded(items: list, what: str) -> list:
    if len(items) > MAX_ITEMS:
        raise _param(f"Invalid parameter, too many {what}")
    return items


def parse_amount(value: Any) -> int:
    """Core's AmountFromValue (-3 for non-amounts, bad precision, out of range)."""
    try:
        sats = amount_to_sats(value)
    except ValueError as e:
        raise RPCError(RPCErrorCode.TYPE_ERROR, str(e)) from None
    if not 0 <= sats <= MAX_MONEY:
        raise RPCError(RPCErrorCode.TYPE_ERROR, "Amount out of range")
    return sats


# --- createrawtransaction -------------------------------------------------------------------------
def _inputs(inputs: Any, locktime: int, rbf: bool | None) -> list[TxIn]:
    out = []
    for item in _bounded(expect(inputs, "array"), "inputs"):
        o = expect(item, "object")
        txid = parse_hash(expect(o.get("txid"), "string"), "txid")
        vout = o.get("vout")
        if json_type_name(vout) != "number":
            raise _param("Invalid parameter, missing vout key")
        n = as_int(vout)
        if not -(2**31) <= n < 2**31:
            raise _misc("JSON integer out of range")
        if n < 0:
            raise _param("Invalid parameter, vout cannot be negative")
        if rbf is None or rbf:
            seq = MAX_BIP125_RBF_SEQUENCE
        elif locktime:
            seq = SEQUENCE_FINAL - 1
        else:
            seq = SEQUENCE_FINAL
        if json_type_name(o.get("sequence")) == "number":
            s = as_int(o["sequence"])
            if not 0 <= s <= SEQUENCE_FINAL:
                raise _param("Invalid parameter, sequence number is out of range")
            seq = s
        out.append(TxIn(OutPoint(txid, n), b"", seq))
    return out


def _output_pairs(outputs: Any) -> list[tuple[str, Any]]:
    """Object or array of one-key objects -> (key, value) pairs, duplicates kept (pushKVs)."""
    if outputs is None:
        raise _param("Invalid parameter, output argument must be non-null")
    if isinstance(outputs, dict):
        return _bounded(list(outputs.items()), "outputs")
    pairs: list[tuple[str, Any]] = []
    for item in _bounded(expect(outputs, "array"), "outputs"):
        if not isinstance(item, dict):
            raise _param("Invalid parameter, key-value pair not an object as expected")
        if len(item) != 1:
            raise _param("Invalid parameter, key-value pair must contain exactly one key")
        pairs.extend(item.items())
    return pairs


def _val_str(v: Any) -> str:
    """UniValue getValStr: a string's text, a number's digits, "1" for true, "" otherwise."""
    if v is True:
        return "1"
    if v is False or v is None or isinstance(v, (dict, list)):
        return ""
    return str(v)


def _outputs(outputs: Any, prefixes: AddressPrefixes) -> list[TxOut]:
    out: list[TxOut] = []
    seen: set[bytes] = set()
    has_data = False
    for name, value in _output_pairs(outputs):
        if name == "data":
            if has_data:
                raise _param("Invalid parameter, duplicate key: data")
            has_data = True
            data = parse_hex(_val_str(value), "Data")
            out.append(TxOut(0, b"\x6a" + push_data_raw(data)))  # never OP_n: CScript << bytes
            continue
        sats = parse_amount(value)
        try:
            script = decode_address(name, prefixes).script_pubkey
        except AddressError:
            raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, f"Invalid Bitcoin address: {name}") from None
        if script in seen:
            raise _param(f"Invalid parameter, duplicated address: {name}")
        seen.add(script)
        out.append(TxOut(sats, script))
    return out


def construct_transaction(
    inputs: Any, outputs: Any, locktime: Any, rbf: bool | None, version: int, prefixes: AddressPrefixes
) -> Transaction:
    """Core's ConstructTransaction: locktime, version, inputs, outputs, then the RBF check."""
    lock = 0
    if locktime is not None:
        lock = as_int(locktime)
        if not 0 <= lock <= LOCKTIME_MAX:
            raise _param("Invalid parameter, locktime out of range")
    if not TX_MIN_STANDARD_VERSION <= version <= TX_MAX_STANDARD_VERSION:
        raise _param(
            f"Invalid parameter, version out of range({TX_MIN_STANDARD_VERSION}~{TX_MAX_STANDARD_VERSION})"
        )
    vin = _inputs(inputs, lock, rbf) if inputs is not None else []
    vout = _outputs(outputs, prefixes)
    if rbf and vin and not any(t.sequence <= MAX_BIP125_RBF_SEQUENCE for t in vin):
        raise _param("Invalid parameter combination: Sequence number(s) contradict replaceable option")
    return Transaction(version, tuple(vin), tuple(vout), lock)


# --- signrawtransactionwithkey --------------------------------------------------------------------
def parse_keys(privkeys: Any, wif_version: int) -> KeyStore:
    store = KeyStore()
    for k in _bounded(expect(privkeys, "array"), "keys"):
        key: SigningKey | None = decode_wif(expect(k, "string"), wif_version)
        if key is None:
            raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Invalid private key")
        store.add_key(key)
    return store


def parse_sighash(value: Any) -> int:
    if value is None:
        return SIGHASH_NAMES["DEFAULT"]
    name = expect(value, "string")
    if name not in SIGHASH_NAMES:
        raise _param(f"'{name}' is not a valid sighash parameter.")
    return SIGHASH_NAMES[name]


def _type_check_obj(o: dict, fields: tuple[str, ...], kind: str, allow_null: bool) -> None:
    """Core's RPCTypeCheckObj (fields checked in sorted order, as its std::map iterates)."""
    for name in sorted(fields):
        v = o.get(name)
        if v is None and not allow_null:
            raise RPCError(RPCErrorCode.TYPE_ERROR, f"Missing {name}")
        if v is not None and json_type_name(v) != kind:
            raise RPCError(
                RPCErrorCode.TYPE_ERROR,
                f"JSON value of type {json_type_name(v)} for field {name} is not of expected type {kind}",
            )


def _p2wsh(script: bytes) -> bytes:
    return witness_script(0, sha256(script))


def parse_prevtxs(prevtxs: Any, store: KeyStore, coins: dict[OutPoint, TxOut | None]) -> None:
    """Core's ParsePrevouts: add the described coins (amount MAX_MONEY when not given) and the
    redeem/witness scripts of P2SH and P2WSH outputs to the key store."""
    if prevtxs is None:
        return
    for p in _bounded(expect(prevtxs, "array"), "prevtxs"):
        if not isinstance(p, dict):
            raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR,
                           'expected object with {"txid\'","vout","scriptPubKey"}')
        _type_check_obj(p, ("scriptPubKey", "txid"), "string", False)
        _type_check_obj(p, ("vout",), "number", False)
        txid = parse_hash(p["txid"], "txid")
        n = as_int(p["vout"])
        if n < 0:
            raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "vout cannot be negative")
        if n >= 2**31:
            raise _misc("JSON integer out of range")
        op = OutPoint(txid, n)
        spk = parse_hex(p["scriptPubKey"], "scriptPubKey")
        known = coins.get(op)
        if known is not None and known.script_pubkey != spk:
            raise RPCError(
                RPCErrorCode.DESERIALIZATION_ERROR,
                "Previous output scriptPubKey mismatch:\n"
                f"{script_to_asm(known.script_pubkey)}\nvs:\n{script_to_asm(spk)}",
            )
        value = parse_amount(p["amount"]) if "amount" in p else MAX_MONEY
        coins[op] = TxOut(value, spk)
        is_p2sh = len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[22] == 0x87
        is_p2wsh = len(spk) == 34 and spk[:2] == b"\x00\x20"
        if is_p2sh or is_p2wsh:
            _add_scripts(p, spk, is_p2sh, store)


def _add_scripts(p: dict, spk: bytes, is_p2sh: bool, store: KeyStore) -> None:
    _type_check_obj(p, ("redeemScript", "witnessScript"), "string", True)
    rs, ws = p.get("redeemScript"), p.get("witnessScript")
    if rs is None and ws is None:
        raise _param("Missing redeemScript/witnessScript")
    script = parse_hex(ws, "witnessScript") if ws is not None else parse_hex(rs, "redeemScript")
    wrapped = _p2wsh(script)
    store.add_script(script)
    store.add_script(wrapped)
    if ws is not None and rs is not None and ws != rs:
        if parse_hex(rs, "redeemScript") != wrapped:
            raise _param("redeemScript does not correspond to witnessScript")
    if is_p2sh:
        ok = spk in (p2sh_script(hash160(script)), p2sh_script(hash160(wrapped)))
    else:
        ok = spk == _p2wsh(script)
    if not ok:
        raise _param("redeemScript/witnessScript does not match scriptPubKey")


def _ctxout_text(out: TxOut) -> str:
    """Core's CTxOut::ToString (value in BTC with 8 decimals, the script's first 15 bytes)."""
    whole, frac = divmod(out.value, 100_000_000)
    return f"CTxOut(nValue={whole}.{frac:08d}, scriptPubKey={out.script_pubkey.hex()[:30]})"


def sign_result_json(signed: Transaction, errors: dict[int, str], coins: dict[OutPoint, TxOut | None]) -> dict:
    """{hex, complete, errors?} as Core's SignTransactionResultToJSON; a witness input whose coin
    came without an amount is an exception (-3), as in Core."""
    out_errors = []
    for i in sorted(errors):
        txin = signed.vin[i]
        if errors[i] == ERR_MISSING_AMOUNT:
            spent = coins[txin.prevout]
            assert spent is not None
            raise RPCError(RPCErrorCode.TYPE_ERROR, f"Missing amount for {_ctxout_text(spent)}")
        out_errors.append({
            "txid": hash_to_hex(txin.prevout.txid), "vout": txin.prevout.n,
            "witness": [w.hex() for w in txin.witness], "scriptSig": txin.script_sig.hex(),
            "sequence": txin.sequence, "error": errors[i],
        })
    result: dict[str, Any] = {"hex": signed.serialize().hex(), "complete": not errors}
    if out_errors:
        result["errors"] = out_errors
    return result
