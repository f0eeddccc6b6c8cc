"""The import graph of ``kiosk/``: private names used across modules, and import cycles.

Run ``.venv/bin/python scripts/imports.py`` (``--json`` for the raw figures). It prints every
private name (``_x``) one module takes from another — imported, or read as ``module._x`` — and
every cycle among the package's modules, and exits 1 when there is either. ``tests/test_house.py``
runs it, so CI keeps the house free of both.

Imports under ``if TYPE_CHECKING:`` do not count (they never run). Imports inside functions do:
they are still one module leaning on another's insides, and a cycle through them is still a
cycle, only a deferred one.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "kiosk"


@dataclass
class Module:
    """One module of the package: its name, file and what it imports."""

    name: str
    path: Path
    is_package: bool
    imports: set[str] = field(default_factory=set)
    private: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, module, name) for each private name taken from another module."""


def is_private(name: str) -> bool:
    """``_x`` but not ``__x__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Module]:
    """Every module of the package, by dotted name."""
    found: dict[str, Module] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        found[name] = Module(name, path, is_package)
    return found


def absolute(module: Module, level: int, target: str | None) -> str:
    """The dotted name a relative import refers to."""
    if level == 0:
        return target or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else \
                test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def read(module: Module, known: dict[str, Module]) -> None:
    """Fill ``module.imports`` and ``module.private`` from its source."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    skipped = type_checking_nodes(tree)
    aliases: dict[str, str] = {}  # local name -> one of the package's modules

    def resolve(dotted: str) -> str | None:
        """The longest known module a dotted name starts with."""
        parts = dotted.split(".")
        while parts:
            name = ".".join(parts)
            if name in known:
                return name
            parts.pop()
        return None

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name)
                if target is None or target == module.name:
                    continue
                module.imports.add(target)
                if alias.asname:
                    aliases[alias.asname] = target
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node.level, node.module)
            base = resolve(source)
            if base is None:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:  # `from kiosk.qa import scorer`: the submodule itself
                    if submodule != module.name:
                        module.imports.add(submodule)
                    aliases[alias.asname or alias.name] = submodule
                    continue
                if base != module.name:
                    module.imports.add(base)
                    if is_private(alias.name):
                        module.private.append((node.lineno, base, alias.name))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and is_private(node.attr)):
            module.private.append((node.lineno, aliases[node.value.id], node.attr))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(found)


def package_edges(known: dict[str, Module]) -> dict[str, set[str]]:
    """The import graph, minus a package's edges to its own submodules.

    ``kiosk/qa/__init__.py`` re-exporting ``kiosk.qa.answerer`` while the answerer imports
    ``kiosk.qa.text`` is how packages work, not a cycle between the two.
    """
    graph: dict[str, set[str]] = {}
    for name, module in known.items():
        graph[name] = {t for t in module.imports
                       if not (module.is_package and t.startswith(name + "."))}
    return graph


def survey(root: Path = ROOT, package: str = PACKAGE) -> dict[str, object]:
    """Private names across modules, and cycles, as plain data."""
    known = modules(root, package)
    for module in known.values():
        read(module, known)
    private = sorted((str(m.path.relative_to(root)), line, source, name)
                     for m in known.values() for line, source, name in m.private
                     if source != m.name)
    return {
        "modules": len(known),
        "edges": sum(len(m.imports) for m in known.values()),
        "private": [{"file": f, "line": line, "from": source, "name": name}
                    for f, line, source, name in private],
        "cycles": cycles(package_edges(known)),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the survey; exit 1 if a private name crosses a module or a cycle exists."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    found = survey()
    private = found["private"]
    cycles_found = found["cycles"]
    assert isinstance(private, list) and isinstance(cycles_found, list)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(f"{found['modules']} modules, {found['edges']} imports between them")
        print(f"private names used across modules: {len(private)}")
        for item in private:
            print(f"  {item['file']}:{item['line']}: {item['from']}.{item['name']}")
        print(f"import cycles: {len(cycles_found)}")
        for component in cycles_found:
            print("  " + " ↔ ".join(component))
    return 1 if private or cycles_found else 0


if __name__ == "__main__":
    sys.exit(main())
