"""potcd as a process: configuration errors (exit code 1), clean shutdown, data directory files."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.node.framework import REPO, TestNode, potcd_cmd


def run_potcd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(potcd_cmd(*args), cwd=REPO, capture_output=True, text=True, timeout=60)


def test_unknown_option(tmp_path):
    r = run_potcd(f"-datadir={tmp_path}", "-foo")
    assert r.returncode == 1 and r.stderr == "Error: Invalid parameter -foo\n"


@pytest.mark.parametrize(
    "conf, message",
    [
        ("rpcport=1234\n", "Config setting for -rpcport only applied on regtest network when in [regtest] section."),
        ("justaword\n", "parse error on line 1: justaword"),
        ("nofoo\n", "use nofoo=1 instead"),
        ("rpcauth=bad\n", "Invalid -rpcauth argument."),
        ("chain=nonet\n", "Unknown chain nonet"),
        ("coordinatorkey=zz\n", "Invalid -coordinatorkey"),
        ("rpcallowip=not/an/ip\n", "Invalid -rpcallowip subnet specification"),
    ],
)
def test_bad_config_exits_1(tmp_path, conf, message):
    (tmp_path / "potc.conf").write_text(conf)
    r = run_potcd(f"-datadir={tmp_path}")
    assert r.returncode == 1 and r.stderr.startswith("Error: ") and message in r.stderr


def test_missing_datadir(tmp_path):
    r = run_potcd(f"-datadir={tmp_path / 'nope'}")
    assert r.returncode == 1 and "does not exist" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shutdown_removes_cookie_and_pid(tmp_path, sig):
    n = TestNode(tmp_path).start()
    assert n.cookie_path.exists() and (n.chain_dir / "potcd.pid").exists()
    pid = int((n.chain_dir / "potcd.pid").read_text())
    assert pid == n.process.pid
    n.process.send_signal(sig)
    assert n.process.wait(30) == 0
    assert not n.cookie_path.exists() and not (n.chain_dir / "potcd.pid").exists()
    log = n.debug_log()
    assert "Shutdown: done" in log and "init message: Done loading" in log


def test_stop_rpc_and_restart_keeps_chain(tmp_path):
    n = TestNode(tmp_path).start()
    hashes = n.rpc("generatetoaddress", 3, "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c")
    assert n.rpc("stop") == "potc stopping"
    assert n.process.wait(30) == 0
    assert not n.cookie_path.exists()
    n.process = None
    n.start()
    try:
        assert n.rpc("getbestblockhash") == hashes[-1]
    finally:
        assert n.stop() == 0


def test_bitcoin_regtest_chain_uses_pow(tmp_path):
    n = TestNode(tmp_path, chain="bitcoin-regtest", extra_args=["-chain=bitcoin-regtest"]).start()
    try:
        assert (tmp_path / "bitcoin-regtest" / ".cookie").exists()
        info = n.rpc("getblockchaininfo")
        assert info["chain"] == "bitcoin-regtest"
        assert info["bestblockhash"] == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        h = n.rpc("generatetoaddress", 1, "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c")[0]
        assert "certificate" not in n.rpc("getblock", h)
        assert int(h, 16) <= int("7fffff" + "00" * 29, 16)  # proof of work at regtest difficulty
    finally:
        n.stop()


def test_rpcbind_needs_rpcallowip(tmp_path):
    from tests.node.framework import free_port

    port = free_port()
    n = TestNode(tmp_path, extra_args=["-rpcallowip=127.0.0.0/8", f"-rpcbind=127.0.0.1:{port}"])
    default_port = n.rpc_port
    n.rpc_port = port
    n.args = lambda: [f"-datadir={tmp_path}", f"-rpcport={default_port}", *n.extra_args]
    n.start()
    try:
        assert n.rpc("getblockcount") == 0  # served on the rpcbind port
        assert f"Binding RPC on address 127.0.0.1 port {port}" in n.debug_log()
        assert f"port {default_port}" not in n.debug_log()
    finally:
        n.stop()


def test_rpc_port_in_use_exits_1(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_potcd(f"-datadir={tmp_path}", f"-rpcport={port}")
    assert r.returncode == 1 and r.stderr.startswith("Error: Unable to start HTTP server")
    assert not (tmp_path / "regtest" / ".cookie").exists()
    assert not (tmp_path / "regtest" / "potcd.pid").exists()


def test_daemon_mode_backgrounds_after_start(tmp_path):
    import os
    import time

    n = TestNode(tmp_path)
    r = run_potcd(*n.args(), "-daemon")
    assert r.returncode == 0  # returned once the background node was serving
    pid = int((n.chain_dir / "potcd.pid").read_text())
    try:
        assert n.rpc("getblockcount") == 0 and n.cookie_path.exists()
        assert n.rpc("stop") == "potc stopping"
        deadline = time.monotonic() + 30
        while (n.chain_dir / "potcd.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not n.cookie_path.exists() and not (n.chain_dir / "potcd.pid").exists()
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_daemon_mode_reports_failure(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        r = run_potcd(f"-datadir={tmp_path}", f"-rpcport={busy.getsockname()[1]}", "-daemon")
    assert r.returncode == 1 and "Unable to start HTTP server" in r.stderr


def test_second_node_on_same_datadir_is_refused_and_leaves_the_first_alone(tmp_path):
    """bitcoind locks its data directory; a second potcd (even on another RPC port) must stop
    with Core's message before it writes or deletes the first one's cookie and pid file."""
    from tests.node.framework import free_port

    n = TestNode(tmp_path).start()
    try:
        cookie = n.cookie_path.read_text()
        pid_file = (n.chain_dir / "potcd.pid").read_text()
        r = run_potcd(f"-datadir={tmp_path}", f"-rpcport={free_port()}")
        assert r.returncode == 1
        assert r.stderr == (f"Error: Cannot obtain a lock on directory {n.chain_dir}. "
                            "potcd is probably already running.\n")
        assert n.cookie_path.read_text() == cookie
        assert (n.chain_dir / "potcd.pid").read_text() == pid_file
        assert n.proxy().getblockcount() == 0  # python-bitcoinlib, with the untouched cookie
    finally:
        assert n.stop() == 0
    n.start()  # the lock goes with the process: the same directory opens again
    n.stop()


def test_debug_log_shows_each_new_tip_like_bitcoind(tmp_path):
    """debug.log gets Core's "UpdateTip: new best=<hash> height=<n>" per block connected, and
    the parent's line when a block is disconnected (invalidateblock, reorgs)."""
    import time

    n = TestNode(tmp_path).start()
    try:
        hashes = n.rpc("generatetoaddress", 2, "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c")
        n.rpc("invalidateblock", hashes[1])
        lines = [ln.split(" ", 1)[1] for ln in n.debug_log().splitlines() if "UpdateTip:" in ln]
        assert [ln.split(" version=")[0] for ln in lines] == [
            f"UpdateTip: new best={hashes[0]} height=1",
            f"UpdateTip: new best={hashes[1]} height=2",
            f"UpdateTip: new best={hashes[0]} height=1",
        ]
        block_time = time.gmtime(n.rpc("getblockheader", hashes[0])["time"])
        assert lines[0].endswith(f"txs=1 date='{time.strftime('%Y-%m-%dT%H:%M:%SZ', block_time)}'")
    finally:
        n.stop()


