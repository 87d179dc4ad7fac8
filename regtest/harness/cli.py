"""`potc-net`: start, watch, inspect and stop a whole regtest network with one command.

    potc-net start [--datadir DIR] [--miners N] [--cycle-seconds S] [--detach]
    potc-net watch [--datadir DIR]       live progress of a running network
    potc-net status [--datadir DIR]
    potc-net stop [--datadir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

from regtest.harness.clients import ClientError
from regtest.harness.layout import ConfigFileError, NetConfig, default_datadir
from regtest.harness.network import Network, NetworkError
from regtest.harness.progress import ProgressWatcher

POLL = 0.5
START_OPTIONS = ("miners", "cycle_seconds", "rpc_port", "zmq_port", "sidecar_port", "sidecar_zmq_port",
                 "node_generate", "train", "early_close")


def out(msg: str = "") -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="potc-net", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def with_datadir(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--datadir", type=Path, default=default_datadir(),
                        help="the network's directory (default $POTC_NET_DATADIR or ~/.potc-net)")
        return sp

    s = with_datadir("start", "start potcd, the coordinator and N miners, then show progress")
    s.add_argument("--miners", type=int, help="number of miner processes (default 3)")
    s.add_argument("--cycle-seconds", type=float, help="length of a training cycle, so about one block"
                   " per S seconds (default 10)")
    s.add_argument("--early-close", action=argparse.BooleanOptionalAction, default=None,
                   help="close each cycle as soon as every miner has answered (blocks as fast as training)")
    s.add_argument("--rpc-port", type=int, help="node JSON-RPC port (default 18643)")
    s.add_argument("--zmq-port", type=int, help="node ZMQ port, every topic (default 28643)")
    s.add_argument("--sidecar-port", type=int, help="coordinator HTTP port (default 18550)")
    s.add_argument("--sidecar-zmq-port", type=int, help="coordinator ZMQ port (default 28550)")
    s.add_argument("--train", help="training hints for miners, JSON (default: the coordinator's)")
    s.add_argument("--node-generate", action=argparse.BooleanOptionalAction, default=None,
                   help="give the node the coordinator's private key so generatetoaddress works "
                        "(testing; such blocks skip training)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--foreground", action="store_true", help="stay and show progress (the default)")
    mode.add_argument("--detach", action="store_true", help="return once everything is up")
    with_datadir("stop", "stop every process started in the directory")
    with_datadir("status", "node height, cycle, miners alive")
    with_datadir("watch", "show the progress lines of a running network (Ctrl-C leaves it running)")
    return p.parse_args(argv)


def start_config(args: argparse.Namespace, saved: NetConfig | None) -> NetConfig:
    """Saved settings of the directory (or defaults), overridden by the options given."""
    base = saved or NetConfig()
    given = {k: getattr(args, k) for k in START_OPTIONS if getattr(args, k) is not None}
    return dataclasses.replace(base, **given)


def tool(name: str) -> str:
    """How to invoke one of our console scripts: the one next to this interpreter (the venv's)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def miner_names(net: Network) -> dict[str, str]:
    names = {}
    for i in range(net.cfg.miners):
        if net.layout.miner_key(i).exists():
            names[net.miner_key(i).xonly.hex()] = f"miner{i}"
    return names


def describe(net: Network) -> list[str]:
    cfg, lay = net.cfg, net.layout
    return [f"network directory   {lay.root}",
            f"node RPC            {cfg.rpc_url}  ({tool('potc-cli')} -datadir={lay.node_dir} getblockchaininfo)",
            f"node ZMQ            {cfg.zmq_endpoint}",
            f"coordinator         {cfg.sidecar_url}/v1/status  (audit logs: /v1/audit/<cycle>)",
            f"logs                {lay.logs_dir}/  (node.log, sidecar.log, miner0.log, ...;"
            f" chain log {lay.node_debug_log})"]


def watch(net: Network, should_stop: Callable[[], bool]) -> None:
    """Print a line per sealed cycle and a warning when a process dies, until `should_stop()`."""
    watcher = ProgressWatcher(net.node, net.sidecar, miner_names(net))
    reported_dead: set[str] = set()
    unreachable = False

    def stopping() -> bool:
        """`potc-net stop` at work (its flag is written before it stops anything, so checked after
        a failure is seen, it tells an expected death from a crash)."""
        return net.layout.stopping_flag.exists()

    while not should_stop():
        try:
            for line in watcher.poll():
                out(line.format())
            unreachable = False
        except ClientError as e:
            if not unreachable and not stopping():
                out(f"(waiting: {e})")
            unreachable = True
        for p in net.recorded():
            if p.name not in reported_dead and not p.alive() and not stopping():
                reported_dead.add(p.name)
                out(f"warning: {p.name} (pid {p.pid}) is not running; see {net.layout.log(p.name)}")
        if net.recorded() == []:
            out("the network was stopped")
            return
        time.sleep(POLL)


class _Stop:
    """Set by SIGINT/SIGTERM in the foreground: the loop ends and everything is stopped."""

    def __init__(self) -> None:
        self.flag = False

    def __call__(self, *_: Any) -> None:
        self.flag = True


def cmd_start(args: argparse.Namespace) -> int:
    net = Network(args.datadir, start_config(args, Network(args.datadir).layout.load_config()))
    stop = _Stop()
    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        out(f"starting {net.cfg.miners} miners, the coordinator and potcd in {net.layout.root} ...")
        net.start()
        if stop.flag:
            raise KeyboardInterrupt
        for line in describe(net):
            out(line)
        if args.detach:
            net_cmd = tool("potc-net")
            out("running in the background.")
            out(f"watch:  {net_cmd} watch --datadir {net.layout.root}")
            out(f"status: {net_cmd} status --datadir {net.layout.root}")
            out(f"stop:   {net_cmd} stop --datadir {net.layout.root}")
            return 0
        out(f"running; one line per training cycle below. Ctrl-C (or {tool('potc-net')} stop"
            f" --datadir {net.layout.root}) stops the network.")
        watch(net, lambda: stop.flag)
    except KeyboardInterrupt:
        pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if net.recorded():
        out("stopping ...")
        report_stop(net.stop())
    return 0


def report_stop(how: dict[str, str]) -> None:
    for name, what in how.items():
        out(f"{name:<8} {what}")


def cmd_stop(args: argparse.Namespace) -> int:
    net = Network(args.datadir)
    recorded = net.recorded()
    if not any(p.alive() for p in recorded):
        for p in recorded:
            net.layout.pid_file(p.name).unlink(missing_ok=True)
        out(f"no network running in {net.layout.root}")
        return 1
    pids = {p.name: p.pid for p in recorded}
    how = net.stop()
    for name, what in how.items():
        out(f"{name:<8} (pid {pids[name]}) {what}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    net = Network(args.datadir)
    st = net.status()
    if not any(st.running.values()):
        out(f"no network running in {net.layout.root}")
        return 1
    up = lambda n: "running" if st.running.get(n) else "NOT running"  # noqa: E731
    miners = [n for n in st.running if n.startswith("miner")]
    out(f"network in {net.layout.root}")
    out(f"node      {up('node')}" + ("" if st.height is None else f"  height {st.height}  best {st.best_hash}"))
    out(f"sidecar   {up('sidecar')}" + ("" if st.cycle is None else
        f"  cycle {st.cycle} ({st.cycle_state}), {st.registered_miners} miners registered"))
    out(f"miners    {st.miners_alive} of {len(miners)} alive")
    for e in st.errors:
        out(f"error     {e}")
    return 0 if all(st.running.values()) and not st.errors else 1


def cmd_watch(args: argparse.Namespace) -> int:
    net = Network(args.datadir)
    if not net.running():
        out(f"no network running in {net.layout.root}")
        return 1
    stop = _Stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    watch(net, lambda: stop.flag)
    return 0


COMMANDS = {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "watch": cmd_watch}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (NetworkError, ConfigFileError) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
