"""docs/notebook.md runs as a notebook: its python blocks in order in one namespace, each printing what the page
shows, with names imported from ``scalematch`` alone."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOTEBOOK = DOCS / "notebook.md"


def _make_figures() -> ModuleType:
    if "make_figures" in sys.modules:
        return sys.modules["make_figures"]
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_figures"] = module
    spec.loader.exec_module(module)
    return module


mf = _make_figures()
CELLS = mf.snippets(NOTEBOOK)


def test_the_notebook_has_cells_that_share_state() -> None:
    assert len(CELLS) >= 5 and all(cell.notebook for cell in CELLS)
    assert all(cell.shown is not None for cell in CELLS if "save_figure" not in cell.code or "print" in cell.code)


def test_cells_import_from_scalematch_alone() -> None:
    for cell in CELLS:
        for node in ast.walk(ast.parse(cell.code)):
            if isinstance(node, ast.Import):
                assert [a.name for a in node.names] == ["scalematch"], f"line {cell.line}: {ast.unparse(node)}"
            elif isinstance(node, ast.ImportFrom):
                assert node.module == "scalematch", f"line {cell.line}: {ast.unparse(node)}"
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sm":
                import scalematch

                assert node.attr in scalematch.__all__, f"line {cell.line}: sm.{node.attr} is not exported"


def test_the_notebook_runs_and_prints_what_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(DOCS / "configs", tmp_path / "docs" / "configs")
    monkeypatch.chdir(tmp_path)
    printed = mf.run_notebook(NOTEBOOK)
    for cell, out in zip(CELLS, printed, strict=True):
        if cell.shown is not None:
            assert out.rstrip("\n") == cell.shown.rstrip("\n"), f"notebook.md:{cell.line}"
    for made in mf.figures_made(NOTEBOOK):
        assert (tmp_path / made).read_bytes()[:4] == b"\x89PNG"
    assert re.findall(r"docs/figures/[\w.-]+\.png", "".join(c.code for c in CELLS)) == [
        "docs/figures/notebook-overlay.png"
    ]
