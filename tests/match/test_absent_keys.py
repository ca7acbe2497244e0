"""COCO records without a key that a toolkit reads with ``[key]``: the toolkit's own code stops on them with a
``KeyError`` (mmdetection's CocoDataset on ``area``, torchvision's CocoDetection records under the reference's
crowd filter on ``iscrowd``); the readers count them (``LoadResult.absent``, whichever way a piece is decoded)
and the presets that simulate them say so in one ``note:`` line. Skipped when a toolkit is not installed, unless
SCALEMATCH_REQUIRE_TOOLKITS=1 (CI sets it)."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import absent_note, evaluate
from scalematch.presets import load_preset

IMAGES = [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}]
CATEGORIES = [{"id": 1, "name": "cat"}]
RECORDS: list[dict[str, Any]] = [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 30], "area": 1200, "iscrowd": 0},
    {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 40, 30], "iscrowd": 0},  # no area
    {"id": 3, "image_id": 1, "category_id": 1, "bbox": [200, 100, 40, 30], "area": 1200},  # no iscrowd
    {"id": 4, "image_id": 1, "category_id": 1, "area": 1200, "iscrowd": 0,  # no bbox: the mask's
     "segmentation": [[300, 100, 340, 100, 340, 130, 300, 130]]},
]  # fmt: skip


def _file(folder: Path, records: list[dict[str, Any]], name: str = "a.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"images": IMAGES, "categories": CATEGORIES, "annotations": records}))
    return path


def test_every_reading_counts_the_same(tmp_path: Path) -> None:
    """Typed pieces, and a piece read record by record (a bad record in it), count alike."""
    typed = load(_file(tmp_path, RECORDS[:3], "typed.json"))
    bad = {"id": 9, "image_id": 1, "category_id": 1, "bbox": "oops"}
    plain = load(_file(tmp_path, [*RECORDS, bad], "plain.json"))
    assert typed.absent == {"area": 1, "iscrowd": 1}
    assert plain.absent == {"area": 1, "bbox": 1, "iscrowd": 1}


def test_mmdetection_stops_on_a_record_without_area_and_atss_notes_it(tmp_path: Path) -> None:
    need("mmdet")
    import mmdet_ref

    path = _file(tmp_path, RECORDS[:3])
    dataset: Any = object.__new__(mmdet_ref._load()["CocoDataset"])
    dataset.ann_file, dataset.backend_args, dataset.data_prefix = str(path), None, {"img": ""}
    dataset._metainfo, dataset.return_classes = {"classes": ("cat",)}, False
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(KeyError, match="area"):
        dataset.load_data_list()
    result = evaluate(load(path), load_preset("atss"), workers=1)
    assert result.absent == {"area": 1}
    assert absent_note(result.preset, result.absent) == (
        "1 annotation record without 'area': mmdetection's CocoDataset stops on such a record (KeyError); "
        "simulated all the same (area w·h)"
    )


def test_torchvision_stops_on_a_record_without_iscrowd_and_its_presets_note_it(tmp_path: Path) -> None:
    need("torchvision")
    from torchvision.datasets import CocoDetection

    path = _file(tmp_path, RECORDS[:3])
    with contextlib.redirect_stdout(io.StringIO()):
        target = CocoDetection(str(tmp_path), str(path))._load_target(1)
    with pytest.raises(KeyError, match="iscrowd"):
        [obj for obj in target if obj["iscrowd"] == 0]  # the detection reference's crowd filter
    result = evaluate(load(path), load_preset("retinanet"), workers=1)
    assert result.absent == {"iscrowd": 1}  # (area: the reference's preset reads none)
    assert absent_note(result.preset, result.absent) == (
        "1 annotation record without 'iscrowd': torchvision's detection reference stops on such a record "
        "(KeyError); simulated all the same (not a crowd)"
    )


def test_a_complete_file_has_no_note(tmp_path: Path) -> None:
    result = evaluate(load(_file(tmp_path, RECORDS[:1])), load_preset("retinanet"), workers=1)
    assert result.absent == {}
    assert absent_note(result.preset, result.absent) is None


def test_the_json_and_the_report_carry_the_note_the_text_prints(tmp_path: Path) -> None:
    """``--json``, recommendation.json and report.html hold the line the text prints, and its counts: those of
    the records the file lacks the key in (counted here from the file), among the keys the preset reads."""
    from typer.testing import CliRunner

    from scalematch.cli.main import app

    path = _file(tmp_path, RECORDS)
    records = json.loads(path.read_text())["annotations"]
    lacking = {key: sum(key not in r for r in records) for key in ("bbox", "iscrowd")}  # retinanet's keys
    runner = CliRunner()
    text = runner.invoke(app, ["recommend", str(path), "--detector", "retinanet", "--workers", "1"])
    assert text.exit_code == 0, text.output
    note = next(line for line in text.output.splitlines() if "KeyError" in line).removeprefix("note: ")
    given = runner.invoke(app, ["recommend", str(path), "--detector", "retinanet", "--workers", "1", "--json"])
    assert given.exit_code == 0, given.output
    assert json.loads(given.output)["records_without_key"] == {"counts": lacking, "note": note}
    out = tmp_path / "report"
    made = runner.invoke(app, ["recommend", str(path), "--detector", "retinanet", "-q", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert json.loads((out / "recommendation.json").read_text())["records_without_key"]["note"] == note
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"<p>{note}.</p>" in [html.unescape(p) for p in re.findall(r"<p>[^<]*</p>", page)]
