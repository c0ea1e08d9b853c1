"""The package's structure: parts as folders, no import cycles, no reaching into private modules.

Read from the source with ``ast`` (nothing is imported), so the rules hold
for lazy (function-level) imports too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "kt_ext"
MAX_LINES = 420  # "no module over ~400 lines"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """kt_ext modules ``name`` imports (``from a import b`` counts ``a.b`` if it is a module)."""
    tree = ast.parse(MODULES[name].read_text())
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def part(name: str) -> str:
    """The room a module belongs to: its folder under kt_ext, or the shared top level."""
    parts = name.split(".")
    in_folder = len(parts) > 2 or (MODULES[name].name == "__init__.py" and len(parts) > 1)
    return parts[1] if in_folder else "kt_ext"


def test_no_module_imports_itself_back() -> None:
    """No cycle among modules (a package's __init__ re-exporting its own modules aside)."""

    def edges(name: str) -> set[str]:
        return {m for m in GRAPH[name] if not name.startswith(m + ".") and m != "kt_ext"}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for m in sorted(edges(name)):
            if state.get(m) == 1:
                cycle = stack[stack.index(m) :] + [m]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m)
        stack.pop()
        state[name] = 2

    for name in MODULES:
        if name not in state:
            visit(name)


def test_the_parts_depend_on_each_other_in_one_direction() -> None:
    rooms = {part(n) for n in MODULES} - {"kt_ext"}
    needs = {r: set() for r in rooms}
    for name, imported in GRAPH.items():
        for m in imported:
            a, b = part(name), part(m)
            if a in rooms and b in rooms and a != b:
                needs[a].add(b)
    for a in rooms:
        for b in needs[a]:
            assert a not in needs[b], f"{a} and {b} import each other"


def test_nothing_imports_a_private_module_of_another_part() -> None:
    offenders = []
    for name, imported in GRAPH.items():
        for m in imported:
            private = any(p.startswith("_") and p != "__init__" for p in m.split("."))
            if private and part(m) != part(name):
                offenders.append(f"{name} imports {m}")
    assert not offenders, offenders


def test_no_module_is_long() -> None:
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert not {n: k for n, k in long.items() if k > MAX_LINES}


def test_validating_a_config_imports_no_tensorflow() -> None:
    code = (
        "import sys\n"
        "from hydra import compose, initialize_config_dir\n"
        "import kt_ext.config.cli, kt_ext.run.sweep\n"
        "from kt_ext.config import validate\n"
        f"with initialize_config_dir(config_dir={str(ROOT / 'conf')!r}, version_base='1.3'):\n"
        "    for s in ('random', 'bayes', 'bohb', 'zoom', 'tpe', 'hyperband', 'grid'):\n"
        "        validate(compose('config', overrides=[f'strategy={s}']))\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
