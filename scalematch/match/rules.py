"""Assignment rules: (box sizes in input pixels, levels) -> the level of every object, or too small/too large.

Every rule is a pure function of numpy arrays ``w``, ``h`` (input pixels) and the levels (fine to coarse).
The result holds, per object, a level index (0 = finest) or :data:`TOO_SMALL` / :data:`TOO_LARGE`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.choices import Rule as Rule
from scalematch.errors import OptionError
from scalematch.match.anchors import AnchorSet, best_anchor, retinanet_anchors, yolo_default_anchors
from scalematch.match.levels import Level

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

TOO_SMALL = -1
TOO_LARGE = -2


@dataclass(frozen=True)
class RuleParams:
    """Parameters of the rules; the defaults are the toolkits' (see docs/reference/recommend.md, "Size rules")."""

    min_cells: float = 2.0
    erf_factor: float = 3.0
    fpn_canonical_size: float = 224.0
    fpn_canonical_level: int = 4
    fcos_ranges: tuple[tuple[float, float], ...] | None = None
    iou_positive: float = 0.5
    yolo_threshold: float = 4.0
    anchors: AnchorSet | None = None


@dataclass(frozen=True)
class Assignment:
    """Per object: ``level`` (index, or TOO_SMALL / TOO_LARGE) and rule-specific ``detail`` arrays."""

    level: IntArray
    detail: dict[str, Array] = field(default_factory=dict)


def _split(level_of_best: IntArray, matched: npt.NDArray[np.bool_], box_size: Array, anchor_size: Array) -> IntArray:
    """Unmatched objects become too small (smaller than their best anchor) or too large."""
    import numpy as np

    out = np.where(matched, level_of_best, np.where(box_size < anchor_size, TOO_SMALL, TOO_LARGE))
    return np.asarray(out, dtype=np.int64)


def assign_rf(w: Array, h: Array, levels: tuple[Level, ...], p: RuleParams) -> Assignment:
    """scalematch's receptive-field rule.

    An object fits a level when its size sqrt(w*h) spans at least ``min_cells`` strides and its longer side lies
    inside the level's effective receptive field (at most 2 * ``erf_factor`` * sigma). Among fitting levels the
    one whose preferred size 4 * stride (S3FD's anchor rule) is nearest in log scale wins. None resolves it:
    too small; some resolve it but none holds it in its ERF: too large.
    """
    import numpy as np

    size = np.sqrt(w * h)
    side = np.maximum(w, h)
    strides = np.array([lv.stride for lv in levels])
    sigma = np.array([lv.erf_sigma for lv in levels])
    resolves = size[:, None] >= p.min_cells * strides[None, :]
    inside = side[:, None] <= 2 * p.erf_factor * sigma[None, :]
    fits = resolves & inside
    distance = np.abs(np.log(size[:, None] / (4 * strides[None, :])))
    best = np.argmin(np.where(fits, distance, np.inf), axis=1)
    level = np.where(fits.any(axis=1), best, np.where(resolves.any(axis=1), TOO_LARGE, TOO_SMALL))
    return Assignment(np.asarray(level, dtype=np.int64))


def _power_of_two_levels(levels: tuple[Level, ...], rule: str) -> list[int]:
    exps = [round(math.log2(lv.stride)) for lv in levels]
    if any(abs(lv.stride - 2**e) > 1e-9 for lv, e in zip(levels, exps, strict=True)) or exps != list(
        range(exps[0], exps[0] + len(exps))
    ):
        shown = ", ".join(f"{lv.name} ({lv.stride:g})" for lv in levels)
        raise OptionError(f"rule={rule}: expected levels with strides 2^k, k consecutive; got {shown}")
    return exps


