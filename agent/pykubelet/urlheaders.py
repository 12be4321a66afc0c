"""The request headers of the URL source: ``--manifest-url-header`` and ``staticPodURLHeader``.

The kubelet takes them two ways, and pykubelet reads both as it does: the flag as a
``ColonSeparatedMultimapStringString`` (``a:x,b:y,b:z``, the flag repeatable) and the KubeletConfiguration
field as a ``map[string][]string``; every value of every name is sent, in order, as its own header line.
Both give the same list of checked ``(name, value)`` pairs, which options.py stores and config/url.py sends.

It is a module of its own because it is one small grammar with its own checks (an HTTP field name, no
line break in a value), apart from the option table; it imports nothing of pykubelet, so options.py and
the URL source can both import it without a cycle.
"""

from __future__ import annotations

import re
from typing import Any

from multidict import MultiDict

Header = tuple[str, str]
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field-name


def _header(name: str, value: str, where: str) -> Header:
    """One checked header: a valid field name, a value without line breaks (they would split the request)."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"{where}: {name!r} is not a valid HTTP header name")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{where}: the value of {name} contains a line break")
    return name, value


def split_header_flag(text: str) -> list[Header]:
    """``--manifest-url-header 'a:hello,b:again,b:more'`` as ``ColonSeparatedMultimapStringString.Set``
    reads it: comma-separated ``key:value`` pairs, split at the first colon, both sides trimmed, empty
    pairs skipped; a repeated key adds a value."""
    headers: list[Header] = []
    for pair in text.split(","):
        if not pair:
            continue
        name, sep, value = pair.partition(":")
        if not sep:
            raise ValueError(f"malformed pair {pair!r}, expect string:string (e.g. 'Authorization:Bearer x')")
        headers.append(_header(name.strip(), value.strip(), f"pair {pair!r}"))
    return headers


def config_headers(raw: Any) -> list[Header]:
    """``staticPodURLHeader`` is ``map[string][]string``: every value of every name, in order."""
    if not isinstance(raw, dict):
        raise ValueError("must be a mapping of header name to a list of values")
    headers: list[Header] = []
    for name, values in raw.items():
        if not isinstance(values, list):
            raise ValueError(f"{name}: must be a list of values, e.g. {name}: [{values!r}]")
        headers.extend(_header(str(name), str(value), str(name)) for value in values)
    return headers


def flatten_headers(raw: list[Any]) -> list[Header]:
    """argparse's "append" gives one list of pairs per use of the flag: one list, in order."""
    return [pair for item in raw for pair in (item if isinstance(item, list) else [item])]


def parse_headers(headers: list[Header]) -> MultiDict[str]:
    """The URL source's request headers: every value of every name, in order (``req.Header = header``
    sends each value of a ``map[string][]string`` as its own header line)."""
    return MultiDict(headers)
