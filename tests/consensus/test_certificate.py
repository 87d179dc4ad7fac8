"""The certificate library and each bad-cert reject reason, on small hand-built blocks."""

from __future__ import annotations

import pytest

from regtest.consensus.block import Block
from regtest.consensus.blockbuild import certify, make_block
from regtest.consensus.certificate import (
    BLANK_CERTIFICATE_SCRIPT,
    CERT_TAG,
    MAX_CERT_SIZE,
    Certificate,
    CertificateError,
    attach_certificate,
    block_commitment,
    certificate_output,
    certificate_payload,
    check_block_certificate,
    extract_certificate,
    find_certificates,
    xonly_pubkey,
)
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import BITCOIN_REGTEST, CoordinatorKey, regtest_params
from regtest.consensus.transaction import Transaction, TxOut

KEY = bytes.fromhex("11" * 32)
OTHER_KEY = bytes.fromhex("22" * 32)
OLD_KEY = bytes.fromhex("33" * 32)
PAYOUT = bytes.fromhex("0014") + bytes(range(20))
PARAMS = regtest_params(
    [CoordinatorKey(0, 5, xonly_pubkey(OLD_KEY)), CoordinatorKey(1, None, xonly_pubkey(KEY))]
)
GENESIS = PARAMS.genesis
T0 = GENESIS.header.time + 600


def template(height: int = 1, prev: bytes | None = None, time: int = T0) -> Certificate:
    return Certificate(
        network=PARAMS.magic,
        parent_hash=GENESIS.hash if prev is None else prev,
        height=height,
        payout_script=PAYOUT,
        cycle_id=7,
        model_hash=bytes([1]) * 32,
        contributions_root=bytes([2]) * 32,
        lottery_seed=bytes([3]) * 32,
        issue_time=time - 60,
        expiry=time + 3600,
        block_commitment=bytes(32),
    )


def unsigned_block(time: int = T0, payout: bytes = PAYOUT) -> Block:
    return make_block(PARAMS, GENESIS.hash, 1, time, payout)


def good_block(key: bytes = KEY, **cert_changes) -> Block:
    return certify(unsigned_block(), template().replace(**cert_changes), key)


def reason(block: Block, height: int | None = 1, params=PARAMS) -> str:
    with pytest.raises(BlockValidationError) as e:
        check_block_certificate(block, height, params)
    return e.value.reason


def replace_cert_script(block: Block, script: bytes) -> Block:
    cb = block.txs[0]
    idx = find_certificates(cb)[0]
    vout = list(cb.vout)
    vout[idx] = TxOut(0, script)
    return block.with_txs((Transaction(cb.version, cb.vin, tuple(vout), cb.locktime),) + block.txs[1:])


# --- the library -------------------------------------------------------------------------
def test_roundtrip_and_signature():
    cert = template().sign(KEY)
    assert cert.coordinator_key == xonly_pubkey(KEY)
    assert cert.verify_signature()
    raw = cert.serialize()
    assert len(raw) <= MAX_CERT_SIZE
    assert raw[0] == 1
    assert Certificate.parse(raw) == cert
    assert certificate_payload(certificate_output(cert).script_pubkey) == raw
    assert not cert.replace(cycle_id=8).verify_signature()


def test_parse_rejects_bad_input():
    raw = template().sign(KEY).serialize()
    for data, expected in [
        (raw[:-1], "bad-cert-malformed"),
        (raw + b"\x00", "bad-cert-malformed"),
        (b"", "bad-cert-malformed"),
        (b"\x02" + raw[1:], "bad-cert-version"),
        (raw + bytes(MAX_CERT_SIZE), "bad-cert-oversize"),
    ]:
        with pytest.raises(CertificateError) as e:
            Certificate.parse(data)
        assert e.value.reason == expected


def test_field_sizes_enforced():
    with pytest.raises(CertificateError):
        template().replace(parent_hash=b"short").serialize()
    with pytest.raises(CertificateError):
        template().replace(height=-1).serialize()


def test_valid_block_passes_and_commitment_ignores_certificate_bytes():
    block = good_block()
    cert = check_block_certificate(block, 1, PARAMS)
    assert cert.height == 1 and cert.payout_script == PAYOUT
    assert check_block_certificate(block, None, PARAMS) == cert
    assert block_commitment(block) == block_commitment(unsigned_block())
    assert block_commitment(block) == cert.block_commitment
    assert extract_certificate(block) == cert
    # the header commits to the certificate through the real merkle root
    assert block.header.merkle_root != unsigned_block().header.merkle_root


def test_attach_appends_when_no_slot():
    block = make_block(PARAMS, GENESIS.hash, 1, T0, PAYOUT, certificate_slot=False)
    out = attach_certificate(block, template().sign(KEY))
    assert len(find_certificates(out.txs[0])) == 1
    # appending changes what was committed, so a certificate signed before is stale
    assert reason(out) == "bad-cert-commitment"


# --- one test per reject reason ---------------------------------------------------------------
def test_missing():
    assert reason(make_block(PARAMS, GENESIS.hash, 1, T0, PAYOUT, certificate_slot=False)) == "bad-cert-missing"


