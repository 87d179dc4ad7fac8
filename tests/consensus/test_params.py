"""Network parameters: genesis hashes, subsidy, script flags per height, retargeting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from regtest.consensus.params import (
    BITCOIN_REGTEST,
    MAIN,
    REGTEST,
    CoordinatorKey,
    block_subsidy,
    calculate_next_work_required,
    get_block_script_flags,
    get_params,
    next_work_required,
    regtest_params,
)
from regtest.consensus.hashes import hex_to_hash
from regtest.consensus.script_flags import ScriptFlags as F
from regtest.consensus.transaction import COIN


def test_genesis_hashes():
    assert MAIN.genesis.hash_hex == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    assert BITCOIN_REGTEST.genesis.hash_hex == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    assert REGTEST.genesis == BITCOIN_REGTEST.genesis


def test_regtest_differs_from_core_regtest_only_in_magic_and_proof():
    import dataclasses

    differing = {
        f.name
        for f in dataclasses.fields(REGTEST)
        if getattr(REGTEST, f.name) != getattr(BITCOIN_REGTEST, f.name)
    }
    assert differing == {"name", "magic", "proof_rule"}
    assert BITCOIN_REGTEST.magic == bytes.fromhex("fabfb5da") != REGTEST.magic


def test_regtest_key_configuration():
    key = bytes(range(32))
    p = regtest_params(key)
    assert p.coordinator_keys_at(0) == [key] and p.coordinator_keys_at(10**6) == [key]
    assert get_params("regtest", key.hex()) == p
    sched = regtest_params([CoordinatorKey(0, 9, key), CoordinatorKey(10, None, bytes(32))])
    assert sched.coordinator_keys_at(9) == [key] and sched.coordinator_keys_at(10) == [bytes(32)]
    with pytest.raises(ValueError):
        regtest_params(b"short")
    with pytest.raises(ValueError):
        get_params("testnet")


def test_subsidy():
    assert block_subsidy(0, MAIN) == 50 * COIN
    assert block_subsidy(209_999, MAIN) == 50 * COIN
    assert block_subsidy(210_000, MAIN) == 25 * COIN
    assert block_subsidy(150, BITCOIN_REGTEST) == 25 * COIN
    assert block_subsidy(150 * 64, BITCOIN_REGTEST) == 0
    assert block_subsidy(150 * 33, BITCOIN_REGTEST) == 0  # 50 BTC >> 33 rounds to zero


def test_script_flags_mainnet():
    base = F.P2SH | F.WITNESS | F.TAPROOT
    assert get_block_script_flags(MAIN, 1, bytes(32)) == base
    assert get_block_script_flags(MAIN, 363_725, bytes(32)) == base | F.DERSIG
    assert get_block_script_flags(MAIN, 388_381, bytes(32)) == base | F.DERSIG | F.CHECKLOCKTIMEVERIFY
    everything = base | F.DERSIG | F.CHECKLOCKTIMEVERIFY | F.CHECKSEQUENCEVERIFY | F.NULLDUMMY
    assert get_block_script_flags(MAIN, 481_824, bytes(32)) == everything
    bip16 = hex_to_hash("00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22")
    assert get_block_script_flags(MAIN, 170_060, bip16) == F.NONE
    taproot_exc = hex_to_hash("0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad")
    assert get_block_script_flags(MAIN, 692_261, taproot_exc) == everything & ~F.TAPROOT


def test_script_flags_regtest():
    everything = F.P2SH | F.WITNESS | F.TAPROOT | F.DERSIG | F.CHECKLOCKTIMEVERIFY | F.CHECKSEQUENCEVERIFY | F.NULLDUMMY
    assert get_block_script_flags(REGTEST, 0, bytes(32)) == F.P2SH | F.WITNESS | F.TAPROOT | F.NULLDUMMY
    assert get_block_script_flags(REGTEST, 1, bytes(32)) == everything


@dataclass
class E:
    height: int
    bits: int
    time: int


def test_mainnet_retarget():
    # The first retarget (block 32256): period 0..32255 took longer than two weeks.
    first_time, last_time = 1261130161, 1262152739  # blocks 30240 and 32255
    assert calculate_next_work_required(MAIN, 0x1D00FFFF, last_time, first_time) == 0x1D00D86A
    prev = E(32255, 0x1D00FFFF, last_time)
    assert next_work_required(MAIN, prev, last_time + 600, lambda h: E(h, 0x1D00FFFF, first_time)) == 0x1D00D86A
    assert next_work_required(MAIN, E(100, 0x1D00FFFF, 0), 10**9, None) == 0x1D00FFFF
    # clamped to a factor 4 and to the pow limit
    assert calculate_next_work_required(MAIN, 0x1D00FFFF, 10**9, 0) == 0x1D00FFFF
    assert calculate_next_work_required(MAIN, 0x1C00FFFF, 1, 0) == 0x1B3FFFC0


def test_regtest_never_retargets():
    entries = {h: E(h, 0x207FFFFF, 1000 + h) for h in range(3000)}
    for prev_h in (0, 2014, 2015, 2999):
        for gap in (1, 5000):
            prev = entries[prev_h]
            assert next_work_required(REGTEST, prev, prev.time + gap, entries.__getitem__) == 0x207FFFFF
