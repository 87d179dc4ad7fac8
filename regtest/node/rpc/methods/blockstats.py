"""getblockstats and getchaintxstats: per-block and per-window statistics, as bitcoind computes
them (amounts in satoshis, fee rates in sat/vB, integer arithmetic truncating as Core's).

Fees need every input's spent coin. Our undo records hold the coins a block took from the UTXO
set before it; an input spending an output of an earlier transaction in the same block is not
in them, so those prevouts are read from the block itself (Core's undo data has both).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from regtest.chain.blockindex import BlockStatus
from regtest.consensus.block import Block
from regtest.consensus.hashes import hash_to_hex
from regtest.consensus.params import NetworkParams, block_subsidy
from regtest.consensus.script import is_unspendable
from regtest.consensus.serialize import DeserializationError, ser_compact_size
from regtest.consensus.transaction import MAX_MONEY, OutPoint, TxOut
from regtest.node.rpc.errors import RPCError, RPCErrorCode
from regtest.node.rpc.jsonfmt import double
from regtest.node.rpc.methods.control import require_chain
from regtest.node.rpc.registry import Arg, ArgType, parse_hash, rpc_method, type_mismatch

_CAT = "Blockchain"
WITNESS_SCALE_FACTOR = 4
MAX_BLOCK_SERIALIZED_SIZE = 4_000_000
#: Core's PER_UTXO_OVERHEAD: sizeof(COutPoint) + sizeof(uint32_t) + sizeof(bool).
PER_UTXO_OVERHEAD = 36 + 4 + 1
_INT32 = (-(2**31), 2**31 - 1)

#: Every statistic, in the order bitcoind lists them when none is selected.
STAT_NAMES = (
    "avgfee", "avgfeerate", "avgtxsize", "blockhash", "feerate_percentiles", "height", "ins",
    "maxfee", "maxfeerate", "maxtxsize", "medianfee", "mediantime", "mediantxsize", "minfee",
    "minfeerate", "mintxsize", "outs", "subsidy", "swtotal_size", "swtotal_weight", "swtxs", "time",
    "total_out", "total_size", "total_weight", "totalfee", "txs", "utxo_increase", "utxo_size_inc",
    "utxo_increase_actual", "utxo_size_inc_actual",
)


def _utxo_size(out: TxOut) -> int:
    """Serialized CTxOut size plus the per-coin overhead Core counts for the UTXO index."""
    n = len(out.script_pubkey)
    return 8 + len(ser_compact_size(n)) + n + PER_UTXO_OVERHEAD


def truncated_median(values: list[int]) -> int:
    """Core's CalculateTruncatedMedian: the mean of the middle two rounds toward zero."""
    if not values:
        return 0
    s = sorted(values)
    mid = len(s) // 2
    if len(s) % 2:
        return s[mid]
    total = s[mid - 1] + s[mid]
    return total // 2 if total >= 0 else -((-total) // 2)


