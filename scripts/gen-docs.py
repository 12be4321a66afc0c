#!/usr/bin/env python3
"""Rewrite the documentation tables that come from code; ``--check`` only says which are stale.

    .venv/bin/python scripts/gen-docs.py           rewrite every generated block
    .venv/bin/python scripts/gen-docs.py --check   exit 1 and list the stale or missing blocks
    .venv/bin/python scripts/gen-docs.py docs/cli.md   rewrite only the pages named (others may be mid-edit)

A generated block sits between two lines, and nothing outside them is ever touched (the pages around the
tables are written by people):

    <!-- BEGIN GENERATED: flags -->
    ...
    <!-- END GENERATED: flags -->

The names are the keys of :data:`BLOCKS`; ``role-variables`` is the one role's table in
``roles/<role>/README.md`` and every role's in any other page. Some blocks must exist (:func:`required`:
the CLI reference, the role variables, the Pod fields, the metrics), so deleting a marker is reported
too. tests/unit/test_docs_generated.py runs ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for entry in (REPO / "agent", REPO, Path(__file__).resolve().parent):  # pykubelet, labctl, doctables
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

import doctables  # noqa: E402

BLOCKS: dict[str, Callable[[], str]] = {
    "flags": doctables.flags,
    "config-keys": doctables.config_keys,
    "subcommands": doctables.subcommands,
    "metrics": doctables.metrics,
    "pod-fields": doctables.pod_fields,
    "role-variables": doctables.all_role_variables,
}
BEGIN = re.compile(r"^<!-- BEGIN GENERATED: (?P<name>[a-z0-9-]+) -->$", re.MULTILINE)
END = "<!-- END GENERATED: {name} -->"


class MarkerError(Exception):
    """A page's markers cannot be filled: the message names the file, the line and what to fix."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    text: str  # the page with every block filled
    names: tuple[str, ...]  # the blocks it holds, in order

    @property
    def stale(self) -> bool:
        return self.path.read_text() != self.text


def required(root: Path = REPO) -> dict[str, tuple[str, ...]]:
    """Page (relative to the repository) -> the blocks it must hold."""
    pages = {
        "docs/cli.md": ("flags", "config-keys", "subcommands"),
        "docs/ansible.md": ("role-variables",),
        "docs/pod-fields.md": ("pod-fields",),
        "docs/read-only-port.md": ("metrics",),
    }
    for role in doctables.role_names(root):
        pages[f"roles/{role}/README.md"] = ("role-variables",)
    return pages


def pages(root: Path = REPO) -> list[Path]:
    """Every page that may hold a block: README.md, docs/**/*.md, each role's README.md."""
    found = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    found += sorted(root.glob("roles/*/README.md"))
    return [p for p in found if p.is_file()]


def content(name: str, path: Path, root: Path = REPO) -> str:
    """What goes between one block's markers in one page."""
    relative = path.relative_to(root).parts
    if name == "role-variables" and relative[0] == "roles" and relative[-1] == "README.md":
        role = relative[1]
        return (
            doctables.role_variables(role, root)
            + "\n"
            + doctables.source_line(f"roles/{role}/meta/argument_specs.yml")
        )
    return BLOCKS[name]()


def fill(text: str, where: str, make: Callable[[str], str]) -> tuple[str, tuple[str, ...]]:
    """The page with each block's inside replaced by ``make(name)``; every byte outside stays as it is."""
    out: list[str] = []
    names: list[str] = []
    pos = 0
    while (begin := BEGIN.search(text, pos)) is not None:
        name = begin["name"]
        line = text.count("\n", 0, begin.start()) + 1
        if name not in BLOCKS:
            known = ", ".join(sorted(BLOCKS))
            raise MarkerError(f"{where}:{line}: unknown generated block {name!r} (known: {known})")
        end_marker = END.format(name=name)
        end = text.find(end_marker, begin.end())
        nested = BEGIN.search(text, begin.end(), end if end >= 0 else len(text))
        if end < 0 or nested is not None:
            raise MarkerError(f"{where}:{line}: {begin.group(0)} has no {end_marker} after it")
        out += [text[pos : begin.end()], "\n\n", make(name).rstrip("\n"), "\n\n"]
        names.append(name)
        pos = end
    out.append(text[pos:])
    return "".join(out), tuple(names)


def generate(root: Path = REPO) -> tuple[list[Outcome], list[str]]:
    """Every page's filled text, and the problems: missing pages, missing blocks, broken markers."""
    outcomes: list[Outcome] = []
    problems: list[str] = []
    cache: dict[tuple[str, Path], str] = {}

    def make_for(path: Path) -> Callable[[str], str]:
        def make(name: str) -> str:
            key = (name, path if name == "role-variables" else root)
            if key not in cache:
                cache[key] = content(name, path, root)
            return cache[key]

        return make

    for path in pages(root):
        where = str(path.relative_to(root))
        try:
            text, names = fill(path.read_text(), where, make_for(path))
        except MarkerError as exc:
            problems.append(str(exc))
            continue
        outcomes.append(Outcome(path, text, names))
    held = {str(o.path.relative_to(root)): o.names for o in outcomes}
    for page, names in required(root).items():
        if not (root / page).is_file():
            problems.append(f"{page}: missing (it must hold the generated {', '.join(names)} block)")
            continue
        for name in names:
            if page in held and name not in held[page]:
                problems.append(
                    f"{page}: no generated {name} block: add the two lines "
                    f"'<!-- BEGIN GENERATED: {name} -->' and '{END.format(name=name)}' where it belongs"
                )
    return outcomes, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/gen-docs.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is stale")
    parser.add_argument("pages", nargs="*", help="only these pages (paths from the repository root)")
    args = parser.parse_args(argv)
    outcomes, problems = generate()
    chosen = {(REPO / page).resolve() for page in args.pages}
    stale = [o for o in outcomes if o.stale and (not chosen or o.path.resolve() in chosen)]
    for outcome in stale:
        where = outcome.path.relative_to(REPO)
        if args.check:
            print(f"stale: {where} ({', '.join(outcome.names)})")
        else:
            outcome.path.write_text(outcome.text)
            print(f"updated: {where}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.check and stale:
        print("run: .venv/bin/python scripts/gen-docs.py", file=sys.stderr)
    return 1 if problems or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
