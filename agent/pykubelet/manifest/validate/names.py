"""Name formats and their error texts, word for word (``k8s.io/apimachinery/pkg/util/validation``).

``IsDNS1123Label``, ``IsDNS1123Subdomain``, ``IsQualifiedName``, ``IsValidLabelValue``, ``IsEnvVarName``
and ``IsValidPortName`` return lists of problem sentences, regex and examples included; people who run
kubelets know these sentences, so they are the same here. Each function returns strings, not errors:
the caller knows the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class NameFormat:
    """A regular-expression name format and its error text (``RegexError``, examples included)."""

    fmt: str
    message: str
    examples: tuple[str, ...]
    max_length: int | None = None

    @property
    def error(self) -> str:
        examples = " or ".join(f"'{example}', " for example in self.examples)
        return f"{self.message} (e.g. {examples}regex used for validation is '{self.fmt}')"

    def problems(self, value: str) -> list[str]:
        found = []
        if self.max_length is not None and len(value) > self.max_length:
            found.append(f"must be no more than {self.max_length} characters")
        if re.fullmatch(self.fmt, value, re.ASCII) is None:
            found.append(self.error)
        return found


_DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL: Final = NameFormat(
    _DNS1123_LABEL_FMT,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character",
    ("my-name", "123-abc"),
    63,
)
DNS1123_SUBDOMAIN: Final = NameFormat(
    _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*",
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character",
    ("example.com",),
    253,
)
_QUALIFIED_NAME_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME: Final = NameFormat(
    _QUALIFIED_NAME_FMT,
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character",
    ("MyName", "my.name", "123-abc"),
    63,
)
LABEL_VALUE: Final = NameFormat(
    f"({_QUALIFIED_NAME_FMT})?",
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character",
    ("MyValue", "my_value", "12345"),
    63,
)
_ENV_VAR_NAME: Final = NameFormat(
    "[-._a-zA-Z][-._a-zA-Z0-9]*",
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
    "and must not start with a digit",
    ("my.env-name", "MY_ENV.NAME", "MyEnvName1"),
)


def qualified_name_problems(value: str) -> list[str]:
    """``IsQualifiedName``: ``[prefix/]name``, the prefix a DNS subdomain, the name at most 63 characters."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            f"a qualified name {_QUALIFIED_NAME.error} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    problems = []
    if len(parts) == 2:
        prefix = parts[0]
        prefix_problems = DNS1123_SUBDOMAIN.problems(prefix) if prefix else ["must be non-empty"]
        problems += [f"prefix part {msg}" for msg in prefix_problems]
    name = parts[-1]
    if not name:
        problems.append("name part must be non-empty")
    problems += [f"name part {msg}" for msg in _QUALIFIED_NAME.problems(name)]
    return problems


def env_var_name_problems(value: str) -> list[str]:
    problems = _ENV_VAR_NAME.problems(value)
    if value in (".", ".."):
        problems.append(f"must not be '{value}'")
    elif value.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def port_name_problems(value: str) -> list[str]:
    """``IsValidPortName``: an IANA service name."""
    checks = (
        (len(value) > 15, "must be no more than 15 characters"),
        (
            re.fullmatch("[-a-z0-9]+", value) is None,
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ),
        (re.search("[a-z]", value) is None, "must contain at least one letter (a-z)"),
        ("--" in value, "must not contain consecutive hyphens"),
        (value.startswith("-") or value.endswith("-"), "must not begin or end with a hyphen"),
    )
    return [message for failed, message in checks if failed]
