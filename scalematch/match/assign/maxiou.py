"""Max-IoU assignment as torchvision's Matcher (RPN, RetinaNet) and SSDMatcher decide it, object by object.

For every object only the anchors that can reach its threshold are evaluated (index windows on each axis,
then the exact float32 IoU). An anchor is positive when its best IoU over the image's objects is >= ``high``;
it belongs to the first object with that best IoU. With low-quality matches, each object's best anchors (ties
included) become positive too, for the object *they* overlap most (torchvision's rule, which can hand an
object's best anchor to a neighbour). SSD has no low-quality matches but forces each object's first best anchor
to it, later objects overriding earlier ones on a shared anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalematch._text import counted
from scalematch.match.assign._grid import AnchorLevel, box_iou, expand

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    F32 = npt.NDArray[np.float32]
    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]

PAIRS_PER_BATCH = 250_000
"""Anchor-object pairs evaluated at once when an anchor must be compared with every object of its image, and the
low-quality anchors gathered before they are (about 200 bytes each while they are)."""

CELLS_PER_BATCH = 250_000
"""Candidate (object, anchor) cells of the windows expanded at once (and object columns): what bounds the memory
of an image crowded with objects whose windows overlap, or of large windows, instead of all its pairs at once;
and the candidate cells of the groups of images whose best anchors are found together (the best anchors of a large
object are all the anchors inside it, at equal IoU: millions on a 16384-pixel input)."""

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


@dataclass(frozen=True)
class Part:
    """The pairs of one level and anchor shape: the level's index, then as in :class:`Pairs`."""

    level: int
    obj: I64
    key: I64
    iou: F32
    anchor: tuple[F32, F32, F32, F32] | None = None
    """The anchors' boxes (x1, y1, x2, y2), when asked for."""

    def pairs(self) -> Pairs:
        import numpy as np

        return Pairs(self.obj, self.key, np.full(len(self.key), self.level, np.int64), self.iou)


def anchor_keys(levels: list[AnchorLevel], image: I64) -> tuple[I64, I64]:
    """Per image the first key of its anchors, and per (image, level) the first key of the level's anchors, for
    the images ``image.min()`` to ``image.max()`` (indexed by image; earlier images get zeros)."""
    import numpy as np

    if not len(image):
        return np.zeros(0, np.int64), np.zeros((0, len(levels)), np.int64)
    lo, hi = int(image.min()), int(image.max()) + 1
    counts = np.zeros((hi, len(levels)), np.int64)
    counts[lo:] = np.stack([lv.grid.rows[lo:hi] * lv.grid.cols[lo:hi] * lv.shapes for lv in levels], axis=1)
    level_start = np.cumsum(counts, axis=1) - counts
    per_image = counts.sum(axis=1)
    image_start = np.cumsum(per_image) - per_image
    return image_start, level_start


