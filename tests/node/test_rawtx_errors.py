"""createrawtransaction and signrawtransactionwithkey: Core's results for the details (sequence
defaults, data outputs, sighash types, per-input errors) and Core's code and text for every
refusal, on a real potcd; plus the calls through potc-cli."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from regtest.consensus.address import REGTEST_PREFIXES, b58check_encode, p2sh_script, script_to_address, witness_script
from regtest.consensus.block import Block
from regtest.consensus.hashes import hash160, hash_to_hex
from regtest.consensus.script import OP_CHECKMULTISIG, build_script
from regtest.consensus.transaction import Transaction, TxOut
from regtest.node.signing import WIF_MAIN, WIF_TEST, SigningKey, encode_wif
from regtest.testing.core_oracle import CORE_FLAGS_MASK, core_verdict
from tests.node.framework import RPCFailure, run_cli

TXID = "ab" * 32
KEY = SigningKey((0xC0FFEE).to_bytes(32, "big"))
OTHER = SigningKey((0xBEEF).to_bytes(32, "big"))
WIF = encode_wif(KEY, WIF_TEST)
P2WPKH = witness_script(0, hash160(KEY.pubkey))
ADDR = script_to_address(P2WPKH, REGTEST_PREFIXES)
ADDR2 = script_to_address(witness_script(0, hash160(OTHER.pubkey)), REGTEST_PREFIXES)
P2PKH = bytes.fromhex("76a914") + hash160(KEY.pubkey) + bytes.fromhex("88ac")


def err(node, method, *args) -> tuple[int, str]:
    with pytest.raises(RPCFailure) as e:
        node.rpc(method, *args)
    return e.value.code, e.value.message


def decode(node, hexstr: str) -> dict:
    return node.rpc("decoderawtransaction", hexstr)


def inp(vout=0, **kw) -> dict:
    return {"txid": TXID, "vout": vout, **kw}


# --- createrawtransaction -------------------------------------------------------------------------
def test_create_defaults_and_options(node):
    d = decode(node, node.rpc("createrawtransaction", [inp(1)], {ADDR: "0.5"}))
    assert d["version"] == 2 and d["locktime"] == 0
    assert d["vin"][0]["txid"] == TXID and d["vin"][0]["vout"] == 1
    assert d["vin"][0]["sequence"] == 0xFFFFFFFD  # replaceable defaults to true, as Core today
    assert d["vout"][0]["value"] == 0.5 and d["vout"][0]["scriptPubKey"]["address"] == ADDR
    d = decode(node, node.rpc("createrawtransaction", [inp()], [{ADDR: 1}], 0, False))
    assert d["vin"][0]["sequence"] == 0xFFFFFFFF
    d = decode(node, node.rpc("createrawtransaction", [inp()], [{ADDR: 1}], 500, False, 3))
    assert d["vin"][0]["sequence"] == 0xFFFFFFFE and d["locktime"] == 500 and d["version"] == 3
    d = decode(node, node.rpc("createrawtransaction", [inp(sequence=7)], [], 0, True, 1))
    assert d["vin"][0]["sequence"] == 7 and d["version"] == 1 and d["vout"] == []
    # array form keeps the order; data goes into an OP_RETURN push, never an OP_n
    d = decode(node, node.rpc("createrawtransaction", [], [{"data": "05"}, {ADDR: 2}, {ADDR2: "0.1"}]))
    assert [o["scriptPubKey"]["hex"] for o in d["vout"]][0] == "6a0105"
    assert [o["value"] for o in d["vout"]] == [Decimal(0), Decimal(2), Decimal("0.1")]
    d = decode(node, node.rpc("createrawtransaction", [], {"data": ""}))
    assert d["vout"][0]["scriptPubKey"]["hex"] == "6a00"
    d = decode(node, node.rpc("createrawtransaction", [], {"data": 10}))  # a number's digits
    assert d["vout"][0]["scriptPubKey"]["hex"] == "6a0110"


@pytest.mark.parametrize("inputs,outputs,extra,expected", [
    ({}, {}, [], (-3, "Wrong type passed:\n{\n    \"Position 1 (inputs)\": \"JSON value of type object is "
                     "not of expected type array\"\n}")),
    (["foo"], {}, [], (-1, "JSON value of type string is not of expected type object")),
    ([{}], {}, [], (-1, "JSON value of type null is not of expected type string")),
    ([{"txid": "abc", "vout": 0}], {}, [], (-8, "txid must be of length 64 (not 3, for 'abc')")),
    ([{"txid": "zz" * 32, "vout": 0}], {}, [], (-8, f"txid must be hexadecimal string (not '{'zz' * 32}')")),
    ([{"txid": TXID}], {}, [], (-8, "Invalid parameter, missing vout key")),
    ([{"txid": TXID, "vout": "0"}], {}, [], (-8, "Invalid parameter, missing vout key")),
    ([inp(-1)], {}, [], (-8, "Invalid parameter, vout cannot be negative")),
    ([inp(sequence=-1)], {}, [], (-8, "Invalid parameter, sequence number is out of range")),
    ([inp(sequence=2**32)], {}, [], (-8, "Invalid parameter, sequence number is out of range")),
    ([], {}, [-1], (-8, "Invalid parameter, locktime out of range")),
    ([], {}, [2**32], (-8, "Invalid parameter, locktime out of range")),
    ([], {}, [0, True, 0], (-8, "Invalid parameter, version out of range(1~3)")),
    ([], {}, [0, True, 4], (-8, "Invalid parameter, version out of range(1~3)")),
    ([], None, [], (-8, "Invalid parameter, output argument must be non-null")),
    ([], ["x"], [], (-8, "Invalid parameter, key-value pair not an object as expected")),
    ([], [{ADDR: 1, ADDR2: 1}], [], (-8, "Invalid parameter, key-value pair must contain exactly one key")),
    ([], {"foo": 1}, [], (-5, "Invalid Bitcoin address: foo")),
    ([], [{ADDR: 1}, {ADDR: 2}], [], (-8, f"Invalid parameter, duplicated address: {ADDR}")),
    ([], [{"data": "00"}, {"data": "01"}], [], (-8, "Invalid parameter, duplicate key: data")),
    ([], {"data": "zz"}, [], (-8, "Data must be hexadecimal string (not 'zz')")),
    ([], {ADDR: -1}, [], (-3, "Amount out of range")),
    ([], {ADDR: "abc"}, [], (-3, "Invalid amount")),
    ([], {ADDR: "0.000000001"}, [], (-3, "Invalid amount")),
    ([], {ADDR: True}, [], (-3, "Amount is not a number or string")),
    ([inp(sequence=0xFFFFFFFF)], {}, [0, True],
     (-8, "Invalid parameter combination: Sequence number(s) contradict replaceable option")),
])
def test_create_errors(node, inputs, outputs, extra, expected):
    assert err(node, "createrawtransaction", inputs, outputs, *extra) == expected


def test_create_refuses_a_mainnet_address(node):
    main = b58check_encode(0, hash160(KEY.pubkey))
    assert err(node, "createrawtransaction", [], {main: 1}) == (-5, f"Invalid Bitcoin address: {main}")


# --- signrawtransactionwithkey ---------------------------------------------------------------------
def _unsigned(node, n_inputs: int = 1, outputs: dict | None = None) -> str:
    return node.rpc("createrawtransaction", [inp(i) for i in range(n_inputs)], outputs or {ADDR: 1})


def _prev(vout: int, spk: bytes, amount="2", **kw) -> dict:
    return {"txid": TXID, "vout": vout, "scriptPubKey": spk.hex(), "amount": amount, **kw}


@pytest.mark.parametrize("sighash,code", [
    ("ALL", 0x01), ("NONE", 0x02), ("SINGLE", 0x03), ("ALL|ANYONECANPAY", 0x81),
    ("NONE|ANYONECANPAY", 0x82), ("SINGLE|ANYONECANPAY", 0x83), ("DEFAULT", 0x01),
])
def test_sighash_types_verify_under_core(node, sighash, code):
    raw = _unsigned(node, 2, {ADDR: 1, ADDR2: 1})
    prev = [_prev(0, P2WPKH), _prev(1, P2PKH)]
    res = node.rpc("signrawtransactionwithkey", raw, [WIF], prev, sighash)
    assert res["complete"] is True
    tx = Transaction.from_hex(res["hex"])
    spent = [TxOut(200_000_000, P2WPKH), TxOut(200_000_000, P2PKH)]
    for i in range(2):
        assert core_verdict(bytes.fromhex(res["hex"]), i, spent, CORE_FLAGS_MASK)
    sig_w = tx.vin[0].witness[0]
    assert sig_w[-1] == code
    assert sig_w[3] <= 32  # R ground low: never a 33-byte (padded) R


def test_taproot_sighash_byte(node):
    from regtest.consensus.crypto import taproot_output_key

    spk = witness_script(1, taproot_output_key(KEY.xonly, None)[0])
    raw = _unsigned(node)
    default = node.rpc("signrawtransactionwithkey", raw, [WIF], [_prev(0, spk)])
    explicit = node.rpc("signrawtransactionwithkey", raw, [WIF], [_prev(0, spk)], "ALL")
    sigs = [Transaction.from_hex(r["hex"]).vin[0].witness for r in (default, explicit)]
    assert [len(w[0]) for w in sigs] == [64, 65] and sigs[1][0][-1] == 1
    for r in (default, explicit):
        assert core_verdict(bytes.fromhex(r["hex"]), 0, [TxOut(200_000_000, spk)], CORE_FLAGS_MASK)


def test_per_input_errors(node):
    other_wif = encode_wif(OTHER, WIF_TEST)
    raw = _unsigned(node, 4)
    prev = [_prev(0, P2WPKH), _prev(1, P2PKH), _prev(2, P2PKH)]  # input 3: no coin anywhere
    res = node.rpc("signrawtransactionwithkey", raw, [other_wif], prev)
    assert res["complete"] is False
    errors = {e["vout"]: e for e in res["errors"]}
    assert errors[0]["error"] == "Witness program hash mismatch"  # P2WPKH wants 2 witness items
    assert errors[1]["error"] == "Unable to sign input, invalid stack size (possibly missing key)"
    assert errors[3]["error"] == "Input not found or already spent"
    assert set(errors[3]) == {"txid", "vout", "witness", "scriptSig", "sequence", "error"}
    assert errors[3]["txid"] == TXID and errors[3]["witness"] == [] and errors[3]["scriptSig"] == ""
    # with the right key, inputs 0-2 sign and only the unknown coin is left
    res = node.rpc("signrawtransactionwithkey", raw, [WIF], prev)
    assert [e["vout"] for e in res["errors"]] == [3]


def test_uncompressed_key_cannot_sign_segwit(node):
    unc = SigningKey(KEY.secret, compressed=False)
    spk = witness_script(0, hash160(KEY.pubkey))
    res = node.rpc("signrawtransactionwithkey", _unsigned(node), [encode_wif(unc, WIF_TEST)], [_prev(0, spk)])
    assert res["complete"] is False


def test_sign_errors(node):
    raw = _unsigned(node)
    ms = build_script(1, KEY.pubkey, 1, OP_CHECKMULTISIG)
    p2sh = p2sh_script(hash160(ms))
    main_wif = encode_wif(KEY, WIF_MAIN)
    assert err(node, "signrawtransactionwithkey", "zz", [WIF]) == (
        -22, "TX decode failed. Make sure the tx has at least one input.")
    assert err(node, "signrawtransactionwithkey", raw, ["notakey"]) == (-5, "Invalid private key")
    assert err(node, "signrawtransactionwithkey", raw, [main_wif]) == (-5, "Invalid private key")
    assert err(node, "signrawtransactionwithkey", raw, [1]) == (
        -1, "JSON value of type number is not of expected type string")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], ["x"]) == (
        -22, 'expected object with {"txid\'","vout","scriptPubKey"}')
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [{"txid": TXID, "vout": 0}]) == (
        -3, "Missing scriptPubKey")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(0, P2WPKH) | {"vout": "0"}]) == (
        -3, "JSON value of type string for field vout is not of expected type number")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(-1, P2WPKH)]) == (
        -22, "vout cannot be negative")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(0, p2sh)]) == (
        -8, "Missing redeemScript/witnessScript")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(0, p2sh, redeemScript="51")]) == (
        -8, "redeemScript/witnessScript does not match scriptPubKey")
    assert err(node, "signrawtransactionwithkey", raw, [WIF],
               [_prev(0, p2sh, redeemScript=ms.hex(), witnessScript="51")]) == (
        -8, "redeemScript does not correspond to witnessScript")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(0, P2WPKH) | {"amount": -1}]) == (
        -3, "Amount out of range")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [], "ALL|FOO") == (
        -8, "'ALL|FOO' is not a valid sighash parameter.")
    no_amount = {k: v for k, v in _prev(0, P2WPKH).items() if k != "amount"}
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [no_amount]) == (
        -3, f"Missing amount for CTxOut(nValue=21000000.00000000, scriptPubKey={P2WPKH.hex()[:30]})")
    assert err(node, "signrawtransactionwithkey", raw, [WIF], [_prev(0, P2WPKH) | {"amount": None}]) == (
        -3, "Amount is not a number or string")
    # a legacy spend needs no amount
    no_amount = {k: v for k, v in _prev(0, P2PKH).items() if k != "amount"}
    res = node.rpc("signrawtransactionwithkey", raw, [WIF], [no_amount])
    assert res["complete"] is True


def test_prevtx_must_match_the_utxo_set(node):
    h = node.rpc("generatetoaddress", 1, ADDR)[0]
    cb = Block.parse(bytes.fromhex(node.rpc("getblock", h, 0))).txs[0]
    txid = hash_to_hex(cb.txid)
    raw = node.rpc("createrawtransaction", [{"txid": txid, "vout": 0}], {ADDR2: 1})
    # the coin is found in the chainstate without prevtxs
    res = node.rpc("signrawtransactionwithkey", raw, [WIF])
    assert res["complete"] is True
    code, msg = err(node, "signrawtransactionwithkey", raw, [WIF],
                    [{"txid": txid, "vout": 0, "scriptPubKey": P2PKH.hex()}])
    assert code == -22
    assert msg == ("Previous output scriptPubKey mismatch:\n0 " + hash160(KEY.pubkey).hex()
                   + "\nvs:\nOP_DUP OP_HASH160 " + hash160(KEY.pubkey).hex() + " OP_EQUALVERIFY OP_CHECKSIG")


def test_cli_round_trip(node):
    inputs = json.dumps([inp()])
    r = run_cli(node, "createrawtransaction", inputs, json.dumps({ADDR2: 0.5}))
    assert r.returncode == 0, r.stderr
    raw = r.stdout.strip()
    assert decode(node, raw)["vout"][0]["value"] == 0.5
    prev = json.dumps([_prev(0, P2WPKH)])
    r = run_cli(node, "signrawtransactionwithkey", raw, json.dumps([WIF]), prev)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] is True and set(out) == {"hex", "complete"}
    r = run_cli(node, "-named", "createrawtransaction", f"inputs={inputs}", f'outputs={{"{ADDR2}": 0.5}}',
                "replaceable=false")
    assert r.returncode == 0, r.stderr
    assert decode(node, r.stdout.strip())["vin"][0]["sequence"] == 0xFFFFFFFF
    r = run_cli(node, "signrawtransactionwithkey", raw, json.dumps(["bad"]))
    assert r.returncode == 5 and "Invalid private key" in r.stderr