def percentiles_by_weight(scores: list[tuple[int, int]], total_weight: int) -> list[int]:
    """Fee rates at the 10th/25th/50th/75th/90th percentile weight unit (Core's
    CalculatePercentilesByWeight): `scores` are (feerate, weight) pairs."""
    result = [0] * 5
    if not scores:
        return result
    scores = sorted(scores)
    marks = (total_weight / 10.0, total_weight / 4.0, total_weight / 2.0,
             (total_weight * 3.0) / 4.0, (total_weight * 9.0) / 10.0)
    nxt = 0
    cumulative = 0
    for feerate, weight in scores:
        cumulative += weight
        while nxt < 5 and cumulative >= marks[nxt]:
            result[nxt] = feerate
            nxt += 1
    for i in range(nxt, 5):
        result[i] = scores[-1][0]
    return result


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What getblockstats needs besides the block: where it sits and what it spent."""

    height: int
    block_hash: bytes
    time: int
    median_time: int
    bip30_repeat: bool  # a mainnet coinbase that duplicated an earlier one (no UTXO change)


def _prevout_values(block: Block, undo: dict[OutPoint, TxOut]) -> list[list[TxOut]]:
    """The spent output of every input of every non-coinbase transaction, in block order."""
    created: dict[OutPoint, TxOut] = {}
    per_tx: list[list[TxOut]] = []
    for i, tx in enumerate(block.txs):
        if i > 0:
            spent = []
            for txin in tx.vin:
                out = undo.get(txin.prevout) or created.get(txin.prevout)
                if out is None:
                    raise RPCError(RPCErrorCode.MISC_ERROR, "Can't read undo data from disk")
                spent.append(out)
            per_tx.append(spent)
        for n, out in enumerate(tx.vout):
            created[OutPoint(tx.txid, n)] = out
    return per_tx


def compute_block_stats(block: Block, undo: dict[OutPoint, TxOut], where: BlockContext,
                        params: NetworkParams) -> dict:
    """Every getblockstats field, in Core's order (all of them are always computed: cheap)."""
    prevouts = _prevout_values(block, undo) if where.height > 0 else []
    maxfee = maxfeerate = total_out = totalfee = 0
    minfee = minfeerate = MAX_MONEY
    inputs = outputs = maxtxsize = 0
    mintxsize = MAX_BLOCK_SERIALIZED_SIZE
    swtotal_size = swtotal_weight = swtxs = total_size = total_weight = 0
    utxos = utxo_size_inc = utxo_size_inc_actual = 0
    fees: list[int] = []
    feerates: list[tuple[int, int]] = []
    sizes: list[int] = []
    for i, tx in enumerate(block.txs):
        outputs += len(tx.vout)
        tx_out = 0
        for out in tx.vout:
            tx_out += out.value
            size = _utxo_size(out)
            utxo_size_inc += size
            if where.height == 0 or (where.bip30_repeat and i == 0):
                continue
            if is_unspendable(out.script_pubkey):
                continue
            utxos += 1
            utxo_size_inc_actual += size
        if i == 0:
            continue
        inputs += len(tx.vin)
        total_out += tx_out
        tx_size = tx.total_size
        sizes.append(tx_size)
        maxtxsize = max(maxtxsize, tx_size)
        mintxsize = min(mintxsize, tx_size)
        total_size += tx_size
        weight = tx.weight
        total_weight += weight
        if tx.has_witness():
            swtxs += 1
            swtotal_size += tx_size
            swtotal_weight += weight
        tx_in = 0
        for prev in prevouts[i - 1]:
            tx_in += prev.value
            size = _utxo_size(prev)
            utxo_size_inc -= size
            utxo_size_inc_actual -= size
        fee = tx_in - tx_out
        fees.append(fee)
        maxfee = max(maxfee, fee)
        minfee = min(minfee, fee)
        totalfee += fee
        feerate = (fee * WITNESS_SCALE_FACTOR) // weight if weight else 0
        feerates.append((feerate, weight))
        maxfeerate = max(maxfeerate, feerate)
        minfeerate = min(minfeerate, feerate)
    n_other = len(block.txs) - 1
    return {
        "avgfee": totalfee // n_other if n_other > 0 else 0,
        "avgfeerate": (totalfee * WITNESS_SCALE_FACTOR) // total_weight if total_weight else 0,
        "avgtxsize": total_size // n_other if n_other > 0 else 0,
        "blockhash": hash_to_hex(where.block_hash),
        "feerate_percentiles": percentiles_by_weight(feerates, total_weight),
        "height": where.height,
        "ins": inputs,
        "maxfee": maxfee,
        "maxfeerate": maxfeerate,
        "maxtxsize": maxtxsize,
        "medianfee": truncated_median(fees),
        "mediantime": where.median_time,
        "mediantxsize": truncated_median(sizes),
        "minfee": 0 if minfee == MAX_MONEY else minfee,
        "minfeerate": 0 if minfeerate == MAX_MONEY else minfeerate,
        "mintxsize": 0 if mintxsize == MAX_BLOCK_SERIALIZED_SIZE else mintxsize,
        "outs": outputs,
        "subsidy": block_subsidy(where.height, params),
        "swtotal_size": swtotal_size,
        "swtotal_weight": swtotal_weight,
        "swtxs": swtxs,
        "time": where.time,
        "total_out": total_out,
        "total_size": total_size,
        "total_weight": total_weight,
        "totalfee": totalfee,
        "txs": len(block.txs),
        "utxo_increase": outputs - inputs,
        "utxo_size_inc": utxo_size_inc,
        "utxo_increase_actual": utxos - inputs,
        "utxo_size_inc_actual": utxo_size_inc_actual,
    }


def json_int32(value) -> int:
    """UniValue's getInt<int>: an integral JSON number inside int32, else -1 'out of range'."""
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise RPCError(RPCErrorCode.MISC_ERROR, "JSON integer out of range")
        value = int(value)
    if isinstance(value, float) or not _INT32[0] <= value <= _INT32[1]:
        raise RPCError(RPCErrorCode.MISC_ERROR, "JSON integer out of range")
    return value


