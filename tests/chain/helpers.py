"""Deterministic block builders for the chainstate tests: any parent, any branch, signed
certificates, spends of anyone-can-spend (OP_TRUE) outputs so no signatures are needed."""

from __future__ import annotations

from dataclasses import dataclass, field

from regtest.chain.blockassembly import assemble_block
from regtest.consensus.block import Block
from regtest.consensus.certificate import xonly_pubkey
from regtest.consensus.params import NetworkParams, regtest_params
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut

COORDINATOR_KEY = bytes.fromhex("11" * 32)
OP_TRUE = b"\x51"


def regtest() -> NetworkParams:
    return regtest_params(xonly_pubkey(COORDINATOR_KEY))


def spend(prevouts: list[tuple[OutPoint, int]], n_out: int = 2, fee: int = 1000, tag: int = 0) -> Transaction:
    """A transaction spending OP_TRUE outputs into `n_out` OP_TRUE outputs, paying `fee`."""
    total = sum(v for _, v in prevouts) - fee
    each = total // n_out
    outs = [TxOut(each, OP_TRUE) for _ in range(n_out - 1)] + [TxOut(total - each * (n_out - 1), OP_TRUE)]
    # `tag` in the lock time keeps otherwise identical spends apart (0 < tag < 500M = height lock).
    return Transaction(2, tuple(TxIn(op, b"", 0xFFFFFFFE) for op, _ in prevouts), tuple(outs), tag)


@dataclass
class Builder:
    """Builds blocks on any known parent; remembers each block's height and time."""

    params: NetworkParams
    priv: bytes | None = COORDINATOR_KEY
    meta: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # hash -> (height, time)

    def __post_init__(self) -> None:
        g = self.params.genesis
        self.meta[g.hash] = (0, g.header.time)

    def block(
        self, parent: bytes, txs: tuple[Transaction, ...] = (), *, fees: int = 0, dt: int = 1,
        payout: bytes = OP_TRUE, extra_value: int = 0,
    ) -> Block:
        height, ptime = self.meta[parent]
        b = assemble_block(
            self.params, parent, height + 1, ptime + dt, self.priv, payout, txs, fees=fees + extra_value
        )
        self.meta[b.hash] = (height + 1, ptime + dt)
        return b

    def chain(self, parent: bytes, n: int, *, dt: int = 1, payout: bytes = OP_TRUE) -> list[Block]:
        out = []
        for _ in range(n):
            b = self.block(parent, dt=dt, payout=payout)
            out.append(b)
            parent = b.hash
        return out


def coinbase_out(block: Block) -> tuple[OutPoint, int]:
    cb = block.txs[0]
    return OutPoint(cb.txid, 0), cb.vout[0].value


def process_all(cs, blocks: list[Block]) -> None:
    for b in blocks:
        res = cs.process_block(b)
        assert res.accepted, (res.reason, res.debug)
