"""Block encoding, merkle trees (with CVE-2012-2459 mutation), compact bits, BIP34 heights."""

from __future__ import annotations

import pytest

from regtest.consensus.block import (
    Block,
    BlockHeader,
    bip34_height_script,
    block_proof,
    check_proof_of_work,
    compact_to_target,
    compute_merkle_root,
    decode_bip34_height,
    target_to_compact,
    witness_commitment_index,
    witness_commitment_output,
)
from regtest.consensus.hashes import sha256d
from regtest.consensus.params import BITCOIN_REGTEST, MAIN
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import TxOut

REGTEST_GENESIS_HEX = (
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
    "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f2002000000010100000001000000"
    "0000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d010445546865"
    "2054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365"
    "636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe55"
    "48271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c38"
    "4df7ba0b8d578a4c702b6bf11d5fac00000000"
)


def test_regtest_genesis_bytes():
    block = Block.from_hex(REGTEST_GENESIS_HEX)
    assert block == BITCOIN_REGTEST.genesis
    assert block.size == 285
    assert block.hash_hex == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    assert block.header.merkle_root[::-1].hex() == "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    assert block.weight == 285 * 4


def test_parse_rejects_hostile_input():
    raw = bytes.fromhex(REGTEST_GENESIS_HEX)
    for bad in (raw[:-1], raw + b"\x00", raw[:80] + b"\xfe\xff\xff\xff\x00", raw[:79]):
        with pytest.raises(DeserializationError):
            Block.parse(bad)
    with pytest.raises(DeserializationError):
        Block.parse(raw, max_size=284)
    with pytest.raises(DeserializationError):
        BlockHeader.parse(raw[:81])


def test_merkle_root_and_mutation():
    a, b, c = (sha256d(bytes([i])) for i in range(3))
    assert compute_merkle_root([a]) == (a, False)
    assert compute_merkle_root([]) == (bytes(32), False)
    ab = sha256d(a + b)
    cc = sha256d(c + c)
    root3, mut3 = compute_merkle_root([a, b, c])
    assert root3 == sha256d(ab + cc) and not mut3
    # CVE-2012-2459: [a, b, c, c] has the same root as [a, b, c] but is flagged
    root4, mut4 = compute_merkle_root([a, b, c, c])
    assert root4 == root3 and mut4
    assert compute_merkle_root([a, a])[1]


@pytest.mark.parametrize(
    "bits,target",
    [
        (0x1D00FFFF, 0xFFFF << 208),
        (0x207FFFFF, 0x7FFFFF << 232),
        (0x03123456, 0x123456),
        (0x01120000, 0x12),
        (0x04123456, 0x12345600),
    ],
)
def test_compact_roundtrip(bits, target):
    assert compact_to_target(bits) == (target, False, False)
    assert target_to_compact(target) == bits


def test_compact_negative_and_overflow():
    assert compact_to_target(0x01123456) == (0x12, False, False)  # low bytes dropped
    assert compact_to_target(0x04923456)[1] is True
    assert compact_to_target(0xFF123456)[2] is True
    assert target_to_compact(0x80) == 0x02008000
    assert block_proof(0x04923456) == 0 and block_proof(0) == 0
    assert block_proof(0x207FFFFF) == 2
    assert not check_proof_of_work(bytes(32), 0x04923456, MAIN.pow_limit)
    assert not check_proof_of_work(bytes(32), 0x1D01FFFF, MAIN.pow_limit)  # above the limit
    assert check_proof_of_work(bytes(32), 0x1D00FFFF, MAIN.pow_limit)


@pytest.mark.parametrize("height,script", [(0, "00"), (1, "51"), (16, "60"), (17, "0111"), (128, "028000"),
                                           (255, "02ff00"), (256, "020001"), (65536, "03000001")])
def test_bip34_height(height, script):
    assert bip34_height_script(height).hex() == script
    assert decode_bip34_height(bytes.fromhex(script) + b"\x00") == height


def test_bip34_decode_rejects_non_minimal():
    assert decode_bip34_height(bytes.fromhex("020100")) is None  # 1 pushed in two bytes
    assert decode_bip34_height(b"") is None
    assert decode_bip34_height(bytes.fromhex("4c0111")) is None


def test_witness_commitment_index_takes_last():
    genesis = BITCOIN_REGTEST.genesis
    cb = genesis.txs[0]
    c1, c2 = witness_commitment_output(bytes(32)), witness_commitment_output(bytes([1]) * 32)
    from regtest.consensus.transaction import Transaction

    tx = Transaction(cb.version, cb.vin, cb.vout + (c1, TxOut(0, b"\x6a"), c2), cb.locktime)
    assert witness_commitment_index(genesis.with_txs((tx,))) == 3
    assert witness_commitment_index(genesis) == -1


def test_replace_does_not_reuse_cached_hashes():
    import dataclasses

    block = BITCOIN_REGTEST.genesis
    cb = block.txs[0]
    old_txid, old_hash = cb.txid, block.hash
    assert dataclasses.replace(cb, locktime=1).txid != old_txid
    assert dataclasses.replace(block, header=block.header.replace(nonce=3)).hash != old_hash
