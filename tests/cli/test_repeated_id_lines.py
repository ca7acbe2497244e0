"""What a COCO file with a repeated annotation id prints on stderr, command by command, as a process: the one
``Error:`` line of its bad input and nothing else (no numpy warning: the records of the id that the box table
leaves out can have a side of 0 or below, and get input sizes all the same)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = [{"id": 1, "width": 320, "height": 240, "file_name": "a.jpg"},
          {"id": 2, "width": 640, "height": 480, "file_name": "b.jpg"}]  # fmt: skip
CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]


def _ann(i: int, image: int, category: int, bbox: list[float], crowd: int = 0) -> dict[str, Any]:
    return {"id": i, "image_id": image, "category_id": category, "bbox": bbox, "area": 1, "iscrowd": crowd}


FILES = {
    # id 8's later record (image 2) has no size; id 7 repeats among the file's images
    "zero.json": [_ann(7, 1, 1, [10, 10, 50, 40]), _ann(8, 1, 2, [100, 100, 30, 30]),
                  _ann(7, 2, 2, [200, 100, 120, 90]), _ann(9, 2, 1, [5, 5, 20, 20]), _ann(8, 2, 1, [0, 0, 0, 0])],
    # id 7's first record has a negative width
    "negative.json": [_ann(7, 1, 1, [10, 10, -5, 40]), _ann(7, 2, 1, [100, 50, 80, 60])],
    # id 7's last record is a crowd: torchvision reads both places as that crowd
    "crowd_last.json": [_ann(7, 1, 1, [10, 10, 50, 40]), _ann(7, 2, 1, [100, 50, 80, 60], crowd=1)],
    # id 7's last record has a box torch reads (true as 1) but scalematch's type checks refuse
    "bool_box.json": [_ann(7, 1, 1, [10, 10, 50, 40]), _ann(7, 2, 1, [True, 50, 80, 60])],
}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("repeated")
    for name, records in FILES.items():
        document = {"images": IMAGES, "categories": CATEGORIES, "annotations": records}
        (where / name).write_text(json.dumps(document))
    return where


def _run(folder: Path, *args: str) -> tuple[int, str]:
    """``python -m scalematch ARGS`` in ``folder`` with this checkout's package: exit code and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "scalematch", *args, "-q"], cwd=folder, env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )  # fmt: skip
    return done.returncode, done.stderr


ATSS = (
    "Error: zero.json: annotation id 7 appears more than once among the records of the file's images, and "
    "mmdetection 3.3's CocoDataset stops on a repeated annotation id (atss cannot be simulated); give each "
    "annotation its own id [duplicate_id]\n"
)
CROWD = (
    "Error: crowd_last.json: no usable object to match (every record is excluded or read as a crowd: 2 crowd, "
    "excluded: duplicate_id 1; torchvision's CocoDetection reads annotation id 7 at 2 places as the id's last "
    "record, a crowd)\n"
)
STRICT = (
    "Error: zero.json: annotation id 8 (annotations[4]): expected bbox width and height > 0, got [0.0, 0.0, 0.0, "
    "0.0] [bbox_nonpositive]\n"
)

BOOL_BOX = (
    "Error: bool_box.json: annotation id 7 is listed in image 1, where torchvision's CocoDetection reads the last "
    "record of the id, and scalematch's own type checks refuse that record ('bbox' [True, 50, 80, 60]: the toolkit "
    "stops there or reads it its own way; retinanet cannot be simulated); give each annotation its own id "
    "[duplicate_id]\n"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["recommend", "zero.json"], (0, "")),
        (["recommend", "zero.json", "--detector", "atss"], (2, ATSS)),
        (["recommend", "zero.json", "--rule", "fcos"], (0, "")),
        (["stats", "zero.json", "--csv", "zero.csv"], (0, "")),
        (["recommend", "negative.json"], (0, "")),
        (["recommend", "crowd_last.json"], (2, CROWD)),
        (["recommend", "zero.json", "--strict"], (2, STRICT)),
        (["recommend", "bool_box.json"], (2, BOOL_BOX)),
    ],
)
def test_stderr_holds_the_error_line_alone(folder: Path, args: list[str], expected: tuple[int, str]) -> None:
    assert _run(folder, *args) == expected


def test_reading_warns_nothing(folder: Path) -> None:
    import scalematch as sm

    for name in ("zero.json", "negative.json"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = sm.read_annotations(str(folder / name))
        assert data.repeats is not None and len(data.repeats)
