"""`potc-cli`: a command-line RPC client that behaves like bitcoin-cli.

Reads the same configuration and the `.cookie`; arguments the method declares as strings are
sent as typed, JSON-typed ones (numbers, booleans, arrays, objects) must parse, and those that
take either are parsed where they parse and sent as strings otherwise; `-named` sends
`name=value` pairs as an object.
Strings print raw, other results as JSON with a 2-space indent; errors go to stderr as
"error code: N\\nerror message:\\n..." with exit code |N|.
"""

from __future__ import annotations

import base64
import http.client
import socket
import sys
import time
from pathlib import Path
from typing import Any

from regtest.node.rpc import jsonfmt
from regtest.node.config import ConfigError, Settings, load_settings
from regtest.node.rpc.auth import read_cookie
from regtest.node.version import HELP_FLAGS, VERSION_FLAGS, asks, version_line

IN_WARMUP = -28
DEFAULT_TIMEOUT = 900


class CLIError(Exception):
    """Printed as `error: <message>` with exit code 1."""


#: argument kinds, as bitcoin-cli's conversion table sees them
STRING, JSON, EITHER = "string", "json", "either"
_JSON_TYPES = frozenset({"NUM", "BOOL", "OBJ", "ARR"})


def arg_kinds(method: str) -> tuple[list[str], dict[str, str]]:
    """How each argument of `method` is sent, by position and by name, from the node's own
    method table: strings as typed; JSON types parsed (bitcoin-cli: "Error parsing JSON" when
    they do not parse); arguments that take either (amounts, "numeric or boolean", ...) parsed
    where they parse and sent as strings otherwise."""
    try:
        from regtest.node.rpc.registry import load_all_methods

        m = load_all_methods().get(method)
    except Exception:  # noqa: BLE001 - the CLI still works, sending every argument as "either"
        m = None
    if m is None:
        return [], {}
    kinds = []
    for a in m.args:
        if a.type_str is not None or a.type.name not in _JSON_TYPES | {"STR", "STR_HEX"}:
            kinds.append(EITHER)
        else:
            kinds.append(STRING if a.type.name in ("STR", "STR_HEX") else JSON)
    by_name = {n: k for a, k in zip(m.args, kinds) for n in a.names.split("|")}
    return kinds, by_name


def build_params(words: list[str], named: bool, method: str = "") -> list | dict:
    by_pos, by_name = arg_kinds(method) if method else ([], {})

    def convert(text: str, kind: str) -> Any:
        if kind == STRING:
            return text
        try:
            return jsonfmt.loads(text)
        except ValueError:
            if kind == JSON:
                raise CLIError(f"Error parsing JSON: {text}") from None
            return text

    if not named:
        return [convert(w, by_pos[i] if i < len(by_pos) else EITHER) for i, w in enumerate(words)]
    out: dict[str, Any] = {}
    positional: list[Any] = []
    for w in words:
        name, eq, value = w.partition("=")
        if not eq:
            positional.append(convert(w, EITHER))
            continue
        if name in out:
            raise CLIError(f"Parameter {name} specified multiple times")
        out[name] = convert(value, by_name.get(name, EITHER))
    if positional:
        out["args"] = positional
    return out


def credentials(settings: Settings, stdin_password: str | None = None) -> str:
    password = stdin_password if stdin_password is not None else settings.get("rpcpassword") or ""
    if password:
        return f"{settings.get('rpcuser') or ''}:{password}"
    path = Path(settings.get("rpccookiefile") or ".cookie")
    if not path.is_absolute():
        path = settings.chain_dir / path
    cookie = read_cookie(path)
    if cookie is None:
        raise CLIError(
            "Could not locate RPC credentials. No authentication cookie could be found, and RPC "
            "password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: "
            f"({settings.datadir / 'potc.conf'})"
        )
    return f"{cookie[0]}:{cookie[1]}"


class _Refused(Exception):
    pass


def call(settings: Settings, method: str, params: list | dict, stdin_password: str | None = None) -> dict:
    """One JSON-RPC 1.0 call; returns the reply object (with result and error)."""
    host = settings.get("rpcconnect") or "127.0.0.1"
    port = settings.get_int("rpcport", settings.chain_info.rpc_port)
    if ":" in host and not host.startswith("["):
        host, _, p = host.rpartition(":")
        port = int(p)
    timeout = settings.get_int("rpcclienttimeout", DEFAULT_TIMEOUT) or None
    body = jsonfmt.dumps({"method": method, "params": params, "id": 1}).encode()
    # credentials are read per attempt: with -rpcwait the cookie appears when the server starts
    auth = base64.b64encode(credentials(settings, stdin_password).encode()).decode()
    conn = http.client.HTTPConnection(host.strip("[]"), port, timeout=timeout)
    try:
        conn.request("POST", "/", body, {"Content-Type": "application/json",
                                         "Authorization": f"Basic {auth}"})
        resp = conn.getresponse()
        data = resp.read()
    except (ConnectionRefusedError, socket.gaierror, OSError) as e:
        raise _Refused(f"{host}:{port}") from e
    finally:
        conn.close()
    if resp.status == 401:
        raise CLIError("Authorization failed: Incorrect rpcuser or rpcpassword")
    if resp.status >= 400 and resp.status not in (400, 404, 500):
        raise CLIError(f"server returned HTTP error {resp.status}")
    if not data:
        raise CLIError(f"no response from server")
    try:
        reply = jsonfmt.loads(data)
    except ValueError:
        raise CLIError("couldn't parse reply from server") from None
    if not isinstance(reply, dict):
        raise CLIError("expected reply to have result, error and id properties")
    return reply


