"""The shape of the code: dependencies run one way, and no two modules import each other.

``reviews`` builds on ``evidence``. evidence's domain (its models, services, importers, anchoring,
identifiers and signals) never imports ``reviews``, at the top of a module or inside a function: what a
write means for the review workflow travels by evidence.signals. Pages, the API, feeds and exports that
show both may import both; they sit above them. These tests read the source with ``ast``, so a lazy
import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("evidence", "reviews")

# evidence's domain: what the review workflow is built on, and must not know of it
DOMAIN = (
    "evidence.models",
    "evidence.services",
    "evidence.importers",
    "evidence.anchoring",
    "evidence.identifiers",
    "evidence.signals",
    "evidence.storable",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports, wherever in the file: ``from a.b import c`` names a.b.c
    when that is a module, else a.b."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.add(candidate if candidate in known else base)
    return {target for target in targets if target in known and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_no_two_modules_import_each_other_directly_or_through_others():
    assert _cycles(_graph()) == []


def test_evidences_domain_never_reaches_reviews_even_through_other_modules():
    graph = _graph()
    domain = [name for name in graph if name.startswith(DOMAIN)]
    assert "evidence.models" in domain and "evidence.services.bibliography" in domain  # the walk found them
    leaks = {
        name: sorted(target for target in _reachable(graph, name) if target.startswith("reviews")) for name in domain
    }
    assert {name: targets for name, targets in leaks.items() if targets} == {}


def test_the_checks_see_a_cycle_and_a_leak_when_there_is_one():
    """The two tests above on a made-up graph, so they cannot pass by reading nothing."""
    graph = {"evidence.models": {"reviews.models"}, "reviews.models": {"evidence.models"}, "evidence.views": set()}
    assert _cycles(graph) == [["evidence.models", "reviews.models"]]
    assert _reachable(graph, "evidence.models") == {"reviews.models", "evidence.models"}
    real = _graph()
    assert "reviews.models" in real["reviews.services.verdicts"]  # imports are read, top-level and lazy alike
