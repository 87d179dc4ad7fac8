"""getdeploymentinfo's BIP9 state machine on synthetic chains (block index entries only), checked
against BIP9's rules: a period of 144 blocks, 108 signals lock in, activation one period later."""

from __future__ import annotations

from regtest.chain.blockindex import BlockIndexEntry, BlockStatus
from regtest.chain.versionbits import TESTDUMMY_REGTEST, block_version
from regtest.consensus.block import BlockHeader
from regtest.consensus.params import BITCOIN_REGTEST, MAIN
from regtest.node.rpc.methods.deployments import bip9_json

SIGNAL = 0x20000000 | 1 << 28
PLAIN = 0x20000000


def _chain(versions: list[int]) -> list[BlockIndexEntry]:
    out: list[BlockIndexEntry] = []
    for h, v in enumerate(versions):
        parent = out[-1] if out else None
        header = BlockHeader(v, parent.hash if parent else bytes(32), bytes(32), 1_700_000_000 + h,
                             0x207FFFFF, 0)
        out.append(BlockIndexEntry(header.hash, header, h, h + 1, BlockStatus.HEADER_VALID, parent, h))
    return out


def _status(entry) -> tuple[str, str, int]:
    b = bip9_json(entry, TESTDUMMY_REGTEST, {})["bip9"]
    return b["status"], b["status_next"], b["since"]


def test_signalling_chain_locks_in_then_activates():
    chain = _chain([SIGNAL] * 440)
    assert _status(chain[142]) == ("defined", "defined", 0)
    assert _status(chain[143]) == ("defined", "started", 0)
    assert _status(chain[144]) == ("started", "started", 144)
    assert _status(chain[287]) == ("started", "locked_in", 144)
    locked = bip9_json(chain[288], TESTDUMMY_REGTEST, {})
    assert locked["active"] is False
    assert locked["bip9"]["status"] == "locked_in" and locked["bip9"]["since"] == 288
    # while locked in: statistics without threshold/possible
    assert locked["bip9"]["statistics"] == {"period": 144, "elapsed": 1, "count": 1}
    assert locked["bip9"]["signalling"] == "#"
    assert _status(chain[431]) == ("locked_in", "active", 288)
    active = bip9_json(chain[432], TESTDUMMY_REGTEST, {})
    assert active["active"] is True and active["height"] == 432
    assert active["bip9"]["status"] == "active" and "statistics" not in active["bip9"]
    assert "bit" not in active["bip9"]


def test_one_signal_short_stays_started():
    period = [SIGNAL] * 107 + [PLAIN] * 37
    chain = _chain([PLAIN] * 144 + period + [PLAIN] * 10)
    assert _status(chain[288]) == ("started", "started", 144)
    mid = bip9_json(chain[144 + 119], TESTDUMMY_REGTEST, {})["bip9"]  # 120 blocks into the period
    assert mid["statistics"] == {"period": 144, "elapsed": 120, "count": 107, "threshold": 108,
                                 "possible": True}
    assert mid["signalling"] == "#" * 107 + "-" * 13
    edge = bip9_json(chain[144 + 142], TESTDUMMY_REGTEST, {})["bip9"]["statistics"]
    assert edge["count"] == 107 and edge["possible"] is True  # 36 misses: 108 still reachable
    late = bip9_json(chain[144 + 143], TESTDUMMY_REGTEST, {})["bip9"]["statistics"]
    assert late["count"] == 107 and late["possible"] is False  # 37 misses > 144 - 108
    # a version without the 001 top bits does not count, even with bit 28 set
    odd = _chain([PLAIN] * 144 + [0x10000000 | 1 << 28] * 144 + [PLAIN])
    assert _status(odd[288]) == ("started", "started", 144)


def test_block_version_signals_while_started_or_locked_in():
    """Core's ComputeBlockVersion: a regtest miner sets bit 28 until testdummy is active."""
    chain = _chain([SIGNAL] * 440)
    assert block_version(chain[100], BITCOIN_REGTEST) == PLAIN  # the first period is "defined"
    assert block_version(chain[143], BITCOIN_REGTEST) == SIGNAL  # the block at 144 is "started"
    assert block_version(chain[300], BITCOIN_REGTEST) == SIGNAL  # locked in
    assert block_version(chain[431], BITCOIN_REGTEST) == PLAIN  # the block at 432 is active
    assert block_version(chain[100], MAIN) == PLAIN  # main: taproot only, long active
