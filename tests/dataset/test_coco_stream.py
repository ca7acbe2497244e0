"""The streaming COCO reader against the standard library's json on random, awkward documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalematch.dataset import load
from scalematch.dataset.formats import _jsonstream

# Strings full of the characters the piece cutter looks at.
TRICKY = st.text(alphabet='{}[],:"\\ ab\n\u00e9\u4e2d', max_size=12)
NUM = st.one_of(st.integers(-5, 5000), st.floats(0.01, 5000, allow_nan=False).map(lambda v: round(v, 2)))
POLY = st.lists(st.lists(NUM, min_size=6, max_size=10), min_size=1, max_size=2)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    n_img = draw(st.integers(1, 4))
    images = [{"id": i, "file_name": draw(TRICKY), "width": 640, "height": 480} for i in range(1, n_img + 1)]
    anns = []
    for k in range(draw(st.integers(0, 25))):
        ann: dict[str, Any] = {
            "id": k + 1,
            "image_id": draw(st.integers(1, n_img)),
            "category_id": draw(st.sampled_from([1, 2])),
            "bbox": [draw(NUM), draw(NUM), draw(st.floats(0.5, 300).map(lambda v: round(v, 2))), 7.25],
            "segmentation": draw(POLY),
            "area": draw(st.floats(1, 1e5)),
        }
        if draw(st.booleans()):
            ann["attributes"] = {"note": draw(TRICKY), "list": [{"k": draw(TRICKY)}, [1, [2]]]}
        if draw(st.booleans()):
            ann["iscrowd"] = 0
        keys = list(ann)
        order = draw(st.permutations(keys))
        anns.append({key: ann[key] for key in order})
    doc = {"info": {"description": draw(TRICKY)}, "images": images, "annotations": anns,
           "categories": [{"id": 1, "name": draw(TRICKY)}, {"id": 2, "name": "b"}]}  # fmt: skip
    order = draw(st.permutations(list(doc)))
    return {key: doc[key] for key in order}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents(), indent=st.sampled_from([None, 1]), piece=st.sampled_from([1, 40, 300]))
def test_stream_equals_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any], indent: int | None, piece: int
) -> None:
    monkeypatch.setattr(_jsonstream, "PIECE", piece)
    monkeypatch.setattr(_jsonstream, "BLOCK", 97)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    table = load(path, resize="none").table
    # boxes that miss their 640x480 image entirely are excluded (bbox_outside_image)
    anns = [a for a in doc["annotations"] if _overlaps(a["bbox"], 640, 480)]
    assert table["ann_id"].tolist() == [a["id"] for a in anns]
    assert np.array_equal(table[["x", "y", "w", "h"]].to_numpy(), np.array([a["bbox"] for a in anns]).reshape(-1, 4))
    assert table["area"].tolist() == [a["area"] for a in anns]
    names = {i["id"]: i["file_name"] for i in doc["images"]}
    assert table["file_name"].astype(str).tolist() == [names[a["image_id"]] for a in anns]


def _overlaps(box: list[float], width: float, height: float) -> bool:
    x, y, w, h = box
    return max(0.0, min(x + w, width) - max(x, 0.0)) * max(0.0, min(y + h, height) - max(y, 0.0)) > 0


def test_bbox_from_segmentation(tmp_path: Path) -> None:
    """Annotations without bbox get the bbox of their mask (polygon or RLE), computed with pycocotools."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(np.pad(np.ones((5, 7), np.uint8), ((10, 465), (20, 613)))))
    rle["counts"] = rle["counts"].decode("ascii")
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "categories": [{"id": 1, "name": "x"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[10, 10, 50, 10, 50, 30, 10, 30]]},
            {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 1, "segmentation": rle, "area": 35},
            {
                "id": 3,
                "image_id": 1,
                "category_id": 1,
                "bbox": [1, 1, 2, 2],
                "segmentation": [[1, 1, 3, 1, 3, 3]],
            },
        ],
    }
    path = tmp_path / "seg.json"
    path.write_text(json.dumps(doc))
    table = load(path, resize="none").table.set_index("ann_id")
    assert table.loc[1, ["x", "y", "w", "h"]].tolist() == [10, 10, 40, 20]
    assert table.loc[1, "area"] == 800  # no area given: w * h
    assert table.loc[2, ["x", "y", "w", "h"]].tolist() == [20, 10, 7, 5]
    assert bool(table.loc[2, "iscrowd"]) and table.loc[2, "area"] == 35
    assert table.loc[3, ["x", "y", "w", "h"]].tolist() == [1, 1, 2, 2]


def test_category_names_that_are_numbers_or_missing(tmp_path: Path) -> None:
    """A number used as a category name is that number written out; a category without one is named by its id."""
    cats = [{"id": 2, "name": 5}, {"id": 3, "name": 2.5}, {"id": 4}, {"id": 6, "name": None}, {"id": 7, "name": True}]
    doc = {"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}], "annotations": [], "categories": cats}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    assert load(path, resize="none").categories == {2: "5", 3: "2.5", 4: "4", 6: "6", 7: "7"}