def test_sighup_reopens_debug_log_and_keeps_running(tmp_path):
    """bitcoind reopens debug.log on SIGHUP (log rotation); potcd died of it, leaving its cookie
    and pid file behind."""
    import time

    n = TestNode(tmp_path).start()
    log, rotated = n.chain_dir / "debug.log", n.chain_dir / "debug.log.1"
    log.rename(rotated)
    n.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30  # the handler runs on the node's event loop, soon after
    while not (log.exists() and "Reopened the log file on SIGHUP" in log.read_text()):
        assert n.process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    (h,) = n.rpc("generatetoaddress", 1, "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c")
    assert n.process.poll() is None
    assert f"UpdateTip: new best={h} height=1" in log.read_text()
    assert "UpdateTip" not in rotated.read_text()
    assert n.stop() == 0
    assert not n.cookie_path.exists() and "Shutdown: done" in log.read_text()


def test_foreground_node_logs_to_the_console_by_default(tmp_path):
    """bitcoind's -printtoconsole defaults to 1 unless -daemon: a node started in a terminal
    shows its log there. -printtoconsole=0 keeps the console quiet (the log file has it all)."""
    from tests.node.framework import free_port

    port = free_port()
    args = [f"-datadir={tmp_path}", f"-rpcport={port}"]
    for extra, shown in (([], True), (["-printtoconsole=0"], False)):
        p = subprocess.Popen(potcd_cmd(*args, *extra), cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        n = TestNode(tmp_path, rpc_port=port, process=p)
        n.wait_ready()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0 and err == ""
        if shown:
            assert "init message: Done loading" in out and "Shutdown: done" in out
        else:
            assert out == ""
        assert "Shutdown: done" in n.debug_log()
