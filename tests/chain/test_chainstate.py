"""Chainstate behaviour: connect, disconnect, reorganisations, invalid branches, restarts."""

from __future__ import annotations

import pytest

from regtest.chain.blockassembly import generate_block, generate_blocks
from regtest.chain.blockindex import BlockStatus
from regtest.chain.chainstate import Chainstate
from regtest.chain.events import ChainListener
from regtest.chain.storage import StorageError
from regtest.consensus.params import BITCOIN_REGTEST, block_subsidy
from regtest.consensus.transaction import OutPoint

from tests.chain.helpers import OP_TRUE, Builder, coinbase_out, process_all, regtest, spend

MATURE = 101  # blocks needed before the first coinbase can be spent


@pytest.fixture(scope="module")
def params():
    return regtest()


@pytest.fixture(scope="module")
def world(params):
    """A shared block universe: a 101-block prefix, then branch A (15 blocks with spends)
    and branch B (20 blocks, forking at the prefix tip, spending the same coins differently)."""
    bld = Builder(params)
    prefix = bld.chain(params.genesis.hash, MATURE)
    a, b = [], []
    parent = prefix[-1].hash
    for i in range(15):
        cb_op = coinbase_out(prefix[i])
        tx1 = spend([cb_op], n_out=3, tag=1)
        tx2 = spend([(OutPoint(tx1.txid, 0), tx1.vout[0].value)], n_out=2, tag=2)  # in-block chain
        blk = bld.block(parent, (tx1, tx2), fees=2000)
        a.append(blk)
        parent = blk.hash
    parent = prefix[-1].hash
    for i in range(20):
        txs = ()
        if i < 15:
            txs = (spend([coinbase_out(prefix[i])], n_out=1, fee=5000, tag=3),)
        blk = bld.block(parent, txs, fees=5000 if txs else 0, dt=2)
        b.append(blk)
        parent = blk.hash
    return bld, prefix, a, b


def replay_hash(tmp_path, params, blocks) -> tuple[bytes, bytes]:
    """Tip hash and UTXO hash of a clean chainstate fed exactly `blocks`."""
    with Chainstate.open(str(tmp_path / "replay"), params) as cs:
        process_all(cs, blocks)
        return cs.tip.hash, cs.utxo_set_hash()


def test_fresh_datadir_starts_at_genesis(tmp_path, params):
    with Chainstate.open(str(tmp_path), params) as cs:
        assert cs.height == 0
        assert cs.tip.hash == params.genesis.hash
        stats = cs.utxo_stats()
        assert stats.txouts == 0  # the genesis coinbase is not spendable, as in Core
        assert cs.get_coin(OutPoint(params.genesis.txs[0].txid, 0)) is None


def test_connect_and_restart_resumes_at_tip(tmp_path, params, world):
    _, prefix, a, _ = world
    d = str(tmp_path)
    with Chainstate.open(d, params) as cs:
        process_all(cs, prefix + a[:5])
        tip, utxo = cs.tip.hash, cs.utxo_set_hash()
        assert cs.height == MATURE + 5
        op, value = coinbase_out(prefix[20])
        coin = cs.get_coin(op)
        assert coin is not None and coin.is_coinbase and coin.value == value and coin.height == 21
    with Chainstate.open(d, params) as cs:
        assert cs.tip.hash == tip and cs.height == MATURE + 5
        assert cs.utxo_set_hash() == utxo
        assert cs.block_hash_at(3) == prefix[2].hash
        assert cs.get_block(a[4].hash).serialize() == a[4].serialize()


def test_spends_update_the_utxo_set_and_disconnect_restores_it(tmp_path, params, world):
    _, prefix, a, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix)
        before = cs.utxo_set_hash()
        process_all(cs, a[:1])
        tx1, tx2 = a[0].txs[1], a[0].txs[2]
        assert cs.get_coin(coinbase_out(prefix[0])[0]) is None
        assert cs.get_coin(OutPoint(tx1.txid, 0)) is None  # spent inside the same block
        assert cs.get_coin(OutPoint(tx1.txid, 1)).value == tx1.vout[1].value
        assert cs.get_coin(OutPoint(tx2.txid, 1)) is not None
        cb = a[0].txs[0]
        assert cb.vout[0].value == block_subsidy(MATURE + 1, params) + 2000
        cs.invalidate_block(a[0].hash)
        assert cs.tip.hash == prefix[-1].hash
        assert cs.utxo_set_hash() == before
        assert cs.get_coin(coinbase_out(prefix[0])[0]) is not None
        assert cs.get_coin(OutPoint(tx1.txid, 1)) is None


