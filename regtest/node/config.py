"""Configuration as bitcoind reads it: `potc.conf` in bitcoin.conf syntax plus `-option` arguments.

Precedence (highest first): command line (last occurrence wins), the chain's section of the
config file (`[regtest]` or `regtest.key=`), the top of the config file (first occurrence wins).
Options that only make sense per network (ports, binds) are refused at the top of the file on a
non-main chain, as Core does. Other components add their options with `register_option`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CONF_FILENAME = "potc.conf"
DEFAULT_DATADIR = Path("~/.potc")
MAX_CONF_SIZE = 1 << 20  # a config file larger than this is refused
MAX_INCLUDE_FILES = 16


class ConfigError(Exception):
    """Bad configuration: the daemon prints `Error: <message>` and exits with code 1."""


@dataclass(frozen=True)
class ChainInfo:
    """A network this node can run: its name (also the datadir subfolder) and default ports.

    Ports are this project's own, away from Core's (8332/18443...) so both can run side by side.
    """

    name: str
    rpc_port: int
    p2p_port: int


CHAINS: dict[str, ChainInfo] = {
    "regtest": ChainInfo("regtest", 18643, 18644),
    "bitcoin-regtest": ChainInfo("bitcoin-regtest", 18653, 18654),
    "main": ChainInfo("main", 8643, 8644),
}
DEFAULT_CHAIN = "regtest"
SECTIONS = set(CHAINS) | {"test"}


@dataclass(frozen=True)
class OptionSpec:
    name: str
    help: str
    network_only: bool = False


OPTIONS: dict[str, OptionSpec] = {}


def register_option(name: str, help: str, network_only: bool = False) -> None:
    """Declare an option so that it is accepted (unknown command-line options are errors)."""
    OPTIONS[name] = OptionSpec(name, help, network_only)


for _name, _help, _net in [
    ("conf", "Config file, relative to the data directory (default potc.conf)", False),
    ("datadir", "Data directory", False),
    ("chain", "Network: regtest (default), bitcoin-regtest, main", False),
    ("regtest", "Use the regtest chain (same as -chain=regtest)", False),
    ("includeconf", "Additional config file (config file only)", False),
    ("server", "Accept JSON-RPC commands (default 1)", False),
    ("rpcuser", "Username for JSON-RPC", False),
    ("rpcpassword", "Password for JSON-RPC", False),
    ("rpcauth", "user:salt$hmac credentials for JSON-RPC (repeatable)", False),
    ("rpccookiefile", "Location of the auth cookie", False),
    ("rpcport", "JSON-RPC port", True),
    ("rpcbind", "Address to bind JSON-RPC to (needs rpcallowip)", True),
    ("rpcallowip", "Allow JSON-RPC from this address or subnet", False),
    ("rpcconnect", "potc-cli: node to connect to (default 127.0.0.1)", False),
    ("rpcwait", "potc-cli: wait for the server to start", False),
    ("rpcwaittimeout", "potc-cli: seconds to wait with -rpcwait (0 = forever)", False),
    ("rpcclienttimeout", "potc-cli: HTTP timeout in seconds", False),
    ("named", "potc-cli: pass named arguments", False),
    ("stdin", "potc-cli: read extra arguments from standard input", False),
    ("stdinrpcpass", "potc-cli: read the RPC password from the first line of standard input", False),
    ("getinfo", "potc-cli: a summary of the node's state (chain, blocks, fee floor, warnings)", False),
    ("txindex", "Maintain a full transaction index", False),
    ("coordinatorkey", "Coordinator private key (hex) for generatetoaddress/generateblock", False),
    ("printtoconsole", "Send log lines to the console too (default 1 unless -daemon)", False),
    ("debug", "Log more detail (category)", False),
    ("debuglogfile", "Log file (default debug.log in the chain folder)", False),
    ("pid", "PID file (default potcd.pid in the chain folder)", False),
    ("daemon", "Run in the background once RPC is serving (the parent exits 0, or 1 on failure)", False),
    ("port", "P2P port", True),
    ("bind", "P2P bind address", True),
    ("listen", "Accept P2P connections", False),
    ("connect", "Connect only to these peers", True),
    ("addnode", "Add a peer to connect to", True),
]:
    register_option(_name, _help, _net)
for _topic in ("hashblock", "hashtx", "rawblock", "rawtx", "sequence"):
    register_option(f"zmqpub{_topic}", f"ZMQ publisher address for {_topic}")
    register_option(f"zmqpub{_topic}hwm", f"ZMQ send high-water mark for {_topic} (default 1000)")


def interpret_bool(value: str) -> bool:
    """Core's InterpretBool: empty means true, otherwise the leading integer is non-zero."""
    if value == "":
        return True
    digits = ""
    for i, c in enumerate(value.strip()):
        if c.isdigit() or (i == 0 and c in "+-"):
            digits += c
        else:
            break
    try:
        return int(digits) != 0
    except ValueError:
        return False


