"""Child processes of a network: start detached with a log file and a pid file, find them again
from the pid file (checking the pid still runs what we started), stop them politely then firmly."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from regtest.harness.layout import LOOPBACK

#: the directory that holds the `regtest` and `sidecar` packages (children import from it)
SOURCE_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 20.0


class PortInUse(RuntimeError):
    def __init__(self, name: str, port: int) -> None:
        super().__init__(f"port {port} ({name}) is already in use; stop what uses it or choose another "
                         f"port (see potc-net start --help)")
        self.name, self.port = name, port


def port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on host:port. The bind uses SO_REUSEADDR as our servers do
    (aiohttp, libzmq): connections in TIME_WAIT, left for a minute by a network just stopped
    or killed, do not keep them from binding, so they must not make the port look taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_ports(ports: dict[str, int]) -> None:
    for name, port in ports.items():
        if not port_free(port):
            raise PortInUse(name, port)


def python_module_cmd(module: str, *args: str) -> list[str]:
    """Run a module of this project with the interpreter running us (the venv's, when installed)."""
    return [sys.executable, "-m", module, *args]


def child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(SOURCE_ROOT) + (os.pathsep + path if path else ""),
            "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class Proc:
    """One process of the network, as its pid file records it."""

    name: str
    pid: int
    module: str  # the python module it runs: how we recognise the pid is still ours

    def alive(self) -> bool:
        return pid_runs(self.pid, self.module)


def pid_runs(pid: int, module: str) -> bool:
    """The pid exists, is not a zombie, and its command line runs `module` (guards pid reuse).
    For a child of this interpreter, its Popen object knows (and /proc may briefly show an empty
    command line while it execs)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
    return state not in ("Z", "X") and module.encode() in cmdline


def spawn(name: str, module: str, args: list[str], log_path: Path, pid_path: Path) -> Proc:
    """Start `python -m module args` in its own session (Ctrl-C on the terminal does not reach
    it: the harness stops children in order), output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} starting {name}\n".encode())
        out.flush()
        p = subprocess.Popen(python_module_cmd(module, *args), stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=child_env(), start_new_session=True,
                             cwd=log_path.parent)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.write_text(f"{p.pid} {module}\n")
    _children[p.pid] = p
    return Proc(name, p.pid, module)


#: Popen objects of processes this interpreter started, reaped so they do not linger as zombies
_children: dict[int, subprocess.Popen] = {}


def reap() -> None:
    """Collect the exit status of ended children (kept for exit_code)."""
    for p in _children.values():
        p.poll()


def exit_code(proc: Proc) -> int | None:
    """The exit status of a child this interpreter started and that has ended, else None."""
    p = _children.get(proc.pid)
    return None if p is None else p.poll()


def read_pid_file(path: Path) -> Proc | None:
    try:
        pid_text, module = path.read_text().split()
        return Proc(path.stem, int(pid_text), module)
    except (OSError, ValueError):
        return None


def _wait_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    end = time.monotonic() + timeout
    left = procs
    while left and time.monotonic() < end:
        reap()
        left = [p for p in left if p.alive()]
        if left:
            time.sleep(0.05)
    return left


def _signal(proc: Proc, sig: int) -> None:
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass


def stop_procs(procs: list[Proc], timeout: float = STOP_TIMEOUT) -> dict[str, str]:
    """SIGTERM all, wait up to `timeout`, SIGKILL the rest. Returns name -> how it ended."""
    how: dict[str, str] = {}
    running = [p for p in procs if p.alive()]
    for p in procs:
        if p not in running:
            how[p.name] = "not running"
    for p in running:
        _signal(p, signal.SIGTERM)
    stubborn = _wait_gone(running, timeout)
    for p in running:
        how[p.name] = "stopped" if p not in stubborn else "killed (no exit after SIGTERM)"
    for p in stubborn:
        _signal(p, signal.SIGKILL)
    _wait_gone(stubborn, 5.0)
    return how
