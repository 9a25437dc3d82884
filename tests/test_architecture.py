"""The architecture stays easy to see: imports point downward, never in a cycle, and no
package imports another package's private names."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "eengezin"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(type_only: bool = False) -> dict[str, set[str]]:
    """module -> the eengezin modules it imports (any depth; imports under TYPE_CHECKING only
    with ``type_only``)."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text("utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if not type_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(
                    node.test):
                node.body = []  # type-only imports never run
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                if target.startswith(PACKAGE):
                    found.add(target)
                    for alias in node.names:  # `from . import cache` imports a module
                        candidate = f"{target}.{alias.name}"
                        if (SRC / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                                SRC / Path(*candidate.split(".")) / "__init__.py").exists():
                            found.add(candidate)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        graph[name] = found - {name}
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of ``edges`` closes, as the path around it."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1 and nxt in path:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return cycles


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        for target in targets:
            a, b = _package(module), _package(target)
            if a != b and a != PACKAGE and b != PACKAGE:
                edges.setdefault(a, set()).add(b)
    assert not _cycles(edges)


def test_no_import_cycle_between_modules():
    """Not even through imports made for type checking only."""
    graph = _imports(type_only=True)
    # a package's __init__ re-exporting its own modules is not a cycle worth reporting
    edges = {m: {t for t in ts if not (m.startswith(t + ".") and t in graph)} for m, ts in graph.items()}
    assert not _cycles(edges)


def test_no_package_imports_another_packages_private_names():
    offenders = []
    for path in SRC.rglob("*.py"):
        name = _module_name(path)
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            own = _package(name)
            for part in target.split(".")[1:]:
                if part.startswith("_") and _package(target) != own:
                    offenders.append(f"{name} imports {target}")
            if _package(target) != own:
                offenders.extend(f"{name} imports {target}.{a.name}" for a in node.names
                                 if a.name.startswith("_") and not a.name.startswith("__"))
    assert not offenders, offenders


def test_the_core_does_no_io_and_imports_no_shell_or_edge():
    graph = _imports()
    core = [m for m in graph if m.startswith(("eengezin.process", "eengezin.rules",
                                              "eengezin.traject"))]
    edges = ("eengezin.engine", "eengezin.store", "eengezin.cli", "eengezin.migration",
             "eengezin.checker", "eengezin.testing")
    bad = sorted(f"{m} -> {t}" for m in core for t in graph[m] if t.startswith(edges))
    assert not bad, bad
