"""The engine's layers stay in order: a module imports only from its own layer or lower ones, and no two modules
import each other, directly or through others. The rule is read from the code's imports (every import, including
the ones inside functions and under TYPE_CHECKING), so it cannot rot.

The layers, lowest first, as the README's layout section shows them::

    errors, values  →  source  →  lang  →  compiler  →  runtime  →  render  →  plugins  →  rows
                    →  documents  →  library  →  tabular  →  analysis  →  audit  →  server  →  cli

The package root (``skillcert/__init__.py``, the public API) and ``__main__`` stand above every layer.
The domain stays in the packs: no word of the domain appears in the engine's code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
PACKAGE = "skillcert"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "values"),
    ("source",),
    ("lang",),
    ("compiler",),
    ("runtime",),
    ("render",),
    ("plugins",),
    ("rows",),
    ("documents",),
    ("library",),
    ("tabular",),
    ("analysis",),
    ("audit",),
    ("server",),
    ("cli",),
]
TOP = ("__init__", "__main__")  # the public API and `python -m skillcert`
LEAVES = ("errors", "values")   # import nothing of the engine


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _is_package(module: str) -> bool:
    return (ENGINE.joinpath(*module.split(".")[1:]) / "__init__.py").is_file()


def _exists(module: str) -> bool:
    rel = module.split(".")[1:]
    return not rel or _is_package(module) or ENGINE.joinpath(*rel).with_suffix(".py").is_file()


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def _imports(module: str, path: Path) -> Iterator[str]:
    """Every engine module ``module`` imports (resolved to its dotted name)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import rules` imports the module rules
                sub = f"{target}.{alias.name}"
                yield sub if _exists(sub) else target


def _layer(module: str) -> int:
    first = module.split(".")[1] if "." in module else "__init__"
    if first in TOP:
        return len(LAYERS)
    for index, names in enumerate(LAYERS):
        if first in names:
            return index
    raise AssertionError(f"{module} belongs to no layer: add its folder to LAYERS and to the README's layout")


def _graph() -> dict[str, set[str]]:
    return {m: set(_imports(m, p)) - {m} for m, p in _modules().items()}


def test_every_module_belongs_to_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = [f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
             for m, targets in _graph().items() for t in sorted(targets) if _layer(t) > _layer(m)]
    assert wrong == []


def test_the_leaves_import_nothing_of_the_engine() -> None:
    graph = _graph()
    wrong = [f"{m} imports {sorted(graph[m])}" for m in graph
             if m.split(".")[1:2] and m.split(".")[1] in LEAVES and graph[m]]
    assert wrong == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    # a package's __init__ importing its own submodules (to re-export them) is not a cycle of concepts
    edges = {m: {t for t in ts if not (m != PACKAGE and t.startswith(m + ".") and _is_package(m))}
             for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return []

    for m in sorted(edges):
        if m not in state:
            cycle = visit(m)
            assert not cycle, " → ".join(cycle)


def test_every_module_says_what_it_owns() -> None:
    missing = [m for m, p in _modules().items() if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
               and p.stat().st_size > 0]
    assert missing == []


# The engine is generic: what an institution, an occupation or a region is lives in the packs.
DOMAIN_WORDS = re.compile(r"institution|机构|occupation|职业|技能|备案|认定|鉴定|评价机构", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_domain_word_in_the_engine(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path == ENGINE / "__init__.py":  # the package's one-line description says what the product is for
        text = text.split('"""', 2)[2]
    found = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
             if DOMAIN_WORDS.search(line)]
    assert found == []
