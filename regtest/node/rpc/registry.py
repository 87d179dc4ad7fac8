"""The RPC method table: argument specs with Core's names, named-argument mapping, Core's type
and arity errors, and help text.

Method modules register with the `rpc_method` decorator on the module-level `REGISTRY`; any
module under `regtest/node/rpc/methods/` is imported by `load_all_methods()`, so another
component (mempool, mining) adds its calls by dropping a file there.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from regtest.node.rpc import jsonfmt
from regtest.node.rpc.errors import RPCError, RPCErrorCode


class ArgType(Enum):
    """Core's RPCArg types; the value is the name help shows."""

    STR = "string"
    STR_HEX = "string (hex)"
    NUM = "numeric"
    AMOUNT = "numeric or string"
    BOOL = "boolean"
    OBJ = "json object"
    ARR = "json array"
    ANY = "any"


_EXPECTED_JSON = {
    "STR": "string", "STR_HEX": "string", "NUM": "number", "BOOL": "bool", "OBJ": "object",
    "ARR": "array",
}


def json_type_name(value: Any) -> str:
    """UniValue's type names, used in Core's type-error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "unknown"


def type_mismatch(value: Any, expected: str) -> str:
    return f"JSON value of type {json_type_name(value)} is not of expected type {expected}"


@dataclass(frozen=True)
class Arg:
    """One positional argument; `names` may list aliases as `"verbosity|verbose"`."""

    names: str
    type: Any  # ArgType
    description: str
    optional: bool = False
    default: Any = None
    default_hint: str | None = None  # how help shows the default, when not str(default)
    type_str: str | None = None  # set when the method checks the type itself (Core's type_str)

    @property
    def name(self) -> str:
        return self.names.split("|")[0]

    def type_error(self, value: Any) -> str | None:
        """Core's MatchesType: None when `value` fits, else the mismatch text."""
        if self.type_str is not None or self.type.name == "ANY":
            return None
        if value is None and self.optional:
            return None
        kind = json_type_name(value)
        tname = self.type.name
        if tname == "AMOUNT":
            return None if kind in ("number", "string") else type_mismatch(value, "number")
        expected = _EXPECTED_JSON[tname]
        return None if kind == expected else type_mismatch(value, expected)


Handler = Callable[[Any, "Params"], Any]


@dataclass
class Method:
    name: str
    category: str
    description: str
    args: tuple[Arg, ...]
    result: str
    handler: Handler
    examples: tuple[str, ...] = ()
    hidden: bool = False
    help_override: str | None = None  # the whole help text, for stubs of removed calls

    def signature(self) -> str:
        required, optional = [], []
        for a in self.args:
            shown = f'"{a.name}"' if a.type.name in ("STR", "STR_HEX") else a.name
            (optional if a.optional else required).append(shown)
        line = " ".join([self.name] + required)
        if optional:
            line += " ( " + " ".join(optional) + " )"
        return line

    def help_text(self) -> str:
        if self.help_override is not None:
            return self.help_override
        parts = [self.signature(), "", self.description.strip(), ""]
        if self.args:
            parts.append("Arguments:")
            for i, a in enumerate(self.args, 1):
                tname = a.type_str or ("string" if a.type is ArgType.STR_HEX else a.type.value)
                if a.optional:
                    hint = a.default_hint
                    if hint is None and a.default is not None:
                        hint = jsonfmt.dumps(a.default)
                    req = f"optional, default={hint}" if hint is not None else "optional"
                else:
                    req = "required"
                parts.append(f"{i}. {a.name:<20} ({tname}, {req}) {a.description}")
            parts.append("")
        parts += ["Result:", self.result.strip(), ""]
        if self.examples:
            parts.append("Examples:")
            parts += [f"> potc-cli {self.name} {e}".rstrip() for e in self.examples]
            parts.append("")
        return "\n".join(parts).rstrip("\n") + "\n"

    def valid_arity(self, n: int) -> bool:
        required = 0
        for i, a in enumerate(self.args):
            if not a.optional:
                required = i + 1
        return required <= n <= len(self.args)


class Params:
    """The positional arguments of one call, with Core's conversions and errors."""

    def __init__(self, method: Method, values: list[Any]) -> None:
        self._method = method
        self._values = values
        self._index = {}
        for i, a in enumerate(method.args):
            for n in a.names.split("|"):
                self._index[n] = i

    def __len__(self) -> int:
        return len(self._values)

    def raw(self, name: str) -> Any:
        """The value as sent, or None when omitted or null."""
        i = self._index[name]
        return self._values[i] if i < len(self._values) else None

    def given(self, name: str) -> bool:
        return self.raw(name) is not None

    def get(self, name: str) -> Any:
        v = self.raw(name)
        return self._method.args[self._index[name]].default if v is None else v

    def int(self, name: str) -> int:
        return as_int(self.get(name))

    def bool(self, name: str) -> bool:
        v = self.get(name)
        if not isinstance(v, bool):
            raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(v, "bool"))
        return v

    def str(self, name: str) -> str:
        v = self.get(name)
        if not isinstance(v, str):
            raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(v, "string"))
        return v

    def hash(self, name: str) -> bytes:
        """A 64-hex hash argument, returned in internal byte order (Core's ParseHashV)."""
        return parse_hash(self.get(name), name)

    def hex(self, name: str, label: str | None = None) -> bytes:
        return parse_hex(self.get(name), label or name)


