"""The documentation tables that come from code, each rendered from the one place that defines it.

A table copied by hand into a Markdown page drifts the day someone adds a flag; so every table here is
computed from the code the agent runs (the argparse parsers, the KubeletConfiguration loader, the Options
defaults, the roles' argument specs, the Prometheus registry, the Pod field rules) and
``scripts/gen-docs.py`` writes it between ``<!-- BEGIN GENERATED: <name> -->`` markers. Each function
returns Markdown ending in a newline; none has side effects.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from pykubelet import cli, options
from pykubelet.kubectl import commands
from pykubelet.manifest.fields import RULES, Rule, Support, locations
from pykubelet.manifest.schema import SCHEMA_VERSION
from pykubelet.metrics import Metrics, StateCollector

REPO = Path(__file__).resolve().parents[1]
GENERATOR = "`python scripts/gen-docs.py`"


def cell(text: object) -> str:
    """One Markdown table cell: a ``|`` would end the cell and a newline the row."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    return markdown_table(headers, ([cell(c) for c in row] for row in rows))


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of cells that are Markdown already (escaped by whoever made them)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def source_line(source: str) -> str:
    """The line under each table that says where it comes from, so a reader edits the code, not the page."""
    return f"Generated from `{source}` by {GENERATOR}: change it there, then rerun the generator.\n"


# --- pykubelet's flags and --config keys -------------------------------------------------------------------


def _option_usage(action: argparse.Action) -> str:
    """``--enable-ui [BOOL]``, ``-v, --v N``, ``-o, --output {wide,json,yaml}``, ``name``: as --help shows."""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        value = "{" + ",".join(str(c) for c in action.choices) + "}"
    else:
        metavar = action.metavar
        value = metavar if isinstance(metavar, str) else action.dest.upper()
    if not action.option_strings:
        value = value if action.choices is not None else str(action.metavar or action.dest)
        return f"[{value}]" if action.nargs == "?" else value
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return names
    return f"{names} [{value}]" if action.nargs == "?" else f"{names} {value}"


def _options_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's arguments as --help lists them, without -h itself."""
    return [
        a
        for a in parser._actions  # argparse has no public list of its actions
        if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
    ]


OPTIONS_SOURCE = "agent/pykubelet/options.py"  # OPTIONS: every flag and config key, declared once


def flags() -> str:
    """``pykubelet``'s own flags, in the order of ``pykubelet --help``, with its help text.

    The parser is made from ``options.OPTIONS`` (plus ``--config`` and ``--version``), so reading it back
    gives the declaration exactly as a user meets it in ``--help``.
    """
    rows = []
    for action in _options_of(cli.parser()):
        text = action.help or ""
        if isinstance(action, argparse._VersionAction):
            text = "print pykubelet's version and exit"
        rows.append((f"`{_option_usage(action)}`", text))
    return table(["flag", "what it does"], rows) + "\n" + source_line(OPTIONS_SOURCE)


def config_keys() -> str:
    """The KubeletConfiguration fields ``--config`` reads, with the flag each one stands for."""
    rows = []
    for key, option in sorted(options.BY_CONFIG_KEY.items()):
        default = option.shown_default()
        shown = default if option.default_text else (f"`{default}`" if default else "(not set)")
        rows.append((f"`{key}`", f"`{option.flag}`", option.kind.name, shown))
    return table(["key", "flag", "type", "default"], rows) + "\n" + source_line(OPTIONS_SOURCE)


def subcommands() -> str:
    """``pykubelet get|describe|logs``: kubectl's views, one row per command with its usage and help."""
    parser = commands.parser()
    common = [a for a in _options_of(parser) if a.option_strings]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help or "" for c in sub._choices_actions}
    rows = []
    said = {tuple(a.option_strings) for a in common}  # "Each takes ..." covers them, wherever they go
    for name, child in sub.choices.items():
        arguments = [a for a in _options_of(child) if tuple(a.option_strings) not in said]
        usage = " ".join(["pykubelet", name, *(_usage_word(a) for a in arguments)])
        notes = [f"`{_usage_word(a).strip('[]').split()[0]}`: {a.help}" for a in arguments if a.help]
        rows.append((f"`{usage}`", "; ".join([helps.get(name, ""), *notes])))
    intro = "".join(f"Each takes `{_option_usage(a)}`: {a.help}.\n\n" for a in common)
    source = source_line("agent/pykubelet/kubectl/commands.py")
    return intro + table(["command", "what it does"], rows) + "\n" + source


def _usage_word(action: argparse.Action) -> str:
    """One argument as argparse's usage line writes it: ``[-o {wide,json,yaml}]``, ``name``."""
    text = _option_usage(action)
    if action.option_strings:
        short = action.option_strings[0]
        text = short + text[len(", ".join(action.option_strings)) :]
        return f"[{text}]"
    return text


