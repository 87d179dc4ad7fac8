"""The harness's pieces without a network: settings and their file, the node configuration it
writes (read back by the node's own loader), process control, progress lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regtest.harness import procs
from regtest.harness.cli import parse_args, start_config
from regtest.harness.layout import ConfigFileError, NetConfig, NetLayout, node_conf_text
from regtest.harness.network import Network, NetworkError
from regtest.harness.progress import cycle_line
from regtest.node.config import load_settings
from regtest.node.daemon import coordinator_keys
from regtest.testing.ports import free_port, free_ports
from sidecar.crypto import Key


# --- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, msg", [
    ({"miners": -1}, "miners"), ({"miners": 65}, "miners"), ({"cycle_seconds": 0.1}, "cycle seconds"),
    ({"rpc_port": 0}, "out of range"), ({"zmq_port": 70000}, "out of range"),
    ({"sidecar_port": 18643}, "must differ"),
])
def test_netconfig_rejects_bad_values(kw, msg):
    with pytest.raises(ConfigFileError, match=msg):
        NetConfig(**kw)


def test_netconfig_json_round_trip_and_hostile_files(tmp_path):
    cfg = NetConfig(miners=5, cycle_seconds=2.5, rpc_port=20001, node_generate=True, train='{"steps": 5}')
    assert NetConfig.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    assert NetConfig.from_json({"miners": 2, "unknown": [1]}) == NetConfig(miners=2)
    for bad in ([], {"miners": "3"}, {"miners": True}, {"rpc_port": 1.5}, {"node_generate": 1},
                {"cycle_seconds": "4"}, {"miners": 10**9}):
        with pytest.raises(ConfigFileError):
            NetConfig.from_json(bad)
    layout = NetLayout(tmp_path)
    assert layout.load_config() is None
    layout.save_config(cfg)
    assert layout.load_config() == cfg
    layout.config_file.write_text("{not json")
    with pytest.raises(ConfigFileError, match="net.json"):
        layout.load_config()
    with pytest.raises(NetworkError, match="net.json"):
        Network(tmp_path)


def test_start_options_override_saved_settings():
    args = parse_args(["start", "--miners", "4", "--rpc-port", "20000"])
    saved = NetConfig(miners=2, cycle_seconds=3.0, rpc_port=19000)
    cfg = start_config(args, saved)
    assert (cfg.miners, cfg.cycle_seconds, cfg.rpc_port) == (4, 3.0, 20000)
    assert start_config(parse_args(["start"]), None) == NetConfig()
    with pytest.raises(SystemExit):
        parse_args(["start", "--detach", "--foreground"])


@pytest.mark.parametrize("generate", [False, True])
def test_node_conf_as_the_node_reads_it(tmp_path, generate):
    cfg = NetConfig(rpc_port=20111, zmq_port=20112)
    key = Key.generate()
    (tmp_path / "potc.conf").write_text(node_conf_text(cfg, key.xonly, key.priv.secret if generate else None))
    settings, _ = load_settings([f"-datadir={tmp_path}"])
    assert settings.chain == "regtest"
    assert settings.get_int("rpcport", 0) == 20111
    assert settings.get_bool("txindex")
    for topic in ("hashblock", "rawblock", "hashtx", "rawtx", "sequence"):
        assert settings.get_all(f"zmqpub{topic}") == ["tcp://127.0.0.1:20112"]
    priv, pub = coordinator_keys(settings)
    assert pub == key.xonly
    assert priv == (key.priv.secret if generate else None)


# --- processes --------------------------------------------------------------------------------
def test_check_ports_names_the_taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(procs.PortInUse, match=f"port {port} \\(node RPC\\) is already in use"):
            procs.check_ports({"sidecar HTTP": free_port(), "node RPC": port})


def test_port_in_time_wait_counts_as_free():
    """A network stopped (or its node killed) a moment ago leaves its server-side connections in
    TIME_WAIT on the ports; `potc-net start` must not refuse them, since the servers bind anyway."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp and libzmq do
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server closes first: its end goes to TIME_WAIT on `port`
        assert client.recv(1) == b""
        client.close()
    assert procs.port_free(port)
    procs.check_ports({"node ZMQ": port})
    with socket.socket() as again:  # and a server does bind there, as the check promised
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()
        assert not procs.port_free(port)


