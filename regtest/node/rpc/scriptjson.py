"""Scripts and transactions as Core's RPC shows them: asm text, inferred descriptors with
checksum, `scriptPubKey` objects and the decoded-transaction object (TxToUniv)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import coincurve

from regtest.consensus.address import (
    AddressPrefixes,
    classify,
    p2sh_script,
    script_to_address,
    witness_script,
)
from regtest.consensus.crypto import is_valid_signature_encoding
from regtest.consensus.hashes import hash160, hash_to_hex, sha256
from regtest.consensus.transaction import Transaction
from regtest.node.rpc.jsonfmt import amount

# --- opcode names (Core's GetOpName) -----------------------------------------------------
_NAMES: dict[int, str] = {0x00: "0", 0x4C: "OP_PUSHDATA1", 0x4D: "OP_PUSHDATA2", 0x4E: "OP_PUSHDATA4",
                          0x4F: "-1", 0x50: "OP_RESERVED"}
for _i in range(1, 17):
    _NAMES[0x50 + _i] = str(_i)
for _code, _name in enumerate(
    "NOP VER IF NOTIF VERIF VERNOTIF ELSE ENDIF VERIFY RETURN TOALTSTACK FROMALTSTACK 2DROP 2DUP "
    "3DUP 2OVER 2ROT 2SWAP IFDUP DEPTH DROP DUP NIP OVER PICK ROLL ROT SWAP TUCK CAT SUBSTR LEFT "
    "RIGHT SIZE INVERT AND OR XOR EQUAL EQUALVERIFY RESERVED1 RESERVED2 1ADD 1SUB 2MUL 2DIV NEGATE "
    "ABS NOT 0NOTEQUAL ADD SUB MUL DIV MOD LSHIFT RSHIFT BOOLAND BOOLOR NUMEQUAL NUMEQUALVERIFY "
    "NUMNOTEQUAL LESSTHAN GREATERTHAN LESSTHANOREQUAL GREATERTHANOREQUAL MIN MAX WITHIN RIPEMD160 "
    "SHA1 SHA256 HASH160 HASH256 CODESEPARATOR CHECKSIG CHECKSIGVERIFY CHECKMULTISIG "
    "CHECKMULTISIGVERIFY NOP1 CHECKLOCKTIMEVERIFY CHECKSEQUENCEVERIFY NOP4 NOP5 NOP6 NOP7 NOP8 "
    "NOP9 NOP10 CHECKSIGADD".split(),
    start=0x61,
):
    _NAMES[_code] = "OP_" + _name
_NAMES[0xFF] = "OP_INVALIDOPCODE"

_SIGHASH_NAMES = {1: "ALL", 2: "NONE", 3: "SINGLE", 0x81: "ALL|ANYONECANPAY",
                  0x82: "NONE|ANYONECANPAY", 0x83: "SINGLE|ANYONECANPAY"}


def op_name(op: int) -> str:
    return _NAMES.get(op, "OP_UNKNOWN")


def _script_num(data: bytes) -> int:
    if not data:
        return 0
    v = int.from_bytes(data, "little")
    if data[-1] & 0x80:
        return -(v & ~(0x80 << (8 * (len(data) - 1))))
    return v


def script_to_asm(script: bytes, sighash_decode: bool = False) -> str:
    """Core's ScriptToAsmStr: small pushes as numbers, others hex, opcodes by name."""
    out: list[str] = []
    pc, n = 0, len(script)
    unspendable = bool(script) and (script[0] == 0x6A or n > 10_000)
    while pc < n:
        op = script[pc]
        pc += 1
        if op <= 0x4E:
            if op < 0x4C:
                size = op
            else:
                width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
                if pc + width > n:
                    out.append("[error]")
                    break
                size = int.from_bytes(script[pc : pc + width], "little")
                pc += width
            if pc + size > n:
                out.append("[error]")
                break
            data = script[pc : pc + size]
            pc += size
            if size <= 4:
                out.append(str(_script_num(data)))
            elif sighash_decode and not unspendable and is_valid_signature_encoding(data) and data[-1] in _SIGHASH_NAMES:
                out.append(data[:-1].hex() + f"[{_SIGHASH_NAMES[data[-1]]}]")
            else:
                out.append(data.hex())
        else:
            out.append(op_name(op))
    return " ".join(out)


