"""Mempool RPCs with Core's arguments, results and errors: sendrawtransaction,
testmempoolaccept, getrawmempool, getmempoolentry, getmempoolinfo."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.script import is_unspendable
from regtest.consensus.transaction import COIN, OutPoint
from regtest.node.mempool.accept import MAX_FEE_EXCEEDED, AcceptResult, fee_rate_per_kvb
from regtest.node.mempool.policy import DEFAULT_MAX_RAW_TX_FEE_RATE, fee_for
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.jsonfmt import amount, amount_to_sats
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.methods.rawtransactions import decode_tx
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

MAX_TEST_ACCEPT = 25
LIMIT_CLUSTER_COUNT = 64
LIMIT_CLUSTER_SIZE = 101_000
_MAXFEERATE_ARG = Arg(
    "maxfeerate", ArgType.AMOUNT, "Reject transactions whose fee rate is higher than the specified "
    "value, expressed in BTC/kvB. Fee rates larger than 1BTC/kvB are rejected. Set to 0 to accept "
    "any fee rate.", optional=True, default_hint="\"0.10\"",
)


def require_mempool(ctx: Any):
    require_chain(ctx)
    if ctx.mempool is None:
        raise RPCError(RPCErrorCode.CLIENT_MEMPOOL_DISABLED, "Mempool disabled or instance not found")
    return ctx.mempool


def parse_amount(value: Any) -> int:
    """Core's AmountFromValue: -3 for non-amounts and negative or oversized values."""
    try:
        sats = amount_to_sats(value)
    except ValueError as e:
        raise RPCError(RPCErrorCode.TYPE_ERROR, str(e)) from None
    if sats < 0 or sats > 21_000_000 * COIN:
        raise RPCError(RPCErrorCode.TYPE_ERROR, "Amount out of range")
    return sats


def parse_fee_rate(value: Any) -> int:
    """Core's ParseFeeRate: sat/kvB, below 1 BTC/kvB."""
    sats = parse_amount(value)
    if sats >= COIN:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Fee rates larger than or equal to 1BTC/kvB are not accepted")
    return sats


def _fee_rate_arg(p) -> int:
    return DEFAULT_MAX_RAW_TX_FEE_RATE if not p.given("maxfeerate") else parse_fee_rate(p.get("maxfeerate"))


def _decode(text: str, message: str):
    try:
        return decode_tx(text)
    except ValueError:
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, message) from None


@rpc_method(
    "sendrawtransaction", "Rawtransactions",
    "Submit a raw transaction (serialized, hex-encoded) to local node and network.\n\n"
    "The transaction will be sent unconditionally to all peers, so using sendrawtransaction\n"
    "for manual rebroadcast may degrade privacy by leaking the transaction's origin, as\n"
    "nodes will normally not rebroadcast non-wallet transactions already in their mempool.",
    args=[
        Arg("hexstring", ArgType.STR_HEX, "The hex string of the raw transaction"),
        _MAXFEERATE_ARG,
        Arg("maxburnamount", ArgType.AMOUNT, "Reject transactions with provably unspendable outputs "
            "(e.g. 'datacarrier' outputs that use the OP_RETURN opcode) greater than the specified "
            "value, expressed in BTC.", optional=True, default_hint="\"0.00\""),
    ],
    result='"hex"    (string) The transaction hash in hex',
    examples=('"signedhex"',),
)
def sendrawtransaction(ctx, p):
    mp = require_mempool(ctx)
    tx = _decode(p.str("hexstring"), "TX decode failed. Make sure the tx has at least one input.")
    max_burn = parse_amount(p.get("maxburnamount")) if p.given("maxburnamount") else 0
    for out in tx.vout:
        if out.value > max_burn and is_unspendable(out.script_pubkey):
            raise RPCError(RPCErrorCode.VERIFY_ERROR, "Unspendable output exceeds maximum configured by user (maxburnamount)")
    max_fee = fee_for(_fee_rate_arg(p), tx.vsize)
    txid = tx.txid
    if txid in mp:
        return hash_to_hex(txid)  # already there: Core re-announces it and reports success
    cs = ctx.chainstate
    for n in range(len(tx.vout)):
        if cs.get_coin(OutPoint(txid, n)) is not None:
            raise RPCError(RPCErrorCode.VERIFY_ALREADY_IN_CHAIN, "Transaction outputs already in utxo set")
    res = mp.accept(tx, max_fee=max_fee)  # one pass: every check, then the fee cap, then insertion
    if not res.accepted:
        if res.reason == MAX_FEE_EXCEEDED:
            raise RPCError(RPCErrorCode.VERIFY_ERROR, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
        _raise_rejection(res)
    mp.unbroadcast.add(txid)
    return hash_to_hex(txid)


def _raise_rejection(res: AcceptResult) -> None:
    if res.missing_inputs:
        raise RPCError(RPCErrorCode.VERIFY_ERROR, res.state_string)
    raise RPCError(RPCErrorCode.VERIFY_REJECTED, res.state_string)


@rpc_method(
    "testmempoolaccept", "Rawtransactions",
    "Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, "
    "hex-encoded) would be accepted by mempool.\n\nIf multiple transactions are passed in, parents "
    "must come before children and package policies apply: the transactions cannot conflict with "
    "any mempool transactions or each other.\n\nThis checks if transactions violate the consensus "
    "or policy rules.",
    args=[
        Arg("rawtxs", ArgType.ARR, "An array of hex strings of raw transactions."),
        _MAXFEERATE_ARG,
    ],
    result='[{"txid": "hex", "wtxid": "hex", "package-error": "str", "allowed": bool, "vsize": n, '
           '"fees": {"base": n, "effective-feerate": n, "effective-includes": ["hex"]}, '
           '"reject-reason": "str", "reject-details": "str"}, ...]',
    examples=('\'["signedhex"]\'',),
)
def testmempoolaccept(ctx, p):
    mp = require_mempool(ctx)
    raw = p.get("rawtxs")
    rate = _fee_rate_arg(p)
    if not 1 <= len(raw) <= MAX_TEST_ACCEPT:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"Array must contain between 1 and {MAX_TEST_ACCEPT} transactions.")
    txs = []
    for item in raw:
        if not isinstance(item, str):
            raise RPCError(RPCErrorCode.TYPE_ERROR, f"JSON value of type {type(item).__name__} is not of expected type string")
        txs.append(_decode(item, f"TX decode failed: {item} Make sure the tx has at least one input."))
    package_error = mp.package_error(txs) if len(txs) > 1 else None
    results = [None] * len(txs) if package_error else mp.test_package(txs)
    out = []
    for tx, res in zip(txs, results):
        row: dict[str, Any] = {"txid": tx.txid_hex, "wtxid": tx.wtxid_hex}
        if package_error:
            row["package-error"] = package_error
        if res is None:
            out.append(row)
            continue
        if res.accepted:
            if rate and res.fee > fee_for(rate, res.vsize):
                row["allowed"] = False
                row["reject-reason"] = "max-fee-exceeded"
            else:
                row["allowed"] = True
                row["vsize"] = res.vsize
                row["fees"] = {
                    "base": amount(res.fee),
                    "effective-feerate": amount(fee_rate_per_kvb(res.fee, res.vsize)),
                    "effective-includes": [tx.wtxid_hex],
                }
        else:
            row["allowed"] = False
            if res.missing_inputs:
                row["reject-reason"] = "missing-inputs"
            else:
                row["reject-reason"] = res.reason
                row["reject-details"] = res.state_string
        out.append(row)
    return out


