"""Descriptor utility calls, as bitcoind's: getdescriptorinfo and deriveaddresses (non-ranged
descriptors only; see regtest/node/rpc/descriptors.py for what parses)."""

from __future__ import annotations

from regtest.consensus.address import script_to_address
from regtest.node.rpc.descriptors import DescriptorError, checksum_of, parse_descriptor
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.registry import Arg, ArgType, rpc_method


def parse_or_raise(ctx, text: str, require_checksum: bool = False):
    """The parsed descriptor, or -5 with the parser's message (Core's RPC_INVALID_ADDRESS_OR_KEY)."""
    try:
        return parse_descriptor(text, ctx.prefixes, require_checksum)
    except DescriptorError as e:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, str(e)) from None


@rpc_method(
    "getdescriptorinfo", "Util", "Analyses a descriptor.",
    args=[Arg("descriptor", ArgType.STR, "The descriptor.")],
    result='{"descriptor": "str", "checksum": "str", "isrange": bool, "issolvable": bool, '
           '"hasprivatekeys": bool}',
    examples=('"wpkh([d34db33f/84h/0h/0h]0279be667ef9dcbbac55a06295Ce870b07029Bfcdb2dce28d959f2815b16f81798)"',),
)
def getdescriptorinfo(ctx, p):
    text = p.str("descriptor")
    desc = parse_or_raise(ctx, text)
    return {
        "descriptor": desc.with_checksum,
        # Core's checksum is that of the text as given (less any '#...'), not of the canonical form
        "checksum": checksum_of(text.split("#")[0]),
        "isrange": desc.is_range,
        "issolvable": desc.solvable,
        "hasprivatekeys": desc.has_private_keys,
    }


@rpc_method(
    "deriveaddresses", "Util", "Derives one or more addresses corresponding to an output "
    "descriptor. Ranged descriptors (xpub/xprv keys) are not supported by potcd.",
    args=[Arg("descriptor", ArgType.STR, "The descriptor."),
          Arg("range", ArgType.ANY, "If a ranged descriptor is used, this specifies the end or "
              "the range (in [begin,end] notation) to derive.", optional=True,
              type_str="numeric or array")],
    result='["str", ...]    (json array) the derived addresses',
    examples=('"wpkh(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)#xxxxxxxx"',),
)
def deriveaddresses(ctx, p):
    desc = parse_or_raise(ctx, p.str("descriptor"), require_checksum=True)
    if p.given("range") and not desc.is_range:
        raise RPCError(RPCErrorCode.INVALID_PARAMETER,
                       "Range should not be specified for an un-ranged descriptor")
    addresses = []
    for i, script in enumerate(desc.scripts):
        if desc.is_combo and i == 0:
            continue  # combo's P2PK has no address; Core skips it
        address = script_to_address(script, ctx.prefixes)
        if address is None:
            raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY,
                           "Descriptor does not have a corresponding address")
        addresses.append(address)
    return addresses
