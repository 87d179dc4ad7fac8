"""A merkle tree over contribution leaves, with inclusion proofs.

Nodes are tagged hashes (`potc/merkle/node`) of the two children; an odd node at the end of a level
is promoted unchanged (no duplication, so no CVE-2012-2459-style ambiguity).  An empty tree's root
is 32 zero bytes.
"""

from __future__ import annotations

from regtest.consensus.hashes import tagged_hash

NODE_TAG = "potc/merkle/node"
EMPTY_ROOT = bytes(32)
MAX_DEPTH = 64


def _node(a: bytes, b: bytes) -> bytes:
    return tagged_hash(NODE_TAG, a + b)


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def merkle_proof(leaves: list[bytes], index: int) -> list[tuple[str, bytes]]:
    """Sibling path from leaf `index` to the root: ("L"|"R", sibling) meaning the sibling's side."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index out of range")
    proof: list[tuple[str, bytes]] = []
    level, i = list(leaves), index
    while len(level) > 1:
        if i % 2 == 1:
            proof.append(("L", level[i - 1]))
        elif i + 1 < len(level):
            proof.append(("R", level[i + 1]))
        nxt = [_node(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, i = nxt, i // 2
    return proof


def verify_proof(leaf: bytes, proof: list[tuple[str, bytes]], root: bytes) -> bool:
    if len(proof) > MAX_DEPTH:
        return False
    h = leaf
    for side, sib in proof:
        if len(sib) != 32 or side not in ("L", "R"):
            return False
        h = _node(sib, h) if side == "L" else _node(h, sib)
    return h == root
