"""A whole regtest network in one directory: potcd, the training coordinator (`potc-sidecar`,
templates from the node's RPC, tip from the node's ZMQ) and N miners, each a real process.

    net = Network(Path("/tmp/net"), NetConfig(miners=3, cycle_seconds=4))
    net.start()            # or start_node(), start_sidecar(), start_miners() in turn
    ...
    net.stop()             # miners, then the coordinator, then the node
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from regtest.harness import procs
from regtest.harness.clients import ClientError, NodeClient, SidecarClient
from regtest.harness.layout import ConfigFileError, NetConfig, NetLayout, node_conf_text
from regtest.harness.procs import Proc
from sidecar.crypto import Key, load_or_create_key

NODE_MODULE = "regtest.node.daemon"
SIDECAR_MODULE = "sidecar.cli"
MINER_MODULE = "sidecar.miner"
START_TIMEOUT = 60.0
LOG_TAIL = 2000


class NetworkError(RuntimeError):
    """A user-facing failure: already running, not running, a port taken, a process that died."""


@dataclass
class NetStatus:
    running: dict[str, bool] = field(default_factory=dict)   # process name -> alive
    height: int | None = None
    best_hash: str | None = None
    cycle: int | None = None
    cycle_state: str | None = None
    registered_miners: int | None = None
    coordinator_key: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def miners_alive(self) -> int:
        return sum(1 for n, up in self.running.items() if n.startswith("miner") and up)


def tail(path: Path, n: int = LOG_TAIL) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_from(path: Path, offset: int, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(limit).decode(errors="replace")
    except OSError:
        return ""


class Network:
    def __init__(self, root: Path, cfg: NetConfig | None = None) -> None:
        """`cfg` None: the settings saved in the directory (or the defaults for a new one)."""
        self.layout = NetLayout(Path(root).resolve())
        try:
            saved = self.layout.load_config()
        except ConfigFileError as e:
            raise NetworkError(str(e)) from None
        self.cfg = cfg or saved or NetConfig()
        self.node = NodeClient(self.cfg.rpc_url, self.layout.cookie)
        self.sidecar = SidecarClient(self.cfg.sidecar_url)
        self.started: list[Proc] = []

    # --- what runs ------------------------------------------------------------------------------
    def recorded(self) -> list[Proc]:
        """Every process a pid file in this directory names (alive or not), in start order."""
        run = self.layout.run_dir
        if not run.is_dir():
            return []
        found = [p for f in run.glob("*.pid") if (p := procs.read_pid_file(f)) is not None]
        order = {"node": 0, "sidecar": 1}
        return sorted(found, key=lambda p: (order.get(p.name, 2), len(p.name), p.name))

    def running(self) -> list[Proc]:
        return [p for p in self.recorded() if p.alive()]

    def coordinator_key(self) -> Key:
        return load_or_create_key(self.layout.coordinator_key)

    def miner_key(self, i: int) -> Key:
        return load_or_create_key(self.layout.miner_key(i))

    # --- start ----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Refuse if anything of this directory runs or a port is taken; write keys and config."""
        up = self.running()
        if up:
            names = ", ".join(f"{p.name} (pid {p.pid})" for p in up)
            raise NetworkError(f"a network is already running in {self.layout.root}: {names}; "
                               f"stop it with: potc-net stop --datadir {self.layout.root}")
        try:
            procs.check_ports(self.cfg.ports())
        except procs.PortInUse as e:
            raise NetworkError(str(e)) from None
        self.layout.make_dirs()
        for f in self.layout.run_dir.glob("*.pid"):
            f.unlink()
        self.layout.stopping_flag.unlink(missing_ok=True)  # left by a stop that was killed
        key = self.coordinator_key()
        priv = key.priv.secret if self.cfg.node_generate else None
        self.layout.node_conf.write_text(node_conf_text(self.cfg, key.xonly, priv))
        self.layout.save_config(self.cfg)

    def _spawn(self, name: str, module: str, args: list[str]) -> Proc:
        p = procs.spawn(name, module, args, self.layout.log(name), self.layout.pid_file(name))
        self.started.append(p)
        return p

    def _wait(self, what: str, proc_list: list[Proc], ready: Callable[[], bool],
              timeout: float = START_TIMEOUT) -> None:
        """Poll `ready()` until true; fail early (with the log's tail) if a process exits."""
        end = time.monotonic() + timeout
        while True:
            procs.reap()
            for p in proc_list:
                if not p.alive():
                    raise NetworkError(f"{p.name} exited during start-up (status {procs.exit_code(p)}); "
                                       f"last lines of {self.layout.log(p.name)}:\n"
                                       f"{tail(self.layout.log(p.name))}")
            try:
                if ready():
                    return
            except ClientError:
                pass
            if time.monotonic() > end:
                raise NetworkError(f"{what} not ready after {timeout:.0f}s; see {self.layout.logs_dir}")
            time.sleep(0.1)

    def start_node(self) -> Proc:
        # the console (logs/node.log) keeps only what debug.log cannot hold: start-up errors, crashes
        p = self._spawn("node", NODE_MODULE, [f"-datadir={self.layout.node_dir}", "-printtoconsole=0"])
        self._wait("node", [p], lambda: self.node.call("getblockcount") is not None)
        return p

    def start_sidecar(self) -> Proc:
        args = ["--datadir", str(self.layout.sidecar_dir), "--host", "127.0.0.1",
                "--port", str(self.cfg.sidecar_port), "--zmq-node", self.cfg.zmq_endpoint,
                "--zmq-pub", self.cfg.sidecar_zmq_endpoint, "--rpc-url", self.cfg.rpc_url,
                "--rpc-cookie", str(self.layout.cookie), "--cycle-seconds", str(self.cfg.cycle_seconds)]
        if self.cfg.train:
            args += ["--train", self.cfg.train]
        if not self.cfg.early_close:
            args.append("--no-early-close")
        p = self._spawn("sidecar", SIDECAR_MODULE, args)
        self._wait("sidecar", [p], lambda: self.sidecar.status().get("cycle") is not None)
        return p

    def start_miners(self) -> list[Proc]:
        started = []
        offsets = {i: _size(self.layout.log(f"miner{i}")) for i in range(self.cfg.miners)}
        for i in range(self.cfg.miners):
            self.miner_key(i)  # created here so the harness (and tests) know every payout key
            started.append(self._spawn(f"miner{i}", MINER_MODULE, [
                "--url", self.cfg.sidecar_url, "--key-file", str(self.layout.miner_key(i))]))
        keys = {self.miner_key(i).xonly.hex() for i in range(self.cfg.miners)}

        def registered() -> bool:
            """Each miner's log (since this start) says it registered; the coordinator's count
            would include miners of earlier runs."""
            logs = "".join(_read_from(self.layout.log(f"miner{i}"), off) for i, off in offsets.items())
            return all(f"registered {k}" in logs for k in keys)
        self._wait("miners", started, registered)
        return started

    def start(self) -> None:
        """Everything, in order; on any failure what was started is stopped again."""
        self.prepare()
        try:
            self.start_node()
            self.start_sidecar()
            self.start_miners()
        except BaseException:
            self.stop()
            raise

    # --- stop -----------------------------------------------------------------------------------
    def stop(self, timeout: float = procs.STOP_TIMEOUT) -> dict[str, str]:
        """Miners first (they would only retry), then the coordinator, then the node.
        Returns name -> what happened; removes the pid files."""
        recorded = self.recorded()
        groups = [[p for p in recorded if p.name.startswith("miner")],
                  [p for p in recorded if p.name == "sidecar"],
                  [p for p in recorded if p.name == "node"]]
        how: dict[str, str] = {}
        flag = self.layout.stopping_flag
        if recorded:
            flag.write_text(f"{os.getpid()}\n")
        try:
            for group in groups:
                how.update(procs.stop_procs(group, timeout))
                for p in group:
                    self.layout.pid_file(p.name).unlink(missing_ok=True)
        finally:
            flag.unlink(missing_ok=True)
        procs.reap()
        self.started = []
        return how

    # --- status ---------------------------------------------------------------------------------
    def status(self) -> NetStatus:
        st = NetStatus(running={p.name: p.alive() for p in self.recorded()})
        if st.running.get("node"):
            try:
                info = self.node.call("getblockchaininfo")
                st.height, st.best_hash = info["blocks"], info["bestblockhash"]
            except (ClientError, KeyError, TypeError) as e:
                st.errors.append(f"node: {e}")
        if st.running.get("sidecar"):
            try:
                s: dict[str, Any] = self.sidecar.status()
                st.cycle, st.cycle_state = s.get("cycle"), s.get("state")
                st.registered_miners, st.coordinator_key = s.get("miners"), s.get("coordinator_key")
            except ClientError as e:
                st.errors.append(f"sidecar: {e}")
        return st
