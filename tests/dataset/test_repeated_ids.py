"""Repeated image and category ids in a COCO file: the last record is kept, in the first one's place, as
pycocotools' index (``imgs[id] = img``, ``cats[id] = cat``) keeps it, on every reading path."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pycocotools.coco import COCO

from scalematch.dataset import load
from scalematch.dataset.images import ImageTable
from scalematch.dataset.shards import read_shards
from scalematch.dataset.stats import summarize_file

IMAGES = [
    {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
    {"id": 2, "file_name": "c.jpg", "width": 300, "height": 200},
    {"id": 1, "file_name": "b.jpg", "width": 100, "height": 1000},
    {"id": 2, "file_name": "d.jpg", "width": 333.5, "height": 201},  # not a float32 size once widened
]
CATEGORIES = [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}, {"id": 1, "name": "truck"}]
ANNOTATIONS = [
    {"id": 7, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600, "iscrowd": 0},
    {"id": 8, "image_id": 2, "category_id": 2, "bbox": [5, 5, 20, 30], "area": 600, "iscrowd": 0},
]


def _file(path: Path, images: list[Any] = IMAGES, categories: list[Any] = CATEGORIES) -> Path:
    path.write_text(json.dumps({"images": images, "categories": categories, "annotations": ANNOTATIONS}))
    return path


def _pycocotools(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def test_the_last_image_and_category_record_is_kept_as_pycocotools_keeps_it(tmp_path: Path) -> None:
    path = _file(tmp_path / "dup.json")
    coco = _pycocotools(path)
    data = load(path, resize="none")
    assert data.excluded == {"duplicate_id": 3}
    assert data.images == len(coco.imgs) == 2
    assert data.categories == {c["id"]: c["name"] for c in coco.cats.values()} == {1: "truck", 2: "bus"}
    for row in data.table.itertuples():
        image = coco.imgs[row.image_id]
        assert (row.file_name, row.image_w, row.image_h) == (image["file_name"], image["width"], image["height"])
        assert row.category == coco.cats[row.category_id]["name"]


def test_statistics_read_the_same_images_as_the_table(tmp_path: Path) -> None:
    """``stats`` streams the file (an ImageTable without names) and folds it: the same sizes as the table's."""
    path = _file(tmp_path / "dup.json")
    assert summarize_file(path) == load(path).to_dict()  # (the default resize needs the sizes)


def test_workers_and_shards_agree(tmp_path: Path) -> None:
    one, two = _file(tmp_path / "a.json"), _file(tmp_path / "b.json")
    alone = read_shards([one, two], resize="none", workers=1)
    assert alone.excluded == {"duplicate_id": 6}
    both = read_shards([one, two], resize="none", workers=2)
    assert alone.table.equals(both.table) and alone.excluded == both.excluded
    assert list(both.table["file_name"]) == ["b.jpg", "d.jpg"] * 2


@pytest.mark.parametrize("kind", ["image", "category"])
def test_strict_names_the_record_once(tmp_path: Path, kind: str) -> None:
    from scalematch.errors import DatasetError

    path = _file(tmp_path / "dup.json", IMAGES[:2] + IMAGES[2:3] if kind == "image" else IMAGES[:2],
                 CATEGORIES if kind == "category" else CATEGORIES[:2])  # fmt: skip
    with pytest.raises(DatasetError) as caught:
        load(path, resize="none", strict=True)
    assert str(caught.value) == f"{path}: {kind} id 1 appears more than once [duplicate_id]"


def test_image_table_replace_keeps_the_place() -> None:
    table = ImageTable()
    table.extend([5, 3], ["a.jpg", "b.jpg"], [640.0, 320.0], [480.0, 240.0])
    table.replace(5, ("a longer name.jpg", 0.1, 7.0))  # 0.1 is no float32: the column widens
    assert list(table) == [5, 3]
    assert table[5] == ("a longer name.jpg", 0.1, 7.0) and table[3] == ("b.jpg", 320.0, 240.0)
    assert table.names() == ["a longer name.jpg", "b.jpg"]
    with pytest.raises(KeyError):
        table.replace(4, ("c.jpg", 1.0, 1.0))
