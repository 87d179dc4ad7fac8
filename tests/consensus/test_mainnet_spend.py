"""The connect step checks a real mainnet spend (block 170, the first payment) against the
coin it spends (block 9's coinbase), with the script flags Core applies at each height."""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block, BlockHeader
from regtest.consensus.block_validation import connect_block
from regtest.consensus.blockbuild import make_coinbase
from regtest.consensus.coins import Coin
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import MAIN, block_subsidy
from regtest.consensus.transaction import COIN, OutPoint, Transaction, TxIn

# Public fact: the first payment, in block 170 (txid f4184fc5...9e16).
TX_170 = (
    "0100000001c997a5e56e104102fa209c6a852dd90660a20b2d9c352423edce25857fcd3704000000004847304402"
    "204e45e16932b8af514961a1d3a1a25fdf3f4f7732e9d624c6c61548ab5fb8cd410220181522ec8eca07de4860a4"
    "acdd12909d831cc56cbbac4622082221a8768d1d0901ffffffff0200ca9a3b00000000434104ae1a62fe09c5f51b"
    "13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7df5f142c21c1b7303b8a0626f1ba"
    "ded5c72a704f7e6cd84cac00286bee0000000043410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482e"
    "cad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac00000000"
)


@pytest.fixture(scope="module")
def block9_coin(vectors_dir) -> tuple[OutPoint, Coin]:
    lines = (vectors_dir / "mainnet" / "blocks_0_100.hex").read_text().split()
    cb = Block.from_hex(lines[9]).txs[0]
    out = cb.vout[0]
    return OutPoint(cb.txid, 0), Coin(out.value, out.script_pubkey, 9, True)


def block_with(tx: Transaction, height: int = 170) -> Block:
    # connect_block judges inputs, amounts and scripts only; the header is a stand-in
    header = BlockHeader(1, bytes(32), bytes(32), 1231731025, 0x1D00FFFF, 0)
    cb = make_coinbase(height, b"\x51", block_subsidy(height, MAIN), witness_reserved=None)
    return Block(header, (cb, tx))


def test_real_tx():
    assert Transaction.from_hex(TX_170).txid_hex == "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def test_real_spend_connects(block9_coin):
    op, coin = block9_coin
    tx = Transaction.from_hex(TX_170)
    assert tx.vin[0].prevout == op
    res = connect_block(block_with(tx), 170, {op: coin}.get, MAIN, 0)
    assert res.spent == [(op, coin)] and res.fees == 0
    assert sorted(c.value for _, c in res.created) == [10 * COIN, 40 * COIN, 50 * COIN]


def test_tampered_signature_fails(block9_coin):
    op, coin = block9_coin
    tx = Transaction.from_hex(TX_170)
    sig = bytearray(tx.vin[0].script_sig)
    sig[10] ^= 1
    bad = Transaction(tx.version, (TxIn(op, bytes(sig), tx.vin[0].sequence),), tx.vout, tx.locktime)
    with pytest.raises(BlockValidationError) as e:
        connect_block(block_with(bad), 170, {op: coin}.get, MAIN, 0)
    assert e.value.reason.startswith("block-script-verify-flag-failed (")


def test_pre_bip66_lax_der_signature(block9_coin):
    """R padded with a needless zero byte: valid before BIP66 (height 363,725), not after."""
    op, coin = block9_coin
    tx = Transaction.from_hex(TX_170)
    script_sig = tx.vin[0].script_sig
    der = script_sig[1:-1]  # 30 44 02 20 <r> 02 20 <s>
    r, s = der[4:36], der[38:70]
    lax = b"\x30\x45\x02\x21\x00" + r + b"\x02\x20" + s + b"\x01"
    padded = Transaction(tx.version, (TxIn(op, bytes((len(lax),)) + lax, 0xFFFFFFFF),), tx.vout, tx.locktime)
    connect_block(block_with(padded), 170, {op: coin}.get, MAIN, 0)
    with pytest.raises(BlockValidationError) as e:
        connect_block(block_with(padded, 363_725), 363_725, {op: coin}.get, MAIN, 0)
    assert e.value.reason == "block-script-verify-flag-failed (Non-canonical DER signature)"


def test_amounts_checked(block9_coin):
    op, coin = block9_coin
    tx = Transaction.from_hex(TX_170)
    with pytest.raises(BlockValidationError) as e:
        connect_block(block_with(tx), 170, {op: Coin(coin.value - 1, coin.script_pubkey, 9, True)}.get, MAIN, 0)
    assert e.value.reason == "bad-txns-in-belowout"
    with pytest.raises(BlockValidationError) as e:
        connect_block(block_with(tx), 108, {op: coin}.get, MAIN, 0)
    assert e.value.reason == "bad-txns-premature-spend-of-coinbase"
