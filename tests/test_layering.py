"""The package's layering, read from the import graph (no import is executed).

Every module belongs to a *component*: a stage folder (``text``, ``index``, ``answer`` …) or one
of the top-level base modules. Components are ranked from the bottom up; a module may import
its own component and components ranked below it, never one above or beside it. Imports under
``if TYPE_CHECKING:`` are annotations only and do not count. The one upward edge allowed is a
*display hook*: ``__rich__`` / ``_repr_html_`` of a result type imports ``present`` when it is
called, as pandas' ``DataFrame._repr_html_`` does. Within the package there are no import cycles.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kefu_copilot"

#: Bottom to top. A component may import components of lower layers (and itself); components
#: sharing a layer are independent of each other.
LAYERS: list[set[str]] = [
    {"_errors", "_fs"},
    {"_data"},
    {"_models"},
    {"text"},
    {"config"},
    {"present"},
    {"embed", "llm", "emotion", "state"},
    {"index"},
    {"ingest"},
    {"retrieval"},
    {"answer"},
    {"presales"},
    {"agent"},
    {"reply"},
    {"_resources"},
    {"_copilot"},
    {"_pool", "testing"},
    {"evals", "insights", "integrations"},
    {"cli"},
]
RANK = {component: rank for rank, layer in enumerate(LAYERS) for component in layer}
DISPLAY_HOOKS = {"__rich__", "_repr_html_"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["kefu_copilot", *parts])


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id in ("TYPE_CHECKING", "_TYPE_CHECKING")) or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """``(imported module, enclosing function or None)`` for every runtime import."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[str, str | None]] = []
    known = {_module_name(p) for p in PACKAGE.rglob("*.py")}

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other, function)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name if function is None else function)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("kefu_copilot"):
                        found.append((alias.name, function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = base[: len(base) - (child.level - 1)]
                    target = ".".join(anchor + ([child.module] if child.module else []))
                elif child.module and child.module.startswith("kefu_copilot"):
                    target = child.module
                else:
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in known else target, function))
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def _graph() -> dict[str, list[tuple[str, str | None]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_component_has_a_layer() -> None:
    components = {_component(m) for m in _graph()} - {"__init__"}
    assert components <= set(RANK), f"components without a layer: {components - set(RANK)}"


def test_lower_layers_never_import_higher_ones() -> None:
    violations = []
    for module, imports in _graph().items():
        source = _component(module)
        if source == "__init__":
            continue  # the public facade re-exports from everywhere (lazily)
        for target, function in imports:
            dest = _component(target)
            if dest in (source, "__init__") and dest != "__init__":
                continue
            if dest == "__init__":
                violations.append(f"{module} imports the package facade")
                continue
            if dest == "present" and function in DISPLAY_HOOKS:
                continue
            if dest == "cli" and source != "cli":
                violations.append(f"{module} imports {target} (only cli imports cli)")
            elif RANK[dest] >= RANK[source]:
                violations.append(f"{module} ({source}) imports {target} ({dest})")
    assert not violations, "\n".join(violations)


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imports in _graph().items():
        for target, function in imports:
            if _component(target) == "present" and function in DISPLAY_HOOKS:
                continue
            if target != module:
                edges[module].add(target)
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(sorted(scc))

    for v in list(edges):
        if v not in index:
            strongconnect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_lazy_imports() -> None:
    """A guard on the guard: function-level imports are part of the graph."""
    graph = _graph()
    lazy = [t for imports in graph.values() for t, function in imports if function]
    assert lazy, "no function-level import found: the checker is not reading them"
    assert any(
        t.startswith("kefu_copilot.text") for t, _ in graph["kefu_copilot.answer._extractive"]
    )
