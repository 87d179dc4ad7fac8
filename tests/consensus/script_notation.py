"""Parser for the script notation of Core's JSON test vectors (Core's ParseScript rules).

Words: decimal numbers (minimal number push), 0x.. raw hex bytes inserted verbatim,
'quoted' strings pushed as data, and opcode names with or without the OP_ prefix.
"""

from __future__ import annotations

import re

from regtest.consensus.script import OPCODES_BY_NAME, push_data_raw, push_int

_NUMBER = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"[0-9a-fA-F]*")


def parse_script(text: str) -> bytes:
    out = bytearray()
    for word in text.split():
        if _NUMBER.fullmatch(word):
            n = int(word)
            if n > 0xFFFFFFFF or n < -0xFFFFFFFF:
                raise ValueError(f"number out of range: {word}")
            out += push_int(n)
        elif word.startswith("0x") and len(word) > 2 and _HEX.fullmatch(word[2:]) and len(word) % 2 == 0:
            out += bytes.fromhex(word[2:])
        elif len(word) >= 2 and word[0] == "'" and word[-1] == "'":
            out += push_data_raw(word[1:-1].encode())
        elif word in OPCODES_BY_NAME or ("OP_" + word) in OPCODES_BY_NAME:
            out.append(OPCODES_BY_NAME.get(word, OPCODES_BY_NAME.get("OP_" + word)))
        else:
            raise ValueError(f"script parse error: {word!r}")
    return bytes(out)