def _pieces(
    boxes: Boxes, levels: list[AnchorLevel], keys: tuple[I64, I64], objs: I64, t: F32, with_anchors: bool = False
) -> Iterator[tuple[int, Part]]:
    """Every (object, anchor) pair with IoU >= ``t[object]`` for the objects ``objs`` (ascending), as pieces
    ``(c, part)``: ``c`` the index of the level and shape (levels, then their shapes, in order), ``part`` some of
    its pairs. A level and shape's pieces come together, in the order of their objects, then columns, then rows
    (so the first entry of a key in a shape's pieces is its lowest object); a window expands at most about
    :data:`CELLS_PER_BATCH` candidate cells at once, so a crowded image or a large window streams in pieces.
    ``with_anchors``: with the anchors' boxes."""
    import numpy as np

    f32 = np.float32

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
    area32 = (gx2 - gx1) * (gy2 - gy1)
    # IoU >= t needs t * A_anchor <= A_object <= A_anchor / t. With one threshold for all objects, the objects in
    # that area range come from one sorted array instead of a test of every object against every shape.
    single = bool(len(tt)) and bool(np.all(tt == tt[0]))
    by_area = np.argsort(area_g, kind="stable") if single else None
    sorted_area = area_g[by_area] if by_area is not None else None
    combos = [(li, lv, a) for li, lv in enumerate(levels) for a in range(lv.shapes)]
    take = np.take  # much faster than fancy indexing, and one flatnonzero then takes than a mask per array
    nominal = [lv.nominal() for lv in levels]
    first_key = [image_start + level_start[:, li] for li in range(len(levels))]  # per image, the level's first
    for c, (li, lv, a) in enumerate(combos):
        aw, ah, ox, oy = nominal[li]
        area_a = aw[a] * ah[a]
        if by_area is not None and sorted_area is not None:
            lo, hi = np.searchsorted(sorted_area, [tt[0] * area_a * (1 - RELAX), area_a / tt[0] * (1 + RELAX)])
            candidates = np.sort(by_area[lo:hi])
        else:
            candidates = np.arange(len(tt))
        area_c = take(area_g, candidates)
        need_c = take(frac, candidates) * (area_c + area_a)  # intersection needed for IoU >= t
        # Most (object, shape) combinations fail on area alone: keep only the feasible objects.
        feasible = np.flatnonzero(np.minimum(area_c, area_a) >= need_c)
        sel, need = take(candidates, feasible), take(need_c, feasible)
        if not len(sel):
            continue
        gw_s, gh_s = take(gw, sel), take(gh, sel)
        rx = (gw_s + aw[a]) / 2 - need / np.minimum(gh_s, ah[a])
        ok = np.flatnonzero(rx >= -SLACK)
        sel, rx, need, gw_s, gh_s = (take(v, ok) for v in (sel, rx, need, gw_s, gh_s))
        im0 = take(img, sel)
        cols, sw = take(lv.grid.cols, im0), take(lv.grid.stride_w, im0)
        gcx_s = take(gcx, sel)
        lo_x = np.maximum(np.ceil((gcx_s - rx - SLACK - ox[a]) / sw), 0).astype(np.int64)
        hi_x = np.minimum(np.floor((gcx_s + rx + SLACK - ox[a]) / sw), cols - 1).astype(np.int64)
        for b0, b1 in _batches(np.maximum(hi_x - lo_x + 1, 0), CELLS_PER_BATCH):
            q, ix = expand(lo_x[b0:b1], hi_x[b0:b1])
            q += b0
            # Per column, the overlap along x it allows, then the rows where the overlap along y can make up the
            # intersection IoU >= t needs (a region shaped by the product, not a square).
            centre_gap = np.abs(ix * take(sw, q) + ox[a] - take(gcx_s, q))
            gw_q = take(gw_s, q)
            overlap_x = np.minimum(np.minimum(gw_q, aw[a]), (gw_q + aw[a]) / 2 - centre_gap) + SLACK
            with np.errstate(divide="ignore", invalid="ignore"):
                ry = np.where(overlap_x > 0, (take(gh_s, q) + ah[a]) / 2 - take(need, q) / overlap_x, -np.inf)
            keep_x = np.flatnonzero(ry >= -SLACK)
            q, ix, ry = take(q, keep_x), take(ix, keep_x), take(ry, keep_x)
            im1 = take(im0, q)
            rows, sh = take(lv.grid.rows, im1), take(lv.grid.stride_h, im1)
            gcy_q = take(gcy, take(sel, q))
            lo_y = np.maximum(np.ceil((gcy_q - ry - SLACK - oy[a]) / sh), 0).astype(np.int64)
            hi_y = np.minimum(np.floor((gcy_q + ry + SLACK - oy[a]) / sh), rows - 1).astype(np.int64)
            # torchvision's box_iou, its x factors once per column entry (the same float32 operations, so the
            # same bits), then per anchor of the column
            o = take(sel, q)
            ax1, ax2 = lv.at(ix, a, lv.factor(im1, "x"), "x")
            wx = np.maximum(np.minimum(take(gx2, o), ax2) - np.maximum(take(gx1, o), ax1), f32(0))
            aw32 = ax2 - ax1
            fy = lv.factor(im1, "y")
            column = take(first_key[li], im1) + ix * lv.shapes + a
            row_step = take(lv.grid.cols, im1) * lv.shapes
            for r0, r1 in _batches(np.maximum(hi_y - lo_y + 1, 0), CELLS_PER_BATCH):
                k, iy = expand(lo_y[r0:r1], hi_y[r0:r1])
                if not len(k):
                    continue
                k += r0
                ay1, ay2 = lv.at(iy, a, take(fy, k), "y")
                r = take(o, k)
                inter = take(wx, k) * np.maximum(np.minimum(take(gy2, r), ay2) - np.maximum(take(gy1, r), ay1), f32(0))
                with np.errstate(invalid="ignore", divide="ignore"):
                    iou = inter / (take(area32, r) + take(aw32, k) * (ay2 - ay1) - inter)
                keep = np.flatnonzero(iou >= (t[0] if single else take(t, r)))
                if not len(keep):
                    continue
                k, iy, iou, r = take(k, keep), take(iy, keep), take(iou, keep), take(r, keep)
                key = take(column, k) + iy * take(row_step, k)
                anchor = (take(ax1, k), take(ay1, keep), take(ax2, k), take(ay2, keep)) if with_anchors else None
                yield c, Part(li, take(objs, r), key, iou, anchor)


