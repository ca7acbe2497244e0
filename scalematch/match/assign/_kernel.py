"""The max-IoU assigner of :mod:`maxiou` as one compiled loop per image (numba; the ``fast`` extra).

Imported only by :func:`scalematch.match.assign._compiled.kernel`, when numba is installed. Every value is computed
with the floating-point operations, types and order of the numpy code it stands for (``maxiou._pieces``,
``best_iou``, ``_nearest_iou``, ``_argmax_all`` and the bookkeeping of ``maxiou.assign``), so its results are the
same bits; see :func:`assign` for how the work is organised. It also skips work the numpy code does in vain,
where a bound proves that nothing can come of it (shapes that cannot reach a threshold, objects that cannot overlap
an anchor), so that the results stay the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba  # noqa: TID253  # the module is imported lazily, only when the compiled assigner runs
import numpy as np  # noqa: TID253

Fn = TypeVar("Fn", bound=Callable[..., Any])
F32 = np.float32


def _jit(fn: Fn) -> Fn:
    """Compiled on first use in a process, then loaded from numba's on-disk cache; ``error_model="numpy"``: a
    division by zero gives inf or nan as numpy does, not an exception; no fastmath: every operation rounds as
    numpy's does."""
    return cast(Fn, numba.njit(cache=True, error_model="numpy", nogil=True)(fn))


def _inline(fn: Fn) -> Fn:
    """:func:`_jit`, inlined into its callers by numba (scalar helpers of the innermost loops)."""
    return cast(Fn, numba.njit(cache=True, error_model="numpy", inline="always")(fn))


@_inline
def _extent(i: Any, ssd: Any, stride: Any, lo: Any, hi: Any, n: Any, s: Any) -> Any:
    """AnchorLevel.at: the float32 extent of one anchor shape at cell ``i`` along one axis: torchvision, the cell's
    integer ``stride`` times ``i`` plus the shape's rounded extent ``lo``, ``hi``; SSD, the centre (i + 0.5) / n
    (``n``: the float32 input side over the step) -+ ``hi`` (half the unit size), times the input side ``s``."""
    if ssd:
        centre = (F32(i) + F32(0.5)) / n
        return (centre - hi) * s, (centre + hi) * s
    shift = F32(i * stride)
    return shift + lo, shift + hi


@_inline
def _iou(gx1: Any, gy1: Any, gx2: Any, gy2: Any, ax1: Any, ay1: Any, ax2: Any, ay2: Any) -> Any:
    """_grid.box_iou of one object and one anchor (float32, torchvision's order of operations; finite
    coordinates)."""
    zero = F32(0.0)
    area_g = (gx2 - gx1) * (gy2 - gy1)
    area_a = (ax2 - ax1) * (ay2 - ay1)
    wx = max(min(gx2, ax2) - max(gx1, ax1), zero)
    wy = max(min(gy2, ay2) - max(gy1, ay1), zero)
    inter = wx * wy
    return inter / (area_g + area_a - inter)


@_inline
def _axes(li: Any, a: Any, im: Any, gi: Any, sizes: Any, ssd: Any, step: Any, s32: Any) -> Any:
    """The arguments of :func:`_extent` for shape ``a`` of level ``li`` on image ``im``, along x then y."""
    if ssd[li]:
        half = F32(0.5)
        x = (True, 0, F32(0.0), half * s32[1, li, a], F32(sizes[0, im] / step[li]), F32(sizes[0, im]))
        y = (True, 0, F32(0.0), half * s32[3, li, a], F32(sizes[1, im] / step[li]), F32(sizes[1, im]))
        return x, y
    one = F32(1.0)
    x = (False, gi[2, li, im], s32[0, li, a], s32[1, li, a], one, one)
    y = (False, gi[3, li, im], s32[2, li, a], s32[3, li, a], one, one)
    return x, y