def test_duplicate_and_orphan(tmp_path, params, world):
    bld, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        assert cs.process_block(prefix[0]).accepted
        dup = cs.process_block(prefix[0])
        assert not dup.accepted and dup.reason == "duplicate"
        orphan = cs.process_block(prefix[2])
        assert not orphan.accepted and orphan.reason == "prev-blk-not-found"
        assert cs.get_block_index(prefix[2].hash) is None
        assert cs.process_block(b"\x00\x01").reason == "block-decode-failed"


def test_deep_reorg_matches_clean_replay(tmp_path, params, world):
    _, prefix, a, b = world
    with Chainstate.open(str(tmp_path / "node"), params) as cs:
        process_all(cs, prefix + a)
        assert cs.tip.hash == a[-1].hash
        for blk in b[:15]:  # equal work at 15: the first-seen branch A stays active
            assert cs.process_block(blk).accepted
        assert cs.tip.hash == a[-1].hash
        res = cs.process_block(b[15])  # B now has more work: reorg 15 blocks deep
        assert res.accepted and res.connected
        assert cs.tip.hash == b[15].hash
        process_all(cs, b[16:])
        tip, utxo = cs.tip.hash, cs.utxo_set_hash()
    assert (tip, utxo) == replay_hash(tmp_path, params, prefix + b)


def test_reorg_back_and_forth_is_exact(tmp_path, params, world):
    _, prefix, a, b = world
    expected_a = replay_hash(tmp_path / "ra", params, prefix + a)
    with Chainstate.open(str(tmp_path / "node"), params) as cs:
        process_all(cs, prefix + b + a)
        assert cs.tip.hash == b[-1].hash
        cs.invalidate_block(b[0].hash)
        assert (cs.tip.hash, cs.utxo_set_hash()) == expected_a
        cs.reconsider_block(b[0].hash)
        assert cs.tip.hash == b[-1].hash


def test_invalid_block_in_new_branch_marks_descendants_and_returns(tmp_path, params, world):
    bld, prefix, a, _ = world
    parent = prefix[-1].hash
    branch = []
    for i in range(18):  # more work than A (15), but block 5 overpays its coinbase
        blk = bld.block(parent, dt=3, extra_value=1 if i == 5 else 0)
        branch.append(blk)
        parent = blk.hash
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix + a)
        utxo_a = cs.utxo_set_hash()
        results = [cs.process_block(blk) for blk in branch]
        # The bad block is stored (its problem shows only against the UTXO set) until the branch
        # has more work; then connecting it fails and the chain goes back to A.
        assert all(r.accepted for r in results[:15])
        assert results[15].accepted and not results[15].connected  # as Core: stored, then
        assert "bad-cb-amount" in results[15].debug  # an ancestor failed to connect
        assert cs.tip.hash == a[-1].hash and cs.utxo_set_hash() == utxo_a
        bad = cs.get_block_index(branch[5].hash)
        assert bad.status & BlockStatus.FAILED
        for blk in branch[6:16]:
            assert cs.get_block_index(blk.hash).status & BlockStatus.FAILED_CHILD
        # blocks after the failure have an invalid ancestor
        assert cs.process_block(branch[16]).reason == "bad-prevblk"
        assert cs.process_block(branch[5]).reason == "duplicate-invalid"
        statuses = {t.hash: t.status for t in cs.chain_tips()}
        assert statuses[a[-1].hash] == "active"
        assert statuses[branch[15].hash] == "invalid"


def test_failure_keeps_more_work_part_of_new_branch(tmp_path, params, world):
    """Core keeps the valid prefix of a failing branch when it has more work than the old tip."""
    bld, prefix, _, _ = world
    short = bld.chain(prefix[-1].hash, 2, dt=5)
    parent = prefix[-1].hash
    branch = []
    for i in range(6):
        blk = bld.block(parent, dt=6, extra_value=1 if i == 4 else 0)
        branch.append(blk)
        parent = blk.hash
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix + short)
        for blk in branch:
            cs.process_block(blk)
        assert cs.tip.hash == branch[3].hash  # 4 valid blocks beat the 2-block branch


