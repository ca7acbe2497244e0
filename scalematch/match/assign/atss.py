"""ATSS as mmdetection's ATSSAssigner decides it (Zhang et al. 2020), in float32 as it computes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalematch.match.assign._grid import AnchorLevel, box_iou
from scalematch.match.assign.maxiou import Assigned, Boxes, first_max

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]

WINDOW = 3
"""Cells searched either side of the nearest one for the k nearest anchors (a 7 x 7 block holds the 9 nearest
grid points of any centre, with room for ties)."""


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
    parts: list[tuple[I64, I64, I64, npt.NDArray[np.float32], npt.NDArray[np.bool_]]] = []
    key_base = 0
    span = np.arange(-WINDOW, WINDOW + 1)
    for li, lv in enumerate(levels):
        rows, cols = lv.grid.rows[img], lv.grid.cols[img]
        _, _, ox, oy = lv.nominal()
        cx = np.rint(lv.cell(img, gcx.astype(np.float64), ox[0], "x")).astype(np.int64)
        cy = np.rint(lv.cell(img, gcy.astype(np.float64), oy[0], "y")).astype(np.int64)
        # A 7 x 7 block of cells around the nearest one, moved inside the grid where it would stick out; anchor
        # centres per axis, then their (n, 49) distances in row-major order (= the anchors' order).
        width = len(span)
        x0 = np.clip(cx - WINDOW, 0, np.maximum(cols - width, 0))
        y0 = np.clip(cy - WINDOW, 0, np.maximum(rows - width, 0))
        step = np.arange(width)
        ix_n = x0[:, None] + step[None, :]
        iy_n = y0[:, None] + step[None, :]
        valid_x = ix_n < cols[:, None]
        valid_y = iy_n < rows[:, None]
        flat_img = np.repeat(img, width)
        zero = np.zeros(n * width, np.int64)
        ax1, ax2 = lv.xs(flat_img, np.minimum(ix_n, cols[:, None] - 1).reshape(-1), zero)
        ay1, ay2 = lv.ys(flat_img, np.minimum(iy_n, rows[:, None] - 1).reshape(-1), zero)
        px = ((ax1 + ax2) / f32(2)).reshape(n, width)
        py = ((ay1 + ay2) / f32(2)).reshape(n, width)
        dx = px - gcx[:, None]
        dy = py - gcy[:, None]
        dist = np.sqrt(dy[:, :, None] * dy[:, :, None] + dx[:, None, :] * dx[:, None, :]).reshape(n, -1)
        valid = (valid_y[:, :, None] & valid_x[:, None, :]).reshape(n, -1)
        dist = np.where(valid, dist, f32(np.inf))
        # The k nearest, equal distances in anchor order: all below the k-th distance, then the first ties.
        k = min(topk, dist.shape[1])
        kth = np.partition(dist, k - 1, axis=1)[:, k - 1 : k]
        below = dist < kth
        tied = dist == kth
        room = k - below.sum(axis=1, keepdims=True)
        pick = (below | (tied & (np.cumsum(tied, axis=1) <= room))) & valid
        o, cell = np.nonzero(pick)
        row, col = cell // width, cell % width
        ix, iy = ix_n[o, col], iy_n[o, row]
        zero = np.zeros(len(o), np.int64)
        bx1, bx2 = lv.xs(img[o], ix, zero)
        by1, by2 = lv.ys(img[o], iy, zero)
        iou = box_iou(boxes.x1[o], boxes.y1[o], boxes.x2[o], boxes.y2[o], bx1, by1, bx2, by2)
        pxs, pys = px[o, col], py[o, row]
        d = np.stack([pxs - boxes.x1[o], pys - boxes.y1[o], boxes.x2[o] - pxs, boxes.y2[o] - pys])
        inside = d.min(axis=0) > f32(0.01)
        im = img[o]
        key = key_base + (im * int(rows.max() + 1) + iy) * int(cols.max() + 1) + ix
        key_base = int(key.max()) + 1 if len(key) else key_base
        parts.append((o, key, np.full(len(o), li, np.int64), iou, inside))
    obj = np.concatenate([p[0] for p in parts])
    key = np.concatenate([p[1] for p in parts])
    lvl = np.concatenate([p[2] for p in parts])
    iou = np.concatenate([p[3] for p in parts])
    inside = np.concatenate([p[4] for p in parts])
    # mean + std (unbiased, as torch.std) of each object's candidate IoUs, in double, then float32
    count = np.bincount(obj, minlength=n).astype(np.float64)
    mean = np.bincount(obj, weights=iou.astype(np.float64), minlength=n) / np.maximum(count, 1)
    var = np.bincount(obj, weights=(iou.astype(np.float64) - mean[obj]) ** 2, minlength=n) / np.maximum(count - 1, 1)
    threshold = mean.astype(f32) + np.sqrt(var).astype(f32)
    positive = (iou >= threshold[obj]) & inside
    # Candidates come grouped by level and, inside a level, object by object: first_max keeps the lowest
    # object on equal IoU.
    obj, key, lvl, iou = obj[positive], key[positive], lvl[positive], iou[positive]
    win = first_max(key, iou)
    positives = np.zeros((n, len(levels)), np.int64)
    np.add.at(positives, (obj[win], lvl[win]), 1)
    candidate = np.zeros(n, bool)
    candidate[obj] = True
    lost = (positives.sum(axis=1) == 0) & candidate
    best = np.zeros(n, np.float32)
    np.maximum.at(best, np.concatenate([p[0] for p in parts]), np.concatenate([p[3] for p in parts]))
    weak = np.bincount(obj[win][iou[win] < np.float32(floor)], minlength=n).astype(np.int64)
    return Assigned(positives, best, lost, weak)
