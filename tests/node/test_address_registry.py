"""Pure parts: address codecs (BIP173/BIP350 vectors), script asm, descriptor checksums, and the
RPC registry's named-argument mapping and Core-style errors."""

from __future__ import annotations

import pytest

from regtest.consensus.address import (
    MAIN_PREFIXES,
    REGTEST_PREFIXES,
    AddressError,
    b58check_encode,
    classify,
    decode_address,
    script_to_address,
)
from regtest.node.rpc.errors import RPCError
from regtest.node.rpc.registry import Arg, ArgType, Method, Registry
from regtest.node.rpc.scriptjson import descriptor_checksum, script_to_asm


@pytest.mark.parametrize(
    "address, script",
    [
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
         "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    ],
)
def test_segwit_vectors(address, script):
    dec = decode_address(address, MAIN_PREFIXES)
    assert dec.script_pubkey.hex() == script
    assert script_to_address(dec.script_pubkey, MAIN_PREFIXES) == address.lower()


@pytest.mark.parametrize(
    "bad",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m checksum on v0
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 checksum on v1
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 with a 16-byte program
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bad checksum
    ],
)
def test_segwit_invalid(bad):
    with pytest.raises(AddressError):
        decode_address(bad, MAIN_PREFIXES)


def test_base58_roundtrip_and_network_check():
    h = bytes(range(20))
    p2pkh = b58check_encode(111, h)
    dec = decode_address(p2pkh, REGTEST_PREFIXES)
    assert classify(dec.script_pubkey).type == "pubkeyhash" and not dec.is_script
    assert script_to_address(dec.script_pubkey, REGTEST_PREFIXES) == p2pkh
    p2sh = b58check_encode(196, h)
    assert decode_address(p2sh, REGTEST_PREFIXES).is_script
    with pytest.raises(AddressError):
        decode_address(b58check_encode(0, h), REGTEST_PREFIXES)  # a mainnet address
    with pytest.raises(AddressError):
        decode_address("x" * 200, REGTEST_PREFIXES)


def test_classify_types():
    key = bytes.fromhex("02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert classify(bytes([33]) + key + b"\xac").type == "pubkey"
    assert classify(b"\x51" + bytes([33]) + key + b"\x51\xae").type == "multisig"
    assert classify(b"\x6a").type == "nulldata"
    assert classify(b"\x6a\x01").type == "nonstandard"  # truncated push after OP_RETURN
    assert classify(bytes.fromhex("51024e73")).type == "anchor"
    assert classify(bytes.fromhex("6014" + "00" * 20)).type == "witness_unknown"
    assert classify(b"").type == "nonstandard"
    # as Core's solver: keys pushed with OP_PUSHDATA1 and hybrid (06/07) keys count
    assert classify(b"\x51\x4c\x21" + key + b"\x51\xae").type == "multisig"
    assert classify(b"\x51\x21" + key + b"\x52\xae").type == "nonstandard"  # n != key count
    assert classify(bytes([65, 6]) + bytes(64) + b"\xac").type == "pubkey"
    assert classify(bytes([65, 5]) + bytes(64) + b"\xac").type == "nonstandard"


def test_asm_like_core():
    assert script_to_asm(bytes.fromhex("0051604f")) == "0 1 16 -1"
    assert script_to_asm(bytes.fromhex("0181")) == "-1"  # one-byte push of 0x81: negative one
    assert script_to_asm(bytes.fromhex("0281")) == "[error]"  # push runs past the end
    assert script_to_asm(bytes.fromhex("4c")) == "[error]"
    assert script_to_asm(bytes.fromhex("b1b2ba bbff".replace(" ", ""))) == (
        "OP_CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY OP_CHECKSIGADD OP_UNKNOWN OP_INVALIDOPCODE")
    sig = bytes.fromhex("3006020101020101") + b"\x81"
    assert script_to_asm(bytes([len(sig)]) + sig, True) == "3006020101020101[ALL|ANYONECANPAY]"
    assert script_to_asm(bytes([len(sig)]) + sig, False) == sig.hex()


def test_descriptor_checksums():
    # BIP380's example and a checksum Core prints for raw(deadbeef)
    assert descriptor_checksum("addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)") == "02wpgw69"
    assert descriptor_checksum("raw(deadbeef)") == "89f8spxm"


def _method() -> Method:
    return Method("m", "Test", "A test method.", (
        Arg("a", ArgType.NUM, "first"),
        Arg("b|bee", ArgType.STR, "second", optional=True, default="x"),
        Arg("c", ArgType.BOOL, "third", optional=True),
    ), "null", lambda ctx, p: None)


def test_named_to_positional():
    reg, m = Registry(), _method()
    assert reg.positional(m, {"a": 1, "c": True}) == [1, None, True]
    assert reg.positional(m, {"bee": "y", "a": 2}) == [2, "y"]
    assert reg.positional(m, {"args": [1], "c": False}) == [1, None, False]
    for bad, text in (({"z": 1}, "Unknown named parameter z"),
                      ({"b": "1", "bee": "2"}, "Parameter bee specified multiple times"),
                      ({"args": [1], "a": 2}, "Parameter a specified twice both as positional and named argument")):
        with pytest.raises(RPCError) as e:
            reg.positional(m, bad)
        assert (e.value.code, e.value.message) == (-8, text)


def test_type_and_arity_errors():
    reg, m = Registry(), _method()
    with pytest.raises(RPCError) as e:
        reg.check(m, ["1", 2])
    assert e.value.code == -3 and e.value.message == (
        'Wrong type passed:\n{\n    "Position 1 (a)": "JSON value of type string is not of expected type number",\n'
        '    "Position 2 (b|bee)": "JSON value of type number is not of expected type string"\n}')
    for values in ([], [1, "x", True, 4]):
        with pytest.raises(RPCError) as e:
            reg.check(m, values)
        assert e.value.code == -1 and e.value.message.startswith('m a ( "b" c )\n\nA test method.')
    p = reg.check(m, [1, None])
    assert p.get("b") == "x" and p.raw("c") is None and p.int("a") == 1
