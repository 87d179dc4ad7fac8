"""The descriptor parser against Bitcoin Core's own descriptor test vectors (scripts, canonical
text, error strings) and BIP380's checksum example; hostile input gives DescriptorError only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtest.consensus.address import MAIN_PREFIXES, REGTEST_PREFIXES
from regtest.node.rpc.descriptors import (
    MAX_DESCRIPTOR_LENGTH,
    DescriptorError,
    parse_descriptor,
    split_checksum,
)

K = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"
X = K[2:]  # its x-only form
U = ("04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c"
     "02559e3aa73aa03918ba2d492eea75abea235")
WIF = "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1"  # mainnet WIF of K
WIF_U = "5KYZdUEo39z3FPrtuX2QbbwGnNP5zTd7yyr2SC1j299sBCnWjss"  # mainnet WIF of U
H = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5"  # 32 bytes, valid x-only

# (descriptor, canonical public text, scripts): from Core's src/test/descriptor_tests.cpp
CORE_VECTORS = [
    (f"combo({WIF})", f"combo({K})",
     ["2103a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bdac",
      "76a9149a1c78a507689f6f54b847ad1cef1e614ee23f1e88ac",
      "00149a1c78a507689f6f54b847ad1cef1e614ee23f1e",
      "a91484ab21b1b2fd065d4504ff693d832434b6108d7b87"]),
    (f"pk({WIF})", f"pk({K})", ["2103a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bdac"]),
    (f"pkh([deadbeef/1/2'/3/4']{WIF})", f"pkh([deadbeef/1/2'/3/4']{K})",
     ["76a9149a1c78a507689f6f54b847ad1cef1e614ee23f1e88ac"]),
    (f"wpkh({WIF})", f"wpkh({K})", ["00149a1c78a507689f6f54b847ad1cef1e614ee23f1e"]),
    (f"sh(wpkh({WIF}))", f"sh(wpkh({K}))", ["a91484ab21b1b2fd065d4504ff693d832434b6108d7b87"]),
    (f"tr({WIF})", f"tr({X})", ["512077aab6e066f8a7419c5ab714c12c67d25007ed55a43cadcacb4d7a970a093f11"]),
    (f"combo({WIF_U})", f"combo({U})",
     [f"41{U}ac", "76a914b5bd079c4d57cc7fc28ecf8213a6b791625b818388ac"]),
    (f"pkh({WIF_U})", f"pkh({U})", ["76a914b5bd079c4d57cc7fc28ecf8213a6b791625b818388ac"]),
    (f"sh(pk({WIF}))", f"sh(pk({K}))", ["a9141857af51a5e516552b3086430fd8ce55f7c1a52487"]),
    (f"sh(pkh({WIF}))", f"sh(pkh({K}))", ["a9141a31ad23bf49c247dd531a623c2ef57da3c400c587"]),
    (f"wsh(pk({WIF}))", f"wsh(pk({K}))",
     ["00202e271faa2325c199d25d22e1ead982e45b64eeb4f31e73dbdf41bd4b5fec23fa"]),
    (f"wsh(pkh({WIF}))", f"wsh(pkh({K}))",
     ["0020338e023079b91c58571b20e602d7805fb808c22473cbc391a41b1bd3a192e75b"]),
    (f"sh(wsh(pk({WIF})))", f"sh(wsh(pk({K})))", ["a91472d0c5a3bfad8c3e7bd5303a72b94240e80b6f1787"]),
    (f"sh(wsh(pkh({WIF})))", f"sh(wsh(pkh({K})))", ["a914b61b92e2ca21bac1e72a3ab859a742982bea960a87"]),
    (f"tr({H},{{pk({H}),{{pk({WIF}),pk({H})}}}})", f"tr({H},{{pk({H}),{{pk({X}),pk({H})}}}})",
     ["51201497ae16f30dacb88523ed9301bff17773b609e8a90518a3f96ea328a47d1500"]),
]


@pytest.mark.parametrize("desc,canonical,scripts", CORE_VECTORS)
def test_core_vectors(desc, canonical, scripts):
    d = parse_descriptor(desc, MAIN_PREFIXES)
    assert d.text == canonical
    assert [s.hex() for s in d.scripts] == scripts
    assert d.has_private_keys
    assert not d.is_range and d.solvable
    public = parse_descriptor(canonical, MAIN_PREFIXES)  # the public form parses to the same
    assert public.scripts == d.scripts and not public.has_private_keys


def test_bip380_checksum_and_raw():
    d = parse_descriptor("raw(deadbeef)#89f8spxm", REGTEST_PREFIXES)
    assert d.with_checksum == "raw(deadbeef)#89f8spxm"
    assert d.scripts == (bytes.fromhex("deadbeef"),) and not d.solvable
    assert parse_descriptor("raw(DEADBEEF)", REGTEST_PREFIXES).text == "raw(deadbeef)"


def test_multisig_forms():
    k2 = "02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    bare = parse_descriptor(f"multi(1,{K},{k2})", REGTEST_PREFIXES).scripts[0]
    assert bare == bytes([0x51, 33]) + bytes.fromhex(K) + bytes([33]) + bytes.fromhex(k2) + b"\x52\xae"
    srt = parse_descriptor(f"sortedmulti(1,{K},{k2})", REGTEST_PREFIXES)
    assert srt.text == f"sortedmulti(1,{K},{k2})"  # text keeps the order given
    assert srt.scripts[0] == bytes([0x51, 33]) + bytes.fromhex(k2) + bytes([33]) + bytes.fromhex(K) + b"\x52\xae"
    wsh = parse_descriptor(f"wsh(multi(2,{K},{k2}))", REGTEST_PREFIXES).scripts[0]
    assert wsh[:2] == b"\x00\x20" and len(wsh) == 34
    assert parse_descriptor(f"sh(wsh(multi(1,{K})))", REGTEST_PREFIXES).scripts[0][:2] == b"\xa9\x14"
    # multi_a inside tr: <k1> CHECKSIG <k2> CHECKSIGADD <1> NUMEQUAL as the only leaf
    d = parse_descriptor(f"tr({X},multi_a(1,{X},{k2[2:]}))", REGTEST_PREFIXES)
    assert d.text == f"tr({X},multi_a(1,{X},{k2[2:]}))" and d.scripts[0][:2] == b"\x51\x20"


def test_checksum_rules():
    assert split_checksum("raw(51)", False)[0] == "raw(51)"
    good = parse_descriptor("raw(51)", REGTEST_PREFIXES).with_checksum
    assert parse_descriptor(good, REGTEST_PREFIXES, require_checksum=True).text == "raw(51)"
    for text, message in [
        ("raw(51)", "Missing checksum"),
        ("raw(51)#abc", "Expected 8 character checksum, not 3 characters"),
        ("raw(51)#a#b", "Multiple '#' symbols"),
        ("raw(51)#aaaaaaaa", f"Provided checksum 'aaaaaaaa' does not match computed checksum "
                             f"'{good.split('#')[1]}'"),
        ("raw(Ü)#00000000", "Invalid characters in payload"),
    ]:
        with pytest.raises(DescriptorError) as e:
            parse_descriptor(text, REGTEST_PREFIXES, require_checksum=True)
        assert str(e.value) == message


ERRORS = [  # Core's strings (descriptor_tests.cpp and descriptor.cpp's ParseScript)
    (f"wpkh({U})", "wpkh(): Uncompressed keys are not allowed"),
    (f"wsh(pk({U}))", "pk(): Uncompressed keys are not allowed"),
    (f"sh(wpkh({U}))", "wpkh(): Uncompressed keys are not allowed"),
    (f"sh(wpkh({K[:-2]}))", f"wpkh(): Pubkey '{K[:-2]}' is invalid"),
    (f"pkh(deadbeef/1/2'/3/4']{K})",
     "pkh(): Key origin start '[ character expected but not found, got 'd' instead"),
    (f"pkh([deadbeef]/1/2'/3/4']{K})", "pkh(): Multiple ']' characters found for a single pubkey"),
    (f"combo([012345678]{K})", "combo(): Fingerprint is not 4 bytes (9 characters instead of 8 characters)"),
    (f"pkh([01234567/1aa]{K})", "pkh(): Key path value '1aa' is not a valid uint32"),
    (f"pkh([01234567/2147483648]{K})", "pkh(): Key path value 2147483648 is out of range"),
    ("pk(0623542d61708e3fc48ba78fbe8fcc983ba94a520bc33f82b8e45e51dbc47af2726bcf181925eee1bdd868b109"
     "314f3ea92a6fc23d6b66057d3acfba04d6b08b58)", "pk(): Hybrid public keys are not allowed"),
    ("addr(asdf)", "Address is not valid"),
    ("raw(asdf)", "Raw script is not hex"),
    ("pk()", "pk(): No key provided"),
    (f"pk( {K})", f"pk(): Key ' {K}' is invalid due to whitespace"),
    (f"pk({K}/0)", f"pk(): key '{K}' is not valid"),
    (f"pk({X})", f"pk(): Pubkey '{X}' is invalid"),  # x-only only inside tr
    ("foo(1)", "'foo(1)' is not a valid descriptor function"),
    ("sh(raw(51))", "Can only have raw() at top level"),
    ("sh(addr(bcrt1qxyz))", "Can only have addr() at top level"),
    (f"wsh(wpkh({K}))", "Can only have wpkh() at top level or inside sh()"),
    (f"sh(sh(pk({K})))", "Can only have sh() at top level"),
    (f"wsh(wsh(pk({K})))", "Can only have wsh() at top level or inside sh()"),
    (f"sh(combo({K}))", "Can only have combo() at top level"),
    (f"sh(tr({X}))", "Can only have tr at top level"),
    (f"multi_a(1,{X})", "Can only have multi_a/sortedmulti_a inside tr()"),
    (f"tr({X},multi(1,{K}))", "Can only have multi/sortedmulti at top level, in sh(), or in wsh()"),
    ("sh(51)", "A function is needed within P2SH"),
    ("wsh(51)", "A function is needed within P2WSH"),
    (f"multi(x,{K})", "Multi threshold 'x' is not valid"),
    (f"multi(0,{K})", "Multisig threshold cannot be 0, must be at least 1"),
    (f"multi(2,{K})", "Multisig threshold cannot be larger than the number of keys; threshold is 2 "
                      "but only 1 keys specified"),
    ("multi(1,{})".format(",".join([K] * 4)), "Cannot have 4 pubkeys in bare multisig; only at most 3 pubkeys"),
    ("wsh(multi(1,{}))".format(",".join([K] * 21)),
     "Cannot have 21 keys in multisig; must have between 1 and 20 keys, inclusive"),
    ("sh(multi(1,{}))".format(",".join([K] * 16)),
     "P2SH script is too large, 547 bytes is larger than 520 bytes"),
    (f"multi(1,{K}", f"'multi(1,{K}' is not a valid descriptor function"),
    ("raw(51))", ""),  # Core parses raw(51) and then fails with no message on the ')'
    (f"rawtr({X},{X})", "rawtr(): only one key expected."),
    (f"tr({X},{{pk({X})}})", "tr(): expected ',' after script expression"),
]


@pytest.mark.parametrize("text,message", ERRORS)
def test_core_errors(text, message):
    with pytest.raises(DescriptorError) as e:
        parse_descriptor(text, REGTEST_PREFIXES)
    assert str(e.value) == message


def test_unsupported_forms_are_refused_clearly():
    xpub = ("xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BD"
            "zTJY47LJhkJ8UB7WEGuduB")
    for text in (f"wpkh({xpub}/0/*)", f"pkh({xpub})"):
        with pytest.raises(DescriptorError, match="extended key"):
            parse_descriptor(text, REGTEST_PREFIXES)
    with pytest.raises(DescriptorError, match="Miniscript expression .* is not supported"):
        parse_descriptor(f"wsh(and_v(v:pk({K}),older(1)))", REGTEST_PREFIXES)
    with pytest.raises(DescriptorError, match="musig"):
        parse_descriptor(f"tr(musig({K},{U}))", REGTEST_PREFIXES)
    # a mainnet WIF is not a key on regtest (Core decodes secrets with the chain's prefix)
    with pytest.raises(DescriptorError, match=f"key '{WIF}' is not valid"):
        parse_descriptor(f"pk({WIF})", REGTEST_PREFIXES)


def test_bounds():
    with pytest.raises(DescriptorError, match="too long"):
        parse_descriptor("raw(" + "51" * MAX_DESCRIPTOR_LENGTH + ")", REGTEST_PREFIXES)
    deep = "tr({},".format(X) + "{" * 129 + f"pk({X})" + "}" * 129 + ")"
    with pytest.raises(DescriptorError, match="at most 128 nesting levels"):
        parse_descriptor(deep, REGTEST_PREFIXES)
    many = "wsh(multi(1,{}))".format(",".join([K] * 200))  # counted, not parsed, past 20
    with pytest.raises(DescriptorError, match="Cannot have 200 keys"):
        parse_descriptor(many, REGTEST_PREFIXES)


_ALPHABET = "()[]{},'/#*hpkwsmultirawdr0123456789abcdef:_ "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=80) | st.text(max_size=40))
def test_hostile_text_gives_descriptor_error_only(text):
    try:
        parse_descriptor(text, REGTEST_PREFIXES)
    except DescriptorError:
        pass
