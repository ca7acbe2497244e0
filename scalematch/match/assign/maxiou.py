"""Max-IoU assignment as torchvision's Matcher (RPN, RetinaNet) and SSDMatcher decide it, object by object.

For every object only the anchors that can reach its threshold are evaluated (index windows on each axis,
then the exact float32 IoU). An anchor is positive when its best IoU over the image's objects is >= ``high``;
it belongs to the first object with that best IoU. With low-quality matches, each object's best anchors (ties
included) become positive too, for the object *they* overlap most (torchvision's rule, which can hand an
object's best anchor to a neighbour). SSD has no low-quality matches but forces each object's first best anchor
to it, later objects overriding earlier ones on a shared anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalematch.match.assign._grid import AnchorLevel, box_iou, expand, per_level

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    F32 = npt.NDArray[np.float32]
    I64 = npt.NDArray[np.int64]

PAIRS_PER_BATCH = 2_000_000
"""Anchor-object pairs evaluated at once when an anchor must be compared with every object of its image."""

SLACK = 0.01
"""Pixels added to every window bound: the windows use float64 nominal anchor geometry, the IoU the toolkit's
float32 coordinates, which differ by far less."""

RELAX = 1e-4
"""Windows are computed for a threshold this much lower (relative) than asked, then filtered exactly."""


@dataclass(frozen=True)
class Boxes:
    """The objects of a chunk of whole images, in toolkit order (image, then file order), float32 xyxy."""

    image: I64
    x1: F32
    y1: F32
    x2: F32
    y2: F32


@dataclass(frozen=True)
class Pairs:
    """(object, anchor) pairs with their IoU; ``key`` is the anchor's index in the toolkit's flat anchor list
    (offset by its image), ``level`` the level index."""

    obj: I64
    key: I64
    level: I64
    iou: F32


def anchor_keys(levels: list[AnchorLevel], n_images: int) -> tuple[I64, I64]:
    """Per image the first key of its anchors, and per (image, level) the first key of the level's anchors."""
    import numpy as np

    counts = np.stack([lv.grid.rows * lv.grid.cols * lv.shapes for lv in levels], axis=1)
    level_start = np.cumsum(counts, axis=1) - counts
    per_image = counts.sum(axis=1)
    image_start = np.cumsum(per_image) - per_image
    return image_start, level_start


