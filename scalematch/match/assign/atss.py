"""ATSS as mmdetection's ATSSAssigner decides it (Zhang et al. 2020), in float32 as it computes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalematch.match.assign._grid import AnchorLevel, box_iou, per_level
from scalematch.match.assign.maxiou import Assigned, Boxes, first_max

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    F32 = npt.NDArray[np.float32]
    I64 = npt.NDArray[np.int64]

BLOCK_ELEMENTS = 4_000_000
"""Object-anchor distances computed at once (objects are taken in batches of this many block cells)."""


@dataclass(frozen=True)
class Nearest:
    """The ``topk`` anchors nearest to objects' centres on one level: per pick its object, cell and centre."""

    obj: I64
    ix: I64
    iy: I64
    px: F32
    py: F32


def atss(boxes: Boxes, levels: list[AnchorLevel], topk: int, floor: float = 0.0) -> Assigned:
    """Per object and level the ``topk`` anchors whose centres are nearest to the object's centre (float32
    Euclidean distance; equal distances in anchor order), their IoU's mean + std (unbiased) as the threshold,
    positive when IoU >= threshold and the anchor centre lies inside the box by more than 0.01; an anchor
    positive for several objects goes to the one with the highest IoU (the first on ties)."""
    import numpy as np

    f32 = np.float32
    n = len(boxes.image)
    img = boxes.image
    gcx = (boxes.x1 + boxes.x2) / f32(2)
    gcy = (boxes.y1 + boxes.y2) / f32(2)
    parts: list[tuple[Nearest, npt.NDArray[np.float32], npt.NDArray[np.bool_]]] = []
    count = np.zeros(n)
    total = np.zeros(n)
    best = np.zeros(n, np.float32)
    for lv in levels:
        near = nearest(lv, img, gcx, gcy, topk)
        o, ix, iy = near.obj, near.ix, near.iy
        zero = np.zeros(len(o), np.int64)
        bx1, bx2 = lv.xs(img[o], ix, zero)
        by1, by2 = lv.ys(img[o], iy, zero)
        iou = box_iou(boxes.x1[o], boxes.y1[o], boxes.x2[o], boxes.y2[o], bx1, by1, bx2, by2)
        pxs, pys = near.px, near.py
        margin = np.minimum(np.minimum(pxs - boxes.x1[o], pys - boxes.y1[o]), boxes.x2[o] - pxs)
        inside = np.minimum(margin, boxes.y2[o] - pys) > f32(0.01)
        parts.append((near, iou, inside))
        count += np.bincount(o, minlength=n)
        total += np.bincount(o, weights=iou, minlength=n)
        if len(o):  # picks come object by object
            start = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
            here = o[start]
            best[here] = np.maximum(best[here], np.maximum.reduceat(iou, start))
    # mean + std (unbiased, as torch.std) of each object's candidate IoUs, in double, then float32
    mean = total / np.maximum(count, 1)
    spread = np.zeros(n)
    for near, iou, _ in parts:
        spread += np.bincount(near.obj, weights=(iou.astype(np.float64) - mean[near.obj]) ** 2, minlength=n)
    threshold = mean.astype(f32) + np.sqrt(spread / np.maximum(count - 1, 1)).astype(f32)
    # Per level the positives, with a key per anchor (one key space per level); candidates come level by level
    # and, inside a level, object by object: first_max keeps the lowest object on equal IoU.
    obj_p, key_p, lvl_p, iou_p = [], [], [], []
    key_base = 0
    for li, (lv, (near, iou, inside)) in enumerate(zip(levels, parts, strict=True)):
        positive = np.flatnonzero((iou >= threshold[near.obj]) & inside)
        o = near.obj[positive]
        im = img[o]
        cols = int(lv.grid.cols.max()) + 1
        key = key_base + (im * (int(lv.grid.rows.max()) + 1) + near.iy[positive]) * cols + near.ix[positive]
        key_base = int(key.max()) + 1 if len(key) else key_base
        obj_p.append(o)
        key_p.append(key)
        lvl_p.append(np.full(len(o), li, np.int64))
        iou_p.append(iou[positive])
    obj, key, lvl, iou = (np.concatenate(p) for p in (obj_p, key_p, lvl_p, iou_p))
    win = first_max(key, iou)
    positives = per_level(obj[win], lvl[win], n, len(levels))
    candidate = np.zeros(n, bool)
    candidate[obj] = True
    lost = (positives.sum(axis=1) == 0) & candidate
    weak = np.bincount(obj[win][iou[win] < np.float32(floor)], minlength=n).astype(np.int64)
    return Assigned(positives, best, lost, weak)


