"""The house rules a reader relies on: packages in layers, no import cycles, formatted and linted code.

The import graph is read from the source (every `import`, including those inside functions, which is where the
cycles of old hid), not from what a run happens to load.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "qualcode"

# Lowest first. A package may import the packages of lower layers and `errors`, never one of its own layer or above.
LAYERS = [
    {"errors"},
    {"text"},
    {"store", "output"},
    {"codebook"},
    {"ingest"},
    {"suggest"},
    {"coding"},
    {"agreement"},
    {"export"},
    {"refi"},
    {"demo"},
    {"cli"},
    {"__main__"},
]
TOP_LEVEL_MODULES = {"__init__", "__main__", "errors", "demo"}
MAX_LINES = 600


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The qualcode modules NAME imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from pkg import module` is an edge to the module; `from module import name` one to the module.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t.startswith("qualcode") and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    # `from qualcode.x import y` where y is a function names the module x; the package itself is not an edge.
    return {name: imports(name, path, known) - {"qualcode"} for name, path in mods.items()}


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module != "qualcode" else "__init__"
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and to docs/architecture.md")


def test_the_top_level_holds_only_the_entry_points_and_the_errors():
    loose = {p.stem for p in PACKAGE.glob("*.py")} - TOP_LEVEL_MODULES
    assert not loose, f"modules at the top of src/qualcode belong in a package: {sorted(loose)}"


def test_every_package_says_what_it_owns_and_may_import():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.relative_to(ROOT)} needs a docstring: what it owns, what it may import"


def test_packages_import_only_the_layers_below_them():
    wrong = []
    for module, targets in graph().items():
        if module == "qualcode":
            continue
        mine, own_package = layer_of(module), module.split(".")[1]
        for t in targets:
            theirs = layer_of(t)
            if t.split(".")[1] == own_package:
                continue
            if theirs >= mine:
                wrong.append(f"{module} imports {t}")
    assert not wrong, "imports that run sideways or up the layers:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_back_through_others():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in g:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_layering_test_catches_an_upward_import(tmp_path):
    """A check that cannot fail proves nothing: an agreement module importing the CLI is reported."""
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from qualcode.cli import app\n", encoding="utf-8")
    found = imports("qualcode.agreement.bad", path, set(modules()))
    assert "qualcode.cli" in found and layer_of("qualcode.cli") > layer_of("qualcode.agreement.bad")


def test_no_module_outgrows_one_concern():
    big = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert not big, f"modules over {MAX_LINES} lines, split them by concern: {big}"


@pytest.mark.parametrize("command", [["format", "--check"], ["check"]], ids=["ruff format", "ruff check"])
def test_code_is_formatted_and_linted(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "src", "tests", "benchmarks", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout}{result.stderr}"
