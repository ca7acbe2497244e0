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


def test_readme_lists_every_builtin_with_its_receptive_fields() -> None:
    from scalematch.profile import build, catalogue, profile

    text = README.read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| ([\w.-]+)(?: \(neck\))? \| [^|]+ \| ?([\d/]*) ?\|$", text, re.M)
    }
    for entry in catalogue():
        assert entry["name"] in rows, f"README's built-in table misses {entry['name']}"
        if entry["kind"] == "backbone":
            p = profile(build(entry["name"]))
            rf = "/".join(str(p[t].x.rf) for t in ("C2", "C3", "C4", "C5") if t in p.taps)  # type: ignore[union-attr]
            assert rows[entry["name"]] == rf, entry["name"]
