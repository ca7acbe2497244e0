"""ATSS as mmdetection's ATSSAssigner decides it (Zhang et al. 2020), in float32 as it computes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalematch.match.assign._grid import AnchorLevel, per_level
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
    """The ``topk`` anchors nearest to objects' centres on one level: per pick its object, cell, IoU with the
    object (float32, as mmdetection's bbox_overlaps) and whether the anchor's centre lies inside the box by more
    than 0.01."""

    obj: I64
    ix: I64
    iy: I64
    iou: F32
    inside: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Dense:
    """The picks of objects with exactly k of them in a block of ``width`` cells a side, one column per object (in
    ascending order) and its picks in anchor order down the column: the block cell (row-major in the block), the
    IoU and the centre test as in :class:`Nearest`; the block's first column and row on the grid per object."""

    obj: I64
    cell: I64  # (k, objects)
    iou: F32  # (k, objects)
    inside: npt.NDArray[np.bool_]  # (k, objects)
    x0: I64
    y0: I64
    width: int

    def sparse(self) -> Nearest:
        """The same picks as a :class:`Nearest`."""
        import numpy as np

        k = self.cell.shape[0]
        row = np.repeat(np.arange(len(self.obj)), k)
        cell = self.cell.T.reshape(-1)
        return Nearest(
            self.obj[row], self.x0[row] + cell % self.width, self.y0[row] + cell // self.width,
            self.iou.T.reshape(-1), self.inside.T.reshape(-1),
        )  # fmt: skip


def atss(boxes: Boxes, levels: list[AnchorLevel], topk: int, floor: float = 0.0) -> Assigned:
    """Per object and level the ``topk`` anchors whose centres are nearest to the object's centre (float32
    Euclidean distance; equal distances in anchor order), their IoU's mean + std (unbiased) as the threshold,
    positive when IoU >= threshold and the anchor centre lies inside the box by more than 0.01; an anchor
    positive for several objects goes to the one with the highest IoU (the first on ties)."""
    import numpy as np

    n = len(boxes.image)
    img = boxes.image
    parts: list[tuple[list[Dense], list[Nearest]]] = []
    count = np.zeros(n)
    total = np.zeros(n)
    best = np.zeros(n, np.float32)
    box = (boxes.x1, boxes.y1, boxes.x2, boxes.y2)
    # Each object's picks on a level are in one part (adding the other parts' zeros changes nothing); the sums run
    # over an object's picks in order, as np.bincount adds its weights, so they are the same in every bit.
    for lv in levels:
        parts.append(_nearest(lv, img, box, topk))
        for dense in parts[-1][0]:
            count[dense.obj] += dense.cell.shape[0]
            total[dense.obj] += _column_sums(dense.iou.astype(np.float64))
            best[dense.obj] = np.maximum(best[dense.obj], dense.iou.max(axis=0, initial=0))
        for near in parts[-1][1]:
            o, iou = near.obj, near.iou
            count += np.bincount(o, minlength=n)
            total += np.bincount(o, weights=iou, minlength=n)
            if len(o):  # picks come object by object
                start = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
                here = o[start]
                best[here] = np.maximum(best[here], np.maximum.reduceat(iou, start))
    # mean + std (unbiased, as torch.std) of each object's candidate IoUs, in double, then float32
    mean = total / np.maximum(count, 1)
    spread = np.zeros(n)
    for dense_parts, sparse_parts in parts:
        for dense in dense_parts:
            spread[dense.obj] += _column_sums((dense.iou.astype(np.float64) - mean[dense.obj]) ** 2)
        for near in sparse_parts:
            deviation = (near.iou.astype(np.float64) - np.take(mean, near.obj)) ** 2
            spread += np.bincount(near.obj, weights=deviation, minlength=n)
    threshold = mean.astype(np.float32) + np.sqrt(spread / np.maximum(count - 1, 1)).astype(np.float32)
    # Per level the positives, with a key per anchor (one key space per level); candidates come level by level
    # and, inside a level, object by object: first_max keeps the lowest object on equal IoU.
    obj_p, key_p, lvl_p, iou_p = [], [], [], []
    key_base = 0
    for li, (lv, (dense_parts, sparse_parts)) in enumerate(zip(levels, parts, strict=True)):
        chosen = [_chosen(dense, threshold) for dense in dense_parts] + [
            _select(near, np.flatnonzero((near.iou >= np.take(threshold, near.obj)) & near.inside))
            for near in sparse_parts
        ]
        o, ix, iy, iou = (np.concatenate([getattr(c, f) for c in chosen]) for f in ("obj", "ix", "iy", "iou"))
        if len(chosen) > 1:  # the objects of the other parts go in at their place
            order = np.argsort(o, kind="stable")
            o, ix, iy, iou = (np.take(v, order) for v in (o, ix, iy, iou))
        im = np.take(img, o)
        cols = int(lv.grid.cols.max()) + 1
        key = key_base + (im * (int(lv.grid.rows.max()) + 1) + iy) * cols + ix
        key_base = int(key.max()) + 1 if len(key) else key_base
        obj_p.append(o)
        key_p.append(key)
        lvl_p.append(np.full(len(o), li, np.int64))
        iou_p.append(iou)
    obj, key, lvl, iou = (np.concatenate(p) for p in (obj_p, key_p, lvl_p, iou_p))
    win = first_max(key, iou)
    obj_w = np.take(obj, win)
    positives = per_level(obj_w, np.take(lvl, win), n, len(levels))
    candidate = np.bincount(obj, minlength=n) > 0
    lost = (positives.sum(axis=1) == 0) & candidate
    weak = np.bincount(obj_w[np.take(iou, win) < np.float32(floor)], minlength=n).astype(np.int64)
    return Assigned(positives, best, lost, weak)


def _column_sums(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per column, the sum of its values added from the first to the last (the order np.bincount adds weights
    in)."""
    out: npt.NDArray[np.float64] = values[0].copy()
    for row in values[1:]:
        out += row
    return out


def _select(near: Nearest, at: I64) -> Nearest:
    import numpy as np

    return Nearest(*(np.take(getattr(near, f), at) for f in ("obj", "ix", "iy", "iou", "inside")))


def _chosen(dense: Dense, threshold: npt.NDArray[np.float32]) -> Nearest:
    """The picks of ``dense`` whose IoU reaches their object's ``threshold`` and whose centre is inside (``inside``
    left True)."""
    import numpy as np

    k = dense.cell.shape[0]
    flat = np.flatnonzero(((dense.iou >= threshold[dense.obj]) & dense.inside).T)  # object by object
    row = flat // k
    cell = np.take(dense.cell.T.reshape(-1), flat)
    return Nearest(
        np.take(dense.obj, row), np.take(dense.x0, row) + cell % dense.width,
        np.take(dense.y0, row) + cell // dense.width, np.take(dense.iou.T.reshape(-1), flat), np.ones(len(flat), bool),
    )  # fmt: skip


def nearest(lv: AnchorLevel, img: I64, box: tuple[F32, F32, F32, F32], topk: int) -> list[Nearest]:
    """Per object (``box``: x1, y1, x2, y2) the ``min(topk, anchors of the level)`` anchors (shape 0) whose
    centres are nearest to its centre, ties in anchor order, found in a square block of cells around it (4 x 4
    for the 9 nearest). A block is grown for the objects where a cell outside it could be as near as the k-th
    pick, so the result is exact. Each part holds all the picks of its objects, object by object, each object's
    in anchor order."""
    dense, sparse = _nearest(lv, img, box, topk)
    return [d.sparse() for d in dense] + sparse


def _nearest(lv: AnchorLevel, img: I64, box: tuple[F32, F32, F32, F32], topk: int) -> tuple[list[Dense], list[Nearest]]:
    """:func:`nearest`'s picks: those of the objects with k picks as :class:`Dense` rows, the others as
    :class:`Nearest` parts (the objects of a grid smaller than the block, and those that needed a larger block)."""
    import numpy as np

    f32 = np.float32
    gcx = (box[0] + box[2]) / f32(2)
    gcy = (box[1] + box[3]) / f32(2)
    todo = np.arange(len(img), dtype=np.int64)
    width = 1
    while width * width < 1.6 * topk:
        width += 1
    dense: list[Dense] = []
    passes: list[Nearest] = []
    while len(todo):
        batch = max(BLOCK_ELEMENTS // (width * width), 1)
        found, retry = [], []
        for lo in range(0, len(todo), batch):
            objs = todo[lo : lo + batch]
            part = (box[0][objs], box[1][objs], box[2][objs], box[3][objs])
            rows, near, sure = _in_block(lv, objs, img[objs], (gcx[objs], gcy[objs]), part, width, topk)
            if rows is not None:
                dense.append(rows)
            found.append(near)
            retry.append(objs[~sure])
        names = ("obj", "ix", "iy", "iou", "inside")
        passes.append(Nearest(*(np.concatenate([getattr(f, name) for f in found]) for name in names)))
        todo = np.concatenate(retry)
        width *= 2
    return dense, [p for p in passes if len(p.obj)]


def _in_block(
    lv: AnchorLevel,
    objs: I64,
    img: I64,
    centre: tuple[F32, F32],
    box: tuple[F32, F32, F32, F32],
    width: int,
    topk: int,
) -> tuple[Dense | None, Nearest, npt.NDArray[np.bool_]]:
    """The k nearest anchors within the block of ``width`` cells a side around each object's centre (centred on
    its nearest cell; an even width reaches one cell further on the side of the centre), moved inside the grid
    where it would stick out, and per object whether they are surely the k
    nearest of the whole grid (every cell outside the block is farther than the k-th pick). Picks of objects
    that are not sure are left out. The IoU and the centre test are computed for the whole block from per-row
    and per-column factors (the same float32 operations as per anchor, so the same bits)."""
    import numpy as np

    f32 = np.float32
    gcx, gcy = centre
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
    # Per-axis arrays are (width, n) and block arrays (width, width, n), objects along the last axis, so that
    # numpy's loops run along the objects; the distances are turned to (n, width * width) for the picking.
    step = np.arange(width)[:, None]
    ix_n = x0[None, :] + step
    iy_n = y0[None, :] + step
    # anchor extents and centres per axis, then their distances in row-major order (= the anchors' order)
    ax1, ax2 = lv.xs(img[None, :], np.minimum(ix_n, cols[None, :] - 1), 0)
    ay1, ay2 = lv.ys(img[None, :], np.minimum(iy_n, rows[None, :] - 1), 0)
    px = (ax1 + ax2) / f32(2)
    py = (ay1 + ay2) / f32(2)
    dx = px - gcx[None, :]
    dy = py - gcy[None, :]
    dist = np.sqrt((dy * dy)[:, None, :] + (dx * dx)[None, :, :]).reshape(width * width, n).T.copy()
    valid_x = ix_n < cols[None, :]
    valid_y = iy_n < rows[None, :]
    partial = not (bool(valid_x.all()) and bool(valid_y.all()))
    if partial:  # the grid is smaller than the block
        valid = (valid_y[:, None, :] & valid_x[None, :, :]).reshape(width * width, n).T
        dist = np.where(valid, dist, f32(np.inf))
    # The k nearest, equal distances in anchor order (row-major in the block as in the grid): all below the
    # k-th distance, then the first ties.
    kk = min(topk, dist.shape[1])
    kth = np.partition(dist, kk - 1, axis=1)[:, kk - 1 : kk]
    pick = dist <= kth
    # more than k at or below the k-th distance: ties at it (every row has at least k)
    over = np.flatnonzero(pick.sum(axis=1) > kk) if np.count_nonzero(pick) > n * kk else np.zeros(0, np.int64)
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
    left, top = px[0].astype(np.float64) - step_x, py[0].astype(np.float64) - step_y
    right, bottom = px[-1].astype(np.float64) + step_x, py[-1].astype(np.float64) + step_y
    bound = np.where(x0 > 0, np.minimum(bound, gx - left), bound)
    bound = np.where(x0 + width < cols, np.minimum(bound, right - gx), bound)
    bound = np.where(y0 > 0, np.minimum(bound, gy - top), bound)
    bound = np.where(y0 + width < rows, np.minimum(bound, bottom - gy), bound)
    whole = (x0 == 0) & (y0 == 0) & (width >= cols) & (width >= rows)
    sure = whole | (kth[:, 0].astype(np.float64) * (1 + 1e-5) + 1e-3 < bound)
    pick &= sure[:, None]
    # bbox_overlaps (anchor area + object area - overlap) and the centre's margin inside the box, per block cell
    x1, y1, x2, y2 = (v[None, :] for v in box)
    wx = np.maximum(np.minimum(x2, ax2) - np.maximum(x1, ax1), f32(0))
    wy = np.maximum(np.minimum(y2, ay2) - np.maximum(y1, ay1), f32(0))
    inter = wy[:, None, :] * wx[None, :, :]
    area_a = (ay2 - ay1)[:, None, :] * (ax2 - ax1)[None, :, :]
    area_g = ((x2 - x1) * (y2 - y1))[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (area_g + area_a - inter)
    # the smallest of the four margins is above 0.01 when each one is
    inside_y = (py - y1 > f32(0.01)) & (y2 - py > f32(0.01))
    inside_x = (px - x1 > f32(0.01)) & (x2 - px > f32(0.01))
    inside = inside_y[:, None, :] & inside_x[None, :, :]
    # Rows with all k picks (the sure objects of a grid at least as large as the block) as dense rows; the few
    # others one pick at a time.
    # (without cells off the grid every row holds k picks, ties broken above, or none when not sure)
    full = np.count_nonzero(pick, axis=1) == kk if partial else sure
    dense = None
    if full.any():
        at_rows = np.flatnonzero(full)
        cell = np.flatnonzero(pick if len(at_rows) == n else pick[at_rows]).reshape(len(at_rows), kk).T.copy()
        cell -= np.arange(len(at_rows)) * (width * width)  # (k, objects): each object's cells down its column
        at = cell * n + at_rows  # into the (width * width, n) block arrays
        take = np.take  # faster than fancy indexing
        dense = Dense(
            take(objs, at_rows), cell, take(iou.reshape(-1), at), take(inside.reshape(-1), at),
            take(x0, at_rows), take(y0, at_rows), width,
        )  # fmt: skip
        if full.all():
            empty = np.zeros(0, np.int64)
            return dense, Nearest(empty, empty, empty, np.zeros(0, f32), np.zeros(0, bool)), sure
        pick &= ~full[:, None]
    flat = np.flatnonzero(pick)
    if width & (width - 1) == 0:  # a power of two (every grown block): shifts and masks, twice as fast
        bits = width.bit_length() - 1
        o = flat >> (2 * bits)
        cell = flat & (width * width - 1)
        row = cell >> bits
        col = cell & (width - 1)
    else:
        o = flat // (width * width)  # divisions by one number (numpy's divmod is much slower)
        cell = flat - o * (width * width)
        row = cell // width
        col = cell - row * width
    at = cell * n + o  # into the (width * width, n) block arrays
    contiguous = n and int(objs[-1]) - int(objs[0]) == n - 1  # objs ascend: a range (the first pass)
    take = np.take  # faster than fancy indexing
    near = Nearest(
        o + objs[0] if contiguous else take(objs, o),
        take(x0, o) + col,
        take(y0, o) + row,
        take(iou.reshape(-1), at),
        take(inside.reshape(-1), at),
    )
    return dense, near, sure
