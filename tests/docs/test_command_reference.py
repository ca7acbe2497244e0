"""docs/reference/ documents every command of the typer app and every option of each, on the command's own page.

The app is walked as click sees it (every command, every parameter that is not hidden, every name of each
option, e.g. ``--quiet`` and ``-q``); a name counts as mentioned when it stands on the page as a whole word
(``--min-iou`` is not mentioned by ``--min-ious``). The checker is run on a planted app too, so it is seen to fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer

from scalematch.cli.main import app

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"

# command -> its reference page
PAGES = {
    "profile": "profile.md",
    "backbones": "backbones.md",
    "stats": "dataset.md",
    "recommend": "recommend.md",
    "explain": "explain.md",
    "erf": "erf.md",
}


def _commands(typer_app: typer.Typer) -> dict[str, click.Command]:
    group = typer.main.get_command(typer_app)
    assert isinstance(group, click.Group)
    return dict(group.commands)


def _mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def undocumented(typer_app: typer.Typer, reference: Path, pages: dict[str, str]) -> list[str]:
    """What the reference misses: commands without a page, and per command the option names and argument
    metavars its page does not mention (hidden parameters excepted)."""
    missing = []
    for name, command in _commands(typer_app).items():
        page = reference / pages.get(name, f"{name}.md")
        if not page.is_file():
            missing.append(f"{name}: no reference page ({page.name})")
            continue
        text = page.read_text(encoding="utf-8")
        if not _mentioned(f"scalematch {name}", text):
            missing.append(f"{name}: {page.name} never shows 'scalematch {name}'")
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            if isinstance(param, click.Option):
                names = [*param.opts, *param.secondary_opts]
            else:
                names = [(param.name or "").upper()]
            missing += [f"{name} {n}: not in {page.name}" for n in names if not _mentioned(n, text)]
    return missing


def test_every_command_and_option_is_in_the_reference() -> None:
    assert undocumented(app, REFERENCE, PAGES) == []


def test_the_app_options_are_documented() -> None:
    """Options of ``scalematch`` itself (before the command, e.g. a version flag): in the README or a reference page."""
    group = typer.main.get_command(app)
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in [REFERENCE.parents[1] / "README.md", *REFERENCE.glob("*.md")]
    )
    names = [n for p in group.params if not getattr(p, "hidden", False) for n in [*p.opts, *p.secondary_opts]]
    assert [n for n in names if not _mentioned(n, text)] == []


def test_every_command_has_its_page_named() -> None:
    assert set(_commands(app)) == set(PAGES)


def test_the_reference_pages_are_linked_from_the_readme() -> None:
    readme = (REFERENCE.parents[1] / "README.md").read_text(encoding="utf-8")
    for page in sorted(REFERENCE.glob("*.md")):
        assert f"(docs/reference/{page.name})" in readme, page.name


def test_backbones_page_lists_every_builtin_with_its_receptive_fields() -> None:
    from scalematch.profile import build, catalogue, profile

    text = (REFERENCE / "backbones.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| ([\w.-]+)(?: \(neck\))? \| [^|]+ \| ?([\d/]*) ?\|$", text, re.M)
    }
    for entry in catalogue():
        assert entry["name"] in rows, f"backbones.md's table misses {entry['name']}"
        if entry["kind"] == "backbone":
            p = profile(build(entry["name"]))
            rf = "/".join(str(p[t].x.rf) for t in ("C2", "C3", "C4", "C5") if t in p.taps)  # type: ignore[union-attr]
            assert rows[entry["name"]] == rf, entry["name"]


def _planted() -> typer.Typer:
    planted = typer.Typer()

    @planted.command("run")
    def run(
        path: str = typer.Argument("x"),
        min_iou: float = typer.Option(0.1, "--min-iou", "-m"),
        secret: bool = typer.Option(False, "--secret", hidden=True),
    ) -> None:
        """A command to document."""

    @planted.command("other")
    def other() -> None:
        """A command without a page."""

    return planted


@pytest.mark.parametrize(
    ("page", "missing"),
    [
        ("`scalematch run PATH [--min-iou X | -m X]`", []),
        ("`scalematch run PATH [--min-ious X | -m X]`", ["run --min-iou: not in run.md"]),
        ("`scalematch run [--min-iou X] [-m X]`", ["run PATH: not in run.md"]),
        ("`scalematch running PATH --min-iou -m`", ["run: run.md never shows 'scalematch run'"]),
        ("`scalematch run PATH --min-iou`", ["run -m: not in run.md"]),
    ],
)
def test_a_planted_omission_is_caught(tmp_path: Path, page: str, missing: list[str]) -> None:
    (tmp_path / "run.md").write_text(page + "\n", encoding="utf-8")
    found = undocumented(_planted(), tmp_path, {})
    assert found == [*missing, "other: no reference page (other.md)"]