STUBBORN = """
import signal, sys, time
if sys.argv[1:] == ["ignore"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def wait_for(path: Path, text: str) -> None:
    end = time.monotonic() + 30
    while text not in path.read_text():
        assert time.monotonic() < end
        time.sleep(0.05)


def test_stop_procs_terminates_then_kills(tmp_path, monkeypatch):
    (tmp_path / "potc_stub_child.py").write_text(STUBBORN)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    polite = procs.spawn("polite", "potc_stub_child", [], tmp_path / "polite.log", tmp_path / "polite.pid")
    stubborn = procs.spawn("stubborn", "potc_stub_child", ["ignore"], tmp_path / "stubborn.log",
                           tmp_path / "stubborn.pid")
    for p in (polite, stubborn):
        wait_for(tmp_path / f"{p.name}.log", "ready")
    assert procs.read_pid_file(tmp_path / "stubborn.pid") == stubborn
    assert stubborn.alive()
    how = procs.stop_procs([polite, stubborn], timeout=1.0)
    assert how == {"polite": "stopped", "stubborn": "killed (no exit after SIGTERM)"}
    assert not polite.alive() and not stubborn.alive()
    assert procs.stop_procs([polite]) == {"polite": "not running"}


def test_pid_runs_recognises_the_module_not_just_the_pid(tmp_path, monkeypatch):
    """A process this interpreter did not start (as `potc-net stop` finds them): /proc decides."""
    (tmp_path / "potc_stub_child.py").write_text(STUBBORN)
    child = subprocess.Popen([sys.executable, "-m", "potc_stub_child"], stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(tmp_path)}, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert procs.pid_runs(child.pid, "potc_stub_child")
        assert not procs.pid_runs(child.pid, "regtest.node.daemon")  # a reused pid is not ours
    finally:
        child.kill()
        child.wait()
    assert not procs.pid_runs(child.pid, "potc_stub_child")
    (tmp_path / "x.pid").write_text("not a pid")
    assert procs.read_pid_file(tmp_path / "x.pid") is None
    assert procs.read_pid_file(tmp_path / "missing.pid") is None


def test_stop_and_status_with_nothing_running(tmp_path):
    net = Network(tmp_path / "empty")
    assert net.recorded() == [] and net.running() == []
    assert net.stop() == {}
    assert not any(net.status().running.values())


# --- progress lines -----------------------------------------------------------------------------
def audit_log(winner: int | None) -> dict:
    entries = [{"miner": "aa" * 32, "payout": "0014" + "11" * 20}, {"miner": "bb" * 32, "payout": "0014" + "22" * 20}]
    return {"state": "sealed", "cycle": 7, "height": 12, "block_hash": "ab" * 32, "contributions": entries,
            "winner": winner, "rejections": [{"miner": "cc" * 32, "code": "non-finite"}],
            "heldout_loss_before": 523_456, "heldout_loss_after": 401_000, "test_accuracy": 0.9123}


def test_progress_line_fields_and_format():
    line = cycle_line(audit_log(1), {"aa" * 32: "miner0"}, True)
    assert (line.cycle, line.height, line.verified, line.rejected) == (7, 12, 2, 1)
    assert line.winner == "bbbbbbbb"  # an unnamed key: its prefix
    assert cycle_line(audit_log(0), {"aa" * 32: "miner0"}, True).winner == "miner0"
    text = cycle_line(audit_log(None), {}, False).format()
    assert text.startswith("cycle    7  height   12  winner fallback")
    assert "verified  2 (1 rejected)" in text
    assert "held-out loss 0.5235 -> 0.4010  accuracy  91.2%" in text
    assert text.endswith(f"block {'ab' * 32}  (NOT in the node's chain)")


def test_a_process_failing_at_start_up_is_reported_with_its_log(tmp_path):
    ports = free_ports(4)  # distinct, unlike four separate ephemeral binds
    net = Network(tmp_path / "net", NetConfig(rpc_port=ports[0], zmq_port=ports[1], sidecar_port=ports[2],
                                              sidecar_zmq_port=ports[3]))
    net.prepare()
    (net.layout.node_dir / "regtest").write_text("a file where the chain directory should be")
    with pytest.raises(NetworkError, match=r"node exited during start-up \(status 1\)") as e:
        net.start()
    assert "Error:" in str(e.value) and str(net.layout.log("node")) in str(e.value)
    assert net.recorded() == []  # start() cleaned up after itself
