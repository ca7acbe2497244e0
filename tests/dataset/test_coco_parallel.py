"""A COCO file's annotations decoded by several processes give what one process gives: the same table, the same
counts by reason, the same first error (under strict) and the same message for a broken file. Pieces are made
tiny so that small files are cut into many, with boundaries inside strings, bad records and broken JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_coco_stream import documents
from worker_pieces import count_worker_pieces

from scalematch.dataset import load
from scalematch.errors import ScalematchError
from scalematch.pool import can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes start as forks")
BAD = Path(__file__).resolve().parents[1] / "bad"


def _outcome(path: Path, workers: int, strict: bool = False) -> tuple[str, Any, Any]:
    try:
        result = load(path, resize="none", strict=strict, workers=workers)
    except ScalematchError as exc:
        return "error", str(exc), None
    return "ok", result.table, (result.excluded, result.images, result.categories, result.absent)


def _same(path: Path, strict: bool = False) -> None:
    one, two = _outcome(path, 1, strict), _outcome(path, 2, strict)
    assert one[0] == two[0], (one[1], two[1])
    if one[0] == "error":
        assert one[1] == two[1]
        return
    pd.testing.assert_frame_equal(one[1], two[1])
    assert one[2] == two[2]


@pytest.fixture
def tiny_pieces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Pieces of 40 bytes, blocks of 97, every file read in parallel; the list counts the pieces a worker
    decoded (taken in this process)."""
    return count_worker_pieces(monkeypatch, 40, 97)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents(), indent=st.sampled_from([None, 1]))
def test_random_documents(tmp_path: Path, tiny_pieces: list[int], doc: dict[str, Any], indent: int | None) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
    _same(path)


def test_bad_records_and_tricky_strings_among_many_pieces(tmp_path: Path, tiny_pieces: list[int]) -> None:
    """Bad records (each kind the reader names) scattered among good ones, strings holding the boundary pattern,
    NaN and numbers beyond a double: workers decode the clean pieces, this process the others."""
    rng = random.Random(7)
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(1, 40)]
    bad: list[dict[str, Any]] = [
        {"bbox": [1, 2, 3]},
        {"bbox": [1, 2, -3, 4]},
        {"image_id": "7"},
        {"iscrowd": 2},
        {"area": -1},
        {"id": 5},  # a duplicate id
        {"image_id": 999},
        {"note": '}, {"id": 1}, ['},
        {"bbox": [1, 2, 3, "NaN"]},
    ]
    anns = []
    for k in range(1, 400):
        ann: dict[str, Any] = {"id": k, "image_id": rng.randint(1, 39), "category_id": rng.choice([1, 2]),
                               "bbox": [rng.uniform(0, 600), rng.uniform(0, 400), rng.uniform(1, 99), 9.5],
                               "area": 400.0, "iscrowd": 0}  # fmt: skip
        if rng.random() < 0.1:
            ann.update(rng.choice(bad))
        anns.append(ann)
    anns[76]["area"] = "HUGE"
    doc = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    text = json.dumps(doc).replace('"NaN"', "NaN").replace('"HUGE"', "1e400")  # what Python's json accepts
    path = tmp_path / "doc.json"
    path.write_text(text)
    _same(path)
    assert sum(tiny_pieces) > 200  # most records came from the workers
    for strict in (False, True):
        _same(path, strict)


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("coco_*.json")))
def test_the_bad_input_corpus_and_its_mutations(tmp_path: Path, tiny_pieces: list[int], name: str) -> None:
    """Each COCO file of tests/bad/, then byte-level mutations of it (truncations, stray bytes), read both ways."""
    data = (BAD / name).read_bytes()
    rng = random.Random(name)
    path = tmp_path / name
    cases = [data, data[: len(data) // 2], data[: len(data) - 3]]
    for _ in range(12):
        edit = bytearray(data)
        pos = rng.randrange(len(edit))
        edit[pos : pos + rng.randint(0, 3)] = rng.choice([b"}", b"},{", b"]", b",", b"\xff", b"NaN", b'"', b"9" * 30])
        cases.append(bytes(edit))
    for case in cases:
        path.write_bytes(case)
        for strict in (False, True):
            _same(path, strict)


def test_progress_never_goes_back(tmp_path: Path, tiny_pieces: list[int]) -> None:
    anns = [{"id": k, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]} for k in range(1, 300)]
    anns[150]["bbox"] = [1, 1, 5]  # read again by this process: the stream goes back to that piece
    doc = {"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}], "annotations": anns,
           "categories": [{"id": 1, "name": "a"}]}  # fmt: skip
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    seen: list[int] = []
    result = load(path, resize="none", workers=2, progress=lambda done, total: seen.append(done))
    assert len(result.table) == 298 and result.excluded == {"bbox_invalid": 1}
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size
    assert tiny_pieces  # workers took part


def test_records_without_keys_are_counted_as_one_process_counts_them(tmp_path: Path, tiny_pieces: list[int]) -> None:
    """``LoadResult.absent``: the records without ``area`` or ``iscrowd`` in the pieces workers decode count."""
    images = [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}]
    anns = [{"id": k, "image_id": 1, "category_id": 1, "bbox": [k, k, 20, 10]} for k in range(1, 60)]
    for ann in anns[::3]:
        ann["area"] = 200.0
    for ann in anns[::2]:
        ann["iscrowd"] = 0
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}]}))
    _same(path)
    assert tiny_pieces
    assert load(path, resize="none", workers=2).absent == {"area": 39, "iscrowd": 29}