def entry_json(mp, txid: bytes) -> dict:
    """Core v31's mempool entry object (getmempoolentry, getrawmempool verbose)."""
    pool = mp.pool
    e = pool.entries[txid]
    anc = pool.with_ancestors(txid)
    desc = pool.with_descendants(txid)
    return {
        "vsize": e.vsize,
        "weight": e.weight,
        "time": e.time,
        "height": e.height,
        "descendantcount": desc.count,
        "descendantsize": desc.vsize,
        "ancestorcount": anc.count,
        "ancestorsize": anc.vsize,
        "wtxid": e.tx.wtxid_hex,
        "chunkweight": anc.weight,
        "fees": {
            "base": amount(e.fee),
            "modified": amount(e.fee),
            "ancestor": amount(anc.fee),
            "descendant": amount(desc.fee),
            "chunk": amount(anc.fee),
        },
        "depends": sorted(hash_to_hex(t) for t in e.parents),
        "spentby": sorted(hash_to_hex(t) for t in e.children),
        "bip125-replaceable": True,
        "unbroadcast": txid in mp.unbroadcast,
    }


def _sorted_txids(mp) -> list[bytes]:
    """Core's GetSortedDepthAndScore: fewer ancestors first, then higher fee rate, then the
    larger txid (compared as stored bytes)."""
    pool = mp.pool
    depth = {t: len(pool.ancestors(t)) for t in pool.entries}

    def compare(a: bytes, b: bytes) -> int:
        if depth[a] != depth[b]:
            return depth[a] - depth[b]
        ea, eb = pool.entries[a], pool.entries[b]
        fa, fb = ea.fee * eb.vsize, eb.fee * ea.vsize
        if fa != fb:
            return -1 if fa > fb else 1
        return -1 if a > b else (1 if a < b else 0)

    return sorted(pool.entries, key=cmp_to_key(compare))


@rpc_method(
    "getrawmempool", "Blockchain",
    "Returns all transaction ids in memory pool as a json array of string transaction ids.\n\n"
    "Hint: use getmempoolentry to fetch a specific transaction from the mempool.",
    args=[
        Arg("verbose", ArgType.BOOL, "True for a json object, false for array of transaction ids",
            optional=True, default=False),
        Arg("mempool_sequence", ArgType.BOOL, "If verbose=false, returns a json object with "
            "transaction list and mempool sequence number attached.", optional=True, default=False),
    ],
    result='["hex", ...] | {"txid": {...}, ...} | {"txids": ["hex", ...], "mempool_sequence": n}',
    examples=("true",),
)
def getrawmempool(ctx, p):
    mp = require_mempool(ctx)
    verbose = p.bool("verbose")
    with_seq = p.bool("mempool_sequence")
    if verbose and with_seq:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Verbose results cannot contain mempool sequence values.")
    txids = _sorted_txids(mp)
    if verbose:
        return {hash_to_hex(t): entry_json(mp, t) for t in txids}
    ids = [hash_to_hex(t) for t in txids]
    if with_seq:
        return {"txids": ids, "mempool_sequence": mp.sequence}
    return ids


