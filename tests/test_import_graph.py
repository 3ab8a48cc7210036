"""No import cycle inside `ganlab/`, counting imports at any depth (module level, inside functions and methods).

The graph is read from the source with `ast`, so an import that only runs on some path (a CLI subcommand, a
lazy import in a function) counts as much as one at the top of a module. Its nodes are the modules under
`ganlab/` (a package is its `__init__`); its edges, for each `import` statement:

- `import a.b.c` -> `a.b.c`; `from a.b import c` -> `a.b.c` when that is a module, else `a.b` (a name defined
  or re-exported by `a/b/__init__.py`). Relative imports are resolved against the importing module's package.
- Parent packages that Python initialises on the way (`a`, `a.b` for `a.b.c`) are not edges: they run before
  any of their submodules, whoever asks, so they cannot close a cycle that the explicit imports do not.
- A submodule that names its own package, `from ganlab.jobs import X` inside `ganlab/jobs/x.py`, IS an edge to
  `ganlab/jobs/__init__.py`: when that `__init__` re-exports from `x` (directly or through other submodules)
  the two form a cycle, and whether it works depends on the order of lines in `__init__`. The fix is to
  import X from the submodule that defines it.
- Imports under `if TYPE_CHECKING:` count too. They never run, so they cannot fail at import time, but a cycle they
  close is still two modules that each need the other to be understood (the type checker, a reader), and a type
  hint is one refactor away from a real import. Where a module needs another's type only to name it, the fix is
  to move what both need into a third module, or to describe it with a Protocol on the side that is imported.
Modules outside `ganlab` (torch, numpy, streamlit, ...) are not nodes.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_names(root: Path) -> dict[str, Path]:
    """{dotted module name: file} for every .py file of the package at `root` (a package is its __init__)."""
    out = {}
    for f in sorted(root.rglob("*.py")):
        parts = f.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, type_checking: bool = True):
    """Every Import / ImportFrom node at any depth; those under `if TYPE_CHECKING:` too unless type_checking=False."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        children = list(ast.iter_child_nodes(node))
        if not type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            children = node.orelse
        todo.extend(children)


def imported_modules(name: str, path: Path, modules: set[str], type_checking: bool = True) -> set[str]:
    """The modules of `modules` that module `name` (file `path`) imports explicitly (see the module docstring)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _imports(ast.parse(path.read_text(), str(path)), type_checking):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
            continue
        if node.level:  # from . import x / from ..y import z, relative to this module's package
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            if sub in modules:
                out.add(sub)
            elif target in modules:
                out.add(target)
    out.discard(name)
    return out


def import_graph(root: Path, type_checking: bool = True) -> dict[str, set[str]]:
    """{module: modules it imports}; type_checking=False leaves out the imports under `if TYPE_CHECKING:`."""
    mods = module_names(root)
    return {name: imported_modules(name, path, set(mods), type_checking) for name, path in mods.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle path [a, b, ..., a] per strongly connected component that has a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_path_in(graph, comp) for comp in components]


def _path_in(graph: dict[str, set[str]], comp: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first search back to it)."""
    start = min(comp)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start, start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in component {sorted(comp)}")


# ---- the finder itself, on a small made-up package -----------------------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, src in files.items():
        f = tmp_path / "pkg" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(src))
    return tmp_path / "pkg"


def test_finder_sees_function_level_relative_and_from_imports(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg import b\n",  # pkg.b is a module: an edge to it, not to pkg/__init__
        "b.py": "def f():\n    from .sub.c import g\n",  # inside a function, relative
        "sub/__init__.py": "from pkg.sub.c import g\n",  # re-export: __init__ -> c
        "sub/c.py": "import os\n\ndef g():\n    from .. import a\n",  # back to a: a -> b -> c -> a
    })
    graph = import_graph(root)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.sub.c"}, "pkg.sub": {"pkg.sub.c"},
                     "pkg.sub.c": {"pkg.a"}}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]


def test_finder_counts_a_submodule_importing_its_own_package(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "jobs/__init__.py": "from pkg.jobs.manager import Manager\n",
        "jobs/status.py": "STATUS = 1\n",
        "jobs/manager.py": "from pkg.jobs.status import STATUS\n\ndef f():\n    from pkg.jobs import Manager\n",
    })
    graph = import_graph(root)
    assert graph["pkg.jobs.status"] == set() and graph["pkg.jobs.manager"] == {"pkg.jobs.status", "pkg.jobs"}
    assert find_cycles(graph) == [["pkg.jobs", "pkg.jobs.manager", "pkg.jobs"]]


def test_finder_counts_type_only_imports(tmp_path):
    """A cycle closed only by `if TYPE_CHECKING:` imports (either spelling) is a cycle."""
    root = _package(tmp_path, {
        "__init__.py": "",
        "engine.py": "from pkg.work import Work\n",
        "work.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.engine import Engine\n",
        "a.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import b\n",
        "b.py": "from pkg import a\n",
    })
    graph = import_graph(root)
    assert graph["pkg.work"] == {"pkg.engine"} and graph["pkg.a"] == {"pkg.b"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"], ["pkg.engine", "pkg.work", "pkg.engine"]]
    assert find_cycles(import_graph(root, type_checking=False)) == []


# ---- ganlab ----------------------------------------------------------------------------------------------------
def test_ganlab_has_no_import_cycle():
    graph = import_graph(REPO / "ganlab")
    assert {"ganlab.cli.main", "ganlab.cli.common", "ganlab.engine.trainer"} <= set(graph)
    assert "ganlab.cli.train" in graph["ganlab.cli.main"]  # the graph does see the package's own imports
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in ganlab/:\n" + "\n".join(" -> ".join(c) for c in cycles)
