"""Resource quantities must mean exactly what they mean to the API: a wrong suffix is a 1000x error."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pykubelet.manifest.quantity import (
    MAX_QUANTITY_LENGTH,
    cpu_millis,
    format_quantity,
    memory_bytes,
    parse_quantity,
)

FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("0", 0),
        ("1", 1),
        ("0.5", Decimal("0.5")),
        ("1.", 1),
        (".5", Decimal("0.5")),
        ("+1", 1),
        ("-1", -1),
        ("700m", Decimal("0.7")),
        ("100u", Decimal("0.0001")),
        ("5n", Decimal("0.000000005")),
        ("1k", 1000),
        ("1M", 10**6),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1P", 10**15),
        ("1E", 10**18),
        ("1Ki", 1024),
        ("200Mi", 209715200),
        ("1Gi", 1073741824),
        ("1Ti", 2**40),
        ("1Pi", 2**50),
        ("1Ei", 2**60),
        ("0.5Gi", 536870912),
        ("128974848", 128974848),
        ("129e6", 129000000),
        ("1E3", 1000),
        ("1e+3", 1000),
        ("1e-3", Decimal("0.001")),
        (" 100m ", Decimal("0.1")),
    ],
)
def test_parses_every_suffix_exactly(text: str, amount: int | Decimal) -> None:
    assert parse_quantity(text) == amount


@pytest.mark.parametrize(
    ("number", "amount"), [(1, 1), (0, 0), (2048, 2048), (0.5, Decimal("0.5")), (1e-05, Decimal("0.00001"))]
)
def test_bare_yaml_numbers_parse_from_their_literal(number: int | float, amount: Decimal) -> None:
    assert parse_quantity(number) == amount


def test_rounds_up_to_nano_precision_away_from_zero() -> None:
    # "if you want some resources, you should get some resources"
    assert parse_quantity("0.1n") == Decimal("1e-9")
    assert parse_quantity("1e-20") == Decimal("1e-9")
    assert parse_quantity("-0.1n") == Decimal("-1e-9")
    assert parse_quantity("1.0000000001") == Decimal("1.000000001")


def test_binary_quantities_are_capped_at_int64_like_upstream() -> None:
    assert parse_quantity("16Ei") == 2**63 - 1


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("0.5", 500),
        ("700m", 700),
        ("1", 1000),
        ("1.5", 1500),
        ("0.1m", 1),
        ("100u", 1),
        ("250m", 250),
        (2, 2000),
    ],
)
def test_cpu_millis_is_milli_value_rounded_up(text: str | int, millis: int) -> None:
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("200Mi", 209715200),
        ("1Gi", 1073741824),
        ("1G", 1000000000),
        ("128974848", 128974848),
        ("129e6", 129000000),
        ("0.5Gi", 536870912),
        ("1.1Ki", 1127),
        ("500m", 1),
    ],
)
def test_memory_bytes_is_value_rounded_up(text: str, size: int) -> None:
    assert memory_bytes(text) == size


def test_integer_accessors_refuse_what_does_not_fit_int64() -> None:
    with pytest.raises(ValueError, match="must fit in a 64-bit integer"):
        cpu_millis("10E")
    with pytest.raises(ValueError, match="must fit in a 64-bit integer"):
        memory_bytes("1e30")
    assert memory_bytes("9E") == 9 * 10**18


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("0", "0"),
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1.5", "1500m"),
        ("1500000", "1500k"),
        ("2000M", "2G"),
        ("1.5Gi", "1536Mi"),
        ("1024Mi", "1Gi"),
        ("1.5Ki", "1536"),
        ("0.5Gi", "512Mi"),
        ("100Mi", "100Mi"),
        ("1.1Ki", "1126400m"),
        ("0.5Ki", "512"),
        ("129e6", "129e6"),
        ("1.5e3", "1500"),
        ("0.1m", "100u"),
        ("-1.5Gi", "-1536Mi"),
        ("1000E", "1e21"),
        (1, "1"),
        (0.25, "250m"),
    ],
)
def test_format_quantity_is_the_canonical_kubectl_form(text: str | int | float, canonical: str) -> None:
    assert format_quantity(text) == canonical


@pytest.mark.parametrize("text", ["", "abc", "1KB", "1Kb", "1gi", "1.2.3", "--1", "1 Gi", ".", "+", "Mi"])
def test_malformed_quantities_name_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(FORMAT_WRONG)}$"):
        parse_quantity(text)


@pytest.mark.parametrize("text", ["1K", "1mi", "1mM", "1ki", "1e", "1E+", "1e99999999999", "1Mi3"])
def test_suffixes_are_case_sensitive_and_exact(text: str) -> None:
    with pytest.raises(
        ValueError, match=r"^unable to parse quantity's suffix '.*': suffixes are case-sensitive "
    ):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "a quantity must be a string or a number, not bool"),
        (None, "a quantity must be a string or a number, not NoneType"),
        ([1], "a quantity must be a string or a number, not list"),
        (float("inf"), "a quantity must be a finite number, not inf"),
        (float("nan"), "a quantity must be a finite number, not nan"),
        (
            "1" * (MAX_QUANTITY_LENGTH + 1),
            f"a quantity must be at most {MAX_QUANTITY_LENGTH} characters long",
        ),
    ],
)
def test_non_quantities_are_refused_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_quantity(value)  # type: ignore[arg-type]


def test_huge_exponents_stay_cheap_and_are_reported_not_trapped() -> None:
    assert parse_quantity("1e2147483647") > 10**100
    assert parse_quantity("1e-2147483648") == Decimal("1e-9")
    with pytest.raises(ValueError, match="64-bit"):
        memory_bytes("1e2147483647")
