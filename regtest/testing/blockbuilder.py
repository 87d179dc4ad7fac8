"""A builder for named block sequences with expected outcomes (the engine behind blockscenarios).

In the spirit of Bitcoin Core's feature_block.py: blocks get names, are built on a named parent
by a short pipeline with hooks for small modifier functions, and every submission is recorded
as a `Step` with the outcome the consensus rules demand (accepted, or Core's reject reason) and
the tip the chain must have afterwards.

Pipeline of `ScenarioBuilder.block()`:
    coinbase + txs -> tx_mod -> witness commitment, merkle root -> header_mod
      -> seal (certificate networks: sign a certificate; cert_mod edits it first)
      -> post_mod (tampering after sealing: the merkle root, a lifted certificate, ...)
      -> finish (PoW networks: grind the nonce so the hash meets the target, or misses it)

A wallet keeps the keys of every output the builder creates (P2PK, P2PKH, P2WPKH, P2TR key
path, P2WSH and bare OP_TRUE), so scenario code spends coins by outpoint and gets real
signatures. Nothing here judges blocks: expectations are written by the scenario author and
checked against Bitcoin Core's engine by the differential tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from regtest.consensus.block import Block, BlockHeader, check_proof_of_work
from regtest.consensus.blockbuild import DEFAULT_BLOCK_VERSION, add_witness_commitment, make_coinbase
from regtest.consensus.certificate import Certificate, attach_certificate, block_commitment, certificate_placeholder
from regtest.consensus.hashes import hash_to_hex, sha256
from regtest.consensus.params import COINBASE_MATURITY, NetworkParams, ProofRule, block_subsidy
from regtest.consensus.script import push_data
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.testing.keys import Key, key_from_index
from regtest.testing.txgen import (
    SIGHASH_ALL,
    SIGHASH_DEFAULT,
    p2pk_script,
    p2pkh_script,
    p2tr_script,
    p2wpkh_script,
    p2wsh_script,
    sign_legacy,
    sign_taproot,
    sign_v0,
    taproot_output,
)

OP_TRUE = b"\x51"
#: P2WSH of a bare OP_TRUE witness script: anyone can spend it with a one-item witness.
P2WSH_OP_TRUE = p2wsh_script(OP_TRUE)
#: Output kinds the wallet can sign for (the rotation used for coinbase payouts comes first).
KEY_KINDS = ("p2pk", "p2pkh", "p2wpkh", "p2tr")

TxMod = Callable[[list[Transaction]], list[Transaction]]
HeaderMod = Callable[[BlockHeader], BlockHeader]
CertMod = Callable[[Certificate], Certificate]
BlockMod = Callable[[Block], Block]


# --- outcomes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One block submission and what must happen.

    reason: None when the block must be accepted (stored, not invalid; it may sit on a side
    branch), else the reject reason Bitcoin Core gives for it ("duplicate" for a block already
    stored). tip: the active tip's hash after the submission."""

    name: str
    block: Block
    reason: str | None
    tip: bytes
    tip_name: str
    height: int
    kind: str = ""  # groups invalid blocks by the rule they break (for coverage counts)

    @property
    def accepted(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict:
        """A plain record another implementation can replay (the bitcoind patch issue)."""
        return {
            "name": self.name,
            "block": self.block.serialize().hex(),
            "hash": self.block.hash_hex,
            "height": self.height,
            "expect_reason": self.reason,
            "expect_tip": hash_to_hex(self.tip),
            "expect_tip_name": self.tip_name,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Scenario:
    name: str
    network: str
    steps: tuple[Step, ...]

    @property
    def final_tip(self) -> bytes:
        return self.steps[-1].tip if self.steps else bytes(32)

    def invalid_kinds(self) -> dict[str, str]:
        """kind -> reason of every block this scenario expects to be rejected (not duplicates)."""
        return {s.kind or s.name: s.reason for s in self.steps if s.reason and not s.reason.startswith("duplicate")}

    def to_json(self) -> dict:
        return {"name": self.name, "network": self.network, "steps": [s.to_json() for s in self.steps]}


# --- sealing: the proof rule --------------------------------------------------------------------
class Sealer:
    """Proof of work: nothing to sign; `finish` grinds the nonce."""

    def __init__(self, params: NetworkParams) -> None:
        self.params = params

    def seal(self, block: Block, height: int, cert_mod: CertMod | None, key: bytes | None) -> Block:
        return block

    def finish(self, block: Block, pow_valid: bool) -> Block:
        """Pick the first nonce whose hash meets the target (or, for `pow_valid=False`, misses it)."""
        header = block.header
        for nonce in range(1 << 20):
            h = header.replace(nonce=nonce)
            if check_proof_of_work(h.hash, h.bits, self.params.pow_limit) == pow_valid:
                return Block(h, block.txs)
        raise RuntimeError("no suitable nonce found")


class CertificateSealer(Sealer):
    """The certificate proof rule: sign a certificate for the block with the coordinator key."""

    def __init__(self, params: NetworkParams, coordinator_key: bytes | Callable[[int], bytes]) -> None:
        """`coordinator_key`: one private key, or a function height -> key (a key schedule)."""
        super().__init__(params)
        self.key_for: Callable[[int], bytes] = (
            coordinator_key if callable(coordinator_key) else (lambda _h, k=coordinator_key: k)
        )

    def certificate_for(self, block: Block, height: int) -> Certificate:
        """The default certificate: valid one hour either side of the block time."""
        seed = sha256(b"scenario" + block.header.prev_hash + height.to_bytes(4, "little"))
        return Certificate(
            network=self.params.magic,
            parent_hash=block.header.prev_hash,
            height=height,
            payout_script=block.txs[0].vout[0].script_pubkey,
            cycle_id=height,
            model_hash=sha256(b"model" + seed),
            contributions_root=sha256(b"contributions" + seed),
            lottery_seed=seed,
            issue_time=max(0, block.header.time - 3600),
            expiry=block.header.time + 3600,
            block_commitment=bytes(32),
        )

    def seal(self, block: Block, height: int, cert_mod: CertMod | None, key: bytes | None) -> Block:
        cert = self.certificate_for(block, height).replace(block_commitment=block_commitment(block))
        if cert_mod is not None:
            cert = cert_mod(cert)  # sees the real commitment, may change any field before signing
        return attach_certificate(block, cert.sign(key or self.key_for(height)))

    def finish(self, block: Block, pow_valid: bool) -> Block:
        return block  # the header hash is not compared with a target


def make_sealer(params: NetworkParams, coordinator_key: bytes | Callable[[int], bytes] | None = None) -> Sealer:
    if params.proof_rule is ProofRule.CERTIFICATE:
        if coordinator_key is None:
            raise ValueError("a certificate network needs the coordinator's private key")
        return CertificateSealer(params, coordinator_key)
    return Sealer(params)


# --- the wallet ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spendable:
    """An output the builder made and knows how to unlock."""

    outpoint: OutPoint
    txout: TxOut
    height: int
    coinbase: bool

    @property
    def value(self) -> int:
        return self.txout.value


class Wallet:
    """Keys per output kind, and unlocking data for any script it produced."""

    def __init__(self) -> None:
        self.keys = {kind: key_from_index(10 + i) for i, kind in enumerate(KEY_KINDS)}
        self._tap = taproot_output(self.keys["p2tr"])
        self.scripts = {self.script(kind): kind for kind in KEY_KINDS + ("op_true", "p2wsh_op_true")}

    def script(self, kind: str) -> bytes:
        if kind == "op_true":
            return OP_TRUE
        if kind == "p2wsh_op_true":
            return P2WSH_OP_TRUE
        key = self.keys[kind]
        if kind == "p2pk":
            return p2pk_script(key.pub)
        if kind == "p2pkh":
            return p2pkh_script(key.pub)
        if kind == "p2wpkh":
            return p2wpkh_script(key.pub)
        if kind == "p2tr":
            return p2tr_script(self._tap.output_xonly)
        raise ValueError(kind)

    def kind_of(self, script: bytes) -> str | None:
        return self.scripts.get(script)

    def sign(self, tx: Transaction, spent: Sequence[TxOut], hashtype: int | None = None) -> Transaction:
        """Fill in scriptSig and witness of every input whose spent script this wallet knows."""
        vin = list(tx.vin)
        for i, out in enumerate(spent):
            kind = self.kind_of(out.script_pubkey)
            if kind is None:
                continue
            script_sig, witness = self._unlock(kind, tx, i, spent, hashtype)
            vin[i] = replace(vin[i], script_sig=script_sig, witness=witness)
        return Transaction(tx.version, tuple(vin), tx.vout, tx.locktime)

    def _unlock(
        self, kind: str, tx: Transaction, i: int, spent: Sequence[TxOut], hashtype: int | None
    ) -> tuple[bytes, tuple[bytes, ...]]:
        if kind == "op_true":
            return b"", ()
        if kind == "p2wsh_op_true":
            return b"", (OP_TRUE,)
        key: Key = self.keys[kind]
        ht = SIGHASH_ALL if hashtype is None else hashtype
        if kind == "p2pk":
            return push_data(sign_legacy(key, tx, i, spent[i].script_pubkey, ht)), ()
        if kind == "p2pkh":
            return push_data(sign_legacy(key, tx, i, spent[i].script_pubkey, ht)) + push_data(key.pub), ()
        if kind == "p2wpkh":
            return b"", (sign_v0(key, tx, i, p2pkh_script(key.pub), spent[i].value, ht), key.pub)
        if kind == "p2tr":
            ht = SIGHASH_DEFAULT if hashtype is None else hashtype
            return b"", (sign_taproot(self._tap.tweaked_secret, tx, i, spent, ht),)
        raise ValueError(kind)


# --- the builder --------------------------------------------------------------------------------
@dataclass
class _Named:
    block: Block
    height: int


@dataclass
class ScenarioBuilder:
    """Builds named blocks on named parents and records the expected outcome of each submission."""

    params: NetworkParams
    sealer: Sealer
    name: str = "scenario"
    wallet: Wallet = field(default_factory=Wallet)
    blocks: dict[str, _Named] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    outputs: dict[OutPoint, Spendable] = field(default_factory=dict)
    tip_name: str = "genesis"
    _extranonce: int = 0

    def __post_init__(self) -> None:
        self.blocks["genesis"] = _Named(self.params.genesis, 0)

    # --- lookups ---------------------------------------------------------------------------
    @property
    def network(self) -> str:
        return self.params.name

    @property
    def pow_network(self) -> bool:
        return self.params.proof_rule is ProofRule.POW

    def __getitem__(self, name: str) -> Block:
        return self.blocks[name].block

    def height_of(self, name: str) -> int:
        return self.blocks[name].height

    def coinbase_out(self, name: str) -> Spendable:
        """The payout output (index 0) of a named block's coinbase."""
        cb = self[name].txs[0]
        return self.outputs[OutPoint(cb.txid, 0)]

    def out(self, tx: Transaction, n: int = 0) -> Spendable:
        return self.outputs[OutPoint(tx.txid, n)]

    # --- transactions ------------------------------------------------------------------------
    def spend(
        self,
        coins: Sequence[Spendable],
        outputs: Sequence[TxOut] | None = None,
        *,
        fee: int = 1000,
        to: str = "op_true",
        version: int = 2,
        locktime: int = 0,
        sequence: int | Sequence[int] = 0xFFFFFFFE,
        sign: bool = True,
        hashtype: int | None = None,
    ) -> Transaction:
        """A transaction spending `coins` (signed by the wallet); by default one output paying
        everything but `fee` to a script of kind `to`."""
        if outputs is None:
            outputs = [TxOut(sum(c.value for c in coins) - fee, self.wallet.script(to))]
        seqs = [sequence] * len(coins) if isinstance(sequence, int) else list(sequence)
        vin = tuple(TxIn(c.outpoint, b"", s) for c, s in zip(coins, seqs))
        tx = Transaction(version, vin, tuple(outputs), locktime)
        if sign:
            tx = self.wallet.sign(tx, [c.txout for c in coins], hashtype)
        self._register_outputs(tx, height=-1, coinbase=False)
        return tx

    def _register_outputs(self, tx: Transaction, height: int, coinbase: bool) -> None:
        for n, out in enumerate(tx.vout):
            op = OutPoint(tx.txid, n)
            known = self.outputs.get(op)
            if known is None or known.height < 0:
                self.outputs[op] = Spendable(op, out, height, coinbase)

    def fee_of(self, tx: Transaction) -> int:
        """Inputs minus outputs, counting only inputs the builder knows (others count as 0)."""
        if tx.is_coinbase():
            return 0
        value_in = sum(self.outputs[i.prevout].value for i in tx.vin if i.prevout in self.outputs)
        return max(0, value_in - sum(o.value for o in tx.vout))

    # --- blocks ------------------------------------------------------------------------------
    def block(
        self,
        name: str,
        parent: str | None = None,
        txs: Sequence[Transaction] = (),
        *,
        payout: str | None = None,
        coinbase_value: int | None = None,
        extra_reward: int = 0,
        time: int | None = None,
        version: int = DEFAULT_BLOCK_VERSION,
        bits: int | None = None,
        witness_commitment: bool = True,
        tx_mod: TxMod | None = None,
        refresh_commitment: bool = True,
        header_mod: HeaderMod | None = None,
        cert_mod: CertMod | None = None,
        cert_key: bytes | None = None,
        post_mod: BlockMod | None = None,
        pow_valid: bool = True,
        height: int | None = None,
    ) -> Block:
        """Build block `name` on `parent` (default: the current expected tip) and remember it.

        The coinbase pays subsidy + fees (+ `extra_reward`, or exactly `coinbase_value`) to the
        wallet's script of kind `payout` (default: rotates P2PK, P2PKH, P2WPKH, P2TR by height)."""
        if name in self.blocks:
            raise ValueError(f"block name {name!r} already used")
        parent = parent or self.tip_name
        prev = self.blocks[parent]
        h = prev.height + 1 if height is None else height
        kind = payout or KEY_KINDS[h % len(KEY_KINDS)]
        fees = sum(self.fee_of(tx) for tx in txs)
        value = block_subsidy(h, self.params) + fees + extra_reward if coinbase_value is None else coinbase_value
        self._extranonce += 1
        extra = (certificate_placeholder(),) if not self.pow_network else ()
        coinbase = make_coinbase(
            h, self.wallet.script(kind), value, extra_outputs=extra,
            extranonce=self._extranonce.to_bytes(4, "little"),
            witness_reserved=bytes(32) if witness_commitment else None,
        )
        all_txs = [coinbase, *txs]
        if tx_mod is not None:
            all_txs = list(tx_mod(all_txs))
        t = prev.block.header.time + 1 if time is None else time
        header = BlockHeader(version, prev.block.hash, bytes(32), t, self.params.pow_limit_bits if bits is None else bits, 0)
        blk = Block(header, tuple(all_txs))
        if witness_commitment and refresh_commitment:
            blk = add_witness_commitment(blk)
        else:
            blk = blk.with_txs(blk.txs)
        if header_mod is not None:
            blk = Block(header_mod(blk.header), blk.txs)
        blk = self.sealer.seal(blk, h, cert_mod, cert_key)
        if post_mod is not None:
            blk = post_mod(blk)
        blk = self.sealer.finish(blk, pow_valid)
        self.blocks[name] = _Named(blk, h)
        for tx in blk.txs:
            self._register_outputs(tx, h, tx.is_coinbase())
        return blk

    def add_raw(self, name: str, block: Block, height: int) -> None:
        """Remember a block built outside the pipeline (e.g. a copy with one field changed)."""
        if name in self.blocks:
            raise ValueError(f"block name {name!r} already used")
        self.blocks[name] = _Named(block, height)

    # --- expectations ------------------------------------------------------------------------
    def accept(self, name: str, *, tip: str | None = None) -> None:
        """Submitting `name` must succeed; the tip becomes `tip` (default: the block itself)."""
        self._step(name, None, tip or name)

    def side(self, name: str) -> None:
        """Accepted and stored, but the tip stays where it is (less or equal work)."""
        self._step(name, None, self.tip_name)

    def reject(self, name: str, reason: str, *, tip: str | None = None, kind: str = "") -> None:
        """Submitting `name` must fail with Core's `reason`; the tip becomes `tip` (default: unchanged)."""
        self._step(name, reason, tip or self.tip_name, kind)

    def expect(self, name: str, reason: str | None, tip: str, kind: str = "") -> None:
        """The general form: submitting `name` gives `reason` (None: accepted) and tip `tip`."""
        self._step(name, reason, tip, kind)

    def _step(self, name: str, reason: str | None, tip: str, kind: str = "") -> None:
        named = self.blocks[name]
        self.steps.append(Step(name, named.block, reason, self.blocks[tip].block.hash, tip, named.height, kind))
        self.tip_name = tip

    def chain(self, prefix: str, count: int, parent: str | None = None, *, accept: bool = True, **kw) -> list[str]:
        """`count` empty blocks named prefix1..prefixN, each on the previous one; each accepted
        (becoming the tip) when `accept`, else left for the caller to submit."""
        names = []
        last = parent or self.tip_name
        for i in range(1, count + 1):
            name = f"{prefix}{i}"
            self.block(name, last, **kw)
            if accept:
                self.accept(name)
            names.append(name)
            last = name
        return names

    def mature_coinbases(self, count: int, prefix: str = "m") -> list[Spendable]:
        """Mine `count` + COINBASE_MATURITY blocks on the tip; the first `count` coinbases are
        then spendable in the next block."""
        names = self.chain(prefix, count + COINBASE_MATURITY - 1)
        return [self.coinbase_out(n) for n in names[:count]]

    def finish(self) -> Scenario:
        return Scenario(self.name, self.network, tuple(self.steps))


__all__ = [
    "CertificateSealer",
    "KEY_KINDS",
    "OP_TRUE",
    "P2WSH_OP_TRUE",
    "Scenario",
    "ScenarioBuilder",
    "Sealer",
    "Spendable",
    "Step",
    "Wallet",
    "make_sealer",
]
