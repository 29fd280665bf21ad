"""The binding's Rust modules form layers: values and errors at the bottom, classes and functions
by domain above them, no module reaching back into one that depends on it (no import circle)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in SRC.glob("*.rs")} - {"lib"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        text = (SRC / f"{name}.rs").read_text()
        graph[name] = set(re.findall(r"crate::([a-z_]+)", text)) & modules - {name}
    return graph


def test_modules_form_layers_without_an_import_circle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise AssertionError(f"import circle: {cycle}")
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    # The bottom layer depends on no other module of the binding.
    assert graph["errors"] == set() and graph["wrappers"] == set()
