"""The printed positives summary of ``recommend --detector`` and its JSON document (formatting only)."""

from __future__ import annotations

from scalematch._text import counted
from scalematch.match.documents import document as document
from scalematch.match.documents import search_document as search_document
from scalematch.match.documents import sweep_document as sweep_document
from scalematch.match.positives import PositivesSummary
from scalematch.match.search import ANCHOR_SCALES, INPUT_SCALES, Search, Sweep
from scalematch.presets.changes import changes
from scalematch.presets.preset import (
    ATSSAssign,
    FCOSAssign,
    LetterboxInput,
    MaxIoU,
    MMDetInput,
    Points,
    Preset,
    SSDMatch,
    TALAssign,
    YoloAnchors,
    YOLOv5Assign,
)
from scalematch.report.style import printable, printed_lines
from scalematch.report.table import aligned

REASON_WORDS = {
    "lost_to_other": "lost to another object",
    "no_candidate": "no anchor or point qualifies",
    "dropped_by_pipeline": "dropped by the data pipeline",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def shares(share: float, target: float) -> tuple[str, str]:
    """``share`` and ``target`` as percentages with the decimals the target needs (at least 1, at most 6: 99.037%
    for 0.99037), and more while a share below the target would print as it (99.03% against 99.04%, not 99.0%
    against 99.0% beside "misses the target"; up to the last decimal a double holds: a share at or above it may
    print as the target: it meets it)."""
    d = next((d for d in range(1, 7) if abs(round(100 * target, d) - 100 * target) < 1e-9), 6)
    while d < 17 and share < target and f"{100 * share:.{d}f}" == f"{100 * target:.{d}f}":
        d += 1
    return f"{100 * share:.{d}f}%", f"{100 * target:.{d}f}%"


@printed_lines
def describe(preset: Preset) -> list[str]:
    """The preset in two lines: input geometry and assigner."""
    spec = preset.input
    if isinstance(spec, LetterboxInput):
        geometry = f"long side to {spec.size}, letterboxed to {spec.size} x {spec.size} ({spec.style})"
    elif isinstance(spec, MMDetInput):
        geometry = (
            f"short side {spec.short}, long side at most {spec.long} (rounded), "
            f"padded to a multiple of {spec.size_divisor}"
        )
    elif spec.fixed_size:
        geometry = f"stretched to {spec.fixed_size[0]} x {spec.fixed_size[1]}"
    else:
        geometry = (
            f"short side {spec.min_size}, long side at most {spec.max_size}, "
            f"padded to a multiple of {spec.size_divisible}"
        )
    rule = preset.assigner
    if isinstance(rule, MaxIoU):
        how = f"max IoU >= {rule.high:g} (negatives < {rule.low:g})" + (
            ", low-quality matches" if rule.low_quality else ""
        )
    elif isinstance(rule, SSDMatch):
        how = f"max IoU >= {rule.threshold:g}, each object's best box forced"
    elif isinstance(rule, FCOSAssign):
        how = (
            f"points inside the box within {rule.center_sampling_radius:g} x anchor size of its centre, regress ranges"
        )
    elif isinstance(rule, ATSSAssign):
        how = f"{rule.topk} nearest anchors per level, IoU >= their mean + std, centre inside the box"
    elif isinstance(rule, YOLOv5Assign):
        how = f"anchor ratio below {rule.anchor_t:g}, centre cell and two neighbours"
    else:
        assert isinstance(rule, TALAssign)
        how = f"points inside the box (sides under {rule.min_side:g} px widened), at most {rule.topk} (upper bound)"
    levels = f"{preset.levels[0]}-{preset.levels[-1]}" if len(preset.levels) > 1 else preset.levels[0]
    backbone = printable(preset.backbone + (f" + {preset.neck}" if preset.neck else ""))
    name, title, toolkit = (printable(v) for v in (preset.name, preset.title, preset.toolkit))
    return [
        f"detector {name}: {title}, as {toolkit} builds it ({backbone}, levels {levels})",
        f"input: {geometry}; assigner: {how}",
        *[REVERSED] * (isinstance(preset.anchors, YoloAnchors) and preset.anchors.reversed),
    ]


REVERSED = (
    "note: anchors.shapes reversed as yolov5's check_anchor_order does (the mean anchor area ran against the "
    "stride from the first level to the last): simulated in the order yolov5 trains"
)
"""The line saying that a YOLOv5 preset's anchors were flipped as yolov5's model builder flips them."""


def tables(s: PositivesSummary) -> str:
    """Positives per object, by size and by level."""
    n = s.objects or 1
    counts = [("positives", "objects", "share")] + [(k, str(v), _pct(v / n)) for k, v in s.counts]
    sizes = [("size_in", "objects", "median", "none")] + [
        (r.label, str(r.objects), "-" if r.median is None else f"{r.median:g}", str(r.none)) for r in s.sizes
    ]
    held = "candidates" if s.upper_bound else "positives"
    levels = [("level", "stride", "objects", held, "rf", "erf_sigma", "longer_than_rf")] + [
        (
            r.name,
            "-" if r.stride is None else f"{r.stride:g}",
            "-" if s.upper_bound else str(r.objects),
            str(r.positives),
            "-" if r.rf is None else f"{r.rf:.0f}",
            "-" if r.erf_sigma is None else f"{r.erf_sigma:.1f}",
            "-" if s.upper_bound else str(r.larger_than_rf),
        )
        for r in s.levels
    ]
    return "\n\n".join(aligned(t) for t in (counts, sizes, levels))


def _span(levels: tuple[str, ...]) -> str:
    return f"levels {levels[0]}-{levels[-1]}" if len(levels) > 1 else f"level {levels[0]}"


def as_set(preset: Preset) -> str:
    """``with its defaults`` for a built-in preset as it ships (or a copy of its file), else what was changed
    (levels, backbone, neck, resize, padding, or settings changed: :func:`~scalematch.presets.changes.changes`),
    so that a verdict never credits the defaults with what the user's settings did."""
    changed = changes(preset)
    if changed is None:
        return "as its file sets it"
    return f"with {printable(', '.join(changed))}" if changed else "with its defaults"


@printed_lines
def sentences(preset: Preset, s: PositivesSummary, target: float) -> list[str]:
    """The verdict and the context, with the numbers behind them."""
    out = []
    reasons = ", ".join(f"{v} {REASON_WORDS[k]}" for k, v in s.reasons)
    none = dict(s.counts).get("0", 0)
    out.append(f"No positive: {counted(none, 'object')} ({reasons}).")
    verdict = "meets" if s.share_meeting >= target else "misses"
    can = "can have" if s.upper_bound else ("has" if s.objects == 1 else "have")
    at = f"{s.floor + 0.0:.12g}" if s.floor is not None else ""  # as given (0.99999999999 is not 1), -0 as 0
    floor = f" with IoU >= {at}" if s.floor is not None else ""
    out.append(
        f"{shares(s.share_meeting, target)[0]} of {counted(s.objects, 'object')} {can} {s.min_positives} or more "
        f"positives"
        f"{floor} (target {shares(s.share_meeting, target)[1]}): {printable(preset.name)} {as_set(preset)} "
        f"{verdict} the target."
    )
    if s.floor:  # at a floor of 0 no positive is below it: the line could only say 0
        out.append(
            f"{counted(s.only_weak, 'object')} {'has' if s.only_weak == 1 else 'have'} positives only below IoU "
            f"{at} (--min-iou, scalematch's quality floor: "
            "an anchor that barely overlaps its object is mostly background around it)."
        )
    if s.upper_bound:
        out.append(
            "Upper bound: the task-aligned assigner makes positives of at most its top-k candidates, ranked by the "
            "network's own predictions, so the exact count (and its level) is known only during training."
        )
        return out
    larger = sum(r.larger_than_rf for r in s.levels)
    with_level = sum(r.objects for r in s.levels)
    if not with_level:
        out.append("Context (scalematch's receptive-field view): no object has a positive, so none has a level.")
        return out
    one = larger == 1 or with_level == 1  # "1 of 10 objects is", "0 of 1 object is"; "0 of 10 objects are"
    context = (
        f"Context (scalematch's receptive-field view, a heuristic): {larger} of {counted(with_level, 'object')} "
        f"({_pct(larger / with_level)}) {'is' if one else 'are'} longer than the receptive field of the "
        f"level holding most of {'its' if one else 'their'} positives"
    )
    if preset.head == "two-stage":
        context += "; the second stage pools each proposal's whole box, so this bounds only the proposal stage."
    else:
        them = "it" if one else "each of them"
        context += f"; a one-stage head predicts {them} from units that see only part of it."
    out.append(context)
    return out


@printed_lines
def search_lines(found: Search) -> list[str]:
    """The design search in words: its objective, the preset's numbers and the chosen design's."""
    b, c = found.before, found.chosen
    units = b.preset.head_units
    sample = (
        f", each simulated on {counted(found.sampled, 'object')} of whole images"
        if found.sampled < found.objects
        else ""
    )
    lines = [
        f"Design search (scalematch's objective: the fewest anchors or points per image with "
        f"{shares(found.target, found.target)[1]} "
        f"of objects meeting the test above; {counted(found.simulated, 'design')} simulated, visiting input scales "
        f"and level sets cheapest first and varying anchor scale, aspect ratios, FCOS ranges and radius, ATSS top-k "
        f"as they apply{sample}):",
        f"  before: {b.changes}: {shares(b.share, found.target)[0]}, {b.cost:,.0f} {units} per image",
    ]
    if c.varied:
        lines.append(f"  after:  {c.changes}: {shares(c.share, found.target)[0]}, {c.cost:,.0f} {units} per image")
    else:
        lines.extend(_no_change(found))
    if not found.reached:
        if c.varied:
            lines.append(f"No variation reaches {shares(c.share, found.target)[1]}; the one above comes closest.")
        if found.left_out:
            lines.append(
                f"The search cannot add back the preset's {', '.join(found.left_out)}, which the design "
                f"({_span(b.preset.levels)}) leaves out."
            )
    return lines


def _no_change(found: Search) -> list[str]:
    """Why the search has no design to show after the preset: none of its variations raises the share (or keeps
    it for less), with what the search varies in size, all of it towards small objects (anchor scales: not for
    FCOS, whose ranges it scales both ways, nor for a point head, which has none)."""
    b = found.before
    tried = found.simulated - 1
    if not tried:
        return ["No change beats it: the search could simulate no variation of it."]
    lines = [
        f"No change beats it: {'neither' if tried == 2 else 'none'} of the {counted(tried, 'variation')} simulated "
        f"raises its share or keeps it with fewer {b.preset.head_units} per image."
        if tried > 1
        else f"No change beats it: the one variation simulated does not raise its share or keep it with fewer "
        f"{b.preset.head_units} per image."
    ]
    if isinstance(b.preset.assigner, FCOSAssign):
        return lines
    up = [f"x{s:g}" for s in INPUT_SCALES if s > 1]
    sizes = f"the input up only ({up[0]} to {up[-1]})"
    if not isinstance(b.preset.anchors, Points):
        down = [f"x{s:g}" for s in ANCHOR_SCALES if s < 1]
        sizes += f" and the anchors down only ({down[0]} to {down[-1]})"
    lines.append(f"The search scales {sizes}, which helps objects too small for the design, not those too large.")
    return lines


def sweep_table(sweep: Sweep) -> str:
    """Input sizes of a sweep, best first; the cost column is named for what the head scores (``points_per_image``
    for an anchor-free head, held as ``anchors_per_image`` in the JSON document, whose field names stay)."""
    units = sweep.ranked[0][1].preset.head_units if sweep.ranked else "anchors"
    rows = [("rank", "resize", "meeting", "no_positive", f"{units}_per_image", "target")]
    for k, (policy, t, none) in enumerate(sweep.ranked, start=1):
        reached = "reached" if t.share >= sweep.target else "missed"
        rows.append((str(k), policy, shares(t.share, sweep.target)[0], str(none), f"{t.cost:,.0f}", reached))
    table = aligned(rows, left=2)
    if sweep.too_small:
        table += (
            "\nmeeting and no_positive count the objects of images too small an input for the network as without a "
            f"positive ({', '.join(f'{p}: {n}' for p, n in sweep.too_small)}); the result below leaves them out "
            "(image_too_small)."
        )
    return table