@_inline
def _walk(
    j: Any, t: Any, im: Any, box: Any, geo: Any, gi: Any, ls: Any, gf: Any, sizes: Any, nshapes: Any, ssd: Any,
    step: Any, s32: Any, s64: Any, level_area: Any, slack: Any, relax: Any, spans: Any, terms: Any, out_key: Any,
    out_level: Any, out_iou: Any,
) -> Any:  # fmt: skip
    """maxiou._pieces for object ``j`` of image ``im`` at float32 threshold ``t``: every anchor with IoU >= t,
    written to the ``out_`` arrays (its key among the image's anchors, level and IoU); returns how many (when more
    than the arrays hold, only the first are written: :func:`assign` then starts the image again with larger
    ones). The same windows, searched only for the shapes whose IoU with the object centred on them can reach t.

    ``box``: the objects' float32 x1, y1, x2, y2 rows; ``geo``: per object float64 w, h, centre x, centre y; the
    grids and anchor shapes as :func:`assign` takes them. ``spans`` and ``terms``: scratch rows, per column of a
    window its rows and per row the overlap with the object along y and the anchor's height (the float32 factors
    of the IoU that do not change along a row, computed once)."""
    gx1, gy1, gx2, gy2 = box[0, j], box[1, j], box[2, j], box[3, j]
    gw, gh, gcx, gcy = geo[0, j], geo[1, j], geo[2, j], geo[3, j]
    area_g = gw * gh
    area32 = (gx2 - gx1) * (gy2 - gy1)
    zero = F32(0.0)
    tt = np.float64(t) * (1 - relax)
    frac = tt / (1 + tt)
    m = 0
    # IoU >= t needs t * A_anchor <= A_object <= A_anchor / t: skip the levels whose shapes are all outside that
    # range of areas (loosened; the exact test follows)
    least = tt * area_g * (1 - 1e-6)
    most = area_g / tt * (1 + 1e-6) if tt > 0 else np.inf
    for li in range(len(nshapes)):
        if level_area[1, li] < least or level_area[0, li] > most:
            continue
        stw, sth = gf[0, li, im], gf[1, li, im]
        nrow, ncol = gi[0, li, im], gi[1, li, im]
        ns = nshapes[li]
        for a in range(ns):
            awa, aha, oxa, oya = s64[0, li, a], s64[1, li, a], s64[2, li, a], s64[3, li, a]
            area_a = awa * aha
            need = frac * (area_g + area_a)  # intersection needed for IoU >= t
            if not min(area_g, area_a) >= need:
                continue
            # No anchor of the shape exceeds its IoU with the object centred on it (best_iou's bound, as loose):
            # the shapes that cannot reach t have no pair, and their windows need not be searched.
            overlap = min(gw, awa) * min(gh, aha)
            if overlap / (area_g + area_a - overlap) * (1 + relax) < t:
                continue
            rx = (gw + awa) / 2 - need / min(gh, aha)
            if not rx >= -slack:
                continue
            lo_x = int(max(np.ceil((gcx - rx - slack - oxa) / stw), 0.0))
            hi_x = int(min(np.floor((gcx + rx + slack - oxa) / stw), np.float64(ncol - 1)))
            # per column, the rows where the overlap along y can make up the intersection IoU >= t needs
            first_y, last_y = nrow, -1
            for ix in range(lo_x, hi_x + 1):
                c = ix - lo_x
                spans[0, c], spans[1, c] = 0, -1
                centre_gap = abs(ix * stw + oxa - gcx)
                overlap_x = min(min(gw, awa), (gw + awa) / 2 - centre_gap) + slack
                if not overlap_x > 0:
                    continue
                ry = (gh + aha) / 2 - need / overlap_x
                if not ry >= -slack:
                    continue
                lo_y = int(max(np.ceil((gcy - ry - slack - oya) / sth), 0.0))
                hi_y = int(min(np.floor((gcy + ry + slack - oya) / sth), np.float64(nrow - 1)))
                if lo_y <= hi_y:
                    spans[0, c], spans[1, c] = lo_y, hi_y
                    first_y, last_y = min(first_y, lo_y), max(last_y, hi_y)
            if last_y < first_y:
                continue
            (xs, xk, xl, xh, xn, xv), (ys, yk, yl, yh, yn, yv) = _axes(li, a, im, gi, sizes, ssd, step, s32)
            for iy in range(first_y, last_y + 1):
                ay1, ay2 = _extent(iy, ys, yk, yl, yh, yn, yv)
                terms[0, iy - first_y] = max(min(gy2, ay2) - max(gy1, ay1), zero)
                terms[1, iy - first_y] = ay2 - ay1
            for ix in range(lo_x, hi_x + 1):
                c = ix - lo_x
                ax1, ax2 = _extent(ix, xs, xk, xl, xh, xn, xv)
                wx = max(min(gx2, ax2) - max(gx1, ax1), zero)
                aw32 = ax2 - ax1
                column = ls[li, im] + ix * ns + a
                for iy in range(spans[0, c], spans[1, c] + 1):
                    inter = wx * terms[0, iy - first_y]
                    iou = inter / (area32 + aw32 * terms[1, iy - first_y] - inter)
                    if iou >= t:
                        if m < len(out_key):
                            out_key[m] = column + iy * ncol * ns
                            out_level[m] = li
                            out_iou[m] = iou
                        m += 1
    return m


