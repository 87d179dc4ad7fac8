"""generatetodescriptor, generateblock with a descriptor, getdescriptorinfo and deriveaddresses
against a real potcd (and through potc-cli): every form mines to the right coinbase output and
every error comes back with Core's code and message."""

from __future__ import annotations

import json

import pytest

from regtest.consensus.address import REGTEST_PREFIXES, script_to_address
from regtest.node.rpc.descriptors import parse_descriptor
from tests.node.framework import RPCFailure, TestNode, run_cli

K = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"
K2 = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
X = K[2:]
U = ("04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c"
     "02559e3aa73aa03918ba2d492eea75abea235")
# regtest WIF of secret 1 (pubkey K2): version 0xef, compressed
WIF1 = "cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA"
P2WPKH_K = "00149a1c78a507689f6f54b847ad1cef1e614ee23f1e"
P2PKH_U = "76a914b5bd079c4d57cc7fc28ecf8213a6b791625b818388ac"
TR_K = "512077aab6e066f8a7419c5ab714c12c67d25007ed55a43cadcacb4d7a970a093f11"


def fails(node, method, *params) -> RPCFailure:
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *params)
    return e.value


def coinbase_payout(node, block_hash: str) -> str:
    """The scriptPubKey hex of the coinbase's first (payout) output."""
    cb = node.rpc("getblock", block_hash, 2)["tx"][0]
    return cb["vout"][0]["scriptPubKey"]["hex"]


MINING_FORMS = [
    ("raw(51)", "51"),
    (f"pk({K})", f"21{K}ac"),
    (f"pkh({K})", "76a9149a1c78a507689f6f54b847ad1cef1e614ee23f1e88ac"),
    (f"wpkh({K})", P2WPKH_K),
    (f"sh(wpkh({K}))", "a91484ab21b1b2fd065d4504ff693d832434b6108d7b87"),
    (f"wsh(pk({K}))", "00202e271faa2325c199d25d22e1ead982e45b64eeb4f31e73dbdf41bd4b5fec23fa"),
    (f"tr({X})", TR_K),
    (f"combo({K})", P2WPKH_K),  # Core mines a compressed combo() to its P2WPKH
    (f"combo({U})", P2PKH_U),  # and an uncompressed one to its P2PKH
    (f"multi(1,{K},{K2})", None),
    (f"sortedmulti(1,{K},{K2})", None),
    (f"sh(multi(1,{K},{K2}))", None),
    (f"wsh(sortedmulti(2,{K},{K2}))", None),
    (f"sh(wsh(multi(1,{K},{K2})))", None),
    (f"rawtr({X})", f"5120{X}"),
    (f"wpkh({WIF1})", None),
]


def _expected(desc: str, spk: str | None) -> str:
    if spk is not None:
        return spk
    return parse_descriptor(desc, REGTEST_PREFIXES).mining_script().hex()


@pytest.mark.parametrize("desc,spk", MINING_FORMS)
def test_generatetodescriptor_pays_the_descriptor(node, desc, spk):
    want = _expected(desc, spk)
    [h] = node.rpc("generatetodescriptor", 1, desc)
    assert coinbase_payout(node, h) == want
    with_sum = node.rpc("getdescriptorinfo", desc)["descriptor"]
    [h2] = node.rpc("generatetodescriptor", 1, with_sum)  # a correct checksum is accepted
    assert coinbase_payout(node, h2) == want


def test_generatetodescriptor_addr_and_count(node):
    addr = script_to_address(bytes.fromhex(P2WPKH_K), REGTEST_PREFIXES)
    before = node.rpc("getblockcount")
    hashes = node.rpc("generatetodescriptor", 3, f"addr({addr})", 5)
    assert len(hashes) == 3 and node.rpc("getblockcount") == before + 3
    assert all(coinbase_payout(node, h) == P2WPKH_K for h in hashes)
    assert node.rpc("generatetodescriptor", 0, "raw(51)") == []


