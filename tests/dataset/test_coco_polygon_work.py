"""COCO records without a box, whose box pycocotools makes by rasterising their polygons: the work is bounded per
record (MAX_POLYGON_PERIMETER) and per file (MAX_FILE_PERIMETER), the records beyond counted as bbox_invalid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalematch.dataset.formats import coco
from scalematch.dataset.loader import read_annotations
from scalematch.errors import DatasetError


def _file(tmp_path: Path, sides: list[int]) -> Path:
    """One 1000x1000 image, a square polygon of each side (its edges run 4 x side pixels), no bbox."""
    anns = [
        {"id": k + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 1.0,
         "segmentation": [[0, 0, side, 0, side, side, 0, side]]}
        for k, side in enumerate(sides)
    ]  # fmt: skip
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 1000, "height": 1000}], "annotations": anns,
           "categories": [{"id": 1, "name": "a"}]}  # fmt: skip
    path = tmp_path / "polygons.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_polygons_of_a_file_are_rasterised_up_to_the_file_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 records just under the one-record bound took 30 s (review round 43, D-F12): once the file's polygons
    have run MAX_FILE_PERIMETER pixels of edges, the next records are bbox_invalid; the boxes made are the squares."""
    monkeypatch.setattr(coco, "MAX_FILE_PERIMETER", 1000)
    path = _file(tmp_path, [100, 100, 50, 100])  # 400 + 400 + 200 = 1000: the third fits, the fourth not
    result = read_annotations(path, resize="none", workers=1)
    assert result.excluded == {"bbox_invalid": 1}
    assert sorted(result.table["w"].tolist()) == [50.0, 100.0, 100.0]
    with pytest.raises(DatasetError) as caught:
        read_annotations(path, resize="none", workers=1, strict=True)
    assert str(caught.value) == (
        f"{path}: annotation id 4 (annotations[3]): no 'bbox', and the file's polygons before it already run 1,000 "
        "pixels of edges, and pycocotools rasterises at most 1,000 for a file in bounded time [bbox_invalid]"
    )
