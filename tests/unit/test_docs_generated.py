"""The documentation stays true to the code: generated tables are current, links resolve, the README is short.

The tables of flags, config keys, metrics, role variables and Pod fields are written by
``scripts/gen-docs.py`` between ``<!-- BEGIN GENERATED: <name> -->`` markers; ``--check`` must pass, and the
generator must never touch a byte outside the markers (other people write the pages around them).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gen-docs.py"


def _gen_docs() -> ModuleType:
    """scripts/gen-docs.py as a module (its name has a dash, so it cannot be imported by name)."""
    spec = importlib.util.spec_from_file_location("gen_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen_docs = _gen_docs()


def test_every_generated_table_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, (
        f"generated docs are stale or missing: run .venv/bin/python scripts/gen-docs.py\n"
        f"{result.stdout}{result.stderr}"
    )


def test_fill_replaces_only_the_inside_of_the_markers() -> None:
    text = (
        "# Title\n\nProse a person wrote.  \n"
        "<!-- BEGIN GENERATED: flags -->\nold table\n<!-- END GENERATED: flags -->\n"
        "More prose, with trailing spaces   \n"
        "<!-- BEGIN GENERATED: metrics -->\n<!-- END GENERATED: metrics -->"
    )
    filled, names = gen_docs.fill(text, "page.md", lambda name: f"| {name} |\n")
    assert names == ("flags", "metrics")
    assert filled == (
        "# Title\n\nProse a person wrote.  \n"
        "<!-- BEGIN GENERATED: flags -->\n\n| flags |\n\n<!-- END GENERATED: flags -->\n"
        "More prose, with trailing spaces   \n"
        "<!-- BEGIN GENERATED: metrics -->\n\n| metrics |\n\n<!-- END GENERATED: metrics -->"
    )
    assert gen_docs.fill(filled, "page.md", lambda name: f"| {name} |\n")[0] == filled  # idempotent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a\n<!-- BEGIN GENERATED: flagz -->\n<!-- END GENERATED: flagz -->\n",
            "page.md:2: unknown generated block",
        ),
        ("<!-- BEGIN GENERATED: flags -->\nno end\n", "page.md:1: <!-- BEGIN GENERATED: flags --> has no"),
        (
            "<!-- BEGIN GENERATED: flags -->\n<!-- BEGIN GENERATED: metrics -->\n"
            "<!-- END GENERATED: metrics -->\n<!-- END GENERATED: flags -->\n",
            "page.md:1: <!-- BEGIN GENERATED: flags --> has no",
        ),
    ],
)
def test_broken_markers_name_the_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(gen_docs.MarkerError, match=re.escape(expected)):
        gen_docs.fill(text, "page.md", lambda name: "")


def test_a_stale_block_and_a_missing_page_are_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cli.md").write_text(
        "<!-- BEGIN GENERATED: flags -->\nold\n<!-- END GENERATED: flags -->\n"
        "<!-- BEGIN GENERATED: config-keys -->\n<!-- END GENERATED: config-keys -->\n"
    )
    outcomes, problems = gen_docs.generate(tmp_path)
    (cli,) = outcomes
    assert cli.stale and "--pod-manifest-path" in cli.text
    assert "docs/ansible.md: missing (it must hold the generated role-variables block)" in problems
    assert any(p.startswith("docs/cli.md: no generated subcommands block") for p in problems), problems


def test_the_readme_fits_on_a_page_and_starts_with_the_two_commands_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(\./lab \w+)", quick_start, re.MULTILINE)
    assert commands == ["./lab up", "./lab test"]
    assert re.search(r"^\./lab test\b", (REPO / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_readme_links_every_reference_page() -> None:
    readme = (REPO / "README.md").read_text()
    for page in (
        "lab.md",
        "ansible.md",
        "cli.md",
        "read-only-port.md",
        "pod-fields.md",
        "behaviour.md",
        "architecture.md",
        "testing.md",
        "performance.md",
        "reliability.md",
    ):
        assert f"](docs/{page})" in readme, f"README.md does not link docs/{page}"


def _links(path: Path) -> list[tuple[str, str]]:
    """(target file, anchor) of every relative Markdown link in a page."""
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file, _, anchor = target.partition("#")
        found.append((file, anchor))
    return found


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize(
    "page", [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    for file, anchor in _links(page):
        target = (page.parent / file).resolve() if file else page
        assert target.exists(), f"{page.relative_to(REPO)} links {file}, which does not exist"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), (
                f"{page.relative_to(REPO)} links {file}#{anchor}: no such heading"
            )


def test_the_security_notes_say_what_the_port_exposes() -> None:
    page = (REPO / "docs" / "read-only-port.md").read_text()
    security = page.split("## Security", 1)[1].split("\n## ", 1)[0]
    for needed in ("environment values", "127.0.0.1", "pykubelet_address", "ssh -L"):
        assert needed in security, f"docs/read-only-port.md's Security section does not mention {needed!r}"
    assert "--strict-manifests" in (REPO / "docs" / "pod-fields.md").read_text()
