"""Block templates the way Core's BlockAssembler builds them, and proposal checks.

Selection is by ancestor fee rate (a package = a transaction plus its not-yet-selected in-mempool
ancestors), so a child paying for its parent pulls the parent in (CPFP). Packages that do not fit
the weight or sigop budget are skipped; selection stops at the block minimum fee rate.
"""

from __future__ import annotations

import dataclasses
import heapq
import time as _time
from dataclasses import dataclass, field
from typing import Any

from regtest.chain import rules
from regtest.chain.versionbits import bip9_deployments, block_version, next_block_states
from regtest.consensus import block_validation as bv
from regtest.consensus.block import (
    MAX_BLOCK_SIGOPS_COST,
    MAX_BLOCK_WEIGHT,
    Block,
    compact_to_target,
    compute_merkle_root,
    witness_commitment_output,
)
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import NetworkParams, ProofRule, block_subsidy, next_work_required
from regtest.consensus.transaction import Transaction
from regtest.node.mempool.pool import MempoolEntry, TxPool

DEFAULT_BLOCK_RESERVED_WEIGHT = 8000
COINBASE_SIGOPS_RESERVE = 400
#: rules every template carries (buried deployments); active BIP9 deployments follow
BURIED_RULES = ["csv", "!segwit"]
MAX_CONSECUTIVE_FAILURES = 1000


@dataclass
class BlockTemplate:
    prev_hash: bytes
    height: int
    version: int
    rules: list[str]
    vbavailable: dict[str, int]
    bits: int
    mintime: int
    curtime: int
    entries: list[MempoolEntry]
    coinbase_value: int
    fees: int
    witness_commitment: bytes  # full scriptPubKey of the commitment output
    weight: int  # transactions' weight (coinbase excluded)
    sigops: int
    transactions_updated: int = 0
    created: float = field(default_factory=_time.time)
    tx_json: list[dict] | None = None  # the "transactions" array, built once per template

    @property
    def txs(self) -> list[Transaction]:
        return [e.tx for e in self.entries]


def select_transactions(
    pool: TxPool,
    *,
    max_weight: int = MAX_BLOCK_WEIGHT - DEFAULT_BLOCK_RESERVED_WEIGHT,
    max_sigops: int = MAX_BLOCK_SIGOPS_COST - COINBASE_SIGOPS_RESERVE,
    min_fee_rate: int = 1,
) -> list[MempoolEntry]:
    """Core's addPackageTxs: best ancestor fee rate first, parents before children.

    Scores are re-evaluated lazily: a popped package whose not-yet-selected part now scores lower
    than when it was pushed goes back on the heap with its new score."""
    entries = pool.entries
    selected: set[bytes] = set()
    order: list[MempoolEntry] = []
    weight = sigops = 0
    heap: list[tuple[float, int, bytes]] = []
    for txid, e in entries.items():
        agg = pool.with_ancestors(txid)
        heapq.heappush(heap, (-agg.fee / agg.vsize, e.entry_sequence, txid))
    failures = 0
    skipped: set[bytes] = set()
    while heap:
        neg_score, seq, txid = heapq.heappop(heap)
        if txid in selected or txid in skipped:
            continue
        package = (pool.ancestors(txid) | {txid}) - selected
        fee = vsize = p_weight = p_sigops = 0
        for t in package:
            e = entries[t]
            fee += e.fee
            vsize += e.vsize
            p_weight += e.weight
            p_sigops += e.sigop_cost
        score = fee / vsize
        if score < -neg_score - 1e-12:
            heapq.heappush(heap, (-score, seq, txid))
            continue
        if fee * 1000 < min_fee_rate * vsize:
            break
        if weight + p_weight >= max_weight or sigops + p_sigops >= max_sigops:  # Core: must stay below
            skipped.add(txid)
            failures += 1
            if failures > MAX_CONSECUTIVE_FAILURES and weight > max_weight - 4000:
                break
            continue
        failures = 0
        for t in sorted(package, key=lambda t: (len(pool.ancestors(t)), entries[t].entry_sequence)):
            selected.add(t)
            order.append(entries[t])
        weight += p_weight
        sigops += p_sigops
    return order


class HeaderView:
    """(height, bits, time) of an index entry, the shape retargeting reads."""

    __slots__ = ("height", "bits", "time")

    def __init__(self, e: Any) -> None:
        self.height = e.height
        self.bits = e.header.bits
        self.time = e.header.time


def witness_commitment_script(txs: list[Transaction]) -> bytes:
    """The coinbase output committing to `txs` (coinbase wtxid counted as zero, zero reserved value)."""
    root = compute_merkle_root([bytes(32)] + [tx.wtxid for tx in txs])[0]
    return witness_commitment_output(root).script_pubkey


