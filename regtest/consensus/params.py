"""Network parameters: Bitcoin mainnet, Bitcoin Core's regtest, and this project's regtest.

`regtest` is Core's regtest with two differences only: its own network magic, and the
training certificate (see `certificate.py`) instead of proof of work as the proof rule.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Protocol

from regtest.consensus.block import Block, BlockHeader, block_merkle_root, compact_to_target, target_to_compact
from regtest.consensus.hashes import hex_to_hash
from regtest.consensus.script_flags import ScriptFlags
from regtest.consensus.transaction import COIN, OutPoint, Transaction, TxIn, TxOut, NULL_OUTPOINT

COINBASE_MATURITY = 100
MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60
MEDIAN_TIME_SPAN = 11
REGTEST_BITS = 0x207FFFFF


class ProofRule(enum.Enum):
    POW = "pow"  # header hash compared with the target from nBits
    CERTIFICATE = "certificate"  # a coordinator-signed training certificate in the coinbase


@dataclass(frozen=True, slots=True)
class CoordinatorKey:
    """One entry of the key schedule: `xonly` may sign certificates for heights in [from, to]."""

    from_height: int
    to_height: int | None  # inclusive; None = open-ended
    xonly: bytes  # 32-byte BIP340 public key

    def covers(self, height: int) -> bool:
        return height >= self.from_height and (self.to_height is None or height <= self.to_height)


@dataclass(frozen=True, slots=True)
class NetworkParams:
    name: str
    magic: bytes  # P2P message start; also the certificate's network id
    bech32_hrp: str
    genesis: Block
    proof_rule: ProofRule
    pow_limit: int
    pow_target_spacing: int = 600
    pow_target_timespan: int = 14 * 24 * 60 * 60
    pow_allow_min_difficulty_blocks: bool = False
    pow_no_retargeting: bool = False
    subsidy_halving_interval: int = 210_000
    bip16_exception: bytes | None = None  # block hash exempt from P2SH
    bip30_exceptions: tuple[tuple[int, bytes], ...] = ()  # (height, hash) allowed to overwrite
    bip34_height: int = 1
    bip34_hash: bytes = bytes(32)
    bip65_height: int = 1
    bip66_height: int = 1
    csv_height: int = 1
    segwit_height: int = 0
    taproot_height: int = 0  # informational: Core applies TAPROOT flags at every height
    script_flag_exceptions: tuple[tuple[bytes, ScriptFlags], ...] = ()
    coordinator_keys: tuple[CoordinatorKey, ...] = ()

    # --- derived ----------------------------------------------------------------------
    @property
    def genesis_hash(self) -> bytes:
        return self.genesis.hash

    @property
    def pow_limit_bits(self) -> int:
        return target_to_compact(self.pow_limit)

    @property
    def difficulty_adjustment_interval(self) -> int:
        return self.pow_target_timespan // self.pow_target_spacing

    def coordinator_keys_at(self, height: int) -> list[bytes]:
        """The x-only keys allowed to sign a certificate for a block at `height`."""
        return [k.xonly for k in self.coordinator_keys if k.covers(height)]

    def with_coordinator_keys(self, schedule: list[CoordinatorKey] | tuple[CoordinatorKey, ...]) -> "NetworkParams":
        return dataclasses.replace(self, coordinator_keys=tuple(schedule))


# --- genesis blocks --------------------------------------------------------------------------------
_GENESIS_SCRIPT_SIG = bytes.fromhex(
    "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e20"
    "6272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73"
)
_GENESIS_PUBKEY_SCRIPT = bytes.fromhex(
    "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504"
    "e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac"
)


def make_genesis(time: int, nonce: int, bits: int, version: int = 1, reward: int = 50 * COIN) -> Block:
    """Satoshi's genesis block layout with the given header fields."""
    coinbase = Transaction(
        1,
        (TxIn(NULL_OUTPOINT, _GENESIS_SCRIPT_SIG, 0xFFFFFFFF),),
        (TxOut(reward, _GENESIS_PUBKEY_SCRIPT),),
        0,
    )
    root, _ = block_merkle_root([coinbase])
    return Block(BlockHeader(version, bytes(32), root, time, bits, nonce), (coinbase,))


