"""Records are judged in the file's order: an annotation whose box comes from its mask keeps its place (a later
record with its id is the duplicate), and ``strict`` names the first bad record of the file, whatever its reason."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shard_files import same

from scalematch.dataset import load, summarize, summarize_file
from scalematch.dataset.formats import _jsonstream
from scalematch.errors import DatasetError

IMAGES = [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}]
CATEGORIES = [{"id": 1, "name": "a"}]


def _box(aid: int, x: float, w: float) -> dict[str, Any]:
    return {"id": aid, "image_id": 1, "category_id": 1, "bbox": [x, 1, w, 5], "iscrowd": 0}


def _mask(aid: int, x: float, w: float) -> dict[str, Any]:
    polygon = [x, 10, x + w, 10, x + w, 40, x, 40]
    return {"id": aid, "image_id": 1, "category_id": 1, "segmentation": [polygon], "iscrowd": 0}


def _write(path: Path, annotations: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"images": IMAGES, "categories": CATEGORIES, "annotations": annotations}))
    return path


@pytest.mark.parametrize("seed", range(6))
def test_a_box_from_a_mask_keeps_its_place_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    annotations = []
    for k in range(40):  # ids drawn from a few, so that many repeat; every record has its own width
        aid, w = int(rng.integers(1, 12)), float(k + 1)
        annotations.append(_mask(aid, 5, w) if rng.random() < 0.4 else _box(aid, 5, w))
    path = _write(tmp_path / "a.json", annotations)
    first: dict[int, float] = {}  # brute force: the first record of each id, in file order
    for ann in annotations:
        first.setdefault(ann["id"], ann["bbox"][2] if "bbox" in ann else ann["segmentation"][0][2] - 5)
    table = load(path).table
    assert table["ann_id"].tolist() == list(first)
    assert table["w"].tolist() == list(first.values())
    want = summarize(load(path))
    assert want["excluded"] == {"duplicate_id": len(annotations) - len(first)}
    monkeypatch.setattr(_jsonstream, "PIECE", 300)  # a few records a piece, handed over as they come
    assert same(summarize_file(path, workers=1), want)  # the statistics taken while reading: the same records


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_strict_names_the_first_bad_record_of_the_file(tmp_path: Path, order: tuple[int, ...]) -> None:
    bad = [  # one record of each cross-record problem, ids 10, 11 and 12 (12 repeats 1)
        (dict(_box(10, 5, 4), category_id=5), "annotation id 10: category_id 5 is not among", "unknown_category"),
        (dict(_box(11, 5, 4), image_id=9), "annotation id 11: image_id 9 is not among", "unknown_image"),
        (_box(1, 5, 4), "annotation id 1 appears more than once", "duplicate_id"),
    ]
    records = [bad[k] for k in order]
    path = _write(tmp_path / "a.json", [_box(1, 5, 3), *(r for r, _, _ in records)])
    _, text, reason = records[0]
    with pytest.raises(DatasetError) as raised:
        load(path, strict=True)
    assert text in str(raised.value) and str(raised.value).endswith(f"[{reason}]")
