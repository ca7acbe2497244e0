"""The statistics taken while a COCO file is read (``stats`` without a table) equal those of the whole table,
``summarize(load(path))``, on generated files with every kind of bad record, in every order of the top-level
arrays, cut into many pieces, read by one process and by two; the annotations are handed over piece by piece
(their columns emptied) when the images come first; duplicate ids are told against brute force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shard_files import same

from scalematch.dataset import load, streaming, summarize, summarize_file
from scalematch.dataset.formats import _jsonstream, coco
from scalematch.dataset.table import RawBoxes

ORDERS = [
    ("images", "annotations", "categories"),  # COCO's own order
    ("categories", "images", "annotations"),
    ("annotations", "images", "categories"),  # LVIS puts its images last
    ("categories", "annotations", "images"),
]


def _document(seed: int, order: tuple[str, ...], unknown_category: bool) -> dict[str, Any]:
    """Images (some without a size), categories and annotations with every record-level problem: boxes outside
    their image or absurd, ids met twice (in other pieces, and out of order), unknown images, crowd, a
    segmentation without a bbox, records the typed reader refuses (a string id), areas absent."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(1, 31):
        image: dict[str, Any] = {"id": int(i * 7), "file_name": f"{i}.jpg", "width": int(rng.integers(20, 900)),
                                 "height": int(rng.integers(20, 900))}  # fmt: skip
        if i % 11 == 0:
            del image["width"]
        images.append(image)
    categories = [{"id": c, "name": f"c{c}"} for c in (1, 2, 3, 5, 8, 13)]
    annotations: list[Any] = []
    ids = rng.permutation(np.arange(1, 400)) if seed % 2 else np.arange(1, 400)
    for k, aid in enumerate(ids.tolist()):
        image = images[int(rng.integers(0, len(images)))]
        w, h = float(rng.uniform(0.5, 300)), float(rng.uniform(0.5, 300))
        ann: dict[str, Any] = {"id": aid, "image_id": image["id"], "category_id": int(rng.choice([1, 2, 3, 5, 8])),
                               "bbox": [round(float(rng.uniform(-50, 850)), 2), round(float(rng.uniform(-50, 850)), 2),
                                        round(w, 2), round(h, 2)], "iscrowd": int(rng.random() < 0.05)}  # fmt: skip
        if rng.random() < 0.5:
            ann["area"] = round(w * h * 0.8, 3)
        kind = k % 37
        if kind == 1:
            ann["id"] = annotations[-1]["id"] if annotations and isinstance(annotations[-1], dict) else 1
        elif kind == 2:
            ann["id"] = int(ids[0])  # met long before, in another piece
        elif kind == 3:
            ann["image_id"] = 99999
        elif kind == 4:
            ann["bbox"][2] = 1e30
        elif kind == 5:
            ann["id"] = "x"  # the piece is read record by record
        elif kind == 6:
            del ann["bbox"]
            x, y = 5.0, 6.0
            ann["segmentation"] = [[x, y, x + 9, y, x + 9, y + 7, x, y + 7]]
        elif kind == 7 and unknown_category:
            ann["category_id"] = 77
        elif kind == 8:  # two reasons at once: the first in the documented order counts
            ann["id"], ann["image_id"] = int(ids[1]), 99999
        elif kind == 9:
            ann["id"], ann["bbox"][3] = int(ids[2]), 1e-30
        annotations.append(ann)
    arrays = {"images": images, "annotations": annotations, "categories": categories}
    return {"info": {"seed": seed}, **{key: arrays[key] for key in order}}


@pytest.fixture
def tiny_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_jsonstream, "PIECE", 300)  # a few records a piece
    monkeypatch.setattr(_jsonstream, "BLOCK", 997)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 0)


@pytest.mark.usefixtures("tiny_pieces")
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("policy", ["none", "shortest-edge:800,1333", "multi-scale:480-800,1333"])
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(k[:3] for k in o))
@pytest.mark.parametrize("seed", [1, 2])
def test_streamed_equals_the_whole_table(
    tmp_path: Path, seed: int, order: tuple[str, ...], policy: str, workers: int
) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_document(seed, order, unknown_category=False)))
    want = summarize(load(path, resize=policy, workers=1))
    assert set(want["excluded"]) >= {"duplicate_id", "unknown_image", "bbox_invalid", "malformed_record"}
    assert want["annotations"] > 100
    assert same(summarize_file(path, resize=policy, workers=workers), want)


@pytest.mark.usefixtures("tiny_pieces")
@pytest.mark.parametrize("order", ORDERS[:2], ids=lambda o: "-".join(k[:3] for k in o))
def test_an_unknown_category_is_counted_as_the_whole_table_counts_it(tmp_path: Path, order: tuple[str, ...]) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_document(3, order, unknown_category=True)))
    want = summarize(load(path))
    assert want["excluded"]["unknown_category"] > 0
    assert same(summarize_file(path), want)


@pytest.mark.usefixtures("tiny_pieces")
@pytest.mark.parametrize(("order", "handed"), [(ORDERS[0], "pieces"), (ORDERS[2], "once")])
def test_annotations_are_handed_over_piece_by_piece_when_images_come_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, order: tuple[str, ...], handed: str
) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(_document(2, order, unknown_category=False)))
    sizes: list[int] = []
    drain = streaming.Stream.drain

    def counted(self: streaming.Stream, raw: RawBoxes) -> None:
        before = len(raw.ann_id)
        drain(self, raw)
        assert len(raw.ann_id) == 0  # the columns are emptied
        sizes.append(before)

    monkeypatch.setattr(streaming.Stream, "drain", counted)
    summarize_file(path, workers=1)
    rows = [n for n in sizes if n]
    if handed == "pieces":
        assert len(rows) > 20 and max(rows) < 40
    else:
        assert len(rows) == 1


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.lists(st.integers(-5, 40), max_size=12), max_size=8))
def test_ids_met_before_against_brute_force(pieces: list[list[int]]) -> None:
    seen = streaming.Seen()
    met: set[int] = set()
    for piece in pieces:
        got = seen.mark(np.array(piece, dtype=np.int64)).tolist()
        want = []
        for i in piece:
            want.append(i in met)
            met.add(i)
        assert got == want
