"""VOC split files whose names are paths inside Annotations/ (CVAT and Datumaro write ``sub/img1``; mmdetection's
XMLDataset joins the name to ``Annotations/`` as it is): read; a name that would leave Annotations/ is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalematch.dataset import load
from scalematch.errors import DatasetError

XML = (
    "<annotation><size><width>100</width><height>80</height></size><object><name>cat</name><bndbox><xmin>10</xmin>"
    "<ymin>10</ymin><xmax>40</xmax><ymax>50</ymax></bndbox></object></annotation>"
)


def _devkit(root: Path, lines: str) -> Path:
    (root / "Annotations" / "sub").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "Annotations" / "sub" / "img1.xml").write_text(XML)
    (root / "Annotations" / "img2.xml").write_text(XML)
    (root / "ImageSets" / "Main" / "default.txt").write_text(lines)
    return root


def test_names_with_subfolders_are_read_as_mmdetection_joins_them(tmp_path: Path) -> None:
    root = _devkit(tmp_path / "d", "sub/img1\nimg2\n")
    table = load(root, split="default", resize="none").table
    assert table["label_file"].astype(str).tolist() == ["Annotations/sub/img1.xml", "Annotations/img2.xml"]


@pytest.mark.parametrize("name", ["../img2", "/abs/img2", "sub//img1", "./img2", "sub\\img1", "sub/"])
def test_names_that_leave_annotations_or_are_no_path_are_refused(tmp_path: Path, name: str) -> None:
    root = _devkit(tmp_path / "d", f"img2\n{name}\n")
    with pytest.raises(DatasetError, match=r"default\.txt: line 2: expected an image name, got "):
        load(root, split="default", resize="none")


def test_a_byte_order_mark_is_refused_as_the_toolkits_stop_on_it(tmp_path: Path) -> None:
    """Each toolkit reads the mark as part of the first name: mmengine's list_from_file (UTF-8, the line as it is)
    and the VOC.yaml converters' split() give '\\ufeffimg2', whose file is not there."""
    root = _devkit(tmp_path / "d", "img2\n")
    split = root / "ImageSets" / "Main" / "default.txt"
    split.write_bytes(b"\xef\xbb\xbfimg2\n")
    names = split.read_text(encoding="utf-8").strip().split()  # the converters' reading
    assert names == ["\ufeffimg2"] and not (root / "Annotations" / f"{names[0]}.xml").exists()
    with pytest.raises(DatasetError) as caught:
        load(root, split="default", resize="none")
    assert str(caught.value).startswith(f"{split}: line 1 starts with a byte-order mark (U+FEFF)")


def test_spaces_before_a_name_are_read_as_the_converters_read_them(tmp_path: Path) -> None:
    """scalematch's leniency (documented): the line's first word, as the VOC.yaml converters' split() reads it."""
    root = _devkit(tmp_path / "d", "  img2\n\tsub/img1 1\n")
    lines = (root / "ImageSets" / "Main" / "default.txt").read_text()
    theirs = [f"Annotations/{line.split()[0]}.xml" for line in lines.splitlines()]
    table = load(root, split="default", resize="none").table
    assert table["label_file"].astype(str).tolist() == theirs