def best_iou(boxes: Boxes, levels: list[AnchorLevel], objs: I64) -> F32:
    """Each object's best IoU over all anchors: the anchors centred nearest to it (IoU only falls as an anchor
    moves away along either axis), checked one cell either way against rounding. Each object's shape closest in
    size comes first; then every other shape, skipped for the objects where its IoU with the object centred on
    it (an upper bound of any IoU with one of its anchors) is below the best IoU found so far."""
    import numpy as np

    bx1, by1, bx2, by2 = boxes.x1[objs], boxes.y1[objs], boxes.x2[objs], boxes.y2[objs]
    gw, gh = (bx2 - bx1).astype(np.float64)[:, None], (by2 - by1).astype(np.float64)[:, None]
    combos = [(lv, a) for lv in levels for a in range(lv.shapes)]
    aw = np.array([lv.nominal()[0][a] for lv, a in combos])[None, :]
    ah = np.array([lv.nominal()[1][a] for lv, a in combos])[None, :]
    # the IoU of the object and the shape centred on each other, which no anchor of the shape exceeds
    overlap = np.minimum(gw, aw) * np.minimum(gh, ah)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = overlap / (gw * gh + aw * ah - overlap)
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

    take = np.take  # faster than fancy indexing
    img = take(boxes.image, objs)
    bx1, by1, bx2, by2 = (take(v, objs) for v in (boxes.x1, boxes.y1, boxes.x2, boxes.y2))
    gx1, gy1, gx2, gy2 = (v[:, None, None] for v in (bx1, by1, bx2, by2))
    rows, cols = take(lv.grid.rows, img), take(lv.grid.cols, img)
    _, _, ox, oy = lv.nominal()
    cx = np.rint(lv.cell(img, (bx1.astype(np.float64) + bx2) / 2, ox[a], "x")).astype(np.int64)
    cy = np.rint(lv.cell(img, (by1.astype(np.float64) + by2) / 2, oy[a], "y")).astype(np.int64)
    step = np.array([-1, 0, 1])
    ix = np.clip(cx[:, None] + step, 0, (cols - 1)[:, None]).reshape(-1)
    iy = np.clip(cy[:, None] + step, 0, (rows - 1)[:, None]).reshape(-1)
    img3 = np.repeat(img, 3)
    ax1, ax2 = (v.reshape(-1, 1, 3) for v in lv.at(ix, a, lv.factor(img3, "x"), "x"))  # columns along the last axis
    ay1, ay2 = (v.reshape(-1, 3, 1) for v in lv.at(iy, a, lv.factor(img3, "y"), "y"))  # rows along the middle one
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


def first_max(key: I64, value: npt.NDArray[np.floating[Any]]) -> I64:
    """Indices of one entry per distinct ``key``: the first (in the given order) with the group's largest
    ``value``, in ascending order of their keys."""
    return winners(key, value)[0]