# --- role variables ----------------------------------------------------------------------------------------


def role_names(root: Path = REPO) -> list[str]:
    """Every role with an argument spec, in site.yml's order first (docker, pykubelet, lab)."""
    from labctl import argspecs

    found = sorted(p.parent.parent.name for p in (root / "roles").glob("*/meta/argument_specs.yml"))
    order = list(argspecs.ROLES)
    return sorted(found, key=lambda r: (order.index(r) if r in order else len(order), r))


def role_variables(role: str, root: Path = REPO) -> str:
    """One role's variables; the rows are ``./lab vars``'s (labctl/argspecs.py formats them)."""
    from labctl import argspecs

    spec_path = root / "roles" / role / "meta" / "argument_specs.yml"
    spec = yaml.safe_load(spec_path.read_text())
    options_ = spec["argument_specs"]["main"].get("options") or {}
    rows = [
        (f"`{name}`", argspecs._type(o), argspecs._default(o), argspecs._description(o))
        for name, o in options_.items()
    ]
    return markdown_table(["variable", "type", "default", "what it does"], rows)


def all_role_variables(root: Path = REPO) -> str:
    parts = [
        f"**{role}** (`roles/{role}/meta/argument_specs.yml`)\n\n{role_variables(role, root)}"
        for role in role_names(root)
    ]
    return "\n".join(parts) + "\n" + source_line("roles/*/meta/argument_specs.yml")


# --- metrics -----------------------------------------------------------------------------------------------


class _Anything:
    """Any state value a gauge reads: zero, empty. The table needs the gauges' names, not their values."""

    def __float__(self) -> float:
        return 0.0

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def items(self) -> list[tuple[str, Any]]:
        return []


class _EmptyState(dict[str, Any]):
    def __missing__(self, key: str) -> _Anything:
        return _Anything()


def _exposed_name(name: str, kind: str) -> str:
    return f"{name}_total" if kind == "counter" else name


def metrics() -> str:
    """``/metrics``: every metric pykubelet exports, with its type, labels and help."""
    found = []
    registered = Metrics(lambda: _EmptyState())
    for value in vars(registered).values():
        describe = getattr(value, "describe", None)
        if describe is None or value is registered.registry:
            continue
        for family in describe():
            found.append((family, getattr(value, "_labelnames", ())))
    for family in StateCollector(lambda: _EmptyState()).collect():
        found.append((family, getattr(family, "_labelnames", ())))
    rows = [
        (
            f"`{_exposed_name(f.name, f.type)}`",
            f.type,
            ", ".join(f"`{label}`" for label in labels),
            f.documentation,
        )
        for f, labels in sorted(found, key=lambda item: _exposed_name(item[0].name, item[0].type))
    ]
    return (
        table(["metric", "type", "labels", "help"], rows) + "\n" + source_line("agent/pykubelet/metrics.py")
    )


# --- pod fields --------------------------------------------------------------------------------------------


def _status(rule: Rule) -> str:
    if rule.support is Support.HONOURED:
        return "honoured"
    if rule.fine_when and rule.support is Support.IGNORED:
        return f"{rule.support.value} (not reported when {rule.fine_when})"
    if rule.fine_when:
        return f"honoured when {rule.fine_when}; else {rule.support.value}"
    return str(rule.support.value)


def _field_rows(rules: dict[str, Rule]) -> Iterator[tuple[str, str, str]]:
    """One row per (status, note), its fields listed together, in the order of the first field."""
    groups: dict[tuple[str, str], list[str]] = {}
    for key, rule in rules.items():
        groups.setdefault((_status(rule), rule.note), []).append(f"`{key}`")
    for (status, note), keys in groups.items():
        yield ", ".join(keys), status, note


def _shorten(paths: Sequence[str]) -> str:
    """``spec.containers[*]`` stands for ``spec.initContainers[*]`` too."""
    shown = [
        p
        for p in paths
        if "initContainers" not in p or p.replace("initContainers", "containers") not in paths
    ]
    return ", ".join(f"`{p}`" for p in shown) or "the top level"


def pod_fields() -> str:
    """The "Pod fields" table: what pykubelet does with each field of the v1 Pod, by object type."""
    lines = [
        f"Checked against the v1 Pod schema of Kubernetes {SCHEMA_VERSION}. "
        "In `spec.containers[*]` rows, the same holds for `spec.initContainers[*]`.",
        "",
    ]
    for name, paths in locations().items():
        where = "the top level" if paths == [""] else _shorten(paths)
        lines += [f"**{name}** ({where})", "", "| field | pykubelet | notes |", "|---|---|---|"]
        lines += [f"| {keys} | {status} | {note} |" for keys, status, note in _field_rows(RULES[name])]
        lines.append("")
    return "\n".join(lines) + "\n" + source_line("agent/pykubelet/manifest/fields.py")
