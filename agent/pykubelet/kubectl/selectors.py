"""kubectl's equality-based label selectors (``-l``), as ``labels.Parse`` reads them.

``app=web``, ``app==web``, ``tier!=db``, ``app`` (the key exists), ``!app`` (it does not), comma-separated
and all required; ``key in (a,b)`` and ``key notin (a,b)`` too. A selector kubectl would refuse is a
:class:`SelectorError` naming the part it could not read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["SelectorError", "parse_selector"]

Requirement = Callable[[dict[str, str]], bool]

_SET = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*$")


class SelectorError(ValueError):
    """A label selector kubectl would refuse."""


def parse_selector(text: str) -> Requirement:
    """A predicate over a pod's labels that is true when every requirement of ``text`` holds."""
    requirements = [_requirement(part) for part in _split(text)]
    return lambda labels: all(requirement(labels) for requirement in requirements)


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b=c`` is two requirements)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if any(not part.strip() for part in parts):
        raise SelectorError(f"unable to parse requirement: {text!r} has an empty part")
    return parts


def _requirement(part: str) -> Requirement:
    if match := _SET.match(part):
        _, key, operator, values = match.groups()
        wanted = {v.strip() for v in values.split(",") if v.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in wanted
        return lambda labels: labels.get(key) not in wanted
    if match := _EQUALITY.match(part):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.match(part):
        negated, key = match.groups()
        return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
    raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
