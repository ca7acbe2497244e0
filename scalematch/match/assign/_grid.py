"""Anchor boxes on a level's grid, evaluated only where they can matter.

A level's anchor at row ``iy``, column ``ix`` and shape ``a`` spans ``X1(ix, a)..X2(ix, a)`` by
``Y1(iy, a)..Y2(iy, a)``: the box is separable, so the anchors near an object are found from index ranges
along each axis instead of scanning the whole grid. Coordinates are computed in float32 in the order the toolkit
computes them, so IoU values (and their ties) are bit-identical to the toolkit's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalematch.presets.preset import MMDetAnchors, SSDBoxes, TorchvisionAnchors, cell_anchors

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from scalematch.match.geometry import Grid, Images

    F32 = npt.NDArray[np.float32]
    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]
    Num = npt.NDArray[np.number[Any]]


@dataclass(frozen=True)
class AnchorLevel:
    """The anchors of one level: per shape ``a`` the float32 extents relative to the cell (torchvision) or the
    unit box sizes (SSD); per image the grid and its step."""

    grid: Grid
    kind: str  # "torchvision" or "ssd"
    lo_w: F32  # torchvision: rounded base box x1 per shape; ssd: clipped unit width per shape
    hi_w: F32
    lo_h: F32
    hi_h: F32
    input_w: I64
    input_h: I64
    step: float = 0.0  # ssd: the level's step in pixels

    @property
    def shapes(self) -> int:
        return len(self.lo_w)

    def nominal(self) -> tuple[F64, F64, F64, F64]:
        """Per shape: approximate width and height and centre offset from the cell's origin (float64), for
        locating candidate cells; exact values come from :meth:`xs` and :meth:`ys`."""
        import numpy as np

        lw, hw = self.lo_w.astype(np.float64), self.hi_w.astype(np.float64)
        lh, hh = self.lo_h.astype(np.float64), self.hi_h.astype(np.float64)
        if self.kind == "torchvision":
            return hw - lw, hh - lh, (lw + hw) / 2, (lh + hh) / 2
        # SSD takes a fixed input size (one for every image): its unit boxes times that width and height
        width, height = float(self.input_w[0]), float(self.input_h[0])
        return hw * width, hh * height, np.full(self.shapes, self.step / 2), np.full(self.shapes, self.step / 2)

    def xs(self, image: I64, ix: I64, a: I64 | int) -> tuple[F32, F32]:
        return self.at(ix, a, self.factor(image, "x"), "x")

    def ys(self, image: I64, iy: I64, a: I64 | int) -> tuple[F32, F32]:
        return self.at(iy, a, self.factor(image, "y"), "y")

    def factor(self, image: I64, axis: str) -> Num:
        """Per entry of ``image``: what the anchors' coordinates along ``axis`` ("x" or "y") depend on there, the
        integer stride (torchvision) or the input size in pixels as a float (SSD); see :meth:`at`."""
        import numpy as np

        if self.kind == "torchvision":
            stride = self.grid.stride_w if axis == "x" else self.grid.stride_h
            return np.take(stride, image).astype(np.int64)
        return np.take(self.input_w if axis == "x" else self.input_h, image).astype(np.float64)

    def at(self, i: I64, a: I64 | int, factor: Num, axis: str) -> tuple[F32, F32]:
        """The extents along ``axis`` of the anchors of shape ``a`` at cell index ``i``, where :meth:`factor` is
        ``factor`` (aligned with ``i``)."""
        import numpy as np

        f32 = np.float32
        lo, hi = (self.lo_w, self.hi_w) if axis == "x" else (self.lo_h, self.hi_h)
        if self.kind == "torchvision":
            shift = (i * factor).astype(f32)
            return shift + lo[a], shift + hi[a]
        # DefaultBoxGenerator: centre (i + 0.5) / (size / step), box (centre -+ 0.5 * clipped size) * size.
        n = factor
        centre = (i.astype(f32) + f32(0.5)) / (n / self.step).astype(f32)
        half = f32(0.5) * hi[a]
        s = n.astype(f32)
        return (centre - half) * s, (centre + half) * s

    def cell(self, image: I64, centre: F64, offset: F64, axis: str) -> F64:
        """The fractional cell index whose anchor centre is at ``centre`` (approximate)."""
        stride = self.grid.stride_w if axis == "x" else self.grid.stride_h
        return (centre - offset) / stride[image]


def anchor_levels(
    gen: TorchvisionAnchors | SSDBoxes | MMDetAnchors, grids: tuple[Grid, ...], imgs: Images
) -> list[AnchorLevel]:
    """The anchor levels of a torchvision AnchorGenerator or DefaultBoxGenerator, or an mmdetection
    AnchorGenerator, on ``grids``."""
    import numpy as np

    f32 = np.float32
    out = []
    for k, grid in enumerate(grids):
        if isinstance(gen, MMDetAnchors):
            # gen_single_level_base_anchors: w = stride * w_ratio * scale (float32), box centre 0 -+ 0.5 * w.
            ratios = np.asarray(gen.ratios, dtype=f32)
            octave = [2 ** (i / gen.scales_per_octave) for i in range(gen.scales_per_octave)]
            scales = (np.asarray(octave) * gen.octave_base_scale).astype(f32)
            h_ratio = np.sqrt(ratios)
            w_ratio = f32(1) / h_ratio
            base = f32(gen.strides[k])
            ws = (base * w_ratio[:, None] * scales[None, :]).reshape(-1)
            hs = (base * h_ratio[:, None] * scales[None, :]).reshape(-1)
            half = f32(0.5)
            lo_w, hi_w, lo_h, hi_h = f32(0) - half * ws, f32(0) + half * ws, f32(0) - half * hs, f32(0) + half * hs
            out.append(AnchorLevel(grid, "torchvision", lo_w, hi_w, lo_h, hi_h, imgs.input_w, imgs.input_h))
            continue
        if isinstance(gen, TorchvisionAnchors):
            lo_w, hi_w, lo_h, hi_h = cell_anchors(gen.sizes[k], gen.aspect_ratios)
            out.append(AnchorLevel(grid, "torchvision", lo_w, hi_w, lo_h, hi_h, imgs.input_w, imgs.input_h))
            continue
        # DefaultBoxGenerator._generate_wh_pairs: (s_k, s_k), (s'_k, s'_k), then (w, h), (h, w) per ratio.
        s_k, s_next = gen.scales[k], gen.scales[k + 1]
        pairs = [(s_k, s_k), (math.sqrt(s_k * s_next),) * 2]
        for ar in gen.aspect_ratios[k]:
            w, h = s_k * math.sqrt(ar), s_k / math.sqrt(ar)
            pairs += [(w, h), (h, w)]
        wh = np.asarray(pairs, dtype=f32)
        if gen.clip:
            wh = np.clip(wh, f32(0), f32(1))
        zero = np.zeros(len(wh), f32)
        out.append(
            AnchorLevel(grid, "ssd", zero, wh[:, 0], zero, wh[:, 1], imgs.input_w, imgs.input_h, float(gen.steps[k]))
        )
    return out


def box_iou(gx1: F32, gy1: F32, gx2: F32, gy2: F32, ax1: F32, ay1: F32, ax2: F32, ay2: F32) -> F32:
    """torchvision.ops.box_iou for aligned pairs (object first), in float32 and in its order of operations."""
    import numpy as np

    f32 = np.float32
    area_g = (gx2 - gx1) * (gy2 - gy1)
    area_a = (ax2 - ax1) * (ay2 - ay1)
    wx = np.maximum(np.minimum(gx2, ax2) - np.maximum(gx1, ax1), f32(0))
    wy = np.maximum(np.minimum(gy2, ay2) - np.maximum(gy1, ay1), f32(0))
    inter = wx * wy
    union = area_g + area_a - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(inter / union, dtype=f32)


def expand(lo: I64, hi: I64) -> tuple[I64, I64]:
    """For ranges ``lo[r]..hi[r]`` (inclusive; empty when hi < lo): the owner ``r`` and value of every member."""
    import numpy as np

    count = np.maximum(hi - lo + 1, 0)
    ends = np.cumsum(count)
    total = int(ends[-1]) if len(ends) else 0
    if total <= 3 * len(lo):  # short ranges: the owner steps up where a range starts (empty ones included), a
        # running count of the starts is faster than np.repeat with counts
        owner = np.cumsum(np.bincount(ends[:-1], minlength=total + 1)[:total])
    else:
        owner = np.repeat(np.arange(len(lo), dtype=np.int64), count)
    value = np.arange(total, dtype=np.int64)
    value += np.take(lo - (ends - count), owner)
    return owner, value


def per_level(obj: I64, level: I64, n: int, levels: int) -> I64:
    """An (n, levels) table counting the entries of each (object, level)."""
    import numpy as np

    counts = np.bincount(obj * levels + level, minlength=n * levels)
    return np.asarray(counts.reshape(n, levels), dtype=np.int64)
