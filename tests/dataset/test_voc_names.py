"""A VOC ``<name>`` is the category as written: mmdetection's XMLDataset and the VOC converters of yolov5 and
ultralytics compare the raw text with their class names (``name not in classes``), so `` dog\\n`` is not ``dog``;
a name of spaces only is none (``malformed_record``)."""

from __future__ import annotations

from pathlib import Path

from scalematch.dataset import load

NAMES = ["dog", " dog\n", "Dog", "dog ", "", "  \n"]


def test_names_are_taken_as_written(tmp_path: Path) -> None:
    body = "".join(f"<object><name>{n}</name><bndbox><xmin>{11 + k}</xmin><ymin>11</ymin><xmax>{30 + k}</xmax>"
                   "<ymax>30</ymax></bndbox></object>" for k, n in enumerate(NAMES))  # fmt: skip
    (tmp_path / "a.xml").write_text(f"<annotation><filename>a.jpg</filename><size><width>100</width>"
                                    f"<height>80</height></size>{body}</annotation>")  # fmt: skip
    got = load(tmp_path / "a.xml")
    written = [n for n in NAMES if n.strip()]  # what the toolkits compare: each distinct text a class of its own
    assert list(got.categories.values()) == written
    assert got.table["category"].tolist() == written
    assert got.excluded == {"malformed_record": 2}