# --- descriptors (BIP380 checksum) -----------------------------------------------------------
_INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
)
_CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_DESC_GEN = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)


_DESC_TABLE = [0] * 32
for _top in range(32):
    for _i in range(5):
        if (_top >> _i) & 1:
            _DESC_TABLE[_top] ^= _DESC_GEN[_i]
_CHAR_VALUE = {c: i for i, c in enumerate(_INPUT_CHARSET)}


def _desc_polymod(symbols: list[int]) -> int:
    chk = 1
    table = _DESC_TABLE
    for value in symbols:
        chk = (((chk & 0x7FFFFFFFF) << 5) ^ value) ^ table[chk >> 35]
    return chk


def descriptor_checksum(desc: str) -> str:
    symbols: list[int] = []
    groups: list[int] = []
    for c in desc:
        v = _CHAR_VALUE[c]
        symbols.append(v & 31)
        groups.append(v >> 5)
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    pm = _desc_polymod(symbols + [0] * 8) ^ 1
    return "".join(_CHECKSUM_CHARSET[(pm >> (5 * (7 - i))) & 31] for i in range(8))


def with_checksum(desc: str) -> str:
    return f"{desc}#{descriptor_checksum(desc)}"


def _valid_pubkey(key: bytes) -> bool:
    try:
        coincurve.PublicKey(key)
        return True
    except (ValueError, TypeError):
        return False


def _valid_xonly(key: bytes) -> bool:
    try:
        coincurve.PublicKeyXOnly(key)
        return True
    except (ValueError, TypeError):
        return False


def infer_descriptor(
    script: bytes, prefixes: AddressPrefixes, inner: bytes | None = None, address: str | None = None
) -> str:
    """Core's InferDescriptor with no keys known (plus the inner script of a P2WSH if given);
    `address` saves recomputing the script's address when the caller has it."""
    info = classify(script)
    if info.type == "pubkey" and _valid_pubkey(info.solutions[0]):
        return with_checksum(f"pk({info.solutions[0].hex()})")
    if info.type == "multisig" and all(_valid_pubkey(k) for k in info.solutions):
        keys = ",".join(k.hex() for k in info.solutions)
        return with_checksum(f"multi({info.required},{keys})")
    if info.type == "witness_v1_taproot" and _valid_xonly(info.solutions[0]):
        return with_checksum(f"rawtr({info.solutions[0].hex()})")
    if info.type == "witness_v0_scripthash" and inner is not None:
        ii = classify(inner)
        if ii.type == "multisig" and all(len(k) == 33 and _valid_pubkey(k) for k in ii.solutions):
            keys = ",".join(k.hex() for k in ii.solutions)
            return with_checksum(f"wsh(multi({ii.required},{keys}))")
    if address is None:
        address = script_to_address(script, prefixes)
    if address is not None:
        return with_checksum(f"addr({address})")
    return with_checksum(f"raw({script.hex()})")


@lru_cache(maxsize=8192)
def _script_pubkey_json(script: bytes, prefixes: AddressPrefixes) -> tuple[tuple[str, Any], ...]:
    address = script_to_address(script, prefixes)
    items: list[tuple[str, Any]] = [
        ("asm", script_to_asm(script)),
        ("desc", infer_descriptor(script, prefixes, address=address)),
        ("hex", script.hex()),
    ]
    if address is not None:
        items.append(("address", address))
    items.append(("type", classify(script).type))
    return tuple(items)


def script_pubkey_json(script: bytes, prefixes: AddressPrefixes, include_hex: bool = True) -> dict:
    """Core's ScriptToUniv: asm, desc, hex, address?, type (cached: chains reuse scripts)."""
    if len(script) > 10_000:  # never cache huge scripts
        return dict(_script_pubkey_json.__wrapped__(script, prefixes))
    out = dict(_script_pubkey_json(script, prefixes))
    if not include_hex:
        del out["hex"]
    return out


def _has_valid_ops(script: bytes) -> tuple[bool, list[int]]:
    ops, pc, n = [], 0, len(script)
    while pc < n:
        op = script[pc]
        pc += 1
        if op <= 0x4E:
            size = op
            if op >= 0x4C:
                width = {0x4C: 1, 0x4D: 2, 0x4E: 4}[op]
                if pc + width > n:
                    return False, ops
                size = int.from_bytes(script[pc : pc + width], "little")
                pc += width
            if pc + size > n:
                return False, ops
            pc += size
        elif op > 0xBA:  # beyond the last defined opcode (OP_CHECKSIGADD)
            return False, ops
        ops.append(op)
    return True, ops