def format_result(result: Any) -> str:
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    return jsonfmt.dumps(result, indent=2)


USAGE = """potc-cli: send commands to potcd over JSON-RPC

Usage:
  potc-cli [options] <command> [params]       Send a command to potcd
  potc-cli [options] -named <command> [name=value]...
  potc-cli [options] help                      List commands
  potc-cli [options] help <command>            Help for a command

Options: -datadir=<dir> -conf=<file> -chain=<regtest|bitcoin-regtest|main> -regtest
  -rpcconnect=<host[:port]> -rpcport=<port> -rpcuser=<user> -rpcpassword=<pw>
  -rpccookiefile=<file> -rpcwait -rpcwaittimeout=<s> -rpcclienttimeout=<s> -named -stdin
  -stdinrpcpass -getinfo -version -help
"""


def run(argv: list[str], stdin=None) -> tuple[int, str, str]:
    """(exit code, stdout text, stderr text) for one invocation; main() prints them."""
    if asks(argv, VERSION_FLAGS):
        return 0, version_line("potc-cli") + "\n", ""
    if asks(argv, HELP_FLAGS):
        return 0, USAGE, ""
    try:
        settings, words = load_settings(argv, allow_positional=True)
    except ConfigError as e:
        return 1, "", f"Error: {e}\n"
    lines = iter(stdin or sys.stdin)  # read only when -stdinrpcpass or -stdin asks
    password = None
    if settings.get_bool("stdinrpcpass"):  # the first line, before any -stdin arguments
        password = next(lines, None)
        if password is None:
            return 1, "", "error: -stdinrpcpass specified but failed to read from standard input\n"
        password = password.rstrip("\n")
    if settings.get_bool("stdin"):
        words = words + [line.rstrip("\n") for line in lines]
    if settings.get_bool("getinfo"):
        if words:
            return 1, "", "error: -getinfo takes no arguments\n"
        return getinfo(settings, password)
    if not words:
        return 1, "", "error: too few parameters (need at least command)\n"
    method, args = words[0], words[1:]
    try:
        params = build_params(args, settings.get_bool("named"), method)
    except CLIError as e:
        return 1, "", f"error: {e}\n"
    return call_with_wait(settings, method, params, password)


def call_with_wait(settings: Settings, method: str, params: list | dict,
                   password: str | None = None) -> tuple[int, str, str]:
    """One call as bitcoin-cli makes it (retrying under -rpcwait): (exit code, stdout, stderr)."""
    wait = settings.get_bool("rpcwait")
    wait_timeout = settings.get_int("rpcwaittimeout", 0)
    deadline = time.monotonic() + wait_timeout if wait_timeout > 0 else None
    while True:
        try:
            reply = call(settings, method, params, password)
        except _Refused as e:
            if wait and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.2)
                continue
            if wait:
                return 1, "", f"error: timeout on transient error: Could not connect to the server {e}\n"
            return 1, "", (
                f"error: Could not connect to the server {e}\n\nMake sure the potcd server is "
                "running and that you are connecting to the correct RPC port.\n"
                'Use "potc-cli -help" for more info.\n'
            )
        except CLIError as e:
            if wait and "credentials" in str(e) and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.2)
                continue
            return 1, "", f"error: {e}\n"
        error = reply.get("error")
        if error is not None and wait and isinstance(error, dict) and error.get("code") == IN_WARMUP:
            if deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
                continue
        break
    if error is not None:
        if isinstance(error, dict) and "code" in error and "message" in error:
            code = int(error["code"])
            return abs(code), "", f"error code: {code}\nerror message:\n{error['message']}\n"
        return 1, "", f"error: {jsonfmt.dumps(error)}\n"
    text = format_result(reply.get("result"))
    return 0, (text + "\n") if text else "", ""


def getinfo(settings: Settings, password: str | None) -> tuple[int, str, str]:
    """bitcoin-cli -getinfo's human-readable summary (no wallet lines: the node has no wallet)."""
    results = []
    for method in ("getblockchaininfo", "getnetworkinfo"):
        code, out, err = call_with_wait(settings, method, [], password)
        if code != 0:
            return code, out, err
        results.append(jsonfmt.loads(out))
    chain, net = results
    warnings = list(chain.get("warnings") or []) + list(net.get("warnings") or [])
    text = (f"Chain: {chain['chain']}\n"
            f"Blocks: {chain['blocks']}\n"
            f"Headers: {chain['headers']}\n"
            f"Verification progress: {float(chain['verificationprogress']) * 100:.4f}%\n"
            f"Difficulty: {float(chain['difficulty'])!r}\n"
            f"\n"
            f"Network: in {net['connections_in']}, out {net['connections_out']}, total {net['connections']}\n"
            f"Version: {net['version']}\n"
            f"Time offset (s): {net['timeoffset']}\n"
            f"Proxies: n/a\n"
            f"Min tx relay fee rate (BTC/kvB): {net['relayfee']:.8f}\n"
            f"\n"
            f"Warnings: {' '.join(warnings) if warnings else '(none)'}\n")
    return 0, text, ""


def main(argv: list[str] | None = None) -> int:
    code, out, err = run(sys.argv[1:] if argv is None else argv)
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    return code & 0xFF if code > 255 else code


if __name__ == "__main__":
    sys.exit(main())