def _split_key(raw: str) -> tuple[str | None, str]:
    """`regtest.rpcport` -> ("regtest", "rpcport"); `rpcport` -> (None, "rpcport")."""
    section, dot, key = raw.rpartition(".")
    return (section, key) if dot else (None, raw)


def _negation(key: str, value: str) -> tuple[str, str]:
    """`nofoo` -> ("foo", "0"); `nofoo=0` -> ("foo", "1"), for registered `foo` only."""
    if key.startswith("no") and key[2:] in OPTIONS and key not in OPTIONS:
        return key[2:], "0" if interpret_bool(value) else "1"
    return key, value


@dataclass
class Settings:
    """Parsed settings: command line, per-section config values and top-level config values."""

    command_line: dict[str, list[str]] = field(default_factory=dict)
    config: dict[str | None, dict[str, list[str]]] = field(default_factory=dict)
    chain: str = DEFAULT_CHAIN
    datadir: Path = DEFAULT_DATADIR
    warnings: list[str] = field(default_factory=list)

    # --- lookups ---------------------------------------------------------------------------
    def _values(self, name: str) -> list[str]:
        if name in self.command_line:
            return self.command_line[name][::-1]  # last wins on the command line
        out = list(self.config.get(self.chain, {}).get(name, []))
        if not out and not self._network_only_ignored(name):
            out = list(self.config.get(None, {}).get(name, []))
        return out

    def _network_only_ignored(self, name: str) -> bool:
        spec = OPTIONS.get(name)
        return bool(spec and spec.network_only and self.chain != "main")

    def is_set(self, name: str) -> bool:
        return bool(self._values(name))

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values(name)
        return values[0] if values else default

    def get_bool(self, name: str, default: bool = False) -> bool:
        v = self.get(name)
        return default if v is None else interpret_bool(v)

    def get_int(self, name: str, default: int) -> int:
        v = self.get(name)
        if v is None:
            return default
        try:
            return int(v.strip())
        except ValueError:
            raise ConfigError(f"Invalid value for -{name}: '{v}'") from None

    def get_all(self, name: str) -> list[str]:
        """Every value of a repeatable option (command line, chain section, top level)."""
        out = list(self.command_line.get(name, []))
        out += self.config.get(self.chain, {}).get(name, [])
        if not self._network_only_ignored(name):
            out += self.config.get(None, {}).get(name, [])
        return out

    # --- derived ---------------------------------------------------------------------------
    @property
    def chain_info(self) -> ChainInfo:
        return CHAINS[self.chain]

    @property
    def chain_dir(self) -> Path:
        return self.datadir / self.chain

    def check_network_only(self) -> None:
        """Core refuses network-only options set only at the top of the file on other chains."""
        if self.chain == "main":
            return
        top = self.config.get(None, {})
        section = self.config.get(self.chain, {})
        for name in top:
            spec = OPTIONS.get(name)
            if spec and spec.network_only and name not in section and name not in self.command_line:
                raise ConfigError(
                    f"Config setting for -{name} only applied on {self.chain} network when in "
                    f"[{self.chain}] section."
                )


def parse_command_line(argv: list[str], allow_positional: bool) -> tuple[dict[str, list[str]], list[str]]:
    """`-key=value` / `-key` / `-nokey` options, then (for the CLI) positional words."""
    options: dict[str, list[str]] = {}
    rest: list[str] = []
    for i, arg in enumerate(argv):
        if not arg.startswith("-") or arg == "-":
            if allow_positional:
                rest = argv[i:]
                break
            raise ConfigError(
                f"Command line contains unexpected token '{arg}', see potcd -h for a list of options."
            )
        body = arg.lstrip("-")
        if arg.startswith("--"):
            body = arg[2:]
        raw_key, eq, value = body.partition("=")
        section, key = _split_key(raw_key)
        key, value = _negation(key, value if eq else "")
        if key not in OPTIONS or (section is not None and section not in SECTIONS):
            raise ConfigError(f"Invalid parameter {arg.partition('=')[0]}")
        if section is not None and section != _chain_hint(argv):
            continue  # a setting for another network
        options.setdefault(key, []).append(value)
    return options, rest


def _chain_hint(argv: list[str]) -> str:
    for arg in reversed(argv):
        if arg.startswith("-chain="):
            return arg.partition("=")[2]
        if arg in ("-regtest", "-regtest=1"):
            return "regtest"
    return DEFAULT_CHAIN


