"""Test transactions have the same size in every run: MiniWallet's signatures are always 70-byte
DER (low R, R and S 32 bytes each), so a one-input one-output P2WPKH spend is always 110 vbytes.
Fee-rate expectations in the node tests rely on it (a byte less made them flaky)."""

from __future__ import annotations

import hashlib

from regtest.consensus.transaction import OutPoint
from regtest.testing.keys import Key, der_decode
from regtest.testing.miniwallet import P2WPKH_1IN_1OUT_VSIZE, MiniWallet, Utxo

ROUNDS = 1500  # low R alone leaves ~1/64 of signatures shorter: about 23 here, never none


def test_low_r_signatures_are_always_70_bytes():
    key = Key(0xC0FFEE)
    for i in range(ROUNDS):
        digest = hashlib.sha256(i.to_bytes(4, "little")).digest()
        sig = key.sign_ecdsa_fixed_size(digest)
        r, s = der_decode(sig)
        assert len(sig) == 70, (i, sig.hex())
        assert r < 2**255 and s <= (2**256 - 0x14551231950B75FC4402DA1732FC9BEBF) // 2


def test_miniwallet_one_in_one_out_is_always_110_vbytes():
    wallet = MiniWallet()
    for i in range(300):
        utxo = Utxo(OutPoint(hashlib.sha256(b"%d" % i).digest(), i % 3), 50_000 + i, wallet.script_pubkey)
        tx, _ = wallet.self_transfer(utxo, 1000 + i)
        assert tx.vsize == P2WPKH_1IN_1OUT_VSIZE, (i, tx.weight)
