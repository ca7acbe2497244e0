"""Repeated annotation ids in COCO files, whatever the records hold: the records the toolkits index by id (every
record, pycocotools' ``anns[id]`` the last one) are the same on every reading path (one process or two, in small
pieces, as shards), the box table keeps a record that repeats only a record left out, and the toolkit view of
every listed image equals pycocotools' own (a brute-force reference: its ``loadAnns(getAnnIds(image))``)."""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pycocotools.coco import COCO
from shard_files import same

from scalematch.dataset import load
from scalematch.dataset.formats import _jsonstream, coco
from scalematch.dataset.shards import read_shards
from scalematch.dataset.stats import summarize, summarize_file
from scalematch.match.detector import toolkit_table
from scalematch.presets import load_preset


def _document(seed: int) -> dict[str, Any]:
    """Records with ids drawn from a few, on listed and unlisted images, some with an empty box, an unknown
    category, a crowd flag, a box outside the image or a mask for a box; ids 1..5 never end on a bbox that cannot
    be read, ids 50.. do only on unlisted images, whose records no toolkit lists."""
    rng = random.Random(seed)
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 200 + 10 * i, "height": 150 + 5 * i} for i in range(1, 7)]
    annotations = []
    for _ in range(120):
        ann: dict[str, Any] = {
            "id": rng.randint(1, 12), "image_id": rng.choice([1, 2, 3, 4, 5, 6, 6, 99]), "category_id": 1,
            "bbox": [rng.uniform(0, 100), rng.uniform(0, 80), rng.uniform(1, 90), rng.uniform(1, 60)],
            "iscrowd": int(rng.random() < 0.1),
        }  # fmt: skip
        kind = rng.randrange(8)
        if kind == 0:
            ann["bbox"][2] = 0
        elif kind == 1:
            ann["category_id"] = 42
        elif kind == 2:
            ann["bbox"][:2] = [900, 900]
        elif kind == 3:
            x, y = ann["bbox"][:2]
            del ann["bbox"]
            ann["image_id"] = 6  # (a mask of an unlisted image gives no box: the reference would stop there)
            ann["segmentation"] = [[x, y, x + 9, y, x + 9, y + 7, x, y + 7]]
        annotations.append(ann)
    annotations.append({"id": 60, "image_id": 99, "category_id": 1, "bbox": "oops"})  # never listed, never read
    return {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "cat"}]}


def _file(folder: Path, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "a.json"
    path.write_text(json.dumps(_document(seed)))
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_reading_path_finds_the_same_records(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, seed)
    want = load(path, workers=1)
    assert want.repeated is not None and want.repeats is not None and want.repeated.listed is not None
    monkeypatch.setattr(_jsonstream, "PIECE", 300)  # a few records a piece, decoded by two workers
    monkeypatch.setattr(_jsonstream, "BLOCK", 997)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 0)
    for got in (load(path, workers=2), load(path, workers=1)):
        assert got.repeats is not None
        pd.testing.assert_frame_equal(got.table, want.table)
        pd.testing.assert_frame_equal(got.repeats, want.repeats)
        assert got.repeated == want.repeated and got.excluded == want.excluded
    assert same(summarize_file(path, workers=2), summarize(want))  # statistics read piece by piece, as the table
    # as shards: each input's records in its place
    paths = [path, _file(tmp_path / "b", seed + 10)]
    one, two = read_shards(paths, workers=1), read_shards(paths, workers=2)
    assert one.repeats is not None and two.repeats is not None
    pd.testing.assert_frame_equal(one.repeats, two.repeats)
    preset = load_preset("retinanet")
    pd.testing.assert_frame_equal(toolkit_table(one, preset), toolkit_table(two, preset))
    alone = [toolkit_table(load(p), preset) for p in paths]
    joined = toolkit_table(one, preset)
    for k, shard in enumerate(map(str, paths)):
        part = joined[joined["shard"] == shard]
        columns = ["x", "y", "w", "h", "category_id", "iscrowd", "ann_id"]
        assert part[columns].values.tolist() == alone[k][columns].values.tolist()
        assert part["shard_image_id"].tolist() == alone[k]["image_id"].tolist()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_toolkit_view_is_pycocotools_own(tmp_path: Path, seed: int) -> None:
    """Per listed image, the records a torchvision preset reads are pycocotools' ``loadAnns(getAnnIds(image))``
    (box, category, crowd flag, in order); the box table keeps the first record of an id among those the checks
    keep, and never one the checks leave out."""
    path = _file(tmp_path, seed)
    with contextlib.redirect_stdout(io.StringIO()):
        index = COCO(str(path))
    data = load(path)
    table = toolkit_table(data, load_preset("retinanet"))
    for image in sorted(index.imgs):
        anns = index.loadAnns(index.getAnnIds(imgIds=[image]))
        if any("bbox" not in a for a in anns):
            continue  # (a box from a mask: scalematch makes it, the reference would not)
        want = [[*a["bbox"], a["category_id"], a["iscrowd"]] for a in anns]
        rows = table[table["image_id"] == image]
        assert rows[["x", "y", "w", "h", "category_id", "iscrowd"]].values.tolist() == want
    kept = data.table["ann_id"].tolist()
    assert len(kept) == len(set(kept))
