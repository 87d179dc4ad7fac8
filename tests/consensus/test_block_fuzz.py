"""Hostile bytes: block and certificate decoders fail only with their own exceptions, and
every single-byte corruption of a valid certificate block is rejected with a reject reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtest.consensus.block import Block
from regtest.consensus.block_validation import check_block, contextual_check_block
from regtest.consensus.blockbuild import certify, make_block
from regtest.consensus.certificate import Certificate, CertificateError, xonly_pubkey
from regtest.consensus.errors import BlockValidationError
from regtest.consensus.params import regtest_params
from regtest.consensus.serialize import DeserializationError

KEY = bytes([0x42]) * 32
PARAMS = regtest_params(xonly_pubkey(KEY))
G = PARAMS.genesis
T = G.header.time + 600
CERT = Certificate(PARAMS.magic, G.hash, 1, b"\x51", 1, bytes(32), bytes(32), bytes(32), T - 1, T + 1, bytes(32))
GOOD = certify(make_block(PARAMS, G.hash, 1, T, b"\x51"), CERT, KEY)
RAW = GOOD.serialize()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=400))
def test_block_parse_random_bytes(data):
    try:
        block = Block.parse(data)
    except DeserializationError:
        return
    assert block.serialize() == data


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=600))
def test_certificate_parse_random_bytes(data):
    try:
        cert = Certificate.parse(data)
    except CertificateError as e:
        assert e.reason.startswith("bad-cert-")
        return
    assert cert.serialize() == data


@pytest.mark.parametrize("flip", [0x01, 0x80])
def test_every_single_byte_corruption_rejected(flip):
    accepted = []
    for pos in range(len(RAW)):
        data = bytearray(RAW)
        data[pos] ^= flip
        try:
            block = Block.parse(bytes(data))
        except DeserializationError:
            continue
        try:
            check_block(block, PARAMS)
            contextual_check_block(block, 1, G.header.time, PARAMS)
        except BlockValidationError as e:
            assert e.reason
        else:
            accepted.append(pos)
    assert accepted == [76, 77, 78, 79]  # only the nonce is free (as on Signet)


def test_good_block_passes():
    check_block(GOOD, PARAMS)
    contextual_check_block(GOOD, 1, G.header.time, PARAMS)
