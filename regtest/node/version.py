"""The version potcd and potc-cli report (`-version`, as bitcoind and bitcoin-cli), and the
scan for the informational flags that answer before any configuration is read."""

from __future__ import annotations

from importlib import metadata

HELP_FLAGS = frozenset({"-h", "-help", "--help", "-?"})
VERSION_FLAGS = frozenset({"-version", "--version"})


def package_version() -> str:
    """The installed distribution's version; a source tree that was never installed says so."""
    try:
        return metadata.version("potc")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def version_line(program: str) -> str:
    return f"{program} version v{package_version()}"


def leading_options(argv: list[str]) -> list[str]:
    """The options before the first positional word (the CLI's method): flags after the method
    are its parameters, as bitcoin-cli reads them."""
    out = []
    for a in argv:
        if not a.startswith("-"):
            break
        out.append(a)
    return out


def asks(argv: list[str], flags: frozenset[str]) -> bool:
    return any(a in flags for a in leading_options(argv))