def as_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float)):
        raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(v, "number"))
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise RPCError(RPCErrorCode.MISC_ERROR, "JSON integer out of range")
        return v
    raise RPCError(RPCErrorCode.MISC_ERROR, "JSON integer out of range")


def _is_hex(s: str) -> bool:
    if len(s) % 2:
        return False
    try:
        bytes.fromhex(s)
    except ValueError:
        return False
    return all(c in "0123456789abcdefABCDEF" for c in s)


def parse_hex(v: Any, label: str) -> bytes:
    if not isinstance(v, str):
        raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(v, "string"))
    if not _is_hex(v):
        raise RPCError(
            RPCErrorCode.INVALID_PARAMETER, f"{label} must be hexadecimal string (not '{v}')"
        )
    return bytes.fromhex(v)


def parse_hash(v: Any, label: str) -> bytes:
    if not isinstance(v, str):
        raise RPCError(RPCErrorCode.TYPE_ERROR, type_mismatch(v, "string"))
    if len(v) != 64:
        raise RPCError(
            RPCErrorCode.INVALID_PARAMETER, f"{label} must be of length 64 (not {len(v)}, for '{v}')"
        )
    if not _is_hex(v):
        raise RPCError(
            RPCErrorCode.INVALID_PARAMETER, f"{label} must be hexadecimal string (not '{v}')"
        )
    return bytes.fromhex(v)[::-1]


@dataclass
class Registry:
    methods: dict[str, Method] = field(default_factory=dict)

    def add(self, method: Method) -> None:
        if method.name in self.methods:
            raise ValueError(f"RPC method {method.name} registered twice")
        self.methods[method.name] = method

    def get(self, name: str) -> Method | None:
        return self.methods.get(name)

    def overview(self) -> str:
        """`help` with no argument: visible methods grouped by category."""
        groups: dict[str, list[Method]] = {}
        for m in self.methods.values():
            if not m.hidden:
                groups.setdefault(m.category, []).append(m)
        chunks = []
        for cat in sorted(groups):
            lines = [f"== {cat} =="] + [m.signature() for m in sorted(groups[cat], key=lambda m: m.name)]
            chunks.append("\n".join(lines))
        return "\n\n".join(chunks)

    def positional(self, method: Method, params: Any) -> list[Any]:
        """Map `params` (array or object) to positional values, as Core's transformNamedArguments."""
        if isinstance(params, list):
            return params
        index: dict[str, int] = {}
        for i, a in enumerate(method.args):
            for n in a.names.split("|"):
                index[n] = i
        values: list[Any] = []
        positional_args = params.get("args")
        if "args" in params and "args" not in index:
            if not isinstance(positional_args, list):
                raise RPCError(RPCErrorCode.INVALID_PARAMETER, "Parameter args must be an array")
            values = list(positional_args)
        filled: dict[int, str] = {}
        for key, value in params.items():
            if key == "args" and "args" not in index:
                continue
            if key not in index:
                raise RPCError(RPCErrorCode.INVALID_PARAMETER, f"Unknown named parameter {key}")
            pos = index[key]
            if pos in filled:
                raise RPCError(
                    RPCErrorCode.INVALID_PARAMETER, f"Parameter {key} specified multiple times"
                )
            if pos < len(values):
                raise RPCError(
                    RPCErrorCode.INVALID_PARAMETER,
                    f"Parameter {key} specified twice both as positional and named argument",
                )
            filled[pos] = key
        for pos, key in sorted(filled.items()):
            while len(values) <= pos:
                values.append(None)
            values[pos] = params[key]
        while values and values[-1] is None and len(values) - 1 in filled:
            values.pop()
        return values

    def check(self, method: Method, values: list[Any]) -> Params:
        """Arity (-1 with the help text) and argument types (-3 "Wrong type passed")."""
        if not method.valid_arity(len(values)):
            raise RPCError(RPCErrorCode.MISC_ERROR, method.help_text())
        mismatches = {}
        for i, (arg, value) in enumerate(zip(method.args, values)):
            err = arg.type_error(value)
            if err is not None:
                mismatches[f"Position {i + 1} ({arg.names})"] = err
        if mismatches:
            raise RPCError(
                RPCErrorCode.TYPE_ERROR, "Wrong type passed:\n" + jsonfmt.dumps(mismatches, indent=4)
            )
        return Params(method, values)


REGISTRY = Registry()


def rpc_method(
    name: str,
    category: str,
    description: str,
    args: tuple[Arg, ...] | list[Arg] = (),
    result: str = "null",
    examples: tuple[str, ...] = (),
    hidden: bool = False,
    registry: Registry | None = None,
    help_override: str | None = None,
) -> Callable[[Handler], Handler]:
    """Register `fn(ctx, params)` (plain or async) as RPC method `name`."""

    def wrap(fn: Handler) -> Handler:
        (registry or REGISTRY).add(
            Method(name, category, description, tuple(args), result, fn, examples, hidden,
                   help_override)
        )
        return fn

    return wrap


def load_all_methods() -> Registry:
    """Import every module in regtest.node.rpc.methods so that their decorators run."""
    import regtest.node.rpc.methods as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    return REGISTRY
