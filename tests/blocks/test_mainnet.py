"""Issue 5, item 3: real Bitcoin mainnet data.

* Blocks 0-100 (../shared/vectors/mainnet) validate on `main` through the chainstate, and Core's
  engine on mainnet parameters reaches the same tip.
* The block API checks a real block's scripts and amounts given the coins it spends, with the
  script flags Core applies at that height: tx 23b397ed... (a real mainnet transaction from
  Core's tx_valid.json, 1-of-2 bare multisig) carries a signature that is not strict DER (its S
  value has the sign bit set without padding). It is valid under the pre-BIP66 flags and
  invalid from BIP66's height (363,725) on, by our engine and by Core's script engine alike.
  The coin's amount is not in the vector: legacy signatures do not commit to it, so a stand-in
  value above the outputs is used (the amount rule itself is checked with it too).
"""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block, BlockHeader
from regtest.consensus.block_validation import SCRIPT_FAILURE_PREFIX, connect_block
from regtest.consensus.blockbuild import make_coinbase
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.hashes import hex_to_hash
from regtest.consensus.params import MAIN, block_subsidy, get_block_script_flags
from regtest.consensus.transaction import COIN, OutPoint, Transaction, TxOut
from regtest.testing.scenario_runner import OurChain
from tests.consensus.script_notation import parse_script

BLOCK_100 = "000000007bc154e0fa7ea32218a72fe2c1bb9f86cf8c9ebf9a715ed27fdb229a"
# Core's tx_valid.json: mainnet tx 23b397edccd3740a74adb603c9756370fafcde9bcc4483eb271ecad09a94dd63
LAX_DER_TXID = "23b397edccd3740a74adb603c9756370fafcde9bcc4483eb271ecad09a94dd63"
BIP66_HEIGHT = 363_725


@pytest.fixture(scope="module")
def mainnet_blocks(vectors_dir) -> list[bytes]:
    return [bytes.fromhex(line) for line in (vectors_dir / "mainnet" / "blocks_0_100.hex").read_text().split()]


def test_blocks_0_to_100_through_the_chainstate(tmp_path, mainnet_blocks):
    assert Block.parse(mainnet_blocks[0]).hash == MAIN.genesis_hash
    chain = OurChain(str(tmp_path), MAIN)
    try:
        for height, raw in enumerate(mainnet_blocks[1:], start=1):
            v = chain.submit(raw)
            assert v.reason is None and chain.chainstate.height == height, (height, v)
        assert chain.tip == hex_to_hash(BLOCK_100)
        stats = chain.chainstate.utxo_stats()
        # genesis's output is never spendable; blocks 1-100 hold only their coinbases
        assert (stats.txouts, stats.total_amount) == (100, 100 * 50 * COIN)
        utxo_hash = chain.chainstate.utxo_set_hash()
    finally:
        chain.close()
    reopened = OurChain(str(tmp_path), MAIN)
    try:
        assert reopened.tip == hex_to_hash(BLOCK_100)
        assert reopened.chainstate.utxo_set_hash() == utxo_hash
        assert reopened.submit(mainnet_blocks[100]).reason == "duplicate"
    finally:
        reopened.close()


def test_tampered_mainnet_blocks_rejected(tmp_path, mainnet_blocks):
    chain = OurChain(str(tmp_path), MAIN)
    try:
        b1 = Block.parse(mainnet_blocks[1])
        assert chain.submit(b1.with_header(nonce=b1.header.nonce ^ 1).serialize()).reason == "high-hash"
        assert chain.submit(b1.with_header(time=b1.header.time + 1).serialize()).reason == "high-hash"
        assert chain.submit(mainnet_blocks[2]).reason == "prev-blk-not-found"
        assert chain.tip == MAIN.genesis_hash
        assert chain.submit(mainnet_blocks[1]).reason is None
    finally:
        chain.close()


