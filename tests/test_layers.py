"""The app's layers import one way (issue 18, item 0).

Services hold the domain; above them the live layer (rooms, the publisher,
counters, presence, housekeeping, the socket handlers) and the web pages.
A service that imported the publisher or a socket module, even inside a
function to dodge the cycle, would tie the domain to one transport and make
every job or desk that composes services drag the whole server along. The
graph below is read from the source: every import, at the top of a module
or inside a function.
"""

import ast
from pathlib import Path

import pytest

from workshop.services import writes

PACKAGE = Path(__file__).resolve().parent.parent / "workshop"
# What services may build on, besides each other: storage, time, limits, names.
BELOW_SERVICES = {
    "workshop.clock",
    "workshop.config",
    "workshop.extensions",
    "workshop.limits",
    "workshop.models",
    "workshop.rooms",
    "workshop.sqlite",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:  # a submodule by name, or a name from the module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_the_graph_is_read_from_the_source(graph):
    """The reading itself: known edges are found, at the top and in functions."""
    assert "workshop.services.changes" in graph["workshop.publisher"]
    assert "workshop.sockets" in graph["workshop"]  # inside create_app
    assert "workshop.rooms" in graph["workshop.services.live"]


def test_no_module_imports_itself_back(graph):
    """No cycle among the app's modules, however indirect."""
    done, path, cycles = set(), [], []

    def visit(module):
        if module in path:
            cycles.append(path[path.index(module) :] + [module])
            return
        if module in done:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert cycles == []


def test_services_import_nothing_above_them(graph):
    """Services know nothing of sockets, pushes or pages: they touch entities
    and name rooms (for pushes after their commit), the publisher does the rest."""
    for module, imported in graph.items():
        if module.startswith("workshop.services"):
            above = {
                other
                for other in imported
                if not other.startswith("workshop.services") and other not in BELOW_SERVICES
            }
            assert above == set(), module


def test_every_operation_module_is_registered_without_a_list_kept_by_hand(app):
    """A module of services that declares operations is imported by the app
    (writes.load_operations): its operations are known, none is a silent
    unknown_op."""
    declared = set()
    for path in (PACKAGE / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "op":
                declared.add(node.args[0].value)
    assert len(declared) > 20
    assert declared <= set(writes.OPS)
