"""An input the user may not read (``chmod 000``: a COCO file, a VOC or YOLO folder, a labels folder given
directly) is one :class:`DatasetError` naming the path given, in the API and on the command line (``Error:
<path>: ...``, exit 2): not a bare ``PermissionError`` naming a file inside it, nor click's usage error. The side
files (``data.yaml``, ``classes.txt``, a split file, a label file) say the same of themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COCO = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600}],
    "categories": [{"id": 1, "name": "cat"}],
}
VOC = (
    "<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height></size>"
    "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>40</xmax><ymax>40</ymax></bndbox></object>"
    "</annotation>"
)
BOX = "0 0.5 0.5 0.2 0.2\n"


def _datasets(root: Path) -> None:
    """``a.json`` (COCO), ``voc`` (a year folder with a val split), ``yolo`` (labels, a data.yaml, no images) and
    ``flat`` (label files and a classes.txt)."""
    (root / "a.json").write_text(json.dumps(COCO))
    (root / "voc" / "Annotations").mkdir(parents=True)
    (root / "voc" / "Annotations" / "a.xml").write_text(VOC)
    (root / "voc" / "ImageSets" / "Main").mkdir(parents=True)
    (root / "voc" / "ImageSets" / "Main" / "val.txt").write_text("a\n")
    (root / "yolo" / "labels").mkdir(parents=True)
    (root / "yolo" / "labels" / "a.txt").write_text(BOX)
    (root / "yolo" / "data.yaml").write_text("names: [cat]\n")
    (root / "flat").mkdir()
    (root / "flat" / "a.txt").write_text(BOX)
    (root / "flat" / "classes.txt").write_text("cat\n")


def _run(prefix: tuple[str, ...], argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [*prefix, sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


# (made unreadable, the path given, the format given, the error)
INPUTS = [
    ("a.json", "a.json", None, "a.json: cannot read (Permission denied)"),
    ("voc", "voc", None, "voc: Permission denied"),  # not voc/Annotations, looked for in it
    ("voc", "voc", "voc", "voc: Permission denied"),
    ("voc/Annotations/a.xml", "voc/Annotations/a.xml", None, "voc/Annotations/a.xml: cannot read (Permission denied)"),
    ("yolo/labels", "yolo/labels", None, "yolo/labels: Permission denied"),  # not yolo/labels/Annotations
    ("yolo/labels", "yolo/labels", "yolo", "yolo/labels: Permission denied"),
    ("yolo/labels", "yolo", None, "yolo/labels: Permission denied"),  # a folder inside the one given
    ("flat/a.txt", "flat/a.txt", None, "flat/a.txt: cannot read (Permission denied)"),
]
# (made unreadable, the path given, the file named, the error): the side files, read once the input is
SIDE_FILES = [
    ("voc/ImageSets/Main/val.txt", "voc", "voc/ImageSets/Main/val.txt", "cannot read (Permission denied)"),
    ("yolo/data.yaml", "yolo", "yolo/data.yaml", "cannot read (Permission denied)"),
    ("flat/classes.txt", "flat", "flat/classes.txt", "cannot read (Permission denied)"),
    ("flat/a.txt", "flat", "flat/a.txt", "cannot read (Permission denied)"),
]
API = """
import sys
import scalematch as sm
path, fmt, split = sys.argv[1], sys.argv[2] or None, sys.argv[3] or None
for read in (sm.read_annotations, sm.recommend):
    try:
        read(path, format=fmt, split=split)
    except sm.ScalematchError as exc:
        print(type(exc).__name__, exc)
    else:
        print("read")
"""


@pytest.mark.parametrize(
    ("locked_path", "given", "fmt", "error"), INPUTS, ids=[f"{c[1]}-{c[2]}-{c[0]}" for c in INPUTS]
)
def test_an_unreadable_input_is_a_dataset_error_naming_it(
    tmp_path: Path, unprivileged: tuple[str, ...], locked: list[Path], locked_path: str, given: str,
    fmt: str | None, error: str,
) -> None:  # fmt: skip
    _datasets(tmp_path)
    (tmp_path / locked_path).chmod(0)
    locked.append(tmp_path / locked_path)
    run = _run(unprivileged, ["-c", API, given, fmt or "", ""], tmp_path)
    line = f"DatasetError {error}\n"
    assert (run.returncode, run.stdout, run.stderr) == (0, line * 2, "")
    options = ["--format", fmt] if fmt else []
    for command in ("stats", "recommend"):
        cli = _run(unprivileged, ["-m", "scalematch", command, given, *options, "-q"], tmp_path)
        assert (cli.returncode, cli.stdout, cli.stderr) == (2, "", f"Error: {error}\n")


@pytest.mark.parametrize(("locked_path", "given", "named", "error"), SIDE_FILES, ids=[c[0] for c in SIDE_FILES])
def test_an_unreadable_side_file_is_a_dataset_error_naming_it(
    tmp_path: Path, unprivileged: tuple[str, ...], locked: list[Path], locked_path: str, given: str, named: str,
    error: str,
) -> None:  # fmt: skip
    _datasets(tmp_path)
    (tmp_path / locked_path).chmod(0)
    locked.append(tmp_path / locked_path)
    split = "val" if given == "voc" else ""
    run = _run(unprivileged, ["-c", API, given, "", split], tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"DatasetError {named}: {error}\n" * 2, "")
    options = ["--split", split] if split else []
    cli = _run(unprivileged, ["-m", "scalematch", "stats", given, *options, "-q"], tmp_path)
    assert (cli.returncode, cli.stdout, cli.stderr) == (2, "", f"Error: {named}: {error}\n")
