"""getnetworkinfo and getconnectioncount on a node without P2P: bitcoind's shape with networking
off, the version and relay fees right."""

from __future__ import annotations

from decimal import Decimal

from regtest.node.version import package_version

KEYS = ["version", "subversion", "protocolversion", "localservices", "localservicesnames", "localrelay",
        "timeoffset", "networkactive", "connections", "connections_in", "connections_out", "networks",
        "relayfee", "incrementalfee", "localaddresses", "warnings"]


def test_getnetworkinfo_through_python_bitcoinlib(node):
    info = node.proxy().call("getnetworkinfo")
    assert list(info) == KEYS
    major, minor, patch = (int(x) for x in package_version().split("."))
    assert info["version"] == 10000 * major + 100 * minor + patch
    assert info["subversion"] == f"/potc:{package_version()}/"
    assert (info["connections"], info["connections_in"], info["connections_out"]) == (0, 0, 0)
    assert info["networkactive"] is False
    assert [n["name"] for n in info["networks"]] == ["ipv4", "ipv6", "onion", "i2p", "cjdns"]
    assert not any(n["reachable"] for n in info["networks"])
    pool = node.rpc("getmempoolinfo")
    assert Decimal(str(info["relayfee"])) == pool["minrelaytxfee"]
    assert Decimal(str(info["incrementalfee"])) == pool["incrementalrelayfee"]
    assert node.rpc("getconnectioncount") == 0
