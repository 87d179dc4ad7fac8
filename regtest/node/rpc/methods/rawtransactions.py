"""Raw transaction calls: decoderawtransaction, decodescript, getrawtransaction, and building and
signing without a wallet: createrawtransaction, signrawtransactionwithkey."""

from __future__ import annotations

from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import Transaction
from regtest.node.rpc.blockjson import confirmations
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.rawtx_args import (
    DEFAULT_RAWTX_VERSION, construct_transaction, parse_keys, parse_prevtxs, parse_sighash,
    sign_result_json,
)
from regtest.node.rpc.registry import Arg, ArgType, as_int, parse_hex, rpc_method
from regtest.node.rpc.scriptjson import decode_script, tx_to_json
from regtest.node.signing import WIF_MAIN, WIF_TEST, sign_transaction

MAX_TX_HEX = 2 * 4_000_000 * 2  # hex of a block-sized transaction, with room


def decode_tx(hexstr: str, try_witness: bool = True, try_no_witness: bool = True) -> Transaction:
    """Core's DecodeHexTx: the witness form first (if it consumes everything), else legacy."""
    if len(hexstr) > MAX_TX_HEX:
        raise ValueError("too large")
    data = bytes.fromhex(hexstr)
    errors = []
    for allow_witness, ok in ((True, try_witness), (False, try_no_witness)):
        if not ok:
            continue
        try:
            return Transaction.parse(data, allow_witness=allow_witness)
        except (DeserializationError, ValueError) as e:
            errors.append(e)
    raise ValueError(str(errors[-1]) if errors else "no decoding allowed")


@rpc_method(
    "decoderawtransaction", "Rawtransactions",
    "Return a JSON object representing the serialized, hex-encoded transaction.",
    args=[
        Arg("hexstring", ArgType.STR_HEX, "The transaction hex string"),
        Arg("iswitness", ArgType.BOOL, "Whether the transaction hex is a serialized witness "
            "transaction", optional=True, default_hint="depends on heuristic tests"),
    ],
    result='{"txid": "hex", "hash": "hex", "size": n, "vsize": n, "weight": n, "version": n, '
           '"locktime": n, "vin": [...], "vout": [...]}',
    examples=('"hexstring"',),
)
def decoderawtransaction(ctx, p):
    text = p.str("hexstring")
    witness = p.raw("iswitness")
    try:
        tx = decode_tx(text, witness is not False, witness is not True)
    except ValueError:
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "TX decode failed") from None
    return tx_to_json(tx, ctx.prefixes)


@rpc_method(
    "decodescript", "Rawtransactions", "Decode a hex-encoded script.",
    args=[Arg("hexstring", ArgType.STR_HEX, "the hex-encoded script")],
    result='{"asm": "str", "desc": "str", "type": "str", "address": "str", "p2sh": "str", '
           '"segwit": {...}}',
    examples=('"hexstring"',),
)
def decodescript(ctx, p):
    script = parse_hex(p.get("hexstring"), "argument")
    return decode_script(script, ctx.prefixes)


_NO_MEMPOOL_TX = ("No such mempool transaction. Use -txindex or provide a block hash to enable "
                  "blockchain transaction queries. Use gettransaction for wallet transactions.")
_NO_TX = "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."
_NOT_IN_BLOCK = ("No such transaction found in the provided block. Use gettransaction for "
                 "wallet transactions.")


def _verbosity(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    return as_int(value)


@rpc_method(
    "getrawtransaction", "Rawtransactions",
    "By default, this call only returns a transaction if it is in the mempool. If -txindex is "
    "enabled and no blockhash argument is passed, it will return the transaction if it is in "
    "a block in the blockchain.",
    args=[
        Arg("txid", ArgType.STR_HEX, "The transaction id"),
        Arg("verbosity|verbose", ArgType.NUM, "0 for hex-encoded data, 1 for a JSON object, "
            "2 for a JSON object with fee and prevout",
            optional=True, default=0, type_str="numeric or boolean"),
        Arg("blockhash", ArgType.STR_HEX, "The block in which to look for the transaction",
            optional=True),
    ],
    result='"str" (verbosity 0) or {"in_active_chain": bool, "blockhash": "hex", '
           '"confirmations": n, "time": n, "blocktime": n, ...decoded transaction, "hex": "hex"}',
    examples=('"mytxid"', '"mytxid" 1', '"mytxid" 0 "myblockhash"'),
)
def getrawtransaction(ctx, p):
    cs = require_chain(ctx)
    txid = p.hash("txid")
    verbosity = _verbosity(p.raw("verbosity"))
    block_hash = p.hash("blockhash") if p.given("blockhash") else None
    if txid == cs.params.genesis.txs[0].txid:
        raise RPCError(
            RPCErrorCode.INVALID_ADDRESS_OR_KEY,
            "The genesis block coinbase is not considered an ordinary transaction and cannot be "
            "retrieved",
        )
    entry = None
    tx = None
    if block_hash is not None:
        entry = cs.get_block_index(block_hash)
        if entry is None:
            raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block hash not found")
    else:
        pool = ctx.mempool
        if pool is not None:
            tx = pool.get_transaction(txid)
        if tx is None and ctx.txindex is not None:
            found = ctx.txindex.lookup(txid)
            if found is not None:
                entry = cs.get_block_index(found)
    if tx is None and entry is not None:
        block = cs.get_block(entry.hash)
        if block is not None:
            tx = next((t for t in block.txs if t.txid == txid), None)
    if tx is None:
        if block_hash is not None:
            if cs.get_block(block_hash) is None:
                raise RPCError(RPCErrorCode.MISC_ERROR, "Block not available")
            raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, _NOT_IN_BLOCK)
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY,
                       _NO_TX if ctx.txindex is not None else _NO_MEMPOOL_TX)
    if verbosity <= 0:
        return tx.serialize().hex()
    out = {}
    if block_hash is not None:
        out["in_active_chain"] = cs.active.contains(entry)
    spent = None
    if verbosity >= 2 and entry is not None and not tx.is_coinbase():
        undo = cs.get_undo(entry.hash)
        spent = {op: coin for op, coin in undo} if undo is not None else None
    out.update(tx_to_json(tx, ctx.prefixes, True, spent, with_prevout=verbosity >= 2))
    if entry is not None:
        out["blockhash"] = entry.hash_hex
        conf = confirmations(cs, entry)
        out["confirmations"] = max(conf, 0)
        out["time"] = entry.header.time
        out["blocktime"] = entry.header.time
    return out


