"""JSON text as bitcoind writes it: compact, amounts with 8 decimals, doubles with 16 digits.

Amounts travel as `decimal.Decimal` (`amount()` builds one from satoshis) so that `50.00000000`
stays a JSON number with all its decimals; the stdlib encoder cannot do that.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

from regtest.consensus.transaction import COIN

_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_EIGHT = Decimal("0.00000001")


def amount(sats: int) -> Decimal:
    """Satoshis as a BTC amount with exactly eight decimals."""
    return (Decimal(sats) / COIN).quantize(_EIGHT)


def amount_to_sats(value: Any) -> int:
    """A JSON amount (number or numeric string) in satoshis; ValueError when it is not one."""
    if isinstance(value, bool):
        raise ValueError("Amount is not a number or string")
    if isinstance(value, (int, Decimal, float, str)):
        try:
            d = Decimal(str(value))
        except ArithmeticError:
            raise ValueError("Invalid amount") from None
        if not d.is_finite() or d.as_tuple().exponent < -8:  # type: ignore[operator]
            raise ValueError("Invalid amount")
        sats = d * COIN
        if abs(sats) > 21_000_000 * COIN * 100:
            raise ValueError("Amount out of range")
        return int(sats)
    raise ValueError("Amount is not a number or string")


def _decimal(d: Decimal) -> str:
    """Amounts (8 decimal places) in fixed notation; other numbers as they were written."""
    if d.as_tuple().exponent == -8:  # type: ignore[comparison-overlap]
        return format(d, "f")
    return str(d).replace("E", "e")


def double(v: float) -> float | Decimal:
    """A double as UniValue prints it (16 significant digits, so 2.0 is `2`): a Decimal, which
    every writer here shows as given, when that reproduces Core's text; else (inf, nan) the float."""
    text = "%.16g" % v
    try:
        d = Decimal(text)
    except ArithmeticError:
        return v
    return d if str(d).replace("E", "e") == text else v


def _float(v: float) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        return "null"
    return "%.16g" % v


# Decimals leave the C encoder as marker strings and are put back as bare numbers afterwards.
# The marker starts with a NUL and a per-process random tag, so no client string can forge one.
_MARK = "\x00" + secrets.token_hex(8) + ":"
_MARK_RE = re.compile(re.escape(json.dumps(_MARK)[:-1]) + r'([-+0-9.eE]+)"')


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return _MARK + _decimal(o)
    raise TypeError(f"cannot serialize {type(o).__name__}")


def dumps(obj: Any, indent: int | None = None) -> str:
    """Serialize like UniValue: `indent=None` compact, otherwise pretty with that many spaces."""
    if indent is None:
        try:
            text = json.dumps(obj, default=_default, separators=(",", ":"), allow_nan=False)
        except ValueError:  # NaN/inf somewhere: the slow path writes them as null
            pass
        else:
            return _MARK_RE.sub(r"\1", text) if "\\u0000" in text else text
    out: list[str] = []
    _write(obj, out, indent, 0)
    return "".join(out)


def _write(obj: Any, out: list[str], indent: int | None, level: int) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_encode_str(obj))
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, Decimal):
        out.append(_decimal(obj))
    elif isinstance(obj, float):
        out.append(_float(obj))
    elif isinstance(obj, dict):
        _write_container(list(obj.items()), out, indent, level, "{", "}", True)
    elif isinstance(obj, (list, tuple)):
        _write_container(list(obj), out, indent, level, "[", "]", False)
    else:
        raise TypeError(f"cannot serialize {type(obj).__name__}")


def _write_container(
    items: list, out: list[str], indent: int | None, level: int, op: str, cl: str, keyed: bool
) -> None:
    if not items:
        out.append(op + cl)
        return
    out.append(op)
    sep = ":" if indent is None else ": "
    for i, item in enumerate(items):
        if i:
            out.append(",")
        if indent is not None:
            out.append("\n" + " " * (indent * (level + 1)))
        if keyed:
            out.append(_encode_str(str(item[0])) + sep)
            _write(item[1], out, indent, level + 1)
        else:
            _write(item, out, indent, level + 1)
    if indent is not None:
        out.append("\n" + " " * (indent * level))
    out.append(cl)


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers exact (Decimal), as amounts need."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (UniValue refuses them); neither do we accept them."""
    raise ValueError(f"invalid JSON constant {name}")
