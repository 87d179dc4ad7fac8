"""Where block templates come from, and sealing one with a certificate.

`TemplateSource` is the seam: today `ParentOnlyTemplateSource` builds a coinbase-only block from
the parent alone with regtest.consensus; an RPC getblocktemplate source (node services) plugs in
with the same interface and returns the transactions to include.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

from regtest.consensus.block import Block
from regtest.consensus.blockbuild import certify, make_block
from regtest.consensus.certificate import Certificate, extract_certificate
from regtest.consensus.params import NetworkParams
from regtest.consensus.transaction import Transaction


@dataclass(frozen=True)
class Template:
    parent: bytes
    height: int
    time: int
    txs: tuple[Transaction, ...] = ()
    fees: int = 0


class TemplateSource(Protocol):
    """Where the block to seal comes from.  A source may raise (e.g. rpc_template's
    TemplateUnavailable when the node's tip moved or its proposal check failed); the coordinator
    then seals a coinbase-only block.  A source that can hand blocks to a node also provides
    `async submit_block(block) -> str | None` (see rpc_template.RpcTemplateSource)."""

    async def template(self, parent: bytes, height: int, parent_time: int) -> Template: ...


class ParentOnlyTemplateSource:
    """A coinbase-only template: no mempool, block time max(now, parent time + 1)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    async def template(self, parent: bytes, height: int, parent_time: int) -> Template:
        return Template(parent, height, max(int(self.clock()), parent_time + 1))


def unsigned_block(params: NetworkParams, tpl: Template, payout_script: bytes) -> Block:
    """The template's block paying `payout_script`, with a blank certificate output."""
    return make_block(params, tpl.parent, tpl.height, tpl.time, payout_script, tpl.txs, fees=tpl.fees,
                      certificate_slot=True)


def seal_block(params: NetworkParams, tpl: Template, payout_script: bytes, cycle_id: int, model_hash: bytes,
               contributions_root: bytes, seed: bytes, validity: int, privkey: bytes) -> tuple[Block, Certificate]:
    """Build the block paying `payout_script` and sign the certificate that fits it alone."""
    block = unsigned_block(params, tpl, payout_script)
    cert = Certificate(network=params.magic, parent_hash=tpl.parent, height=tpl.height, payout_script=payout_script,
                       cycle_id=cycle_id, model_hash=model_hash, contributions_root=contributions_root,
                       lottery_seed=seed, issue_time=tpl.time, expiry=tpl.time + validity,
                       block_commitment=bytes(32))
    sealed = certify(block, cert, privkey)
    return sealed, extract_certificate(sealed)