def test_multiple():
    block = good_block()
    cb = block.txs[0]
    extra = cb.vout + (certificate_output(extract_certificate(block)),)
    block = block.with_txs((Transaction(cb.version, cb.vin, extra, cb.locktime),))
    assert reason(block) == "bad-cert-multiple"


def test_version():
    block = good_block()
    raw = bytearray(extract_certificate(block).serialize())
    raw[0] = 2
    assert reason(replace_cert_script(block, certificate_output_raw(bytes(raw)))) == "bad-cert-version"


def certificate_output_raw(payload: bytes) -> bytes:
    data = CERT_TAG + payload
    if len(data) <= 0xFF:
        return b"\x6a\x4c" + bytes((len(data),)) + data
    return b"\x6a\x4d" + len(data).to_bytes(2, "little") + data


def test_truncated_and_broken_push_are_malformed():
    block = good_block()
    raw = extract_certificate(block).serialize()
    assert reason(replace_cert_script(block, certificate_output_raw(raw[:-10]))) == "bad-cert-malformed"
    broken = certificate_output_raw(raw)[:-3]  # push length claims more than the script holds
    assert reason(replace_cert_script(block, broken)) == "bad-cert-malformed"
    assert reason(replace_cert_script(block, BLANK_CERTIFICATE_SCRIPT)) == "bad-cert-malformed"


def test_oversize():
    block = good_block()
    raw = extract_certificate(block).serialize() + bytes(300)
    assert reason(replace_cert_script(block, certificate_output_raw(raw))) == "bad-cert-oversize"


def test_network():
    assert reason(good_block(network=BITCOIN_REGTEST.magic)) == "bad-cert-network"


def test_height():
    assert reason(good_block(height=2)) == "bad-cert-height"
    assert reason(good_block(), height=2) == "bad-cert-height"


def test_unknown_key():
    assert reason(good_block(key=OTHER_KEY)) == "bad-cert-key"


def test_retired_key():
    params = PARAMS
    at = 6  # the old key's window ends at 5
    block = certify(make_block(params, GENESIS.hash, at, T0, PAYOUT), template(height=at), OLD_KEY)
    assert reason(block, height=at) == "bad-cert-key"
    block = certify(make_block(params, GENESIS.hash, 5, T0, PAYOUT), template(height=5), OLD_KEY)
    check_block_certificate(block, 5, params)  # still valid inside its window


def test_forged_signature():
    block = good_block()
    cert = extract_certificate(block)
    forged = cert.replace(signature=bytes(64))
    assert reason(attach_certificate(block, forged)) == "bad-cert-sig"
    tampered = cert.replace(lottery_seed=bytes([9]) * 32)  # same signature, other content
    assert reason(attach_certificate(block, tampered)) == "bad-cert-sig"


def test_parent_replay():
    block = good_block()
    other_parent = block.with_header(prev_hash=bytes([5]) * 32)
    assert reason(other_parent) == "bad-cert-parent"


def test_lifted_into_other_block():
    block = good_block()
    cert = extract_certificate(block)
    later = attach_certificate(unsigned_block(time=T0 + 1), cert)
    assert reason(later) == "bad-cert-commitment"
    other_txs = make_block(PARAMS, GENESIS.hash, 1, T0, PAYOUT, witness_commitment=False)
    assert reason(attach_certificate(other_txs, cert)) == "bad-cert-commitment"
    assert reason(block.with_header(version=4)) == "bad-cert-commitment"
    assert reason(block.with_header(bits=0x1D00FFFF)) == "bad-cert-commitment"
    # the nonce is not committed (like Signet's solution)
    check_block_certificate(block.with_header(nonce=12345), 1, PARAMS)


def test_payout_diverted():
    diverted = certify(unsigned_block(payout=b"\x51"), template(), KEY)
    assert reason(diverted) == "bad-cert-payout"
    block = unsigned_block()
    cb = block.txs[0]
    split = (TxOut(cb.vout[0].value - 1, PAYOUT), TxOut(1, b"\x00\x14" + bytes(20))) + cb.vout[1:]
    block = block.with_txs((Transaction(cb.version, cb.vin, split, cb.locktime),))
    assert reason(certify(block, template(), KEY)) == "bad-cert-payout"


def test_op_return_outputs_need_not_pay_winner():
    block = unsigned_block()
    cb = block.txs[0]
    vout = cb.vout + (TxOut(0, b"\x6a\x01\x01"),)
    block = block.with_txs((Transaction(cb.version, cb.vin, vout, cb.locktime),))
    check_block_certificate(certify(block, template(), KEY), 1, PARAMS)


def test_time_window():
    assert reason(good_block(issue_time=T0 + 1, expiry=T0 + 10)) == "bad-cert-premature"
    assert reason(good_block(issue_time=T0 - 10, expiry=T0 - 1)) == "bad-cert-expired"
    check_block_certificate(good_block(issue_time=T0, expiry=T0), 1, PARAMS)