def _is_op_success(op: int) -> bool:
    return op in (80, 98) or 126 <= op <= 129 or 131 <= op <= 134 or 137 <= op <= 138 \
        or 141 <= op <= 142 or 149 <= op <= 153 or 187 <= op <= 254


def decode_script(script: bytes, prefixes: AddressPrefixes) -> dict:
    """The decodescript result: asm, desc, address?, type, p2sh?, segwit?."""
    info = classify(script)
    out = script_pubkey_json(script, prefixes, include_hex=False)
    if info.type in ("nulldata", "scripthash", "witness_unknown", "witness_v1_taproot", "anchor"):
        return out
    valid, ops = _has_valid_ops(script)
    unspendable = bool(script) and (script[0] == 0x6A or len(script) > 10_000)
    if not valid or unspendable or any(op == 0xBA or _is_op_success(op) for op in ops):
        return out
    out["p2sh"] = script_to_address(p2sh_script(hash160(script)), prefixes)
    if info.type in ("multisig", "pubkey"):
        if any(len(k) != 33 for k in info.solutions):
            return out
    elif info.type not in ("nonstandard", "pubkeyhash"):
        return out
    inner: bytes | None = None
    if info.type == "pubkey":
        seg = witness_script(0, hash160(info.solutions[0]))
    elif info.type == "pubkeyhash":
        seg = witness_script(0, info.solutions[0])
    else:
        seg, inner = witness_script(0, sha256(script)), script
    sw = {"asm": script_to_asm(seg), "desc": infer_descriptor(seg, prefixes, inner), "hex": seg.hex()}
    address = script_to_address(seg, prefixes)
    if address is not None:
        sw["address"] = address
    sw["type"] = classify(seg).type
    sw["p2sh-segwit"] = script_to_address(p2sh_script(hash160(seg)), prefixes)
    out["segwit"] = sw
    return out


def tx_to_json(
    tx: Transaction,
    prefixes: AddressPrefixes,
    include_hex: bool = False,
    spent: dict | None = None,
    with_prevout: bool = False,
) -> dict:
    """Core's TxToUniv: txid, hash, version, size, vsize, weight, locktime, vin, vout, and with
    undo data (`spent`: outpoint -> Coin of every input) the `fee` and optionally `vin[].prevout`."""
    have_undo = spent is not None and not tx.is_coinbase() and all(i.prevout in spent for i in tx.vin)
    value_in = 0
    vin = []
    for txin in tx.vin:
        if tx.is_coinbase():
            entry: dict[str, Any] = {"coinbase": txin.script_sig.hex()}
        else:
            entry = {
                "txid": hash_to_hex(txin.prevout.txid),
                "vout": txin.prevout.n,
                "scriptSig": {"asm": script_to_asm(txin.script_sig, True), "hex": txin.script_sig.hex()},
            }
        if txin.witness:
            entry["txinwitness"] = [w.hex() for w in txin.witness]
        if have_undo:
            coin = spent[txin.prevout]  # type: ignore[index]
            value_in += coin.value
            if with_prevout:
                entry["prevout"] = {
                    "generated": bool(coin.is_coinbase),
                    "height": coin.height,
                    "value": amount(coin.value),
                    "scriptPubKey": script_pubkey_json(coin.script_pubkey, prefixes),
                }
        entry["sequence"] = txin.sequence
        vin.append(entry)
    vout = [
        {"value": amount(o.value), "n": i, "scriptPubKey": script_pubkey_json(o.script_pubkey, prefixes)}
        for i, o in enumerate(tx.vout)
    ]
    out: dict[str, Any] = {
        "txid": tx.txid_hex,
        "hash": tx.wtxid_hex,
        "version": _signed32(tx.version),
        "size": tx.total_size,
        "vsize": tx.vsize,
        "weight": tx.weight,
        "locktime": tx.locktime,
        "vin": vin,
        "vout": vout,
    }
    if have_undo:
        out["fee"] = amount(value_in - sum(o.value for o in tx.vout))
    if include_hex:
        out["hex"] = tx.serialize().hex()
    return out


def _signed32(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v
