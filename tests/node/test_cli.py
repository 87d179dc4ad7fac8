"""potc-cli against a real potcd: output formats, exit codes and error texts like bitcoin-cli."""

from __future__ import annotations

import json
import subprocess

from tests.node.framework import REPO, TestNode, cli_cmd, free_port, run_cli

GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def test_plain_results(node):
    r = run_cli(node, "getblockcount")
    assert (r.returncode, r.stdout, r.stderr) == (0, "0\n", "")
    r = run_cli(node, "getbestblockhash")
    assert r.stdout == GENESIS + "\n"  # strings print raw, without quotes


def test_json_pretty_two_spaces(node):
    r = run_cli(node, "getblockchaininfo")
    assert r.returncode == 0
    assert r.stdout.startswith('{\n  "chain": "regtest",\n')
    assert '\n  "difficulty": 4.656542373906925e-10,\n' in r.stdout
    assert '\n  "warnings": []\n}' in r.stdout
    assert json.loads(r.stdout)["blocks"] == 0


def test_positional_json_and_named(node):
    r = run_cli(node, "getblock", GENESIS, "false")
    assert r.stdout.startswith("0100000000000000")
    r = run_cli(node, "getblockhash", "height=0", extra=["-named"])
    assert r.stdout == GENESIS + "\n"
    r = run_cli(node, "getblock", f"blockhash={GENESIS}", "verbosity=0", extra=["-named"])
    assert r.stdout.startswith("0100000000000000")
    r = run_cli(node, "getblock", f"blockhash={GENESIS}", "nope=1", extra=["-named"])
    assert r.returncode == 8 and "Unknown named parameter nope" in r.stderr


def test_errors_like_bitcoin_cli(node):
    r = run_cli(node, "getblockhash", "99")
    assert r.returncode == 8 and r.stdout == ""
    assert r.stderr == "error code: -8\nerror message:\nBlock height out of range\n"
    r = run_cli(node, "nosuchmethod")
    assert r.returncode == 32601 & 0xFF
    assert r.stderr.startswith("error code: -32601\n")
    r = run_cli(node, "getblockhash")
    assert r.returncode == 1 and r.stderr.startswith("error code: -1\nerror message:\ngetblockhash height\n")


def test_rpcconnect(node):
    r = run_cli(node, "getblockcount", extra=["-rpcconnect=127.0.0.1"])
    assert r.stdout == "0\n"
    r = run_cli(node, "getblockcount", extra=[f"-rpcconnect=127.0.0.1:{node.rpc_port}", "-rpcport=1"])
    assert r.stdout == "0\n"  # a port in -rpcconnect wins


def test_string_arguments_are_not_parsed_as_json(node):
    # "1e5" parses as a JSON number, but validateaddress's argument is a string
    r = run_cli(node, "validateaddress", "1e5")
    assert r.returncode == 0 and json.loads(r.stdout)["isvalid"] is False
    r = run_cli(node, "validateaddress", "address=1e5", extra=["-named"])
    assert r.returncode == 0 and json.loads(r.stdout)["isvalid"] is False
    r = run_cli(node, "getblockhash", "0")  # numeric arguments still go as numbers
    assert r.stdout == GENESIS + "\n"


def test_json_arguments_that_do_not_parse_fail_in_the_client(node):
    """bitcoin-cli parses the arguments its table marks as JSON and stops on the first that does
    not parse ("error: Error parsing JSON: abc", exit 1), before anything is sent."""
    for args, extra in ((["getblockhash", "abc"], []), (["getblockhash", "height=abc"], ["-named"]),
                        (["getrawmempool", "yes"], [])):
        r = run_cli(node, *args, extra=extra)
        assert (r.returncode, r.stdout) == (1, "")
        assert r.stderr == f"error: Error parsing JSON: {args[1].split('=')[-1]}\n"
    r = run_cli(node, "getblock", GENESIS, "true")  # "numeric or boolean" still takes either
    assert r.returncode == 0 and json.loads(r.stdout)["height"] == 0


def test_stdin_arguments(node):
    r = run_cli(node, "getblockhash", stdin="0\n", extra=["-stdin"])
    assert r.stdout == GENESIS + "\n"


