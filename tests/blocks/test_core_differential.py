"""Issue 5, item 1: every block scenario goes to Bitcoin Core's engine (libbitcoinkernel via
pbk, regtest) and to our chainstate on `bitcoin-regtest`; both must give the same verdict for
every block (the same reject reason, or acceptance), the same tip after every block, and both
must match the outcome the scenario expects.

Script failures compare in full: "block-script-verify-flag-failed (<script error>)", as Core v30+.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pbk")

from regtest.consensus.block import Block  # noqa: E402
from regtest.consensus.params import BITCOIN_REGTEST  # noqa: E402
from regtest.testing.blockscenarios import SCENARIOS, all_scenarios, build_scenario  # noqa: E402
from regtest.testing.core_chain import CoreChain  # noqa: E402
from regtest.testing.scenario_runner import OurChain  # noqa: E402

NETWORK = "bitcoin-regtest"


@pytest.fixture(scope="module")
def scenarios():
    return {sc.name: sc for sc in all_scenarios(NETWORK)}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_core_and_ours_agree_block_by_block(name, scenarios, tmp_path):
    sc = scenarios[name]
    core = CoreChain(str(tmp_path / "core"))
    ours = OurChain(str(tmp_path / "ours"), BITCOIN_REGTEST)
    try:
        problems = []
        for step in sc.steps:
            raw = step.block.serialize()
            got_core = core.submit(raw)
            got_ours = ours.submit(raw)
            if got_core != got_ours:
                problems.append(f"{step.name}: core {got_core.describe()} != ours {got_ours.describe()}")
            if got_core.reason != step.reason or got_core.tip != step.tip:
                problems.append(f"{step.name}: core {got_core.describe()}, scenario expects "
                                f"{step.reason or 'accepted'} tip {step.tip_name}")
        assert not problems, "\n".join(problems)
        assert core.tip == ours.tip == sc.final_tip
        assert core.height == ours.chainstate.height
    finally:
        ours.close()
        core.close()


def test_scenarios_cover_the_consensus_rules(scenarios):
    kinds: dict[str, str] = {}
    for sc in scenarios.values():
        kinds.update(sc.invalid_kinds())
    assert len(kinds) >= 40
    reasons = {r.split(" (")[0] for r in kinds.values()}
    for must in (
        "bad-txnmrklroot", "bad-txns-duplicate", "bad-cb-missing", "bad-cb-multiple", "bad-cb-length",
        "bad-cb-height", "bad-cb-amount", "bad-blk-sigops", "bad-blk-weight", "bad-blk-length",
        "bad-txns-inputs-missingorspent", "bad-txns-premature-spend-of-coinbase", "bad-txns-in-belowout",
        "bad-txns-vout-negative", "bad-txns-vout-toolarge", "bad-txns-txouttotal-toolarge",
        "bad-txns-inputs-duplicate", "bad-txns-prevout-null", "bad-txns-vin-empty", "bad-txns-vout-empty",
        "bad-txns-nonfinal", "time-too-old", "time-too-new", "bad-diffbits", "bad-version(0x00000001)",
        "bad-witness-nonce-size", "bad-witness-merkle-match", "unexpected-witness", "high-hash",
        "prev-blk-not-found", "bad-prevblk", "bad-txns-BIP30",
        "block-script-verify-flag-failed",
    ):
        assert must in reasons, must


def _reorg_depths(sc) -> list[int]:
    """Blocks disconnected at each tip change of the expected tip sequence."""
    parent = {}
    height = {}
    for st in sc.steps:
        parent[st.block.hash] = st.block.header.prev_hash
        height[st.block.hash] = st.height
    depths = []
    prev = None
    for st in sc.steps:
        if prev is not None and st.tip != prev:
            a, b = prev, st.tip
            ancestors = set()
            x = b
            while x in parent:
                ancestors.add(x)
                x = parent[x]
            x, d = a, 0
            while x in parent and x not in ancestors:
                x, d = parent[x], d + 1
            depths.append(d)
        prev = st.tip
    return depths


def test_scenarios_include_deep_reorg_and_long_chains(scenarios):
    assert max(_reorg_depths(scenarios["forks_and_reorgs"])) > 10
    assert max(st.height for st in scenarios["long_chain_halving"].steps) >= 300


def test_scenario_export_round_trips():
    sc = build_scenario("forks_and_reorgs", NETWORK)
    data = json.loads(json.dumps(sc.to_json()))
    assert data["network"] == NETWORK and len(data["steps"]) == len(sc.steps)
    for rec, st in zip(data["steps"], sc.steps):
        assert Block.from_hex(rec["block"]).hash_hex == rec["hash"] == st.block.hash_hex
        assert rec["expect_reason"] == st.reason


def test_scenarios_are_deterministic():
    a = build_scenario("forks_and_reorgs", NETWORK)
    b = build_scenario("forks_and_reorgs", NETWORK)
    assert [s.block.hash for s in a.steps] == [s.block.hash for s in b.steps]


@pytest.mark.parametrize("seed", range(8))
def test_random_block_trees_agree_with_core(seed, tmp_path):
    """Random forks, invalid blocks, out-of-order and repeated submissions: no expectations,
    only the two engines compared after every submission."""
    from regtest.testing.blockscenarios import random_block_tree

    seq = random_block_tree(NETWORK, seed, 100)
    core = CoreChain(str(tmp_path / "core"))
    ours = OurChain(str(tmp_path / "ours"), BITCOIN_REGTEST)
    try:
        tips = set()
        for name, blk in seq:
            raw = blk.serialize()
            got_core, got_ours = core.submit(raw), ours.submit(raw)
            assert got_core == got_ours, f"seed {seed}, {name}: core {got_core.describe()}, ours {got_ours.describe()}"
            tips.add(got_core.tip)
        assert len(tips) > 20 and core.height == ours.chainstate.height
    finally:
        ours.close()
        core.close()


@pytest.mark.parametrize("name", ["invalid_blocks", "forks_and_reorgs"])
def test_same_coins_spent_along_the_final_chain(name, scenarios, tmp_path):
    """After the whole scenario (reorgs included), every block of the active chain spent the
    same coins (value, script, height, coinbase flag) in both engines: the undo data agree, so
    the UTXO set evolved identically. Coins created and spent within one block are left out
    (our undo data does not record them)."""
    sc = scenarios[name]
    core = CoreChain(str(tmp_path / "core"))
    ours = OurChain(str(tmp_path / "ours"), BITCOIN_REGTEST)
    try:
        for step in sc.steps:
            raw = step.block.serialize()
            core.submit(raw)
            ours.submit(raw)
        hashes = core.active_chain_hashes()
        assert hashes[-1] == ours.tip
        spent_total = 0
        for height, h in enumerate(hashes[1:], start=1):
            assert ours.chainstate.block_hash_at(height) == h
            want = [c for c in core.spent_coins(height) if c[2] != height]
            got = [(c.value, c.script_pubkey, c.height, c.is_coinbase) for _, c in ours.chainstate.get_undo(h)]
            assert got == want, f"height {height}"
            spent_total += len(got)
        assert spent_total > 0
    finally:
        ours.close()
        core.close()
