"""The mempool's node options (bitcoind's names) and how the daemon attaches the mempool.

Importing this module registers the options with the config parser.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from regtest.node.config import ConfigError, Settings, register_option
from regtest.node.mempool.mempool import Mempool
from regtest.node.mempool.policy import PolicySettings
from regtest.node.mempool.persist import FILENAME, MempoolFileError, dump_mempool, load_mempool
from regtest.node.mempool.pool import MempoolListener

log = logging.getLogger("potc.mempool")

for _name, _help in [
    ("maxmempool", "Keep the transaction memory pool below <n> megabytes (default 300)"),
    ("minrelaytxfee", "Fee rate (BTC/kvB) below which transactions are not relayed (default 0.000001)"),
    ("incrementalrelayfee", "Fee rate (BTC/kvB) for mempool limiting and replacement (default 0.000001)"),
    ("dustrelayfee", "Fee rate (BTC/kvB) defining dust (default 0.00003)"),
    ("blockmintxfee", "Lowest fee rate (BTC/kvB) of transactions included in templates (default 0.00000001)"),
    ("datacarrier", "Relay and mine OP_RETURN outputs (default 1)"),
    ("datacarriersize", "Total OP_RETURN script bytes per transaction (default 100000)"),
    ("permitbaremultisig", "Relay bare multisig outputs (default 1)"),
    ("mempoolfullrbf", "Replace any conflicting transaction by fee (default 1)"),
    ("limitancestorcount", "Maximum in-mempool ancestors, itself included (default 25)"),
    ("limitancestorsize", "Maximum ancestor package size in kvB (default 101)"),
    ("limitdescendantcount", "Maximum in-mempool descendants, itself included (default 25)"),
    ("limitdescendantsize", "Maximum descendant package size in kvB (default 101)"),
    ("maxtxfee", "Accepted for compatibility (wallet option, ignored)"),
    ("blockreservedweight", "Weight reserved in templates for the coinbase (default 8000)"),
    ("persistmempool", "Save the mempool at shutdown and load it at start (default 1)"),
]:
    register_option(_name, _help)


def _rate(settings: Settings, name: str, default: int) -> int:
    """A BTC/kvB option in sat/kvB."""
    text = settings.get(name)
    if text is None:
        return default
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ConfigError(f"Invalid amount for -{name}=<amount>: '{text}'") from None
    if value < 0 or not value.is_finite():
        raise ConfigError(f"Invalid amount for -{name}=<amount>: '{text}'")
    return int(value * 100_000_000)


def policy_settings(settings: Settings) -> PolicySettings:
    d = PolicySettings()
    descendant_kvb = settings.get_int("limitdescendantsize", d.descendant_size_limit // 1000)
    min_mb = -(-descendant_kvb * 40 // 1000)  # Core: room for 40 maximal descendant packages
    if settings.get_int("maxmempool", d.max_mempool_bytes // 1_000_000) < min_mb:
        raise ConfigError(f"-maxmempool must be at least {min_mb} MB")
    return PolicySettings(
        min_relay_fee=_rate(settings, "minrelaytxfee", d.min_relay_fee),
        incremental_relay_fee=_rate(settings, "incrementalrelayfee", d.incremental_relay_fee),
        dust_relay_fee=_rate(settings, "dustrelayfee", d.dust_relay_fee),
        block_min_tx_fee=_rate(settings, "blockmintxfee", d.block_min_tx_fee),
        datacarrier=settings.get_bool("datacarrier", True),
        max_datacarrier_bytes=settings.get_int("datacarriersize", d.max_datacarrier_bytes),
        permit_bare_multisig=settings.get_bool("permitbaremultisig", True),
        max_mempool_bytes=settings.get_int("maxmempool", d.max_mempool_bytes // 1_000_000) * 1_000_000,
        ancestor_limit=settings.get_int("limitancestorcount", d.ancestor_limit),
        ancestor_size_limit=settings.get_int("limitancestorsize", d.ancestor_size_limit // 1000) * 1000,
        descendant_limit=settings.get_int("limitdescendantcount", d.descendant_limit),
        descendant_size_limit=settings.get_int("limitdescendantsize", d.descendant_size_limit // 1000) * 1000,
    )


class _ZmqBridge(MempoolListener):
    """Forwards mempool events to the node's ZMQ publisher (hashtx/rawtx + sequence A/R)."""

    def __init__(self, zmq: Any) -> None:
        self.zmq = zmq

    def transaction_added(self, tx, mempool_sequence: int) -> None:
        self.zmq.transaction_added(tx, mempool_sequence)

    def transaction_removed(self, tx, mempool_sequence: int) -> None:
        self.zmq.transaction_removed(tx, mempool_sequence)


def attach_mempool(ctx: Any) -> Mempool:
    """Create the node's mempool on `ctx.chainstate`, follow the chain, announce on ZMQ.

    Registered after the ZMQ publisher so that, as in bitcoind, a block's own notifications
    precede the mempool events it causes."""
    settings = policy_settings(ctx.settings)
    mp = Mempool(ctx.chainstate, settings, full_rbf=ctx.settings.get_bool("mempoolfullrbf", True), clock=ctx.clock)
    if ctx.zmq is not None:
        mp.add_listener(_ZmqBridge(ctx.zmq))
    ctx.chainstate.add_listener(mp)
    ctx.mempool = mp
    if ctx.settings.get_bool("persistmempool", True):
        try:
            load_mempool(mp, ctx.settings.chain_dir / FILENAME)
        except (OSError, MempoolFileError) as e:
            log.warning("Failed to load mempool from disk: %s", e)
    reserved = ctx.settings.get_int("blockreservedweight", 8000)
    ctx.extras["blockreservedweight"] = reserved
    return mp


def save_mempool(ctx: Any) -> None:
    """At shutdown: write mempool.dat unless -persistmempool=0."""
    mp = ctx.mempool
    if mp is None or not ctx.settings.get_bool("persistmempool", True):
        return
    try:
        n = dump_mempool(mp, ctx.settings.chain_dir / FILENAME)
        log.info("Dumped mempool: %d transactions", n)
    except OSError as e:
        log.warning("Failed to dump mempool: %s", e)
