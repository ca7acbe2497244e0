"""ATSS's k nearest anchors, found in blocks around each object's nearest cell, against brute force over every
anchor of the grid (float32 distances as mmdetection computes them, equal distances in anchor order)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.match.assign._grid import AnchorLevel
from scalematch.match.assign.atss import nearest
from scalematch.match.geometry import Grid


def _level(rows: int, cols: int, stride_w: int, stride_h: int) -> AnchorLevel:
    one = np.ones(1, np.int64)
    grid = Grid("P", one * rows, one * cols, np.full(1, float(stride_h)), np.full(1, float(stride_w)))
    half = np.array([-4.0], np.float32)
    return AnchorLevel(grid, "torchvision", half, -half, half, -half, one * cols * stride_w, one * rows * stride_h)


def _brute(lv: AnchorLevel, cx: np.float32, cy: np.float32, k: int) -> set[tuple[int, int]]:
    rows, cols = int(lv.grid.rows[0]), int(lv.grid.cols[0])
    iy, ix = np.divmod(np.arange(rows * cols), cols)  # anchor order: row-major
    zero = np.zeros(len(ix), np.int64)
    image = np.zeros(len(ix), np.int64)
    x1, x2 = lv.xs(image, ix, zero)
    y1, y2 = lv.ys(image, iy, zero)
    px, py = (x1 + x2) / np.float32(2), (y1 + y2) / np.float32(2)
    dx, dy = px - cx, py - cy
    dist = np.sqrt(dy * dy + dx * dx)
    order = np.argsort(dist, kind="stable")[: min(k, len(dist))]
    return {(int(iy[i]), int(ix[i])) for i in order}


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    stride_w=st.sampled_from([4, 7, 8, 16]),
    stride_h=st.sampled_from([4, 8, 9, 16]),
    k=st.sampled_from([1, 4, 9, 12, 20, 60, 1000]),
    centres=st.lists(st.tuples(st.floats(-40, 700), st.floats(-40, 700)), min_size=1, max_size=6),
    snap=st.booleans(),
)
def test_nearest_equals_brute_force(
    rows: int, cols: int, stride_w: int, stride_h: int, k: int, centres: list[tuple[float, float]], snap: bool
) -> None:
    lv = _level(rows, cols, stride_w, stride_h)
    xy = np.array(centres, np.float64)
    if snap:  # centres on cell corners and midpoints: many equal distances
        xy = np.round(xy * 2 / 4) * 4 / 2
    gcx, gcy = xy[:, 0].astype(np.float32), xy[:, 1].astype(np.float32)
    img = np.zeros(len(xy), np.int64)
    got = nearest(lv, img, gcx, gcy, k)
    assert np.all(np.diff(got.obj) >= 0)  # object by object
    for o in range(len(xy)):
        mine = got.obj == o
        picks = {(int(y), int(x)) for y, x in zip(got.iy[mine], got.ix[mine], strict=True)}
        assert int(mine.sum()) == len(picks)
        assert picks == _brute(lv, gcx[o], gcy[o], k)
