"""The package's shape: only views, forms and the web plumbing import Flask, and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tracker"

#: Distributions of the web layer. `werkzeug.security` is a password-hashing function, not
#: request handling, so the accounts' domain may use it.
WEB_LIBRARIES = ("flask", "flask_babel", "flask_limiter", "flask_login", "flask_wtf", "werkzeug", "wtforms",
                 "jinja2", "markupsafe")
ALLOWED_WEB_IMPORTS = ("werkzeug.security",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def may_import_flask(path: Path) -> bool:
    """Views, forms, the web plumbing, the admin blueprint and the app factory."""
    relative = path.relative_to(PACKAGE)
    return (path.name in ("views.py", "forms.py", "blueprint.py") or relative.parts[0] == "web"
            or relative == Path("__init__.py"))


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, at any depth (functions included)."""
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in `source`, the text of `module`."""
    tree = ast.parse(source)
    here = module.split(".")
    base = here if is_package else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # `from pkg import submodule` depends on the submodule, not only on the package.
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if is_module(candidate) else target))
    return found


def is_module(dotted: str) -> bool:
    if not dotted.startswith("tracker"):
        return False
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_only_views_forms_and_the_web_plumbing_import_flask() -> None:
    offenders = []
    for path in python_files():
        if may_import_flask(path):
            continue
        for line, module in imports_of(path):
            if module.split(".")[0] in WEB_LIBRARIES and not module.startswith(ALLOWED_WEB_IMPORTS):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert not offenders, "domain modules must not import the web layer:\n" + "\n".join(offenders)


def test_the_walker_sees_imports_inside_functions_and_resolves_relative_ones() -> None:
    source = "from ..ledger import record\n\ndef f():\n    from flask import request\n    import werkzeug.routing\n"
    found = imports_in(source, "tracker.donations.rates")
    assert found == [(1, "tracker.ledger"), (4, "flask"), (5, "werkzeug.routing")]
    assert not may_import_flask(PACKAGE / "campaigns" / "operations.py")
    assert may_import_flask(PACKAGE / "campaigns" / "views.py") and may_import_flask(PACKAGE / "web" / "access.py")


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in python_files():
        name = module_name(path)
        graph[name] = {module for _line, module in imports_of(path) if is_module(module) and module != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
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


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
