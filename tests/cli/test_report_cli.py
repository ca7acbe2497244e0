"""``scalematch recommend --out DIR`` / ``--report``: the files, the refusal without --force, the JSON equality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

FILES = ["categories.png", "load.png", "overlay.png", "profile.png", "recommendation.json", "report.html",
         "shapes.png"]  # fmt: skip


def test_out_writes_the_report_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    first = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == f"wrote {out}/report.html (with 5 figures as PNG and recommendation.json)"
    assert sorted(p.name for p in out.iterdir()) == FILES
    html = (out / "report.html").read_text()
    assert f"<code>scalematch recommend -q --rule rf --out {out}</code>" in html
    before = (out / "report.html").read_bytes()

    again = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out)])
    assert again.exit_code == 2
    assert again.stderr == f"Error: --out {out}: a report is already there; pass --force to replace it\n"
    assert (out / "report.html").read_bytes() == before

    forced = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out), "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout) == json.loads((out / "recommendation.json").read_text())
    assert forced.stderr == f"wrote {out}/report.html\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_flag_uses_reports_dataset_stem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--report"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "reports" / "coco_val2014_100").iterdir()) == FILES
    again = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--report"])
    assert again.exit_code == 2
    assert again.stderr == (
        "Error: --report reports/coco_val2014_100: a report is already there; pass --force to replace it\n"
    )


def test_report_folder_is_named_after_the_dataset_root(tmp_path: Path) -> None:
    from scalematch.errors import OptionError
    from scalematch.report.bundle import report_folder

    voc = tmp_path / "VOC2007"
    (voc / "Annotations").mkdir(parents=True)
    (tmp_path / "coco" / "labels").mkdir(parents=True)
    (tmp_path / "instances_val2017.json").write_text("{}")
    assert report_folder(voc / "Annotations") == Path("reports/VOC2007")
    assert report_folder(voc) == Path("reports/VOC2007")
    assert report_folder(tmp_path / "coco" / "labels") == Path("reports/coco")
    assert report_folder(tmp_path / "instances_val2017.json") == Path("reports/instances_val2017")
    with pytest.raises(OptionError, match=r"^--report: the dataset name '..json' gives no folder name; use --out DIR$"):
        report_folder(Path("..json"))


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.html"
    target.write_text("x")
    result = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(target), "--force"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: --out {target}: expected a folder, got a file\n"
