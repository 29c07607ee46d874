"""The package's shape, read from its source: imports point down the layers, no module imports
itself back through others, and each outside system's library lives in one adapter module."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "src" / "amber"

# Highest first. A module belongs to the first layer one of whose prefixes it starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "front end",
        (
            "amber.__main__",
            "amber.entry",
            "amber.dispatch",
            "amber.cli",
            "amber.daemon",
            "amber.mcp_server",
            "amber.mcp_transport",
            "amber.data.shim",  # the stand-alone script `amber init` copies into a project
        ),
    ),
    ("use case", ("amber.usecases", "amber.compose")),
    ("service", ("amber.services",)),
    (
        "adapter",
        (
            "amber.stores",
            "amber.embedders",
            "amber.chat",
            "amber.ollama_api",
            "amber.skills",
            "amber.skill_dirs",
            "amber.sections",
            "amber.hosts",
            "amber.host_toml",
        ),
    ),
]

# The library of each outside system, and the one module allowed to import it.
ADAPTER_OF = {
    "qdrant_edge": "amber.stores.edge",
    "qdrant_client": "amber.stores.server",
    "ollama": "amber.ollama_api",
    "httpx": "amber.ollama_api",
    "onnxruntime": "amber.embedders.builtin",
    "tokenizers": "amber.embedders.builtin",
    "rank_bm25": "amber.stores.bm25",
    "yaml": "amber.skills",
}
# Front-end frameworks stay inside their front end.
FRAMEWORKS = {
    "typer": "amber.cli",
    "click": "amber.cli",
    "rich": "amber.cli",
    "mcp": "amber.mcp_",
    "uvicorn": "amber.mcp_",
    "anyio": "amber.mcp_",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(tree: ast.Module, known: set[str]) -> set[str]:
    """Every module an import statement anywhere in the tree names (function bodies too).
    `from amber.cli import invocation` names amber.cli.invocation, not the package it is in
    (whose `__init__` Python runs for any of its modules); `from amber.cli import run` names
    amber.cli."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found


def _layer(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return len(LAYERS)  # a leaf


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(tree, known) & known for name, tree in modules.items()}


def test_the_layer_table_names_real_modules() -> None:
    known = set(_modules())
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            assert any(m == prefix or m.startswith(prefix) for m in known), prefix
    for library, module in ADAPTER_OF.items():
        assert module in known, (library, module)


def test_imports_only_point_down_the_layers() -> None:
    """The package root is left out: it holds the version (read by every layer) and hands out
    the use cases as the public API on first use (checked below)."""
    upward = [
        (module, target)
        for module, targets in _graph().items()
        for target in targets
        if "amber" not in (module, target) and _layer(target) < _layer(module)
    ]
    assert upward == []


def test_the_package_root_imports_nothing_of_amber_while_it_loads() -> None:
    """`amber` is imported before any of its modules; its public API is loaded on first use."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    top_level = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(
            name.startswith("amber")
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        )
    ]
    assert top_level == []


def test_no_module_imports_itself_back() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if target == "amber" or target == module:
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_each_outside_library_lives_in_one_adapter_module() -> None:
    users: dict[str, set[str]] = defaultdict(set)
    for module, tree in _modules().items():
        for name in _imports(tree, set()):
            users[name.split(".")[0]].add(module)
    for library, adapter in ADAPTER_OF.items():
        assert users[library] == {adapter}, library
    for library, home in FRAMEWORKS.items():
        outside = {m for m in users[library] if not m.startswith(home)}
        assert users[library] and not outside, library
