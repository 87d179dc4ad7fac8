"""The public contribution log of a cycle and the independent audit of a certificate against it.

A log entry is a flat JSON object of integers and hex strings.  Its leaf hash is
`tagged_hash("potc/contribution", canonical JSON)` (sorted keys, no whitespace); leaves are in log
order (by miner key) and form the certificate's contributions root (see merkle.py).

`audit_cycle` uses nothing but the certificate, the log, and the public rules (scoring, cap,
lottery): it is what any third party runs to check that the coordinator paid the right miner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from regtest.consensus.certificate import Certificate
from regtest.consensus.hashes import tagged_hash

from .lottery import draw_winner, seed_commitment
from .merkle import merkle_root, verify_proof
from .scoring import ScoreWeights, cap_weights, score

LEAF_TAG = "potc/contribution"
ENTRY_INT_FIELDS = ("cycle", "segment", "shard", "trained", "segment_size", "heldout_before",
                    "heldout_after", "shard_before", "shard_after", "alignment", "score", "weight")
ENTRY_HEX_FIELDS = ("miner", "payout", "update")


class AuditError(ValueError):
    pass


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()


def leaf_hash(entry: dict[str, Any]) -> bytes:
    return tagged_hash(LEAF_TAG, canonical(entry))


def entry_score(e: dict[str, Any], w: ScoreWeights) -> int:
    return score(e["heldout_before"] - e["heldout_after"], e["shard_before"] - e["shard_after"],
                 e["trained"], e["segment_size"], e["alignment"], w)


def _check_entry(e: Any) -> None:
    if not isinstance(e, dict) or set(e) != set(ENTRY_INT_FIELDS) | set(ENTRY_HEX_FIELDS):
        raise AuditError("log entry has the wrong fields")
    for f in ENTRY_INT_FIELDS:
        if type(e[f]) is not int:
            raise AuditError(f"entry field {f} must be an integer")
    for f in ENTRY_HEX_FIELDS:
        if not isinstance(e[f], str):
            raise AuditError(f"entry field {f} must be hex")
        try:
            bytes.fromhex(e[f])
        except ValueError:
            raise AuditError(f"entry field {f} must be hex") from None


@dataclass(frozen=True)
class AuditReport:
    cycle: int
    winner_index: int | None
    winner_miner: str | None
    payout_script: bytes
    total_weight: int


def audit_cycle(cert: Certificate | bytes, log: dict[str, Any]) -> AuditReport:
    """Recompute the winner from public data; raise AuditError on any mismatch."""
    if isinstance(cert, (bytes, bytearray)):
        cert = Certificate.parse(bytes(cert))
    if not cert.verify_signature():
        raise AuditError("certificate signature invalid")
    if log.get("cycle") != cert.cycle_id:
        raise AuditError("log is for another cycle")
    if bytes.fromhex(log.get("parent", "")) != cert.parent_hash or log.get("height") != cert.height:
        raise AuditError("log is for another parent or height")
    if bytes.fromhex(log.get("model_after", "")) != cert.model_hash:
        raise AuditError("model hash differs from the certificate")
    if seed_commitment(cert.lottery_seed) != bytes.fromhex(log.get("seed_commitment", "")):
        raise AuditError("revealed seed does not match the commitment published at cycle open")
    entries = log.get("contributions")
    proofs = log.get("proofs")
    if not isinstance(entries, list) or not isinstance(proofs, list) or len(proofs) != len(entries):
        raise AuditError("log has no contributions/proofs lists of equal length")
    for e in entries:
        _check_entry(e)
        if e["cycle"] != cert.cycle_id:
            raise AuditError("entry from another cycle")
    miners = [e["miner"] for e in entries]
    if miners != sorted(miners) or len(set(miners)) != len(miners):
        raise AuditError("entries must be sorted by miner, one per miner")
    leaves = [leaf_hash(e) for e in entries]
    if merkle_root(leaves) != cert.contributions_root:
        raise AuditError("contributions root differs from the certificate")
    for leaf, proof in zip(leaves, proofs):
        try:
            p = [(side, bytes.fromhex(h)) for side, h in proof]
        except (ValueError, TypeError):
            raise AuditError("malformed merkle proof") from None
        if not verify_proof(leaf, p, cert.contributions_root):
            raise AuditError("merkle proof does not verify")
    sw = log.get("score_weights", {})
    try:
        w = ScoreWeights(int(sw["loss"]), int(sw["params"]), int(sw["min_gain"]), int(sw["min_alignment"]))
    except (KeyError, TypeError, ValueError):
        raise AuditError("log has no valid score weights") from None
    scores = [entry_score(e, w) for e in entries]
    if scores != [e["score"] for e in entries]:
        raise AuditError("a published score does not follow from its metrics")
    weights = cap_weights(scores, int(log.get("cap_permille", 0)))
    if weights != [e["weight"] for e in entries]:
        raise AuditError("published weights do not follow from the scores and the cap")
    idx = draw_winner(cert.lottery_seed, cert.contributions_root, weights)
    if idx is None:
        expected = bytes.fromhex(log.get("fallback_payout", ""))
    else:
        expected = bytes.fromhex(entries[idx]["payout"])
    if expected != cert.payout_script:
        raise AuditError("certificate pays someone other than the lottery winner")
    if log.get("winner") != idx:
        raise AuditError("log names another winner")
    return AuditReport(cert.cycle_id, idx, None if idx is None else entries[idx]["miner"], expected, sum(weights))