@rpc_method(
    "getmempoolentry", "Blockchain", "Returns mempool data for given transaction",
    args=[Arg("txid", ArgType.STR_HEX, "The transaction id (must be in mempool)")],
    result='{"vsize": n, "weight": n, "time": n, "height": n, "descendantcount": n, '
           '"descendantsize": n, "ancestorcount": n, "ancestorsize": n, "wtxid": "hex", '
           '"chunkweight": n, "fees": {...}, "depends": ["hex"], "spentby": ["hex"], '
           '"bip125-replaceable": bool, "unbroadcast": bool}',
    examples=('"mytxid"',),
)
def getmempoolentry(ctx, p):
    mp = require_mempool(ctx)
    txid = p.hash("txid")
    if txid not in mp:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
    return entry_json(mp, txid)


@rpc_method(
    "getmempoolinfo", "Blockchain", "Returns details on the active state of the TX memory pool.",
    result='{"loaded": bool, "size": n, "bytes": n, "usage": n, "total_fee": n, "maxmempool": n, '
           '"mempoolminfee": n, "minrelaytxfee": n, "incrementalrelayfee": n, "unbroadcastcount": n, '
           '"fullrbf": bool, "permitbaremultisig": bool, "maxdatacarriersize": n, '
           '"limitclustercount": n, "limitclustersize": n, "optimal": bool}',
    examples=("",),
)
def getmempoolinfo(ctx, p):
    mp = require_mempool(ctx)
    pool, s = mp.pool, mp.settings
    return {
        "loaded": mp.loaded,
        "size": len(pool),
        "bytes": pool.total_vsize,
        "usage": pool.usage,
        "total_fee": amount(pool.total_fee),
        "maxmempool": s.max_mempool_bytes,
        "mempoolminfee": amount(mp.min_fee_rate()),
        "minrelaytxfee": amount(s.min_relay_fee),
        "incrementalrelayfee": amount(s.incremental_relay_fee),
        "unbroadcastcount": sum(1 for t in mp.unbroadcast if t in pool),
        "fullrbf": mp.full_rbf,
        "permitbaremultisig": s.permit_bare_multisig,
        "maxdatacarriersize": s.max_datacarrier_bytes if s.datacarrier else 0,
        "limitclustercount": LIMIT_CLUSTER_COUNT,
        "limitclustersize": LIMIT_CLUSTER_SIZE,
        "optimal": True,
    }


def _relatives(ctx, p, ancestors: bool):
    mp = require_mempool(ctx)
    txid = p.hash("txid")
    if txid not in mp:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
    pool = mp.pool
    found = pool.ancestors(txid) if ancestors else pool.descendants(txid)
    ordered = [t for t in _sorted_txids(mp) if t in found]
    if p.bool("verbose"):
        return {hash_to_hex(t): entry_json(mp, t) for t in ordered}
    return [hash_to_hex(t) for t in ordered]


_RELATIVE_ARGS = [
    Arg("txid", ArgType.STR_HEX, "The transaction id (must be in mempool)"),
    Arg("verbose", ArgType.BOOL, "True for a json object, false for array of transaction ids", optional=True,
        default=False),
]


@rpc_method(
    "getmempoolancestors", "Blockchain", "If txid is in the mempool, returns all in-mempool ancestors.",
    args=_RELATIVE_ARGS, result='["hex", ...] | {"txid": {...}, ...}', examples=('"mytxid"',),
)
def getmempoolancestors(ctx, p):
    return _relatives(ctx, p, ancestors=True)


@rpc_method(
    "getmempooldescendants", "Blockchain", "If txid is in the mempool, returns all in-mempool descendants.",
    args=_RELATIVE_ARGS, result='["hex", ...] | {"txid": {...}, ...}', examples=('"mytxid"',),
)
def getmempooldescendants(ctx, p):
    return _relatives(ctx, p, ancestors=False)


@rpc_method(
    "savemempool", "Blockchain", "Dumps the mempool to disk. It will fail until the previous dump is fully loaded.",
    result='{"filename": "str"}    (string) the directory and file where the mempool was saved', examples=("",),
)
def savemempool(ctx, p):
    from regtest.node.mempool.persist import FILENAME, dump_mempool

    mp = require_mempool(ctx)
    if not mp.loaded:
        raise RPCError(RPCErrorCode.MISC_ERROR, "The mempool was not loaded yet")
    path = ctx.settings.chain_dir / FILENAME
    try:
        dump_mempool(mp, path)
    except OSError:
        raise RPCError(RPCErrorCode.MISC_ERROR, "Unable to dump mempool to disk") from None
    return {"filename": str(path)}