@dataclass
class _ConfParse:
    values: dict[str | None, dict[str, list[str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)


def parse_config_text(text: str, source: str, out: _ConfParse, allow_include: bool = True) -> None:
    """bitcoin.conf lines: `key=value`, `#` comments, `[section]`, `section.key=value`."""
    section: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section not in SECTIONS:
                out.warnings.append(f"Section [{section}] is not recognized.")
            continue
        if line.startswith("-"):
            raise ConfigError(
                f"Error reading configuration file: parse error on line {lineno}: {line}, "
                "options in configuration file must be specified without leading -"
            )
        if "=" not in line:
            hint = ""
            if line.startswith("no"):
                hint = f", if you intended to specify a negated option, use {line}=1 instead"
            raise ConfigError(
                f"Error reading configuration file: parse error on line {lineno}: {line}{hint}"
            )
        raw_key, _, value = line.partition("=")
        raw_key, value = raw_key.strip(), value.strip()
        sec, key = _split_key(raw_key)
        if sec is None:
            sec = section
        key, value = _negation(key, value)
        if key == "includeconf":
            if not allow_include:
                raise ConfigError("includeconf cannot be used from included files")
            if sec is None:
                out.includes.append(value)
            continue
        if key not in OPTIONS:
            out.warnings.append(f"Ignoring unknown configuration value {raw_key} in {source}")
            continue
        out.values.setdefault(sec, {}).setdefault(key, []).append(value)


def _read_conf(path: Path) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_CONF_SIZE + 1)
    except UnicodeDecodeError:
        raise ConfigError(f"Error reading configuration file: {path} is not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"Error reading configuration file: {e.strerror}: {path}") from None
    if len(text) > MAX_CONF_SIZE:
        raise ConfigError(f"Error reading configuration file: {path} is too large")
    return text


def load_settings(argv: list[str], allow_positional: bool = False) -> tuple[Settings, list[str]]:
    """Command line + config file -> Settings (and the CLI's positional words)."""
    cmd, rest = parse_command_line(argv, allow_positional)
    datadir_arg = cmd.get("datadir", [None])[-1]
    if datadir_arg:
        datadir = Path(datadir_arg).expanduser().absolute()
        if not datadir.is_dir():
            raise ConfigError(f'Specified data directory "{datadir_arg}" does not exist.')
    else:
        datadir = default_datadir_env().absolute()
    conf_arg = cmd.get("conf", [None])[-1]
    conf_path = Path(conf_arg).expanduser() if conf_arg else Path(CONF_FILENAME)
    if not conf_path.is_absolute():
        conf_path = datadir / conf_path
    parsed = _ConfParse()
    if conf_path.exists():
        parse_config_text(_read_conf(conf_path), str(conf_path), parsed)
    elif conf_arg:
        raise ConfigError(f"specified config file {conf_arg} could not be opened.")
    for inc in parsed.includes[:MAX_INCLUDE_FILES]:
        inc_path = Path(inc).expanduser()
        if not inc_path.is_absolute():
            inc_path = datadir / inc_path
        parse_config_text(_read_conf(inc_path), str(inc_path), parsed, allow_include=False)
    settings = Settings(command_line=cmd, config=parsed.values, datadir=datadir,
                        warnings=parsed.warnings)
    settings.chain = _select_chain(settings)
    # a datadir given in the config file (not on the command line) also counts
    if not datadir_arg and settings.get("datadir"):
        dd = Path(settings.get("datadir") or "").expanduser().absolute()
        if not dd.is_dir():
            raise ConfigError(f'Specified data directory "{dd}" does not exist.')
        settings.datadir = dd
    settings.check_network_only()
    return settings, rest


def _select_chain(s: Settings) -> str:
    """-chain / -regtest, read from the command line or the top of the file only."""

    def top(name: str) -> str | None:
        if name in s.command_line:
            return s.command_line[name][-1]
        values = s.config.get(None, {}).get(name)
        return values[0] if values else None

    chain_arg = top("chain")
    regtest_arg = top("regtest")
    regtest = interpret_bool(regtest_arg) if regtest_arg is not None else False
    if chain_arg is not None and regtest and chain_arg != "regtest":
        raise ConfigError(
            "Invalid combination of -regtest and -chain. Can use at most one."
        )
    chain = chain_arg or DEFAULT_CHAIN
    if chain not in CHAINS:
        raise ConfigError(
            f"Unknown chain {chain}. Supported: {', '.join(CHAINS)}."
        )
    return chain


def default_datadir_env() -> Path:
    """The default data directory, `$POTC_DATADIR` or ~/.potc."""
    return Path(os.environ.get("POTC_DATADIR", str(DEFAULT_DATADIR))).expanduser()
