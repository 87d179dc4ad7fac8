"""Bitcoin Core's block rules with Core's reject reasons, as pure functions.

The chainstate calls, in order:
  check_block_header(header, params)                                   context-free header
  contextual_check_block_header(header, height, prev_mtp, expected_bits, now, params)
  check_block(block, params)                                           context-free block
  contextual_check_block(block, height, prev_mtp, params)              needs height, parent MTP
  connect_block(block, height, view, params, prev_mtp, mtp_at=...)     needs the UTXO view
Each raises BlockValidationError(reason, debug, result) on the first failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from regtest.consensus.block import (
    MAX_BLOCK_SIGOPS_COST,
    MAX_BLOCK_WEIGHT,
    NO_WITNESS_COMMITMENT,
    WITNESS_SCALE_FACTOR,
    Block,
    BlockHeader,
    bip34_height_script,
    block_merkle_root,
    check_proof_of_work,
    witness_commitment_hash,
    witness_commitment_index,
    witness_merkle_root,
)
from regtest.consensus.certificate import check_block_certificate, extract_certificate
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockResult, BlockValidationError
from regtest.consensus.params import (
    COINBASE_MATURITY,
    MAX_FUTURE_BLOCK_TIME,
    NetworkParams,
    ProofRule,
    block_subsidy,
    get_block_script_flags,
)
from regtest.consensus.script import is_unspendable
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.sigops import legacy_sigop_count, transaction_sigop_cost
from regtest.consensus.transaction import MAX_MONEY, OutPoint, Transaction, TxOut
from regtest.consensus.tx_check import TxValidationError, check_transaction
from regtest.consensus.tx_finality import is_final_tx, sequence_lock_pair, sequence_locks_met

CoinView = Callable[[OutPoint], Coin | None]
BIP34_IMPLIES_BIP30_LIMIT = 1_983_702
#: Core v30+ (the reference here, and the libbitcoinkernel in pbk); up to v29 Core said
#: "mandatory-script-verify-flag-failed (<error>)".
SCRIPT_FAILURE_PREFIX = "block-script-verify-flag-failed"

_CONSENSUS = BlockResult.CONSENSUS
_MUTATED = BlockResult.MUTATED
_HEADER = BlockResult.INVALID_HEADER


def money_range(value: int) -> bool:
    return 0 <= value <= MAX_MONEY


def format_money(value: int) -> str:
    """Core's FormatMoney: BTC with trailing zeros trimmed to at least two decimals."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 100_000_000)
    digits = f"{frac:08d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def median_time_past(times: Sequence[int]) -> int:
    """Median of (up to) the last 11 block times, as Core's GetMedianTimePast."""
    window = sorted(times[-11:])
    return window[len(window) // 2]


# --- headers ------------------------------------------------------------------------------------
def check_block_header(header: BlockHeader, params: NetworkParams) -> None:
    """Core's CheckBlockHeader: proof of work; certificate networks require the fixed nBits."""
    if params.proof_rule is ProofRule.POW:
        if not check_proof_of_work(header.hash, header.bits, params.pow_limit):
            raise BlockValidationError("high-hash", "proof of work failed", _HEADER)
    elif header.bits != params.pow_limit_bits:
        raise BlockValidationError("bad-diffbits", "incorrect proof of work", _HEADER)


def contextual_check_block_header(
    header: BlockHeader, height: int, prev_mtp: int, expected_bits: int, now: int, params: NetworkParams
) -> None:
    """Core's ContextualCheckBlockHeader. `expected_bits` comes from params.next_work_required."""
    if header.bits != expected_bits:
        raise BlockValidationError("bad-diffbits", "incorrect proof of work", _HEADER)
    if header.time <= prev_mtp:
        raise BlockValidationError("time-too-old", "block's timestamp is too early", _HEADER)
    if header.time > now + MAX_FUTURE_BLOCK_TIME:
        raise BlockValidationError("time-too-new", "block timestamp too far in the future", BlockResult.TIME_FUTURE)
    v = header.version
    if (
        (v < 2 and height >= params.bip34_height)
        or (v < 3 and height >= params.bip66_height)
        or (v < 4 and height >= params.bip65_height)
    ):
        hexv = f"0x{v & 0xFFFFFFFF:08x}"
        raise BlockValidationError(f"bad-version({hexv})", f"rejected nVersion={hexv} block", _HEADER)


# --- context-free block checks --------------------------------------------------------------------
def check_merkle_root(block: Block) -> None:
    root, mutated = block_merkle_root(block.txs)
    if block.header.merkle_root != root:
        raise BlockValidationError("bad-txnmrklroot", "hashMerkleRoot mismatch", _MUTATED)
    if mutated:
        raise BlockValidationError("bad-txns-duplicate", "duplicate transaction", _MUTATED)


def check_block(block: Block, params: NetworkParams, check_merkle: bool = True, check_proof: bool = True) -> None:
    """Core's CheckBlock; on certificate networks the certificate rule (at the certificate's
    own height) runs last, in place of the proof-of-work check, so Core's reasons stay first."""
    if check_proof and params.proof_rule is ProofRule.POW:
        check_block_header(block.header, params)
    if check_merkle:
        check_merkle_root(block)
    txs = block.txs
    if (
        not txs
        or len(txs) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
        or block.stripped_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
    ):
        raise BlockValidationError("bad-blk-length", "size limits failed")
    if not txs[0].is_coinbase():
        raise BlockValidationError("bad-cb-missing", "first tx is not coinbase")
    for tx in txs[1:]:
        if tx.is_coinbase():
            raise BlockValidationError("bad-cb-multiple", "more than one coinbase")
    for tx in txs:
        try:
            check_transaction(tx)
        except TxValidationError as e:
            raise BlockValidationError(
                e.reason, f"Transaction check failed (tx hash {tx.txid_hex}) {e.debug}".rstrip()
            ) from None
    sigops = 0
    for tx in txs:
        sigops += legacy_sigop_count(tx)
    if sigops * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST:
        raise BlockValidationError("bad-blk-sigops", "out-of-bounds SigOpCount")
    if check_proof and params.proof_rule is ProofRule.CERTIFICATE:
        check_block_header(block.header, params)
        check_block_certificate(block, None, params)


# --- contextual block checks --------------------------------------------------------------------
def check_witness_malleation(block: Block, expect_witness_commitment: bool) -> None:
    """Core's CheckWitnessMalleation: commitment and reserved value, or no witness at all."""
    if expect_witness_commitment:
        pos = witness_commitment_index(block)
        if pos != NO_WITNESS_COMMITMENT:
            stack = block.txs[0].vin[0].witness
            if len(stack) != 1 or len(stack[0]) != 32:
                raise BlockValidationError(
                    "bad-witness-nonce-size", "invalid witness reserved value size", _MUTATED
                )
            expected = witness_commitment_hash(witness_merkle_root(block.txs), stack[0])
            if block.txs[0].vout[pos].script_pubkey[6:38] != expected:
                raise BlockValidationError(
                    "bad-witness-merkle-match", "witness merkle commitment mismatch", _MUTATED
                )
            return
    for tx in block.txs:
        if tx.has_witness():
            raise BlockValidationError("unexpected-witness", "unexpected witness data found", _MUTATED)


def contextual_check_block(block: Block, height: int, prev_mtp: int, params: NetworkParams) -> None:
    """Core's ContextualCheckBlock (finality, BIP34 height, witness, weight) and, on
    certificate networks, that the certificate is for this height. `prev_mtp` is the
    parent's median time past."""
    cutoff = prev_mtp if height >= params.csv_height else block.header.time
    for tx in block.txs:
        if not is_final_tx(tx, height, cutoff):
            raise BlockValidationError("bad-txns-nonfinal", "non-final transaction")
    if height >= params.bip34_height:
        expect = bip34_height_script(height)
        if block.txs[0].vin[0].script_sig[: len(expect)] != expect:
            raise BlockValidationError("bad-cb-height", "block height mismatch in coinbase")
    check_witness_malleation(block, height >= params.segwit_height)
    if block.weight > MAX_BLOCK_WEIGHT:
        raise BlockValidationError("bad-blk-weight", "weight limit failed")
    if params.proof_rule is ProofRule.CERTIFICATE:
        cert = extract_certificate(block)
        if cert.height != height:
            raise BlockValidationError(
                "bad-cert-height", f"certificate for height {cert.height}, block at {height}"
            )


# --- connecting to the UTXO set -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScriptCheckJob:
    """One transaction's script checks: what a parallel checker distributes."""

    tx_index: int
    tx: Transaction
    spent_outputs: tuple[TxOut, ...]


ScriptChecker = Callable[[Sequence[ScriptCheckJob], ScriptFlags], None]


def run_script_checks(jobs: Sequence[ScriptCheckJob], flags: ScriptFlags) -> None:
    """Verify every input's scripts in order; the first failure raises
    BlockValidationError('block-script-verify-flag-failed (<Core's script error>)').
    Swap this function (connect_block's `script_checker`) to spread jobs over cores."""
    from regtest.consensus.script_error import ScriptVerifyError, error_string
    from regtest.consensus.verify import verify_transaction

    for job in jobs:
        try:
            verify_transaction(job.tx, job.spent_outputs, flags)
        except ScriptVerifyError as e:
            raise BlockValidationError(
                f"{SCRIPT_FAILURE_PREFIX} ({error_string(e.error)})",
                f"input {e.input_index} of tx {job.tx.txid_hex}",
            ) from None


@dataclass(slots=True)
class BlockConnectResult:
    """Net effect of a block on the UTXO set.

    `spent`: coins that existed before the block and that it spends, in input order (the
    undo data). `created`: coins it adds and does not spend itself (unspendable outputs left
    out). A coin both created and spent inside the block is in neither list."""

    spent: list[tuple[OutPoint, Coin]] = field(default_factory=list)
    created: list[tuple[OutPoint, Coin]] = field(default_factory=list)
    fees: int = 0
    sigop_cost: int = 0


def bip30_enforced(params: NetworkParams, height: int, block_hash: bytes, bip34_ancestor_hash: bytes | None) -> bool:
    """Whether a block must not overwrite unspent outputs (Core's fEnforceBIP30 logic).

    `bip34_ancestor_hash`: hash of the chain's block at params.bip34_height (None if the
    chain is not that long yet)."""
    if (height, block_hash) in params.bip30_exceptions:
        return False
    bip34_settled = bip34_ancestor_hash is not None and bip34_ancestor_hash == params.bip34_hash
    return not bip34_settled or height >= BIP34_IMPLIES_BIP30_LIMIT


def connect_block(
    block: Block,
    height: int,
    view: CoinView,
    params: NetworkParams,
    prev_mtp: int,
    *,
    mtp_at: Callable[[int], int] | None = None,
    bip34_ancestor_hash: bytes | None = None,
    check_scripts: bool = True,
    script_checker: ScriptChecker = run_script_checks,
) -> BlockConnectResult:
    """Core's ConnectBlock checks against the coins `view` (as of the parent block).

    `prev_mtp`: the parent's median time past. `mtp_at(h)`: median time past of the chain's
    block at height h (needed only for time-based BIP68 locks; defaults to prev_mtp for h =
    height - 1 and raises otherwise). Does not modify anything: returns the changes.
    Script failures are reported after the amount checks, as Core's parallel checker does."""
    result = BlockConnectResult()
    if height == 0 and block.hash == params.genesis_hash:
        return result  # the genesis outputs are never added to the UTXO set

    block_hash = block.hash
    if bip30_enforced(params, height, block_hash, bip34_ancestor_hash):
        for tx in block.txs:
            txid = tx.txid
            for n in range(len(tx.vout)):
                if view(OutPoint(txid, n)) is not None:
                    raise BlockValidationError("bad-txns-BIP30", "tried to overwrite transaction")

    flags = get_block_script_flags(params, height, block_hash)
    enforce_bip68 = height >= params.csv_height

    def mtp_lookup(h: int) -> int:
        if h == height - 1:
            return prev_mtp
        if mtp_at is None:
            raise ValueError("connect_block needs mtp_at for a time-based relative lock")
        return mtp_at(h)

    created: dict[OutPoint, Coin] = {}  # coins from this block not yet spent
    spent_here: set[OutPoint] = set()  # pre-existing coins already spent in this block
    jobs: list[ScriptCheckJob] = []
    fees = 0
    sigop_cost = 0

    for index, tx in enumerate(block.txs):
        spent_outputs: tuple[TxOut, ...] = ()
        if not tx.is_coinbase():
            coins: list[Coin] = []
            for txin in tx.vin:
                op = txin.prevout
                coin = created.get(op)
                if coin is None and op not in spent_here:
                    coin = view(op)
                if coin is None:
                    raise BlockValidationError(
                        "bad-txns-inputs-missingorspent",
                        f"CheckTxInputs: inputs missing/spent in transaction {tx.txid_hex}",
                    )
                coins.append(coin)
            try:
                fee = check_tx_inputs(tx, coins, height)
            except BlockValidationError as e:
                raise BlockValidationError(e.reason, f"{e.debug} in transaction {tx.txid_hex}") from None
            fees += fee
            if not money_range(fees):
                raise BlockValidationError(
                    "bad-txns-accumulated-fee-outofrange", "accumulated fee in the block out of range"
                )
            lock = sequence_lock_pair(tx, enforce_bip68, [c.height for c in coins], mtp_lookup)
            if not sequence_locks_met(lock, height, prev_mtp):
                raise BlockValidationError("bad-txns-nonfinal", "contains a non-BIP68-final transaction")
            spent_outputs = tuple(c.txout for c in coins)
        sigop_cost += transaction_sigop_cost(tx, spent_outputs, flags)
        if sigop_cost > MAX_BLOCK_SIGOPS_COST:
            raise BlockValidationError("bad-blk-sigops", "too many sigops")
        if not tx.is_coinbase():
            if check_scripts:
                jobs.append(ScriptCheckJob(index, tx, spent_outputs))
            for txin, coin in zip(tx.vin, coins):
                op = txin.prevout
                if op in created:
                    del created[op]
                else:
                    spent_here.add(op)
                    result.spent.append((op, coin))
        coinbase = tx.is_coinbase()
        txid = tx.txid
        for n, out in enumerate(tx.vout):
            if not is_unspendable(out.script_pubkey):
                created[OutPoint(txid, n)] = Coin(out.value, out.script_pubkey, height, coinbase)

    reward = fees + block_subsidy(height, params)
    paid = sum(out.value for out in block.txs[0].vout)
    if paid > reward:
        raise BlockValidationError("bad-cb-amount", f"coinbase pays too much (actual={paid} vs limit={reward})")
    if jobs:
        script_checker(jobs, flags)

    result.created = list(created.items())
    result.fees = fees
    result.sigop_cost = sigop_cost
    return result


def check_tx_inputs(tx: Transaction, coins: Sequence[Coin], spend_height: int) -> int:
    """Core's Consensus::CheckTxInputs once the inputs were found: maturity and amounts.
    Returns the fee; raises BlockValidationError (mempool callers map the reason)."""
    value_in = 0
    for coin in coins:
        if coin.is_coinbase and spend_height - coin.height < COINBASE_MATURITY:
            raise BlockValidationError(
                "bad-txns-premature-spend-of-coinbase",
                f"tried to spend coinbase at depth {spend_height - coin.height}",
            )
        value_in += coin.value
        if not money_range(coin.value) or not money_range(value_in):
            raise BlockValidationError("bad-txns-inputvalues-outofrange", "txin values out of range")
    value_out = sum(out.value for out in tx.vout)
    if value_in < value_out:
        raise BlockValidationError(
            "bad-txns-in-belowout",
            f"value in ({format_money(value_in)}) < value out ({format_money(value_out)})",
        )
    fee = value_in - value_out
    if not money_range(fee):
        raise BlockValidationError("bad-txns-fee-outofrange", "fee out of range")
    return fee


_check_tx_inputs = check_tx_inputs  # older name, still imported by the mempool