def nearest(lv: AnchorLevel, img: I64, gcx: F32, gcy: F32, topk: int) -> Nearest:
    """Per object the ``min(topk, anchors of the level)`` anchors (shape 0) whose centres are nearest to its
    centre, ties in anchor order, found in a square block of cells around it (4 x 4 for the 9 nearest). A block
    is grown for the objects where a cell outside it could be as near as the k-th pick, so the result is exact."""
    import numpy as np

    todo = np.arange(len(img), dtype=np.int64)
    width = 1
    while width * width < 1.6 * topk:
        width += 1
    found: list[Nearest] = []
    while len(todo):
        batch = max(BLOCK_ELEMENTS // (width * width), 1)
        retry = []
        for lo in range(0, len(todo), batch):
            objs = todo[lo : lo + batch]
            near, sure = _in_block(lv, objs, img[objs], gcx[objs], gcy[objs], width, topk)
            found.append(near)
            retry.append(objs[~sure])
        todo = np.concatenate(retry)
        width *= 2
    if not found:
        e = np.zeros(0, np.int64)
        return Nearest(e, e, e, np.zeros(0, np.float32), np.zeros(0, np.float32))
    if len(found) == 1:
        return found[0]
    # object by object (the objects that needed a larger block were found later); the picks of one object stay
    # in anchor order
    out = [np.concatenate([getattr(f, name) for f in found]) for name in ("obj", "ix", "iy", "px", "py")]
    order = np.argsort(out[0], kind="stable")
    return Nearest(*(values[order] for values in out))


def _in_block(
    lv: AnchorLevel, objs: I64, img: I64, gcx: F32, gcy: F32, width: int, topk: int
) -> tuple[Nearest, npt.NDArray[np.bool_]]:
    """The k nearest anchors within the block of ``width`` cells a side around each object's centre (centred on
    its nearest cell; an even width reaches one cell further on the side of the centre), moved inside the grid
    where it would stick out, and per object whether they are surely the k
    nearest of the whole grid (every cell outside the block is farther than the k-th pick). Picks of objects
    that are not sure are left out."""
    import numpy as np

    f32 = np.float32
    n = len(objs)
    rows, cols = lv.grid.rows[img], lv.grid.cols[img]
    _, _, ox, oy = lv.nominal()
    fx = lv.cell(img, gcx.astype(np.float64), ox[0], "x")
    fy = lv.cell(img, gcy.astype(np.float64), oy[0], "y")
    cx, cy = np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)
    before = (width - 1) // 2  # cells before the nearest one; an even width adds one after it, or before it
    x0 = cx - before - ((width % 2 == 0) & (fx < cx))
    y0 = cy - before - ((width % 2 == 0) & (fy < cy))
    x0 = np.clip(x0, 0, np.maximum(cols - width, 0))
    y0 = np.clip(y0, 0, np.maximum(rows - width, 0))
    step = np.arange(width)
    ix_n = x0[:, None] + step[None, :]
    iy_n = y0[:, None] + step[None, :]
    flat_img = np.repeat(img, width)
    zero = np.zeros(n * width, np.int64)
    # anchor centres per axis, then their (n, width * width) distances in row-major order (= the anchors' order)
    ax1, ax2 = lv.xs(flat_img, np.minimum(ix_n, cols[:, None] - 1).reshape(-1), zero)
    ay1, ay2 = lv.ys(flat_img, np.minimum(iy_n, rows[:, None] - 1).reshape(-1), zero)
    px = ((ax1 + ax2) / f32(2)).reshape(n, width)
    py = ((ay1 + ay2) / f32(2)).reshape(n, width)
    dx = px - gcx[:, None]
    dy = py - gcy[:, None]
    dist = np.sqrt(dy[:, :, None] * dy[:, :, None] + dx[:, None, :] * dx[:, None, :]).reshape(n, -1)
    valid_x = ix_n < cols[:, None]
    valid_y = iy_n < rows[:, None]
    partial = not (bool(valid_x.all()) and bool(valid_y.all()))
    if partial:  # the grid is smaller than the block
        valid = (valid_y[:, :, None] & valid_x[:, None, :]).reshape(n, -1)
        dist = np.where(valid, dist, f32(np.inf))
    # The k nearest, equal distances in anchor order (row-major in the block as in the grid): all below the
    # k-th distance, then the first ties.
    kk = min(topk, dist.shape[1])
    kth = np.partition(dist, kk - 1, axis=1)[:, kk - 1 : kk]
    pick = dist <= kth
    over = np.flatnonzero(pick.sum(axis=1) > kk)  # more than k at or below the k-th distance: ties at it
    if len(over):
        d, t = dist[over], kth[over]
        tied = d == t
        room = kk - (d < t).sum(axis=1, keepdims=True)
        pick[over] = (d < t) | (tied & (np.cumsum(tied, axis=1) <= room))
    if partial:
        pick &= valid
    # Sure: the block holds the whole grid, or each cell beyond it is farther along one axis alone than the k-th
    # pick (a margin covers float32 rounding of the distances).
    bound = np.full(n, np.inf)
    step_x = lv.grid.stride_w[img]
    step_y = lv.grid.stride_h[img]
    gx, gy = gcx.astype(np.float64), gcy.astype(np.float64)
    left, top = px[:, 0].astype(np.float64) - step_x, py[:, 0].astype(np.float64) - step_y
    right, bottom = px[:, -1].astype(np.float64) + step_x, py[:, -1].astype(np.float64) + step_y
    bound = np.where(x0 > 0, np.minimum(bound, gx - left), bound)
    bound = np.where(x0 + width < cols, np.minimum(bound, right - gx), bound)
    bound = np.where(y0 > 0, np.minimum(bound, gy - top), bound)
    bound = np.where(y0 + width < rows, np.minimum(bound, bottom - gy), bound)
    whole = (x0 == 0) & (y0 == 0) & (width >= cols) & (width >= rows)
    sure = whole | (kth[:, 0].astype(np.float64) * (1 + 1e-5) + 1e-3 < bound)
    pick &= sure[:, None]
    flat = np.flatnonzero(pick)
    o = flat // (width * width)
    row, col = np.divmod(flat - o * (width * width), width)
    at_x, at_y = o * width + col, o * width + row  # into the (n, width) rows of columns and of rows
    near = Nearest(objs[o], x0[o] + col, y0[o] + row, px.reshape(-1)[at_x], py.reshape(-1)[at_y])
    return near, sure
