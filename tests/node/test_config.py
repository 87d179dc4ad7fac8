"""bitcoin.conf-style configuration: syntax, sections, precedence, negation, includes, errors."""

from __future__ import annotations

import pytest

from regtest.node.config import CHAINS, ConfigError, interpret_bool, load_settings


def settings(tmp_path, conf: str | None, *args: str):
    if conf is not None:
        (tmp_path / "potc.conf").write_text(conf)
    s, rest = load_settings([f"-datadir={tmp_path}", *args])
    return s


def test_defaults(tmp_path):
    s = settings(tmp_path, None)
    assert s.chain == "regtest" and s.chain_dir == tmp_path / "regtest"
    assert s.get("rpcport") is None and s.chain_info.rpc_port == 18643
    assert len({c.rpc_port for c in CHAINS.values()} | {18443, 8332}) == len(CHAINS) + 2


def test_syntax_comments_and_whitespace(tmp_path):
    s = settings(tmp_path, "# comment\n\n  txindex = 1  # trailing\nrpcuser=alice#x\n")
    assert s.get_bool("txindex") and s.get("rpcuser") == "alice"


def test_precedence_command_line_section_top(tmp_path):
    conf = "rpcuser=top\nrpcuser=top2\n[regtest]\nrpcuser=section\nrpcport=1111\n[main]\nrpcport=2222\n"
    s = settings(tmp_path, conf)
    assert s.get("rpcuser") == "section" and s.get_int("rpcport", 0) == 1111
    s = settings(tmp_path, conf, "-rpcuser=cmd1", "-rpcuser=cmd2")
    assert s.get("rpcuser") == "cmd2"  # last on the command line wins
    s = settings(tmp_path, "rpcuser=first\nrpcuser=second\n")
    assert s.get("rpcuser") == "first"  # first in the file wins


def test_prefix_form_and_other_sections(tmp_path):
    s = settings(tmp_path, "regtest.rpcport=3333\nmain.rpcport=4444\n")
    assert s.get_int("rpcport", 0) == 3333
    s = settings(tmp_path, "[main]\nrpcport=5555\n", "-chain=main")
    assert s.chain == "main" and s.get_int("rpcport", 0) == 5555 and s.chain_dir == tmp_path / "main"


def test_repeatable_values_collect(tmp_path):
    s = settings(tmp_path, "rpcallowip=10.0.0.1\n[regtest]\nrpcallowip=10.0.0.2\n", "-rpcallowip=10.0.0.3")
    assert s.get_all("rpcallowip") == ["10.0.0.3", "10.0.0.2", "10.0.0.1"]


def test_negation(tmp_path):
    s = settings(tmp_path, "txindex=1\n", "-notxindex")
    assert s.get_bool("txindex") is False
    s = settings(tmp_path, "notxindex=1\n")
    assert s.get_bool("txindex", True) is False
    s = settings(tmp_path, None, "-txindex")
    assert s.get_bool("txindex") is True


def test_interpret_bool():
    assert interpret_bool("") and interpret_bool("1") and interpret_bool("7")
    assert not interpret_bool("0") and not interpret_bool("yes") and not interpret_bool("false")


def test_chain_selection(tmp_path):
    assert settings(tmp_path, None, "-regtest").chain == "regtest"
    assert settings(tmp_path, "chain=bitcoin-regtest\n").chain == "bitcoin-regtest"
    with pytest.raises(ConfigError, match="Unknown chain"):
        settings(tmp_path, None, "-chain=testnet9")
    with pytest.raises(ConfigError, match="at most one"):
        settings(tmp_path, None, "-regtest", "-chain=main")


def test_network_only_option_at_top_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"Config setting for -rpcport only applied on regtest network when in \[regtest\] section."):
        settings(tmp_path, "rpcport=1\n")
    # fine when the command line sets it, or on main
    assert settings(tmp_path, "rpcport=1\n", "-rpcport=2").get("rpcport") == "2"
    assert settings(tmp_path, "rpcport=1\n", "-chain=main").get("rpcport") == "1"


def test_includeconf(tmp_path):
    (tmp_path / "extra.conf").write_text("rpcuser=included\n")
    s = settings(tmp_path, "includeconf=extra.conf\n")
    assert s.get("rpcuser") == "included"
    (tmp_path / "extra.conf").write_text("includeconf=again.conf\n")
    with pytest.raises(ConfigError, match="includeconf cannot be used from included files"):
        settings(tmp_path, "includeconf=extra.conf\n")


def test_conf_option_and_errors(tmp_path):
    (tmp_path / "other.conf").write_text("rpcuser=other\n")
    assert settings(tmp_path, None, "-conf=other.conf").get("rpcuser") == "other"
    with pytest.raises(ConfigError, match="could not be opened"):
        settings(tmp_path, None, "-conf=missing.conf")
    with pytest.raises(ConfigError, match="parse error on line 2"):
        settings(tmp_path, "txindex=1\n-rpcuser=x\n")
    with pytest.raises(ConfigError, match="Invalid parameter -bogus"):
        settings(tmp_path, None, "-bogus=1")
    with pytest.raises(ConfigError, match="unexpected token 'stray'"):
        load_settings([f"-datadir={tmp_path}", "stray"])


def test_unknown_conf_key_only_warns(tmp_path):
    s = settings(tmp_path, "wallet=x\n[weird]\n")
    assert any("wallet" in w for w in s.warnings) and any("[weird]" in w for w in s.warnings)


def test_cli_positional_words(tmp_path):
    s, rest = load_settings([f"-datadir={tmp_path}", "-named", "getblock", "-1"], allow_positional=True)
    assert s.get_bool("named") and rest == ["getblock", "-1"]
