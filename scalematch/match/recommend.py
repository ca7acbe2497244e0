"""Recommendations for a coverage target: the level set, fitted anchors, FCOS ranges and an input scale."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scalematch._text import counted, int_text
from scalematch.dataset.table import category_labels
from scalematch.errors import OptionError
from scalematch.match.anchors import AnchorSet, best_anchor, fit_shapes
from scalematch.match.levels import Level
from scalematch.match.result import MatchResult, largest_sizes, summarize, usable
from scalematch.match.rules import Rule, RuleParams, assign_both, default_anchors, fcos_ranges

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    Array = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

SCALE_CANDIDATES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
MIN_COVERAGE = 0.001
"""The smallest coverage target: 0.1%, the smallest share the outputs print as non-zero (one decimal of a percent)."""
MIN_RULE_FACTOR = 0.01
MAX_RULE_FACTOR = 1000.0  # an object 1,000 strides (or ERF sigmas) across is larger than any input
"""The smallest ``min_cells`` (a hundredth of a stride) and ``erf_factor`` (a hundredth of the ERF's sigma)."""
"""Input scale factors tried by the input-size advice."""

FIT_SAMPLE = 50_000
"""At most this many boxes (a fixed-seed sample) feed the anchor k-means; every box is used to evaluate."""


@dataclass(frozen=True)
class AnchorAdvice:
    """Fitted anchors per level next to the rule's toolkit defaults: mean best shape IoU and BPR of each."""

    per_level: int
    fitted: AnchorSet
    fitted_mean_iou: float
    fitted_bpr: float
    default: AnchorSet | None
    default_mean_iou: float | None
    default_bpr: float | None
    kept_default: bool = False
    """Under the yolo rule, True when the fitted anchors do not raise BPR above the defaults': the defaults are
    then the recommendation (and the export), as yolov5's AutoAnchor replaces anchors only by a higher BPR."""

    @property
    def recommended(self) -> AnchorSet:
        """The anchors recommended and exported: the defaults when kept, else the fitted ones."""
        if self.kept_default and self.default is not None:
            return self.default
        return self.fitted

    @property
    def recommended_name(self) -> str:
        """What :attr:`recommended` is, as the report's figures and tables name it."""
        return "kept default anchors" if self.kept_default and self.default is not None else "fitted anchors"


@dataclass(frozen=True)
class InputAdvice:
    """Smallest scale factor that lifts ``target`` of the objects to the finest level's minimum size."""

    min_size: float
    share_now: float
    factor: float | None
    share_after: float | None
    pixels_now: float | None
    pixels_after: float | None
    pixels_largest: float | None = None
    """The median input pixels at a multi-scale policy's largest scale (None for a policy of one scale); the
    advice itself is at its smallest scale (``pixels_now``), where small objects are smallest."""


@dataclass(frozen=True)
class Recommendation:
    """Everything ``scalematch recommend`` reports."""

    rule: Rule
    target: float
    full: MatchResult
    chosen: MatchResult
    reached: bool
    anchors: AnchorAdvice | None
    ranges: tuple[tuple[float, float], ...]
    input_advice: InputAdvice
    params: RuleParams = field(default_factory=RuleParams)
    windows: tuple[tuple[tuple[str, ...], float], ...] = field(default=(), repr=False)
    both_ends: bool = False
    """Whether the objects were judged at both ends of a multi-scale policy (see :func:`recommend`)."""

    @property
    def recommended_levels(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.chosen.levels)

    @property
    def regrouped(self) -> bool:
        """Whether the recommended levels, alone, take other objects than the levels table gives them (the table
        assigns over every candidate level: a rule that re-assigns within the run, as rf's nearest preferred
        size and the anchor rules' best anchor do, moves objects of dropped levels onto kept ones)."""
        table = {load.level.name: load.count for load in self.full.loads}
        return any(load.count != table[load.level.name] for load in self.chosen.loads)

    def __repr__(self) -> str:
        return (
            f"<Recommendation rule {self.rule.value}: use {', '.join(self.recommended_levels)} "
            f"({100 * self.chosen.coverage:.1f}% of {counted(self.chosen.total, 'object')}, "
            f"target {100 * self.target:g}%)>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``recommend --json`` document without the design's context (backbone, neck, resize: None)."""
        from scalematch.match.documents import recommend_json

        return recommend_json(self, {})


MAX_ANCHORS_PER_LEVEL = 64
"""The most fitted anchors per level (as many as a preset may place per location)."""


def check_anchors_per_level(anchors_per_level: int | None) -> None:
    """An :class:`OptionError` for a count of fitted anchors per level outside 1 to :data:`MAX_ANCHORS_PER_LEVEL`
    (any count in it works whatever the number of objects: fewer distinct boxes repeat, :func:`fit_anchors`)."""
    if anchors_per_level is not None and not 1 <= anchors_per_level <= MAX_ANCHORS_PER_LEVEL:
        raise OptionError(
            f"anchors_per_level: expected an integer from 1 to {MAX_ANCHORS_PER_LEVEL}, "
            f"got {int_text(anchors_per_level)}"
        )


def _sizes(table: pd.DataFrame) -> tuple[Array, Array]:
    import numpy as np

    return table["w_in"].to_numpy(dtype=np.float64), table["h_in"].to_numpy(dtype=np.float64)


def _params_for(rule: Rule, window: tuple[Level, ...], full: tuple[Level, ...], params: RuleParams) -> RuleParams:
    """Restrict per-level settings (anchors, FCOS ranges) to a window of the full level list.

    FCOS ranges are those of the full list, sliced: a window does not re-open its end ranges (otherwise one
    level with (0, inf) would take every object).
    """
    first = full.index(window[0])
    part = slice(first, first + len(window))
    anchors = AnchorSet(params.anchors.shapes[part]) if params.anchors else None
    ranges = fcos_ranges(full, params)[part] if rule is Rule.FCOS else params.fcos_ranges
    return replace(params, anchors=anchors, fcos_ranges=ranges)


def choose_levels(
    w: Array, h: Array, levels: tuple[Level, ...], rule: Rule, params: RuleParams, target: float,
    table_level: IntArray | None = None, largest: tuple[Array, Array] | None = None,
) -> tuple[tuple[Level, ...], bool, tuple[tuple[tuple[str, ...], float], ...]]:  # fmt: skip
    """The smallest contiguous run of levels whose coverage reaches ``target``; ties: fewer levels, then the run
    that the levels table (``table_level``: each object's level over all ``levels``) gives the most objects, then
    finer. A rule that re-assigns within a run (rf's nearest preferred size, the anchor rules' best anchor) lets
    several runs of one length reach the target; the table's count picks the one where the objects are at home.

    If none does, the run with the highest coverage (same tie rule) and ``reached=False``. Also returns every
    run tried with its coverage. ``largest``: the boxes at a multi-scale policy's largest scale, ``w`` and ``h``
    being at its smallest; an object then counts only when the run takes it at both (:func:`assign_both`).
    """
    import numpy as np

    tried: list[tuple[tuple[Level, ...], float, int]] = []
    for n in range(1, len(levels) + 1):
        for start in range(len(levels) - n + 1):
            window = levels[start : start + n]
            try:
                level = assign_both(rule, w, h, window, _params_for(rule, window, levels, params), largest).level
            except OptionError:
                continue  # e.g. no default anchors for these strides
            coverage = float(np.count_nonzero(level >= 0)) / len(w) if len(w) else 0.0
            home = (
                0 if table_level is None else int(np.count_nonzero((table_level >= start) & (table_level < start + n)))
            )
            tried.append((window, coverage, home))
    if not tried:
        raise OptionError(f"rule={rule.value}: no run of levels can be matched")
    summary = tuple((tuple(lv.name for lv in win), cov) for win, cov, _ in tried)
    reaching = [t for t in tried if t[1] >= target]
    # sorted() keeps the order of equals: finer first; tried is ordered by length, then from the finest
    if reaching:
        return sorted(reaching, key=lambda t: (len(t[0]), -t[2]))[0][0], True, summary
    return sorted(tried, key=lambda t: (-t[1], len(t[0]), -t[2]))[0][0], False, summary


def _mean_iou_bpr(w: Array, h: Array, anchors: AnchorSet, threshold: float) -> tuple[float, float]:
    import numpy as np

    ws, hs, _ = anchors.flat()
    aw, ah = np.array(ws), np.array(hs)
    _, iou = best_anchor("iou", w, h, aw, ah)
    _, ratio = best_anchor("ratio", w, h, aw, ah)
    return float(iou.mean()), float(np.mean(ratio < threshold))


def fit_anchors(
    w: Array, h: Array, levels: tuple[Level, ...], per_level: int, rule: Rule, params: RuleParams
) -> AnchorAdvice:
    """``per_level * len(levels)`` shapes maximising the mean best shape IoU (:func:`fit_shapes`: log-space
    k-means restarts and the toolkit defaults, each refined under the IoU assignment), sorted by area and dealt
    ``per_level`` to each level from fine to coarse (as YOLOv5's AutoAnchor), compared with the defaults. With
    fewer distinct boxes than shapes wanted, the distinct ones are repeated in order of area, so that every level
    holds ``per_level`` (the counts a toolkit's head needs to be equal)."""
    import numpy as np

    if len(w) > FIT_SAMPLE:
        pick = np.random.default_rng(0).choice(len(w), FIT_SAMPLE, replace=False)
        fw, fh = w[pick], h[pick]
    else:
        fw, fh = w, h
    try:
        default = default_anchors(Rule.YOLO if rule is Rule.YOLO else Rule.ANCHORS, levels)
    except OptionError:
        default = None
    k = per_level * len(levels)
    starts = [[s for level in default.shapes for s in level]] if default else []
    shapes = fit_shapes(fw, fh, k, starts)
    if 0 < len(shapes) < k:  # fewer distinct boxes than anchors: repeat shapes so each level holds per_level
        shapes = [shapes[j * len(shapes) // k] for j in range(k)]
    dealt = tuple(tuple(shapes[j * per_level : (j + 1) * per_level]) for j in range(len(levels)))
    fitted = AnchorSet(dealt)
    fitted_iou, fitted_bpr = _mean_iou_bpr(w, h, fitted, params.yolo_threshold)
    d_iou, d_bpr = _mean_iou_bpr(w, h, default, params.yolo_threshold) if default else (None, None)
    # as many defaults per level as asked: AutoAnchor compares sets of the same size
    same_count = default is not None and all(len(level) == per_level for level in default.shapes)
    keep = rule is Rule.YOLO and same_count and d_bpr is not None and fitted_bpr <= d_bpr
    return AnchorAdvice(per_level, fitted, fitted_iou, fitted_bpr, default, d_iou, d_bpr, keep)


def ranges_from_assignment(
    w: Array, h: Array, level: npt.NDArray[np.int64], levels: tuple[Level, ...]
) -> tuple[tuple[float, float], ...]:
    """FCOS-style regress ranges (on max(w, h) / 2) that separate the levels' assigned objects.

    Each boundary is the geometric mean of the 90th percentile of the finer level's targets and the 10th of
    the coarser one's (rounded to a whole pixel); a level without objects keeps the (4s, 8s] default. The
    first range starts at 0 and the last runs to infinity.
    """
    import numpy as np

    target = np.maximum(w, h) / 2
    bounds = []
    for k in range(len(levels) - 1):
        lo_part, hi_part = target[level == k], target[level == k + 1]
        if lo_part.size and hi_part.size:
            bounds.append(float(round(math.sqrt(np.quantile(lo_part, 0.9) * np.quantile(hi_part, 0.1)))))
        else:
            bounds.append(8 * levels[k].stride)
    for k in range(1, len(bounds)):  # keep the ranges increasing
        bounds[k] = max(bounds[k], bounds[k - 1] + 1)
    edges = [0.0, *bounds, math.inf]
    return tuple((edges[k], edges[k + 1]) for k in range(len(levels)))


def advise_input(size_in: Array, min_size: float, target: float, image_pixels: float | None) -> InputAdvice:
    """The smallest factor in :data:`SCALE_CANDIDATES` that puts ``target`` of the objects at >= ``min_size``."""
    import numpy as np

    share_now = float(np.mean(size_in >= min_size)) if size_in.size else 0.0
    for factor in SCALE_CANDIDATES:
        share = float(np.mean(size_in * factor >= min_size)) if size_in.size else 0.0
        if share >= target:
            after = image_pixels * factor**2 if image_pixels is not None else None
            return InputAdvice(min_size, share_now, factor, share, image_pixels, after)
    return InputAdvice(min_size, share_now, None, None, image_pixels, None)


def median_input_pixels(table: pd.DataFrame, largest: bool = False) -> float | None:
    """Median input-image area in pixels (one value per image), when the table has the columns: at a multi-scale
    policy's smallest scale, or with ``largest`` at its largest (``scale_hi``; None for a policy of one scale)."""
    cols = ("image_id", "image_w", "image_h", *(("scale_hi",) if largest else ("scale_x", "scale_y")))
    if not all(c in table.columns for c in cols):
        return None
    images = table.drop_duplicates("image_id")
    if largest:
        area = images["image_w"] * images["image_h"] * images["scale_hi"] ** 2
    else:
        area = images["image_w"] * images["scale_x"] * images["image_h"] * images["scale_y"]
    return float(area.median()) if len(area) else None


def check_coverage(target: float) -> None:
    """Raise :class:`OptionError` for a coverage target outside [:data:`MIN_COVERAGE`, 1] (a smaller share would
    print as 0.0%)."""
    if not MIN_COVERAGE <= target <= 1:
        raise OptionError(f"coverage: expected a share from {MIN_COVERAGE:g} to 1 (0.1% to 100%), got {target}")


def check_options(params: RuleParams, target: float) -> None:
    """Raise :class:`OptionError` for a coverage target outside [:data:`MIN_COVERAGE`, 1] or a rule parameter
    (``min_cells``, ``erf_factor``) outside [:data:`MIN_RULE_FACTOR`, :data:`MAX_RULE_FACTOR`]."""
    check_coverage(target)
    for option, value in (("min_cells", params.min_cells), ("erf_factor", params.erf_factor)):
        if not MIN_RULE_FACTOR <= value <= MAX_RULE_FACTOR:
            raise OptionError(
                f"{option}: expected a number from {MIN_RULE_FACTOR:g} to {MAX_RULE_FACTOR:g}, got {value}"
            )


def recommend(
    table: pd.DataFrame,
    levels: tuple[Level, ...],
    rule: Rule = Rule.RF,
    params: RuleParams | None = None,
    target: float = 0.99,
    anchors_per_level: int | None = None,
) -> Recommendation:
    """Match the usable objects of ``table`` and recommend a level set, anchors, ranges and an input scale.

    A table of a multi-scale policy (with ``w_in_hi``, ``h_in_hi``) is judged at both ends: an object counts as
    covered by a run of levels only when the rule places it there at the smallest and at the largest scale; too
    small is judged at the smallest, too large at the largest (:func:`assign_both`). The levels table places a
    covered object at its level at the smallest scale; the FCOS-style ranges and the input-size advice are at the
    smallest scale (``pixels_largest`` gives the largest's input pixels); the anchors are fitted to, and evaluated
    on, the boxes at both ends."""
    import numpy as np

    params = params or RuleParams()
    check_options(params, target)
    rows = usable(table)
    w, h = _sizes(rows)
    largest = largest_sizes(rows)
    check_anchors_per_level(anchors_per_level)
    size_in = np.sqrt(w * h)
    categories = category_labels(rows)
    full = summarize(rule, levels, assign_both(rule, w, h, levels, params, largest), size_in, categories)
    window, reached, tried = choose_levels(w, h, levels, rule, params, target, full.assignment.level, largest)
    sub = _params_for(rule, window, levels, params)
    chosen = summarize(rule, window, assign_both(rule, w, h, window, sub, largest), size_in, categories)
    per_level = anchors_per_level or (3 if rule is Rule.YOLO else 9)  # as many as the defaults compared with
    fw, fh = (w, h) if largest is None else (np.concatenate([w, largest[0]]), np.concatenate([h, largest[1]]))
    anchors = fit_anchors(fw, fh, window, per_level, rule, sub) if len(w) else None
    ranges = (
        ranges_from_assignment(w, h, chosen.assignment.level, window)
        if rule is not Rule.FCOS
        else (fcos_ranges(window, sub))
    )
    advice = advise_input(size_in, params.min_cells * window[0].stride, target, median_input_pixels(rows))
    if largest is not None:
        advice = replace(advice, pixels_largest=median_input_pixels(rows, largest=True))
    both = largest is not None
    return Recommendation(rule, target, full, chosen, reached, anchors, ranges, advice, params, tried, both)
