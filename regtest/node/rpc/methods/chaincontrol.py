"""Chain maintenance calls of bitcoind: submitheader, preciousblock, verifychain."""

from __future__ import annotations

import re

from regtest.chain.precious import precious_block
from regtest.chain.verify import DEFAULT_CHECKBLOCKS, DEFAULT_CHECKLEVEL, verify_chain
from regtest.consensus.block import BlockHeader
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.serialize import DeserializationError
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.methods.blockstats import json_int32
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, rpc_method

HEADER_SIZE = 80


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def decode_header(text: str) -> BlockHeader | None:
    """Core's DecodeHexBlockHeader: hex of at least 80 bytes (a whole block is fine: bytes
    after the header are ignored); None when it does not decode."""
    if len(text) < HEADER_SIZE * 2 or not _HEX.fullmatch(text):
        return None
    try:
        return BlockHeader.parse(bytes.fromhex(text[: HEADER_SIZE * 2]))
    except DeserializationError:
        return None


@rpc_method(
    "submitheader", "Mining", "Decode the given hexdata as a header and submit it as a candidate "
    "chain tip if valid.\nThrows when the header is invalid.",
    args=[Arg("hexdata", ArgType.STR_HEX, "the hex-encoded block header data")],
    result="null    (json null) None", examples=('"aabbcc"',),
)
def submitheader(ctx, p):
    cs = require_chain(ctx)
    header = decode_header(p.str("hexdata"))
    if header is None:
        raise RPCError(RPCErrorCode.DESERIALIZATION_ERROR, "Block header decode failed")
    with cs.lock:
        if cs.get_block_index(header.prev_hash) is None:
            raise RPCError(RPCErrorCode.VERIFY_ERROR,
                           f"Must submit previous header ({hash_to_hex(header.prev_hash)}) first")
        res = cs.process_header(header)
    if not res.accepted:
        raise RPCError(RPCErrorCode.VERIFY_ERROR, res.reason or "rejected")
    return None


@rpc_method(
    "preciousblock", "Blockchain", "Treats a block as if it were received before others with "
    "the same work.\nA later preciousblock call can override the effect of an earlier one.\n"
    "The effects of preciousblock are not retained across restarts.",
    args=[Arg("blockhash", ArgType.STR_HEX, "the hash of the block to mark as precious")],
    result="null    (json null)", examples=('"blockhash"',),
)
def preciousblock(ctx, p):
    cs = require_chain(ctx)
    h = p.hash("blockhash")
    if cs.get_block_index(h) is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
    precious_block(cs, h)
    return None


@rpc_method(
    "verifychain", "Blockchain", "Verifies blockchain database.",
    args=[Arg("checklevel", ArgType.NUM, "How thorough the block verification is:\n"
              "- level 0 reads the blocks from disk\n"
              "- level 1 verifies block validity\n"
              "- level 2 verifies undo data\n"
              "- level 3 checks disconnection of tip blocks\n"
              "- level 4 tries to reconnect the blocks\n"
              "- each level includes the checks of the previous levels", optional=True,
              default_hint=f"{DEFAULT_CHECKLEVEL}, range=0-4"),
          Arg("nblocks", ArgType.NUM, "The number of blocks to check.", optional=True,
              default_hint=f"{DEFAULT_CHECKBLOCKS}, 0=all")],
    result="true|false    (boolean) Verification finished successfully. If false, check "
           "debug.log for reason.",
    examples=("",),
)
def verifychain(ctx, p):
    cs = require_chain(ctx)
    level = DEFAULT_CHECKLEVEL if not p.given("checklevel") else json_int32(p.get("checklevel"))
    depth = DEFAULT_CHECKBLOCKS if not p.given("nblocks") else json_int32(p.get("nblocks"))
    return verify_chain(cs, level, depth).ok
