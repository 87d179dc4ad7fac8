"""MuHash3072 and its ChaCha20: the RFC 8439 block vector and Core's MuHash unit-test result."""

from __future__ import annotations

from regtest.node.muhash import MuHash3072, chacha20_block


def test_chacha20_rfc8439_block():
    block = chacha20_block(bytes(range(32)), 1, bytes.fromhex("000000090000004a00000000"))
    assert block[:16].hex() == "10f1e7e4d13b5915500fdd1fa32071c4"


def test_muhash_matches_core():
    acc = MuHash3072()
    acc.insert(b"\x00" * 32)
    acc.insert(b"\x01" + b"\x00" * 31)
    acc.remove(b"\x02" + b"\x00" * 31)
    assert acc.digest()[::-1].hex() == "10d312b100cbd32ada024a6646e40d3482fcff103668d2625f10002a607d5863"


def test_order_does_not_matter_and_removal_cancels():
    a, b = MuHash3072(), MuHash3072()
    for x in (b"a", b"b", b"c"):
        a.insert(x)
    for x in (b"c", b"a", b"d", b"b"):
        b.insert(x)
    b.remove(b"d")
    assert a.digest() == b.digest()
