"""Chain queries and control: getblockchaininfo ... gettxoutsetinfo, invalidate/reconsider."""

from __future__ import annotations

from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.transaction import OutPoint
from regtest.node.rpc.blockjson import block_json, compact_to_target, difficulty, header_json
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.jsonfmt import amount
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, as_int, rpc_method
from regtest.node.rpc.scriptjson import script_pubkey_json

_CAT = "Blockchain"
_HASH_ARG = Arg("blockhash", ArgType.STR_HEX, "The block hash")


def _entry(cs, block_hash: bytes):
    entry = cs.get_block_index(block_hash)
    if entry is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
    return entry


@rpc_method(
    "getblockchaininfo", _CAT, "Returns an object containing various state info regarding "
    "blockchain processing.",
    result='{"chain": "str", "blocks": n, "headers": n, "bestblockhash": "hex", "bits": "hex", '
           '"target": "hex", "difficulty": n, "time": n, "mediantime": n, '
           '"verificationprogress": n, "initialblockdownload": bool, "chainwork": "hex", '
           '"size_on_disk": n, "pruned": bool, "warnings": ["str"]}',
    examples=("",),
)
def getblockchaininfo(ctx, p):
    cs = require_chain(ctx)
    tip = cs.tip
    h = tip.header
    return {
        "chain": ctx.chain,
        "blocks": cs.height,
        "headers": max(cs.best_header().height, cs.height),
        "bestblockhash": tip.hash_hex,
        "bits": "%08x" % h.bits,
        "target": "%064x" % compact_to_target(h.bits),
        "difficulty": difficulty(h.bits),
        "time": h.time,
        "mediantime": tip.median_time_past(),
        "verificationprogress": 1,
        "initialblockdownload": ctx.is_initial_block_download(),
        "chainwork": "%064x" % tip.chain_work,
        "size_on_disk": cs.store.disk_size(),
        "pruned": False,
        "warnings": [],
    }


@rpc_method("getblockcount", _CAT, "Returns the height of the most-work fully-validated chain.",
            result="n    (numeric) The current block count", examples=("",))
def getblockcount(ctx, p):
    return require_chain(ctx).height


@rpc_method("getbestblockhash", _CAT, "Returns the hash of the best (tip) block in the "
            "most-work fully-validated chain.", result='"hex"    (string) the block hash, hex-encoded',
            examples=("",))
def getbestblockhash(ctx, p):
    return require_chain(ctx).tip.hash_hex


@rpc_method("getblockhash", _CAT, "Returns hash of block in best-block-chain at height provided.",
            args=[Arg("height", ArgType.NUM, "The height index")],
            result='"hex"    (string) The block hash', examples=("1000",))
def getblockhash(ctx, p):
    cs = require_chain(ctx)
    height = p.int("height")
    if height < 0 or height > cs.height:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Block height out of range")
    return hash_to_hex(cs.block_hash_at(height))


