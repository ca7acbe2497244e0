"""The rendered help of every command reads well: plain metavars, no internal type names, every help text and
choice list whole, -h as --help, sizes stated width first; ``--version`` and ``python -m scalematch``."""

from __future__ import annotations

import re
import subprocess
import sys

import click
import pytest
import typer
from typer.testing import CliRunner

from scalematch import __version__
from scalematch.cli.main import app
from scalematch.presets import builtin_presets
from scalematch.profile import catalogue
from scalematch.profile.importers.config import builtin

GROUP = typer.main.get_group(app)
COMMANDS = sorted(GROUP.commands)
PLAIN_METAVAR = re.compile(r"^(\[?[A-Z][A-Za-z|.]*( [A-Z]+)?\]?|WxH|HxW|\[[a-z0-9|-]+\])$")
TYPE_NAMES = ("TEXT", "INTEGER", "FLOAT", "PATH", "BOOLEAN")


def render(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "250"}, prog_name="scalematch")
    assert result.exit_code == 0, result.output
    return result.stdout


def flat(text: str) -> str:
    """The help without the panel frames, on one line: a help text wrapped over lines reads whole again."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def command(name: str) -> click.Command:
    found = GROUP.get_command(click.Context(GROUP), name)  # through the group, as the help is rendered
    assert isinstance(found, click.Command)
    return found


def test_every_command_is_checked() -> None:
    assert COMMANDS == ["backbones", "erf", "explain", "profile", "recommend", "stats"]


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_has_no_type_names_and_nothing_cut(name: str) -> None:
    text = render(*([name] if name else []))
    assert "<" not in text and ">" not in text and "{" not in text
    shown = flat(text)
    params = command(name).params if name else GROUP.params
    for param in params:
        if getattr(param, "hidden", False):
            assert not any(opt in shown for opt in param.opts if opt.startswith("--"))
            continue
        help_text = getattr(param, "help", None)
        assert help_text, f"{name} {param.name}: no help"
        assert " ".join(help_text.split()) in shown, f"{name} {param.name}: help cut or mangled"
        if isinstance(param, click.Option) and param.is_flag:
            continue
        metavar = param.make_metavar(click.Context(command(name) if name else GROUP))
        assert metavar not in TYPE_NAMES and PLAIN_METAVAR.match(metavar), f"{name} {param.name}: {metavar!r}"
    if name:
        doc = command(name).help
        assert doc and " ".join(doc.split()) in shown


@pytest.mark.parametrize("name", COMMANDS)
def test_short_help_option(name: str) -> None:
    long = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "250"})
    short = CliRunner().invoke(app, [name, "-h"], env={"COLUMNS": "250"})
    assert short.exit_code == 0 and short.stdout == long.stdout


def test_choice_lists_are_complete() -> None:
    necks = [n for n in builtin("necks")]
    for name in ("profile", "recommend", "explain"):
        neck = next(p for p in command(name).params if p.name == "neck")
        assert all(n in (neck.help or "") for n in necks), (name, neck.help)
    detector = next(p for p in command("recommend").params if p.name == "detector")
    assert re.findall(r"[a-z0-9-]+", (detector.help or "").split("(")[1].split(")")[0]) == sorted(builtin_presets())


def test_sizes_are_stated_width_first() -> None:
    for name in ("profile", "erf", "stats", "recommend"):
        for param in command(name).params:
            if param.name in ("input_size", "image_size", "resize") and not getattr(param, "hidden", False):
                assert "WxH" in (param.help or "") and "width first" in (param.help or ""), (name, param.name)


def test_backbones_titles_are_whole() -> None:
    """Each line under a backbone is the head of its convention: never a cut inside parentheses."""
    out = CliRunner().invoke(app, ["backbones"]).stdout
    for entry in catalogue():
        title = entry["title"]
        assert entry["convention"].startswith(title)
        assert title.count("(") == title.count(")"), title
        assert f"  {title}\n" in out
    regnet = next(e for e in catalogue() if e["name"] == "regnetx_400mf")
    assert regnet["title"].endswith("stage depths 1, 2, 7, 12)")


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"scalematch {__version__}\n")
    for extra, shown in (["extra"], "'extra'"), (["stats", "x.json"], "'stats'"):
        result = CliRunner().invoke(app, ["--version", *extra])
        assert (result.exit_code, result.stdout, result.stderr) == (
            2, "", f"Error: --version takes no other argument; got {shown}\n")  # fmt: skip


def test_python_dash_m() -> None:
    done = subprocess.run([sys.executable, "-m", "scalematch", "--version"], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, f"scalematch {__version__}\n")
    bad = subprocess.run(
        [sys.executable, "-m", "scalematch", "profile", "resnet50", "--size", "0"], capture_output=True, text=True
    )
    assert (bad.returncode, bad.stderr) == (
        2,
        "Error: --size: expected W or WxH (width first, e.g. 800 or 1333x800) in positive pixels, got '0'\n",
    )
