"""Every command and code block of docs/ runs and prints what the page shows, so the docs cannot drift.

``console`` blocks: each ``$ scalematch ...`` command is run with typer's CliRunner from a scratch copy of the
repository layout (docs/configs), and its stdout must equal the output shown, or begin with it when the shown
output ends with a ``...`` line (abbreviated). ``python`` blocks are executed in a fresh namespace; a ``text``
block right after one is what it must print. Figures land in the scratch folder, never in docs/figures.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_figures"] = module
    spec.loader.exec_module(module)
    return module


mf = _load()
PAGES = mf.pages()
COMMANDS = [c for page in PAGES for c in mf.commands(page)]
SNIPPETS = [s for page in PAGES for s in mf.snippets(page) if not s.notebook]  # notebooks: tests/docs/test_notebook.py


def _id(item: object) -> str:
    return f"{item.page.relative_to(DOCS)}:{item.line}"  # type: ignore[attr-defined]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with docs/configs, as the repository root is for a reader."""
    shutil.copytree(DOCS / "configs", tmp_path / "docs" / "configs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_docs_have_blocks() -> None:
    assert len(PAGES) >= 11
    assert len(COMMANDS) >= 20
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("cmd", COMMANDS, ids=_id)
def test_console_command(cmd: object, scratch: Path) -> None:
    if cmd.command.split()[1:2] == ["erf"]:  # type: ignore[attr-defined]  # erf runs the network
        pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    code, stdout, stderr = mf.run_command(cmd)
    assert code == 0, stderr
    shown = cmd.shown  # type: ignore[attr-defined]
    if cmd.abbreviated:  # type: ignore[attr-defined]
        head = shown.rstrip("\n").splitlines()[:-1]
        assert head, "an abbreviated block must show at least one line"
        assert stdout.splitlines()[: len(head)] == head
    else:
        assert stdout.rstrip("\n") == shown.rstrip("\n")
    for made in re.findall(r"docs/figures/[\w.-]+\.png", cmd.command):  # type: ignore[attr-defined]
        assert (scratch / made).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("snippet", SNIPPETS, ids=_id)
def test_python_block(snippet: object, scratch: Path) -> None:
    printed = mf.run_snippet(snippet)
    shown = snippet.shown  # type: ignore[attr-defined]
    if shown is not None:
        assert printed.rstrip("\n") == shown.rstrip("\n")
    for made in re.findall(r"docs/figures/[\w.-]+\.png", snippet.code):  # type: ignore[attr-defined]
        assert (scratch / made).read_bytes()[:4] == b"\x89PNG"


def test_every_figure_is_made_by_a_shown_command_and_committed() -> None:
    shown = {Path(made).name for page in PAGES for made in mf.figures_made(page)}
    for page in PAGES:
        for ref in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            target = (page.parent / ref).resolve()
            assert target.is_file(), f"{page.name}: {ref} does not exist"
            if target.is_relative_to(ROOT / "reports"):
                continue  # made by the scripts in reports/ (make_example.py, make_rf_rule_figure.py)
            assert target.parent == DOCS / "figures", f"{page.name}: {ref} is not under docs/figures or reports/"
            assert target.name in shown, f"{page.name}: no command on the pages makes {ref}"
    committed = {p.name for p in (DOCS / "figures").glob("*.png")}
    assert committed == shown, "docs/figures/ and the figures the pages make differ"


def test_links_between_pages_resolve() -> None:
    for page in PAGES:
        for ref in re.findall(r"\]\(([^)#:]+\.(?:md|yaml))(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / ref).is_file(), f"{page.name}: broken link {ref}"


def test_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in PAGES:
        if page.name != "index.md":
            assert f"({page.relative_to(DOCS).as_posix()})" in index, f"index.md does not link {page.name}"


def test_explain_figure_command_draws_the_profile_sets(scratch: Path) -> None:
    """The index's pooling figure: the drawn rectangles are the profile's unit sets (4 regions, union 4x4)."""
    from matplotlib.patches import Rectangle

    from scalematch.profile import from_layers, profile
    from scalematch.profile.explain import explain
    from scalematch.report.explain_plot import explain_figure

    exp = explain(profile(from_layers(["conv_3x3_stride_1", "pooling_2x2_stride_2"])))
    boxes = {
        (p.get_gid(), p.get_xy(), p.get_width(), p.get_height())
        for p in explain_figure(exp).axes[0].patches
        if isinstance(p, Rectangle) and p.get_gid() not in (None, "edge")
    }
    want = {
        (f"region L1 {r.unit[0]},{r.unit[1]}", (x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0)
        for r in exp.regions
        for y0, y1, x0, x1 in r.rectangles()
    } | {("union", (0.5, 0.5), 4, 4)}
    assert boxes == want
    assert len(exp.regions) == 4
