"""Every ``console`` example in README.md is run and must print exactly what the README shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```console\n\$ (scalematch [^\n]*)\n(.*?)```", re.S)
EXAMPLES = BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example_output(command: str, shown: str) -> None:
    args = shlex.split(command)[1:]
    if args[0] == "erf":
        pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    result = CliRunner().invoke(app, [*args, "--quiet"] if args[0] in ("recommend", "stats") else args)
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == shown.rstrip("\n")


def test_readme_is_a_front_door() -> None:
    """Short (the reference lives in docs/), with the two set-up commands before anything else."""
    text = README.read_text(encoding="utf-8")
    assert len(text) <= 8000, len(text)
    first_block = text.index("```")
    assert text[first_block:].startswith("```bash\n"), "the set-up commands come first"
    commands = text[first_block:].split("```")[1].splitlines()[1:]
    last = [c.split("#")[0].split("&&")[-1].strip() for c in commands]
    assert last == ["scalematch recommend", "python -m pytest -q"]
