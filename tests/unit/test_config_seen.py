"""``kubernetes.io/config.seen`` in the kubelet's fixed layout (``RFC3339NanoFixed``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from pykubelet.config.file import seen_now


@pytest.fixture
def zone() -> Iterator[None]:
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def _set_zone(name: str) -> None:
    os.environ["TZ"] = name
    time.tzset()


def test_nine_fractional_digits_and_z_for_utc(zone: None) -> None:
    _set_zone("UTC")
    assert seen_now(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert seen_now(1_700_000_000_000_000_007) == "2023-11-14T22:13:20.000000007Z"  # zeros kept


def test_local_time_with_its_offset_elsewhere(zone: None) -> None:
    """recordFirstSeenTime formats time.Now(): the node's local zone, ``Z07:00`` giving ``+05:30``."""
    _set_zone("Asia/Kolkata")
    assert seen_now(1_700_000_000_500_000_000) == "2023-11-15T03:43:20.500000000+05:30"
