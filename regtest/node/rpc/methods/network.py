"""Network calls for a node without P2P yet: getnetworkinfo and getconnectioncount answer as
bitcoind does with networking off (no connections, every network unreachable), so tools that
read the version or the relay fee from getnetworkinfo work."""

from __future__ import annotations

from regtest.node.rpc.jsonfmt import amount
from regtest.node.rpc.methods.mempool_rpc import require_mempool
from regtest.node.rpc.registry import rpc_method
from regtest.node.version import package_version

PROTOCOL_VERSION = 70016
NETWORKS = ("ipv4", "ipv6", "onion", "i2p", "cjdns")


def client_version() -> int:
    """Core's numeric CLIENT_VERSION: 10000 * major + 100 * minor + patch (0 if unknown)."""
    try:
        major, minor, patch = (int(x) for x in package_version().split(".")[:3])
    except ValueError:
        return 0
    return 10000 * major + 100 * minor + patch


@rpc_method(
    "getnetworkinfo", "Network", "Returns an object containing various state info regarding P2P "
    "networking. This node has no P2P connections yet: networkactive is false, every network is "
    "unreachable.",
    result='{"version": n, "subversion": "str", "protocolversion": n, "localservices": "hex", '
           '"localservicesnames": [], "localrelay": bool, "timeoffset": n, "networkactive": bool, '
           '"connections": n, "connections_in": n, "connections_out": n, "networks": [...], '
           '"relayfee": n, "incrementalfee": n, "localaddresses": [], "warnings": ["str"]}',
    examples=("",),
)
def getnetworkinfo(ctx, p):
    settings = require_mempool(ctx).settings
    return {
        "version": client_version(),
        "subversion": f"/potc:{package_version()}/",
        "protocolversion": PROTOCOL_VERSION,
        "localservices": "0000000000000000",
        "localservicesnames": [],
        "localrelay": True,
        "timeoffset": 0,
        "networkactive": False,
        "connections": 0,
        "connections_in": 0,
        "connections_out": 0,
        "networks": [{"name": n, "limited": True, "reachable": False, "proxy": "",
                      "proxy_randomize_credentials": False} for n in NETWORKS],
        "relayfee": amount(settings.min_relay_fee),
        "incrementalfee": amount(settings.incremental_relay_fee),
        "localaddresses": [],
        "warnings": [],
    }


@rpc_method("getconnectioncount", "Network", "Returns the number of connections to other nodes.",
            result="n    (numeric) The connection count", examples=("",))
def getconnectioncount(ctx, p):
    return 0
