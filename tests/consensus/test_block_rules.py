"""Each block rule, one small hand-built block at a time, on Core's regtest parameters.

A module-wide chain of 110 blocks paying OP_TRUE gives mature coinbase outputs to spend;
each test works on its own fork of that chain.
"""

from __future__ import annotations

import dataclasses

import pytest

from regtest.consensus.block import Block, witness_commitment_index
from regtest.consensus.block_validation import (
    check_block,
    connect_block,
    contextual_check_block,
    median_time_past,
)
from regtest.consensus.blockbuild import add_witness_commitment, make_block, make_coinbase, solve_pow
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockResult, BlockValidationError
from regtest.consensus.params import BITCOIN_REGTEST, block_subsidy
from regtest.consensus.transaction import COIN, MAX_MONEY, OutPoint, Transaction, TxIn, TxOut
from tests.consensus.minichain import MiniChain, fork

P = BITCOIN_REGTEST
OP_TRUE = b"\x51"


def build(chain: MiniChain, txs=(), *, fees: int = 0, time: int | None = None, solve: bool = True, **kw) -> Block:
    tip = chain.tip
    t = tip.time + 1 if time is None else time
    block = make_block(P, tip.hash, tip.height + 1, t, OP_TRUE, txs, fees=fees, **kw)
    return solve_pow(block, P.pow_limit) if solve else block


def resolve(block: Block) -> Block:
    return solve_pow(block, P.pow_limit)


def rebuild(block: Block, txs) -> Block:
    """Same header fields, other transactions, merkle root and witness commitment refreshed."""
    return resolve(add_witness_commitment(block.with_txs(tuple(txs))))


@pytest.fixture(scope="module")
def base() -> MiniChain:
    chain = MiniChain(P)
    for _ in range(110):
        chain.add(build(chain))
    return chain


@pytest.fixture
def chain(base) -> MiniChain:
    return fork(base)


def coinbase_outpoint(chain: MiniChain, height: int) -> OutPoint:
    for op, coin in chain.utxo.items():
        if coin.is_coinbase and coin.height == height:
            return op
    raise KeyError(height)


def spend(prevouts, value: int, *, script: bytes = OP_TRUE, sequence: int = 0xFFFFFFFF, version: int = 2,
          locktime: int = 0, n_out: int = 1, script_sig: bytes = b"") -> Transaction:
    vin = tuple(TxIn(op, script_sig, sequence) for op in prevouts)
    vout = tuple(TxOut(value, script) for _ in range(n_out))
    return Transaction(version, vin, vout, locktime)


def reject(chain: MiniChain, block: Block) -> BlockValidationError:
    with pytest.raises(BlockValidationError) as e:
        chain.validate(block)
    return e.value


# --- a valid chain and valid spends ---------------------------------------------------------------
def test_base_chain(base):
    assert base.height == 110
    assert len(base.utxo) == 110  # genesis excluded


def test_valid_spends_including_in_block_chain(chain):
    op = coinbase_outpoint(chain, 1)
    tx1 = spend([op], 50 * COIN - 1000, n_out=1)
    tx2 = spend([OutPoint(tx1.txid, 0)], 50 * COIN - 3000)  # spends tx1 in the same block
    res = chain.add(build(chain, [tx1, tx2], fees=3000))
    assert res.fees == 3000
    assert [o for o, _ in res.spent] == [op]
    created = {o for o, _ in res.created}
    assert OutPoint(tx1.txid, 0) not in created and OutPoint(tx2.txid, 0) in created
    assert op not in chain.utxo and OutPoint(tx2.txid, 0) in chain.utxo


def test_unspendable_outputs_not_created(chain):
    cb_value = block_subsidy(111, P)
    block = build(chain)
    res = chain.add(block)
    # coinbase payout kept, witness commitment (OP_RETURN) left out
    assert [c.value for _, c in res.created] == [cb_value]


def test_genesis_connects_to_nothing():
    res = connect_block(P.genesis, 0, lambda op: None, P, 0)
    assert res.created == [] and res.spent == []


# --- context-free ----------------------------------------------------------------------------------
def test_high_hash(chain):
    block = build(chain)
    for nonce in range(1000):
        b = block.with_header(nonce=nonce)
        if int.from_bytes(b.hash, "little") > (0x7FFFFF << 232):
            break
    e = reject(chain, b)
    assert e.reason == "high-hash" and e.result is BlockResult.INVALID_HEADER


def test_bad_merkle_root(chain):
    block = build(chain)
    e = reject(chain, resolve(block.with_header(merkle_root=bytes(32))))
    assert e.reason == "bad-txnmrklroot" and e.is_mutation


