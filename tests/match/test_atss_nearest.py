"""ATSS's k nearest anchors, found in blocks around each object's nearest cell, against brute force over every
anchor of the grid (float32 distances as mmdetection computes them, equal distances in anchor order); their IoU and
centre test, computed per block row and column, against box_iou and the test per anchor."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.assign._grid import AnchorLevel, box_iou
from scalematch.match.assign.atss import nearest
from scalematch.match.geometry import Grid


def _level(rows: int, cols: int, stride_w: int, stride_h: int) -> AnchorLevel:
    one = np.ones(1, np.int64)
    grid = Grid("P", one * rows, one * cols, np.full(1, float(stride_h)), np.full(1, float(stride_w)))
    half = np.array([-4.0], np.float32)
    return AnchorLevel(grid, "torchvision", half, -half, half, -half, one * cols * stride_w, one * rows * stride_h)


def _brute(
    lv: AnchorLevel, box: tuple[np.float32, np.float32, np.float32, np.float32], k: int
) -> dict[tuple[int, int], tuple[float, bool]]:
    """The k nearest anchors by a stable sort of every anchor's distance, with their IoU and centre test."""
    rows, cols = int(lv.grid.rows[0]), int(lv.grid.cols[0])
    iy, ix = np.divmod(np.arange(rows * cols), cols)  # anchor order: row-major
    zero = np.zeros(len(ix), np.int64)
    image = np.zeros(len(ix), np.int64)
    x1, x2 = lv.xs(image, ix, zero)
    y1, y2 = lv.ys(image, iy, zero)
    px, py = (x1 + x2) / np.float32(2), (y1 + y2) / np.float32(2)
    bx1, by1, bx2, by2 = box
    cx, cy = (bx1 + bx2) / np.float32(2), (by1 + by2) / np.float32(2)
    dx, dy = px - cx, py - cy
    dist = np.sqrt(dy * dy + dx * dx)
    order = np.argsort(dist, kind="stable")[: min(k, len(dist))]
    full = np.full(len(ix), 1, np.float32)
    iou = box_iou(full * bx1, full * by1, full * bx2, full * by2, x1, y1, x2, y2)
    margin = np.minimum(np.minimum(np.minimum(px - bx1, py - by1), bx2 - px), by2 - py)
    return {(int(iy[i]), int(ix[i])): (float(iou[i]), bool(margin[i] > np.float32(0.01))) for i in order}


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    stride_w=st.sampled_from([4, 7, 8, 16]),
    stride_h=st.sampled_from([4, 8, 9, 16]),
    k=st.sampled_from([1, 4, 9, 12, 20, 60, 1000]),
    boxes=st.lists(
        st.tuples(st.floats(-40, 700), st.floats(-40, 700), st.floats(0.5, 300), st.floats(0.5, 300)),
        min_size=1,
        max_size=6,
    ),
    snap=st.booleans(),
)
def test_nearest_equals_brute_force(
    rows: int,
    cols: int,
    stride_w: int,
    stride_h: int,
    k: int,
    boxes: list[tuple[float, float, float, float]],
    snap: bool,
) -> None:
    lv = _level(rows, cols, stride_w, stride_h)
    xywh = np.array(boxes, np.float64)
    if snap:  # boxes on cell corners and midpoints: many equal distances and IoUs
        xywh = np.round(xywh * 2 / 4) * 4 / 2 + [0, 0, 2, 2]
    x1, y1 = xywh[:, 0].astype(np.float32), xywh[:, 1].astype(np.float32)
    box = (x1, y1, x1 + xywh[:, 2].astype(np.float32), y1 + xywh[:, 3].astype(np.float32))
    img = np.zeros(len(xywh), np.int64)
    parts = nearest(lv, img, box, k)
    for got in parts:
        assert np.all(np.diff(got.obj) >= 0)  # object by object
    for o in range(len(xywh)):
        holding = [got for got in parts if np.any(got.obj == o)]
        assert len(holding) == 1  # all of an object's picks in one part
        got = holding[0]
        mine = np.flatnonzero(got.obj == o)
        picks = {(int(got.iy[i]), int(got.ix[i])): (float(got.iou[i]), bool(got.inside[i])) for i in mine}
        assert len(mine) == len(picks)
        assert picks == _brute(lv, (box[0][o], box[1][o], box[2][o], box[3][o]), k)