# --- building and signing without a wallet (createrawtransaction, signrawtransactionwithkey) ---
_INPUTS_HELP = ('The inputs: [{"txid": "hex", "vout": n, "sequence": n (optional, default '
                'depends on the value of the \'replaceable\' and \'locktime\' arguments)}, ...]')
_OUTPUTS_HELP = ('The outputs specified as key-value pairs: [{"address": amount, ...}, '
                 '{"data": "hex"}]. An object with the same keys is accepted too.')


@rpc_method(
    "createrawtransaction", "Rawtransactions",
    "Create a transaction spending the given inputs and creating new outputs.\n"
    "Outputs can be addresses or data.\n"
    "Returns hex-encoded raw transaction.\n"
    "Note that the transaction's inputs are not signed, and\n"
    "it is not stored in the wallet or transmitted to the network.",
    args=[
        Arg("inputs", ArgType.ARR, _INPUTS_HELP),
        Arg("outputs", ArgType.ARR, _OUTPUTS_HELP, type_str="json array"),
        Arg("locktime", ArgType.NUM, "Raw locktime. Non-0 value also locktime-activates inputs",
            optional=True, default=0),
        Arg("replaceable", ArgType.BOOL, "Marks this transaction as BIP125-replaceable.\n"
            "Allows this transaction to be replaced by a transaction with higher fees. If "
            "provided, it is an error if explicit sequence numbers are incompatible.",
            optional=True, default=True),
        Arg("version", ArgType.NUM, "Transaction version", optional=True, default=2),
    ],
    result='"hex"    (string) hex string of the transaction',
    examples=('"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"',
              '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"data\\":\\"00010203\\"}]"'),
)
def createrawtransaction(ctx, p):
    rbf = p.bool("replaceable") if p.given("replaceable") else None
    version = p.int("version") if p.given("version") else DEFAULT_RAWTX_VERSION
    if not 0 <= version <= 0xFFFFFFFF:
        raise RPCError(RPCErrorCode.MISC_ERROR, "JSON integer out of range")
    tx = construct_transaction(p.raw("inputs"), p.raw("outputs"), p.raw("locktime"), rbf, version,
                               ctx.prefixes)
    return tx.serialize().hex()


@rpc_method(
    "signrawtransactionwithkey", "Rawtransactions",
    "Sign inputs for raw transaction (serialized, hex-encoded).\n"
    "The second argument is an array of base58-encoded private\n"
    "keys that will be the only keys used to sign the transaction.\n"
    "The third optional argument (may be null) is an array of previous transaction outputs that\n"
    "this transaction depends on but may not yet be in the block chain.",
    args=[
        Arg("hexstring", ArgType.STR, "The transaction hex string"),
        Arg("privkeys", ArgType.ARR, 'The base58-encoded private keys for signing: ["privatekey", ...]'),
        Arg("prevtxs", ArgType.ARR, 'The previous dependent transaction outputs: [{"txid": "hex", '
            '"vout": n, "scriptPubKey": "hex", "redeemScript": "hex" (P2SH), "witnessScript": '
            '"hex" (P2WSH or P2SH-P2WSH), "amount": amount (required for Segwit inputs)}, ...]',
            optional=True),
        Arg("sighashtype", ArgType.STR, 'The signature hash type. Must be one of:\n"DEFAULT"\n'
            '"ALL"\n"NONE"\n"SINGLE"\n"ALL|ANYONECANPAY"\n"NONE|ANYONECANPAY"\n'
            '"SINGLE|ANYONECANPAY"', optional=True, default="DEFAULT"),
    ],
    result='{"hex": "hex", "complete": bool, "errors": [{"txid": "hex", "vout": n, "witness": '
           '["hex", ...], "scriptSig": "hex", "sequence": n, "error": "str"}, ...] (only when '
           'there are errors)}',
    examples=('"myhex" "[\\"key1\\",\\"key2\\"]"',),
)
def signrawtransactionwithkey(ctx, p):
    cs = require_chain(ctx)
    try:
        tx = decode_tx(p.str("hexstring"))
    except ValueError:
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR,
                       "TX decode failed. Make sure the tx has at least one input.") from None
    store = parse_keys(p.raw("privkeys"), WIF_MAIN if ctx.chain == "main" else WIF_TEST)
    coins = {}
    for txin in tx.vin:
        coin = ctx.mempool.get_coin(txin.prevout) if ctx.mempool is not None else None
        if coin is None:
            coin = cs.get_coin(txin.prevout)
        coins[txin.prevout] = coin.txout if coin is not None else None
    parse_prevtxs(p.raw("prevtxs"), store, coins)
    hash_type = parse_sighash(p.raw("sighashtype"))
    signed, errors = sign_transaction(tx, store, {i: coins.get(t.prevout) for i, t in enumerate(tx.vin)},
                                      hash_type)
    return sign_result_json(signed, errors, coins)
