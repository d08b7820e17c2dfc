"""The package's import graph has no circles but the engine's own.

Every ``import`` and ``from ... import`` of every module counts, the ones inside functions too: a
deferred import hides a circle from Python, not from a reader. ``from .pkg import name`` is an
edge to ``pkg.name`` when that is a module, else to ``pkg``. A module's own package is not an
edge: importing ``minigan.nn.conv`` runs ``minigan/nn/__init__.py`` first, which imports
``minigan.nn.conv`` back, and every package would be a circle of that kind.
"""
import ast
import pathlib

import minigan

ROOT = pathlib.Path(minigan.__file__).parent

# The engine: tensor.py gives Tensor its operators and backward() through the ops and autograd,
# and every op and Function makes Tensors. One engine split over files, as torch/_tensor.py and
# torch/autograd are; tensor.py's last line says so where it imports them.
ENGINE = {"minigan.tensor", "minigan.autograd", "minigan.ops"}


def allowed(circle):
    return all(m in ENGINE or m.startswith("minigan.ops.") for m in circle)


def module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """{module: set of minigan modules it imports}."""
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                source = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def circles(graph):
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_deferred_and_relative_imports():
    graph = import_graph()
    assert "minigan.tensor" in graph["minigan"]  # `from .tensor import Tensor`
    assert "minigan.nn.functional" in graph["minigan.gan.losses"]  # `from ..nn import functional as F`
    assert "minigan.demo" in graph["minigan.cli"]  # `from . import demo`, inside main()


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_but_the_engines():
    unexpected = [sorted(c) for c in circles(import_graph()) if not allowed(c)]
    assert not unexpected, f"import circles: {unexpected}"