def winners(key: I64, value: npt.NDArray[np.floating[Any]]) -> tuple[I64, I64]:
    """:func:`first_max`'s indices, and the distinct keys in ascending order (one per index, aligned).

    The keys are sorted with their positions packed into the low bits of one integer (a plain sort instead of
    an argsort, and stable by construction); most keys occur once (an anchor near one object only), so only
    the groups that repeat are compared."""
    import numpy as np

    n = len(key)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    low = int(key.min())
    bits = max(n - 1, 1).bit_length()
    if (int(key.max()) - low).bit_length() + bits <= 62:
        packed = (key - low) << bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        idx = packed & ((1 << bits) - 1)
        k = (packed >> bits) + low
    else:  # keys too far apart to share an integer with their positions
        idx = np.argsort(key, kind="stable")
        k = key[idx]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(k[1:], k[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    best = np.take(idx, starts)
    size = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=size[:-1])
    size[-1] = n - starts[-1]
    repeated = np.flatnonzero(size > 1)
    if len(repeated):
        owner, at = expand(starts[repeated], starts[repeated] + size[repeated] - 1)
        v = np.take(value, np.take(idx, at))
        first = np.r_[0, np.flatnonzero(owner[1:] != owner[:-1]) + 1]
        top = np.maximum.reduceat(v, first)
        tops = np.flatnonzero(v == top[owner])  # positions ascend inside a group: its first top is the first
        pick = tops[np.r_[True, owner[tops[1:]] != owner[tops[:-1]]]]
        best[repeated[owner[pick]]] = idx[at[pick]]
    return np.asarray(best, dtype=np.int64), np.take(k, starts)


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
    or, with ``forced``, its SSDMatcher(high); ``weak`` counts those with IoU below ``floor``. Computed by the
    compiled kernel when it is loaded (see :mod:`._compiled`), else by :func:`assign_numpy`: the same result
    either way."""
    import numpy as np

    from scalematch.match.assign import _compiled

    try:
        if len(boxes.image) and _compiled.active() and bool(np.all(boxes.image[1:] >= boxes.image[:-1])):
            return _compiled.run(boxes, levels, high, low_quality, forced, floor)
        return assign_numpy(boxes, levels, high, low_quality, forced, floor)
    except MemoryError:
        raise _out_of_memory(boxes, levels) from None


def _out_of_memory(boxes: Boxes, levels: list[AnchorLevel]) -> Exception:
    """The error for a chunk whose simulation ran out of memory: how many objects, on how large an input."""
    import numpy as np

    from scalematch.errors import DatasetError

    images = np.unique(boxes.image)
    size = ""
    if levels and len(images):
        area = levels[0].input_w[images].astype(np.int64) * levels[0].input_h[images]
        k = int(images[int(np.argmax(area))])
        size = f", inputs up to {int(levels[0].input_w[k])}x{int(levels[0].input_h[k])} px"
    return DatasetError(
        f"not enough memory to simulate the max-IoU assigner on {counted(len(boxes.image), 'object')} in "
        f"{counted(len(images), 'image')}{size}: the anchors their windows reach do not fit; a smaller input size "
        "(--resize) or fewer objects per image needs less"
    )


def assign_numpy(
    boxes: Boxes,
    levels: list[AnchorLevel],
    high: float,
    low_quality: bool,
    forced: bool = False,
    floor: float = 0.0,
) -> Assigned:
    """:func:`assign` in numpy: the pairs of objects and anchors that can matter, in pieces (see :func:`_pieces`),
    each folded at once into what is kept per anchor (its best object and IoU, or its first owner) and per object
    (its best IoU and, for SSD, its claim), so that memory follows the anchors touched, not the pairs."""
    import numpy as np

    n = len(boxes.image)
    keys = anchor_keys(levels, boxes.image)
    combos = [li for li, lv in enumerate(levels) for _ in range(lv.shapes)]  # per level and shape, its level
    best = np.zeros(n, np.float32)
    candidate = np.zeros(n, bool)
    claim = _Claims(n)
    # Anchors at or above the threshold go to their best object (the first on ties); per level and shape, as the
    # keys of different shapes never meet. Later matches override these on the same anchor.
    strong = [_Folded(_first_max) for _ in combos]
    for c, p in _pieces(boxes, levels, keys, np.arange(n, dtype=np.int64), np.full(n, np.float32(high))):
        np.maximum.at(best, p.obj, p.iou)
        candidate[p.obj] = True
        strong[c].add(p)
        if forced:  # only the pairs at the object's best so far can be its claim (a later piece may raise it)
            claim.at_best(_select_part(p, np.flatnonzero(p.iou == np.take(best, p.obj))))
    won = [f.result() for f in strong]
    weak = np.flatnonzero(best < np.float32(high))
    if len(weak):
        best[weak] = best_iou(boxes, levels, weak)
    # Each object's best anchors (ties included): for an object below the threshold, its pairs at or above its
    # best IoU (all at exactly the best); above it, its strong pairs at the best (the claims above).
    low = weak[best[weak] > 0]
    nl = len(levels)
    extra = np.zeros(n * nl, np.int64)  # the low-quality matches and SSD's claims, per object and level
    weak_count = np.zeros(n, np.int64)
    f = np.float32(floor)
    for group, (first, end) in _groups(boxes, levels, low, best[low]):
        held: list[Pairs] = []  # with ``forced`` too: the group's matches, until its images' claims are known
        for e in _best_anchors(boxes, levels, keys, group, best, won, combos, candidate, claim if forced else None,
                               low_quality):  # fmt: skip
            if forced:
                held.append(e)
            else:
                _count(e, nl, f, extra, weak_count)
        if held:
            group_keys = _forced(claim, first, end)[0]
            for e in held:
                _count(_select(e, ~_member(group_keys, e.key)), nl, f, extra, weak_count)
    forced_keys = np.zeros(0, np.int64)
    if forced:  # each object's first (lowest-key) best anchor, objects in order, the last object winning a key
        forced_keys, claims = _forced(claim, 0, n)
        _count(claims, nl, f, extra, weak_count)

    by_level = np.zeros((nl, n), np.int64)  # level-major while counting: each level's row contiguous
    for w, li in zip(won, combos, strict=True):
        if len(forced_keys):  # a forced match overrides the winner of its anchor
            w = _select_part(w, ~_member(forced_keys, w.key))
        by_level[li] += np.bincount(w.obj, minlength=n)
        weak_count += np.bincount(w.obj[w.iou < f], minlength=n)
    positives = np.ascontiguousarray(by_level.T)
    positives += extra.reshape(n, nl)
    lost = (positives.sum(axis=1) == 0) & candidate
    return Assigned(positives, best, lost, weak_count)


def _groups(boxes: Boxes, levels: list[AnchorLevel], low: I64, t: F32) -> Iterator[tuple[I64, tuple[int, int]]]:
    """The objects ``low`` (ascending) in groups of whole images whose windows at thresholds ``t`` (aligned with
    ``low``) hold about :data:`CELLS_PER_BATCH` candidate cells in all (at least one image each; one group when
    the objects are not in image order), each with the range of the objects of its images: the best anchors of an
    object are all the anchors in its windows on a tie, so that memory follows one group's, not the chunk's."""
    import numpy as np

    if not len(low):
        return
    image = boxes.image
    if not bool(np.all(image[1:] >= image[:-1])):
        yield low, (0, len(image))
        return
    ends = np.cumsum(_window_cells(boxes, levels, low, t))
    im = image[low]
    lo = 0
    while lo < len(low):
        base = float(ends[lo - 1]) if lo else 0.0
        hi = max(int(np.searchsorted(ends, base + CELLS_PER_BATCH, side="right")), lo + 1)
        hi = int(np.searchsorted(im, im[hi - 1], side="right"))
        span = int(np.searchsorted(image, im[lo], side="left")), int(np.searchsorted(image, im[hi - 1], side="right"))
        yield low[lo:hi], span
        lo = hi


def _window_cells(boxes: Boxes, levels: list[AnchorLevel], objs: I64, t: F32) -> F64:
    """Per object of ``objs``: the grid cells of the rectangles around its windows at threshold ``t`` (those of
    :func:`_pieces`, over every level and shape; an upper bound of its pairs with IoU >= t)."""
    import numpy as np

    take = np.take
    img = take(boxes.image, objs)
    gx1, gy1, gx2, gy2 = (take(v, objs).astype(np.float64) for v in (boxes.x1, boxes.y1, boxes.x2, boxes.y2))
    gw, gh = gx2 - gx1, gy2 - gy1
    gcx, gcy = (gx1 + gx2) / 2, (gy1 + gy2) / 2
    tt = t.astype(np.float64) * (1 - RELAX)
    frac = tt / (1 + tt)
    area_g = gw * gh
    total = np.zeros(len(objs))
    for lv in levels:
        aw, ah, ox, oy = lv.nominal()
        cols, rows = take(lv.grid.cols, img) - 1.0, take(lv.grid.rows, img) - 1.0
        sw, sh = take(lv.grid.stride_w, img), take(lv.grid.stride_h, img)
        for a in range(lv.shapes):
            area_a = aw[a] * ah[a]
            need = frac * (area_g + area_a)
            with np.errstate(invalid="ignore", divide="ignore"):
                rx = (gw + aw[a]) / 2 - need / np.minimum(gh, ah[a]) + SLACK
                ry = (gh + ah[a]) / 2 - need / (np.minimum(gw, aw[a]) + SLACK) + SLACK
                nx = np.minimum(np.floor((gcx + rx - ox[a]) / sw), cols)
                nx -= np.maximum(np.ceil((gcx - rx - ox[a]) / sw), 0)
                ny = np.minimum(np.floor((gcy + ry - oy[a]) / sh), rows)
                ny -= np.maximum(np.ceil((gcy - ry - oy[a]) / sh), 0)
                cells = np.maximum(nx + 1, 0) * np.maximum(ny + 1, 0)
            ok = (np.minimum(area_g, area_a) >= need) & (rx >= 0) & (ry >= 0) & np.isfinite(cells)
            total += np.where(ok, cells, 0.0)
    return total


def _best_anchors(
    boxes: Boxes, levels: list[AnchorLevel], keys: tuple[I64, I64], objs: I64, best: F32, won: list[Part],
    combos: list[int], candidate: npt.NDArray[np.bool_], claim: _Claims | None, low_quality: bool,
) -> Iterator[Pairs]:  # fmt: skip
    """The best anchors (IoU at or above ``best``) of the objects ``objs`` (ascending, whole images): with
    ``low_quality`` or ``claim``, marks them as candidates (without either, an anchor below the threshold is no
    object's to take, so an object without a positive lost none) and, with ``claim``, gives each its claim; with
    ``low_quality``, yields each of those anchors that no object holds at the threshold (not in ``won``, per level
    and shape) given to the object of its image that overlaps it most (see :func:`_argmax_all`), in batches of about
    :data:`PAIRS_PER_BATCH` anchors. An anchor comes once, with the first object whose best anchor it is (the pieces
    of a level and shape come in the order of their objects); only the keys of the level and shape seen so far are
    kept to know it, not the pairs."""
    import numpy as np

    pending: list[tuple[Part, int]] = []
    size = 0
    seen = _KeySet()
    current = -1
    for c, q in _pieces(boxes, levels, keys, objs, best[objs], with_anchors=low_quality):
        if low_quality or claim is not None:  # a best anchor below the threshold is the object's only then
            candidate[q.obj] = True
        if claim is not None:
            claim.lowest(q)
        if not low_quality:
            continue
        if c != current:  # (the keys of different levels and shapes never meet)
            seen, current = _KeySet(), c
        idx = np.flatnonzero(~_member(won[c].key, q.key))
        first, k = winners(np.take(q.key, idx), np.zeros(len(idx), np.float32))  # per key its first entry
        fresh = np.flatnonzero(~seen.has(k))
        if not len(fresh):
            continue
        seen.add(np.take(k, fresh))  # (ascending)
        q = _select_part(q, np.take(idx, np.take(first, fresh)))
        pending.append((q, combos[c]))
        size += len(q.key)
        if size >= PAIRS_PER_BATCH:
            yield _argmax_pending(boxes, pending, best)
            pending, size = [], 0
    if pending:
        yield _argmax_pending(boxes, pending, best)


class _KeySet:
    """Distinct keys, added in sorted batches that do not repeat a key already held: a few sorted arrays, the
    newest merged into the one before whenever it is at least half as long (each key merged a few times)."""

    def __init__(self) -> None:
        self.arrays: list[I64] = []

    def has(self, keys: I64) -> npt.NDArray[np.bool_]:
        import numpy as np

        out = np.zeros(len(keys), bool)
        for held in self.arrays:
            out |= _member(held, keys)
        return out

    def add(self, keys: I64) -> None:
        import numpy as np

        self.arrays.append(keys)
        while len(self.arrays) > 1 and 2 * len(self.arrays[-1]) >= len(self.arrays[-2]):
            last = self.arrays.pop()
            self.arrays[-1] = np.sort(np.concatenate([self.arrays[-1], last]))


def _argmax_pending(boxes: Boxes, pending: list[tuple[Part, int]], best: F32) -> Pairs:
    """:func:`_argmax_all` of the anchors of ``pending`` (parts with their anchors' boxes, and their levels), each
    owned by its object at that object's ``best`` IoU, :data:`PAIRS_PER_BATCH` anchors at a time (an anchor's
    match does not depend on the others)."""
    import numpy as np

    owner = np.concatenate([p.obj for p, _ in pending])
    key = np.concatenate([p.key for p, _ in pending])
    level = np.concatenate([np.full(len(p.key), li, np.int64) for p, li in pending])
    x1, y1, x2, y2 = (np.concatenate([p.anchor[i] for p, _ in pending if p.anchor]) for i in range(4))
    iou = np.concatenate([p.iou for p, _ in pending])
    found = []
    for lo in range(0, len(owner), PAIRS_PER_BATCH):
        s = slice(lo, lo + PAIRS_PER_BATCH)
        anchors = (x1[s], y1[s], x2[s], y2[s])
        found.append(_argmax_all(boxes, Pairs(owner[s], key[s], level[s], best[owner[s]]), anchors, iou[s]))
    return found[0] if len(found) == 1 else _concat(found)


def _forced(claim: _Claims, first: int, end: int) -> tuple[I64, Pairs]:
    """SSD's forced matches among the claims of the objects ``first`` to ``end`` (whole images): each claimed
    key (ascending) and its claim by the last object claiming it."""
    import numpy as np

    claims = claim.pairs(first, end)
    by_key = np.argsort(claims.key, kind="stable")
    k = claims.key[by_key]
    last = np.flatnonzero(np.r_[k[1:] != k[:-1], True]) if len(k) else np.zeros(0, np.int64)  # none: no claims
    return k[last], _select(claims, by_key[last])


def _count(e: Pairs, nl: int, floor: np.float32, counts: I64, weak: I64) -> None:
    """Add the matches ``e`` to ``counts`` (per object and level, object-major) and those below ``floor`` to
    ``weak`` (per object)."""
    import numpy as np

    if len(e.obj):
        counts += np.bincount(e.obj * nl + e.level, minlength=len(counts))
        weak += np.bincount(e.obj[e.iou < floor], minlength=len(weak))


def _select_part(p: Part, mask: npt.NDArray[np.bool_] | I64) -> Part:
    anchor = tuple(v[mask] for v in p.anchor) if p.anchor else None
    return Part(p.level, p.obj[mask], p.key[mask], p.iou[mask], anchor)  # type: ignore[arg-type]


def _first_max(p: Part) -> Part:
    """Per distinct key of ``p``, its first entry with the largest IoU (keys ascending)."""
    return _select_part(p, winners(p.key, p.iou)[0])


class _Folded:
    """Pieces of one level and shape's pairs, arriving in the order of their objects, folded per key by ``fold``
    (:func:`_first_max`: the first entry of the winning value, so an earlier piece wins ties):
    each piece is folded alone, and the folded pieces together whenever they outgrow what was kept the last
    time, so that memory follows the distinct keys."""

    def __init__(self, fold: Callable[[Part], Part]) -> None:
        self.fold = fold
        self.parts: list[Part] = []
        self.size = 0
        self.kept = 0

    def add(self, p: Part) -> None:
        if not len(p.key):
            return
        p = self.fold(p)
        self.parts.append(p)
        self.size += len(p.key)
        if len(self.parts) > 1 and self.size > max(CELLS_PER_BATCH, 2 * self.kept):
            self.parts = [self.fold(_concat_parts(self.parts))]
            self.size = self.kept = len(self.parts[0].key)

    def result(self) -> Part:
        """The folded pairs, one per key, keys ascending."""
        import numpy as np

        if not self.parts:
            return Part(0, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
        if len(self.parts) > 1:
            self.parts = [self.fold(_concat_parts(self.parts))]
        return self.parts[0]


def _concat_parts(parts: list[Part]) -> Part:
    import numpy as np

    def joined(v: list[Any]) -> Any:
        return np.concatenate(v)

    anchor = None
    if parts[0].anchor:
        x1, y1, x2, y2 = (joined([p.anchor[i] for p in parts if p.anchor]) for i in range(4))
        anchor = (x1, y1, x2, y2)
    obj, key, iou = (joined([getattr(p, f) for p in parts]) for f in ("obj", "key", "iou"))
    return Part(parts[0].level, obj, key, iou, anchor)


class _Claims:
    """SSD's claims, per object a key (-1: none yet) with its pair's level and IoU, from pieces whose objects
    ascend: :meth:`at_best` keeps the lowest key at the object's best IoU, :meth:`lowest` the lowest key."""

    def __init__(self, n: int) -> None:
        import numpy as np

        self.key = np.full(n, -1, np.int64)
        self.level = np.zeros(n, np.int64)
        self.iou = np.full(n, -np.inf, np.float32)

    def at_best(self, p: Part) -> None:
        """Pairs that share one IoU per object (the object's best so far): a higher IoU replaces the claim, an
        equal one with a lower key too."""
        import numpy as np

        if not len(p.key):
            return
        start = np.flatnonzero(np.r_[True, p.obj[1:] != p.obj[:-1]])
        o, v = p.obj[start], p.iou[start]
        k = np.minimum.reduceat(p.key, start)
        self._keep(o, k, v, (v > self.iou[o]) | ((v == self.iou[o]) & (k < self.key[o])), p.level)

    def lowest(self, p: Part) -> None:
        """An object's best anchors (IoU at or above its best): the lowest key, whatever its IoU."""
        import numpy as np

        if not len(p.key):
            return
        order = np.lexsort((p.key, p.obj))
        obj = p.obj[order]
        head = order[np.r_[True, obj[1:] != obj[:-1]]]
        o, k, v = p.obj[head], p.key[head], p.iou[head]
        self._keep(o, k, v, (self.key[o] < 0) | (k < self.key[o]), p.level)

    def _keep(self, o: I64, k: I64, v: F32, better: npt.NDArray[np.bool_], level: int) -> None:
        self.key[o[better]], self.iou[o[better]], self.level[o[better]] = k[better], v[better], level

    def pairs(self, first: int = 0, end: int | None = None) -> Pairs:
        """The claims of the objects ``first`` to ``end`` (default: all), objects ascending."""
        import numpy as np

        o = np.flatnonzero(self.key[first:end] >= 0) + first
        return Pairs(o.astype(np.int64), self.key[o], self.level[o], self.iou[o])


def _member(sorted_keys: I64, keys: I64) -> npt.NDArray[np.bool_]:
    """Whether each of ``keys`` is in ``sorted_keys`` (ascending)."""
    import numpy as np

    if not len(sorted_keys):
        return np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[at] == keys)


def _argmax_all(boxes: Boxes, pending: Pairs, anchor: tuple[F32, F32, F32, F32], owned: F32 | None = None) -> Pairs:
    """For anchors ``pending`` (key and level; each a best anchor of object ``pending.obj``, its IoU with that
    owner ``pending.iou`` above 0) with boxes ``anchor``: the object of their image with the highest IoU (first on
    ties). These anchors are below the threshold for every object, so no window bounds them; but only the objects
    overlapping the region of an owner's anchors can reach IoU above 0 with one of them, so the image's other
    objects are skipped. ``owned``: each anchor's IoU with its owner as :func:`_pieces` computed it (the same
    float32 operations as here): an anchor whose owner alone can reach it goes to the owner at that IoU, without
    computing it again (large objects have many such anchors, each of their best anchors inside them)."""
    import numpy as np

    owner, level = pending.obj, pending.level
    ax1, ay1, ax2, ay2 = anchor
    take = np.take  # faster than fancy indexing
    by_owner = np.argsort(owner, kind="stable")
    key, owner, level = take(pending.key, by_owner), take(owner, by_owner), take(level, by_owner)
    ax1, ay1, ax2, ay2 = (take(v, by_owner) for v in (ax1, ay1, ax2, ay2))
    new = np.r_[True, owner[1:] != owner[:-1]]
    group = np.cumsum(new) - 1  # per anchor, its owner's place in ``who``
    start = np.flatnonzero(new)
    who = owner[start]
    region = (
        np.minimum.reduceat(ax1, start), np.minimum.reduceat(ay1, start),
        np.maximum.reduceat(ax2, start), np.maximum.reduceat(ay2, start),
    )  # fmt: skip
    area = (ax2 - ax1).astype(np.float64) * (ay2 - ay1)
    areas = (np.minimum.reduceat(area, start), np.maximum.reduceat(area, start))
    comp_obj, comp_count = _competitors(boxes, who, region, areas, take(pending.iou, take(by_owner, start)))
    comp_start = np.cumsum(comp_count) - comp_count
    # Each pending anchor against its owner's competitors, in batches of about PAIRS_PER_BATCH pairs.
    count = comp_count[group]
    found = []
    if owned is not None:
        alone = np.flatnonzero(count == 1)  # the owner is its only competitor (it always is one)
        if len(alone):
            found.append(
                Pairs(take(owner, alone), take(key, alone), take(level, alone), take(owned, take(by_owner, alone)))
            )
            if len(alone) == len(count):
                return found[0]
            rest = np.flatnonzero(count > 1)
            key, level, group, count = (take(v, rest) for v in (key, level, group, count))
            ax1, ay1, ax2, ay2 = (take(v, rest) for v in (ax1, ay1, ax2, ay2))
    for lo, hi in _batches(count):
        c = count[lo:hi]
        offset = np.cumsum(c) - c
        begin = take(comp_start, group[lo:hi])
        rel, at = expand(begin, begin + c - 1)  # per pair: its anchor (from lo) and its place in comp_obj
        obj = take(comp_obj, at)
        iou = box_iou(
            take(boxes.x1, obj), take(boxes.y1, obj), take(boxes.x2, obj), take(boxes.y2, obj),
            *(take(v[lo:hi], rel) for v in (ax1, ay1, ax2, ay2)),
        )  # fmt: skip
        # The pairs come anchor by anchor, objects ascending: per anchor its first entry at the largest IoU.
        top = np.maximum.reduceat(iou, offset)
        tops = np.flatnonzero(iou == take(top, rel))
        rel_t = take(rel, tops)
        first = tops[np.r_[True, rel_t[1:] != rel_t[:-1]]]
        a = take(rel, first) + lo
        found.append(Pairs(take(obj, first), take(key, a), take(level, a), take(iou, first)))
    return _concat(found) if found else Pairs(*(np.zeros(0, np.int64),) * 3, np.zeros(0, np.float32))


def _batches(count: I64, budget: int = PAIRS_PER_BATCH) -> Iterator[tuple[int, int]]:
    """Ranges ``lo:hi`` of items whose ``count`` sums to about ``budget`` (at least one item each)."""
    import numpy as np

    if int(count.sum()) <= budget:  # the usual case: one range (a sum costs less than the running sums)
        if len(count):
            yield 0, len(count)
        return
    ends = np.cumsum(count)
    lo = 0
    while lo < len(count):
        hi = max(int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + budget, side="right")), lo + 1)
        yield lo, hi
        lo = hi