def assign_fpn(w: Array, h: Array, levels: tuple[Level, ...], p: RuleParams) -> Assignment:
    """The FPN RoI rule (detectron2, torchvision): k = floor(k0 + log2(sqrt(w*h) / 224) + 1e-6), k0 = 4.

    The small epsilon is added after the log as torchvision does (detectron2 adds 1e-8 to the ratio), which
    keeps the rule exactly scale-equivariant. The level with stride 2^k takes the object; k beyond the
    available levels is too small / too large (the toolkits clamp instead: ``detail["clamped"]``).
    """
    import numpy as np

    exps = _power_of_two_levels(levels, "fpn")
    k = np.floor(p.fpn_canonical_level + np.log2(np.sqrt(w * h) / p.fpn_canonical_size) + 1e-6).astype(np.int64)
    index = k - exps[0]
    level = np.where(index < 0, TOO_SMALL, np.where(index >= len(levels), TOO_LARGE, index))
    clamped = np.clip(index, 0, len(levels) - 1).astype(np.float64)
    return Assignment(np.asarray(level, dtype=np.int64), {"clamped": clamped})


def fcos_ranges(levels: tuple[Level, ...], p: RuleParams) -> tuple[tuple[float, float], ...]:
    """Regress ranges per level: given, or (4s, 8s] with the first from 0 and the last to infinity."""
    if p.fcos_ranges is not None:
        if len(p.fcos_ranges) != len(levels):
            raise OptionError(f"fcos_ranges: expected {len(levels)} ranges (one per level), got {len(p.fcos_ranges)}")
        return p.fcos_ranges
    ranges = [(4 * lv.stride, 8 * lv.stride) for lv in levels]
    ranges[0] = (0.0, ranges[0][1])
    ranges[-1] = (ranges[-1][0], math.inf)
    return tuple(ranges)


def assign_fcos(w: Array, h: Array, levels: tuple[Level, ...], p: RuleParams) -> Assignment:
    """FCOS: the regression target at the box centre, max(w, h) / 2, falls in a level's range (lo, hi]."""
    import numpy as np

    ranges = fcos_ranges(levels, p)
    target = np.maximum(w, h) / 2
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    inside = (target[:, None] > lo[None, :]) & (target[:, None] <= hi[None, :])
    first = np.argmax(inside, axis=1)
    level = np.where(inside.any(axis=1), first, np.where(target <= lo[0], TOO_SMALL, TOO_LARGE))
    return Assignment(np.asarray(level, dtype=np.int64), {"target": target})


def _anchor_arrays(levels: tuple[Level, ...], anchors: AnchorSet) -> tuple[Array, Array, IntArray]:
    import numpy as np

    if len(anchors.shapes) != len(levels):
        raise OptionError(
            f"anchors: expected anchor shapes for {counted(len(levels), 'level')}, got {len(anchors.shapes)}"
        )
    ws, hs, idx = anchors.flat()
    return np.array(ws, dtype=np.float64), np.array(hs, dtype=np.float64), np.array(idx, dtype=np.int64)


def default_anchors(rule: Rule, levels: tuple[Level, ...]) -> AnchorSet:
    """The toolkit default anchors for a rule: RetinaNet's for ``anchors``, YOLOv5's for ``yolo``."""
    strides = [lv.stride for lv in levels]
    if rule is Rule.YOLO:
        found = yolo_default_anchors(strides)
        if found is None:
            lacking = [lv for lv in levels if yolo_default_anchors([lv.stride]) is None]
            names = ", ".join(f"{lv.name} ({lv.stride:g})" for lv in lacking)
            which = f"levels {names} have" if len(lacking) > 1 else f"level {names} has"
            raise OptionError(
                f"rule=yolo: YOLOv5 default anchors exist for strides 8, 16, 32 only; {which} none "
                "(pick levels= with those strides, e.g. neck=pan or levels=P3,P4,P5)"
            )
        return found
    return retinanet_anchors(strides)


