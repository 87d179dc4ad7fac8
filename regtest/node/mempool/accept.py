"""Mempool acceptance in Bitcoin Core's order (validation.cpp MemPoolAccept): consensus checks,
standardness, finality, inputs, fees, chain limits, replacement (full RBF), then scripts.

Every refusal is a `MempoolReject` carrying Core's reject reason and its details text;
`AcceptResult.state_string` is what sendrawtransaction puts in its -26 message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regtest.consensus.block_validation import _check_tx_inputs as check_tx_inputs
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.script_error import ScriptError, error_string
from regtest.consensus.script_flags import STANDARD_FLAGS
from regtest.consensus.transaction import OutPoint, Transaction, TxOut
from regtest.consensus.tx_check import TxValidationError, check_transaction
from regtest.consensus.tx_finality import is_final_tx, sequence_lock_pair, sequence_locks_met
from regtest.consensus.verify import PrecomputedTxData, check_input
from regtest.node.mempool import policy
from regtest.node.mempool.chainview import MEMPOOL_HEIGHT, ChainView
from regtest.node.mempool.policy import PolicySettings, fee_for
from regtest.node.mempool.truc import truc_violation
from regtest.node.mempool.pool import ENTRY_OVERHEAD, MEMPOOL_EXPIRY, MempoolEntry, RemovalReason, TxPool

#: Reject-reason prefix for any script failure in the mempool (Core v30+).
SCRIPT_FAILURE = "mempool-script-verify-flag-failed"
MAX_FEE_EXCEEDED = "max-fee-exceeded"
SEQUENCE_FINAL = 0xFFFFFFFF
BIP125_MAX_SEQUENCE = 0xFFFFFFFD


class MempoolReject(Exception):
    """A transaction was refused; `reason` is Core's reject string, `debug` its details."""

    def __init__(self, reason: str, debug: str = "", missing_inputs: bool = False) -> None:
        super().__init__(f"{reason}, {debug}" if debug else reason)
        self.reason = reason
        self.debug = debug
        self.missing_inputs = missing_inputs


@dataclass
class AcceptResult:
    tx: Transaction
    accepted: bool
    reason: str = ""
    debug: str = ""
    missing_inputs: bool = False
    fee: int = 0
    vsize: int = 0
    replaced: list[Transaction] = field(default_factory=list)

    @property
    def state_string(self) -> str:
        """Core's TxValidationState::ToString: "reason, details"."""
        return f"{self.reason}, {self.debug}" if self.debug else self.reason


def format_money(sats: int) -> str:
    """Core's FormatMoney: BTC with trailing zeros trimmed to at least two decimals."""
    sign = "-" if sats < 0 else ""
    q, r = divmod(abs(sats), 100_000_000)
    text = f"{q}.{r:08d}"
    while text.endswith("0") and text[-3] != ".":
        text = text[:-1]
    return sign + text


def format_feerate(sat_per_kvb: int) -> str:
    """Core's CFeeRate::ToString (BTC/kvB)."""
    q, r = divmod(sat_per_kvb, 100_000_000)
    return f"{q}.{r:08d} BTC/kvB"


def fee_rate_per_kvb(fee: int, vsize: int) -> int:
    """Core's CFeeRate(fee, size): sat per 1000 vbytes, truncated."""
    return fee * 1000 // vsize if vsize else 0


def signals_rbf(tx: Transaction) -> bool:
    return any(txin.sequence <= BIP125_MAX_SEQUENCE for txin in tx.vin)


@dataclass
class _Work:
    """Everything the checks learn about one transaction on the way."""

    tx: Transaction
    txid: bytes
    coins: list[Coin] = field(default_factory=list)
    spent: list[TxOut] = field(default_factory=list)
    conflicts: set[bytes] = field(default_factory=set)
    ancestors: set[bytes] = field(default_factory=set)
    weight: int = 0
    size: int = 0
    stripped: int = 0
    fee: int = 0
    vsize: int = 0
    sigops: int = 0
    spends_coinbase: bool = False
    all_conflicts: set[bytes] = field(default_factory=set)