def _pairs_for(boxes: Boxes, levels: list[AnchorLevel], keys: tuple[I64, I64], objs: I64, t: F32) -> Pairs:
    """Every (object, anchor) pair with IoU >= ``t[object]`` for the objects ``objs``."""
    import numpy as np

    image_start, level_start = keys
    img = boxes.image[objs]
    gx1, gy1, gx2, gy2 = boxes.x1[objs], boxes.y1[objs], boxes.x2[objs], boxes.y2[objs]
    gw = (gx2 - gx1).astype(np.float64)
    gh = (gy2 - gy1).astype(np.float64)
    gcx = (gx1.astype(np.float64) + gx2) / 2
    gcy = (gy1.astype(np.float64) + gy2) / 2
    tt = t.astype(np.float64) * (1 - RELAX)
    frac = tt / (1 + tt)
    area_g = gw * gh
    # IoU >= t needs t * A_anchor <= A_object <= A_anchor / t. With one threshold for all objects, the objects in
    # that area range come from one sorted array instead of a test of every object against every shape.
    single = bool(len(tt)) and bool(np.all(tt == tt[0]))
    by_area = np.argsort(area_g, kind="stable") if single else None
    sorted_area = area_g[by_area] if by_area is not None else None
    parts: list[tuple[I64, I64, I64, F32]] = []
    for li, lv in enumerate(levels):
        aw, ah, ox, oy = lv.nominal()
        for a in range(lv.shapes):
            area_a = aw[a] * ah[a]
            if by_area is not None and sorted_area is not None:
                lo, hi = np.searchsorted(sorted_area, [tt[0] * area_a * (1 - RELAX), area_a / tt[0] * (1 + RELAX)])
                candidates = np.sort(by_area[lo:hi])
            else:
                candidates = np.arange(len(tt))
            need_c = frac[candidates] * (area_g[candidates] + area_a)  # intersection needed for IoU >= t
            # Most (object, shape) combinations fail on area alone: keep only the feasible objects.
            feasible = np.minimum(area_g[candidates], area_a) >= need_c
            sel, need = candidates[feasible], need_c[feasible]
            if not len(sel):
                continue
            rx = (gw[sel] + aw[a]) / 2 - need / np.minimum(gh[sel], ah[a])
            sel_ok = rx >= -SLACK
            sel, rx, need = sel[sel_ok], rx[sel_ok], need[sel_ok]
            im0 = img[sel]
            cols, sw = lv.grid.cols[im0], lv.grid.stride_w[im0]
            lo_x = np.maximum(np.ceil((gcx[sel] - rx - SLACK - ox[a]) / sw), 0).astype(np.int64)
            hi_x = np.minimum(np.floor((gcx[sel] + rx + SLACK - ox[a]) / sw), cols - 1).astype(np.int64)
            q, ix = expand(lo_x, hi_x)
            # Per column, the overlap along x it allows, then the rows where the overlap along y can make up the
            # intersection IoU >= t needs (a region shaped by the product, not a square).
            o = sel[q]
            sw_q = lv.grid.stride_w[img[o]]
            centre_gap = np.abs(ix * sw_q + ox[a] - gcx[o])
            overlap_x = np.minimum(np.minimum(gw[o], aw[a]), (gw[o] + aw[a]) / 2 - centre_gap) + SLACK
            with np.errstate(divide="ignore", invalid="ignore"):
                ry = np.where(overlap_x > 0, (gh[o] + ah[a]) / 2 - need[q] / overlap_x, -np.inf)
            keep_x = ry >= -SLACK
            q, ix, o, ry = q[keep_x], ix[keep_x], o[keep_x], ry[keep_x]
            im1 = img[o]
            rows, sh = lv.grid.rows[im1], lv.grid.stride_h[im1]
            lo_y = np.maximum(np.ceil((gcy[o] - ry - SLACK - oy[a]) / sh), 0).astype(np.int64)
            hi_y = np.minimum(np.floor((gcy[o] + ry + SLACK - oy[a]) / sh), rows - 1).astype(np.int64)
            k, iy = expand(lo_y, hi_y)
            if not len(k):
                continue
            # x extents and the key's column part per column entry, then per anchor of the column
            ax1, ax2 = lv.xs(im1, ix, a)
            ay1, ay2 = lv.ys(im1[k], iy, a)
            r = o[k]
            iou = box_iou(gx1[r], gy1[r], gx2[r], gy2[r], ax1[k], ay1, ax2[k], ay2)
            keep = np.flatnonzero(iou >= (t[0] if single else t[r]))
            k, iy, iou = k[keep], iy[keep], iou[keep]
            column = image_start[im1] + level_start[im1, li] + ix * lv.shapes + a
            key = column[k] + iy * (lv.grid.cols[im1] * lv.shapes)[k]
            parts.append((objs[o[k]], key, np.full(len(k), li, np.int64), iou))
    if not parts:
        e = np.zeros(0, np.int64)
        return Pairs(e, e, e, np.zeros(0, np.float32))
    return Pairs(*(np.concatenate([p[k] for p in parts]) for k in range(4)))


def best_iou(boxes: Boxes, levels: list[AnchorLevel], objs: I64) -> F32:
    """Each object's best IoU over all anchors: the anchors centred nearest to it (IoU only falls as an anchor
    moves away along either axis), checked one cell either way against rounding. Each object's shape closest in
    area comes first; then every other shape, skipped for the objects where its area ratio to the object (an
    upper bound of any IoU with it) is below the best IoU found so far."""
    import numpy as np

    bx1, by1, bx2, by2 = boxes.x1[objs], boxes.y1[objs], boxes.x2[objs], boxes.y2[objs]
    area_g = (bx2 - bx1).astype(np.float64) * (by2 - by1)
    combos = [(lv, a) for lv in levels for a in range(lv.shapes)]
    areas = np.array([lv.nominal()[0][a] * lv.nominal()[1][a] for lv, a in combos])
    ratio = np.minimum(area_g[:, None], areas[None, :]) / np.maximum(area_g[:, None], areas[None, :])
    closest = np.argmax(ratio, axis=1)
    best = np.zeros(len(objs), np.float32)
    for c, (lv, a) in enumerate(combos):
        sel = np.flatnonzero(closest == c)
        if len(sel):
            best[sel] = _nearest_iou(boxes, lv, a, objs[sel])
    for c, (lv, a) in enumerate(combos):
        sel = np.flatnonzero((ratio[:, c] * (1 + RELAX) >= best) & (closest != c))
        if len(sel):
            best[sel] = np.maximum(best[sel], _nearest_iou(boxes, lv, a, objs[sel]))
    return best


