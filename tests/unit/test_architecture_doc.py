"""docs/architecture.md names only modules, classes and members that exist (issue 12, point 9).

The page is a map of the code, and a map drifts silently: a module is split or renamed and the page
still sends readers to it. These checks read the page as text and the agent as source (an ast walk, no
imports), so a rename that forgets the page fails here, with the name and what to do.

Conventions the page follows so it can be checked: a pykubelet module is written as its path under
``agent/pykubelet/`` (``runtime/manager.py``, ``server/``) or in full (``agent/pykubelet/...``); a
kubelet file is written with its Go path (``pkg/kubelet/...``, ending in ``.go`` or a directory under
``pkg/``, ``cmd/``, ``staging/``, ``third_party/``, ``api/``), which is not checked here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "agent" / "pykubelet"
PAGE = REPO / "docs" / "architecture.md"

# Go paths (the kubelet's side of the table) and the repository's own top-level folders.
KUBERNETES_PREFIXES = ("pkg/", "cmd/", "staging/", "third_party/", "api/", "k8s.io/", "util/")
REPO_PREFIXES = ("agent/", "tests/", "scripts/", "bench/", "docs/")

# A path-like token: `runtime/manager.py`, `status.py`, `agent/pykubelet/server/`, `manifest/schema/`.
PY_PATH = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.py)\b")
DIR_IN_BACKTICKS = re.compile(r"`((?:[\w-]+/)+)`")
# `Class.member` for a class the agent defines: `StatusManager.set_status`, `PodWorkers.terminate`.
CLASS_MEMBER = re.compile(r"`([A-Z]\w*)\.(\w+)`")


def _resolve(token: str) -> Path | None:
    """Where a module path named on the page lives, or None when it names nothing."""
    candidates = [REPO / token] if token.startswith(REPO_PREFIXES) else [PACKAGE / token]
    for path in candidates:
        if path.exists():
            return path
    return None


def _module_paths(text: str) -> set[str]:
    tokens = set(PY_PATH.findall(text)) | set(DIR_IN_BACKTICKS.findall(text))
    return {t for t in tokens if not t.startswith(KUBERNETES_PREFIXES)}


@cache
def _classes() -> dict[str, set[str]]:
    """Every class of the agent -> the names defined in its body (methods, attributes), bases merged."""
    bodies: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for source in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if not isinstance(node, ast.ClassDef):
                continue
            names = bodies.setdefault(node.name, set())
            bases.setdefault(node.name, []).extend(b.id for b in node.bases if isinstance(b, ast.Name))
            for item in ast.walk(node):
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Attribute) and isinstance(item.ctx, ast.Store):
                    names.add(item.attr)  # self.x = ... in any method
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))

    def members(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(bodies.get(name, set()))
        for base in bases.get(name, []):
            if base not in seen:
                found |= members(base, seen | {name})
        return found

    return {name: members(name) for name in bodies}


def test_the_page_has_a_mermaid_diagram_and_a_plain_text_one() -> None:
    text = PAGE.read_text()
    assert "```mermaid\nflowchart" in text, "docs/architecture.md lost its Mermaid flowchart"
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)
    plain = [body for language, body in blocks if not language and "-->" in body]
    assert plain, "docs/architecture.md lost the plain-text diagram (a ``` block without a language)"


def test_the_path_finder_sees_module_and_kubelet_paths_apart() -> None:
    text = (
        "`runtime/manager.py` and status.py, `server/`, agent/pykubelet/pleg.py; "
        "`pkg/kubelet/prober/` and pkg/kubelet/pleg/generic.go are the kubelet's"
    )
    assert _module_paths(text) == {"runtime/manager.py", "status.py", "server/", "agent/pykubelet/pleg.py"}


def test_every_module_the_page_names_exists() -> None:
    names = _module_paths(PAGE.read_text())
    assert len(names) > 30, f"the page names only {sorted(names)}: did the path finder break?"
    missing = sorted(name for name in names if _resolve(name) is None)
    assert not missing, (
        f"docs/architecture.md names modules that do not exist under agent/pykubelet/: {missing}; "
        "update the page to the module's new path (or write a kubelet path with its pkg/... prefix)"
    )


def test_every_module_of_the_agent_is_in_the_table() -> None:
    """A new module gets a row (its own, or its package's), so the map covers the whole agent."""
    table = PAGE.read_text().split("## Modules and their kubelet counterparts", 1)[1].split("\n## ", 1)[0]
    first_column = " ".join(row.split("|")[1] for row in table.splitlines() if row.startswith("| `"))
    named = {Path(n) for n in _module_paths(first_column)}
    unmapped = []
    for source in sorted(PACKAGE.rglob("*.py")):
        relative = source.relative_to(PACKAGE)
        if relative.name in {"__init__.py", "__main__.py"}:
            continue  # a package's front door: its modules have the rows
        if relative not in named and not any(parent in named for parent in relative.parents):
            unmapped.append(str(relative))
    assert not unmapped, f"docs/architecture.md's module table has no row for {unmapped}"


def test_every_class_member_the_page_names_exists() -> None:
    classes = _classes()
    wrong = []
    for cls, member in CLASS_MEMBER.findall(PAGE.read_text()):
        if cls not in classes:
            wrong.append(f"{cls} (no such class in agent/pykubelet)")
        elif member not in classes[cls]:
            wrong.append(f"{cls}.{member} (no such member)")
    assert not wrong, f"docs/architecture.md names {wrong}; update the page to the code's names"
