"""Real Bitcoin mainnet blocks 0-100 pass every rule on `main`, and break when altered."""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block, BlockHeader, block_proof
from regtest.consensus.block_validation import check_block, contextual_check_block
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import MAIN, block_subsidy
from tests.consensus.minichain import MiniChain


@pytest.fixture(scope="module")
def blocks(vectors_dir) -> list[Block]:
    lines = (vectors_dir / "mainnet" / "blocks_0_100.hex").read_text().split()
    return [Block.from_hex(line) for line in lines]


def test_roundtrip_and_genesis(blocks):
    assert len(blocks) == 101
    assert blocks[0].hash == MAIN.genesis_hash
    assert blocks[0].serialize() == MAIN.genesis.serialize()
    for b in blocks:
        assert Block.parse(b.serialize()) == b
        assert BlockHeader.parse(b.header.serialize()) == b.header


def test_chain_validates(blocks):
    chain = MiniChain(MAIN)
    total_work = block_proof(blocks[0].header.bits)
    for height, block in enumerate(blocks[1:], start=1):
        assert block.header.prev_hash == chain.tip.hash
        result = chain.add(block)
        assert result.fees == 0 and not result.spent
        assert sum(c.value for _, c in result.created) == block_subsidy(height, MAIN)
        total_work += block_proof(block.header.bits)
    assert chain.height == 100
    assert total_work == 101 * 0x100010001
    assert len(chain.utxo) == 100  # genesis output is not spendable


def test_altered_blocks_fail(blocks):
    b = blocks[1]
    with pytest.raises(BlockValidationError) as e:
        check_block(b.with_header(nonce=b.header.nonce + 1), MAIN)
    assert e.value.reason == "high-hash"
    cb = b.txs[0]
    with pytest.raises(BlockValidationError) as e:
        check_block(Block(b.header, (cb, cb)), MAIN)
    assert e.value.reason == "bad-txnmrklroot"
    # mainnet enforces BIP34 only from 227931, so these coinbases have no height
    contextual_check_block(b, 1, blocks[0].header.time, MAIN)