def _nearest_iou(boxes: Boxes, lv: AnchorLevel, a: int, objs: I64) -> F32:
    """The best IoU of each object with shape ``a`` of level ``lv`` in the 3 x 3 cells around its nearest one."""
    import numpy as np

    img = boxes.image[objs]
    gx1, gy1, gx2, gy2 = (v[objs][:, None, None] for v in (boxes.x1, boxes.y1, boxes.x2, boxes.y2))
    rows, cols = lv.grid.rows[img], lv.grid.cols[img]
    _, _, ox, oy = lv.nominal()
    cx = np.rint(lv.cell(img, (boxes.x1[objs].astype(np.float64) + boxes.x2[objs]) / 2, ox[a], "x")).astype(np.int64)
    cy = np.rint(lv.cell(img, (boxes.y1[objs].astype(np.float64) + boxes.y2[objs]) / 2, oy[a], "y")).astype(np.int64)
    step = np.array([-1, 0, 1])
    ix = np.clip(cx[:, None] + step, 0, (cols - 1)[:, None]).reshape(-1)
    iy = np.clip(cy[:, None] + step, 0, (rows - 1)[:, None]).reshape(-1)
    img3 = np.repeat(img, 3)
    shape = np.full(len(img3), a, np.int64)
    ax1, ax2 = (v.reshape(-1, 1, 3) for v in lv.xs(img3, ix, shape))  # columns along the last axis
    ay1, ay2 = (v.reshape(-1, 3, 1) for v in lv.ys(img3, iy, shape))  # rows along the middle one
    iou = box_iou(gx1, gy1, gx2, gy2, ax1, ay1, ax2, ay2)
    return np.asarray(iou.reshape(len(objs), -1).max(axis=1), dtype=np.float32)


@dataclass(frozen=True)
class Assigned:
    """Per object of the chunk: positives per level, best IoU over all anchors, and whether some anchor it
    could have taken went to another object."""

    positives: I64  # (n, levels)
    best: F32
    lost: npt.NDArray[np.bool_]
    weak: I64 | None = None
    """Positives whose IoU with their object is below the preset's quality floor (None: no floor applies)."""


def _first_best(pairs: Pairs) -> Pairs:
    """Per distinct anchor key: the pair of the object with the highest IoU, the first (lowest index) on ties.

    Relies on the pairs of one key being in ascending object order (true of every pair list built here: a key
    belongs to one level and shape, whose pairs are generated object by object)."""

    sel = first_max(pairs.key, pairs.iou)
    return Pairs(pairs.obj[sel], pairs.key[sel], pairs.level[sel], pairs.iou[sel])