def test_stdinrpcpass_reads_the_password_before_stdin_arguments(node):
    user, password = node.credentials()
    r = run_cli(node, "getblockhash", stdin=f"{password}\n0\n",
                extra=[f"-rpcuser={user}", "-stdinrpcpass", "-stdin"])
    assert (r.returncode, r.stdout) == (0, GENESIS + "\n")
    r = run_cli(node, "getblockcount", stdin="not the password\n", extra=[f"-rpcuser={user}", "-stdinrpcpass"])
    assert r.returncode == 1
    assert r.stderr == "error: Authorization failed: Incorrect rpcuser or rpcpassword\n"
    r = run_cli(node, "getblockcount", stdin="", extra=["-stdinrpcpass"])
    assert r.returncode == 1
    assert r.stderr == "error: -stdinrpcpass specified but failed to read from standard input\n"


def test_getinfo_summary(node):
    info = node.rpc("getblockchaininfo")
    net = node.rpc("getnetworkinfo")
    r = run_cli(node, extra=["-getinfo"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"Chain: {info['chain']}", f"Blocks: {info['blocks']}", f"Headers: {info['headers']}",
        "Verification progress: 100.0000%", f"Difficulty: {float(info['difficulty'])!r}", "",
        "Network: in 0, out 0, total 0", f"Version: {net['version']}", "Time offset (s): 0",
        "Proxies: n/a", f"Min tx relay fee rate (BTC/kvB): {net['relayfee']:.8f}", "",
        "Warnings: (none)",
    ]
    r = run_cli(node, "getblockcount", extra=["-getinfo"])
    assert r.returncode == 1 and r.stderr == "error: -getinfo takes no arguments\n"


def test_wrong_password_and_no_server(node):
    r = run_cli(node, "getblockcount", extra=["-rpcuser=x", "-rpcpassword=y"])
    assert r.returncode == 1
    assert r.stderr == "error: Authorization failed: Incorrect rpcuser or rpcpassword\n"
    r = subprocess.run(cli_cmd(f"-datadir={node.datadir}", f"-rpcport={free_port()}", "getblockcount"),
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 1 and r.stderr.startswith("error: Could not connect to the server 127.0.0.1:")


def test_usage():
    r = subprocess.run(cli_cmd("-help"), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("potc-cli: send commands to potcd")


def test_version_and_help_flags_anywhere_among_the_options(tmp_path):
    """bitcoind/bitcoin-cli answer -version and -help wherever they stand among the options,
    before reading any configuration; after the method they are its parameters."""
    from tests.node.framework import potcd_cmd

    from regtest.node.version import package_version

    env_cmds = {"potcd": potcd_cmd, "potc-cli": cli_cmd}
    for program, cmd in env_cmds.items():
        r = subprocess.run(cmd(f"-datadir={tmp_path / 'missing'}", "-version"), capture_output=True,
                           text=True, cwd=REPO, timeout=60)
        assert (r.returncode, r.stdout, r.stderr) == (0, f"{program} version v{package_version()}\n", "")
    r = subprocess.run(cli_cmd(f"-datadir={tmp_path}", "-h"), capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("potc-cli: send commands to potcd")
    r = subprocess.run(cli_cmd(f"-datadir={tmp_path}", "-rpcport=1", "echo", "-version"),
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 1 and "Could not locate RPC credentials" in r.stderr


def test_bad_cli_option():
    r = subprocess.run(cli_cmd("-nosuchoption", "getblockcount"), capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    assert r.returncode == 1 and r.stderr == "Error: Invalid parameter -nosuchoption\n"


def test_reads_port_from_conf_and_rpcwait(tmp_path):
    port = free_port()
    n = TestNode(tmp_path, conf=f"[regtest]\nrpcport={port}\n", rpc_port=port)
    # the client starts first and waits for the server (-rpcwait) and its cookie
    client = subprocess.Popen(cli_cmd(f"-datadir={tmp_path}", "-rpcwait", "-rpcwaittimeout=60",
                                      "getblockcount"), cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        n.args = lambda: [f"-datadir={tmp_path}", "-coordinatorkey=" + "11" * 32]  # port from conf
        n.start()
        out, err = client.communicate(timeout=60)
        assert (client.returncode, out) == (0, "0\n"), err
        # python-bitcoinlib finds the same node from the conf file alone (port and cookie)
        import bitcoin
        import bitcoin.rpc

        bitcoin.SelectParams("regtest")
        proxy = bitcoin.rpc.Proxy(btc_conf_file=str(tmp_path / "potc.conf"))
        assert proxy.getblockcount() == 0
    finally:
        client.kill()
        n.stop()
