"""Turning a getblocktemplate result into a block, for miners and the sidecar.

Pure code over the JSON object (no node imports): parse and check the template, then build the
block with `blockbuild.make_block` (coinbase paying subsidy + fees to one script, witness
commitment, certificate slot), ready for proposal mode and for sealing with `blockbuild.certify`.

    tpl = parse_template(rpc.getblocktemplate({"rules": ["segwit"]}))
    block = block_from_template(tpl, params, winner_script)    # unsealed, certificate slot blank
    assert rpc.getblocktemplate({"mode": "proposal", "data": block.serialize().hex()}) is None
    sealed = certify(block, cert, coordinator_privkey)           # then submitblock(sealed hex)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regtest.consensus.block import Block
from regtest.consensus.blockbuild import make_block
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.params import NetworkParams, block_subsidy
from regtest.consensus.serialize import DeserializationError
from regtest.consensus.transaction import Transaction

MAX_TEMPLATE_TXS = 100_000


class TemplateError(ValueError):
    """The template is malformed or inconsistent (bad hex, txid mismatch, wrong coinbase value)."""


@dataclass(frozen=True, slots=True)
class TemplateData:
    prev_hash: bytes  # internal byte order
    height: int
    version: int
    bits: int
    curtime: int
    mintime: int
    txs: tuple[Transaction, ...]
    fees: int
    coinbase_value: int
    default_witness_commitment: bytes | None


def _int(obj: Mapping[str, Any], key: str) -> int:
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise TemplateError(f"template field {key!r} must be an integer")
    return v


def _hex(obj: Mapping[str, Any], key: str) -> bytes:
    v = obj.get(key)
    if not isinstance(v, str):
        raise TemplateError(f"template field {key!r} must be a hex string")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise TemplateError(f"template field {key!r} is not hex") from None


def parse_template(result: Mapping[str, Any], params: NetworkParams | None = None) -> TemplateData:
    """Check and decode a getblocktemplate result. With `params`, coinbasevalue must equal the
    subsidy at the template's height plus the listed fees."""
    if not isinstance(result, Mapping):
        raise TemplateError("template must be a JSON object")
    prev = _hex(result, "previousblockhash")
    if len(prev) != 32:
        raise TemplateError("previousblockhash must be 32 bytes")
    height = _int(result, "height")
    bits_hex = _hex(result, "bits")
    if len(bits_hex) != 4:
        raise TemplateError("bits must be 4 bytes")
    entries = result.get("transactions")
    if not isinstance(entries, list) or len(entries) > MAX_TEMPLATE_TXS:
        raise TemplateError("transactions must be a list")
    txs = []
    fees = 0
    for i, item in enumerate(entries):
        if not isinstance(item, Mapping):
            raise TemplateError(f"transaction {i} must be an object")
        try:
            tx = Transaction.parse(_hex(item, "data"))
        except DeserializationError as e:
            raise TemplateError(f"transaction {i} does not decode: {e}") from None
        if item.get("txid") != hash_to_hex(tx.txid):
            raise TemplateError(f"transaction {i}: txid does not match its data")
        fee = _int(item, "fee")
        if fee < 0:
            raise TemplateError(f"transaction {i}: negative fee")
        fees += fee
        txs.append(tx)
    coinbase_value = _int(result, "coinbasevalue")
    if params is not None and coinbase_value != block_subsidy(height, params) + fees:
        raise TemplateError("coinbasevalue is not subsidy + fees")
    dwc = result.get("default_witness_commitment")
    return TemplateData(
        prev_hash=prev[::-1],
        height=height,
        version=_int(result, "version"),
        bits=int.from_bytes(bits_hex, "big"),
        curtime=_int(result, "curtime"),
        mintime=_int(result, "mintime"),
        txs=tuple(txs),
        fees=fees,
        coinbase_value=coinbase_value,
        default_witness_commitment=bytes.fromhex(dwc) if isinstance(dwc, str) else None,
    )


def block_from_template(
    tpl: TemplateData,
    params: NetworkParams,
    payout_script: bytes,
    *,
    time: int | None = None,
    certificate_slot: bool | None = None,
) -> Block:
    """The unsealed block of `tpl` paying subsidy + fees to `payout_script` (certificate slot blank
    on certificate networks). `time` defaults to the template's curtime, at least its mintime."""
    t = max(tpl.curtime if time is None else time, tpl.mintime)
    return make_block(
        params, tpl.prev_hash, tpl.height, t, payout_script, tpl.txs,
        fees=tpl.coinbase_value - block_subsidy(tpl.height, params),
        version=tpl.version, bits=tpl.bits, certificate_slot=certificate_slot,
    )
