"""Block submission and regtest block generation: submitblock, generatetoaddress,
generatetodescriptor, generateblock, and this chain's getcertificate."""

from __future__ import annotations

from regtest.consensus.address import AddressError, decode_address
from regtest.consensus.block import Block
from regtest.consensus.serialize import DeserializationError
from regtest.node.rpc.blockjson import certificate_json
from regtest.node.rpc.descriptors import DescriptorError, parse_descriptor
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.methods.rawtransactions import decode_tx
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

MAX_GENERATE = 1000  # blocks per generatetoaddress call


def submit_result(res) -> str | None:
    """BIP22 answer for a ProcessResult, as Core's submitblock words it."""
    if res.reason in ("duplicate", "duplicate-invalid"):
        return res.reason
    if res.accepted and not res.is_new:
        return "duplicate"
    if res.accepted and not res.connected:
        return "inconclusive"
    if res.accepted:
        return None
    return res.reason or "rejected"


@rpc_method(
    "submitblock", "Mining", "Attempts to submit new block to network.",
    args=[Arg("hexdata", ArgType.STR_HEX, "the hex-encoded block data to submit"),
          Arg("dummy", ArgType.STR, "dummy value, for compatibility with BIP22. This value is "
              "ignored.", optional=True, default_hint="ignored")],
    result='null or "str"    (string) According to BIP22',
    examples=('"mydata"',),
)
def submitblock(ctx, p):
    cs = require_chain(ctx)
    text = p.str("hexdata")
    try:
        block = Block.parse(bytes.fromhex(text))
    except (ValueError, DeserializationError):
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "Block decode failed") from None
    if not block.txs or not block.txs[0].is_coinbase():
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "Block does not start with a coinbase")
    return submit_result(cs.process_block(block))


def _payout_script(ctx, text: str, error: str) -> bytes:
    try:
        return decode_address(text, ctx.prefixes).script_pubkey
    except AddressError:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, error) from None


def _descriptor_script(ctx, text: str) -> tuple[bytes | None, str]:
    """Core's getScriptFromDescriptor: (script, "") or (None, parse error). Descriptors here are
    never ranged or multipath, so Core's -8 refusals of those cannot arise."""
    try:
        return parse_descriptor(text, ctx.prefixes).mining_script(), ""
    except DescriptorError as e:
        return None, str(e)


def _mempool_block_txs(ctx) -> list:
    """Transactions the mempool offers for the next block."""
    return [] if ctx.mempool is None else ctx.mempool.block_transactions()


def _generate_one(ctx, script: bytes, txs: list, submit: bool = True):
    from regtest.chain.blockassembly import AssemblyError, generate_block

    cs = ctx.chainstate
    try:
        block = generate_block(cs, ctx.coordinator_privkey, script, txs)
    except AssemblyError as e:
        raise RPCError(RPCErrorCode.MISC_ERROR, f"Failed to make block. {e}") from None
    if not submit:
        return block, None
    return block, cs.process_block(block)


def _require_generation(ctx) -> None:
    from regtest.consensus.params import ProofRule

    if ctx.chain == "main":
        raise RPCError(RPCErrorCode.METHOD_NOT_FOUND, "Method not found")
    if ctx.chainstate.params.proof_rule is ProofRule.CERTIFICATE and ctx.coordinator_privkey is None:
        raise RPCError(RPCErrorCode.MISC_ERROR,
                       "Block generation needs the coordinator key (-coordinatorkey=<hex>)")


@rpc_method(
    "generatetoaddress", "Generating", "Mine blocks immediately to a specified address (before "
    "the RPC call returns). On certificate networks the node signs with -coordinatorkey.",
    args=[Arg("nblocks", ArgType.NUM, "How many blocks are generated."),
          Arg("address", ArgType.STR, "The address to send the newly generated coins to."),
          Arg("maxtries", ArgType.NUM, "How many iterations to try.", optional=True,
              default=1000000)],
    result='["hex", ...]    (json array) hashes of blocks generated',
    examples=('11 "myaddress"',), hidden=True,
)
def generatetoaddress(ctx, p):
    require_chain(ctx)
    n = p.int("nblocks")
    p.int("maxtries")
    script = _payout_script(ctx, p.str("address"), "Error: Invalid address")
    return _generate_blocks(ctx, n, script)


@rpc_method(
    "generatetodescriptor", "Generating", "Mine to a specified descriptor and return the block "
    "hashes. On certificate networks the node signs with -coordinatorkey.",
    args=[Arg("num_blocks", ArgType.NUM, "How many blocks are generated."),
          Arg("descriptor", ArgType.STR, "The descriptor to send the newly generated coins to."),
          Arg("maxtries", ArgType.NUM, "How many iterations to try.", optional=True,
              default=1000000)],
    result='["hex", ...]    (json array) hashes of blocks generated',
    examples=('11 "mydesc"',), hidden=True,
)
def generatetodescriptor(ctx, p):
    require_chain(ctx)
    n = p.int("num_blocks")
    p.int("maxtries")
    script, error = _descriptor_script(ctx, p.str("descriptor"))
    if script is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, error)
    return _generate_blocks(ctx, n, script)