def first_max(key: I64, value: npt.NDArray[np.floating[Any]]) -> I64:
    """Indices of one entry per distinct ``key``: the first (in the given order) with the group's largest
    ``value`` (in no particular order).

    Most keys occur once (an anchor near one object only), so the keys that repeat are found from a plain sort
    of the keys, and only their entries are ordered and compared; the single ones are kept as they are."""
    import numpy as np

    if not len(key):
        return np.zeros(0, np.int64)
    s = np.sort(key)
    repeated = s[1:][s[1:] == s[:-1]]
    if not len(repeated):
        return np.arange(len(key), dtype=np.int64)
    repeated = repeated[np.r_[True, repeated[1:] != repeated[:-1]]]
    at = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
    shared = repeated[at] == key
    single = np.flatnonzero(~shared)
    many = np.flatnonzero(shared)
    order = many[np.argsort(key[many], kind="stable")]
    k = key[order]
    v = value[order]
    new = np.empty(len(k), bool)
    new[0] = True
    np.not_equal(k[1:], k[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    top = np.maximum.reduceat(v, np.flatnonzero(new))
    tops = np.flatnonzero(v == top[group])  # the group's first top entry is its first position among these
    first = tops[np.r_[True, group[tops[1:]] != group[tops[:-1]]]]
    return np.asarray(np.concatenate([single, order[first]]), dtype=np.int64)


def _concat(parts: list[Pairs]) -> Pairs:
    import numpy as np

    return Pairs(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("obj", "key", "level", "iou")))


def _select(p: Pairs, mask: npt.NDArray[np.bool_] | I64) -> Pairs:
    return Pairs(p.obj[mask], p.key[mask], p.level[mask], p.iou[mask])


def assign(
    boxes: Boxes,
    levels: list[AnchorLevel],
    high: float,
    low_quality: bool,
    forced: bool = False,
    floor: float = 0.0,
) -> Assigned:
    """Positives of every object under torchvision's Matcher(high, ..., allow_low_quality_matches=low_quality)
    or, with ``forced``, its SSDMatcher(high); ``weak`` counts those with IoU below ``floor``."""
    import numpy as np

    n = len(boxes.image)
    keys = anchor_keys(levels, int(boxes.image.max()) + 1 if n else 0)
    everyone = np.arange(n, dtype=np.int64)
    strong = _pairs_for(boxes, levels, keys, everyone, np.full(n, np.float32(high), np.float32))

    best = np.zeros(n, np.float32)
    np.maximum.at(best, strong.obj, strong.iou)
    weak = np.flatnonzero(best < np.float32(high))
    if len(weak):
        best[weak] = best_iou(boxes, levels, weak)
    # Each object's best anchors (ties included): the pairs at exactly its best IoU.
    low = weak[best[weak] > 0]
    parts = [strong] + ([_pairs_for(boxes, levels, keys, low, best[low])] if len(low) else [])
    pool = _concat(parts)
    ties = _select(pool, pool.iou == best[pool.obj])

    # Later parts override earlier ones on the same anchor key.
    chosen = [_first_best(strong)]  # anchors at or above the threshold go to their best object
    if low_quality:
        taken = np.sort(chosen[0].key)
        at = np.minimum(np.searchsorted(taken, ties.key), max(len(taken) - 1, 0))
        free = np.sort(ties.key[~(taken[at] == ties.key)] if len(taken) else ties.key)
        pending = free[np.r_[True, free[1:] != free[:-1]]] if len(free) else free
        if len(pending):
            chosen.append(_argmax_all(boxes, levels, keys, pending))
    if forced:  # each object's first (lowest-key) best anchor, objects in order
        order = np.lexsort((ties.key, ties.obj))
        obj = ties.obj[order]
        first = np.ones(len(order), bool)
        first[1:] = obj[1:] != obj[:-1]
        chosen.append(_select(ties, order[first]))
    merged = _concat(chosen)
    if forced:  # the last entry of each key wins
        rev = np.arange(len(merged.key))[::-1]
        _, last = np.unique(merged.key[rev], return_index=True)
        merged = _select(merged, rev[last])
    final = merged  # without forced matches the parts' keys are disjoint

    positives = per_level(final.obj, final.level, n, len(levels))
    candidate = np.zeros(n, bool)
    candidate[pool.obj] = True
    lost = (positives.sum(axis=1) == 0) & candidate
    weak = np.bincount(final.obj[final.iou < np.float32(floor)], minlength=n).astype(np.int64)
    return Assigned(positives, best, lost, weak)


def _argmax_all(boxes: Boxes, levels: list[AnchorLevel], keys: tuple[I64, I64], pending: I64) -> Pairs:
    """For anchors ``pending``: the object of their image with the highest IoU (first on ties), over all the
    image's objects (these anchors are below the threshold for every object, so no window bounds them)."""
    import numpy as np

    image_start, level_start = keys
    img = np.searchsorted(image_start, pending, side="right") - 1
    local = pending - image_start[img]
    n = len(boxes.image)
    first_obj = np.searchsorted(boxes.image, np.arange(int(boxes.image.max()) + 2), side="left")
    count = first_obj[img + 1] - first_obj[img]
    level = np.zeros(len(pending), np.int64)
    ax1 = np.zeros(len(pending), np.float32)
    ay1, ax2, ay2 = ax1.copy(), ax1.copy(), ax1.copy()
    for li, lv in enumerate(levels):
        start = level_start[img, li]
        size = lv.grid.rows[img] * lv.grid.cols[img] * lv.shapes
        here = (local >= start) & (local < start + size)
        if not here.any():
            continue
        rel = local[here] - start[here]
        a = rel % lv.shapes
        cell = rel // lv.shapes
        cols = lv.grid.cols[img[here]]
        x1, x2 = lv.xs(img[here], cell % cols, a)
        y1, y2 = lv.ys(img[here], cell // cols, a)
        ax1[here], ax2[here], ay1[here], ay2[here] = x1, x2, y1, y2
        level[here] = li
    # Every pending anchor against every object of its image, in batches of about PAIRS_PER_BATCH pairs (an
    # image with thousands of tiny objects has thousands of pending anchors).
    winners = []
    ends = np.cumsum(count)
    lo = 0
    while lo < len(pending):
        hi = max(int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + PAIRS_PER_BATCH, side="right")), lo + 1)
        part = np.arange(lo, hi)
        c = count[part]
        anchor_of = np.repeat(part, c)
        obj = np.arange(int(c.sum())) + np.repeat(first_obj[img[part]] - (np.cumsum(c) - c), c)
        assert obj.max(initial=-1) < n
        iou = box_iou(
            boxes.x1[obj], boxes.y1[obj], boxes.x2[obj], boxes.y2[obj],
            ax1[anchor_of], ay1[anchor_of], ax2[anchor_of], ay2[anchor_of],
        )  # fmt: skip
        # The pairs come anchor by anchor, objects ascending: per anchor its first entry at the largest IoU.
        top = np.maximum.reduceat(iou, np.cumsum(c) - c)
        tops = np.flatnonzero(iou == top[anchor_of - lo])
        first = tops[np.r_[True, anchor_of[tops[1:]] != anchor_of[tops[:-1]]]]
        a = anchor_of[first]
        winners.append(Pairs(obj[first], pending[a], level[a], iou[first]))
        lo = hi
    return _concat(winners) if winners else Pairs(*(np.zeros(0, np.int64),) * 3, np.zeros(0, np.float32))
