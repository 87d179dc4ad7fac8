"""Certificate blocks through every check in order, on this project's regtest."""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block
from regtest.consensus.blockbuild import certify, make_block
from regtest.consensus.certificate import Certificate, xonly_pubkey
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import CoordinatorKey, regtest_params
from tests.consensus.minichain import MiniChain

KEY_A = bytes([0xA1]) * 32
KEY_B = bytes([0xB2]) * 32
PAYOUT = b"\x51"
PARAMS = regtest_params([CoordinatorKey(0, 10, xonly_pubkey(KEY_A)), CoordinatorKey(11, None, xonly_pubkey(KEY_B))])


def cert_for(chain: MiniChain, time: int, height: int | None = None) -> Certificate:
    tip = chain.tip
    return Certificate(
        network=PARAMS.magic, parent_hash=tip.hash, height=tip.height + 1 if height is None else height,
        payout_script=PAYOUT, cycle_id=tip.height, model_hash=bytes(32), contributions_root=bytes(32),
        lottery_seed=bytes(32), issue_time=time - 100, expiry=time + 100, block_commitment=bytes(32),
    )


def next_block(chain: MiniChain, key: bytes | None = None, *, fees: int = 0, cert_height: int | None = None,
               **kw) -> Block:
    tip = chain.tip
    height = tip.height + 1
    time = tip.time + 600
    block = make_block(PARAMS, tip.hash, height, time, PAYOUT, fees=fees, **kw)
    if key is None:
        key = KEY_A if height <= 10 else KEY_B
    return certify(block, cert_for(chain, time, cert_height), key)


def reason(chain: MiniChain, block: Block) -> str:
    with pytest.raises(BlockValidationError) as e:
        chain.validate(block)
    return e.value.reason


def test_chain_with_key_rotation():
    chain = MiniChain(PARAMS)
    for _ in range(15):
        chain.add(next_block(chain))
    assert chain.height == 15
    # after the rotation at 11 the first key is retired
    assert reason(chain, next_block(chain, KEY_A)) == "bad-cert-key"


def test_header_hash_is_not_compared_to_a_target():
    chain = MiniChain(PARAMS)
    block = next_block(chain)
    for nonce in range(64):
        high = block.with_header(nonce=nonce)
        if int.from_bytes(high.hash, "little") > (0x7FFFFF << 232):
            break
    chain.add(high)


def test_fixed_bits():
    chain = MiniChain(PARAMS)
    assert reason(chain, next_block(chain, bits=0x207FFFFE)) == "bad-diffbits"


def test_missing_certificate():
    chain = MiniChain(PARAMS)
    tip = chain.tip
    block = make_block(PARAMS, tip.hash, 1, tip.time + 600, PAYOUT, certificate_slot=False)
    assert reason(chain, block) == "bad-cert-missing"


def test_certificate_for_another_height():
    chain = MiniChain(PARAMS)
    assert reason(chain, next_block(chain, cert_height=2)) == "bad-cert-height"


def test_core_reasons_come_before_the_certificate():
    chain = MiniChain(PARAMS)
    # a coordinator that signs an overpaying block does not make it valid
    assert reason(chain, next_block(chain, fees=1)) == "bad-cb-amount"
    assert reason(chain, next_block(chain, version=3)) == "bad-version(0x00000003)"


def test_bitcoin_regtest_rejects_certificate_blocks_without_work():
    from regtest.consensus.params import BITCOIN_REGTEST

    chain = MiniChain(BITCOIN_REGTEST)
    block = next_block(MiniChain(PARAMS))
    for nonce in range(64):
        high = block.with_header(nonce=nonce)
        if int.from_bytes(high.hash, "little") > (0x7FFFFF << 232):
            break
    assert reason(chain, high) == "high-hash"
