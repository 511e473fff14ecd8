"""The folders tell the architecture: floors import only downwards, and no module cycles.

privacy < villages < funds < publicity < api < config (../shared/DESIGN.md, "Layout"). The demo
generator sits outside the product: it may import the product, the product never imports it.
Imports inside functions count too: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["privacy", "villages", "funds", "publicity", "api", "config"]
OUTSIDE = ["demo"]  # may import the product; never imported by it
PACKAGES = FLOORS + OUTSIDE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """Return the project module NAME refers to (a module, or the package holding a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> set[str]:
    """Return the project modules MODULE imports, at top level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from funds import models" imports the module funds.models.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _floor(module: str) -> str:
    return module.split(".")[0]


def test_the_scan_sees_every_floor_and_the_imports_between_them():
    """Guard the guard: an empty scan would pass every other test here."""
    assert {_floor(m) for m in MODULES} >= set(FLOORS)
    assert "villages.models" in GRAPH["funds.models"]
    assert "privacy.personal" in GRAPH["villages.models"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_floor_above_its_own(module):
    floor = _floor(module)
    if floor in OUTSIDE:
        return
    rank = FLOORS.index(floor)
    upward = sorted(
        target
        for target in GRAPH[module]
        if _floor(target) in OUTSIDE or FLOORS.index(_floor(target)) > rank
    )
    assert not upward, f"{module} imports from above its floor: {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _floor(m) == "privacy"))
def test_the_personal_data_core_imports_no_model_and_no_app(module):
    source = MODULES[module].read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.startswith(("django.db", "django.apps"))}
    assert {_floor(t) for t in GRAPH[module]} <= {"privacy"}


def _cycles() -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return components


def test_no_two_modules_import_each_other_even_through_others():
    assert _cycles() == []


def test_a_cycle_would_be_found():
    """Guard the guard: the cycle finder sees a cycle planted in the graph."""
    GRAPH["privacy.masking"].add("privacy.personal")
    try:
        assert ["privacy.masking", "privacy.personal"] in _cycles()
    finally:
        GRAPH["privacy.masking"].discard("privacy.personal")
