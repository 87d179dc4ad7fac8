"""`potcd`: the node daemon. Reads the configuration, opens the chainstate on the data
directory, serves JSON-RPC and ZMQ, and shuts down cleanly on SIGTERM/SIGINT or `stop`.

Start-up order follows bitcoind: RPC first in warm-up (every call answers -28), ZMQ, then the
chain; the cookie is written when RPC starts and removed at shutdown.
"""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from regtest.node.config import ConfigError, Settings, load_settings, register_option
from regtest.node.context import NodeContext
from regtest.node.rpc.auth import AuthConfigError, Authenticator, CookieFile, RpcAuthEntry
from regtest.node.rpc.envelope import Dispatcher
from regtest.node.rpc.registry import load_all_methods
from regtest.node.rpc.server import LOCALHOST_NETS, RPCServer, ServerOptions, ipv6_available
from regtest.node.version import HELP_FLAGS, VERSION_FLAGS, asks, version_line
import regtest.node.mempool.options  # noqa: F401,E402 - registers -maxmempool, -minrelaytxfee, ...

log = logging.getLogger("potc")

register_option("coordinatorpubkey", "Coordinator x-only public key (hex) that certificates must be signed with")
register_option("rpcservertimeout", "Accepted for compatibility (ignored)")
register_option(
    "par",
    "Script verification processes, this one included (0 = one per core, <0 = leave that many cores free)",
)

_OWN_FILES = {"debug.log", "potcd.pid", ".cookie", ".cookie.tmp", ".lock"}
SHUTDOWN_DELAY = 0.1  # lets the `stop` reply leave before the server closes


def script_workers(settings: Settings) -> int:
    """Worker processes besides this one, from bitcoind's -par semantics."""
    par = settings.get_int("par", 0)
    cores = os.cpu_count() or 1
    total = cores if par == 0 else cores + par if par < 0 else par
    return max(0, min(total, 16) - 1)


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging API
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", self.converter(record.created))


def lock_data_directory(chain_dir: Path) -> int:
    """Hold an exclusive lock on `<chain_dir>/.lock` for the life of the process (as bitcoind),
    so that a second potcd on the same directory stops before it touches the first one's
    cookie, pid file or chain. Returns the descriptor, which must stay open; the lock passes
    to the child of a -daemon fork, since both share the open file."""
    fd = os.open(chain_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ConfigError(f"Cannot obtain a lock on directory {chain_dir}. "
                          "potcd is probably already running.") from None
    return fd


def setup_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if settings.is_set("debug") and settings.get("debug") not in ("0",)
                  else logging.INFO)
    fmt = _UTCFormatter("%(asctime)s %(message)s")
    logfile = Path(settings.get("debuglogfile") or "debug.log")
    if not logfile.is_absolute():
        logfile = settings.chain_dir / logfile
    handler = logging.FileHandler(logfile)
    handler.setFormatter(fmt)
    root.addHandler(handler)
    # bitcoind's default: the log also goes to the console unless the node runs as a daemon
    if settings.get_bool("printtoconsole", default=not settings.get_bool("daemon")):
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(fmt)
        root.addHandler(console)


