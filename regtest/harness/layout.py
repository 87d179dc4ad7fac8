"""Where a network's files live and the settings it was started with (`net.json`).

One directory holds everything, so `stop`, `status` and `watch` need nothing but its path:

    DIR/net.json            ports, miner count, cycle length (written at start, reused later)
    DIR/node/potc.conf      the node's configuration; DIR/node/regtest/ its chain and debug.log
    DIR/sidecar/            the coordinator's data directory (coordinator.key, sidecar.sqlite3)
    DIR/miners/minerN.key   miner keys (each miner is paid to P2WPKH of its key)
    DIR/logs/NAME.log       stdout and stderr of every process
    DIR/run/NAME.pid        pid of every process started here
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

MAX_MINERS = 64
ZMQ_TOPICS = ("hashblock", "rawblock", "hashtx", "rawtx", "sequence")
LOOPBACK = "127.0.0.1"


def default_datadir() -> Path:
    env = os.environ.get("POTC_NET_DATADIR")
    return Path(env) if env else Path.home() / ".potc-net"


class ConfigFileError(ValueError):
    """net.json is unreadable or holds values out of range."""


@dataclass(frozen=True)
class NetConfig:
    """What a network is started with. Ports default to fixed values so that a user's commands
    (`potc-cli -rpcport=...`, a miner on another terminal) stay the same across restarts."""

    miners: int = 3
    cycle_seconds: float = 10.0
    rpc_port: int = 18643          # node JSON-RPC
    zmq_port: int = 28643          # node ZMQ (every topic on one socket, as bitcoind allows)
    sidecar_port: int = 18550      # coordinator HTTP API (miners, audit log, status)
    sidecar_zmq_port: int = 28550  # coordinator ZMQ: issued certificates and sealed blocks
    node_generate: bool = False    # give the node the coordinator's private key (generatetoaddress)
    train: str = ""                # training hints for the coordinator (JSON), "" = its default
    early_close: bool = False      # close a cycle as soon as every miner answered (fast chain)

    def __post_init__(self) -> None:
        if not 0 <= self.miners <= MAX_MINERS:
            raise ConfigFileError(f"miners must be between 0 and {MAX_MINERS}")
        if not 0.5 <= self.cycle_seconds <= 3600:
            raise ConfigFileError("cycle seconds must be between 0.5 and 3600")
        if self.train:
            try:
                hints = json.loads(self.train)
            except ValueError:
                hints = None
            if not isinstance(hints, dict):
                raise ConfigFileError("training hints must be a JSON object, e.g. '{\"steps\": 50}'")
        ports = self.ports()
        for name, port in ports.items():
            if not 1 <= port <= 65535:
                raise ConfigFileError(f"{name} port {port} out of range")
        if len(set(ports.values())) != len(ports):
            raise ConfigFileError("the four ports must differ")

    def ports(self) -> dict[str, int]:
        return {"node RPC": self.rpc_port, "node ZMQ": self.zmq_port,
                "sidecar HTTP": self.sidecar_port, "sidecar ZMQ": self.sidecar_zmq_port}

    @property
    def rpc_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rpc_port}"

    @property
    def zmq_endpoint(self) -> str:
        return f"tcp://{LOOPBACK}:{self.zmq_port}"

    @property
    def sidecar_url(self) -> str:
        return f"http://{LOOPBACK}:{self.sidecar_port}"

    @property
    def sidecar_zmq_endpoint(self) -> str:
        return f"tcp://{LOOPBACK}:{self.sidecar_zmq_port}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> "NetConfig":
        if not isinstance(data, dict):
            raise ConfigFileError("net.json must hold an object")
        known = {f.name: f.type for f in fields(cls)}
        kw: dict[str, Any] = {}
        for k, v in data.items():
            if k not in known:
                continue
            expect = {"int": int, "float": (int, float), "bool": bool, "str": str}[str(known[k])]
            if not isinstance(v, expect) or (expect is int and isinstance(v, bool)):
                raise ConfigFileError(f"net.json: bad value for {k}")
            kw[k] = v
        return cls(**kw)


@dataclass(frozen=True)
class NetLayout:
    """Paths inside one network directory."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / "net.json"

    @property
    def node_dir(self) -> Path:
        return self.root / "node"

    @property
    def node_conf(self) -> Path:
        return self.node_dir / "potc.conf"

    @property
    def cookie(self) -> Path:
        return self.node_dir / "regtest" / ".cookie"

    @property
    def node_debug_log(self) -> Path:
        return self.node_dir / "regtest" / "debug.log"

    @property
    def sidecar_dir(self) -> Path:
        return self.root / "sidecar"

    @property
    def coordinator_key(self) -> Path:
        return self.sidecar_dir / "coordinator.key"

    @property
    def miners_dir(self) -> Path:
        return self.root / "miners"

    def miner_key(self, i: int) -> Path:
        return self.miners_dir / f"miner{i}.key"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def stopping_flag(self) -> Path:
        """Exists while a stop is under way, so a watcher does not report its deaths as failures."""
        return self.run_dir / "stopping"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def make_dirs(self) -> None:
        for d in (self.root, self.node_dir, self.sidecar_dir, self.miners_dir, self.logs_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)

    def load_config(self) -> NetConfig | None:
        if not self.config_file.exists():
            return None
        try:
            return NetConfig.from_json(json.loads(self.config_file.read_text()))
        except ValueError as e:  # JSONDecodeError and ConfigFileError
            raise ConfigFileError(f"{self.config_file}: {e}") from None

    def save_config(self, cfg: NetConfig) -> None:
        tmp = self.config_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
        os.replace(tmp, self.config_file)


def node_conf_text(cfg: NetConfig, coordinator_pub: bytes, coordinator_priv: bytes | None) -> str:
    """potc.conf for the network's node: regtest, its own ports, ZMQ on loopback, txindex."""
    lines = ["# Written by potc-net; rewritten at every start.", "regtest=1", "txindex=1", "", "[regtest]",
             f"rpcport={cfg.rpc_port}", f"coordinatorpubkey={coordinator_pub.hex()}"]
    if coordinator_priv is not None:
        lines += ["# --node-generate: the node may sign blocks itself (generatetoaddress)",
                  f"coordinatorkey={coordinator_priv.hex()}"]
    lines += [f"zmqpub{t}={cfg.zmq_endpoint}" for t in ZMQ_TOPICS]
    return "\n".join(lines) + "\n"