class MempoolAccept:
    """Runs the acceptance checks for one pool against one chain."""

    def __init__(self, pool: TxPool, chain: ChainView, settings: PolicySettings, full_rbf: bool = True) -> None:
        self.pool = pool
        self.chain = chain
        self.settings = settings
        self.full_rbf = full_rbf

    # --- public -------------------------------------------------------------------------------
    def accept(
        self,
        tx: Transaction,
        *,
        test_accept: bool = False,
        bypass_limits: bool = False,
        package_member: bool = False,
        accept_time: int | None = None,
        max_fee: int = 0,
    ) -> AcceptResult:
        """Check `tx` and (unless `test_accept`) add it. `bypass_limits` skips the fee floors and
        the size limit (reorg re-adds); `package_member` adds without trimming and refuses
        replacements (testmempoolaccept packages, which are rolled back afterwards). A positive
        `max_fee` refuses a valid transaction paying more ("max-fee-exceeded", checked last, as
        sendrawtransaction's test-accept-then-submit does in Core)."""
        stripped = tx.stripped_size
        size = tx.total_size
        w = _Work(tx, tx.txid, weight=stripped * 3 + size, size=size, stripped=stripped)
        try:
            self._prechecks(w)
            if package_member and w.conflicts:
                raise MempoolReject("txn-mempool-conflict")
            if not bypass_limits:
                self._check_fee_rate(w)
            self._check_limits(w)
            if w.conflicts:
                self._replacement_checks(w)
            self._script_checks(w)
            if max_fee > 0 and w.fee > max_fee:
                raise MempoolReject(MAX_FEE_EXCEEDED)
        except MempoolReject as e:
            return AcceptResult(tx, False, e.reason, e.debug, e.missing_inputs, w.fee, w.vsize)
        if test_accept:
            return AcceptResult(tx, True, fee=w.fee, vsize=w.vsize)
        return self._finalize(w, bypass_limits or package_member, accept_time)

    # --- stages -------------------------------------------------------------------------------
    def _prechecks(self, w: _Work) -> None:
        tx, pool, chain, settings = w.tx, self.pool, self.chain, self.settings
        try:
            check_transaction(tx)
        except TxValidationError as e:
            raise MempoolReject(e.reason, e.debug) from None
        if tx.is_coinbase():
            raise MempoolReject("coinbase")
        reason = policy.check_standard_tx(tx, settings, w.weight)
        if reason is not None:
            raise MempoolReject(reason)
        if w.stripped < policy.MIN_STANDARD_TX_NONWITNESS_SIZE:
            raise MempoolReject("tx-size-small")
        next_height = chain.tip_height + 1
        if not is_final_tx(tx, next_height, chain.tip_mtp()):
            raise MempoolReject("non-final")
        if tx.wtxid in pool.by_wtxid:
            raise MempoolReject("txn-already-in-mempool")
        if w.txid in pool.entries:
            raise MempoolReject("txn-same-nonwitness-data-in-mempool")
        for txin in tx.vin:
            other = pool.spenders.get(txin.prevout)
            if other is not None:
                if not self.full_rbf and not signals_rbf(pool.entries[other].tx):
                    raise MempoolReject("txn-mempool-conflict")
                w.conflicts.add(other)
        self._load_inputs(w)
        prev_heights = [c.height if c.height != MEMPOOL_HEIGHT else next_height for c in w.coins]
        lock = sequence_lock_pair(tx, True, prev_heights, chain.mtp_at)
        if not sequence_locks_met(lock, next_height, chain.tip_mtp()):
            raise MempoolReject("non-BIP68-final")
        try:
            w.fee = check_tx_inputs(tx, w.coins, next_height)
        except BlockValidationError as e:
            raise MempoolReject(e.reason, e.debug) from None
        if not policy.inputs_standard(tx, w.spent):
            raise MempoolReject("bad-txns-nonstandard-inputs")
        if w.size != w.stripped and not policy.witness_standard(tx, w.spent):  # it has a witness
            raise MempoolReject("bad-witness-nonstandard")
        w.sigops = policy.sigop_cost(tx, w.spent)
        if w.sigops > policy.MAX_STANDARD_TX_SIGOPS_COST:
            raise MempoolReject("bad-txns-too-many-sigops", str(w.sigops))
        w.vsize = policy.policy_vsize(w.weight, w.sigops, settings.bytes_per_sigop)

    def _load_inputs(self, w: _Work) -> None:
        """Coins from the chain or from in-mempool parents (Core's CCoinsViewMemPool)."""
        entries = self.pool.entries
        get_coin = self.chain.get_coin
        missing = False
        for txin in w.tx.vin:
            op = txin.prevout
            parent = entries.get(op.txid)
            coin: Coin | None
            if parent is not None:
                vout = parent.tx.vout
                coin = Coin(vout[op.n].value, vout[op.n].script_pubkey, MEMPOOL_HEIGHT, False) if op.n < len(vout) else None
            else:
                coin = get_coin(op)
            if coin is None:
                missing = True
                break
            if coin.is_coinbase:
                w.spends_coinbase = True
            w.coins.append(coin)
            w.spent.append(coin.txout)
        if missing:
            for n in range(len(w.tx.vout)):
                if get_coin(OutPoint(w.txid, n)) is not None:
                    raise MempoolReject("txn-already-known")
            raise MempoolReject("bad-txns-inputs-missingorspent", missing_inputs=True)

    def _check_fee_rate(self, w: _Work) -> None:
        s = self.settings
        floor = self.pool.min_fee_rate(s.max_mempool_bytes, s.incremental_relay_fee)
        reject_fee = fee_for(floor, w.vsize)
        if reject_fee > 0 and w.fee < reject_fee:
            raise MempoolReject("mempool min fee not met", f"{w.fee} < {reject_fee}")
        relay_fee = fee_for(s.min_relay_fee, w.vsize)
        if w.fee < relay_fee:
            raise MempoolReject("min relay fee not met", f"{w.fee} < {relay_fee}")

    def _check_limits(self, w: _Work) -> None:
        """Core's CalculateMemPoolAncestors with the default 25 / 101 kvB limits."""
        pool, s = self.pool, self.settings
        parents = pool.parents_of(w.tx)
        ancestors: set[bytes] = set(parents)
        for p in parents:
            ancestors |= pool.ancestors(p)
        w.ancestors = ancestors
        detail = truc_violation(w.tx, w.vsize, ancestors, pool, w.conflicts)
        if detail is not None:
            raise MempoolReject("TRUC-violation", detail)
        if len(ancestors) + 1 > s.ancestor_limit:
            raise MempoolReject("too-long-mempool-chain", f"too many unconfirmed ancestors [limit: {s.ancestor_limit}]")
        agg = pool.aggregate(ancestors)
        if agg.vsize + w.vsize > s.ancestor_size_limit:
            raise MempoolReject("too-long-mempool-chain", f"exceeds ancestor size limit [limit: {s.ancestor_size_limit}]")
        for a in ancestors:
            d = pool.with_descendants(a)
            if d.count + 1 > s.descendant_limit:
                raise MempoolReject(
                    "too-long-mempool-chain", f"too many descendants for tx {hash_to_hex(a)} [limit: {s.descendant_limit}]"
                )
            if d.vsize + w.vsize > s.descendant_size_limit:
                raise MempoolReject(
                    "too-long-mempool-chain",
                    f"exceeds descendant size limit for tx {hash_to_hex(a)} [limit: {s.descendant_size_limit}]",
                )

    def _replacement_checks(self, w: _Work) -> None:
        """Core's RBF rules (policy/rbf.cpp) with full RBF: every conflict is replaceable."""
        pool, s = self.pool, self.settings
        txid_hex = hash_to_hex(w.txid)
        conflicts = w.conflicts
        all_conflicts: set[bytes] = set()
        for c in conflicts:
            all_conflicts.add(c)
            all_conflicts |= pool.descendants(c)
            if len(all_conflicts) > policy.MAX_REPLACEMENT_CANDIDATES:
                break
        if len(all_conflicts) > policy.MAX_REPLACEMENT_CANDIDATES:
            raise MempoolReject(
                "too many potential replacements",
                f"rejecting replacement {txid_hex}; too many potential replacements "
                f"({len(all_conflicts)} > {policy.MAX_REPLACEMENT_CANDIDATES})",
            )
        conflict_parents = {txin.prevout.txid for c in conflicts for txin in pool.entries[c].tx.vin}
        for i, txin in enumerate(w.tx.vin):
            if txin.prevout.txid in pool.entries and txin.prevout.txid not in conflict_parents:
                raise MempoolReject("replacement-adds-unconfirmed", f"replacement {txid_hex} adds unconfirmed input, idx {i}")
        for a in w.ancestors:
            if a in conflicts:
                raise MempoolReject(
                    "bad-txns-spends-conflicting-tx", f"{txid_hex} spends conflicting transaction {hash_to_hex(a)}"
                )
        new_rate = fee_rate_per_kvb(w.fee, w.vsize)
        for c in conflicts:
            e = pool.entries[c]
            old_rate = fee_rate_per_kvb(e.fee, e.vsize)
            if new_rate <= old_rate:
                raise MempoolReject(
                    "insufficient fee",
                    f"rejecting replacement {txid_hex}; new feerate {format_feerate(new_rate)} <= old feerate "
                    f"{format_feerate(old_rate)}",
                )
        replaced_fees = sum(pool.entries[c].fee for c in all_conflicts)
        if w.fee < replaced_fees:
            raise MempoolReject(
                "insufficient fee",
                f"rejecting replacement {txid_hex}, less fees than conflicting txs; "
                f"{format_money(w.fee)} < {format_money(replaced_fees)}",
            )
        additional = w.fee - replaced_fees
        relay = fee_for(s.incremental_relay_fee, w.vsize)
        if additional < relay:
            raise MempoolReject(
                "insufficient fee",
                f"rejecting replacement {txid_hex}, not enough additional fees to relay; "
                f"{format_money(additional)} < {format_money(relay)}",
            )
        w.all_conflicts = all_conflicts

    def _script_checks(self, w: _Work) -> None:
        """Every input under the standard flags; since v30 Core reports policy and consensus
        script failures in the mempool alike."""
        tx, spent = w.tx, w.spent
        txdata = PrecomputedTxData(tx, spent)
        for i in range(len(tx.vin)):
            err = check_input(tx, i, spent, STANDARD_FLAGS, txdata)
            if err != ScriptError.OK:
                raise MempoolReject(f"{SCRIPT_FAILURE} ({error_string(err)})")

    def _finalize(self, w: _Work, bypass_limits: bool, accept_time: int | None = None) -> AcceptResult:
        pool, s = self.pool, self.settings
        replaced: list[Transaction] = []
        if w.all_conflicts:
            replaced = pool.remove(pool.topological(w.all_conflicts), RemovalReason.REPLACED)
        entry = MempoolEntry(
            w.tx, w.fee, w.vsize, w.weight, w.sigops, int(pool.clock()) if accept_time is None else accept_time,
            self.chain.tip_height, w.spends_coinbase,
            ENTRY_OVERHEAD + w.size,
        )
        pool.add(entry)
        if not bypass_limits:
            pool.expire(pool.clock() - MEMPOOL_EXPIRY)
            pool.trim_to_size(s.max_mempool_bytes, s.incremental_relay_fee)
            if w.txid not in pool.entries:
                return AcceptResult(w.tx, False, "mempool full", "", False, w.fee, w.vsize)
        return AcceptResult(w.tx, True, fee=w.fee, vsize=w.vsize, replaced=replaced)