def _generate_blocks(ctx, n: int, script: bytes) -> list[str]:
    """generatetoaddress / generatetodescriptor after the output is known."""
    _require_generation(ctx)
    if n > MAX_GENERATE:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"nblocks must be at most {MAX_GENERATE}")
    hashes = []
    for _ in range(max(n, 0)):
        block, res = _generate_one(ctx, script, _mempool_block_txs(ctx))
        if not res.accepted:
            raise RPCError(RPCErrorCode.INTERNAL_ERROR,
                           f"ProcessNewBlock, block not accepted: {res.reason}")
        hashes.append(block.hash_hex)
    return hashes


@rpc_method(
    "generateblock", "Generating", "Mine a set of ordered transactions to a specified address "
    "or descriptor and return the block hash.",
    args=[Arg("output", ArgType.STR, "The address or descriptor to send the newly generated "
              "coins to."),
          Arg("transactions", ArgType.ARR, "An array of hex strings which are either txids or raw "
              "transactions."),
          Arg("submit", ArgType.BOOL, "Whether to submit the block before the RPC call returns "
              "or to return it as hex.", optional=True, default=True)],
    result='{"hash": "hex", "hex": "str"}', examples=('"myaddress" \'["rawtx", "mempool_txid"]\'',),
    hidden=True,
)
def generateblock(ctx, p):
    require_chain(ctx)
    output = p.str("output")
    script, _ = _descriptor_script(ctx, output)  # Core tries the descriptor first
    if script is None:
        script = _payout_script(ctx, output, "Error: Invalid address or descriptor")
    _require_generation(ctx)
    txs = []
    for item in p.get("transactions"):
        if not isinstance(item, str):
            raise RPCError(RPCErrorCode.TYPE_ERROR,
                           f"JSON value of type {type(item).__name__} is not of expected type string")
        if len(item) == 64:
            try:
                txid = bytes.fromhex(item)[::-1]
            except ValueError:
                txid = None
            pool = ctx.mempool
            tx = pool.get_transaction(txid) if txid and pool is not None else None
            if tx is None:
                raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, f"Transaction {item} not in mempool.")
            txs.append(tx)
            continue
        try:
            txs.append(decode_tx(item))
        except ValueError:
            raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR,
                           f"Transaction decode failed for {item}. Make sure the tx has at least "
                           "one input.") from None
    submit = p.bool("submit")
    block, res = _generate_one(ctx, script, txs, submit=submit)
    if not submit:
        return {"hash": block.hash_hex, "hex": block.serialize().hex()}
    if not res.accepted:
        raise RPCError(RPCErrorCode.VERIFY_ERROR, f"TestBlockValidity failed: {res.reason}")
    return {"hash": block.hash_hex}


@rpc_method(
    "getcertificate", "Blockchain", "Returns the decoded training certificate carried in the "
    "coinbase of block <blockhash> (the tip when omitted).",
    args=[Arg("blockhash", ArgType.STR_HEX, "The block hash", optional=True, default_hint="tip")],
    result='{"version": n, "network": "hex", "parent_hash": "hex", "height": n, '
           '"payout_script": "hex", "payout_address": "str", "cycle_id": n, "model_hash": "hex", '
           '"contributions_root": "hex", "lottery_seed": "hex", "issue_time": n, "expiry": n, '
           '"block_commitment": "hex", "coordinator_key": "hex", "signature": "hex", '
           '"signature_valid": bool}',
    examples=("", '"blockhash"'),
)
def getcertificate(ctx, p):
    cs = require_chain(ctx)
    h = p.hash("blockhash") if p.given("blockhash") else cs.tip.hash
    if cs.get_block_index(h) is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
    block = cs.get_block(h)
    if block is None:
        raise RPCError(RPCErrorCode.MISC_ERROR, "Block not available (not fully downloaded)")
    cert = certificate_json(block, ctx.prefixes)
    if cert is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block has no certificate")
    return cert


_GENERATE_GONE = ("generate\n\nhas been replaced by the -generate cli option. Refer to -help for "
                  "more information.")


@rpc_method("generate", "Generating", "Removed; kept as a stub like bitcoind's.", hidden=True,
            help_override=_GENERATE_GONE)
def generate(ctx, p):
    """bitcoind keeps this stub: with arguments the arity check answers -1 with this text."""
    raise RPCError(RPCErrorCode.METHOD_NOT_FOUND, _GENERATE_GONE)
