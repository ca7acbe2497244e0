"""The HTML report: one self-contained file rendered from templates/report.html.j2 (jinja2, autoescaped).

Images are embedded as PNG data URIs and the page declares a Content-Security-Policy that allows nothing else
(no scripts, no network), so the file can be opened, mailed and archived on its own.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalematch._text import counted, dumps
from scalematch.match.design import Design
from scalematch.match.recommend import Recommendation
from scalematch.match.rules import Rule, fcos_ranges
from scalematch.report.provenance import Provenance
from scalematch.report.recommend_text import sentences, sweep_row
from scalematch.report.style import shown_name

if TYPE_CHECKING:
    from markupsafe import Markup


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
        were = "was" if excluded == 1 else "were"
        out.append(f"{counted(excluded, 'annotation record')} {were} excluded ({reasons}); see the table below.")
    if crowd:
        are = "is" if crowd == 1 else "are"
        out.append(
            f"{counted(crowd, 'crowd annotation')} {are} not matched ({counted(objects, 'object')} "
            f"{'is' if objects == 1 else 'are'})."
        )
    return out


def rule_summary(rec: Recommendation) -> str:
    """The rule used and its own parameters only (the rf rule's min cells and ERF factor under ``rf`` alone)."""
    p = rec.params
    given = p.anchors is not None
    if rec.rule is Rule.RF:
        detail = f"min cells {p.min_cells:g}, ERF factor {p.erf_factor:g}: the longer side within ±{p.erf_factor:g}σ"
    elif rec.rule is Rule.FPN:
        detail = f"canonical size {p.fpn_canonical_size:g} px at level {p.fpn_canonical_level}"
    elif rec.rule is Rule.FCOS:
        ranges = fcos_ranges(rec.full.levels, p)
        detail = "ranges on max(w, h)/2: " + ", ".join(f"({_num(lo, 0)}, {_num(hi, 0)}]" for lo, hi in ranges)
    elif rec.rule is Rule.ANCHORS:
        detail = f"IoU ≥ {p.iou_positive:g} with {'the given' if given else 'the RetinaNet default'} anchors"
    else:
        detail = f"ratio < {p.yolo_threshold:g} with {'the given' if given else 'the YOLOv5 default'} anchors"
    return f"{rec.rule.value} ({detail})"


def level_rows(best: Design) -> list[dict[str, Any]]:
    """One row per candidate level (plus too small / too large) for the levels table."""
    rec = best.recommendation
    fitted = dict(zip(rec.recommended_levels, rec.anchors.recommended.shapes, strict=True)) if rec.anchors else {}
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


def level_note(rec: Recommendation) -> str:
    """The note under the levels table: what its columns are under ``rec``'s rule. The min size and the ERF limit
    are the rf rule's tests (min cells and ERF factor its parameters); under another rule they are shown for
    reference at their defaults (the input-size advice's floor and the rf rule's cut), named as such."""
    p = rec.params
    if rec.rule is Rule.RF:
        columns = "min size = min cells × stride; ERF limit = 2 × ERF factor × σ (on the longer side)"
    else:
        columns = (
            f"min size = {p.min_cells:g} × stride, scalematch's floor for the input size, and ERF limit = "
            f"2 × {p.erf_factor:g} × σ (on the longer side), the rf rule's cut: for reference, neither is a test of "
            f"the {rec.rule.value} rule"
        )
    # (the summary above says how the recommended levels alone share the objects when the table places them
    # otherwise: Recommendation.regrouped)
    sizes = "Sizes are √(w·h) in input pixels"
    if rec.both_ends:
        sizes = (
            "Counts: objects covered at both ends of the multi-scale policy, each at its level at the smallest "
            "scale; too small at the smallest scale, too large at the largest. Sizes are √(w·h) in input pixels at "
            "the smallest scale"
        )
    return f"* recommended. {sizes}; {columns}; range: FCOS-style regress range on max(w, h)/2."


def outcomes(best: Design) -> list[str]:
    """Every outcome of the rule, in table order: too small, each candidate level, too large."""
    return ["too small", *(lv.name for lv in best.recommendation.full.levels), "too large"]


def category_rows(best: Design) -> list[dict[str, Any]]:
    """Every category, most frequent first, with its count, its objects in every outcome (too small, each level,
    too large: they sum to the count; blank for none) and the outcome taking most of them with its share
    ("main", over all outcomes, too small and too large included; ties: the first in table order)."""
    table = best.recommendation.full.per_category
    if table is None or table.empty:
        return []
    order = outcomes(best)
    counts = table[order]
    totals = counts.sum(axis=1).sort_values(ascending=False, kind="stable")
    rows = []
    for name, total in totals.items():
        row = [int(v) for v in counts.loc[str(name)]]
        main = max(range(len(order)), key=lambda k: row[k])  # max keeps the first of equals
        rows.append(
            {
                "name": shown_name(str(name)),  # (a backslash doubled; the page's filter leaves it)
                "count": int(total),
                "counts": [str(v) if v else "" for v in row],
                "main": f"{order[main]} {100 * row[main] / total:.0f}%" if total else "-",
            }
        )
    return rows


class Preformatted(str):
    """A text shown as written, line breaks and tabs included (the JSON document in its ``<pre>``); its other
    control characters are still shown as escapes."""

    __slots__ = ()


def render(template: str, **values: Any) -> str:
    """Render one of templates/ with autoescaping (every value from a dataset or a config is escaped), control
    characters of every text shown as escapes (``\x1b``, and a newline or a tab as ``\n`` / ``\t``: a browser
    would show them as a space), as in the terminal and the figures; only a :class:`Preformatted` value keeps
    its line breaks and tabs."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from scalematch.dataset.resize import policy_text, resize_words

    env = Environment(
        loader=PackageLoader("scalematch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_visible,
    )
    env.filters["counted"] = counted
    env.filters["policy_text"] = policy_text
    env.filters["resize_words"] = resize_words
    env.filters["command_line"] = command_line
    return env.get_template(template).render(**values)


OPTION_NAME = re.compile(r"(?<!\S)(--?[A-Za-z][\w-]*)")
"""An option's name at the start of a word of a command line (``--out``, ``-q``, the ``--resize`` of
``--resize=x``)."""


def command_line(command: str) -> Markup:
    """``command`` as the page shows it: escaped, each option's name in a ``<span class="opt">`` that no line
    breaks inside (a browser may break a line after a hyphen: ``--out`` printed as ``-`` and ``-out`` on the next
    line); the text, and what a copy of it gives, is ``command`` itself."""
    from markupsafe import Markup, escape

    parts = OPTION_NAME.split(command)
    return Markup("").join(
        Markup('<span class="opt">{}</span>').format(p) if k % 2 else escape(p) for k, p in enumerate(parts)
    )


def render_html(
    best: Design,
    designs: list[Design],
    summary: dict[str, Any],
    images: list[Image],
    document: dict[str, Any],
    prov: Provenance,
) -> str:
    """The report page. ``summary`` holds the dataset facts (dataset, format, images, objects, crowd)."""
    rec = best.recommendation
    sweep = [sweep_row(d) for d in _ranked(designs)] if len(designs) > 1 else []
    return render(
        "report.html.j2",
        summary=summary,
        design=best,
        rec=rec,
        rule=rule_summary(rec),
        sentences=sentences(rec),
        warnings=warnings(best, summary["objects"], summary["crowd"]),
        levels=level_rows(best),
        anchors_heading=rec.anchors.recommended_name if rec.anchors else "fitted anchors",
        level_note=level_note(rec),
        too_small=rec.full.too_small,
        too_large=rec.full.too_large,
        too_small_share=f"{100 * rec.full.too_small_fraction:.1f}%",
        too_large_share=f"{100 * rec.full.too_large_fraction:.1f}%",
        categories=category_rows(best),
        outcomes=outcomes(best),
        excluded=sorted(best.excluded.items()),
        sweep=sweep,
        images=images,
        document=Preformatted(dumps(document)),
        prov=prov,
    )


def _ranked(designs: list[Design]) -> list[Design]:
    from scalematch.match.design import ranked

    return ranked(designs)


def _visible(value: Any) -> Any:
    """A value as the page shows it: a text's control characters as escapes (line breaks and tabs too, but in a
    :class:`Preformatted` text); markup stays markup."""
    if not isinstance(value, str):
        return value
    from markupsafe import Markup

    from scalematch.report.style import printable, printable_lines

    shown = printable_lines(value) if isinstance(value, Preformatted) else printable(value)
    if shown == value:
        return value
    return Markup(shown) if isinstance(value, Markup) else shown
