"""Issue 14: the package's rooms. No import cycle, no import hidden in a function to dodge one, no module over 500
lines, and only the command line takes an argparse ``Namespace``. Read from the source with ``ast``: nothing is run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from constants import ROOT

PACKAGE = ROOT / "reasoner"
MODULES = sorted(PACKAGE.rglob("*.py"))
#: Imports a function may make on purpose: the command line imports what a command needs when it runs (a cold
#: ``spinekg`` starts fast), the DL check loads owlready2 (and Java) only when it is asked for, and the reasoner
#: imports its in-process engine only when it uses it.
LAZY = {
    "reasoner.cli": None,
    "reasoner.quality.gates": {"reasoner.quality.dl"},
    "reasoner.quality.release": {"reasoner.quality.dl"},
    # the in-process engine, only when a reasoner uses it (a one-case command uses the embedded store)
    "reasoner.reasoning.engine": {"reasoner.reasoning.inproc"},
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The reasoner modules an ``from … import …`` names (a name may be a submodule of a package)."""
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        absolute = ".".join(base + ([node.module] if node.module else []))
    else:
        absolute = node.module or ""
    if not absolute.startswith("reasoner"):
        return []
    out = [absolute]
    for alias in node.names:
        sub = f"{absolute}.{alias.name}"
        if (ROOT / (sub.replace(".", "/") + ".py")).exists() or (ROOT / sub.replace(".", "/")).is_dir():
            out.append(sub)
    return out


def _imports(path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """(module-level reasoner imports, [(line, module)] of imports inside functions), TYPE_CHECKING blocks aside."""
    module, is_package = _name(path), path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top, inner = set(), []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.ImportFrom):
            for target in _target(module, is_package, node):
                (inner.append((node.lineno, target)) if in_function else top.add(target))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return top, inner


def _graph() -> dict[str, set[str]]:
    names = {_name(p) for p in MODULES}
    graph = {}
    for path in MODULES:
        top, _ = _imports(path)
        graph[_name(path)] = {t for t in top if t in names and t != _name(path)}
    return graph


def test_issue14_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt == "reasoner" or node == "reasoner":  # the package's re-exports sit above everything
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_issue14_no_import_inside_a_function_to_dodge_a_cycle(path):
    module = _name(path)
    allowed = next((v for k, v in LAZY.items() if module == k or module.startswith(k + ".")), set())
    if allowed is None:
        return
    _, inner = _imports(path)
    hidden = [(line, target) for line, target in inner if target not in allowed]
    assert hidden == [], f"{module}: imports inside functions (move them to the top): {hidden}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_issue14_no_module_over_500_lines(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{path.relative_to(ROOT)}: {lines} lines; split it by meaning"


def test_issue14_only_the_command_line_takes_a_namespace():
    takers = []
    for path in MODULES:
        if _name(path).startswith("reasoner.cli"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg in node.args.args:
                    if arg.annotation is not None and "Namespace" in ast.unparse(arg.annotation) or arg.arg == "args":
                        takers.append(f"{_name(path)}.{node.name}")
    assert takers == [], f"argparse handlers outside reasoner/cli/: {takers}"


def test_the_layout_test_sees_a_cycle_and_a_hidden_import(tmp_path, monkeypatch):
    """The checks above can fail: a two-module cycle and a function-level import are found in a scratch package."""
    pkg = tmp_path / "reasoner"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("from .y import f\n")
    (pkg / "a" / "y.py").write_text("from .x import g\n\ndef h():\n    from ..a import x\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    global MODULES
    saved = MODULES
    MODULES = sorted(pkg.rglob("*.py"))
    try:
        with pytest.raises(AssertionError, match="reasoner.a.x -> reasoner.a.y -> reasoner.a.x"):
            test_issue14_no_import_cycle()
        with pytest.raises(AssertionError, match="imports inside functions"):
            test_issue14_no_import_inside_a_function_to_dodge_a_cycle(pkg / "a" / "y.py")
    finally:
        MODULES = saved