def assign_anchors(w: Array, h: Array, levels: tuple[Level, ...], p: RuleParams) -> Assignment:
    """Anchor IoU: the level of the anchor with the best shape IoU (anchor and box share a centre, the best
    case of the grid); positive when IoU >= ``iou_positive`` (0.5). ``detail["best_iou"]`` per object."""
    import numpy as np

    aw, ah, idx = _anchor_arrays(levels, p.anchors or default_anchors(Rule.ANCHORS, levels))
    best, best_iou = best_anchor("iou", w, h, aw, ah)
    level = _split(idx[best], best_iou >= p.iou_positive, np.sqrt(w * h), np.sqrt(aw * ah)[best])
    return Assignment(level, {"best_iou": best_iou})


def assign_yolo(w: Array, h: Array, levels: tuple[Level, ...], p: RuleParams) -> Assignment:
    """YOLOv5: an anchor matches when max(w/a_w, a_w/w, h/a_h, a_h/h) < 4.0; the object goes to the level of
    its best (smallest-ratio) anchor. ``detail["best_ratio"]``; BPR is the share with a match."""
    import numpy as np

    aw, ah, idx = _anchor_arrays(levels, p.anchors or default_anchors(Rule.YOLO, levels))
    best, best_ratio = best_anchor("ratio", w, h, aw, ah)
    level = _split(idx[best], best_ratio < p.yolo_threshold, np.sqrt(w * h), np.sqrt(aw * ah)[best])
    return Assignment(level, {"best_ratio": best_ratio})


RULES: dict[Rule, Callable[[Array, Array, tuple[Level, ...], RuleParams], Assignment]] = {
    Rule.RF: assign_rf,
    Rule.FPN: assign_fpn,
    Rule.FCOS: assign_fcos,
    Rule.ANCHORS: assign_anchors,
    Rule.YOLO: assign_yolo,
}


def assign(rule: Rule, w: Array, h: Array, levels: tuple[Level, ...], params: RuleParams | None = None) -> Assignment:
    """Apply ``rule`` to boxes ``w`` x ``h`` (input pixels) over ``levels`` (fine to coarse)."""
    return RULES[rule](w, h, levels, params or RuleParams())


def assign_both(
    rule: Rule, w: Array, h: Array, levels: tuple[Level, ...], params: RuleParams | None = None,
    largest: tuple[Array, Array] | None = None,
) -> Assignment:  # fmt: skip
    """:func:`assign` for a policy with two ends: ``w`` x ``h`` at its smallest scale, ``largest`` the same boxes
    at its largest (None: one scale, :func:`assign` as it is). An object is placed only when the rule places it at
    both ends, at its level at the smallest scale; else it is too small when it is too small at the smallest scale,
    too large when it is too large at the largest, and otherwise by what fails at the other end (a rule that is not
    monotone in size, as the anchor rules with their aspect ratios, can fail at one end in the other direction).
    ``detail`` holds the worse end per object for the anchor rules (the lower ``best_iou``, the higher
    ``best_ratio``) and the smallest scale's for the others; ``detail["level_largest"]`` the level at the largest."""
    import numpy as np

    low = assign(rule, w, h, levels, params)
    if largest is None:
        return low
    high = assign(rule, largest[0], largest[1], levels, params)
    a, b = low.level, high.level
    failed = np.where(b == TOO_LARGE, TOO_LARGE, np.where(a == TOO_LARGE, TOO_LARGE, TOO_SMALL))
    level = np.where(a == TOO_SMALL, TOO_SMALL, np.where((a >= 0) & (b >= 0), a, failed))
    detail = dict(low.detail)
    if "best_iou" in detail:
        detail["best_iou"] = np.minimum(low.detail["best_iou"], high.detail["best_iou"])
    if "best_ratio" in detail:
        detail["best_ratio"] = np.maximum(low.detail["best_ratio"], high.detail["best_ratio"])
    detail["level_largest"] = b.astype(np.float64)
    return Assignment(np.asarray(level, dtype=np.int64), detail)
