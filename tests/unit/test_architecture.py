"""The agent's shape, checked from its source (issue 12, points 1 and 4).

An ast walk of ``agent/pykubelet`` builds the module import graph from *every* import statement:
top-level ones, those inside functions (a lazy import is still a dependency, it only moves the
failure to run time) and those under ``TYPE_CHECKING`` (a type-only circle still means the two
modules cannot be understood, tested or replaced apart). Two rules are enforced:

- no import circle anywhere (the server depends on a narrow ``Host`` protocol, not on the Kubelet);
- only ``runtime/docker/`` talks to Docker: nothing else imports the ``docker`` SDK or the Docker
  runtime, so a second runtime (CRI) touches nothing above ``runtime/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "agent" / "pykubelet"
DOCKER_RUNTIME = "pykubelet.runtime.docker"

# The runtime factory is the one place that chooses an implementation by endpoint: it imports the
# Docker runtime lazily (inside new_runtime), so nothing else in the agent ever names it.
DOCKER_IMPORT_ALLOWED = {"pykubelet.runtime"}
# Known offenders still to move behind the runtime interface, each with where that is tracked. An entry
# here that no longer imports Docker fails the test too, so the list cannot outlive the fix.
DOCKER_IMPORT_PENDING: set[str] = set()  # modules still on their way out from under a direct Docker import


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def imported_names(name: str, path: Path, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Every absolute module name ``name`` imports, wherever the import statement sits.

    ``from a import b`` names ``a.b`` when that is one of the ``known`` modules (the statement then means
    ``import a.b``), else ``a`` (b is a name defined in a). A package's ``__init__`` that Python runs on
    the way to a submodule is not counted: it is how packages load, not a dependency of the importer.
    """
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the agent's modules it imports."""
    known = modules()
    names = set(known)
    return {
        name: {n for n in imported_names(name, path, names) if n in names and n != name}
        for name, path in known.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_walk_sees_the_whole_package() -> None:
    graph = import_graph()
    assert "pykubelet.kubelet" in graph
    assert "pykubelet.server.routes" in graph
    assert "pykubelet.manifest" in graph["pykubelet.kubelet"]


def test_the_cycle_finder_finds_a_circle_and_accepts_a_tree() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles_in_the_agent() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_server_depends_on_the_host_protocol_not_on_the_kubelet() -> None:
    graph = import_graph()
    offenders = sorted(
        name
        for name, targets in graph.items()
        if name.startswith("pykubelet.server") and "pykubelet.kubelet" in targets
    )
    assert offenders == [], f"{offenders} import pykubelet.kubelet: read it through server.host.Host instead"


def test_only_runtime_docker_imports_docker() -> None:
    offenders: dict[str, list[str]] = {}
    known = modules()
    for name, path in known.items():
        if name == DOCKER_RUNTIME or name.startswith(DOCKER_RUNTIME + ".") or name in DOCKER_IMPORT_ALLOWED:
            continue
        for target in imported_names(name, path, set(known)):
            if target == "docker" or target.startswith(("docker.", DOCKER_RUNTIME)):
                offenders.setdefault(name, []).append(target)
    new = {name: targets for name, targets in offenders.items() if name not in DOCKER_IMPORT_PENDING}
    assert new == {}, f"Docker belongs under runtime/docker/ only: {new}"
    fixed = DOCKER_IMPORT_PENDING - offenders.keys()
    assert not fixed, f"{sorted(fixed)} no longer import Docker: remove them from DOCKER_IMPORT_PENDING"
