"""YOLO segmentation and pose label files read as ultralytics 8.4 reads them for a box task, compared file by file
with ultralytics' own ``verify_image_label`` (skipped without ultralytics, unless SCALEMATCH_REQUIRE_TOOLKITS=1).

ultralytics reads every line of a file as a polygon ``class x1 y1 x2 y2 ...`` as soon as one line has more than 6
fields, and takes its box from the points' extent (``segments2boxes``); it refuses such a file whole when a line
has 5 fields or an odd number of coordinates, where scalematch excludes that line only.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError

W, H = 64, 48


def _verify() -> Any:
    return need("ultralytics.data.utils", missing="ultralytics is not installed").verify_image_label


def _dataset(root: Path, files: dict[str, str], yaml: str = "names: [a, b, c]\n") -> Path:
    from PIL import Image

    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "data.yaml").write_text(yaml)
    for name, text in files.items():
        (root / "labels" / f"{name}.txt").write_text(text)
        Image.new("RGB", (W, H)).save(root / "images" / f"{name}.png")
    return root


def _theirs(root: Path, name: str, nkpt: int = 0, ndim: int = 0) -> tuple[np.ndarray | None, str]:
    """ultralytics' (class, cx, cy, w, h) rows of one file (None when it refuses the file) and its message."""
    args = (str(root / "images" / f"{name}.png"), str(root / "labels" / f"{name}.txt"), "", False, 3, nkpt, ndim, False)
    out = _verify()(args)
    return (None if out[8] else np.asarray(out[1], np.float64)), out[9]


def _ours(table: Any, name: str) -> np.ndarray:
    """Our rows of one file as (class, cx, cy, w, h), normalised back to the image."""
    rows = table[table["label_file"].astype(str) == f"labels/{name}.txt"]
    w, h = rows["w"].to_numpy() / W, rows["h"].to_numpy() / H
    cx, cy = rows["x"].to_numpy() / W + w / 2, rows["y"].to_numpy() / H + h / 2
    return np.stack([rows["category_id"].to_numpy(np.float64), cx, cy, w, h], axis=1)


def test_polygon_files_give_ultralytics_boxes(tmp_path: Path) -> None:
    rng = random.Random(11)
    files = {}
    for k in range(30):
        lines = []
        for _ in range(rng.randint(1, 4)):
            points = [f"{rng.uniform(0, 1):.6f}" for _ in range(2 * rng.randint(3, 12))]
            lines.append(" ".join([str(rng.randint(0, 2)), *points]))
        if k % 3 == 0:  # a one-point polygon (3 fields) in a polygon file: its box is empty
            lines.append("1 0.5 0.5")
        files[f"f{k}"] = "\n".join(lines) + "\n"
    root = _dataset(tmp_path / "ds", files)
    result = load(root, resize="none")
    assert result.excluded == {"bbox_nonpositive": 10}
    for name in files:
        theirs, msg = _theirs(root, name)
        assert theirs is not None, msg
        kept = theirs[(theirs[:, 3] > 0) & (theirs[:, 4] > 0)]
        np.testing.assert_allclose(_ours(result.table, name), kept, atol=1e-6)


def test_lines_ultralytics_refuses_in_a_polygon_file(tmp_path: Path) -> None:
    polygon = "2 0.1 0.2 0.5 0.1 0.6 0.7 0.2 0.4"
    files = {
        "alone": polygon + "\n",
        "mixed": "0 0.5 0.5 0.25 0.25\n" + polygon + "\n",  # a box line among polygons
        "odd": polygon + "\n1 0.1 0.1 0.5 0.1 0.5\n",  # 5 coordinates (6 fields)
        "boxes": "0 0.5 0.5 0.25 0.25\n1 0.5 0.5 0.2 0.2 0.1\n",  # no line over 6 fields: boxes, one malformed
    }
    root = _dataset(tmp_path / "ds", files)
    result = load(root, resize="none")
    assert result.excluded == {"malformed_record": 3}
    alone, _ = _theirs(root, "alone")
    assert alone is not None
    np.testing.assert_allclose(alone, [[2, 0.35, 0.4, 0.5, 0.6]], atol=1e-6)
    for name, refusal in (("mixed", "labels mix segment and detection rows"), ("odd", "reshape"),
                          ("boxes", "inhomogeneous")):  # fmt: skip
        theirs, msg = _theirs(root, name)
        assert theirs is None and refusal in msg, msg
    np.testing.assert_allclose(_ours(result.table, "mixed"), alone, atol=1e-6)
    np.testing.assert_allclose(_ours(result.table, "odd"), alone, atol=1e-6)
    np.testing.assert_allclose(_ours(result.table, "boxes"), [[0, 0.5, 0.5, 0.25, 0.25]], atol=1e-6)
    mixed = root / "labels" / "mixed.txt"
    with pytest.raises(DatasetError) as refused:
        load(mixed, resize="none", strict=True)
    assert str(refused.value) == (
        f"{mixed}: line 1: a box line in a file of polygon lines (ultralytics refuses such a file: 'labels mix "
        "segment and detection rows') [malformed_record]"
    )