def test_duplicate_tx_mutation(chain):
    tx = spend([coinbase_outpoint(chain, 1)], 49 * COIN)
    good = build(chain, [tx, spend([coinbase_outpoint(chain, 2)], 49 * COIN)], fees=2 * COIN)
    cb, a, b = good.txs
    # [cb, a, b, b] has the merkle root of [cb, a, b]
    mutated = Block(good.header, (cb, a, b, b))
    e = reject(chain, mutated)
    assert e.reason == "bad-txns-duplicate" and e.is_mutation
    chain.add(good)


def test_no_transactions(chain):
    block = build(chain)
    e = reject(chain, resolve(Block(block.header.replace(merkle_root=bytes(32)), ())))
    assert e.reason == "bad-blk-length"


def test_first_tx_not_coinbase(chain):
    block = build(chain)
    tx = spend([coinbase_outpoint(chain, 1)], 50 * COIN)
    assert reject(chain, rebuild(block, [tx, block.txs[0]])).reason == "bad-cb-missing"


def test_two_coinbases(chain):
    block = build(chain)
    second = make_coinbase(111, OP_TRUE, 1, extranonce=b"\x07")
    assert reject(chain, rebuild(block, [block.txs[0], second])).reason == "bad-cb-multiple"


@pytest.mark.parametrize("script_sig", [b"\x51", bytes.fromhex("016f") + bytes(99)])
def test_coinbase_script_length(chain, script_sig):
    block = build(chain)
    cb = block.txs[0]
    bad = dataclasses.replace(cb, vin=(dataclasses.replace(cb.vin[0], script_sig=script_sig),))
    assert reject(chain, rebuild(block, [bad])).reason == "bad-cb-length"