def test_invalidate_and_reconsider(tmp_path, params, world):
    bld, prefix, _, _ = world
    main = prefix[:10]
    fork = bld.chain(prefix[4].hash, 3, dt=7)  # heights 6..8, less work than main (10)
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, main)
        for blk in fork:
            assert cs.process_block(blk).accepted
        assert cs.tip.hash == main[-1].hash
        cs.invalidate_block(main[6].hash)  # height 7: fork (to 8) now has the most work
        assert cs.tip.hash == fork[-1].hash
        tips = {t.hash: t for t in cs.chain_tips()}
        assert tips[main[-1].hash].status == "invalid"
        assert tips[fork[-1].hash].status == "active"
        assert cs.get_block_index(main[9].hash).status & BlockStatus.FAILED_CHILD
        cs.reconsider_block(main[9].hash)  # clears the ancestors' marks too
        assert cs.tip.hash == main[-1].hash
        tips = {t.hash: t for t in cs.chain_tips()}
        assert tips[fork[-1].hash].status == "valid-fork"
        assert tips[fork[-1].hash].branchlen == 3
    with Chainstate.open(str(tmp_path), params) as cs:  # marks and side branches survive a restart
        assert not cs.get_block_index(main[6].hash).is_failed()
        assert cs.tip.hash == main[-1].hash
        assert cs.get_block(fork[-1].hash).serialize() == fork[-1].serialize()
        assert {t.hash: t.status for t in cs.chain_tips()}[fork[-1].hash] == "valid-fork"
        with pytest.raises(KeyError):
            cs.invalidate_block(b"\x99" * 32)


def test_invalidation_persists_across_restart(tmp_path, params, world):
    _, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix[:5])
        cs.invalidate_block(prefix[2].hash)
        assert cs.height == 2
    with Chainstate.open(str(tmp_path), params) as cs:
        assert cs.height == 2
        assert cs.get_block_index(prefix[4].hash).is_failed()


def test_headers_only_and_chain_tips(tmp_path, params, world):
    _, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix[:3])
        for blk in prefix[3:6]:
            res = cs.process_header(blk.header)
            assert res.accepted and res.is_new and not res.connected
        assert cs.height == 3
        assert cs.best_header().hash == prefix[5].hash
        tips = cs.chain_tips()
        assert [(t.height, t.status, t.branchlen) for t in tips] == [(6, "headers-only", 3), (3, "active", 0)]
        assert cs.process_header(prefix[8].header).reason == "prev-blk-not-found"
        process_all(cs, prefix[3:6])  # data arrives for known headers
        assert cs.height == 6
        assert [t.status for t in cs.chain_tips()] == ["active"]


def test_header_rules(tmp_path, params, world):
    bld, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix[:12])
        h = prefix[12].header
        assert cs.process_header(h.replace(bits=0x207FFFFE)).reason == "bad-diffbits"
        mtp = cs.tip.median_time_past()
        assert cs.process_header(h.replace(time=mtp)).reason == "time-too-old"
        assert cs.process_header(h.replace(time=cs.clock() + 7201)).reason == "time-too-new"
        assert cs.process_header(h.replace(version=3)).reason == "bad-version(0x00000003)"


def test_listener_sees_reorg_in_order(tmp_path, params, world):
    bld, prefix, _, _ = world
    a = bld.chain(prefix[3].hash, 2, dt=8)  # heights 5, 6
    events: list[tuple[str, int]] = []

    class Recorder(ChainListener):
        def block_connected(self, block, entry):
            events.append(("c", entry.height))

        def block_disconnected(self, block, entry):
            events.append(("d", entry.height))

        def tip_changed(self, entry):
            events.append(("t", entry.height))

    class Broken(ChainListener):
        def block_connected(self, block, entry):
            raise RuntimeError("listener bug")

    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix[:5])
        cs.add_listener(Broken())
        cs.add_listener(Recorder())
        for blk in prefix[5:8] + a:
            cs.process_block(blk)
        events.clear()
        cs.invalidate_block(prefix[4].hash)  # back to height 4, then the fork (5, 6) wins
        assert events == [("d", 8), ("d", 7), ("d", 6), ("d", 5), ("c", 5), ("c", 6), ("t", 6)]
        assert cs.tip.hash == a[-1].hash
        events.clear()
        cs.invalidate_block(a[-1].hash)  # nothing better to switch to: tip just steps back
        assert events == [("d", 6), ("t", 5)]


def test_wrong_network_datadir_refused(tmp_path, params):
    Chainstate.open(str(tmp_path), params).close()
    with pytest.raises(StorageError):
        Chainstate.open(str(tmp_path), BITCOIN_REGTEST)