def test_pose_lines_keep_their_box(tmp_path: Path) -> None:
    """With data.yaml's kpt_shape [2, 3], a line of 5 + 6 fields is a box and its keypoints (ultralytics' box task
    keeps the box); without kpt_shape the same line is a polygon of 5 points, as ultralytics reads it."""
    line = "1 0.5 0.5 0.2 0.4 0.45 0.4 2 0.55 0.6 1\n"
    pose = _dataset(tmp_path / "pose", {"p": line}, "names: [a, b]\nkpt_shape: [2, 3]\n")
    theirs, msg = _theirs(pose, "p", nkpt=2, ndim=3)
    assert theirs is not None, msg
    np.testing.assert_allclose(_ours(load(pose, resize="none").table, "p"), theirs, atol=1e-6)
    np.testing.assert_allclose(theirs, [[1, 0.5, 0.5, 0.2, 0.4]], atol=1e-6)
    plain = _dataset(tmp_path / "plain", {"p": line}, "names: [a, b]\n")
    theirs, msg = _theirs(plain, "p")
    assert theirs is None and "non-normalized" in msg  # the point (2, 0.55) lies outside the image
    assert load(plain, resize="none").excluded == {"bbox_out_of_range": 1}


def _sorted_rows(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort(rows.T[::-1])] if len(rows) else rows


def test_repeated_labels_are_removed_as_ultralytics_removes_them(tmp_path: Path) -> None:
    """ultralytics keeps one of the rows of a file that are equal as float32 (``np.unique`` over the label rows),
    and of polygons those with the same class and points; every removed row is counted as ``duplicate_label``."""
    rng = random.Random(4)
    files, removed = {}, 0
    for k in range(40):
        polygon = k % 2 == 1
        lines: list[str] = []
        for _ in range(rng.randint(1, 5)):
            if lines and rng.random() < 0.5:  # a repeat: the same text, or the same float32 values written apart
                base = rng.choice(lines).split()
                twin = [base[0], *(f"{float(v) + 1e-9:.10f}" if rng.random() < 0.5 else v for v in base[1:])]
                lines.append(" ".join(twin))
            elif polygon and lines and rng.random() < 0.3:  # the same box from the points in another order
                base = rng.choice(lines).split()
                pairs = [base[i : i + 2] for i in range(1, len(base), 2)]
                lines.append(" ".join([base[0], *(v for pair in pairs[::-1] for v in pair)]))
            elif polygon:
                points = ["0.25", "0.75", "0.75", "0.25"]  # a box of some width and height, whatever follows
                points += [f"{rng.choice([0.25, 0.5, 0.75])}" for _ in range(2 * rng.randint(1, 2))]
                lines.append(" ".join([str(rng.randint(0, 2)), *points]))
            else:
                values = [f"{rng.choice([0.25, 0.5]):.6f}" for _ in range(4)]
                lines.append(" ".join([str(rng.randint(0, 1)), *values]))
        files[f"f{k}"] = "\n".join(lines) + "\n"
    root = _dataset(tmp_path / "ds", files)
    result = load(root, resize="none")
    for name in files:
        theirs, msg = _theirs(root, name)
        assert theirs is not None, msg
        kept = theirs[(theirs[:, 3] > 0) & (theirs[:, 4] > 0)]
        np.testing.assert_allclose(_sorted_rows(_ours(result.table, name)), _sorted_rows(kept), atol=1e-6)
        removed += len(files[name].splitlines()) - len(theirs)
    assert removed > 20  # the oracle did remove rows
    assert result.excluded.get("duplicate_label") == removed


def test_a_repeated_label_is_named(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", {"a": "0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n0 0.50000001 0.5 0.2 0.2\n"})
    theirs, msg = _theirs(root, "a")
    assert theirs is not None and msg.endswith("1 duplicate labels removed")
    with pytest.raises(DatasetError) as refused:
        load(root, resize="none", strict=True)
    assert str(refused.value) == (
        f"{root}: labels/a.txt: line 3: the same label as line 1 (equal as float32: ultralytics keeps one of them) "
        "[duplicate_label]"
    )