MAIN = NetworkParams(
    name="main",
    magic=bytes.fromhex("f9beb4d9"),
    bech32_hrp="bc",
    genesis=make_genesis(1231006505, 2083236893, 0x1D00FFFF),
    proof_rule=ProofRule.POW,
    pow_limit=int("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 16),
    subsidy_halving_interval=210_000,
    bip16_exception=hex_to_hash("00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22"),
    bip30_exceptions=(
        (91842, hex_to_hash("00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec")),
        (91880, hex_to_hash("00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721")),
    ),
    bip34_height=227931,
    bip34_hash=hex_to_hash("000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8"),
    bip65_height=388381,
    bip66_height=363725,
    csv_height=419328,
    segwit_height=481824,
    taproot_height=709632,
    script_flag_exceptions=(
        (hex_to_hash("00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22"), ScriptFlags.NONE),
        (
            hex_to_hash("0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad"),
            ScriptFlags.P2SH | ScriptFlags.WITNESS,
        ),
    ),
)

BITCOIN_REGTEST = NetworkParams(
    name="bitcoin-regtest",
    magic=bytes.fromhex("fabfb5da"),
    bech32_hrp="bcrt",
    genesis=make_genesis(1296688602, 2, REGTEST_BITS),
    proof_rule=ProofRule.POW,
    pow_limit=int("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 16),
    pow_allow_min_difficulty_blocks=True,
    pow_no_retargeting=True,
    subsidy_halving_interval=150,
    bip34_height=1,
    bip65_height=1,
    bip66_height=1,
    csv_height=1,
    segwit_height=0,
    taproot_height=0,
)

#: This project's network magic ("potc" regtest); differs from Core's regtest on purpose.
POTC_REGTEST_MAGIC = bytes.fromhex("fabf7074")

#: The project's regtest without a coordinator key; use `regtest_params(key)` to configure one.
REGTEST = dataclasses.replace(
    BITCOIN_REGTEST, name="regtest", magic=POTC_REGTEST_MAGIC, proof_rule=ProofRule.CERTIFICATE
)


def regtest_params(
    coordinator: bytes | str | list[CoordinatorKey] | tuple[CoordinatorKey, ...],
) -> NetworkParams:
    """Regtest with a coordinator key (32-byte x-only, bytes or hex) or a full key schedule."""
    if isinstance(coordinator, str):
        coordinator = bytes.fromhex(coordinator)
    if isinstance(coordinator, bytes):
        if len(coordinator) != 32:
            raise ValueError("coordinator key must be a 32-byte x-only public key")
        schedule: tuple[CoordinatorKey, ...] = (CoordinatorKey(0, None, coordinator),)
    else:
        schedule = tuple(coordinator)
        for k in schedule:
            if len(k.xonly) != 32:
                raise ValueError("coordinator key must be a 32-byte x-only public key")
    return REGTEST.with_coordinator_keys(schedule)


NETWORKS = {p.name: p for p in (MAIN, BITCOIN_REGTEST, REGTEST)}


def get_params(name: str, coordinator: bytes | str | None = None) -> NetworkParams:
    """Look a network up by name; `coordinator` configures the regtest key."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}")
    if name == "regtest" and coordinator is not None:
        return regtest_params(coordinator)
    return NETWORKS[name]


# --- per-height rules ---------------------------------------------------------------------------
def block_subsidy(height: int, params: NetworkParams) -> int:
    halvings = height // params.subsidy_halving_interval
    if halvings >= 64:
        return 0
    return (50 * COIN) >> halvings


def get_block_script_flags(params: NetworkParams, height: int, block_hash: bytes) -> ScriptFlags:
    """The script flags Core applies to a block (GetBlockScriptFlags)."""
    flags = ScriptFlags.P2SH | ScriptFlags.WITNESS | ScriptFlags.TAPROOT
    for h, exception_flags in params.script_flag_exceptions:
        if h == block_hash:
            flags = ScriptFlags(exception_flags)
    if height >= params.bip66_height:
        flags |= ScriptFlags.DERSIG
    if height >= params.bip65_height:
        flags |= ScriptFlags.CHECKLOCKTIMEVERIFY
    if height >= params.csv_height:
        flags |= ScriptFlags.CHECKSEQUENCEVERIFY
    if height >= params.segwit_height:
        flags |= ScriptFlags.NULLDUMMY
    return flags


class HeaderInfo(Protocol):
    """What retargeting needs from a block index entry (the chainstate's entries fit)."""

    height: int
    bits: int
    time: int


def next_work_required(
    params: NetworkParams,
    prev: HeaderInfo,
    new_time: int,
    ancestor,  # Callable[[int], HeaderInfo]: the entry at a height on prev's chain
) -> int:
    """The nBits a block after `prev` must carry (Core's GetNextWorkRequired)."""
    limit_bits = params.pow_limit_bits
    interval = params.difficulty_adjustment_interval
    if (prev.height + 1) % interval != 0:
        if params.pow_allow_min_difficulty_blocks:
            if new_time > prev.time + params.pow_target_spacing * 2:
                return limit_bits
            entry = prev
            while entry.height > 0 and entry.height % interval != 0 and entry.bits == limit_bits:
                entry = ancestor(entry.height - 1)
            return entry.bits
        return prev.bits
    first = ancestor(prev.height - (interval - 1))
    return calculate_next_work_required(params, prev.bits, prev.time, first.time)


def calculate_next_work_required(params: NetworkParams, last_bits: int, last_time: int, first_time: int) -> int:
    if params.pow_no_retargeting:
        return last_bits
    timespan = last_time - first_time
    timespan = max(params.pow_target_timespan // 4, min(params.pow_target_timespan * 4, timespan))
    target, _, _ = compact_to_target(last_bits)
    target = ((target * timespan) & ((1 << 256) - 1)) // params.pow_target_timespan
    target = min(target, params.pow_limit)
    return target_to_compact(target)