def _verbosity(value, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        return 1 if value else 0
    return as_int(value)


@rpc_method(
    "getblock", _CAT,
    "If verbosity is 0, returns a string that is serialized, hex-encoded data for block "
    "'hash'. If verbosity is 1, returns an Object with information about block <hash>. If "
    "verbosity is 2, returns an Object with information about block <hash> and information "
    "about each transaction. Blocks of this chain also show their decoded certificate.",
    args=[_HASH_ARG, Arg("verbosity|verbose", ArgType.NUM, "0 for hex-encoded data, 1 for a JSON "
                         "object, 2 for JSON object with transaction data, 3 also with each input's prevout",
                         optional=True,
                         default=1, type_str="numeric or boolean")],
    result='"hex" (verbosity 0) or {"hash": "hex", "confirmations": n, "size": n, ..., '
           '"tx": [...], "certificate": {...}}',
    examples=('"blockhash"', '"blockhash" 2'),
)
def getblock(ctx, p):
    cs = require_chain(ctx)
    entry = _entry(cs, p.hash("blockhash"))
    verbosity = _verbosity(p.raw("verbosity"), 1)
    if verbosity <= 0:
        raw = cs.get_raw_block(entry.hash)
        if raw is None:
            raise RPCError(RPCErrorCode.MISC_ERROR, "Block not available (not fully downloaded)")
        return raw.hex()
    block = cs.get_block(entry.hash)
    if block is None:
        raise RPCError(RPCErrorCode.MISC_ERROR, "Block not available (not fully downloaded)")
    return block_json(cs, entry, block, verbosity, ctx.prefixes)


@rpc_method(
    "getblockheader", _CAT, "If verbose is false, returns a string that is serialized, "
    "hex-encoded data for blockheader 'hash'. If verbose is true, returns an Object with "
    "information about blockheader <hash>, including its certificate.",
    args=[_HASH_ARG, Arg("verbose", ArgType.BOOL, "true for a json object, false for the hex-encoded "
                         "data", optional=True, default=True)],
    result='{"hash": "hex", "confirmations": n, "height": n, ...} or "hex"',
    examples=('"blockhash"',),
)
def getblockheader(ctx, p):
    cs = require_chain(ctx)
    entry = _entry(cs, p.hash("blockhash"))
    if not p.bool("verbose"):
        return entry.header.serialize().hex()
    return header_json(cs, entry, cs.get_block(entry.hash), ctx.prefixes)


@rpc_method("getchaintips", _CAT, "Return information about all known tips in the block tree, "
            "including the main chain as well as orphaned branches.",
            result='[{"height": n, "hash": "hex", "branchlen": n, "status": "str"}, ...]',
            examples=("",))
def getchaintips(ctx, p):
    return [t.to_json() for t in require_chain(ctx).chain_tips()]


@rpc_method("getdifficulty", _CAT, "Returns the proof-of-work difficulty as a multiple of the "
            "minimum difficulty.", result="n    (numeric) the difficulty", examples=("",))
def getdifficulty(ctx, p):
    return difficulty(require_chain(ctx).tip.header.bits)


@rpc_method(
    "gettxout", _CAT, "Returns details about an unspent transaction output.",
    args=[Arg("txid", ArgType.STR, "The transaction id"), Arg("n", ArgType.NUM, "vout number"),
          Arg("include_mempool", ArgType.BOOL, "Whether to include the mempool.", optional=True,
              default=True)],
    result='null or {"bestblock": "hex", "confirmations": n, "value": n, "scriptPubKey": {...}, '
           '"coinbase": bool}',
    examples=('"txid" 1',),
)
def gettxout(ctx, p):
    cs = require_chain(ctx)
    txid = p.hash("txid")
    n = p.int("n")
    if n < 0 or n > 0xFFFFFFFF:
        return None
    outpoint = OutPoint(txid, n)
    pool = ctx.mempool if p.bool("include_mempool") else None
    coin = None
    conf_height = None
    if pool is not None:
        if pool.is_spent(outpoint):
            return None
        coin = pool.get_coin(outpoint)
    if coin is None:
        coin = cs.get_coin(outpoint)
        if coin is None:
            return None
        conf_height = coin.height
    return {
        "bestblock": cs.tip.hash_hex,
        "confirmations": 0 if conf_height is None else cs.height - conf_height + 1,
        "value": amount(coin.value),
        "scriptPubKey": script_pubkey_json(coin.script_pubkey, ctx.prefixes),
        "coinbase": coin.is_coinbase,
    }


@rpc_method(
    "gettxoutsetinfo", _CAT, "Returns statistics about the unspent transaction output set. "
    "Note this call may take some time.",
    args=[Arg("hash_type", ArgType.STR, "Which UTXO set hash should be calculated. Options: "
              "'hash_serialized_3', 'muhash', 'none'.", optional=True, default="hash_serialized_3"),
          Arg("hash_or_height", ArgType.NUM, "The block hash or height of the target height "
              "(only available with coinstatsindex).", optional=True, type_str="string or numeric"),
          Arg("use_index", ArgType.BOOL, "Use coinstatsindex, if available.", optional=True,
              default=True)],
    result='{"height": n, "bestblock": "hex", "txouts": n, "bogosize": n, '
           '"hash_serialized_3": "hex", "total_amount": n, "transactions": n, "disk_size": n}',
    examples=("",),
)
def gettxoutsetinfo(ctx, p):
    cs = require_chain(ctx)
    hash_type = p.str("hash_type")
    if hash_type not in ("hash_serialized_3", "none", "muhash"):
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"'{hash_type}' is not a valid hash_type")
    if p.given("hash_or_height"):
        raise RPCError(RPCErrorCode.INVALID_PARAMETER,
                       "Querying specific block heights requires coinstatsindex")
    st = cs.utxo_stats()
    out = {"height": st.height, "bestblock": hash_to_hex(st.best_block), "txouts": st.txouts,
           "bogosize": st.bogosize}
    if hash_type == "hash_serialized_3":
        out["hash_serialized_3"] = hash_to_hex(st.hash_serialized)
    elif hash_type == "muhash":
        out["muhash"] = hash_to_hex(_muhash(cs))
    out["total_amount"] = amount(st.total_amount)
    out["transactions"] = st.transactions
    out["disk_size"] = st.disk_size
    return out


def _muhash(cs) -> bytes:
    """MuHash3072 over every coin, each serialized as Core's TxOutSer (as hash_serialized_3)."""
    from regtest.chain.coinser import hash_serialize_coin
    from regtest.node.muhash import MuHash3072

    acc = MuHash3072()
    with cs.lock:  # a consistent snapshot: no block may connect halfway through
        for op, coin in cs.store.iter_coins():
            acc.insert(hash_serialize_coin(op, coin))
    return acc.digest()


@rpc_method("invalidateblock", _CAT, "Permanently marks a block as invalid, as if it violated a "
            "consensus rule.", args=[Arg("blockhash", ArgType.STR_HEX, "the hash of the block to mark "
                                         "as invalid")],
            examples=('"blockhash"',), hidden=True)
def invalidateblock(ctx, p):
    cs = require_chain(ctx)
    h = p.hash("blockhash")
    _entry(cs, h)
    try:
        cs.invalidate_block(h)
    except KeyError:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found") from None
    except ValueError as e:
        raise RPCError(RPCErrorCode.DATABASE_ERROR, str(e)) from None
    return None


@rpc_method("reconsiderblock", _CAT, "Removes invalidity status of a block, its ancestors and its "
            "descendants, reconsider them for activation.",
            args=[Arg("blockhash", ArgType.STR_HEX, "the hash of the block to reconsider")],
            examples=('"blockhash"',), hidden=True)
def reconsiderblock(ctx, p):
    cs = require_chain(ctx)
    h = p.hash("blockhash")
    _entry(cs, h)
    try:
        cs.reconsider_block(h)
    except KeyError:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found") from None
    return None

