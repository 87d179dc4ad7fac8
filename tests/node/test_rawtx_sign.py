"""createrawtransaction + signrawtransactionwithkey + sendrawtransaction round trips on a real
potcd: every script type the signer knows, partial multisig then completion, and each signed
input also checked by Bitcoin Core's own script engine (libbitcoinkernel)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from regtest.consensus.address import (
    REGTEST_PREFIXES, p2pkh_script, p2sh_script, script_to_address, witness_script,
)
from regtest.consensus.block import Block
from regtest.consensus.crypto import taproot_output_key
from regtest.consensus.hashes import hash160, hash_to_hex, sha256
from regtest.consensus.script import build_script, OP_CHECKMULTISIG, OP_CHECKSIG
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.node.signing import SigningKey, WIF_TEST, encode_wif
from regtest.testing.core_oracle import CORE_FLAGS_MASK, core_verdict
from tests.node.framework import TestNode

COIN = 100_000_000
FEE = 10_000


def btc(sats: int) -> str:
    """An amount as the RPC takes it (a string keeps all eight decimals exact)."""
    return f"{Decimal(sats) / COIN:.8f}"


def key(i: int, compressed: bool = True) -> SigningKey:
    return SigningKey((0x5EED00 + i).to_bytes(32, "big"), compressed)


MINER = key(1)
K = [key(10 + i) for i in range(3)]  # multisig cosigners
UNCOMPRESSED = key(20, compressed=False)


def wif(k: SigningKey) -> str:
    return encode_wif(k, WIF_TEST)


def p2wpkh(k: SigningKey) -> bytes:
    return witness_script(0, hash160(k.pubkey))


def address(spk: bytes) -> str:
    a = script_to_address(spk, REGTEST_PREFIXES)
    assert a is not None
    return a


MULTI = build_script(2, K[0].pubkey, K[1].pubkey, K[2].pubkey, 3, OP_CHECKMULTISIG)
P2WSH_MULTI = witness_script(0, sha256(MULTI))


def _bip86(k: SigningKey) -> bytes:
    return witness_script(1, taproot_output_key(k.xonly, None)[0])


#: name -> (scriptPubKey, keys to sign with, extra prevtxs fields)
TYPES: dict[str, tuple[bytes, list[SigningKey], dict]] = {
    "p2pk": (build_script(K[0].pubkey, OP_CHECKSIG), [K[0]], {}),
    "p2pkh_uncompressed": (p2pkh_script(hash160(UNCOMPRESSED.pubkey)), [UNCOMPRESSED], {}),
    "p2pkh": (p2pkh_script(hash160(K[1].pubkey)), [K[1]], {}),
    "p2wpkh": (p2wpkh(K[2]), [K[2]], {}),
    "p2sh_p2wpkh": (p2sh_script(hash160(p2wpkh(K[0]))), [K[0]], {"redeemScript": p2wpkh(K[0]).hex()}),
    "p2tr_bip86": (_bip86(K[1]), [K[1]], {}),
    "bare_multisig": (MULTI, [K[0], K[2]], {}),
    "p2sh_multisig": (p2sh_script(hash160(MULTI)), [K[1], K[2]], {"redeemScript": MULTI.hex()}),
    "p2wsh_multisig": (P2WSH_MULTI, [K[0], K[1]], {"witnessScript": MULTI.hex()}),
    "p2sh_p2wsh_multisig": (p2sh_script(hash160(P2WSH_MULTI)), [K[2], K[0]],
                            {"witnessScript": MULTI.hex(), "redeemScript": P2WSH_MULTI.hex()}),
}


class Chain:
    """A node that mined to MINER's P2WPKH address, with the matured coinbase outputs it holds."""

    def __init__(self, node: TestNode) -> None:
        self.node = node
        self.miner_spk = p2wpkh(MINER)
        self.coins: list[tuple[OutPoint, int]] = []
        self.generate(101)

    def generate(self, n: int) -> None:
        for h in self.node.rpc("generatetoaddress", n, address(self.miner_spk)):
            block = Block.parse(bytes.fromhex(self.node.rpc("getblock", h, 0)))
            cb = block.txs[0]
            for i, out in enumerate(cb.vout):
                if out.script_pubkey == self.miner_spk:
                    self.coins.append((OutPoint(cb.txid, i), out.value))

    def take_coin(self) -> tuple[OutPoint, int]:
        return self.coins.pop(0)


def prevtx(op: OutPoint, spk: bytes, value: int, **extra) -> dict:
    return {"txid": hash_to_hex(op.txid), "vout": op.n, "scriptPubKey": spk.hex(),
            "amount": btc(value), **extra}


def assert_core_accepts(raw_hex: str, spent: list[TxOut]) -> None:
    raw = bytes.fromhex(raw_hex)
    for i in range(len(spent)):
        assert core_verdict(raw, i, spent, CORE_FLAGS_MASK), f"Core rejects input {i}"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = TestNode(tmp_path_factory.mktemp("rawtx"), extra_args=["-txindex=1"]).start()
    yield Chain(node)
    node.stop()


@pytest.fixture(scope="module")
def funded(chain):
    """One transaction (built and signed through the RPCs) paying one output of every type."""
    op, value = chain.take_coin()
    names = list(TYPES)
    each = (value - FEE) // len(names)
    # createrawtransaction only takes addresses; P2PK and bare multisig have none, so the
    # outputs are set here and the input is still signed by the node
    unsigned = Transaction(2, (TxIn(op, b"", 0xFFFFFFFD),),
                           tuple(TxOut(each, TYPES[n][0]) for n in names))
    res = chain.node.rpc("signrawtransactionwithkey", unsigned.serialize().hex(), [wif(MINER)])
    assert res["complete"] is True and "errors" not in res
    assert_core_accepts(res["hex"], [TxOut(value, chain.miner_spk)])
    txid = chain.node.rpc("sendrawtransaction", res["hex"])
    chain.generate(1)
    assert chain.node.rpc("getrawtransaction", txid, 1)["confirmations"] == 1
    return {n: (OutPoint(bytes.fromhex(txid)[::-1], i), each) for i, n in enumerate(names)}