def test_generate_block_with_fees_and_pow_network(tmp_path, params, world):
    _, prefix, _, _ = world
    with Chainstate.open(str(tmp_path / "r"), params) as cs:
        process_all(cs, prefix)
        tx = spend([coinbase_out(prefix[0])], n_out=2, fee=12_345, tag=9)
        blk = generate_block(cs, bytes.fromhex("11" * 32), OP_TRUE, (tx,))
        assert blk.txs[0].vout[0].value == block_subsidy(MATURE + 1, params) + 12_345
        assert cs.process_block(blk).connected
    with Chainstate.open(str(tmp_path / "p"), BITCOIN_REGTEST) as cs:
        hashes = generate_blocks(cs, 3, None, OP_TRUE)
        assert cs.tip.hash == hashes[-1] and cs.height == 3


def test_mainnet_blocks_0_to_100(tmp_path, vectors_dir):
    from regtest.consensus.params import MAIN

    lines = (vectors_dir / "mainnet" / "blocks_0_100.hex").read_text().split()
    with Chainstate.open(str(tmp_path), MAIN) as cs:
        assert cs.tip.hash_hex == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        for line in lines[1:]:
            res = cs.process_block(bytes.fromhex(line))
            assert res.accepted and res.connected, (res.reason, res.debug)
        assert cs.height == 100
        stats = cs.utxo_stats()
        assert stats.txouts == 100 and stats.total_amount == 100 * 50 * 100_000_000
        cs.invalidate_block(cs.block_hash_at(50))
        assert cs.height == 49 and cs.utxo_stats().txouts == 49


def test_certificate_attack_leaves_chain_unharmed(tmp_path, params, world):
    from regtest.chain.blockassembly import assemble_block
    from regtest.consensus.certificate import extract_certificate, attach_certificate

    _, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        process_all(cs, prefix[:5])
        tip, utxo = cs.tip.hash, cs.utxo_set_hash()
        good = prefix[5]
        cert = extract_certificate(good)
        forged = attach_certificate(good, cert.replace(signature=bytes(64)))
        assert cs.process_block(forged).reason == "bad-cert-sig"
        other_key = assemble_block(params, tip, 6, good.header.time, bytes.fromhex("22" * 32), OP_TRUE)
        assert cs.process_block(other_key).reason == "bad-cert-key"
        lifted = good.with_header(time=good.header.time + 1)  # same certificate, other header
        assert cs.process_block(lifted).reason == "bad-cert-commitment"
        assert (cs.tip.hash, cs.utxo_set_hash()) == (tip, utxo)
        assert cs.process_block(good).connected  # the real block is not poisoned


def test_empty_utxo_hash_is_sha256d_of_nothing(tmp_path, params):
    from regtest.consensus.hashes import sha256d

    with Chainstate.open(str(tmp_path), params) as cs:
        assert cs.utxo_set_hash() == sha256d(b"")


def test_process_headers_batch_stops_at_first_bad(tmp_path, params, world):
    _, prefix, _, _ = world
    with Chainstate.open(str(tmp_path), params) as cs:
        headers = [b.header for b in prefix[:6]]
        headers[4] = headers[4].replace(version=1)
        res = cs.process_headers(headers)
        assert [r.accepted for r in res] == [True, True, True, True, False]
        assert res[4].reason == "bad-version(0x00000001)"
        assert cs.best_header().hash == prefix[3].hash
    with Chainstate.open(str(tmp_path), params) as cs:  # the accepted headers were persisted
        assert cs.get_block_index(prefix[3].hash).height == 4
        assert cs.height == 0


def test_reader_thread_sees_only_whole_blocks(tmp_path, params, world):
    import threading

    _, prefix, a, _ = world
    states = {}
    with Chainstate.open(str(tmp_path / "replay"), params) as cs:
        for blk in prefix + a:
            cs.process_block(blk)
            states[cs.tip.hash] = cs.utxo_set_hash()
    seen, errors = [], []
    with Chainstate.open(str(tmp_path / "node"), params) as cs:
        process_all(cs, prefix)
        done = threading.Event()

        def reader():
            while not done.is_set():
                with cs.lock:
                    tip, utxo = cs.tip.hash, cs.utxo_set_hash()
                if states.get(tip) != utxo:
                    errors.append(tip)
                seen.append(tip)

        t = threading.Thread(target=reader)
        t.start()
        try:
            process_all(cs, a)
            cs.invalidate_block(a[3].hash)
        finally:
            done.set()
            t.join()
    assert not errors and seen
