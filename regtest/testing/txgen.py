"""Building signed spends of every standard output type, for differential tests and benchmarks.

A `Case` is one script check: a transaction, the input to verify, the outputs all inputs spend,
and the flags. Builders create the transaction unsigned, compute the sighash the input needs,
sign, then fill in scriptSig and witness (no sighash commits to the input's own unlocking data,
so signing before filling is exact). Both engines then judge the same serialized bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from regtest.consensus.hashes import hash160, sha256, tagged_hash
from regtest.consensus.script import (
    OP_0,
    OP_1,
    OP_CHECKMULTISIG,
    OP_CHECKSIG,
    OP_DUP,
    OP_EQUAL,
    OP_EQUALVERIFY,
    OP_HASH160,
    push_data,
    push_int,
)
from regtest.consensus.serialize import ser_compact_size
from regtest.consensus.transaction import OutPoint, Transaction, TxIn, TxOut
from regtest.testing import sighash_ref
from regtest.testing.keys import N, Key

SIGHASH_DEFAULT = 0x00
SIGHASH_ALL = 0x01
SIGHASH_NONE = 0x02
SIGHASH_SINGLE = 0x03
SIGHASH_ANYONECANPAY = 0x80
#: The six hashtypes every engine must handle (plus taproot's DEFAULT).
STANDARD_HASHTYPES = (0x01, 0x02, 0x03, 0x81, 0x82, 0x83)
TAPROOT_HASHTYPES = (0x00,) + STANDARD_HASHTYPES
TAPROOT_LEAF_TAPSCRIPT = 0xC0


# --- cases ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One input check that both engines must judge alike."""

    tx: Transaction
    index: int
    spent: tuple[TxOut, ...]
    flags: int
    label: str = ""

    def raw(self) -> bytes:
        return self.tx.serialize()

    def describe(self) -> str:
        """A copy-pasteable reproduction: hex tx, input, spent outputs, flags."""
        from regtest.consensus.script_flags import format_flags

        lines = [
            f"case: {self.label}",
            f"tx: {self.raw().hex()}",
            f"input_index: {self.index}",
            "spent_outputs: ["
            + ", ".join(f"({o.value}, '{o.script_pubkey.hex()}')" for o in self.spent)
            + "]",
            f"flags: {self.flags:#x} ({format_flags(self.flags) or 'NONE'})",
            "replay: python -m tests.consensus.differential.harness <tx> <input_index> "
            "\"<spent_outputs>\" <flags>",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class TxShape:
    """Everything about the spending transaction except the tested input's unlocking data."""

    version: int
    locktime: int
    index: int
    sequences: tuple[int, ...]
    outputs: tuple[TxOut, ...]
    other_spent: tuple[TxOut, ...]  # spent outputs of the other inputs, in order
    other_unlock: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()  # their (scriptSig, witness)
    prevout_seed: int = 0

    @property
    def n_inputs(self) -> int:
        return len(self.sequences)


def simple_shape(n_inputs: int = 1, index: int = 0, n_outputs: int = 1, version: int = 2) -> TxShape:
    """A plain shape for benchmarks and examples."""
    return TxShape(
        version=version,
        locktime=0,
        index=index,
        sequences=(0xFFFFFFFF,) * n_inputs,
        outputs=tuple(TxOut(10_000 + i, bytes([0x51])) for i in range(n_outputs)),
        other_spent=tuple(TxOut(50_000 + i, bytes([0x51])) for i in range(n_inputs - 1)),
    )


def _prevout(seed: int, i: int) -> OutPoint:
    return OutPoint(sha256(seed.to_bytes(8, "little", signed=False) + bytes([i])), i % 3)


#: (unsigned tx, spent outputs) -> (scriptSig, witness) of the tested input.
Unlocker = Callable[[Transaction, tuple[TxOut, ...]], tuple[bytes, tuple[bytes, ...]]]


def build_case(
    shape: TxShape, spk: bytes, amount: int, unlock: Unlocker, flags: int, label: str = ""
) -> Case:
    """Assemble the transaction around the tested input and let `unlock` sign it."""
    others = list(shape.other_spent)
    spent = tuple(others[: shape.index] + [TxOut(amount, spk)] + others[shape.index :])
    other_unlock = list(shape.other_unlock) or [(b"", ())] * (shape.n_inputs - 1)
    unlocks = other_unlock[: shape.index] + [(b"", ())] + other_unlock[shape.index :]
    vin = tuple(
        TxIn(_prevout(shape.prevout_seed, i), unlocks[i][0], shape.sequences[i], unlocks[i][1])
        for i in range(shape.n_inputs)
    )
    tx = Transaction(shape.version, vin, shape.outputs, shape.locktime)
    script_sig, witness = unlock(tx, spent)
    vin_list = list(vin)
    vin_list[shape.index] = replace(vin[shape.index], script_sig=script_sig, witness=tuple(witness))
    tx = Transaction(shape.version, tuple(vin_list), shape.outputs, shape.locktime)
    return Case(tx, shape.index, spent, flags, label)


# --- output scripts ---------------------------------------------------------------------
def p2pk_script(pub: bytes) -> bytes:
    return push_data(pub) + bytes([OP_CHECKSIG])


def p2pkh_script(pub: bytes) -> bytes:
    return bytes([OP_DUP, OP_HASH160, 20]) + hash160(pub) + bytes([OP_EQUALVERIFY, OP_CHECKSIG])


def multisig_script(m: int, pubs: Sequence[bytes]) -> bytes:
    return push_int(m) + b"".join(push_data(p) for p in pubs) + push_int(len(pubs)) + bytes(
        [OP_CHECKMULTISIG]
    )


def p2sh_script(redeem: bytes) -> bytes:
    return bytes([OP_HASH160, 20]) + hash160(redeem) + bytes([OP_EQUAL])


def p2wpkh_script(pub: bytes) -> bytes:
    return bytes([OP_0, 20]) + hash160(pub)


def p2wsh_script(witness_script: bytes) -> bytes:
    return bytes([OP_0, 32]) + sha256(witness_script)


def p2tr_script(output_xonly: bytes) -> bytes:
    return bytes([OP_1, 32]) + output_xonly


# --- signing ----------------------------------------------------------------------------
def ecdsa_sig(key: Key, sighash: bytes, hashtype: int) -> bytes:
    return key.sign_ecdsa(sighash) + bytes([hashtype & 0xFF])


def sign_legacy(key: Key, tx: Transaction, index: int, script_code: bytes, hashtype: int) -> bytes:
    return ecdsa_sig(key, sighash_ref.legacy(script_code, tx, index, hashtype), hashtype)


def sign_v0(
    key: Key, tx: Transaction, index: int, script_code: bytes, amount: int, hashtype: int
) -> bytes:
    return ecdsa_sig(key, sighash_ref.segwit_v0(script_code, tx, index, amount, hashtype), hashtype)


def sign_taproot(
    secret: int,
    tx: Transaction,
    index: int,
    spent: Sequence[TxOut],
    hashtype: int,
    annex: bytes | None = None,
    leaf_hash: bytes | None = None,
    codesep_pos: int = 0xFFFFFFFF,
) -> bytes:
    """BIP340 signature, 64 bytes for DEFAULT, else with the hashtype byte appended."""
    msg = sighash_ref.taproot(tx, index, spent, hashtype, annex, leaf_hash, codesep_pos)
    sig = Key(secret).sign_schnorr(msg)
    return sig if hashtype == SIGHASH_DEFAULT else sig + bytes([hashtype])


# --- taproot trees ----------------------------------------------------------------------
def tapleaf_hash(script: bytes, leaf_version: int = TAPROOT_LEAF_TAPSCRIPT) -> bytes:
    return tagged_hash("TapLeaf", bytes([leaf_version]) + ser_compact_size(len(script)) + script)


def tapbranch_hash(a: bytes, b: bytes) -> bytes:
    return tagged_hash("TapBranch", a + b if a < b else b + a)


@dataclass(frozen=True)
class TapOutput:
    """A taproot output: its key, the key-path secret, and per-leaf control blocks."""

    internal: Key
    output_xonly: bytes
    output_parity: int
    tweaked_secret: int
    leaves: tuple[tuple[int, bytes], ...]  # (leaf_version, script)
    control_blocks: tuple[bytes, ...]

    @property
    def script_pubkey(self) -> bytes:
        return p2tr_script(self.output_xonly)


def _tree(leaf_hashes: list[bytes], shape: int) -> tuple[bytes, list[list[bytes]]]:
    """Merkle root and, per leaf, its path; `shape` picks the split points (any binary tree)."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0], [[]]
    split = 1 + shape % (len(leaf_hashes) - 1)
    left_root, left_paths = _tree(leaf_hashes[:split], shape // 7 + 1)
    right_root, right_paths = _tree(leaf_hashes[split:], shape // 5 + 3)
    paths = [p + [right_root] for p in left_paths] + [p + [left_root] for p in right_paths]
    return tapbranch_hash(left_root, right_root), paths


def taproot_output(
    internal: Key, leaves: Sequence[tuple[int, bytes]] = (), tree_shape: int = 0
) -> TapOutput:
    """Tweak `internal` with the tree of `leaves` (BIP341), keeping the tweaked secret too."""
    if leaves:
        root, paths = _tree([tapleaf_hash(s, v) for v, s in leaves], tree_shape)
        tweak_data = internal.xonly + root
    else:
        paths = []
        tweak_data = internal.xonly
    t = int.from_bytes(tagged_hash("TapTweak", tweak_data), "big")
    d = internal.secret if not internal.y_is_odd else N - internal.secret
    tweaked = (d + t) % N
    out = Key(tweaked)
    parity = 1 if out.y_is_odd else 0
    cbs = tuple(
        bytes([(v & 0xFE) | parity]) + internal.xonly + b"".join(path)
        for (v, _s), path in zip(leaves, paths)
    )
    return TapOutput(internal, out.xonly, parity, tweaked, tuple(leaves), cbs)


def taproot_output_from_path(
    internal: Key, script: bytes, path: Sequence[bytes], leaf_version: int = TAPROOT_LEAF_TAPSCRIPT
) -> TapOutput:
    """A taproot output whose tree is given only by one leaf and its merkle path (any depth,
    even beyond BIP341's 128 limit), for control-block edge cases."""
    node = tapleaf_hash(script, leaf_version)
    for sibling in path:
        node = tapbranch_hash(node, sibling)
    t = int.from_bytes(tagged_hash("TapTweak", internal.xonly + node), "big")
    d = internal.secret if not internal.y_is_odd else N - internal.secret
    out = Key((d + t) % N)
    parity = 1 if out.y_is_odd else 0
    cb = bytes([(leaf_version & 0xFE) | parity]) + internal.xonly + b"".join(path)
    return TapOutput(internal, out.xonly, parity, out.secret, ((leaf_version, script),), (cb,))


# --- standard spends (used by the benchmark and as the differential baseline) -----------
#: (unsigned tx, spent outputs, input index) -> (scriptSig, witness)
IndexedUnlocker = Callable[[Transaction, tuple[TxOut, ...], int], tuple[bytes, tuple[bytes, ...]]]


@dataclass(frozen=True)
class InputSpec:
    """One coin to spend: its output script, amount, and how to unlock it at any index."""

    kind: str
    script_pubkey: bytes
    amount: int
    unlock: IndexedUnlocker


def p2pkh_input(key: Key, hashtype: int = SIGHASH_ALL, amount: int = 100_000) -> InputSpec:
    spk = p2pkh_script(key.pub)

    def unlock(tx: Transaction, spent: tuple[TxOut, ...], i: int) -> tuple[bytes, tuple[bytes, ...]]:
        return push_data(sign_legacy(key, tx, i, spk, hashtype)) + push_data(key.pub), ()

    return InputSpec("p2pkh", spk, amount, unlock)


def p2wpkh_input(key: Key, hashtype: int = SIGHASH_ALL, amount: int = 100_000) -> InputSpec:
    code = p2pkh_script(key.pub)

    def unlock(tx: Transaction, spent: tuple[TxOut, ...], i: int) -> tuple[bytes, tuple[bytes, ...]]:
        return b"", (sign_v0(key, tx, i, code, amount, hashtype), key.pub)

    return InputSpec("p2wpkh", p2wpkh_script(key.pub), amount, unlock)


def p2sh_multisig_input(
    keys: Sequence[Key], m: int, hashtype: int = SIGHASH_ALL, amount: int = 100_000
) -> InputSpec:
    redeem = multisig_script(m, [k.pub for k in keys])

    def unlock(tx: Transaction, spent: tuple[TxOut, ...], i: int) -> tuple[bytes, tuple[bytes, ...]]:
        sigs = [sign_legacy(k, tx, i, redeem, hashtype) for k in keys[:m]]
        return bytes([OP_0]) + b"".join(push_data(s) for s in sigs) + push_data(redeem), ()

    return InputSpec(f"p2sh-multisig-{m}of{len(keys)}", p2sh_script(redeem), amount, unlock)


def p2tr_key_input(key: Key, hashtype: int = SIGHASH_DEFAULT, amount: int = 100_000) -> InputSpec:
    out = taproot_output(key)

    def unlock(tx: Transaction, spent: tuple[TxOut, ...], i: int) -> tuple[bytes, tuple[bytes, ...]]:
        return b"", (sign_taproot(out.tweaked_secret, tx, i, spent, hashtype),)

    return InputSpec("p2tr-key", out.script_pubkey, amount, unlock)


def p2tr_script_input(
    internal: Key, leaf_key: Key, n_other_leaves: int = 3, amount: int = 100_000
) -> InputSpec:
    """Script path through a `<x> OP_CHECKSIG` leaf among a few others."""
    leaf = push_data(leaf_key.xonly) + bytes([OP_CHECKSIG])
    leaves = [(TAPROOT_LEAF_TAPSCRIPT, leaf)] + [
        (TAPROOT_LEAF_TAPSCRIPT, push_int(i + 1) + bytes([OP_EQUAL])) for i in range(n_other_leaves)
    ]
    out = taproot_output(internal, leaves)
    lh = tapleaf_hash(leaf)

    def unlock(tx: Transaction, spent: tuple[TxOut, ...], i: int) -> tuple[bytes, tuple[bytes, ...]]:
        sig = sign_taproot(leaf_key.secret, tx, i, spent, SIGHASH_DEFAULT, leaf_hash=lh)
        return b"", (sig, leaf, out.control_blocks[0])

    return InputSpec("p2tr-script", out.script_pubkey, amount, unlock)


def build_signed_tx(
    inputs: Sequence[InputSpec],
    outputs: Sequence[TxOut],
    version: int = 2,
    locktime: int = 0,
    seed: int = 0,
) -> tuple[Transaction, tuple[TxOut, ...]]:
    """A transaction spending every coin in `inputs`, each input signed; with its spent outputs."""
    spent = tuple(TxOut(s.amount, s.script_pubkey) for s in inputs)
    vin = [TxIn(_prevout(seed, i), b"", 0xFFFFFFFF - (i & 1)) for i in range(len(inputs))]
    unsigned = Transaction(version, tuple(vin), tuple(outputs), locktime)
    for i, spec in enumerate(inputs):
        script_sig, witness = spec.unlock(unsigned, spent, i)
        vin[i] = replace(vin[i], script_sig=script_sig, witness=tuple(witness))
    return Transaction(version, tuple(vin), tuple(outputs), locktime), spent


def _single(shape: TxShape, spec: InputSpec, flags: int) -> Case:
    return build_case(
        shape,
        spec.script_pubkey,
        spec.amount,
        lambda tx, spent: spec.unlock(tx, spent, shape.index),
        flags,
        spec.kind,
    )


def spend_p2pkh(shape: TxShape, key: Key, flags: int, hashtype: int = SIGHASH_ALL, amount: int = 100_000) -> Case:
    return _single(shape, p2pkh_input(key, hashtype, amount), flags)


def spend_p2wpkh(shape: TxShape, key: Key, flags: int, hashtype: int = SIGHASH_ALL, amount: int = 100_000) -> Case:
    return _single(shape, p2wpkh_input(key, hashtype, amount), flags)


def spend_p2sh_multisig(
    shape: TxShape, keys: Sequence[Key], m: int, flags: int, hashtype: int = SIGHASH_ALL, amount: int = 100_000
) -> Case:
    return _single(shape, p2sh_multisig_input(keys, m, hashtype, amount), flags)


def spend_p2tr_key(shape: TxShape, key: Key, flags: int, hashtype: int = SIGHASH_DEFAULT, amount: int = 100_000) -> Case:
    return _single(shape, p2tr_key_input(key, hashtype, amount), flags)


def spend_p2tr_script_checksig(
    shape: TxShape, internal: Key, leaf_key: Key, flags: int, n_other_leaves: int = 3, amount: int = 100_000
) -> Case:
    return _single(shape, p2tr_script_input(internal, leaf_key, n_other_leaves, amount), flags)
