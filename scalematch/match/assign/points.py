"""Point assigners: torchvision's FCOS (centre sampling, regress ranges, smallest box wins) and ultralytics'
task-aligned candidates (points inside the box), on each level's grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.assign._grid import AnchorLevel, expand, per_level
from scalematch.match.assign.maxiou import Assigned, Boxes, first_max

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from scalematch.match.geometry import Grid

    F32 = npt.NDArray[np.float32]
    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]


def fcos(boxes: Boxes, levels: list[AnchorLevel], radius: float) -> Assigned:
    """torchvision FCOS.compute_loss: a point (the centre i * stride of the level's one anchor, of size s)
    takes an object when it lies within ``radius`` * s of the object's centre on both axes, strictly inside the
    box, and max(l, t, r, b) is in (4 s, 8 s) (no lower bound on the first level, no upper on the last); among
    several objects the one with the largest float32 (1e8 - area) wins, the first on ties."""
    import numpy as np

    f32 = np.float32
    n = len(boxes.image)
    gcx = (boxes.x1 + boxes.x2) / f32(2)
    gcy = (boxes.y1 + boxes.y2) / f32(2)
    value = f32(1e8) - (boxes.x2 - boxes.x1) * (boxes.y2 - boxes.y1)
    obj_parts, key_parts, lvl_parts = [], [], []
    key_base = 0
    longer = np.maximum(boxes.x2 - boxes.x1, boxes.y2 - boxes.y1).astype(np.float64)
    for li, lv in enumerate(levels):
        size = f32(lv.hi_w[0] - lv.lo_w[0])  # anchor x2 - x1
        reach = f32(radius) * size
        lower = f32(0) if li == 0 else size * f32(4)
        upper = f32(np.inf) if li == len(levels) - 1 else size * f32(8)
        # A point within `reach` of the centre sees max(l, t, r, b) in [longer / 2, longer / 2 + reach): skip the
        # objects whose range cannot meet the level's (with a margin for rounding).
        near = (longer / 2 + float(reach) > float(lower) * (1 - 1e-6)) & (longer / 2 < float(upper) * (1 + 1e-6))
        objs = np.flatnonzero(near)
        take = np.take  # faster than fancy indexing
        img = take(boxes.image, objs)
        per_axis = []
        for lo, hi, centre, stride, count, axis in (
            (boxes.x1, boxes.x2, gcx, lv.grid.stride_w, lv.grid.cols, "x"),
            (boxes.y1, boxes.y2, gcy, lv.grid.stride_h, lv.grid.rows, "y"),
        ):
            # Points near the centre and inside the box, one index either way against rounding; then exact.
            c32, lo32, hi32 = take(centre, objs), take(lo, objs), take(hi, objs)
            c, b1, b2 = c32.astype(np.float64), lo32.astype(np.float64), hi32.astype(np.float64)
            step = take(stride, img)
            first = np.maximum(np.floor(np.maximum(c - float(reach), b1) / step) - 1, 0).astype(np.int64)
            last = np.minimum(np.ceil(np.minimum(c + float(reach), b2) / step) + 1, take(count, img) - 1)
            owner, i = expand(first, last.astype(np.int64))
            a1, a2 = lv.at(i, 0, take(lv.factor(img, axis), owner), axis)
            p = (a1 + a2) / f32(2)
            lo_o, hi_o = take(lo32, owner), take(hi32, owner)
            ok = np.flatnonzero((np.abs(p - take(c32, owner)) < reach) & (p - lo_o > 0) & (hi_o - p > 0))
            far = np.maximum(p - lo_o, hi_o - p)
            per_axis.append((take(owner, ok), take(i, ok), take(far, ok)))
        (ox, ix, fx), (oy, iy, fy) = per_axis
        # Every (x, y) combination of one object's surviving points.
        ystart = np.searchsorted(oy, np.arange(len(objs)), side="left")
        ycount = np.bincount(oy, minlength=len(objs))
        first_y = take(ystart, ox)
        k, yk = expand(first_y, first_y + take(ycount, ox) - 1)
        far = np.maximum(take(fx, k), take(fy, yk))
        ok = np.flatnonzero((far > lower) & (far < upper))
        k, yk = take(k, ok), take(yk, ok)
        o = take(objs, take(ox, k))
        ix, iy = take(ix, k), take(iy, yk)
        rows, cols = lv.grid.rows, lv.grid.cols
        im = take(boxes.image, o)
        # One key space per level (keys only need to be distinct per point).
        key = key_base + (im * int(rows.max() + 1) + iy) * int(cols.max() + 1) + ix
        key_base = int(key.max()) + 1 if len(key) else key_base
        obj_parts.append(o)
        key_parts.append(key)
        lvl_parts.append(np.full(len(o), li, np.int64))
    obj = np.concatenate(obj_parts)
    key = np.concatenate(key_parts)
    lvl = np.concatenate(lvl_parts)
    win = first_max(key, np.take(value, obj))  # per point: the smallest box, the first object on ties
    positives = per_level(np.take(obj, win), np.take(lvl, win), n, len(levels))
    candidate = np.bincount(obj, minlength=n) > 0
    lost = (positives.sum(axis=1) == 0) & candidate
    return Assigned(positives, np.full(n, np.nan, np.float32), lost)


def inside_counts(boxes: Boxes, grids: tuple[Grid, ...], offset: float) -> I64:
    """Per object and level: points at (i + offset) * stride strictly inside the box (by more than 1e-9, as
    ultralytics' select_candidates_in_gts), counted per axis and multiplied (the test is separable).

    Along an axis the float32 point positions never decrease with i, so the points past the box's start form a
    tail of the indices and those before its end a head: the points inside are a range, whose ends are found by
    testing the few indices around each estimated end (one cell either way against rounding) instead of every
    point in between."""
    import numpy as np

    out = np.zeros((len(boxes.image), len(grids)), np.int64)
    img = boxes.image
    take = np.take  # faster than fancy indexing
    for li, g in enumerate(grids):
        for lo, hi, stride, n, col in (
            (boxes.x1, boxes.x2, take(g.stride_w, img), take(g.cols, img), 0),
            (boxes.y1, boxes.y2, take(g.stride_h, img), take(g.rows, img), 1),
        ):
            span = _inside_span(lo, hi, stride, n, offset)
            if col == 0:
                out[:, li] = span
            else:
                out[:, li] *= span
    return out


def _inside_span(lo: F32, hi: F32, stride: F64, n: I64, offset: float) -> I64:
    """Per box: how many of the points (i + offset) * stride (float32), i in 0..n-1, lie inside lo..hi by more than
    1e-9, among the candidates from one index before the box's start to one after its end."""
    import numpy as np

    f32 = np.float32
    eps, off, step = f32(1e-9), f32(offset), stride.astype(f32)
    first = np.maximum(np.floor(lo / stride - offset) - 1, 0).astype(np.int64)
    last = np.minimum(np.ceil(hi / stride - offset) + 1, n - 1).astype(np.int64)

    def point(i: I64) -> F32:
        return np.asarray((i.astype(f32) + off) * step, dtype=f32)

    start, end = first.copy(), last.copy()  # the first index past the start, the last before the end
    for k in range(4):  # the start lies within a few indices of ``first`` (the end of ``last``), as estimated
        start += point(first + k) - lo <= eps
        end -= hi - point(last - k) <= eps
    far = np.flatnonzero((point(first + 3) - lo <= eps) | (hi - point(last - 3) <= eps))
    span = np.maximum(end - start + 1, 0)
    for j in far:  # an end farther than estimated (not met on real sizes): every candidate tested
        i = np.arange(first[j], last[j] + 1)
        p = point(i)
        span[j] = int(np.count_nonzero((p - lo[j] > eps) & (hi[j] - p > eps)))
    return np.asarray(span, dtype=np.int64)


def tal(boxes: Boxes, grids: tuple[Grid, ...], offset: float, topk: int, min_side: float) -> tuple[Assigned, I64]:
    """ultralytics' TaskAlignedAssigner, bounded: an object's positives are among the points inside its box (a
    side shorter than ``min_side`` widened to it about the centre, in float32 as select_candidates_in_gts does),
    at most ``topk`` of them. Returns the candidates per level and the bound per object."""
    import numpy as np

    f32 = np.float32
    cx, cy = (boxes.x1 + boxes.x2) / f32(2), (boxes.y1 + boxes.y2) / f32(2)
    w, h = boxes.x2 - boxes.x1, boxes.y2 - boxes.y1
    side = f32(min_side)
    w = np.where(w < side, side, w)
    h = np.where(h < side, side, h)
    hw, hh = w / f32(2), h / f32(2)
    widened = Boxes(boxes.image, cx - hw, cy - hh, cx + hw, cy + hh)
    cand = inside_counts(widened, grids, offset)
    n = len(boxes.image)
    return Assigned(cand, np.full(n, np.nan, np.float32), np.zeros(n, bool)), np.minimum(cand.sum(axis=1), topk)
