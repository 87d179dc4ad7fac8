"""getindexinfo, as bitcoind answers it: one entry per running index, filtered by name."""

from __future__ import annotations

from tests.node.framework import TestNode

ADDRESS = "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c"


def test_getindexinfo_follows_the_txindex(tmp_path):
    n = TestNode(tmp_path / "with", extra_args=["-txindex=1"]).start()
    try:
        proxy = n.proxy()
        assert proxy.call("getindexinfo") == {"txindex": {"synced": True, "best_block_height": 0}}
        hashes = n.rpc("generatetoaddress", 3, ADDRESS)
        assert proxy.call("getindexinfo", "txindex") == {"txindex": {"synced": True, "best_block_height": 3}}
        assert proxy.call("getindexinfo", "coinstatsindex") == {}
        n.rpc("invalidateblock", hashes[1])  # the index's last block leaves the active chain
        assert n.rpc("getindexinfo") == {"txindex": {"synced": True, "best_block_height": 1}}
    finally:
        n.stop()
    plain = TestNode(tmp_path / "without").start()
    try:
        assert plain.proxy().call("getindexinfo") == {}
        assert plain.rpc("getindexinfo", "txindex") == {}
    finally:
        plain.stop()