@pytest.mark.parametrize("name", list(TYPES))
def test_round_trip_each_type(chain, funded, name):
    spk, keys, extra = TYPES[name]
    op, value = funded[name]
    dest = address(p2wpkh(MINER))
    raw = chain.node.rpc("createrawtransaction", [{"txid": hash_to_hex(op.txid), "vout": op.n}],
                         [{dest: btc(value - FEE)}])
    prevtxs = [prevtx(op, spk, value, **extra)]
    res = chain.node.rpc("signrawtransactionwithkey", raw, [wif(k) for k in keys], prevtxs)
    assert res["complete"] is True, res.get("errors")
    assert_core_accepts(res["hex"], [TxOut(value, spk)])
    decoded = chain.node.rpc("decoderawtransaction", res["hex"])
    if name == "p2tr_bip86":
        assert [len(w) for w in decoded["vin"][0]["txinwitness"]] == [128]  # 64-byte SIGHASH_DEFAULT
    txid = chain.node.rpc("sendrawtransaction", res["hex"])
    assert txid == decoded["txid"]
    chain.generate(1)
    assert chain.node.rpc("getrawtransaction", txid, 1)["confirmations"] >= 1


@pytest.mark.parametrize("kind", ["bare", "p2sh", "p2wsh", "p2sh_p2wsh"])
def test_multisig_partial_then_complete(chain, kind):
    spk = {"bare": MULTI, "p2sh": p2sh_script(hash160(MULTI)), "p2wsh": P2WSH_MULTI,
           "p2sh_p2wsh": p2sh_script(hash160(P2WSH_MULTI))}[kind]
    extra = {"bare": {}, "p2sh": {"redeemScript": MULTI.hex()}, "p2wsh": {"witnessScript": MULTI.hex()},
             "p2sh_p2wsh": {"witnessScript": MULTI.hex()}}[kind]
    # fund the multisig output from a coinbase coin
    op, value = chain.take_coin()
    fund = Transaction(2, (TxIn(op, b"", 0xFFFFFFFD),), (TxOut(value - FEE, spk),))
    signed = chain.node.rpc("signrawtransactionwithkey", fund.serialize().hex(), [wif(MINER)])
    fund_txid = chain.node.rpc("sendrawtransaction", signed["hex"])
    ms_op, ms_value = OutPoint(bytes.fromhex(fund_txid)[::-1], 0), value - FEE
    raw = chain.node.rpc("createrawtransaction", [{"txid": fund_txid, "vout": 0}],
                         {address(p2wpkh(MINER)): btc(ms_value - FEE)})
    prev = [prevtx(ms_op, spk, ms_value, **extra)]
    first = chain.node.rpc("signrawtransactionwithkey", raw, [wif(K[2])], prev)
    assert first["complete"] is False
    (err,) = first["errors"]
    assert err["txid"] == fund_txid and err["vout"] == 0 and err["sequence"] == 0xFFFFFFFD
    assert err["error"] == ("CHECK(MULTI)SIG failing with non-zero signature (possibly need more "
                            "signatures)")
    with pytest.raises(Exception, match="-26"):
        chain.node.rpc("sendrawtransaction", first["hex"])
    # the second signer merges: the first signature is kept, the order follows the keys
    second = chain.node.rpc("signrawtransactionwithkey", first["hex"], [wif(K[0])], prev)
    assert second["complete"] is True and "errors" not in second
    assert_core_accepts(second["hex"], [TxOut(ms_value, spk)])
    # signing a complete transaction again changes nothing
    again = chain.node.rpc("signrawtransactionwithkey", second["hex"], [wif(K[1])], prev)
    assert again == second
    txid = chain.node.rpc("sendrawtransaction", second["hex"])
    chain.generate(1)
    assert chain.node.rpc("getrawtransaction", txid, 1)["confirmations"] == 1


def test_coins_come_from_the_mempool_and_the_utxo_set(chain):
    """Without prevtxs the spent coins are looked up: a confirmed one and an unconfirmed one."""
    op, value = chain.take_coin()
    raw = chain.node.rpc("createrawtransaction", [{"txid": hash_to_hex(op.txid), "vout": op.n}],
                         [{address(p2wpkh(K[0])): btc(value - FEE)}])
    first = chain.node.rpc("signrawtransactionwithkey", raw, [wif(MINER)])
    assert first["complete"] is True
    parent = chain.node.rpc("sendrawtransaction", first["hex"])
    child_raw = chain.node.rpc("createrawtransaction", [{"txid": parent, "vout": 0}],
                               [{address(p2wpkh(MINER)): btc(value - 2 * FEE)}])
    child = chain.node.rpc("signrawtransactionwithkey", child_raw, [wif(K[0])])
    assert child["complete"] is True
    child_txid = chain.node.rpc("sendrawtransaction", child["hex"])
    assert set(chain.node.rpc("getrawmempool")) >= {parent, child_txid}
    chain.generate(1)
    assert chain.node.rpc("getrawtransaction", child_txid, 1)["confirmations"] == 1
    # spent now: the coin is gone, and the error says so
    again = chain.node.rpc("signrawtransactionwithkey", child_raw, [wif(K[0])])
    assert again["complete"] is False
    assert again["errors"][0]["error"] == "Input not found or already spent"