def reopen_log_files() -> None:
    """SIGHUP, as bitcoind: close the log file so the next line reopens it by name (after
    logrotate has moved it away). The default action of SIGHUP would end the node uncleanly."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.acquire()
            try:
                handler.close()  # a closed FileHandler in append mode reopens on its next record
            finally:
                handler.release()
    log.info("Reopened the log file on SIGHUP")


def _parse_bind(text: str, default_port: int) -> tuple[str, int]:
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        host = text[1:end]
        rest = text[end + 1 :]
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, p = text.split(":")
        port = int(p)
    return host, port


def _parse_allow(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        if "/" in text:
            net, mask = text.split("/", 1)
            if "." in mask and "." in net:  # network/netmask form
                return ipaddress.ip_network(f"{net}/{mask}", strict=False)
            return ipaddress.ip_network(text, strict=False)
        return ipaddress.ip_network(text)
    except ValueError:
        raise ConfigError(
            f"Invalid -rpcallowip subnet specification: {text}. Valid values are a single IP "
            "(e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0) or a network/CIDR "
            "(e.g. 1.2.3.4/24)."
        ) from None


def server_options(settings: Settings) -> ServerOptions:
    """Where RPC listens and whom it answers (Core: localhost unless rpcbind AND rpcallowip)."""
    port = settings.get_int("rpcport", settings.chain_info.rpc_port)
    allow = list(LOCALHOST_NETS) + [_parse_allow(a) for a in settings.get_all("rpcallowip")]
    binds: list[tuple[str, int]] = []
    if settings.is_set("rpcallowip") and settings.is_set("rpcbind"):
        try:
            binds = [_parse_bind(b, port) for b in settings.get_all("rpcbind")]
        except ValueError:
            raise ConfigError("Invalid -rpcbind value") from None
    else:
        if settings.is_set("rpcbind"):
            log.warning("WARNING: option -rpcbind was ignored because -rpcallowip was not specified, "
                        "refusing to allow everyone to connect")
        binds = [("127.0.0.1", port)]
        if ipv6_available():
            binds.append(("::1", port))
    return ServerOptions(binds=binds, allow=allow)


def authenticator(settings: Settings) -> tuple[Authenticator, CookieFile | None]:
    auth = Authenticator()
    try:
        auth.rpcauth = [RpcAuthEntry.parse(e) for e in settings.get_all("rpcauth") if e]
    except AuthConfigError as e:
        raise ConfigError(str(e)) from None
    password = settings.get("rpcpassword") or ""
    cookie = None
    if password:
        auth.add_plain(settings.get("rpcuser") or "", password)
    elif settings.get("rpccookiefile") != "0":
        path = Path(settings.get("rpccookiefile") or ".cookie")
        if not path.is_absolute():
            path = settings.chain_dir / path
        cookie = CookieFile(path)
    return auth, cookie


def coordinator_keys(settings: Settings) -> tuple[bytes | None, bytes | None]:
    """(private key, x-only public key) from -coordinatorkey / -coordinatorpubkey."""
    priv = pub = None
    text = settings.get("coordinatorkey")
    if text:
        try:
            priv = bytes.fromhex(text)
            if len(priv) != 32:
                raise ValueError
            from regtest.consensus.certificate import xonly_pubkey

            pub = xonly_pubkey(priv)
        except ValueError:
            raise ConfigError("Invalid -coordinatorkey: expected 64 hex digits of a private key") from None
    text = settings.get("coordinatorpubkey")
    if text:
        try:
            given = bytes.fromhex(text)
            if len(given) != 32:
                raise ValueError
        except ValueError:
            raise ConfigError("Invalid -coordinatorpubkey: expected 64 hex digits (x-only key)") from None
        if pub is not None and pub != given:
            raise ConfigError("-coordinatorpubkey does not match -coordinatorkey")
        pub = given
    return priv, pub


@dataclass
class Node:
    settings: Settings
    ctx: NodeContext
    server: RPCServer
    dispatcher: Dispatcher
    cookie: CookieFile | None
    stop_event: asyncio.Event
    on_ready: Callable[[], None] | None = None  # -daemon: tells the waiting parent

    async def run(self) -> None:
        from regtest.node.zmq_notify import ZmqPublisher, parse_notifier_options

        s = self.settings
        self.dispatcher.warmup = "RPC server started"
        await self.server.start()
        if self.cookie is not None:
            password = self.cookie.write()
            self.server.auth.add_plain("__cookie__", password)
            log.info("Generated RPC authentication cookie %s", self.cookie.path)
        try:
            notifiers = parse_notifier_options(s.get_all, s.get)
            self.ctx.zmq = ZmqPublisher(notifiers, self._raw_block, self.ctx.is_initial_block_download)
            self.ctx.zmq.start()
            self.dispatcher.warmup = "Loading block index…"
            # in a worker thread, so that RPC keeps answering -28 while a long chain loads
            await asyncio.to_thread(self._open_chain)
            self.dispatcher.warmup = None
            log.info("init message: Done loading")
            if self.on_ready is not None:
                self.on_ready()
            await self.stop_event.wait()
        finally:
            await self.shutdown()

    def _raw_block(self, block_hash: bytes) -> bytes | None:
        cs = self.ctx.chainstate
        return cs.get_raw_block(block_hash) if cs is not None else None

    def _open_chain(self) -> None:
        from regtest.chain.chainstate import Chainstate

        chain_dir = self.settings.chain_dir
        fresh = not any(p.name not in _OWN_FILES for p in chain_dir.iterdir())
        cs = Chainstate.open(str(chain_dir), self.ctx.params, script_workers=script_workers(self.settings))
        self.ctx.chainstate = cs
        if self.settings.get_bool("txindex"):
            from regtest.node.txindex import TxIndex

            self.ctx.txindex = TxIndex(chain_dir / "indexes" / "txindex.sqlite")
            self.ctx.txindex.sync(cs)
            cs.add_listener(self.ctx.txindex)
        if self.ctx.zmq is not None:
            if fresh:  # bitcoind publishes the genesis connection before RPC clients can listen
                genesis = cs.get_block(cs.tip.hash)
                if genesis is not None:
                    self.ctx.zmq.block_connected(genesis, cs.tip)
                    self.ctx.zmq.tip_changed(cs.tip)
            cs.add_listener(self.ctx.zmq)
        from regtest.node.tiplog import TipLogger

        cs.add_listener(TipLogger())
        from regtest.node.mempool.options import attach_mempool

        attach_mempool(self.ctx)  # after ZMQ: a block's notifications precede the mempool's
        log.info("Loaded best chain: hashBestChain=%s height=%d", cs.tip.hash_hex, cs.height)

    def request_stop(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(SHUTDOWN_DELAY, self.stop_event.set)

    async def shutdown(self) -> None:
        log.info("Shutdown: In progress...")
        self.dispatcher.warmup = "Shutting down"
        self.ctx.extras["shutting_down"] = True  # long-polling calls (getblocktemplate) return
        await self.server.stop()
        if self.cookie is not None:
            self.cookie.remove()
        if self.ctx.mempool is not None:
            from regtest.node.mempool.options import save_mempool

            save_mempool(self.ctx)
        if self.ctx.zmq is not None:
            self.ctx.zmq.stop()
        if self.ctx.txindex is not None:
            self.ctx.txindex.close()
        if self.ctx.chainstate is not None:
            self.ctx.chainstate.close()
        log.info("Shutdown: done")


def build_node(settings: Settings) -> Node:
    from regtest.consensus.params import get_params

    priv, pub = coordinator_keys(settings)
    params = get_params(settings.chain, pub) if pub is not None else get_params(settings.chain)
    options = server_options(settings)
    auth, cookie = authenticator(settings)
    stop_event = asyncio.Event()
    ctx = NodeContext(settings=settings, params=params, coordinator_privkey=priv)
    dispatcher = Dispatcher(load_all_methods(), ctx)
    node = Node(settings, ctx, RPCServer(dispatcher, auth, options), dispatcher, cookie, stop_event)
    ctx.request_stop = node.request_stop
    return node


def _pid_path(settings: Settings) -> Path:
    p = Path(settings.get("pid") or "potcd.pid")
    return p if p.is_absolute() else settings.chain_dir / p


async def _amain(settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
    node = build_node(settings)
    node.on_ready = on_ready
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, node.stop_event.set)
    loop.add_signal_handler(signal.SIGHUP, reopen_log_files)
    await node.run()


def _daemonize() -> Callable[[], None] | int:
    """-daemon: fork; the parent waits until the child is serving (exit 0) or has failed (1).
    In the child, returns the callback that releases the parent and detaches stdio."""
    read_fd, write_fd = os.pipe()
    if os.fork() > 0:
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as r:
            return 0 if r.read(1) == b"1" else 1
    os.close(read_fd)
    os.setsid()

    def ready() -> None:
        os.write(write_fd, b"1")
        os.close(write_fd)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)

    return ready


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if asks(argv, VERSION_FLAGS):
        print(version_line("potcd"))
        return 0
    if asks(argv, HELP_FLAGS):
        from regtest.node.config import OPTIONS

        print("Usage: potcd [options]\n\nOptions:")
        for spec in sorted(OPTIONS.values(), key=lambda s: s.name):
            print(f"  -{spec.name}=<value>\n       {spec.help}")
        return 0
    try:
        settings, _ = load_settings(argv)
        settings.chain_dir.mkdir(parents=True, exist_ok=True)
        lock_data_directory(settings.chain_dir)
        setup_logging(settings)
        for w in settings.warnings:
            log.warning("Warning: %s", w)
        server_options(settings)  # validate before anything is created
        authenticator(settings)
        coordinator_keys(settings)
    except ConfigError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    from regtest.node.zmq_notify import ZmqConfigError

    on_ready = None
    if settings.get_bool("daemon"):
        on_ready = _daemonize()
        if isinstance(on_ready, int):
            return on_ready  # the parent: the child's start-up verdict
    pid_path = _pid_path(settings)
    pid_path.write_text(f"{os.getpid()}\n")
    log.info("potcd starting, chain=%s datadir=%s", settings.chain, settings.datadir)
    try:
        asyncio.run(_amain(settings, on_ready))
    except (ConfigError, ZmqConfigError) as e:
        log.error("Error: %s", e)
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        log.error("Error: %s", e)
        print(f"Error: Unable to start HTTP server or open the data directory: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - any start-up failure: a clear message and exit 1
        log.exception("Error: %s", e)
        print(f"Error: {e}", file=sys.stderr)
        return 1
    finally:
        try:
            pid_path.unlink()
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
