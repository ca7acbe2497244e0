"""The printed recommendation and the ``recommend --json`` document (formatting only)."""

from __future__ import annotations

import itertools
import math

from scalematch._text import counted
from scalematch.dataset.resize import policy_text
from scalematch.match.design import Design
from scalematch.match.documents import design_context as design_context
from scalematch.match.documents import recommend_document as recommend_document
from scalematch.match.documents import recommend_json as recommend_json
from scalematch.match.documents import sweep_row as sweep_row
from scalematch.match.recommend import Recommendation
from scalematch.match.result import AnchorDetail, FpnDetail, MatchResult, YoloDetail, rule_detail
from scalematch.match.rules import Rule
from scalematch.report.style import printed_lines
from scalematch.report.table import aligned


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _size(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def level_table(result: MatchResult) -> str:
    """Per-level load: stride, RF, ERF sigma, count, share and the size_in range of its objects."""
    rows = [("level", "stride", "rf", "erf_sigma", "objects", "share", "size_in")]
    for load in result.loads:
        lv = load.level
        rows.append(
            (lv.name, f"{lv.stride:g}", f"{lv.rf:.0f}", f"{lv.erf_sigma:.1f}", str(load.count), _pct(load.fraction),
             f"{_size(load.size_min)}-{_size(load.size_max)}" if load.count else "-")
        )  # fmt: skip
    rows.append(("too small", "", "", "", str(result.too_small), _pct(result.too_small_fraction), ""))
    rows.append(("too large", "", "", "", str(result.too_large), _pct(result.too_large_fraction), ""))
    return aligned(rows)


def level_span(rec: Recommendation) -> str:
    """The recommended levels in a few words: ``P3-P7`` for consecutive pyramid levels (each stride twice the one
    before), else listed (``P3, P7`` from ``--levels P7,P3``: ``P3-P7`` would say P4, P5 and P6 too)."""
    names = rec.recommended_levels
    strides = [lv.stride for lv in rec.chosen.levels]
    if len(names) == 1:
        return names[0]
    if len(strides) == len(names) and all(b == 2 * a for a, b in itertools.pairwise(strides)):
        return f"{names[0]}-{names[-1]}"
    return ", ".join(names)


def regrouped_text(rec: Recommendation) -> str:
    """How the recommended levels, alone, share the objects, for a run that takes other objects than the levels
    table gives it (:attr:`~scalematch.match.recommend.Recommendation.regrouped`)."""
    placed = ", ".join(f"{load.level.name} {load.count}" for load in rec.chosen.loads)
    span = level_span(rec)
    return (
        f"With {span} alone the {rec.rule.value} rule places {placed} objects; the table places each among all "
        "candidate levels"
    )


@printed_lines
def sentences(rec: Recommendation) -> list[str]:
    """The recommendation in words, with the numbers behind it."""
    chosen, full = rec.chosen, rec.full
    names = rec.recommended_levels
    span = level_span(rec)
    out = []
    objects = counted(chosen.total, "object")
    if rec.reached:
        out.append(
            f"Use {span} ({counted(len(names), 'level')}): under the {rec.rule.value} rule "
            f"{'it takes' if len(names) == 1 else 'they take'} {_pct(chosen.coverage)} of {objects} "
            f"(target {_pct(rec.target)})."
        )
    else:
        out.append(
            f"No run of levels reaches {_pct(rec.target)} under the {rec.rule.value} rule; the best is {span} with "
            f"{_pct(chosen.coverage)} of {objects} ({_pct(chosen.too_small_fraction)} too small, "
            f"{_pct(chosen.too_large_fraction)} too large)."
        )
    if rec.both_ends:
        out.append(BOTH_ENDS + ".")
    if rec.regrouped:
        out.append(regrouped_text(rec) + ".")
    dropped = [lv.name for lv in full.levels if lv.name not in names]
    if dropped:
        extra = full.coverage - chosen.coverage
        others = f"The other level{'s' if len(dropped) > 1 else ''} ({', '.join(dropped)})"
        takes = "take" if len(dropped) > 1 else "takes"
        out.append(
            f"{others} would add {100 * extra:.1f} points of coverage."
            if extra > 0
            else f"{others} {takes} no object the recommended ones miss."
        )
    if rec.rule.value == "rf" and full.too_large_fraction > 1 - rec.target:
        top = max(full.levels, key=lambda lv: lv.erf_sigma)
        limit = 2 * rec.params.erf_factor * top.erf_sigma
        out.append(
            f"{_pct(full.too_large_fraction)} of objects are longer{' at the largest scale' if rec.both_ends else ''} "
            f"than any level's effective receptive field holds (+-{rec.params.erf_factor:g} sigma; at most "
            f"{limit:.0f} px, at {top.name}): a level with more context (a strided convolution on top rather than a "
            "max-pool), a smaller input or a larger --erf-factor changes that."
        )
    detail = rule_detail(full, rec.params)
    if isinstance(detail, AnchorDetail):
        q = detail.best_iou
        out.append(
            f"Best anchor IoU: median {q.q50:.2f}, 5% quantile {q.q05:.2f}; "
            f"{_pct(detail.share_iou_positive)} of objects reach IoU {rec.params.iou_positive:g} "
            f"with a default anchor{BOTH if rec.both_ends else ''}."
        )
    if isinstance(detail, YoloDetail):
        limit = rec.params.yolo_threshold
        which = ", objects with a match at both ends" if rec.both_ends else ""
        out.append(f"Best possible recall with the default anchors (ratio < {limit:g}){which}: {detail.bpr:.3f}.")
    if isinstance(detail, FpnDetail):
        out.append(
            f"With the toolkits' clamping the levels would take{SMALLEST if rec.both_ends else ''} "
            + ", ".join(f"{k} {v}" for k, v in detail.clamped_counts.items())
            + "."
        )
    a = rec.anchors
    if a:
        line = (
            f"Fitted anchors ({a.per_level} per level): mean best IoU {a.fitted_mean_iou:.3f}, BPR {a.fitted_bpr:.3f}"
        )
        if a.default is not None and a.default_mean_iou is not None and a.default_bpr is not None:
            line += f" (toolkit defaults: {a.default_mean_iou:.3f}, BPR {a.default_bpr:.3f})"
        shapes = [s for level in a.fitted.shapes for s in level]
        if len(set(shapes)) < len(shapes):
            distinct = counted(len(set(shapes)), "distinct shape")
            line += f"; the boxes have {distinct}, repeated so that every level holds {a.per_level}"
        if rec.both_ends:
            line += f"; fitted to the boxes{BOTH}, IoU and BPR over them pooled ({POOLED})"
        if a.kept_default:
            that = "that " if rec.both_ends else ""
            line += (
                f"; the defaults are kept (and exported): the fitted anchors do not raise {that}BPR, and yolov5's "
                "AutoAnchor replaces anchors only by a higher BPR"
            )
        out.append(line + ".")
    ranges = ", ".join(f"({lo:g}, {'inf' if math.isinf(hi) else f'{hi:g}'}]" for lo, hi in rec.ranges)
    out.append(f"FCOS-style ranges on max(w, h)/2{SMALLEST if rec.both_ends else ''}: {ranges}.")
    ia = rec.input_advice
    at = SMALLEST if rec.both_ends else ""
    if ia.factor == 1.0:
        out.append(
            f"Input size is enough: {_pct(ia.share_now)} of objects are at least {ia.min_size:g} px{at} "
            f"({input_floor(rec)})."
        )
    elif ia.factor is not None:
        cost = f", {ia.factor**2:.2f}x the input pixels" + (
            f" ({ia.pixels_now / 1e6:.2f} -> {ia.pixels_after / 1e6:.2f} MP per image)"
            if ia.pixels_now and ia.pixels_after
            else ""
        )
        out.append(
            f"Scale the input by {ia.factor:g} to put {_pct(ia.share_after or 0)} of objects at >= {ia.min_size:g} px"
            f"{at} (now {_pct(ia.share_now)}){cost}."
        )
    else:
        out.append(f"No input scale up to 4x puts {_pct(rec.target)} of objects at >= {ia.min_size:g} px{at}.")
    return out


SMALLEST = " at the smallest scale"
POOLED = "each object once at each end, per box as yolov5's check_anchors counts"
"""How the anchors' IoU and BPR count the boxes of a multi-scale policy's two ends."""
BOTH = " at both ends"
BOTH_ENDS = (
    "Multi-scale resize, both ends judged: an object counts as covered only when the rule places it at the "
    "smallest and at the largest scale; too small is judged at the smallest, too large at the largest; the levels "
    "table places covered objects at their level at the smallest scale"
)
"""What rule mode does with a multi-scale policy (:func:`~scalematch.match.recommend.recommend`), as the text and
the report say it."""


def input_pixels(pixels: float | None, largest: float | None) -> str:
    """The median input in megapixels, ``0.31-0.85`` for both ends of a multi-scale policy, ``-`` when unknown."""
    if not pixels:
        return "-"
    return f"{pixels / 1e6:.2f}" + (f"-{largest / 1e6:.2f}" if largest else "")


def input_floor(rec: Recommendation) -> str:
    """What the input-size advice's minimum size is under ``rec``'s rule: sqrt(w*h) of ``min_cells`` finest
    strides (:func:`~scalematch.match.recommend.advise_input`). Under ``rf`` that is the rule's own smallest
    resolved size, ``min_cells`` being its parameter; the other rules take no such parameter (``min_cells`` is
    refused for them) and test no such size, so the advice keeps the default as scalematch's floor."""
    if rec.rule is Rule.RF:
        return "min cells x the finest stride"
    return (
        f"{rec.params.min_cells:g} x the finest stride: scalematch's floor for the input size, not a test of the "
        f"{rec.rule.value} rule"
    )


def sweep_table(designs: list[Design]) -> str:
    """The ranked sweep printed by ``recommend`` when several backbones or resize policies are given."""
    rows = [("rank", "backbone", "resize", "coverage", "levels", "anchors", "input MP")]
    for k, d in enumerate(designs, start=1):
        row = sweep_row(d)
        mp = input_pixels(row["input_pixels"], row["input_pixels_largest"])
        rows.append((str(k), row["backbone"], policy_text(row["resize"]), f"{100 * row['coverage']:.1f}%",
                     ",".join(row["levels"]), str(row["anchors"]), mp))  # fmt: skip
    return aligned(rows, left=len(rows[0]))
