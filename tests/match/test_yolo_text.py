"""The YOLO label text of the COCO converters: :func:`as_written` equals parsing ``'%g' % value`` for every float
(ties, tiny and huge values, signs), and the labels it gives equal, as float32, the lines ultralytics' own
``convert_coco`` writes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from required import need

from scalematch.dataset.yolo_labels import as_written

TIES = [0.03828125, 0.01953125, 24.5 / 640, 1.5 / 640, 0.1234565, 0.5, 1e-5 * 3.125, 12345.65, 2.5e-7, 0.999999500]


def _printf(values: list[float]) -> list[float]:
    return [float("%g" % v) for v in values]  # noqa: UP031 (the converters' own formatting)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False) | st.sampled_from(TIES) | st.integers(0, 5000).map(lambda p: p / 640),
                max_size=50))  # fmt: skip
def test_as_written_is_the_value_of_the_text(values: list[float]) -> None:
    got = as_written(np.array(values, dtype=np.float64))
    assert got.tolist() == _printf(values)


def test_special_values_stay() -> None:
    got = as_written(np.array([0.0, -0.0, math.inf, -math.inf, math.nan]))
    assert got[:4].tolist() == [0.0, -0.0, math.inf, -math.inf] and math.isnan(got[4])
    assert math.copysign(1, got[1]) == -1


@pytest.mark.slow
def test_labels_equal_what_convert_coco_writes(tmp_path: Path) -> None:
    """Integer and half-pixel boxes on odd image widths (the labels with more than six significant digits, ties
    among them), converted by ultralytics' ``convert_coco`` and read back as its dataloader reads them."""
    converter = need("ultralytics.data.converter")
    rng = np.random.default_rng(7)
    sizes = [(640, 480), (333, 500), (427, 640), (500, 375), (612, 612)]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, (w, h) in enumerate(sizes, 1):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": w, "height": h})
        for _ in range(40):
            bw, bh = (float(rng.integers(2, 200)) / 2 for _ in range(2))
            x, y = float(rng.integers(0, 2 * (w - 100))) / 2, float(rng.integers(0, 2 * (h - 100))) / 2
            box = [x, y, bw, bh]
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": 1, "bbox": box,
                                "area": bw * bh, "iscrowd": 0})  # fmt: skip
    (tmp_path / "coco" / "annotations").mkdir(parents=True)
    doc = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "a"}]}
    (tmp_path / "coco" / "annotations" / "instances_x.json").write_text(json.dumps(doc))
    converter.convert_coco(str(tmp_path / "coco" / "annotations"), str(tmp_path / "out"), cls91to80=False)
    ties = 0
    for i, (w, h) in enumerate(sizes, 1):
        lines = (tmp_path / "out" / "labels" / "x" / f"{i}.txt").read_text().split("\n")
        theirs = np.array([line.split()[1:] for line in lines if line], dtype=np.float32)
        boxes = np.array([a["bbox"] for a in annotations if a["image_id"] == i], dtype=np.float64)
        x, y, bw, bh = boxes.T
        exact = ((x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h)
        ours = np.stack([as_written(v).astype(np.float32) for v in exact], axis=1)
        plain = np.stack([v.astype(np.float32) for v in exact], axis=1)
        assert np.array_equal(ours, theirs)
        ties += int((plain != theirs).any(axis=1).sum())
    assert ties  # some labels differ from the unrounded ones: the test sees the text
