"""Bitcoin Core's block engine (libbitcoinkernel through pbk) as a chain oracle on regtest.

The kernel answers `process_block` with an exception only for blocks that fail before they are
stored (context-free and header checks); a block that fails while being connected is reported
by the tip not moving. The reject reason itself is only in Core's log, so one process-wide log
connection collects the VALIDATION messages and `submit` reads the reason of the block it sent
from the `BlockChecked` / `AcceptBlock FAILED` lines.

Test and bench use only (pbk is a dev dependency).
"""

from __future__ import annotations

import re
import threading

import pbk

from regtest.testing.scenario_runner import Verdict

_lock = threading.Lock()
_log_sink: list[str] | None = None
_connection: pbk.LoggingConnection | None = None

_CHECKED = re.compile(r"BlockChecked: block hash=([0-9a-f]{64}) state=(.*)")
_FAILED = re.compile(r"ProcessNewBlock: (?:AcceptBlock|CheckBlock) FAILED \((.*)\)")
_CONNECT_FAILED = re.compile(r"ConnectBlock ([0-9a-f]{64}) failed, (.*)")


def _on_log(message: str) -> None:
    sink = _log_sink
    if sink is not None:
        sink.append(message.rstrip("\n"))


def _ensure_logging() -> None:
    """One log connection per process (the kernel's logger is global)."""
    global _connection
    with _lock:
        if _connection is None:
            pbk.logging_set_options(pbk.LoggingOptions(log_timestamps=False))
            pbk.enable_log_category(pbk.LogCategory.VALIDATION)
            pbk.set_log_level_category(pbk.LogCategory.VALIDATION, pbk.LogLevel.DEBUG)
            _connection = pbk.LoggingConnection(_on_log)


def _reason(state: str) -> str:
    """Core's reject reason from a state string "reason, debug message"."""
    return state.split(", ", 1)[0].strip()


class CoreChain:
    """A Core regtest chainstate in `datadir` (must be empty or Core's own)."""

    def __init__(self, datadir: str, worker_threads: int = 0) -> None:
        _ensure_logging()
        ctx = pbk.make_context(pbk.ChainType.REGTEST)
        opts = pbk.ChainstateManagerOptions(ctx, datadir, f"{datadir}/blocks")
        if worker_threads:
            opts.set_worker_threads_num(worker_threads)
        self.chainman = pbk.ChainstateManager(opts)

    @property
    def tip(self) -> bytes:
        chain = self.chainman.get_active_chain()
        return bytes(chain.block_tree_entries[chain.height].block_hash)

    @property
    def height(self) -> int:
        return self.chainman.get_active_chain().height

    def active_chain_hashes(self) -> list[bytes]:
        """Hashes of the active chain, genesis first."""
        chain = self.chainman.get_active_chain()
        return [bytes(chain.block_tree_entries[h].block_hash) for h in range(chain.height + 1)]

    def spent_coins(self, height: int) -> list[tuple[int, bytes, int, bool]]:
        """Core's undo data of the active chain's block at `height`: (value, script, height,
        coinbase) of every coin its inputs spend, in input order, coinbase excluded."""
        chain = self.chainman.get_active_chain()
        entry = chain.block_tree_entries[height]
        out = []
        for tx_spent in self.chainman.block_spent_outputs[entry].transactions:
            for coin in tx_spent.coins:
                o = coin.output
                out.append((o.amount, bytes(o.script_pubkey), coin.confirmation_height, bool(coin.is_coinbase)))
        return out

    def process(self, raw: bytes) -> bool:
        """Hand a block to Core without reading logs (for benchmarks); False if it threw."""
        try:
            self.chainman.process_block(pbk.Block(raw))
        except pbk.ProcessBlockException:
            return False
        return True

    def submit(self, raw: bytes) -> Verdict:
        global _log_sink
        block = pbk.Block(raw)
        want = str(block.block_hash)
        logs: list[str] = []
        _log_sink = logs
        try:
            try:
                is_new = self.chainman.process_block(block)
                threw = False
            except pbk.ProcessBlockException:
                is_new, threw = False, True
        finally:
            _log_sink = None
        reason = None
        for line in logs:
            m = _CHECKED.search(line) or _CONNECT_FAILED.search(line)
            if m and m.group(1) == want and not m.group(2).startswith("Valid"):
                reason = _reason(m.group(2))
                break
            m = _FAILED.search(line)
            if m and threw:
                reason = _reason(m.group(1))
                break
        if reason is None and threw:
            reason = "rejected (reason not logged)"
        if reason is None and not is_new and not threw:
            reason = "duplicate"
        return Verdict(reason, self.tip)

    def close(self) -> None:
        del self.chainman


__all__ = ["CoreChain"]
