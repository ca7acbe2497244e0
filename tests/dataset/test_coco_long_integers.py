"""An integer literal of more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300 by default) in a
COCO file reads as one of hundreds of digits does in the same place: the same table, the same counts by reason, the
same first error under strict, the same statistics, in one process and with the annotations' pieces decoded by
worker processes; a field that is not read (``info``, an unknown key) leaves the file readable. It was Python's bare
``ValueError: Exceeds the limit (4300 digits) for integer string conversion`` (review round 31, F3), and the
interpreter's limit is left as it is."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from shard_files import same
from worker_pieces import count_worker_pieces

import scalematch as sm
from scalematch.dataset import load, summarize_file
from scalematch.errors import ScalematchError
from scalematch.pool import can_fork

MARK = "@LONG@"
CONVERTED = "7" * 400  # long, but within the limit: the behaviour to match
BEYOND = "7" * 4301
FAR_BEYOND = "7" * 100_000  # longer than the window the top-level values are read through (64 KiB)


def _document(place: str) -> str:
    """A small COCO file with :data:`MARK` (to be replaced by a literal) at ``place``, ``key`` or ``key.field``
    or ``key.field[i]`` of the first record of ``key`` (or, for ``info``, of that object)."""
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in (1, 2)]
    anns = [
        {"id": k, "image_id": 1 + k % 2, "category_id": 1 + k % 2, "bbox": [10.0 + k, 20, 30, 40], "area": 1200,
         "iscrowd": 0, "segmentation": [[10, 20, 40, 20, 40, 60]]}
        for k in range(1, 41)
    ]  # fmt: skip
    doc: dict[str, Any] = {
        "info": {"description": "d", "year": 2024},
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    }
    key, _, field = place.partition(".")
    record = doc[key] if key == "info" else doc[key][0 if key != "annotations" else 20]
    name, _, index = field.partition("[")
    if index:
        record[name][int(index.rstrip("]"))] = MARK
    else:
        record[name] = MARK
    return json.dumps(doc)


def _with(template: str, literal: str) -> str:
    return template.replace(f'"{MARK}"', literal)


PLACES = [
    "info.year", "info.extra",
    "annotations.id", "annotations.image_id", "annotations.category_id", "annotations.bbox[0]",
    "annotations.bbox[2]", "annotations.area", "annotations.iscrowd", "annotations.ignore", "annotations.score",
    "annotations.segmentation[0]",
    "images.id", "images.width", "images.height", "images.license",
    "categories.id", "categories.supercategory",
]  # fmt: skip


def _outcome(path: Path, **options: Any) -> tuple[Any, ...]:
    try:
        result = load(path, resize="none", **options)
    except ScalematchError as exc:
        return ("error", str(exc))
    return "ok", result.table, result.excluded, result.images, result.categories


def _summary(path: Path) -> Any:
    try:
        return summarize_file(path)
    except ScalematchError as exc:
        return str(exc)


def _same(one: tuple[Any, ...], two: tuple[Any, ...]) -> None:
    assert one[0] == two[0], (one[1:], two[1:])
    if one[0] == "error":
        assert one[1] == two[1]
        return
    pd.testing.assert_frame_equal(one[1], two[1])
    assert one[2:] == two[2:]


def _outcomes(path: Path, template: str, literal: str, workers: int) -> list[Any]:
    """What reading ``template`` with ``literal`` in its place gives (always at the same path: the source is
    part of the result): tolerant, strict, and the statistics without the table."""
    path.write_text(_with(template, literal), encoding="utf-8")
    return [
        _outcome(path, workers=workers),
        _outcome(path, workers=workers, strict=True),
        _summary(path),
    ]


def _check(path: Path, template: str, sign: str, workers: int = 1) -> None:
    expected = _outcomes(path, template, sign + CONVERTED, workers)
    for literal in (BEYOND, FAR_BEYOND):
        got = _outcomes(path, template, sign + literal, workers)
        _same(got[0], expected[0])
        _same(got[1], expected[1])
        assert same(got[2], expected[2]) if isinstance(expected[2], dict) else got[2] == expected[2]


@pytest.mark.parametrize("sign", ["", "-"])
@pytest.mark.parametrize("place", PLACES)
def test_as_one_of_hundreds_of_digits(tmp_path: Path, place: str, sign: str) -> None:
    limit = sys.get_int_max_str_digits()
    _check(tmp_path / "a.json", _document(place), sign)
    assert sys.get_int_max_str_digits() == limit  # the interpreter's limit is not changed


@pytest.mark.skipif(not can_fork(), reason="worker processes start as forks")
@pytest.mark.parametrize("place", [p for p in PLACES if p.startswith(("annotations", "info"))])
def test_in_worker_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place: str) -> None:
    """The annotations cut in pieces of 40 bytes and decoded by two workers (a file of 64 MiB or more is read
    so): the pieces without the literal are the workers', the one with it is read here, as one process reads it."""
    taken = count_worker_pieces(monkeypatch, 40, 97)
    _check(tmp_path / "a.json", _document(place), "", workers=2)
    assert taken  # the workers decoded pieces


def test_fields_not_read_leave_the_file_readable(tmp_path: Path) -> None:
    """Through the API too: ``read_annotations`` reads the file (it raised the bare ValueError)."""
    path = tmp_path / "a.json"
    for place in ("info.year", "annotations.score", "images.license", "categories.supercategory"):
        path.write_text(_with(_document(place), BEYOND), encoding="utf-8")
        result = sm.read_annotations(path, resize="none")
        assert (len(result.table), sum(result.excluded.values())) == (40, 0)


def test_a_number_as_a_category_name(tmp_path: Path) -> None:
    """A category named by a number (its text is the name) of more digits than Python converts is named by its
    first 600 digits (there is no int to take the text of)."""
    path = tmp_path / "a.json"
    path.write_text(_with(_document("categories.name"), BEYOND), encoding="utf-8")
    assert load(path, resize="none").categories == {1: "7" * 600, 2: "b"}


@pytest.mark.parametrize("sign", ["", "-", "+"])
def test_json_and_yaml_keep_the_same_digits(sign: str) -> None:
    """A JSON literal is read as the same number as a YAML one: its first 600 digits and its sign (a negative JSON
    literal kept 599 digits, its '-' counted among them)."""
    from scalematch._text import KEPT_DIGITS
    from scalematch._yaml import safe_load
    from scalematch.dataset.formats._jsonstream import loads

    want = int(sign + "7" * KEPT_DIGITS)
    assert safe_load(f"[{sign}{BEYOND}]") == [want]
    if sign != "+":  # (JSON has no '+')
        assert loads(f"[{sign}{BEYOND}]") == [want]
