"""A COCO file saved with a UTF-8 byte-order mark, or in UTF-16 or UTF-32 (as Windows tools write them), is refused
with one line that says so, as pycocotools refuses it: by the reader of one process, by the worker processes that
read the annotations in pieces, by the streaming statistics and on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from worker_pieces import count_worker_pieces

from scalematch.dataset import load, summarize_file
from scalematch.errors import DatasetError
from scalematch.pool import can_fork

DOC = json.dumps(
    {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "annotations": [
            {"id": k, "image_id": 1, "category_id": 1, "bbox": [k, 10, 50, 40], "iscrowd": 0} for k in range(1, 40)
        ],
        "categories": [{"id": 1, "name": "car"}],
    }
)
_UTF8 = "starts with a UTF-8 byte-order mark (as some Windows tools write), which pycocotools and the toolkits refuse; save it without one"  # noqa: E501
# name, the file's bytes, the message after "<file>: "
CASES = [
    ("utf-8-sig", DOC.encode("utf-8-sig"), _UTF8),
    ("utf-8-sig-spaced", "\n  ".join(("", DOC)).encode("utf-8-sig"), _UTF8),
    ("utf-16", b"\xff\xfe" + DOC.encode("utf-16-le"), "is UTF-16 (byte-order mark FF FE), not UTF-8: save it as UTF-8"),
    ("utf-16-be-bom", b"\xfe\xff" + DOC.encode("utf-16-be"),
     "is UTF-16 (byte-order mark FE FF), not UTF-8: save it as UTF-8"),
    ("utf-16-le", DOC.encode("utf-16-le"),
     "is UTF-16 (little-endian, without a byte-order mark), not UTF-8: save it as UTF-8"),
    ("utf-16-le-spaced", ("\r\n" + DOC).encode("utf-16-le"),
     "is UTF-16 (little-endian, without a byte-order mark), not UTF-8: save it as UTF-8"),
    ("utf-16-be", DOC.encode("utf-16-be"),
     "is UTF-16 (big-endian, without a byte-order mark), not UTF-8: save it as UTF-8"),
    ("utf-32", b"\xff\xfe\x00\x00" + DOC.encode("utf-32-le"),
     "is UTF-32 (byte-order mark FF FE 00 00), not UTF-8: save it as UTF-8"),
    ("utf-32-be-bom", b"\x00\x00\xfe\xff" + DOC.encode("utf-32-be"),
     "is UTF-32 (byte-order mark 00 00 FE FF), not UTF-8: save it as UTF-8"),
    ("utf-32-le", DOC.encode("utf-32-le"),
     "is UTF-32 (little-endian, without a byte-order mark), not UTF-8: save it as UTF-8"),
    ("utf-32-be", DOC.encode("utf-32-be"),
     "is UTF-32 (big-endian, without a byte-order mark), not UTF-8: save it as UTF-8"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_file_not_in_plain_utf8_is_named_for_what_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: typer.Typer, name: str, content: bytes, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = Path(f"{name}.json")
    path.write_bytes(content)
    assert json.loads(content) == json.loads(DOC)  # the same document, only encoded otherwise
    expected = f"{path}: {message}"
    for read in (load, summarize_file):
        for strict in (False, True):
            with pytest.raises(DatasetError) as caught:
                read(path, strict=strict, workers=1)
            assert str(caught.value) == expected
    result = CliRunner().invoke(app, ["stats", str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {expected}\n")
    assert path.read_bytes() == content


@pytest.mark.skipif(not can_fork(), reason="the annotations are read by worker processes where they can be forked")
@pytest.mark.parametrize(("name", "content", "message"), CASES[:3], ids=[c[0] for c in CASES[:3]])
def test_the_worker_pieces_reader_gives_the_same_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes, message: str
) -> None:
    taken = count_worker_pieces(monkeypatch, piece=256)
    path = tmp_path / f"{name}.json"
    path.write_bytes(content)
    for read in (load, summarize_file):
        with pytest.raises(DatasetError) as caught:
            read(path, workers=2)
        assert str(caught.value) == f"{path}: {message}"
    plain = tmp_path / "plain.json"
    plain.write_text(DOC)
    assert len(load(plain, workers=2).table) == 39
    assert sum(taken) > 0  # the same file in UTF-8 is read by the workers


@pytest.mark.parametrize(("name", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_pycocotools_refuses_each_of_them(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    from pycocotools.coco import COCO

    path = tmp_path / f"{name}.json"
    path.write_bytes(content)
    with pytest.raises(ValueError):  # JSONDecodeError ("Unexpected UTF-8 BOM", ...) or UnicodeDecodeError
        COCO(str(path))


def test_plain_utf8_starting_with_whitespace_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"\n\t " + DOC.encode())
    assert len(load(path, workers=1).table) == 39
