"""Kubernetes resource quantities (``k8s.io/apimachinery/pkg/api/resource``), parsed the way the API does.

A pod's ``cpu: 500m`` and ``memory: 128Mi`` decide Docker's CPU shares, CFS quota and memory limit, and the
QoS class. Getting one suffix wrong (``M`` vs ``Mi``, ``m`` vs ``M``) silently gives a container a thousand
times too much or too little, so this follows ``quantity.go`` exactly rather than "close enough":

* suffixes are case-sensitive: ``n u m "" k M G T P E``, ``Ki Mi Gi Ti Pi Ei``, or a decimal exponent
  ``e3`` / ``E-2``; ``K``, ``mi`` or ``KB`` are errors;
* any non-zero value is rounded *away from zero* to nano precision, because "if you want some resources,
  you should get some resources";
* a binary-suffixed (``Ki``...) amount is capped at the int64 maximum, as upstream does;
* canonical printing (:func:`format_quantity`) keeps the format the user wrote (binary, decimal,
  exponent), as ``kubectl`` shows it.

Two deliberate guards upstream does not have: input longer than :data:`MAX_QUANTITY_LENGTH` characters is
refused (it can only be a mistake and it keeps the arithmetic cheap), and the integer accessors refuse
values outside int64 instead of overflowing silently as Go does.
"""

from __future__ import annotations

import math
import re
from decimal import MAX_EMAX, MIN_EMIN, ROUND_UP, Context, Decimal
from typing import Final

__all__ = ["MAX_QUANTITY_LENGTH", "cpu_millis", "format_quantity", "memory_bytes", "parse_quantity"]

MAX_QUANTITY_LENGTH: Final = 1024

BINARY_SI: Final = "BinarySI"
DECIMAL_SI: Final = "DecimalSI"
DECIMAL_EXPONENT: Final = "DecimalExponent"

# The regular expression upstream quotes in its own error message (ErrFormatWrong).
_SPLIT_RE_STRING: Final = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_FORMAT_WRONG: Final = f"quantities must match the regular expression '{_SPLIT_RE_STRING}'"
_QUANTITY = re.compile(r"([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)([eEinumkKMGTP]*[-+]?[0-9]*)", re.ASCII)

_DECIMAL_SUFFIXES: Final = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT: Final = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MAX: Final = Decimal(2**63 - 1)
_NANO: Final = Decimal("1e-9")
# For arithmetic on parsed amounts: every amount that fits int64 has at most 28 significant digits, and
# the exponent range is unbounded like inf.Dec's so a huge exponent is reported, never trapped.
_WIDE: Final = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact amount a quantity denotes (``"1.5Gi"`` -> ``Decimal(1610612736)``).

    YAML hands over bare numbers (``cpu: 1``, ``cpu: 0.5``) as int/float; the API decodes those from their
    JSON text, so they are parsed from their text too. Raises :class:`ValueError` saying what is wrong.
    """
    return _parse(value)[0]


def cpu_millis(value: str | int | float) -> int:
    """``MilliValue()``: millicores, rounded away from zero (``"0.1m"`` -> 1, ``"100u"`` -> 1)."""
    return _to_int(parse_quantity(value).scaleb(3, context=_WIDE))


def memory_bytes(value: str | int | float) -> int:
    """``Value()``: whole bytes, rounded away from zero (``"200Mi"`` -> 209715200)."""
    return _to_int(parse_quantity(value))


def format_quantity(value: str | int | float) -> str:
    """The canonical text ``kubectl`` prints (``"1.5Gi"`` -> ``"1536Mi"``, ``"0.5"`` -> ``"500m"``)."""
    amount, fmt = _parse(value)
    if amount == 0:
        return "0"
    if fmt == BINARY_SI and (amount.copy_abs() < 1024 or amount != amount.to_integral_value(context=_WIDE)):
        fmt = DECIMAL_SI  # "don't lose precision": fractions and small values print as DecimalSI
    if fmt == BINARY_SI:
        return _format_binary(int(amount))
    return _format_decimal(amount, fmt)


def _parse(value: str | int | float) -> tuple[Decimal, str]:
    text = _as_text(value)
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(_FORMAT_WRONG)
    sign, number, suffix = match.groups()
    base, exponent, fmt = _interpret_suffix(suffix)
    # Enough digits that every step below is exact; the exponent range is unbounded like inf.Dec's.
    ctx = Context(prec=len(text) + 40, Emax=MAX_EMAX, Emin=MIN_EMIN)
    number_value = Decimal(number)
    amount = ctx.scaleb(number_value, exponent) if base == 10 else ctx.multiply(number_value, 2**exponent)
    scale = amount.as_tuple().exponent
    if isinstance(scale, int) and scale < -9:
        amount = amount.quantize(_NANO, rounding=ROUND_UP, context=ctx)
    if fmt == BINARY_SI and amount > _INT64_MAX:
        amount = _INT64_MAX
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI
    return (amount.copy_negate() if sign == "-" else amount), fmt


def _as_text(value: str | int | float) -> str:
    """The text the API parses: a JSON number's literal, or the string with surrounding blanks trimmed."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"a quantity must be a string or a number, not {type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a quantity must be a finite number, not {value}")
        return repr(value)
    text = str(value).strip()
    if len(text) > MAX_QUANTITY_LENGTH:
        raise ValueError(f"a quantity must be at most {MAX_QUANTITY_LENGTH} characters long")
    return text


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """``suffixer.interpret``: (base, exponent, format) of one suffix."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:])
        except ValueError:
            exponent = None
        if exponent is not None and _INT32_MIN <= exponent <= _INT32_MAX:
            return 10, exponent, DECIMAL_EXPONENT
    raise ValueError(
        f"unable to parse quantity's suffix {suffix!r}: suffixes are case-sensitive "
        "(n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent such as e3)"
    )


def _format_binary(amount: int) -> str:
    power = 0
    while amount % 1024 == 0 and power < len(_BINARY_BY_POWER) - 1:
        amount //= 1024
        power += 1
    return f"{amount}{_BINARY_BY_POWER[power]}"


def _format_decimal(amount: Decimal, fmt: str) -> str:
    """Mantissa and an exponent that is a multiple of 3, as large as possible without a fraction."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    coefficient = "".join(map(str, digits)).rstrip("0")
    exponent += len(digits) - len(coefficient)
    shift = exponent % 3
    mantissa = coefficient + "0" * shift
    exponent -= shift
    if fmt == DECIMAL_SI and exponent in _DECIMAL_BY_EXPONENT:
        suffix = _DECIMAL_BY_EXPONENT[exponent]
    else:  # DecimalExponent, or a DecimalSI amount past 'E' that has no suffix
        suffix = f"e{exponent}" if exponent else ""
    return f"{'-' if sign else ''}{mantissa}{suffix}"


def _to_int(amount: Decimal) -> int:
    if amount.copy_abs() > _INT64_MAX:
        raise ValueError("the quantity is too large: it must fit in a 64-bit integer")
    return int(amount.to_integral_value(rounding=ROUND_UP, context=_WIDE))
