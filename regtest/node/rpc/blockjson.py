"""Blocks and headers as getblock / getblockheader show them, plus the decoded certificate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from regtest.consensus.address import AddressPrefixes, script_to_address
from regtest.consensus.hashes import hash_to_hex
from regtest.node.rpc.jsonfmt import double
from regtest.node.rpc.scriptjson import tx_to_json


def difficulty(bits: int) -> Decimal | float:
    """Core's GetDifficulty: powLimit-relative difficulty of a compact target, as the 16
    significant digits UniValue prints (a Decimal, so every JSON writer shows the same)."""
    return double(_difficulty(bits))


def _difficulty(bits: int) -> float:
    shift = (bits >> 24) & 0xFF
    mant = bits & 0x00FFFFFF
    if mant == 0:
        return 0.0
    diff = 0x0000FFFF / mant
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def compact_to_target(bits: int) -> int:
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        return word >> (8 * (3 - size))
    return word << (8 * (size - 3))


def confirmations(cs: Any, entry: Any) -> int:
    return cs.height - entry.height + 1 if cs.active.contains(entry) else -1


def certificate_json(block: Any, prefixes: AddressPrefixes) -> dict | None:
    """The block's certificate, decoded; None when the block carries none (or it is malformed)."""
    from regtest.consensus.certificate import extract_certificate

    try:
        cert = extract_certificate(block)
    except Exception:  # noqa: BLE001 - PoW networks and malformed blocks simply have none
        return None
    out: dict[str, Any] = {
        "version": cert.version,
        "network": cert.network.hex(),
        "parent_hash": hash_to_hex(cert.parent_hash),
        "height": cert.height,
        "payout_script": cert.payout_script.hex(),
    }
    address = script_to_address(cert.payout_script, prefixes)
    if address is not None:
        out["payout_address"] = address
    out.update(
        {
            "cycle_id": cert.cycle_id,
            "model_hash": cert.model_hash.hex(),
            "contributions_root": cert.contributions_root.hex(),
            "lottery_seed": cert.lottery_seed.hex(),
            "issue_time": cert.issue_time,
            "expiry": cert.expiry,
            "block_commitment": cert.block_commitment.hex(),
            "coordinator_key": cert.coordinator_key.hex(),
            "signature": cert.signature.hex(),
            "signature_valid": cert.verify_signature(),
        }
    )
    return out


def header_json(cs: Any, entry: Any, block: Any | None, prefixes: AddressPrefixes) -> dict:
    h = entry.header
    out: dict[str, Any] = {
        "hash": entry.hash_hex,
        "confirmations": confirmations(cs, entry),
        "height": entry.height,
        "version": h.version,
        "versionHex": "%08x" % (h.version & 0xFFFFFFFF),
        "merkleroot": hash_to_hex(h.merkle_root),
        "time": h.time,
        "mediantime": entry.median_time_past(),
        "nonce": h.nonce,
        "bits": "%08x" % h.bits,
        "target": "%064x" % compact_to_target(h.bits),
        "difficulty": difficulty(h.bits),
        "chainwork": "%064x" % entry.chain_work,
        "nTx": entry.n_tx,
    }
    if entry.parent is not None:
        out["previousblockhash"] = entry.parent.hash_hex
    nxt = cs.active.next(entry) if cs.active.contains(entry) else None
    if nxt is not None:
        out["nextblockhash"] = nxt.hash_hex
    if block is not None:
        cert = certificate_json(block, prefixes)
        if cert is not None:
            out["certificate"] = cert
    return out


def _coinbase_json(block: Any) -> dict:
    cb = block.txs[0]
    txin = cb.vin[0]
    out: dict[str, Any] = {
        "version": cb.version,
        "locktime": cb.locktime,
        "sequence": txin.sequence,
        "coinbase": txin.script_sig.hex(),
    }
    if txin.witness:
        out["witness"] = txin.witness[0].hex()
    return out


def block_json(cs: Any, entry: Any, block: Any, verbosity: int, prefixes: AddressPrefixes) -> dict:
    out = header_json(cs, entry, None, prefixes)
    out["size"] = block.size
    out["strippedsize"] = block.stripped_size
    out["weight"] = block.weight
    out["coinbase_tx"] = _coinbase_json(block)
    if verbosity <= 1:
        out["tx"] = [tx.txid_hex for tx in block.txs]
    else:
        undo = cs.get_undo(entry.hash)
        spent = {op: coin for op, coin in undo} if undo is not None else None
        txs = [tx_to_json(tx, prefixes, True, spent, with_prevout=verbosity >= 3) for tx in block.txs]
        out["tx"] = txs
    cert = certificate_json(block, prefixes)
    if cert is not None:
        out["certificate"] = cert
    return out
