"""A piece's cut (every PIECE bytes, at a ``}`` then ``,``) that falls inside a record holding many ``},`` of its
own: a list of thousands of small objects (points as some labelling tools export them) or such text in a string.
The reader finds the record's end in one pass rather than decoding the whole piece again once per ``},`` inside
it (which made a valid 4.6 MB file take minutes); the records are the ones Python's json reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scalematch.dataset.formats import _jsonstream
from scalematch.dataset.loader import load


def _coco(path: Path, inner: object, at: int) -> list[dict[str, Any]]:
    anns: list[dict[str, Any]] = [
        {"id": k, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10 + k % 7, 20], "area": 200, "iscrowd": 0}
        for k in range(1, 60)
    ]
    anns[at]["points"] = inner  # a key the reader does not use: skipped, its value must still be valid JSON
    doc = {
        "images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "thing"}],
    }
    path.write_text(json.dumps(doc))
    return anns


@pytest.mark.parametrize(
    "inner",
    [
        [{"x": i % 100 + 0.5, "y": i % 50} for i in range(3000)],  # nested objects
        "}, {" * 3000,  # the same bytes inside a string
        [[{"a": {"b": [i]}}] for i in range(1000)],  # deeper
    ],
    ids=["points", "text", "deep"],
)
def test_a_cut_inside_a_record_of_many_closings_decodes_each_piece_about_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inner: object
) -> None:
    path = tmp_path / "a.json"
    anns = _coco(path, inner, at=30)
    monkeypatch.setattr(_jsonstream, "PIECE", 400)  # a few records a piece, and one cut inside record 31
    calls: list[int] = []
    real = _jsonstream.JsonStream._parse

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_jsonstream.JsonStream, "_parse", counting)
    table = load(path, resize="none", workers=1).table
    assert table["ann_id"].tolist() == [a["id"] for a in anns]  # as Python's json reads them
    assert table["w"].tolist() == [float(a["bbox"][2]) for a in anns]
    pieces = path.stat().st_size // 400 + 1
    assert len(calls) <= pieces + 10  # not once per '},' inside the long record (thousands)