def test_generatetodescriptor_errors(node):
    for desc, msg in [
        ("raw(51)#aaaaaaaa", "Provided checksum 'aaaaaaaa' does not match computed checksum '8lvh9jxk'"),
        ("raw(51)#abc", "Expected 8 character checksum, not 3 characters"),
        (f"wpkh({U})", "wpkh(): Uncompressed keys are not allowed"),
        ("addr(notanaddress)", "Address is not valid"),
        ("bcrt1qxyz", "'bcrt1qxyz' is not a valid descriptor function"),
        ("", "'' is not a valid descriptor function"),
    ]:
        e = fails(node, "generatetodescriptor", 1, desc)
        assert (e.code, e.message) == (-5, msg)
    e = fails(node, "generatetodescriptor", 1, 51)
    assert e.code == -3
    e = fails(node, "generatetodescriptor", 1001, "raw(51)")
    assert e.code == -8


def test_generatetodescriptor_is_hidden_and_has_help(node):
    assert "generatetodescriptor" not in node.rpc("help")
    text = node.rpc("help", "generatetodescriptor")
    assert text.startswith('generatetodescriptor num_blocks "descriptor" ( maxtries )')
    assert "getdescriptorinfo" in node.rpc("help") and "deriveaddresses" in node.rpc("help")


def test_generateblock_with_descriptor(node):
    r = node.rpc("generateblock", f"wpkh({K})", [])
    assert coinbase_payout(node, r["hash"]) == P2WPKH_K
    r = node.rpc("generateblock", f"tr({X})#" + node.rpc("getdescriptorinfo", f"tr({X})")["checksum"], [])
    assert coinbase_payout(node, r["hash"]) == TR_K
    addr = script_to_address(bytes.fromhex(TR_K), REGTEST_PREFIXES)
    r = node.rpc("generateblock", addr, [], False)  # a plain address still works
    assert set(r) == {"hash", "hex"}
    for bad in ("raw(51)#aaaaaaaa", "notanaddress", f"wpkh({U})", "pk()"):
        e = fails(node, "generateblock", bad, [])
        assert (e.code, e.message) == (-5, "Error: Invalid address or descriptor")


def test_getdescriptorinfo(node):
    info = node.rpc("getdescriptorinfo", f"wpkh({K})")
    assert info == {"descriptor": f"wpkh({K})#ah7klf29", "checksum": "ah7klf29", "isrange": False,
                    "issolvable": True, "hasprivatekeys": False}
    info = node.rpc("getdescriptorinfo", "raw(DEADBEEF)")
    # the canonical form is lower-case; the checksum is that of the text as given
    assert info["descriptor"] == "raw(deadbeef)#89f8spxm"
    assert info["checksum"] != "89f8spxm" and not info["issolvable"]
    info = node.rpc("getdescriptorinfo", f"pkh({WIF1})")
    assert info["descriptor"].startswith(f"pkh({K2})#") and info["hasprivatekeys"] is True
    assert node.rpc("getdescriptorinfo", "raw(deadbeef)#89f8spxm")["checksum"] == "89f8spxm"
    for desc, msg in [
        ("raw(deadbeef)#89f8spxx", "Provided checksum '89f8spxx' does not match computed checksum "
                                   "'89f8spxm'"),
        ("raw(Ü)", "Invalid characters in payload"),
        (f"sh(wpkh({K[:-2]}))", f"wpkh(): Pubkey '{K[:-2]}' is invalid"),
        ("multi(1,{})".format(",".join([K] * 4)),
         "Cannot have 4 pubkeys in bare multisig; only at most 3 pubkeys"),
    ]:
        e = fails(node, "getdescriptorinfo", desc)
        assert (e.code, e.message) == (-5, msg)


def _with_sum(node, desc: str) -> str:
    return node.rpc("getdescriptorinfo", desc)["descriptor"]


