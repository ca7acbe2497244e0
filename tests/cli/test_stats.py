"""`scalematch stats` on good input: default sample, JSON golden file and its invariants, CSV, text."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from scalematch.dataset import sample_path

GOLDEN = Path(__file__).parents[1] / "golden"
DATA = Path(__file__).parent.parent / "data"


def _stats(app: typer.Typer, *args: str) -> Any:
    result = CliRunner().invoke(app, ["stats", *args])
    assert result.exit_code == 0, result.output
    return result


def test_json_golden_on_the_sample(app: typer.Typer, request: pytest.FixtureRequest) -> None:
    out = json.loads(_stats(app, "--json").stdout)
    out["source"] = Path(out["source"]).name
    golden = GOLDEN / "stats_sample.json"
    if request.config.getoption("--update-goldens"):
        golden.write_text(json.dumps(out, indent=2) + "\n")
    assert out == json.loads(golden.read_text())


def test_json_invariants(app: typer.Typer) -> None:
    """Totals add up, for every policy."""
    for policy in ("none", "shortest-edge:800,1333", "fixed:300x300", "multi-scale:640-800,1333"):
        out = json.loads(_stats(app, "--json", "--resize", policy, str(sample_path())).stdout)
        cats = out["per_category"]
        assert sum(c["annotations"] for c in cats) == out["annotations"]
        assert sum(c["crowd"] for c in cats) == out["crowd"]
        for k in ("small", "medium", "large"):
            assert sum(c["size_classes"][k] for c in cats) == out["size_classes"][k]
        assert sum(out["size_classes"].values()) >= out["annotations"]  # boundary areas count twice
        q = out["size_in"]
        assert q["min"] <= q["q05"] <= q["q25"] <= q["q50"] <= q["q75"] <= q["q95"] <= q["max"]
        assert math.isclose(out["objects_per_image"]["mean"] * out["images"], out["annotations"])
        assert out["resize"] == policy
        assert ("size_in_hi" in out) == policy.startswith("multi-scale")


def test_multi_scale_ends_bracket(app: typer.Typer) -> None:
    out = json.loads(_stats(app, "--json", "--resize", "multi-scale:640-800,1333").stdout)
    lo = json.loads(_stats(app, "--json", "--resize", "shortest-edge:640,1333").stdout)
    hi = json.loads(_stats(app, "--json", "--resize", "shortest-edge:800,1333").stdout)
    assert out["size_in"] == lo["size_in"] and out["size_in_hi"] == hi["size_in"]


def test_csv_writes_the_table(app: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "boxes.csv"
    target.write_text("old")
    result = _stats(app, "--csv", str(target), "--resize", "fixed:300x300", str(DATA / "rbc_valid.json"))
    assert result.stdout.endswith(f"\n\nwrote {target} (470 rows)\n") and result.stderr == ""
    table = pd.read_csv(target)
    assert len(table) == 470 and list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    assert {"ann_id", "file_name", "category", "w_in", "h_in", "size_in", "max_side_in", "aspect"} <= set(table)
    assert (table["scale_x"] == 300 / 416).all()
    assert table["w_in"].tolist() == pytest.approx((table["w"] * 300 / 416).tolist())


def test_csv_under_json_says_what_it_wrote_on_stderr(app: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "boxes.csv"
    result = _stats(app, "--json", "--csv", str(target), str(DATA / "rbc_valid.json"))
    assert json.loads(result.stdout)["annotations"] == 470
    assert result.stderr == f"wrote {target} (470 rows)\n"


def test_text_report(app: typer.Typer) -> None:
    text = _stats(app, "--by-category").stdout
    assert text.startswith(f"{sample_path()} (coco), resize shortest-edge:800,1333\n")
    assert "images 100 (0 without objects), annotations 830, crowd 9, categories 80" in text
    assert "small 407 (49.0%), medium 240 (28.9%), large 183 (22.0%)" in text
    assert "      1 person                      250" in text


def test_json_always_holds_the_category_table(app: typer.Typer) -> None:
    """--by-category adds the text table; the JSON document has it (per_category) with or without the flag."""
    plain = json.loads(_stats(app, "--json").stdout)
    assert json.loads(_stats(app, "--json", "--by-category").stdout) == plain
    text = _stats(app, "--by-category").stdout
    person = next(c for c in plain["per_category"] if c["name"] == "person")
    assert len(plain["per_category"]) == plain["categories"] == 80
    assert f"      1 {'person':<24} {person['annotations']:>6}" in text and person["annotations"] == 250


def test_format_override(app: typer.Typer, tmp_path: Path) -> None:
    copy = tmp_path / "annotations.data"
    copy.write_bytes((DATA / "rbc_valid.json").read_bytes())
    out = json.loads(_stats(app, "--json", "--format", "coco", str(copy)).stdout)
    assert (out["format"], out["annotations"]) == ("coco", 470)


def test_progress_bar_only_for_long_reads_and_never_when_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    from scalematch.cli.progress import LONG_READ_BYTES, progress_bar

    with progress_bar(enabled=False) as update:
        assert update is None
    with progress_bar(enabled=True) as update:
        assert update is not None
        update(1 << 20, 10 << 20)  # a short read: no bar
    assert capsys.readouterr().err == ""
    with progress_bar(enabled=True) as update:
        assert update is not None
        update(LONG_READ_BYTES // 2, 2 * LONG_READ_BYTES)
    assert capsys.readouterr().err != ""  # the bar was started (rich draws nothing more off a terminal)


def test_an_output_where_no_later_read_would_look_is_written(tmp_path: Path) -> None:
    """A YOLO dataset with its data.yaml: --csv at a place the reader looks after that file (the folder above the
    dataset) is written, as no read takes it (review round 41, F4); a place it looks before (a data.yaml in the
    labels folder above the split given) stays refused, as it would shadow the dataset's own."""
    import shutil

    from scalematch.cli.main import app

    data = tmp_path / "w" / "y"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "yolo_rbc", data)
    assert (data / "data.yaml").is_file()
    above = tmp_path / "w" / "data.yaml"
    done = CliRunner().invoke(app, ["stats", str(data / "labels" / "test"), "-q", "--csv", str(above)])
    assert done.exit_code == 0, done.output
    assert above.read_text(encoding="utf-8").startswith("ann_id,")
    shadow = data / "labels" / "data.yaml"
    refused = CliRunner().invoke(app, ["stats", str(data / "labels" / "test"), "-q", "--csv", str(shadow)])
    assert refused.exit_code == 2 and not shadow.exists()
    assert refused.stderr == (
        f"Error: --csv {shadow}: is {shadow}, a file a later read of the input would take as part of it (a YOLO "
        "dataset's class names); choose another file\n"
    )
