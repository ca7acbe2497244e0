"""Lone surrogate escapes (JSON ``"\\ud800"``, ``"\\udc00"``), which Python's json and so pycocotools accept and
msgspec refuses, in any string of a COCO file: the file is read as ``json.load`` reads it, by one process and by
several, through the box table and the statistics, names shown with U+FFFD. A broken escape is still an error."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from shard_files import same
from typer.testing import CliRunner
from worker_pieces import count_worker_pieces

from scalematch.dataset import load, summarize, summarize_file
from scalematch.dataset.formats import _jsonstream, coco
from scalematch.errors import ScalematchError
from scalematch.pool import can_fork

# The text between the quotes, as it stands in the file.
FORMS = [
    r"\ud800",  # a high surrogate alone: followed by the closing quote
    r"a\ud800b",  # in the middle, followed by a letter
    r"\ud800lone",  # at the start
    r"ab\ud800",  # at the end
    r"\udbff",
    r"\udc00",  # a low surrogate alone
    r"a\udc00b",
    r"\udfffx",
    r"ab\udc00",
    r"a\ud800\\b",  # followed by another escape
    r"a\ud800\nb",
    r"a\ud800\"b",
    r"\ud800\u0041",
    r"\ud800\u00e9",
    r"\ud800\ud800",  # two high ones
    r"\udc00\ud800",  # a pair the wrong way round
    "\u00e9\\ud800\u4e2d",  # beside characters written as UTF-8 (the file is not ASCII)
    r"x\ud83d\ude00y",  # a real pair (msgspec reads it too)
]
PLACES = ["file_name", "category", "supercategory", "note", "key", "nested", "image_key", "top"]
MARK = "@S@"


def _document(place: str, images: int = 3, annotations: int = 12, every: int = 5) -> str:
    """A COCO file (JSON text) whose strings at ``place`` are :data:`MARK`, to be replaced by the form."""
    imgs: list[dict[str, Any]] = [
        {"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in range(1, images + 1)
    ]
    anns: list[dict[str, Any]] = [
        {"id": k, "image_id": 1 + k % images, "category_id": 1 + k % 2, "bbox": [k, 2, 30 + k, 40], "area": 1000 + k,
         "iscrowd": 0}
        for k in range(1, annotations + 1)
    ]  # fmt: skip
    cats: list[dict[str, Any]] = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    doc: dict[str, Any] = {"info": {"description": "x"}, "images": imgs, "annotations": anns, "categories": cats}
    for k, ann in enumerate(anns):
        if k % every == every - 1:
            if place == "note":
                ann["note"] = MARK
            elif place == "key":
                ann[MARK] = 1
            elif place == "nested":
                ann["attributes"] = {MARK: [MARK, {"k": MARK}]}
    if place == "file_name":
        imgs[-1]["file_name"] = MARK
    elif place == "image_key":
        imgs[0][MARK] = MARK
    elif place == "category":
        cats[0]["name"] = MARK
    elif place == "supercategory":
        cats[1]["supercategory"] = MARK
    elif place == "top":
        doc["info"] = {MARK: MARK}
        doc[MARK] = [MARK]
    return json.dumps(doc)


def _write(tmp_path: Path, place: str, form: str, **shape: int) -> Path:
    path = tmp_path / f"{place}.json"
    path.write_bytes(_document(place, **shape).replace(MARK, form).encode("utf-8"))
    return path


def _shown(name: str) -> str:
    """A name as scalematch shows it: each surrogate code point (a lone one: json makes a pair one character)
    becomes U+FFFD."""
    return "".join("\ufffd" if 0xD800 <= ord(c) < 0xE000 else c for c in name)


def _pycocotools(path: Path) -> Any:
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _check_against_pycocotools(path: Path, workers: int = 1) -> pd.DataFrame:
    ref = _pycocotools(path)
    result = load(path, resize="none", workers=workers)
    table = result.table
    anns = ref.dataset["annotations"]
    assert table["ann_id"].tolist() == [a["id"] for a in anns]
    assert table[["x", "y", "w", "h"]].to_numpy().tolist() == [[float(v) for v in a["bbox"]] for a in anns]
    assert table["area"].tolist() == [float(a["area"]) for a in anns]
    assert table["file_name"].astype(str).tolist() == [_shown(ref.imgs[a["image_id"]]["file_name"]) for a in anns]
    assert table["category"].astype(str).tolist() == [_shown(ref.cats[a["category_id"]]["name"]) for a in anns]
    assert result.categories == {cid: _shown(cat["name"]) for cid, cat in ref.cats.items()}
    assert result.images == len(ref.imgs)
    assert result.excluded == {}
    # the statistics without the table (what `stats` runs) are those of the table
    assert same(summarize_file(path, resize="none", workers=workers), summarize(result))
    return table


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("form", FORMS)
def test_read_as_json_load_reads_it(tmp_path: Path, form: str, place: str) -> None:
    path = _write(tmp_path, place, form)
    _check_against_pycocotools(path)


@pytest.mark.parametrize("form", FORMS)
def test_in_small_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """Pieces of 40 bytes and blocks of 97: boundaries fall inside the strings that hold the surrogates; only
    the pieces that hold one are read by Python's json."""
    monkeypatch.setattr(_jsonstream, "PIECE", 40)
    monkeypatch.setattr(_jsonstream, "BLOCK", 97)
    for place in PLACES:
        _check_against_pycocotools(_write(tmp_path, place, form, annotations=60))