def test_deriveaddresses(node):
    want = script_to_address(bytes.fromhex(P2WPKH_K), REGTEST_PREFIXES)
    assert node.rpc("deriveaddresses", _with_sum(node, f"wpkh({K})")) == [want]
    assert node.rpc("deriveaddresses", _with_sum(node, f"tr({X})")) == [
        script_to_address(bytes.fromhex(TR_K), REGTEST_PREFIXES)]
    combo = node.rpc("deriveaddresses", _with_sum(node, f"combo({K})"))
    assert len(combo) == 3 and combo[1] == want  # pkh, wpkh, sh(wpkh); P2PK skipped
    assert node.rpc("deriveaddresses", _with_sum(node, f"addr({want})")) == [want]
    for desc, code, msg in [
        (f"wpkh({K})", -5, "Missing checksum"),
        (_with_sum(node, f"pk({K})"), -5, "Descriptor does not have a corresponding address"),
        (_with_sum(node, "raw(51)"), -5, "Descriptor does not have a corresponding address"),
        (_with_sum(node, f"multi(1,{K})"), -5, "Descriptor does not have a corresponding address"),
    ]:
        e = fails(node, "deriveaddresses", desc)
        assert (e.code, e.message) == (code, msg)
    e = fails(node, "deriveaddresses", _with_sum(node, f"wpkh({K})"), [0, 2])
    assert (e.code, e.message) == (-8, "Range should not be specified for an un-ranged descriptor")


def test_cli_calls(node):
    r = run_cli(node, "getdescriptorinfo", f"wpkh({K})")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checksum"] == "ah7klf29"
    r = run_cli(node, "generatetodescriptor", "1", f"wpkh({K})#ah7klf29")
    assert r.returncode == 0, r.stderr
    [h] = json.loads(r.stdout)
    assert coinbase_payout(node, h) == P2WPKH_K
    r = run_cli(node, "deriveaddresses", f"wpkh({K})#ah7klf29")
    assert r.returncode == 0 and json.loads(r.stdout) == [
        script_to_address(bytes.fromhex(P2WPKH_K), REGTEST_PREFIXES)]
    r = run_cli(node, "-named", "generateblock", f"output=wpkh({K})", "transactions=[]")
    assert r.returncode == 0, r.stderr
    r = run_cli(node, "generatetodescriptor", "1", "raw(51)#aaaaaaaa")
    assert r.returncode != 0 and "error code: -5" in r.stderr


def test_through_python_bitcoinlib(node):
    proxy = node.proxy()
    [h] = proxy._call("generatetodescriptor", 1, f"wpkh({K})")
    assert coinbase_payout(node, h) == P2WPKH_K
    assert proxy._call("getdescriptorinfo", "raw(deadbeef)#89f8spxm")["checksum"] == "89f8spxm"


def test_without_coordinator_key_as_generatetoaddress(tmp_path):
    bare = TestNode(tmp_path / "nokey")
    bare.args = lambda: [f"-datadir={bare.datadir}", f"-rpcport={bare.rpc_port}", "-printtoconsole=0"]
    bare.start()
    try:
        want = fails(bare, "generatetoaddress", 1, script_to_address(bytes.fromhex(P2WPKH_K),
                                                                      REGTEST_PREFIXES))
        assert want.code == -1 and "coordinator key" in want.message
        got = fails(bare, "generatetodescriptor", 1, f"wpkh({K})")
        assert (got.code, got.message) == (want.code, want.message)
        got = fails(bare, "generateblock", f"wpkh({K})", [])
        assert (got.code, got.message) == (want.code, want.message)
        # the descriptor is checked first, as the address is by generatetoaddress
        assert fails(bare, "generatetodescriptor", 1, "raw(51)#aaaaaaaa").code == -5
        assert bare.rpc("getdescriptorinfo", f"wpkh({K})")["checksum"] == "ah7klf29"
    finally:
        bare.stop()