def test_core_reaches_the_same_mainnet_tip(tmp_path, mainnet_blocks):
    pbk = pytest.importorskip("pbk")
    ctx = pbk.make_context(pbk.ChainType.MAINNET)
    opts = pbk.ChainstateManagerOptions(ctx, str(tmp_path), str(tmp_path / "blocks"))
    chainman = pbk.ChainstateManager(opts)
    for raw in mainnet_blocks[1:]:
        chainman.process_block(pbk.Block(raw))
    chain = chainman.get_active_chain()
    assert chain.height == 100
    assert str(chain.block_tree_entries[100].block_hash) == BLOCK_100
    del chainman


# --- a real pre-BIP66 transaction through the block API ----------------------------------------
def _lax_der_vector(vectors_dir) -> tuple[Transaction, list[tuple[OutPoint, bytes]]]:
    import json

    for entry in json.loads((vectors_dir / "bitcoin-core" / "tx_valid.json").read_text()):
        if isinstance(entry[0], list):
            tx = Transaction.from_hex(entry[1])
            if tx.txid_hex == LAX_DER_TXID:
                prevs = [(OutPoint(hex_to_hash(p[0]), p[1]), parse_script(p[2])) for p in entry[0]]
                return tx, prevs
    raise LookupError(LAX_DER_TXID)


def _block_at(height: int, tx: Transaction) -> Block:
    # connect_block judges inputs, amounts and scripts; the header only names the block
    cb = make_coinbase(height, b"\x51", block_subsidy(height, MAIN), witness_reserved=None)
    return Block(BlockHeader(2, bytes(32), bytes(32), 1_300_000_000, 0x1D00FFFF, 0), (cb, tx))


@pytest.fixture(scope="module")
def lax_der(vectors_dir):
    tx, prevs = _lax_der_vector(vectors_dir)
    (op, spk), = prevs
    coin = Coin(sum(o.value for o in tx.vout) + 50_000, spk, 100_000, False)
    return tx, op, coin


def test_real_lax_der_signature_valid_before_bip66(lax_der):
    tx, op, coin = lax_der
    sig = tx.vin[0].script_sig[2:-1]  # after OP_0 and the push opcode, without the hashtype
    s_at = 4 + sig[3]
    assert sig[0] == 0x30 and sig[s_at] == 0x02
    assert sig[s_at + 2] & 0x80  # S reads as negative: BER that OpenSSL took, not strict DER
    res = connect_block(_block_at(BIP66_HEIGHT - 1, tx), BIP66_HEIGHT - 1, {op: coin}.get, MAIN, 0)
    assert res.fees == 50_000
    assert [o for o, _ in res.spent] == [op]


def test_real_lax_der_signature_invalid_from_bip66(lax_der):
    tx, op, coin = lax_der
    with pytest.raises(BlockValidationError) as e:
        connect_block(_block_at(BIP66_HEIGHT, tx), BIP66_HEIGHT, {op: coin}.get, MAIN, 0)
    assert e.value.reason == f"{SCRIPT_FAILURE_PREFIX} (Non-canonical DER signature)"


def test_core_script_engine_agrees_on_both_flag_sets(lax_der):
    pytest.importorskip("pbk")
    from regtest.testing.core_oracle import core_verdict

    tx, op, coin = lax_der
    spent = [TxOut(coin.value, coin.script_pubkey)]
    for height, valid in ((BIP66_HEIGHT - 1, True), (BIP66_HEIGHT, False)):
        flags = int(get_block_script_flags(MAIN, height, bytes(32)))
        assert core_verdict(tx.serialize(), 0, spent, flags) is valid, height


def test_amounts_checked_with_the_given_coins(lax_der):
    tx, op, coin = lax_der
    short = Coin(sum(o.value for o in tx.vout) - 1, coin.script_pubkey, coin.height, False)
    with pytest.raises(BlockValidationError) as e:
        connect_block(_block_at(BIP66_HEIGHT - 1, tx), BIP66_HEIGHT - 1, {op: short}.get, MAIN, 0)
    assert e.value.reason == "bad-txns-in-belowout"
    with pytest.raises(BlockValidationError) as e:
        connect_block(_block_at(BIP66_HEIGHT - 1, tx), BIP66_HEIGHT - 1, {}.get, MAIN, 0)
    assert e.value.reason == "bad-txns-inputs-missingorspent"
