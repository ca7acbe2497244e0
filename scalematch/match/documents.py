"""The JSON documents of ``recommend --json`` (rule and detector modes): plain data built from the results.

The results' ``to_dict()`` and the CLI's ``--json`` both come from here, so they are the same document.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from scalematch.match.design import Design, ranked
from scalematch.match.positives import PositivesSummary
from scalematch.match.recommend import Recommendation
from scalematch.match.result import detail_dict, rule_detail
from scalematch.match.search import Search, Sweep, Trial, input_size_words

if TYPE_CHECKING:
    from scalematch.presets.preset import Preset


SCALE_ENDS = {
    "covered": "both",
    "too_small": "smallest",
    "too_large": "largest",
    "levels": "smallest",
    "ranges": "smallest",
    "input_advice": "smallest",
    "anchors": "both",
}
"""The ``scale_ends`` of a multi-scale policy: at which end of it each part of the recommendation is judged."""


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
        "recommended_counts": {load.level.name: load.count for load in rec.chosen.loads},
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
            "kept_default": a.kept_default,
            "recommended": {
                lv: [[round(w, 2), round(h, 2)] for w, h in shapes]
                for lv, shapes in zip(rec.recommended_levels, a.recommended.shapes, strict=True)
            },
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
            "pixels_largest": rec.input_advice.pixels_largest,
        },
        "scale_ends": SCALE_ENDS if rec.both_ends else None,
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
        "input_pixels_largest": r.input_advice.pixels_largest,
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


def search_document(found: Search) -> dict[str, object]:
    def trial(t: Trial) -> dict[str, object]:
        return {
            "changes": t.changes,
            "input_scale": round(t.simulated_scale, 6),
            "input_size": input_size_words(t.preset.input),
            "anchor_scale": t.anchor_scale,
            "levels": list(t.preset.levels),
            "added_levels": list(t.added),
            "aspect_ratios": None if t.ratios is None else list(t.ratios),
            "range_scale": t.range_scale,
            "center_sampling_radius": t.radius,
            "topk": t.topk,
            "share": round(t.share, 6),
            "share_with_positives": None if t.covered != t.covered else round(t.covered, 6),
            "anchors_per_image": round(t.cost, 1),
        }

    return {
        "reached": found.reached,
        "sampled_objects": found.sampled,
        "simulated": found.simulated,
        "levels_left_out": list(found.left_out),
        "before": trial(found.before),
        "chosen": trial(found.chosen),
        "trials": [trial(t) for t in found.trials],
    }


def document(
    preset: Preset,
    s: PositivesSummary,
    target: float,
    source: str,
    found: Search | None = None,
    excluded: dict[str, int] | None = None,
) -> dict[str, object]:
    """The ``recommend --detector --json`` document (``excluded``: records left out of the box table by reason)."""
    return {
        "source": source,
        "excluded": dict(excluded or {}),
        "detector": {
            "name": preset.name,
            "title": preset.title,
            "toolkit": preset.toolkit,
            "backbone": preset.backbone,
            "neck": preset.neck,
            "levels": list(preset.levels),
            "upper_bound": preset.upper_bound,
        },
        "target": target,
        "meets_target": s.share_meeting >= target,
        "positives": s.to_dict(),
        "search": None if found is None else search_document(found),
    }


def sweep_document(sweep: Sweep) -> list[dict[str, object]]:
    return [
        {
            "resize": policy,
            "share_meeting": round(t.share, 6),
            "objects_without_positive": none,
            "anchors_per_image": round(t.cost, 1),
            "target_reached": t.share >= sweep.target,
        }
        for policy, t, none in sweep.ranked
    ]