@pytest.mark.parametrize(
    "make_tx,reason",
    [
        (lambda op: Transaction(2, (TxIn(op),), ()), "bad-txns-vout-empty"),
        (lambda op: spend([op], -1), "bad-txns-vout-negative"),
        (lambda op: spend([op], MAX_MONEY + 1), "bad-txns-vout-toolarge"),
        (lambda op: spend([op], MAX_MONEY // 2 + 1, n_out=2), "bad-txns-txouttotal-toolarge"),
        (lambda op: spend([op, op], 1), "bad-txns-inputs-duplicate"),
        (lambda op: spend([op, OutPoint(bytes(32), 0xFFFFFFFF)], 1), "bad-txns-prevout-null"),
        (lambda op: Transaction(2, (), (TxOut(1, OP_TRUE),)), "bad-txns-vin-empty"),
    ],
)
def test_check_transaction_reasons(chain, make_tx, reason):
    tx = make_tx(coinbase_outpoint(chain, 1))
    assert reject(chain, build(chain, [tx])).reason == reason


def test_legacy_sigops_limit(chain):
    op = coinbase_outpoint(chain, 1)
    ok = spend([op], 1, script=b"\xac" * 19_999)
    block_ok = build(chain, [ok], fees=50 * COIN - 1)
    check_block(block_ok, P)  # 19,999 + coinbase's 0: at the limit of 20,000 legacy sigops
    bad = spend([op], 1, script=b"\xac" * 20_001)
    e = reject(chain, build(chain, [bad], fees=50 * COIN - 1))
    assert e.reason == "bad-blk-sigops"


# --- header in context -----------------------------------------------------------------------------
def test_bad_diffbits(chain):
    block = build(chain, bits=0x207FFFFE)
    assert reject(chain, block).reason == "bad-diffbits"


def test_time_too_old(chain):
    mtp = chain.mtp_at(chain.height)
    assert reject(chain, build(chain, time=mtp)).reason == "time-too-old"
    chain.add(build(chain, time=mtp + 1))


def test_time_too_new(chain):
    chain.now = chain.tip.time
    e = reject(chain, build(chain, time=chain.now + 7201))
    assert e.reason == "time-too-new" and e.result is BlockResult.TIME_FUTURE
    chain.add(build(chain, time=chain.now + 7200))


@pytest.mark.parametrize("version,text", [(1, "0x00000001"), (3, "0x00000003"), (-1, "0xffffffff")])
def test_bad_version(chain, version, text):
    e = reject(chain, build(chain, version=version))
    assert e.reason == f"bad-version({text})"


def test_version_4_accepted(chain):
    chain.add(build(chain, version=4))


# --- block in context ------------------------------------------------------------------------------
def test_nonfinal_locktime(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 49 * COIN, sequence=0, locktime=111)  # lock height must be < block height
    assert reject(chain, build(chain, [tx], fees=COIN)).reason == "bad-txns-nonfinal"
    final_seq = spend([op], 49 * COIN, locktime=111)  # SEQUENCE_FINAL opts out
    chain.add(build(chain, [final_seq], fees=COIN))


def test_nonfinal_locktime_uses_median_time_past(chain):
    op = coinbase_outpoint(chain, 1)
    mtp = chain.mtp_at(chain.height)
    tx = spend([op], 49 * COIN, sequence=0, locktime=mtp)
    assert reject(chain, build(chain, [tx], fees=COIN)).reason == "bad-txns-nonfinal"
    chain.add(build(chain, [spend([op], 49 * COIN, sequence=0, locktime=mtp - 1)], fees=COIN))


def test_bad_cb_height(chain):
    block = build(chain)
    cb = make_coinbase(112, OP_TRUE, block_subsidy(111, P))
    assert reject(chain, rebuild(block, [cb])).reason == "bad-cb-height"


def test_witness_nonce_size(chain):
    block = build(chain)
    cb = block.txs[0]
    bad = dataclasses.replace(cb, vin=(dataclasses.replace(cb.vin[0], witness=(bytes(31),)),))
    e = reject(chain, rebuild(block, [bad]))
    assert e.reason == "bad-witness-nonce-size" and e.is_mutation


def test_witness_merkle_match(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 49 * COIN)
    block = build(chain, [tx], fees=COIN)
    witnessed = dataclasses.replace(tx, vin=(dataclasses.replace(tx.vin[0], witness=(b"\x01",)),))
    e = reject(chain, resolve(Block(block.header, (block.txs[0], witnessed))))
    assert e.reason == "bad-witness-merkle-match" and e.is_mutation


def test_unexpected_witness(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 49 * COIN)
    witnessed = dataclasses.replace(tx, vin=(dataclasses.replace(tx.vin[0], witness=(b"\x01",)),))
    block = build(chain, [witnessed], fees=COIN, witness_commitment=False)
    e = reject(chain, block)
    assert e.reason == "unexpected-witness" and e.is_mutation


@pytest.mark.slow
def test_block_weight(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 49 * COIN)
    big = dataclasses.replace(tx, vin=(dataclasses.replace(tx.vin[0], witness=(bytes(4_000_000),)),))
    block = build(chain, [big], fees=COIN)
    assert block.stripped_size * 4 <= 4_000_000 < block.weight
    assert reject(chain, block).reason == "bad-blk-weight"


# --- connecting ------------------------------------------------------------------------------------
def test_missing_or_spent_input(chain):
    assert reject(chain, build(chain, [spend([OutPoint(bytes([1]) * 32, 0)], 1)])).reason == (
        "bad-txns-inputs-missingorspent"
    )
    op = coinbase_outpoint(chain, 1)
    double = [spend([op], 49 * COIN), spend([op], 48 * COIN)]
    assert reject(chain, build(chain, double)).reason == "bad-txns-inputs-missingorspent"


def test_premature_coinbase_spend(chain):
    op = coinbase_outpoint(chain, 12)  # depth 99 at height 111
    e = reject(chain, build(chain, [spend([op], 49 * COIN)], fees=COIN))
    assert e.reason == "bad-txns-premature-spend-of-coinbase"
    assert "depth 99" in e.debug
    chain.add(build(chain, [spend([coinbase_outpoint(chain, 11)], 49 * COIN)], fees=COIN))


def test_input_values_out_of_range(chain):
    fake = OutPoint(bytes([7]) * 32, 0)
    chain.utxo[fake] = Coin(MAX_MONEY + 1, OP_TRUE, 5, False)
    assert reject(chain, build(chain, [spend([fake], 1)])).reason == "bad-txns-inputvalues-outofrange"


def test_in_below_out(chain):
    op = coinbase_outpoint(chain, 1)
    e = reject(chain, build(chain, [spend([op], 50 * COIN + 1)]))
    assert e.reason == "bad-txns-in-belowout"


def test_accumulated_fee_out_of_range(chain):
    a, b = OutPoint(bytes([7]) * 32, 0), OutPoint(bytes([8]) * 32, 0)
    chain.utxo[a] = Coin(MAX_MONEY, OP_TRUE, 5, False)
    chain.utxo[b] = Coin(MAX_MONEY, OP_TRUE, 5, False)
    e = reject(chain, build(chain, [spend([a], 0), spend([b], 0)]))
    assert e.reason == "bad-txns-accumulated-fee-outofrange"


def test_bip68_height_lock(chain):
    # coin created at height 101: a relative lock of 10 blocks allows height >= 111
    op = coinbase_outpoint(chain, 1)
    chain.add(build(chain, [spend([op], 50 * COIN)]))  # height 111 makes coin at 111
    fresh = OutPoint(chain_txid_at(chain), 0)
    tx = spend([fresh], 50 * COIN, sequence=2)
    assert reject(chain, build(chain, [tx])).reason == "bad-txns-nonfinal"  # needs height >= 113
    chain.add(build(chain))
    chain.add(build(chain, [tx]))
    # version 1 transactions ignore relative locks
    op2 = coinbase_outpoint(chain, 2)
    chain.add(build(chain, [spend([op2], 50 * COIN, sequence=100, version=1)]))


def chain_txid_at(chain: MiniChain) -> bytes:
    for op, coin in chain.utxo.items():
        if coin.height == chain.height and not coin.is_coinbase:
            return op.txid
    raise KeyError


def test_bip68_time_lock(chain):
    op = coinbase_outpoint(chain, 1)
    chain.add(build(chain, [spend([op], 50 * COIN)]))
    fresh = OutPoint(chain_txid_at(chain), 0)
    coin_height = chain.height
    tx = spend([fresh], 50 * COIN, sequence=(1 << 22) | 1)  # 512 seconds
    assert reject(chain, build(chain, [tx])).reason == "bad-txns-nonfinal"
    base_time = chain.mtp_at(coin_height - 1)
    t = chain.tip.time
    while chain.mtp_at(chain.height) < base_time + 512:
        t += 200
        chain.add(build(chain, time=t))
    chain.add(build(chain, [tx], time=t + 1))


def test_connect_sigops_limit(chain):
    redeem = b"\xae" * 520  # 520 CHECKMULTISIGs, 20 sigops each in the accurate count
    from regtest.consensus.hashes import hash160

    p2sh = b"\xa9\x14" + hash160(redeem) + b"\x87"
    push = b"\x4d" + len(redeem).to_bytes(2, "little") + redeem
    ops = []
    for i in range(2):
        ops.append(OutPoint(bytes([9, i]) * 16, 0))
        chain.utxo[ops[-1]] = Coin(COIN, p2sh, 5, False)
    tx = Transaction(2, tuple(TxIn(o, push) for o in ops), (TxOut(COIN, OP_TRUE),))
    e = reject(chain, build(chain, [tx], fees=COIN))
    assert e.reason == "bad-blk-sigops"


def test_coinbase_pays_too_much(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 50 * COIN - 1000)
    assert reject(chain, build(chain, [tx], fees=1001)).reason == "bad-cb-amount"
    chain.add(build(chain, [tx], fees=1000))


def test_bip30_overwrite(chain):
    op = coinbase_outpoint(chain, 1)
    tx = spend([op], 49 * COIN)
    chain.utxo[OutPoint(tx.txid, 0)] = Coin(1, OP_TRUE, 50, False)
    assert reject(chain, build(chain, [tx], fees=COIN)).reason == "bad-txns-BIP30"


def test_script_failure(chain):
    fake = OutPoint(bytes([7]) * 32, 0)
    chain.utxo[fake] = Coin(COIN, b"\x00", 5, False)  # OP_0: always false
    e = reject(chain, build(chain, [spend([fake], COIN)]))
    assert e.reason == (
        "block-script-verify-flag-failed (Script evaluated without error but finished with a "
        "false/empty top stack element)"
    )


def test_script_failure_reported_after_amounts(chain):
    fake = OutPoint(bytes([7]) * 32, 0)
    chain.utxo[fake] = Coin(COIN, b"\x00", 5, False)
    block = build(chain, [spend([fake], COIN)], fees=1)
    assert reject(chain, block).reason == "bad-cb-amount"


def test_swappable_script_checker(chain):
    fake = OutPoint(bytes([7]) * 32, 0)
    chain.utxo[fake] = Coin(COIN, b"\x00", 5, False)
    block = build(chain, [spend([fake], COIN)])
    seen = []
    res = connect_block(block, 111, chain.utxo.get, P, chain.mtp_at(110),
                        script_checker=lambda jobs, flags: seen.extend(j.tx_index for j in jobs))
    assert seen == [1] and res.spent[0][0] == fake
    connect_block(block, 111, chain.utxo.get, P, chain.mtp_at(110), check_scripts=False)


def test_median_time_past():
    assert median_time_past([5]) == 5
    assert median_time_past([1, 9, 3]) == 3
    assert median_time_past(list(range(100))) == 94  # the last 11 only


def test_format_money_matches_core():
    from regtest.consensus.block_validation import format_money

    assert format_money(50 * COIN) == "50.00"
    assert format_money(50 * COIN + 1) == "50.00000001"
    assert format_money(12_340_000) == "0.1234"
    assert format_money(-COIN // 2) == "-0.50"