def create_template(
    mempool: Any,
    chainstate: Any,
    *,
    now: int | None = None,
    reserved_weight: int = DEFAULT_BLOCK_RESERVED_WEIGHT,
) -> BlockTemplate:
    """A template on the current tip from the mempool's best packages."""
    params: NetworkParams = chainstate.params
    tip = chainstate.tip
    height = tip.height + 1
    mtp = tip.median_time_past()
    now = int(chainstate.clock()) if now is None else now
    pool = mempool.pool if mempool is not None else TxPool()
    min_rate = mempool.settings.block_min_tx_fee if mempool is not None else 1
    entries = select_transactions(pool, max_weight=MAX_BLOCK_WEIGHT - reserved_weight, min_fee_rate=min_rate)
    fees = sum(e.fee for e in entries)
    curtime = max(now, mtp + 1)
    bits = next_work_required(params, HeaderView(tip), curtime, lambda h: HeaderView(tip.get_ancestor(h)))
    states = next_block_states(tip, params)
    deployments = bip9_deployments(params)
    return BlockTemplate(
        prev_hash=tip.hash,
        height=height,
        version=block_version(tip, params),
        rules=BURIED_RULES + [name for name, state in states.items() if state == "active"],
        vbavailable={name: deployments[name].bit for name, state in states.items()
                     if state in ("started", "locked_in")},
        bits=bits,
        mintime=mtp + 1,
        curtime=curtime,
        entries=entries,
        coinbase_value=block_subsidy(height, params) + fees,
        fees=fees,
        witness_commitment=witness_commitment_script([e.tx for e in entries]),
        weight=sum(e.weight for e in entries),
        sigops=sum(e.sigop_cost for e in entries),
        transactions_updated=pool.transactions_updated,
    )


def template_json(tpl: BlockTemplate, longpollid: str) -> dict:
    """getblocktemplate's result object, keys in Core's order."""
    if tpl.tx_json is None:
        index = {e.txid: i + 1 for i, e in enumerate(tpl.entries)}
        tpl.tx_json = [
            {
                "data": e.tx.serialize().hex(),
                "txid": e.tx.txid_hex,
                "hash": e.tx.wtxid_hex,
                "depends": sorted(index[p] for p in e.parents if p in index),
                "fee": e.fee,
                "sigops": e.sigop_cost,
                "weight": e.weight,
            }
            for e in tpl.entries
        ]
    txs = tpl.tx_json
    return {
        "capabilities": ["proposal"],
        "version": tpl.version,
        "rules": list(tpl.rules),
        "vbavailable": dict(tpl.vbavailable),
        "vbrequired": 0,
        "previousblockhash": tpl.prev_hash[::-1].hex(),
        "transactions": txs,
        "coinbaseaux": {},
        "coinbasevalue": tpl.coinbase_value,
        "longpollid": longpollid,
        "target": "%064x" % compact_to_target(tpl.bits)[0],
        "mintime": tpl.mintime,
        "mutable": ["time", "transactions", "prevblock"],
        "noncerange": "00000000ffffffff",
        "sigoplimit": MAX_BLOCK_SIGOPS_COST,
        "sizelimit": MAX_BLOCK_WEIGHT,
        "weightlimit": MAX_BLOCK_WEIGHT,
        "curtime": tpl.curtime,
        "bits": "%08x" % tpl.bits,
        "height": tpl.height,
        "default_witness_commitment": tpl.witness_commitment.hex(),
    }


def check_block_validity(chainstate: Any, block: Block, *, check_proof: bool = False) -> str | None:
    """Core's TestBlockValidity on the tip: None when `block` would connect, else the reject reason.

    Nothing is stored. Like Core's proposal mode (fCheckPOW=false) the proof is not checked by
    default: on this chain that is the certificate, which the coordinator adds after the check."""
    params: NetworkParams = chainstate.params
    tip = chainstate.tip
    if block.header.prev_hash != tip.hash:
        return "inconclusive-not-best-prevblk"
    height = tip.height + 1
    checked = params if check_proof else dataclasses.replace(params, proof_rule=ProofRule.POW)
    prev_mtp = tip.median_time_past()

    def mtp_at(h: int) -> int:
        e = chainstate.active.at(h)
        return e.median_time_past() if e is not None else prev_mtp

    try:
        rules.check_header_contextual(block.header, tip, params, chainstate.clock())
        bv.check_block(block, checked, check_proof=check_proof)
        bv.contextual_check_block(block, height, prev_mtp, checked)
        bv.connect_block(block, height, chainstate.get_coin, params, prev_mtp, mtp_at=mtp_at)
    except BlockValidationError as e:
        return e.reason or "rejected"
    return None
