"""The HTML report: one self-contained file rendered from templates/report.html.j2 (jinja2, autoescaped).

Images are embedded as PNG data URIs and the page declares a Content-Security-Policy that allows nothing else
(no scripts, no network), so the file can be opened, mailed and archived on its own.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

from scalematch.match.design import Design
from scalematch.report.provenance import Provenance
from scalematch.report.recommend_text import sentences, sweep_row


@dataclass(frozen=True)
class Image:
    """A figure as shown in the report."""

    key: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _num(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "-"
    if math.isinf(v):
        return "∞"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:.0f}"


def warnings(best: Design, objects: int, crowd: int) -> list[str]:
    """Things a reader should not miss: target not reached, large too small / too large shares, exclusions."""
    rec = best.recommendation
    out = []
    if not rec.reached:
        out.append(
            f"The coverage target ({100 * rec.target:.1f}%) is not reached: the best run of levels takes "
            f"{100 * rec.chosen.coverage:.1f}%."
        )
    if rec.full.too_small_fraction > 1 - rec.target:
        out.append(f"{100 * rec.full.too_small_fraction:.1f}% of objects are too small for every level.")
    if rec.full.too_large_fraction > 1 - rec.target:
        out.append(f"{100 * rec.full.too_large_fraction:.1f}% of objects are too large for every level.")
    excluded = sum(best.excluded.values())
    if excluded:
        reasons = ", ".join(f"{k} {v}" for k, v in best.excluded.items())
        out.append(f"{excluded} annotation records were excluded ({reasons}); see the table below.")
    if crowd:
        out.append(f"{crowd} crowd annotations are not matched ({objects} objects are).")
    return out


def level_rows(best: Design) -> list[dict[str, Any]]:
    """One row per candidate level (plus too small / too large) for the levels table."""
    rec = best.recommendation
    fitted = dict(zip(rec.recommended_levels, rec.anchors.fitted.shapes, strict=True)) if rec.anchors else {}
    ranges = dict(zip(rec.recommended_levels, rec.ranges, strict=True))
    rows = []
    for load in rec.full.loads:
        lv = load.level
        lo_hi = ranges.get(lv.name)
        rows.append(
            {
                "name": lv.name,
                "recommended": lv.name in rec.recommended_levels,
                "stride": _num(lv.stride, 2),
                "rf": _num(lv.rf, 0),
                "erf_sigma": _num(lv.erf_sigma, 1),
                "min_size": _num(rec.params.min_cells * lv.stride, 1),
                "erf_limit": _num(2 * rec.params.erf_factor * lv.erf_sigma, 0),
                "count": load.count,
                "share": f"{100 * load.fraction:.1f}%",
                "sizes": f"{_num(load.size_min, 0)}–{_num(load.size_max, 0)}" if load.count else "-",
                "anchors": ", ".join(f"{w:.0f}×{h:.0f}" for w, h in fitted.get(lv.name, ())),
                "range": f"({_num(lo_hi[0], 0)}, {_num(lo_hi[1], 0)}]" if lo_hi else "",
            }
        )
    return rows


def category_rows(best: Design) -> list[dict[str, Any]]:
    """Every category with its count, too small / too large shares and the level taking most of it."""
    table = best.recommendation.full.per_category
    if table is None or table.empty:
        return []
    levels = [lv.name for lv in best.recommendation.full.levels]
    totals = table.sum(axis=1).sort_values(ascending=False, kind="stable")
    rows = []
    for name, total in totals.items():
        row = table.loc[str(name)]
        main = max(levels, key=lambda lv: int(row[lv])) if levels else "-"
        rows.append(
            {
                "name": str(name),
                "count": int(total),
                "too_small": f"{100 * row['too small'] / total:.0f}%" if total else "-",
                "too_large": f"{100 * row['too large'] / total:.0f}%" if total else "-",
                "main": main if int(row[main]) else "-",
                "main_share": f"{100 * row[main] / total:.0f}%" if total and int(row[main]) else "",
            }
        )
    return rows


def render_html(
    best: Design,
    designs: list[Design],
    summary: dict[str, Any],
    images: list[Image],
    document: dict[str, Any],
    prov: Provenance,
) -> str:
    """The report page. ``summary`` holds the dataset facts (dataset, format, images, objects, crowd)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("scalematch.report", "templates"),
        autoescape=True,  # every value from a dataset or a config is escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    rec = best.recommendation
    sweep = [sweep_row(d) for d in _ranked(designs)] if len(designs) > 1 else []
    return env.get_template("report.html.j2").render(
        summary=summary,
        design=best,
        rec=rec,
        sentences=sentences(rec),
        warnings=warnings(best, summary["objects"], summary["crowd"]),
        levels=level_rows(best),
        too_small=rec.full.too_small,
        too_large=rec.full.too_large,
        too_small_share=f"{100 * rec.full.too_small_fraction:.1f}%",
        too_large_share=f"{100 * rec.full.too_large_fraction:.1f}%",
        categories=category_rows(best),
        excluded=sorted(best.excluded.items()),
        sweep=sweep,
        images=images,
        document=json.dumps(document, indent=2),
        prov=prov,
    )


def _ranked(designs: list[Design]) -> list[Design]:
    from scalematch.match.design import ranked

    return ranked(designs)