@_inline
def _anchor_box(
    key: Any, li: Any, im: Any, gi: Any, ls: Any, sizes: Any, nshapes: Any, ssd: Any, step: Any, s32: Any
) -> Any:
    """The float32 box (x1, y1, x2, y2) of the anchor ``key`` (among the anchors of image ``im``), of level ``li``."""
    ns = nshapes[li]
    cols = gi[1, li, im]
    local = key - ls[li, im]
    a = local % ns
    ix = (local // ns) % cols
    iy = local // (ns * cols)
    (xs, xk, xl, xh, xn, xv), (ys, yk, yl, yh, yn, yv) = _axes(li, a, im, gi, sizes, ssd, step, s32)
    ax1, ax2 = _extent(ix, xs, xk, xl, xh, xn, xv)
    ay1, ay2 = _extent(iy, ys, yk, yl, yh, yn, yv)
    return ax1, ay1, ax2, ay2


@_inline
def _nearest(
    j: Any, li: Any, a: Any, im: Any, box: Any, gi: Any, gf: Any, sizes: Any, ssd: Any, step: Any, s32: Any, s64: Any
) -> Any:
    """maxiou._nearest_iou: the best IoU of object ``j`` with shape ``a`` of level ``li`` in the 3 x 3 cells around
    the one whose anchor centre is nearest to its centre."""
    (xs, xk, xl, xh, xn, xv), (ys, yk, yl, yh, yn, yv) = _axes(li, a, im, gi, sizes, ssd, step, s32)
    gx1, gy1, gx2, gy2 = box[0, j], box[1, j], box[2, j], box[3, j]
    cx = int(np.rint(((np.float64(gx1) + gx2) / 2 - s64[2, li, a]) / gf[0, li, im]))
    cy = int(np.rint(((np.float64(gy1) + gy2) / 2 - s64[3, li, a]) / gf[1, li, im]))
    zero = F32(0.0)
    area_g = (gx2 - gx1) * (gy2 - gy1)
    # the overlap along x and the width of the anchors of the 3 columns, along y and the height of the 3 rows
    last_x, last_y = gi[1, li, im] - 1, gi[0, li, im] - 1
    ix0, ix1, ix2 = min(max(cx - 1, 0), last_x), min(max(cx, 0), last_x), min(max(cx + 1, 0), last_x)
    iy0, iy1, iy2 = min(max(cy - 1, 0), last_y), min(max(cy, 0), last_y), min(max(cy + 1, 0), last_y)
    xa, xb = _extent(ix0, xs, xk, xl, xh, xn, xv)
    w0, u0 = max(min(gx2, xb) - max(gx1, xa), zero), xb - xa
    xa, xb = _extent(ix1, xs, xk, xl, xh, xn, xv)
    w1, u1 = max(min(gx2, xb) - max(gx1, xa), zero), xb - xa
    xa, xb = _extent(ix2, xs, xk, xl, xh, xn, xv)
    w2, u2 = max(min(gx2, xb) - max(gx1, xa), zero), xb - xa
    best = F32(0.0)
    for r in range(3):
        ya, yb = _extent(iy0 if r == 0 else iy1 if r == 1 else iy2, ys, yk, yl, yh, yn, yv)
        wy, v = max(min(gy2, yb) - max(gy1, ya), zero), yb - ya
        for c in range(3):
            wx, u = (w0, u0) if c == 0 else (w1, u1) if c == 1 else (w2, u2)
            inter = wx * wy
            iou = inter / (area_g + u * v - inter)  # _grid.box_iou
            if (r == 0 and c == 0) or (not np.isnan(best) and (np.isnan(iou) or iou > best)):  # np.max: NaN wins
                best = iou
    return best


@_inline
def _best_iou(
    j: Any, im: Any, box: Any, geo: Any, gi: Any, gf: Any, sizes: Any, nshapes: Any, ssd: Any, step: Any, s32: Any,
    s64: Any, relax: Any,
) -> Any:  # fmt: skip
    """maxiou.best_iou for object ``j``: its shape closest in size first, then every other shape whose IoU with the
    object centred on it can reach the best found so far (levels and shapes in order)."""
    gw, gh = geo[0, j], geo[1, j]
    closest_l, closest_a = 0, 0
    top = -np.inf
    first = True
    for li in range(len(nshapes)):
        for a in range(nshapes[li]):
            overlap = min(gw, s64[0, li, a]) * min(gh, s64[1, li, a])
            ratio = overlap / (gw * gh + s64[0, li, a] * s64[1, li, a] - overlap)
            if first or ratio > top:  # np.argmax: the first largest
                top, closest_l, closest_a = ratio, li, a
                first = False
    best = _nearest(j, closest_l, closest_a, im, box, gi, gf, sizes, ssd, step, s32, s64)
    for li in range(len(nshapes)):
        for a in range(nshapes[li]):
            if li == closest_l and a == closest_a:
                continue
            overlap = min(gw, s64[0, li, a]) * min(gh, s64[1, li, a])
            ratio = overlap / (gw * gh + s64[0, li, a] * s64[1, li, a] - overlap)
            if ratio * (1 + relax) >= np.float64(best):
                other = _nearest(j, li, a, im, box, gi, gf, sizes, ssd, step, s32, s64)
                best = other if np.isnan(other) or (other > best and not np.isnan(best)) else best  # np.maximum
    return best


DENSITY = 16
"""An image whose objects touch at least one in this many of its anchors (slots held, owned or forced) counts as
packed: see :func:`assign`'s ``room``."""

KEY, HPOS, S_LEVEL, P_OWNER, P_LEVEL, F_OWNER, F_LEVEL = range(7)
"""Rows of the per-slot integers: the anchor's key and its place in the hash table; the level of the n-th anchor
held at the threshold (indexed by that n, as the lists are); the first object whose best anchor it is and its
level (low quality); the object that forces it (SSD) and its level."""


@_inline
def _doubled(size: Any, need: Any) -> Any:
    """``size`` (at least 1) doubled until it holds ``need``."""
    size = max(size, 1)
    while size < need:
        size *= 2
    return size


@_inline
def _stop(room: Any, slots: Any, need_slots: Any, entries: Any, need_entries: Any, start: Any) -> None:
    """What :func:`assign` leaves in ``room`` when an image needs larger tables: the sizes doubled until they hold
    what it needs, and the image's first object."""
    room[0] = _doubled(slots, need_slots)
    room[1] = _doubled(entries, need_entries)
    room[2] = start


@_inline
def _probe(key: Any, hkeys: Any) -> Any:
    """The place of ``key`` in the open-addressing table ``hkeys`` (a power of two long, at most half full; -1:
    empty): where it is, or the empty place where it goes."""
    mask = len(hkeys) - 1
    h = (((key & 0xFFFFFFFF) ^ (key >> 32)) * 0x45D9F3B) & 0xFFFFFFFF
    pos = (h ^ (h >> 16)) & mask
    while hkeys[pos] != key and hkeys[pos] != -1:
        pos = (pos + 1) & mask
    return pos


@_inline
def _slot(key: Any, dense: Any, hkeys: Any, hslot: Any, slot_i: Any, used: Any) -> Any:
    """The slot of anchor ``key``: the key itself on a dense image, else its slot in the hash table, a new one
    (number ``used``) when it has none; returns the slot and how many are used. The caller checks there is room
    first (a slot nothing was written to holds nothing: the slots written to are emptied after each image)."""
    if dense:
        return key, used
    pos = _probe(key, hkeys)
    if hkeys[pos] != -1:
        return hslot[pos], used
    hkeys[pos] = key
    hslot[pos] = used
    slot_i[KEY, used] = key
    slot_i[HPOS, used] = pos
    return used, used + 1


@_jit
def assign(
    image: Any, box: Any, high: Any, low_quality: Any, forced: Any, floor: Any, gi: Any, ls: Any, gf: Any,
    sizes: Any, nshapes: Any, ssd: Any, step: Any, s32: Any, s64: Any, level_area: Any, slack: Any, relax: Any,
    positives: Any, best: Any, lost: Any, weak: Any, room: Any, dense_limit: Any,
) -> None:  # fmt: skip
    """maxiou.assign on the objects of whole images (``image``: each object's image, the index of the per-image
    columns of the grids; each image's objects contiguous, in toolkit order), into the output arrays.

    Grids, per level and image: ``gi`` int64 rows, columns, integer strides x and y (torchvision's anchors);
    ``ls`` the first key of each level's anchors and their total (levels + 1 rows); ``gf`` float64 strides x and y;
    ``sizes`` float64 input width and height. Anchor shapes, per level: ``nshapes``, ``ssd`` (DefaultBoxGenerator
    or AnchorGenerator), SSD's ``step``, ``level_area`` the least and largest nominal area; per level and shape,
    ``s32`` the float32 extents (AnchorLevel lo_w, hi_w, lo_h, hi_h) and ``s64`` the float64 nominal width,
    height and centre offsets x and y. (Separate arrays, not tuples of arrays: taking an array out of a tuple
    costs a reference count in the innermost loops.) ``dense_limit``: the most anchors an image may have for its
    slots to be its anchors (indexed by key, as fast as it gets); a larger image gets a slot per anchor its
    objects' windows touch, through a hash table, so that memory follows the windows, not the image's anchors.

    ``room``: the slots and the entries (pairs of one object's windows) the scratch tables are made with, and the
    object to start at (the first of an image). The tables are made once, when the call starts (the slot tables at
    least as long as the largest dense image's anchors), and never replaced while it runs: an array assigned anew
    inside the loops costs reference counts there, and the kernel ran twice as long. When an image needs more,
    the call stops before that image has written any result and leaves in ``room`` the larger sizes and the
    image's first object: the caller calls again from there (the image's work is redone). When all objects are
    done, ``room`` holds the sizes used, ``n``, and whether at least half of the images done in this call were
    packed (their objects touched one in :data:`DENSITY` of their anchors or more: anchors much larger than the
    objects, tied over much of the image), which is when slots indexed by key pay (see
    :func:`scalematch.match.assign._compiled.run`).

    Image by image, with those scratch slots (the ones written to emptied through the lists of them after each
    image): the anchors at or above ``high`` keep their
    best IoU and its first object (the objects are walked in order, so a later object takes an anchor only with a
    strictly higher IoU); the objects below it get their best IoU and, when it is above 0, their best anchors
    (ties included); with ``low_quality`` each of those anchors that no object holds at the threshold goes to the
    object of the image it overlaps most (the first on ties); with ``forced`` each object claims its lowest-keyed
    best anchor, a later object overriding an earlier claim."""
    n = len(image)
    nlevels = len(nshapes)
    first = room[2]
    # per object: float64 width, height and centre, as the numpy code derives them from the float32 box
    geo = np.empty((4, n))
    for j in range(first, n):
        geo[0, j] = np.float64(box[2, j] - box[0, j])
        geo[1, j] = np.float64(box[3, j] - box[1, j])
        geo[2, j] = (np.float64(box[0, j]) + box[2, j]) / 2
        geo[3, j] = (np.float64(box[1, j]) + box[3, j]) / 2
    wanted = max(room[0], 1)  # slots for the images in the hash table
    size = wanted
    for j in range(first, n):
        if j == first or image[j] != image[j - 1]:
            anchors = ls[nlevels, image[j]]
            if anchors <= dense_limit:
                size = max(size, anchors)
    hkeys = np.full(_doubled(1, 2 * wanted), -1, np.int64)  # anchor key -> slot (a power of two long)
    hslot = np.zeros(len(hkeys), np.int64)
    capacity = min(size, len(hkeys) // 2)  # slots an image in the hash table may use
    slot_i = np.zeros((7, size), np.int64)  # per slot: see KEY ... F_LEVEL
    slot_i[P_OWNER] = -1
    slot_i[F_OWNER] = -1
    lists = np.zeros((3, size), np.int64)  # the slots held at the threshold, owned (low quality), forced
    # per slot: its object at the threshold (-1: none; exact in float32 below 2**24 objects per chunk) and that
    # object's IoU, side by side (one memory access)
    held = np.full((size, 2), -1.0, np.float32)
    slot_f = np.zeros((5, size), np.float32)  # per slot the forcing object's IoU; the boxes of the owned anchors
    rivals = np.empty(n, np.int64)  # the objects that can take an owner's best anchors
    # one object's anchors found by _walk
    out_key = np.empty(max(room[1], 1), np.int64)
    out_level = np.empty(len(out_key), np.int64)
    out_iou = np.empty(len(out_key), np.float32)
    big = 1
    for li in range(nlevels):
        for im in range(ls.shape[1]):
            big = max(big, gi[0, li, im], gi[1, li, im])
    spans = np.empty((2, big), np.int64)
    terms = np.empty((2, big), np.float32)
    # per object: SSD's claim (the lowest key among its best anchors), its level and IoU; whether any anchor
    # qualified for it (strong or best anchor)
    c_key = np.full(n, -1, np.int64)
    c_level = np.zeros(n, np.int64)
    c_iou = np.zeros(n, np.float32)
    candidate = np.zeros(n, np.bool_)
    packed = 0  # images whose objects' windows touched many of their anchors (see DENSITY)
    images = 0
    start = first
    while start < n:
        im = image[start]
        end = start + 1
        while end < n and image[end] == im:
            end += 1
        used = 0
        dense = ls[nlevels, im] <= dense_limit
        for j in range(start, end):  # (again, when the image is redone)
            c_key[j] = -1
            candidate[j] = False
        ns = 0
        for j in range(start, end):  # anchors at or above the threshold
            found = _walk(
                j, high, im, box, geo, gi, ls, gf, sizes, nshapes, ssd, step, s32, s64, level_area, slack, relax,
                spans, terms, out_key, out_level, out_iou,
            )  # fmt: skip
            if found > len(out_key) or (not dense and used + found > capacity):
                _stop(room, wanted, 0 if dense else used + found, len(out_key), found, start)
                return
            top = F32(0.0)
            for q in range(found):
                k, iou = out_key[q], out_iou[q]
                s, used = _slot(k, dense, hkeys, hslot, slot_i, used)
                if held[s, 0] < 0:
                    held[s, 0] = j
                    held[s, 1] = iou
                    lists[0, ns] = s
                    slot_i[S_LEVEL, ns] = out_level[q]
                    ns += 1
                elif iou > held[s, 1]:
                    held[s, 0] = j
                    held[s, 1] = iou
                top = max(top, iou)
            best[j] = top
            if forced:  # the lowest key at the best IoU
                for q in range(found):
                    k = out_key[q]
                    if out_iou[q] == top and (c_key[j] < 0 or k < c_key[j]):
                        c_key[j], c_level[j], c_iou[j] = k, out_level[q], top
            if found:
                candidate[j] = True
        np_ = 0
        for j in range(start, end):  # the objects below the threshold: their best IoU and best anchors
            if best[j] >= high:
                continue
            c_key[j] = -1
            best[j] = _best_iou(j, im, box, geo, gi, gf, sizes, nshapes, ssd, step, s32, s64, relax)
            if not best[j] > 0:
                continue
            found = _walk(
                j, best[j], im, box, geo, gi, ls, gf, sizes, nshapes, ssd, step, s32, s64, level_area, slack, relax,
                spans, terms, out_key, out_level, out_iou,
            )  # fmt: skip
            if found > len(out_key) or (low_quality and not dense and used + found > capacity):
                _stop(room, wanted, 0 if dense or not low_quality else used + found, len(out_key), found, start)
                return
            if found and (low_quality or forced):  # a best anchor below the threshold is its own only then
                candidate[j] = True
            for q in range(found):
                k = out_key[q]
                if c_key[j] < 0 or k < c_key[j]:
                    c_key[j], c_level[j], c_iou[j] = k, out_level[q], out_iou[q]
                if low_quality:
                    s, used = _slot(k, dense, hkeys, hslot, slot_i, used)
                    if held[s, 0] < 0 and slot_i[P_OWNER, s] < 0:
                        slot_i[P_OWNER, s] = j
                        slot_i[P_LEVEL, s] = out_level[q]
                        lists[1, np_] = s
                        np_ += 1
        nf = 0
        if forced:
            if not dense and used + end - start > capacity:
                _stop(room, wanted, used + end - start, len(out_key), 0, start)
                return
            for j in range(start, end):
                k = c_key[j]
                if k < 0:
                    continue
                s, used = _slot(k, dense, hkeys, hslot, slot_i, used)
                if slot_i[F_OWNER, s] < 0:
                    lists[2, nf] = s
                    nf += 1
                slot_i[F_OWNER, s], slot_f[0, s], slot_i[F_LEVEL, s] = j, c_iou[j], c_level[j]
        for q in range(ns):
            s = lists[0, q]
            if slot_i[F_OWNER, s] < 0:
                o = int(held[s, 0])
                positives[o, slot_i[S_LEVEL, q]] += 1
                if held[s, 1] < floor:
                    weak[o] += 1
        # Low-quality matches: each anchor to the object of the image overlapping it most, the first on ties. The
        # anchors of one owner come together in the list; only the objects overlapping the box around them (the
        # competitors) can reach IoU above 0 with one, and the owner's IoU is above 0.
        q = 0
        while q < np_:
            owner = slot_i[P_OWNER, lists[1, q]]
            group = q
            rx1, ry1, rx2, ry2 = np.inf, np.inf, -np.inf, -np.inf
            while group < np_ and slot_i[P_OWNER, lists[1, group]] == owner:
                s = lists[1, group]
                ax1, ay1, ax2, ay2 = _anchor_box(
                    s if dense else slot_i[KEY, s], slot_i[P_LEVEL, s], im, gi, ls, sizes, nshapes, ssd, step, s32
                )
                slot_f[1, group], slot_f[2, group], slot_f[3, group], slot_f[4, group] = ax1, ay1, ax2, ay2
                rx1, ry1, rx2, ry2 = min(rx1, ax1), min(ry1, ay1), max(rx2, ax2), max(ry2, ay2)
                group += 1
            nc = 0
            for i in range(start, end):
                if box[0, i] < rx2 and box[2, i] > rx1 and box[1, i] < ry2 and box[3, i] > ry1:
                    rivals[nc] = i
                    nc += 1
            for r in range(q, group):
                s = lists[1, r]
                if slot_i[F_OWNER, s] >= 0:
                    continue
                ax1, ay1, ax2, ay2 = slot_f[1, r], slot_f[2, r], slot_f[3, r], slot_f[4, r]
                o = owner
                top = F32(-1.0)
                for c in range(nc):
                    i = rivals[c]
                    if box[0, i] >= ax2 or box[2, i] <= ax1 or box[1, i] >= ay2 or box[3, i] <= ay1:
                        continue  # no overlap: IoU 0, below the owner's
                    iou = _iou(box[0, i], box[1, i], box[2, i], box[3, i], ax1, ay1, ax2, ay2)
                    if iou > top:
                        top, o = iou, i
                positives[o, slot_i[P_LEVEL, s]] += 1
                if top < floor:
                    weak[o] += 1
            q = group
        for q in range(nf):
            s = lists[2, q]
            positives[slot_i[F_OWNER, s], slot_i[F_LEVEL, s]] += 1
            if slot_f[0, s] < floor:
                weak[slot_i[F_OWNER, s]] += 1
        for j in range(start, end):
            total = 0
            for li in range(nlevels):
                total += positives[j, li]
            lost[j] = total == 0 and candidate[j]
        for q in range(ns):  # empty the slots and the hash table for the next image
            held[lists[0, q], 0] = -1.0
        for q in range(np_):
            slot_i[P_OWNER, lists[1, q]] = -1
        for q in range(nf):
            slot_i[F_OWNER, lists[2, q]] = -1
        for s in range(used):
            hkeys[slot_i[HPOS, s]] = -1
        packed += (ns + np_ + nf if dense else used) * DENSITY >= ls[nlevels, im]
        images += 1
        start = end
    room[0] = size
    room[1] = len(out_key)
    room[2] = n
    room[3] = 2 * packed >= images > 0