@pytest.mark.skipif(not can_fork(), reason="worker processes start as forks")
@pytest.mark.parametrize("form", [r"\ud800", r"\ud800lone", r"a\udc00b", r"a\ud800\\b", r"\udc00\ud800", "é\\ud800"])
def test_in_parallel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """Annotations decoded by worker processes (a file of PARALLEL_MIN bytes or more): a piece holding a surrogate
    is read again by this process; the others come from the workers."""
    taken = count_worker_pieces(monkeypatch, 300)
    for place in ("note", "key", "file_name"):
        path = _write(tmp_path, place, form, annotations=150, every=40)
        table = _check_against_pycocotools(path, workers=2)
        pd.testing.assert_frame_equal(table, load(path, resize="none", workers=1).table)
    assert sum(taken) > 300  # most records came from the workers


def test_names_are_shown_with_the_replacement_character(app: typer.Typer, tmp_path: Path) -> None:
    """`stats --by-category` (the streaming statistics), `stats --csv` and `recommend` (the box table)."""
    path = tmp_path / "s.json"
    path.write_text(_document("file_name").replace(MARK, r"\ud800lone").replace('"name": "a"', r'"name": "a\udc00b"'))
    runner = CliRunner()
    stats = runner.invoke(app, ["stats", "-q", "--by-category", str(path)])
    assert stats.exit_code == 0, stats.output
    assert re.search(r"^ +1 a\ufffdb ", stats.stdout, re.M), stats.stdout
    csv = tmp_path / "boxes.csv"
    result = runner.invoke(app, ["stats", "-q", "--csv", str(csv), str(path)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv, encoding="utf-8")
    assert "\ufffdlone" in table["file_name"].tolist() and "a\ufffdb" in table["category"].tolist()
    recommend = runner.invoke(app, ["recommend", "-q", "--objects", str(tmp_path / "objects.csv"), str(path)])
    assert recommend.exit_code == 0, recommend.output
    objects = pd.read_csv(tmp_path / "objects.csv", encoding="utf-8")
    assert "a\ufffdb" in objects["category"].tolist()


BROKEN = [r"\ud8", r"\ud800\ud8", r"\ud800\uzzzz", r"\udc00\u12", r"\ud800\u", r"\ud800\x", r"\udc00\q", "\\ud800\x01"]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("form", BROKEN)
def test_a_broken_escape_is_still_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str, workers: int
) -> None:
    """An escape that is not four hex digits, or a backslash before a letter that is no escape, after a lone
    surrogate or not: one 'not valid JSON' error with the byte where the escape goes wrong, whichever process
    reads the piece, as Python's json refuses it too."""
    if workers > 1:
        if not can_fork():
            pytest.skip("worker processes start as forks")
        monkeypatch.setattr(coco, "PARALLEL_MIN", 0)
    for place in PLACES:
        path = _write(tmp_path, place, form)
        text = path.read_bytes()
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        first = text.index(form.encode("utf-8"))
        for reader in (load, summarize_file):
            with pytest.raises(ScalematchError) as caught:
                reader(path, resize="none", workers=workers)
            message = str(caught.value)
            found = re.fullmatch(rf"{re.escape(str(path))}: not valid JSON \(([^\n]+)\) at byte (\d+)", message)
            assert found is not None, message
            assert not found[1].endswith(" at"), message  # Python's "Invalid control character at" is cut
            # (msgspec names the byte after the one it refuses: the quote after "\\ud8")
            assert first <= int(found[2]) <= first + len(form) + 1, (place, message)