def _competitors(
    boxes: Boxes, who: I64, region: tuple[F32, F32, F32, F32], areas: tuple[F64, F64], iou: F32
) -> tuple[I64, I64]:
    """For each object of ``who`` (ascending): the objects of its image that can reach ``iou`` (the owner's IoU with
    each of its anchors) with one of its anchors, which lie in ``region`` and whose areas range over ``areas`` (least,
    most): the owner, and the others whose box overlaps the region enough (ascending; the whole list, then how many
    belong to each object of ``who``). An object's IoU with an anchor is at most its overlap with the region, its own
    area and the anchor's, over the larger of its area and the anchor's."""
    import numpy as np

    first_obj = np.searchsorted(boxes.image, np.arange(int(boxes.image.max()) + 2), side="left")
    im = boxes.image[who]
    size = first_obj[im + 1] - first_obj[im]
    rx1, ry1, rx2, ry2 = region
    found: list[tuple[I64, I64]] = []
    for lo, hi in _batches(size):  # (object, object) pairs
        g, j = expand(first_obj[im[lo:hi]], first_obj[im[lo:hi] + 1] - 1)
        g += lo
        take = np.take  # faster than fancy indexing
        hit = np.flatnonzero(
            (take(boxes.x1, j) < take(rx2, g)) & (take(boxes.x2, j) > take(rx1, g))
            & (take(boxes.y1, j) < take(ry2, g)) & (take(boxes.y2, j) > take(ry1, g))
        )  # fmt: skip
        g, j = take(g, hit), take(j, hit)
        x1, y1, x2, y2 = (take(v, j).astype(np.float64) for v in (boxes.x1, boxes.y1, boxes.x2, boxes.y2))
        overlap = (np.minimum(x2, take(rx2, g)) - np.maximum(x1, take(rx1, g))) * (
            np.minimum(y2, take(ry2, g)) - np.maximum(y1, take(ry1, g))
        )
        own = (x2 - x1) * (y2 - y1)
        bound = np.minimum(np.minimum(overlap, own), take(areas[1], g)) / np.maximum(own, take(areas[0], g))
        keep = np.flatnonzero((bound * (1 + 1e-5) >= take(iou, g)) | (j == take(who, g)))  # margin: float32 IoU
        found.append((take(g, keep), take(j, keep)))
    g_all = np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int64)
    j_all = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int64)
    return j_all, np.bincount(g_all, minlength=len(who))
