"""The static import graph of ``rlfa/``: no cycle, and each layer imports only the layers below.

Every ``import rlfa...`` and ``from rlfa... import ...`` counts wherever it stands in a
module (inside a function, under ``if __name__ == "__main__"``), so a lazy import cannot
hide a cycle. A package's ``__init__.py`` is the module named after the package;
``from rlfa.envs import baird`` is an edge to ``rlfa.envs.baird``, ``from rlfa.envs import
make`` one to ``rlfa.envs``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]

# Layers 2 (running), 3 (results) and 4 (studies: their options and jobs, the book's figure
# programs, workloads and figure helpers, DQN's and MinAtar's), each importing only the
# layers below; the entry points (experiments, benchmarks) stand above them all.
RUNNING = ("rlfa.runner", "rlfa.checkpoint", "rlfa.devices", "rlfa.files")
RESULTS = ("rlfa.stats", "rlfa.report", "rlfa.compare", "rlfa.logger")
STUDIES = ("rlfa.study", "rlfa.book", "rlfa.dqn_study", "rlfa.minatar_study")
ENTRY_POINTS = ("experiments", "benchmarks")
# Layer 1: the algorithms, and what they never import: how they are run, where their
# results are written, how those are summarised and drawn, the studies.
ALGORITHMS = ("rlfa.features", "rlfa.envs", "rlfa.targets", "rlfa.prediction", "rlfa.control",
              "rlfa.backprop", "rlfa.nets", "rlfa.replay")
NOT_FOR_ALGORITHMS = ("rlfa.runner", "rlfa.checkpoint", "rlfa.files", "rlfa.stats",
                      "rlfa.report", "rlfa.compare", "rlfa.logger", *STUDIES)


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (its file, whether it is a package's ``__init__``)."""
    found = {}
    for path in sorted((ROOT / "rlfa").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the rlfa modules it imports (the longest known prefix of each name)."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, (path, package) in known.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {resolve(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the package this module is in
                    base = name.split(".")[: len(name.split(".")) - node.level + package]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:  # a submodule by name, else a name in the module
                    full = f"{source}.{alias.name}"
                    targets.add(full if full in known else resolve(source))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def absolute_imports(path: Path) -> set[str]:
    """The modules ``path`` imports by absolute name, wherever the import stands."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module or "")
    return names


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def violations(lower: tuple[str, ...], upper: tuple[str, ...]) -> list[str]:
    """Edges from a module of ``lower`` to one of ``upper``, as ``"a -> b"``."""
    return [f"{source} -> {target}" for source, targets in sorted(import_graph().items())
            if within(source, lower) for target in sorted(targets) if within(target, upper)]


def test_the_graph_sees_lazy_and_main_block_imports():
    graph = import_graph()
    assert "rlfa.study" in graph["rlfa.__main__"]  # imported inside a function
    assert graph["rlfa.envs"] >= {"rlfa.envs.baird", "rlfa.envs.registry"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "modules importing each other, directly or not:\n" + "\n".join(
        ", ".join(component) for component in found)


def test_algorithms_never_import_running_results_or_studies():
    bad = violations(ALGORITHMS, NOT_FOR_ALGORITHMS)
    assert not bad, "algorithms importing what runs them or reads their results:\n" + \
        "\n".join(bad)


def test_running_imports_no_results_and_results_no_studies():
    bad = violations(RUNNING, RESULTS + STUDIES) + violations(RESULTS, STUDIES)
    assert not bad, "imports from a layer above:\n" + "\n".join(bad)


def test_every_module_the_rules_name_exists():
    """A module renamed or moved must not leave a rule that no longer checks anything."""
    graph = import_graph()
    named = ALGORITHMS + RUNNING + RESULTS + STUDIES
    assert [p for p in named if not any(within(m, (p,)) for m in graph)] == []


def test_no_module_of_rlfa_imports_an_entry_point():
    bad = [f"{name} -> {target}" for name, (path, _) in sorted(modules().items())
           for target in sorted(absolute_imports(path)) if within(target, ENTRY_POINTS)]
    assert not bad, "rlfa importing the studies or benchmarks that run it:\n" + "\n".join(bad)
