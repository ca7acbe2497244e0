"""The printed recommendation and the ``recommend --json`` document (formatting only)."""

from __future__ import annotations

import math
from typing import Any

from scalematch.match.design import Design, ranked
from scalematch.match.recommend import Recommendation
from scalematch.match.result import AnchorDetail, FpnDetail, MatchResult, YoloDetail, detail_dict, rule_detail
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


def sentences(rec: Recommendation) -> list[str]:
    """The recommendation in words, with the numbers behind it."""
    chosen, full = rec.chosen, rec.full
    names = rec.recommended_levels
    span = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
    out = []
    if rec.reached:
        out.append(
            f"Use {span} ({len(names)} level{'s' if len(names) > 1 else ''}): under the {rec.rule.value} rule they "
            f"take {_pct(chosen.coverage)} of {chosen.total} objects (target {_pct(rec.target)})."
        )
    else:
        out.append(
            f"No run of levels reaches {_pct(rec.target)} under the {rec.rule.value} rule; the best is {span} with "
            f"{_pct(chosen.coverage)} of {chosen.total} objects ({_pct(chosen.too_small_fraction)} too small, "
            f"{_pct(chosen.too_large_fraction)} too large)."
        )
    dropped = [lv.name for lv in full.levels if lv.name not in names]
    if dropped:
        extra = full.coverage - chosen.coverage
        out.append(
            f"The other levels ({', '.join(dropped)}) would add {100 * extra:.1f} points of coverage."
            if extra > 0
            else f"The other levels ({', '.join(dropped)}) take no object the recommended ones miss."
        )
    if rec.rule.value == "rf" and full.too_large_fraction > 1 - rec.target:
        top = max(full.levels, key=lambda lv: lv.erf_sigma)
        limit = 2 * rec.params.erf_factor * top.erf_sigma
        out.append(
            f"{_pct(full.too_large_fraction)} of objects are longer than any level's effective receptive field "
            f"holds (+-{rec.params.erf_factor:g} sigma; at most {limit:.0f} px, at {top.name}): a level with more "
            "context (a strided convolution on top rather than a max-pool), a smaller input or a larger --erf-factor "
            "changes that."
        )
    detail = rule_detail(full, rec.params)
    if isinstance(detail, AnchorDetail):
        q = detail.best_iou
        out.append(
            f"Best anchor IoU: median {q.q50:.2f}, 5% quantile {q.q05:.2f}; "
            f"{_pct(detail.share_iou_positive)} of objects reach IoU {rec.params.iou_positive:g} "
            "with a default anchor."
        )
    if isinstance(detail, YoloDetail):
        limit = rec.params.yolo_threshold
        out.append(f"Best possible recall with the default anchors (ratio < {limit:g}): {detail.bpr:.3f}.")
    if isinstance(detail, FpnDetail):
        out.append(
            "With the toolkits' clamping the levels would take "
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
        out.append(line + ".")
    ranges = ", ".join(f"({lo:g}, {'inf' if math.isinf(hi) else f'{hi:g}'}]" for lo, hi in rec.ranges)
    out.append(f"FCOS-style ranges on max(w, h)/2: {ranges}.")
    ia = rec.input_advice
    if ia.factor == 1.0:
        out.append(
            f"Input size is enough: {_pct(ia.share_now)} of objects are at least {ia.min_size:g} px "
            f"(min cells x the finest stride)."
        )
    elif ia.factor is not None:
        cost = f", {ia.factor**2:.2f}x the input pixels" + (
            f" ({ia.pixels_now / 1e6:.2f} -> {ia.pixels_after / 1e6:.2f} MP per image)"
            if ia.pixels_now and ia.pixels_after
            else ""
        )
        out.append(
            f"Scale the input by {ia.factor:g} to put {_pct(ia.share_after or 0)} of objects at >= {ia.min_size:g} px "
            f"(now {_pct(ia.share_now)}){cost}."
        )
    else:
        out.append(f"No input scale up to 4x puts {_pct(rec.target)} of objects at >= {ia.min_size:g} px.")
    return out


def recommend_json(rec: Recommendation, context: dict[str, Any]) -> dict[str, Any]:
    """The documented ``recommend --json`` document; ``context`` gives backbone, neck, resize, excluded."""

    def finite(x: float) -> float | None:
        return None if math.isinf(x) else x

    full = rec.full
    a = rec.anchors
    return {
        "rule": rec.rule.value,
        "backbone": context.get("backbone"),
        "neck": context.get("neck"),
        "resize": context.get("resize"),
        "levels": [
            {
                "name": load.level.name,
                "stride": load.level.stride,
                "rf": round(load.level.rf, 3),
                "erf_sigma": round(load.level.erf_sigma, 4),
                "count": load.count,
                "fraction": round(load.fraction, 6),
                "size_min": load.size_min,
                "size_max": load.size_max,
            }
            for load in full.loads
        ],
        "objects": full.total,
        "too_small": full.too_small,
        "too_large": full.too_large,
        "too_small_fraction": round(full.too_small_fraction, 6),
        "too_large_fraction": round(full.too_large_fraction, 6),
        "coverage": round(full.coverage, 6),
        "coverage_target": rec.target,
        "target_reached": rec.reached,
        "recommended_levels": list(rec.recommended_levels),
        "recommended_coverage": round(rec.chosen.coverage, 6),
        "anchors": {
            "per_level": a.per_level,
            "fitted": {
                lv: [[round(w, 2), round(h, 2)] for w, h in shapes]
                for lv, shapes in zip(rec.recommended_levels, a.fitted.shapes, strict=True)
            },
            "fitted_mean_iou": round(a.fitted_mean_iou, 6),
            "fitted_bpr": round(a.fitted_bpr, 6),
            "default_mean_iou": None if a.default_mean_iou is None else round(a.default_mean_iou, 6),
            "default_bpr": None if a.default_bpr is None else round(a.default_bpr, 6),
        }
        if a
        else None,
        "ranges": {lv: [lo, finite(hi)] for lv, (lo, hi) in zip(rec.recommended_levels, rec.ranges, strict=True)},
        "input_advice": {
            "min_size": rec.input_advice.min_size,
            "share_now": round(rec.input_advice.share_now, 6),
            "factor": rec.input_advice.factor,
            "share_after": None if rec.input_advice.share_after is None else round(rec.input_advice.share_after, 6),
            "pixels_now": rec.input_advice.pixels_now,
            "pixels_after": rec.input_advice.pixels_after,
        },
        "rule_detail": detail_dict(rule_detail(full, rec.params)),
        "per_category": [
            {"category": str(name), "counts": {str(k): int(v) for k, v in row.items()}}
            for name, row in full.per_category.iterrows()
        ]
        if full.per_category is not None
        else [],
        "excluded": context.get("excluded", {}),
    }


def sweep_row(d: Design) -> dict[str, Any]:
    """One design of a sweep as the JSON ``sweep`` list shows it."""
    r = d.recommendation
    return {
        "backbone": d.backbone,
        "resize": d.resize,
        "coverage": round(r.chosen.coverage, 6),
        "target_reached": r.reached,
        "levels": list(r.recommended_levels),
        "anchors": d.anchor_count,
        "input_pixels": r.input_advice.pixels_now,
    }


def design_context(d: Design) -> dict[str, Any]:
    """The ``context`` of :func:`recommend_json` for a design."""
    return {"backbone": d.backbone, "neck": d.neck, "resize": d.resize, "excluded": d.excluded}


def recommend_document(best: Design, designs: list[Design]) -> dict[str, Any]:
    """The whole ``recommend --json`` document: the best design, plus the ranked ``sweep`` when there are
    several designs."""
    doc = recommend_json(best.recommendation, design_context(best))
    if len(designs) > 1:
        doc["sweep"] = [sweep_row(d) for d in ranked(designs)]
    return doc


def sweep_table(designs: list[Design]) -> str:
    """The ranked sweep printed by ``recommend`` when several backbones or resize policies are given."""
    rows = [("rank", "backbone", "resize", "coverage", "levels", "anchors", "input MP")]
    for k, d in enumerate(designs, start=1):
        row = sweep_row(d)
        mp = f"{row['input_pixels'] / 1e6:.2f}" if row["input_pixels"] else "-"
        rows.append((str(k), row["backbone"], row["resize"], f"{100 * row['coverage']:.1f}%",
                     ",".join(row["levels"]), str(row["anchors"]), mp))  # fmt: skip
    return aligned(rows, left=len(rows[0]))
