"""The shape of the code (DESIGN section 4), checked on the source itself: which modules import
which, at run time. An import inside ``if TYPE_CHECKING:`` is for the type checker only and does
not count; ``assistant/cli.py`` imports inside its commands (for start-up speed), and those count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "assistant"
WINGS = ("cases", "hotline", "people")
# What each wing may import besides the shared modules at the top and routing.
WING_MAY_USE = {"cases": {"hotline", "people"}, "hotline": {"people"}, "people": set()}
# The composition root and the app factory: they alone at the top may import the wings.
COMPOSERS = {"assistant", "assistant.services", "assistant.extensions", "assistant.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in SOURCE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            stack.append(child)


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The app's modules this one imports at run time (a package's submodules by name)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("assistant."))
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        if target.split(".")[0] != "assistant":
            continue
        for alias in node.names:
            submodule = f"{target}.{alias.name}"
            found.add(submodule if submodule in known else target)
    return found & known


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) - {name} for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
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
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _area(module: str) -> str:
    """``web``, ``routing``, a wing's name, or ``top`` for the shared modules."""
    parts = module.split(".")
    return (
        parts[1]
        if len(parts) > 2 or (parts[1:2] and parts[1] in (*WINGS, "web", "routing"))
        else "top"
    )


def test_the_checks_see_the_imports_they_are_about() -> None:
    modules = all_modules()
    known = set(modules)
    cases = imported_modules("assistant.cases.intake", modules["assistant.cases.intake"], known)
    assert {"assistant.people.audit", "assistant.hotline.delivery", "assistant.models"} <= cases
    # Only for the type checker: not a run-time dependency.
    assert "assistant.services" not in cases
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back_through_others(graph: dict[str, set[str]]) -> None:
    assert import_cycles(graph) == []


def test_wings_import_only_what_the_design_allows(graph: dict[str, set[str]]) -> None:
    crossings = []
    for module, targets in graph.items():
        area = _area(module)
        if area not in WINGS:
            continue
        for target in targets:
            other = _area(target)
            if other in ("top", "routing", area) and target not in ("assistant.services",):
                continue
            if other in WING_MAY_USE[area]:
                continue
            crossings.append(f"{module} -> {target}")
    assert sorted(crossings) == []


def test_routing_depends_on_nothing_of_the_app(graph: dict[str, set[str]]) -> None:
    outside = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        if _area(module) == "routing"
        for target in targets
        if _area(target) != "routing"
    ]
    assert outside == []


def test_nothing_but_the_app_factory_imports_the_web_layer(graph: dict[str, set[str]]) -> None:
    importers = {
        module
        for module, targets in graph.items()
        if _area(module) != "web" and any(_area(t) == "web" for t in targets)
    }
    assert importers == {"assistant"}


def test_shared_modules_leave_the_wings_to_the_composition_root(
    graph: dict[str, set[str]],
) -> None:
    reaching = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        if _area(module) == "top" and module not in COMPOSERS
        for target in targets
        if _area(target) in WINGS
    ]
    assert reaching == []
