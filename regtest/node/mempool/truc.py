"""Topologically Restricted Until Confirmation (BIP431, Core's policy/truc_policy): version-3
transactions form at most parent-and-child clusters, with small size caps, and never mix with
non-version-3 transactions while unconfirmed. Reject reason "TRUC-violation".

Sibling eviction (a second child replacing the first) is not implemented: a second child is refused.
"""

from __future__ import annotations

from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.transaction import Transaction
from regtest.node.mempool.pool import TxPool

TRUC_VERSION = 3
TRUC_ANCESTOR_LIMIT = 2
TRUC_DESCENDANT_LIMIT = 2
TRUC_MAX_VSIZE = 10_000
TRUC_CHILD_MAX_VSIZE = 1_000


def _ids(tx: Transaction) -> str:
    return f"{hash_to_hex(tx.txid)} (wtxid={hash_to_hex(tx.wtxid)})"


def truc_violation(tx: Transaction, vsize: int, ancestors: set[bytes], pool: TxPool,
                   replaced: set[bytes] = frozenset()) -> str | None:
    """Core's SingleTRUCChecks: None when allowed, else the details text of "TRUC-violation".

    `ancestors`: in-mempool ancestors of `tx`; `replaced`: entries `tx` would evict (conflicts)."""
    entries = pool.entries
    parents = {txin.prevout.txid for txin in tx.vin if txin.prevout.txid in entries}
    for p in sorted(parents):
        ptx = entries[p].tx
        if tx.version != TRUC_VERSION and ptx.version == TRUC_VERSION:
            return f"non-version=3 tx {_ids(tx)} cannot spend from version=3 tx {_ids(ptx)}"
        if tx.version == TRUC_VERSION and ptx.version != TRUC_VERSION:
            return f"version=3 tx {_ids(tx)} cannot spend from non-version=3 tx {_ids(ptx)}"
    if tx.version != TRUC_VERSION:
        return None
    if vsize > TRUC_MAX_VSIZE:
        return f"version=3 tx {_ids(tx)} is too big: {vsize} > {TRUC_MAX_VSIZE} virtual bytes"
    if len(ancestors) + 1 > TRUC_ANCESTOR_LIMIT:  # several parents, or a parent with its own parent
        return f"tx {_ids(tx)} would have too many ancestors"
    if not parents:
        return None
    if vsize > TRUC_CHILD_MAX_VSIZE:
        return f"version=3 child tx {_ids(tx)} is too big: {vsize} > {TRUC_CHILD_MAX_VSIZE} virtual bytes"
    (parent,) = parents
    pentry = entries[parent]
    descendants = pool.descendants(parent)
    if descendants and not descendants & set(replaced):
        return f"tx {_ids(pentry.tx)} would exceed descendant count limit"
    return None
