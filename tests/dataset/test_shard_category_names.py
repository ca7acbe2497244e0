"""COCO shards and a category one of them gives no name (no ``name``, or ``null``): the id stands in for the name in
that file alone; joined with a shard that names the category, the dataset takes that name (no conflict), and a
real conflict quotes the names the files give, whatever the number of processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scalematch.dataset import load, read_shards, summarize_file, summarize_files
from scalematch.errors import DatasetError
from scalematch.pool import can_fork

IMAGES = [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}]
NAMES: dict[str, dict[str, Any]] = {
    "none": {"supercategory": "vehicle"},
    "null": {"name": None, "supercategory": "vehicle"},
    "car": {"name": "car"},
    "one": {"name": "1"},
    "truck": {"name": "truck"},
}


def _shard(folder: Path, kind: str, boxes: int = 2) -> Path:
    path = folder / f"{kind}.json"
    anns = [
        {"id": k, "image_id": 1, "category_id": 1, "bbox": [10 * k, 10, 50 + k, 40], "iscrowd": 0}
        for k in range(1, boxes + 1)
    ]
    path.write_text(json.dumps({"images": IMAGES, "annotations": anns, "categories": [{"id": 1, **NAMES[kind]}]}))
    return path


def _workers() -> tuple[int, ...]:
    return (1, 2) if can_fork() else (1,)


@pytest.mark.parametrize("nameless", ["none", "null"])
@pytest.mark.parametrize("first", [True, False])
def test_a_shard_without_a_name_takes_the_name_another_gives(tmp_path: Path, nameless: str, first: bool) -> None:
    shards = [_shard(tmp_path, nameless), _shard(tmp_path, "car", boxes=3)]
    paths = shards if first else shards[::-1]
    results = []
    for workers in _workers():
        stats = summarize_files(paths, workers=workers)
        assert stats["categories"] == 1
        assert [(c["id"], c["name"], c["annotations"]) for c in stats["per_category"]] == [(1, "car", 5)]
        read = read_shards(paths, workers=workers)
        assert read.categories == {1: "car"}
        assert read.unnamed == frozenset()
        assert read.table["category"].tolist() == ["car"] * 5
        assert list(read.table["category"].cat.categories) == ["car"]
        results.append((stats, read.table))
    for stats, table in results[1:]:
        assert stats == results[0][0]
        pd.testing.assert_frame_equal(table, results[0][1])


def test_a_shard_without_a_name_beside_one_naming_it_1(tmp_path: Path) -> None:
    """The text "1" is a name like any other: the nameless shard takes it, as it would take "car"."""
    paths = [_shard(tmp_path, "none"), _shard(tmp_path, "one")]
    stats = summarize_files(paths, workers=1)
    assert [(c["name"], c["annotations"]) for c in stats["per_category"]] == [("1", 4)]
    assert read_shards(paths, workers=1).unnamed == frozenset()


def test_shards_that_all_give_no_name_keep_the_id(tmp_path: Path) -> None:
    paths = [_shard(tmp_path, "none"), _shard(tmp_path, "null")]
    stats = summarize_files(paths, workers=1)
    assert [(c["id"], c["name"]) for c in stats["per_category"]] == [(1, "1")]
    read = read_shards(paths, workers=1)
    assert (read.categories, read.unnamed) == ({1: "1"}, frozenset({1}))
    assert read.table["category"].tolist() == ["1"] * 4


@pytest.mark.parametrize("order", [("none", "car", "truck"), ("car", "none", "truck"), ("car", "truck", "none")])
def test_a_real_conflict_quotes_the_names_the_files_give(tmp_path: Path, order: tuple[str, ...]) -> None:
    paths = [_shard(tmp_path, kind) for kind in order]
    for read in (summarize_files, read_shards):
        with pytest.raises(DatasetError) as caught:
            read(paths, workers=1)
        assert str(caught.value) == (
            f"{tmp_path / 'truck.json'}: category 1 is named 'truck', but 'car' in {tmp_path / 'car.json'}; the "
            "inputs must agree on their categories"
        )


@pytest.mark.parametrize("nameless", ["none", "null"])
def test_one_file_names_a_nameless_category_by_its_id(tmp_path: Path, nameless: str) -> None:
    """As dataset.md documents: the id is the display name of a category its file gives no name."""
    path = _shard(tmp_path, nameless)
    result = load(path, workers=1)
    assert (result.categories, result.unnamed) == ({1: "1"}, frozenset({1}))
    assert result.table["category"].tolist() == ["1", "1"]
    assert [(c["id"], c["name"]) for c in summarize_file(path)["per_category"]] == [(1, "1")]
    named = load(_shard(tmp_path, "one"), workers=1)
    assert (named.categories, named.unnamed) == ({1: "1"}, frozenset())


def test_a_category_named_by_its_last_record_is_named(tmp_path: Path) -> None:
    """A category id listed twice, first without a name and then named: the last record is kept (as pycocotools'
    index keeps it), so the category is named, and another shard naming it otherwise is a conflict, as for a file
    that names it once."""
    images, anns = IMAGES, [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40], "iscrowd": 0}]
    twice = tmp_path / "twice.json"
    twice.write_text(
        json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1}, {"id": 1, "name": "cat"}]})
    )
    once = tmp_path / "once.json"
    once.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "cat"}]}))
    loaded = load(twice)
    assert loaded.categories == {1: "cat"} and loaded.unnamed == frozenset()
    dog = _shard(tmp_path, "truck")
    for path in (twice, once):
        with pytest.raises(DatasetError, match="category 1 is named"):
            read_shards([path, dog], workers=1)
