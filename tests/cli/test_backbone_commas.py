"""A backbone path holding a comma: an existing file named by the whole value is one backbone (``--backbone`` and
``backbone=``, rule and detector mode); otherwise an error about the comma list says that ',' separates
backbones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalematch as sm
from scalematch.cli.main import app
from scalematch.errors import ConfigError, OptionError
from scalematch.match.api import resolve_preset

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "backbones"


@pytest.fixture
def comma_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of resnet18.yaml named ``b_a,b.yaml`` in the working folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(CONFIGS / "resnet18.yaml", "b_a,b.yaml")
    return "b_a,b.yaml"


def test_an_existing_file_is_one_backbone_in_both_modes(comma_file: str) -> None:
    by_text = sm.recommend(None, rule="rf", backbone=comma_file)
    assert isinstance(by_text, sm.Design)
    assert by_text.to_dict() == sm.recommend(None, rule="rf", backbone=Path(comma_file)).to_dict()
    swept = sm.sweep(None, rule="rf", backbone=comma_file)
    assert isinstance(swept, sm.RuleSweep) and len(swept.designs) == 1
    assert resolve_preset("retinanet", backbone=comma_file).backbone == comma_file
    for args in (["--rule", "rf"], []):
        result = CliRunner().invoke(app, ["recommend", "-q", "--json", *args, "--backbone", comma_file])
        assert result.exit_code == 0, result.output


def test_a_comma_list_without_such_a_file_says_that_commas_separate_backbones(comma_file: str) -> None:
    note = "(',' separates backbones in 'b_a,b2.yaml', and no file has that whole name)"
    result = CliRunner().invoke(app, ["recommend", "--backbone", "b_a,b2.yaml"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: --backbone: a detector preset takes one backbone {note}; several are swept with --rule\n",
    )
    result = CliRunner().invoke(app, ["recommend", "--rule", "rf", "--backbone", "b_a,b2.yaml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --backbone: unknown backbone 'b_a'; expected")
    assert result.stderr.endswith(f"{note}\n")
    with pytest.raises(OptionError, match=r"^backbone: recommend\(\) takes one \(',' separates backbones in "):
        sm.recommend(None, rule="rf", backbone="b_a,b2.yaml")
    with pytest.raises(ConfigError, match=r"^resnet9.yaml: no such config file \(',' separates backbones in "):
        sm.sweep(None, rule="rf", backbone="resnet18,resnet9.yaml")
    with pytest.raises(OptionError, match=r"^backbone: recommend\(\) takes one; sweep\(\) takes several$"):
        sm.recommend(None, rule="rf", backbone=["resnet18", "resnet50"])  # a list: no comma to speak of
