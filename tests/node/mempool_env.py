"""A real chainstate on a temporary directory, a mempool following it and a funded MiniWallet:
the fixture behind the in-process mempool and mining tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from coincurve import PrivateKey

from regtest.chain.blockassembly import assemble_block, block_fees
from regtest.chain.chainstate import Chainstate
from regtest.consensus.params import regtest_params
from regtest.consensus.transaction import Transaction
from regtest.node.mempool import Mempool, MempoolListener, PolicySettings
from regtest.testing.miniwallet import MiniWallet

COORDINATOR_PRIV = bytes(range(1, 33))
T0 = 1_700_000_000


class Recorder(MempoolListener):
    """Keeps ('A'|'R', txid, mempool sequence) in order, as the ZMQ sequence topic would show."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes, int]] = []

    def transaction_added(self, tx: Transaction, mempool_sequence: int) -> None:
        self.events.append(("A", tx.txid, mempool_sequence))

    def transaction_removed(self, tx: Transaction, mempool_sequence: int) -> None:
        self.events.append(("R", tx.txid, mempool_sequence))


@dataclass
class Env:
    cs: Chainstate
    mp: Mempool
    wallet: MiniWallet
    params: object
    recorder: Recorder = field(default_factory=Recorder)

    @property
    def height(self) -> int:
        return self.cs.height

    def mine(self, txs=(), n: int = 1, payout: bytes | None = None) -> list:
        """Connect `n` blocks (the first holding `txs`); the wallet learns its outputs."""
        blocks = []
        for i in range(n):
            body = list(txs) if i == 0 else []
            tip = self.cs.tip
            t = tip.time + 1
            block = assemble_block(
                self.params, tip.hash, tip.height + 1, t, COORDINATOR_PRIV,
                payout or self.wallet.script_pubkey, body, fees=block_fees(self.cs, body),
            )
            res = self.cs.process_block(block)
            assert res.accepted and res.connected, res
            self.wallet.scan_block(block, self.cs.height)
            blocks.append(block)
        return blocks

    def utxo(self):
        return self.wallet.take(self.cs.height)

    def accept(self, tx: Transaction, **kw):
        return self.mp.accept(tx, **kw)


def make_env(tmp_path, n_blocks: int = 110, settings: PolicySettings | None = None, full_rbf: bool = True) -> Env:
    xonly = PrivateKey(COORDINATOR_PRIV).public_key.format(compressed=True)[1:]
    params = regtest_params(xonly)
    clock_now = [T0 + 100_000]
    cs = Chainstate.open(str(tmp_path / "chain"), params, clock=lambda: clock_now[0])
    mp = Mempool(cs, settings or PolicySettings(), full_rbf=full_rbf)
    cs.add_listener(mp)
    env = Env(cs, mp, MiniWallet(), params)
    mp.add_listener(env.recorder)
    tip = cs.tip
    # the first block's time sets the chain's clock; later ones step by one second
    first = assemble_block(params, tip.hash, 1, T0, COORDINATOR_PRIV, env.wallet.script_pubkey)
    assert cs.process_block(first).accepted
    env.wallet.scan_block(first, 1)
    env.mine(n=n_blocks - 1)
    return env