def parse_hash_or_height(cs, value):
    """Core's ParseHashOrHeight: a height on the active chain, or any known block hash."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        height = json_int32(value)
        if height < 0:
            raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"Target block height {height} is negative")
        if height > cs.height:
            raise RPCError(RPCErrorCode.INVALID_PARAMETER,
                           f"Target block height {height} after current tip {cs.height}")
        return cs.active.at(height)
    entry = cs.get_block_index(parse_hash(value, "hash_or_height"))
    if entry is None:
        raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
    return entry


def _selected_stats(value) -> list[str]:
    if value is None:
        return []
    names = []
    for item in value:
        if not isinstance(item, str):
            raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(item, "string"))
        names.append(item)
    return sorted(set(names))


def _undo_map(cs, entry) -> dict[OutPoint, TxOut]:
    """The coins the block spent from the UTXO set (Core's GetUndoChecked errors)."""
    if entry.height == 0:
        return {}
    if not entry.status & BlockStatus.HAVE_UNDO:
        raise RPCError(RPCErrorCode.MISC_ERROR, "Undo data not available")
    try:
        undo = cs.get_undo(entry.hash)
    except DeserializationError:
        undo = None
    if undo is None:
        raise RPCError(RPCErrorCode.MISC_ERROR, "Can't read undo data from disk")
    return {op: TxOut(coin.value, coin.script_pubkey) for op, coin in undo}


@rpc_method(
    "getblockstats", _CAT,
    "Compute per block statistics for a given window. All amounts are in satoshis.\n"
    "It won't work for some heights with pruning.",
    args=[Arg("hash_or_height", ArgType.NUM, "The block hash or height of the target block",
              type_str="string or numeric"),
          Arg("stats", ArgType.ARR, "Values to plot (see result below)", optional=True,
              default_hint="all values")],
    result="{" + ", ".join(f'"{n}": n' for n in STAT_NAMES) + "}    (json object; "
           "feerate_percentiles is an array of 5 numbers, blockhash a hex string)",
    examples=("'\"blockhash\"' '[\"minfeerate\",\"avgfeerate\"]'", "1000 '[\"minfeerate\",\"avgfeerate\"]'"),
)
def getblockstats(ctx, p):
    cs = require_chain(ctx)
    with cs.lock:
        entry = parse_hash_or_height(cs, p.raw("hash_or_height"))
        selected = _selected_stats(p.raw("stats"))
        if not entry.status & BlockStatus.HAVE_DATA:
            raise RPCError(RPCErrorCode.MISC_ERROR, "Block not available (not fully downloaded)")
        block = cs.get_block(entry.hash)
        if block is None:
            raise RPCError(RPCErrorCode.MISC_ERROR, "Block not found on disk")
        undo = _undo_map(cs, entry)
    where = BlockContext(entry.height, entry.hash, entry.time, entry.median_time_past(),
                         (entry.height, entry.hash) in cs.params.bip30_exceptions)
    stats = compute_block_stats(block, undo, where, cs.params)
    if not selected:
        return stats
    out = {}
    for name in selected:
        if name not in stats:
            raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"Invalid selected statistic '{name}'")
        out[name] = stats[name]
    return out


_chain_tx_cache: dict[bytes, int] = {}


def chain_tx_count(entry) -> int:
    """Transactions in the chain up to and including `entry` (Core's m_chain_tx_count); 0
    when a block on the way lacks its data. Memoised per block: the count never changes."""
    path = []
    e = entry
    total = 0
    while e is not None:
        known = _chain_tx_cache.get(e.hash)
        if known is not None:
            total = known
            break
        if not e.chain_has_data:
            return 0
        path.append(e)
        e = e.parent
    for e in reversed(path):
        total += e.n_tx
        _chain_tx_cache[e.hash] = total
    return total


@rpc_method(
    "getchaintxstats", _CAT,
    "Compute statistics about the total number and rate of transactions in the chain.",
    args=[Arg("nblocks", ArgType.NUM, "Size of the window in number of blocks", optional=True,
              default_hint="one month"),
          Arg("blockhash", ArgType.STR_HEX, "The hash of the block that ends the window.",
              optional=True, default_hint="chain tip")],
    result='{"time": n, "txcount": n, "window_final_block_hash": "hex", '
           '"window_final_block_height": n, "window_block_count": n, "window_interval": n, '
           '"window_tx_count": n, "txrate": n}',
    examples=("", "2016"),
)
def getchaintxstats(ctx, p):
    cs = require_chain(ctx)
    with cs.lock:
        if not p.given("blockhash"):
            entry = cs.tip
        else:
            entry = cs.get_block_index(p.hash("blockhash"))
            if entry is None:
                raise RPCError(RPCErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
            if not cs.active.contains(entry):
                raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Block is not in main chain")
        if not p.given("nblocks"):
            month = 30 * 24 * 60 * 60 // cs.params.pow_target_spacing
            count = max(0, min(month, entry.height - 1))
        else:
            count = json_int32(p.get("nblocks"))
            if count < 0 or (count > 0 and count >= entry.height):
                raise RPCError(RPCErrorCode.INVALID_PARAMETER,
                               "Invalid block count: should be between 0 and the block's height - 1")
        past = entry.get_ancestor(entry.height - count)
        interval = entry.median_time_past() - past.median_time_past()
        out = {"time": entry.time}
        txcount = chain_tx_count(entry)
        if txcount:
            out["txcount"] = txcount
        out["window_final_block_hash"] = entry.hash_hex
        out["window_final_block_height"] = entry.height
        out["window_block_count"] = count
        if count > 0:
            out["window_interval"] = interval
            past_count = chain_tx_count(past)
            if txcount and past_count:
                out["window_tx_count"] = txcount - past_count
                if interval > 0:
                    out["txrate"] = double((txcount - past_count) / interval)
    return out
