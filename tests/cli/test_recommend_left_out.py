"""``scalematch recommend``: the images a preset's toolkit leaves out of its training set are not simulated, and the
text (a ``note:`` line), the JSON (``images_left_out``) and the report say how many; ``stats`` keeps them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scalematch.cli.main import app

NOTE = (
    "note: 1 object in 1 image not simulated: torchvision 0.29's detection reference leaves out 1 image whose "
    "records all have a box side of 1 px or less (_coco_remove_images_without_annotations)"
)


def _thin(tmp_path: Path) -> Path:
    """Image 1 holds a 1 px wide pole alone, image 2 an 80 x 60 box (a 30 x 200 image 3 a box too)."""
    images = [
        {"id": 1, "file_name": "1.jpg", "width": 400, "height": 300},
        {"id": 2, "file_name": "2.jpg", "width": 640, "height": 480},
        {"id": 3, "file_name": "3.jpg", "width": 30, "height": 200},
    ]
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 1, 60], "area": 60, "iscrowd": 0},
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [100, 50, 80, 60], "area": 4800, "iscrowd": 0},
        {"id": 3, "image_id": 3, "category_id": 1, "bbox": [5, 10, 20, 60], "area": 1200, "iscrowd": 0},
    ]
    path = tmp_path / "thin.json"
    categories = [{"id": 1, "name": "pole"}]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_text_json_and_report_count_the_images_left_out(tmp_path: Path) -> None:
    path = _thin(tmp_path)
    text = run("recommend", str(path), "-q")
    assert text.splitlines()[0] == "thin.json: 2 objects"
    assert NOTE in text.splitlines()
    doc = json.loads(run("recommend", str(path), "-q", "--json"))
    assert doc["positives"]["objects"] == 2
    assert doc["images_left_out"] == {
        "images": 1, "objects": 1, "by_reason": {"empty_boxes": 1}, "note": NOTE.removeprefix("note: "),
    }  # fmt: skip
    run("recommend", str(path), "-q", "--out", str(tmp_path / "r"))
    page = (tmp_path / "r" / "report.html").read_text()
    assert f"<p>{NOTE.removeprefix('note: ').replace(chr(39), '&#39;')}.</p>" in page  # (Jinja's escape of ')
    saved = json.loads((tmp_path / "r" / "recommendation.json").read_text())
    assert saved["images_left_out"] == doc["images_left_out"]
    atss = run("recommend", str(path), "-q", "--detector", "atss")
    assert atss.splitlines()[0] == "thin.json: 2 objects"
    assert (
        "note: 1 object in 1 image not simulated: mmdetection 3.3's training dataset leaves out 1 image with a side "
        "under 32 px (filter_cfg min_size)"
    ) in atss.splitlines()


def test_a_resize_sweep_simulates_the_same_images(tmp_path: Path) -> None:
    doc = json.loads(
        run(
            "recommend",
            str(_thin(tmp_path)),
            "-q",
            "--json",
            "--resize",
            "shortest-edge:800,1333;shortest-edge:400,666",
        )
    )
    assert doc["positives"]["objects"] == 2
    assert doc["images_left_out"]["objects"] == 1


def test_stats_describes_every_image(tmp_path: Path) -> None:
    doc = json.loads(run("stats", str(_thin(tmp_path)), "--json"))
    assert "images_left_out" not in doc
    assert (doc["images"], doc["annotations"]) == (3, 3)
