"""Script verification flags with Bitcoin Core's exact bit values (SCRIPT_VERIFY_*)."""

from __future__ import annotations

from enum import IntFlag


class ScriptFlags(IntFlag):
    """Bit flags selecting which script rules are enforced; values equal Core's."""

    NONE = 0
    P2SH = 1 << 0
    STRICTENC = 1 << 1
    DERSIG = 1 << 2
    LOW_S = 1 << 3
    NULLDUMMY = 1 << 4
    SIGPUSHONLY = 1 << 5
    MINIMALDATA = 1 << 6
    DISCOURAGE_UPGRADABLE_NOPS = 1 << 7
    CLEANSTACK = 1 << 8
    CHECKLOCKTIMEVERIFY = 1 << 9
    CHECKSEQUENCEVERIFY = 1 << 10
    WITNESS = 1 << 11
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 1 << 12
    MINIMALIF = 1 << 13
    NULLFAIL = 1 << 14
    WITNESS_PUBKEYTYPE = 1 << 15
    CONST_SCRIPTCODE = 1 << 16
    TAPROOT = 1 << 17
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 1 << 18
    DISCOURAGE_OP_SUCCESS = 1 << 19
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 1 << 20


#: Every defined flag bit.
ALL_FLAGS = ScriptFlags((1 << 21) - 1)

#: Rules every block must satisfy (Core's MANDATORY_SCRIPT_VERIFY_FLAGS, all buried soft forks).
MANDATORY_FLAGS = (
    ScriptFlags.P2SH
    | ScriptFlags.DERSIG
    | ScriptFlags.NULLDUMMY
    | ScriptFlags.CHECKLOCKTIMEVERIFY
    | ScriptFlags.CHECKSEQUENCEVERIFY
    | ScriptFlags.WITNESS
    | ScriptFlags.TAPROOT
)

#: Mempool policy flags (Core's STANDARD_SCRIPT_VERIFY_FLAGS).
STANDARD_FLAGS = (
    MANDATORY_FLAGS
    | ScriptFlags.STRICTENC
    | ScriptFlags.MINIMALDATA
    | ScriptFlags.DISCOURAGE_UPGRADABLE_NOPS
    | ScriptFlags.CLEANSTACK
    | ScriptFlags.MINIMALIF
    | ScriptFlags.NULLFAIL
    | ScriptFlags.LOW_S
    | ScriptFlags.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM
    | ScriptFlags.WITNESS_PUBKEYTYPE
    | ScriptFlags.CONST_SCRIPTCODE
    | ScriptFlags.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION
    | ScriptFlags.DISCOURAGE_OP_SUCCESS
    | ScriptFlags.DISCOURAGE_UPGRADABLE_PUBKEYTYPE
)


def parse_flags(text: str) -> ScriptFlags:
    """Parse the comma-separated names used in Core's test vectors ("P2SH,STRICTENC", "NONE", "")."""
    flags = ScriptFlags.NONE
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name.startswith("SCRIPT_VERIFY_"):
            name = name[len("SCRIPT_VERIFY_"):]
        try:
            flags |= ScriptFlags[name]
        except KeyError:
            raise ValueError(f"unknown script verify flag: {name!r}") from None
    return flags


def format_flags(flags: int) -> str:
    """Inverse of parse_flags (names in bit order, comma separated)."""
    return ",".join(f.name for f in ScriptFlags if f.value and flags & f.value and f.name)
