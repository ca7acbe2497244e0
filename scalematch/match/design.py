"""One design (backbone, neck, resize) matched against a dataset, and a ranked sweep over several."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scalematch import _args
from scalematch._text import counted
from scalematch.dataset.loader import LoadResult, as_load_result
from scalematch.dataset.resize import policy_text, resize_words
from scalematch.errors import DatasetError, OptionError
from scalematch.match.levels import levels_from_profile
from scalematch.match.recommend import Recommendation, check_anchors_per_level, recommend
from scalematch.match.result import nothing_usable, usable
from scalematch.match.rules import Rule, RuleParams
from scalematch.profile.api import build_any_size
from scalematch.profile.engine import profile

if TYPE_CHECKING:
    import pandas as pd

    from scalematch.profile.graph import Graph


@dataclass(frozen=True)
class Design:
    """A recommendation for one backbone/neck at one resize policy."""

    backbone: str
    neck: str | None
    resize: str | None
    """The resize policy, or None for a box table given back with its own scales (see
    :func:`scalematch.dataset.loader.from_frame`)."""
    recommendation: Recommendation
    excluded: dict[str, int]
    data: LoadResult | None = field(default=None, repr=False, compare=False)
    """The boxes matched (for figures and per-object tables)."""

    @property
    def anchor_count(self) -> int:
        a = self.recommendation.anchors
        return a.per_level * len(a.fitted.shapes) if a else 0

    def __repr__(self) -> str:
        r = self.recommendation
        where = self.backbone + (f" + {self.neck}" if self.neck else "")
        return (
            f"<Design {where} at {policy_text(self.resize)}, rule {r.rule.value}: "
            f"use {', '.join(r.recommended_levels)} "
            f"({100 * r.chosen.coverage:.1f}% of {counted(r.chosen.total, 'object')}, target {100 * r.target:g}% "
            f"{'reached' if r.reached else 'missed'})>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``scalematch recommend --rule ... --json`` document of this design."""
        from scalematch.match.documents import recommend_document

        return recommend_document(self, [self])

    def to_frame(self, kind: str = "levels") -> pd.DataFrame:
        """A pandas DataFrame: ``levels`` (each level's load), ``categories`` (objects per category and level,
        too small and too large included) or ``objects`` (one row per matched object with its level; under a
        multi-scale policy, judged at both ends, also ``level_largest``, its level at the largest scale alone)."""
        import pandas as pd

        _args.choice(kind, "kind", ("levels", "categories", "objects"))
        full = self.recommendation.full
        out: pd.DataFrame
        if kind == "levels":
            out = pd.DataFrame(self.to_dict()["levels"])
            return out
        if kind == "categories":
            out = pd.DataFrame() if full.per_category is None else full.per_category.copy()
            return out
        import numpy as np

        if self.data is None:  # kind is "objects"
            raise OptionError("kind: 'objects' needs the design's data (designs made by recommend() keep it)")
        rows: pd.DataFrame = usable(self.data.table).copy()
        names = np.array([lv.name for lv in full.levels] + ["too large", "too small"], dtype=object)
        rows["level"] = names[full.assignment.level]
        if "level_largest" in full.assignment.detail:
            rows["level_largest"] = names[full.assignment.detail["level_largest"].astype(np.int64)]
        return rows


@dataclass(frozen=True)
class RuleSweep:
    """Several designs (backbones x resize policies) under one rule, ranked best first (see :func:`ranked`)."""

    designs: tuple[Design, ...]

    @property
    def best(self) -> Design:
        return self.designs[0]

    def __repr__(self) -> str:
        b = self.best
        return f"<RuleSweep of {counted(len(self.designs), 'design')}: best {b.backbone} at {policy_text(b.resize)}>"

    def to_dict(self) -> dict[str, Any]:
        """The ``scalematch recommend --rule ... --json`` document: the best design and the ranked ``sweep``."""
        from scalematch.match.documents import recommend_document

        return recommend_document(self.best, list(self.designs))

    def to_frame(self) -> pd.DataFrame:
        """One row per design, best first: backbone, resize, coverage, target_reached, levels, anchors, pixels."""
        import pandas as pd

        from scalematch.match.documents import sweep_row

        out: pd.DataFrame = pd.DataFrame([sweep_row(d) for d in self.designs])

        return out


def design(
    data: LoadResult | pd.DataFrame,
    backbone: str,
    neck: str | None = "fpn",
    level_names: list[str] | None = None,
    rule: Rule = Rule.RF,
    params: RuleParams | None = None,
    target: float = 0.99,
    anchors_per_level: int | None = None,
    allow_misaligned: bool = False,
    strict: bool = False,
) -> Design:
    """Profile ``backbone`` (+ ``neck``), take its levels, and recommend for the objects of ``data`` (a
    :class:`LoadResult` or a DataFrame with the box-table columns). The objects of an image whose input is too
    small for the network are left out as ``image_too_small``; with ``strict``, the first such image is a
    :class:`DatasetError`."""
    strict = _args.flag(strict, "strict")
    data = as_load_result(data)
    check_anchors_per_level(anchors_per_level)
    if not len(usable(data.table)):
        raise nothing_usable(data, "recommend for")
    graph = build_any_size(backbone, neck)
    prof = profile(graph, allow_misaligned=allow_misaligned)  # recommend takes no --allow-misaligned
    levels = levels_from_profile(prof, level_names, neck=neck is not None)
    data = _runnable(data, graph, backbone, strict)
    rec = recommend(data.table, levels, rule, params, target, anchors_per_level)
    return Design(backbone, neck, data.resize, rec, data.excluded, data)


def _runnable(data: LoadResult, graph: Graph, network: str, strict: bool = False) -> LoadResult:
    """``data`` without the objects of images whose input under the resize (at its smallest scale, rounded) is
    too small for the network of ``graph`` (a map of 0 units, or a kernel larger than its input), counted as
    ``image_too_small`` as detector mode counts them; when every image is, or with ``strict`` when one is, a
    :class:`DatasetError` naming the first in table order as detector mode does (``network``: the backbone's name
    in it). The sizes are
    tried from the smallest: a network that takes the smallest height and width takes the others (its maps only
    grow with its input), so a usual dataset costs one try."""
    import numpy as np

    from scalematch.dataset.table import IMAGE_TOO_SMALL
    from scalematch.errors import GraphError
    from scalematch.match.result import rows_at, small_image_text
    from scalematch.profile.engine import MapTooLarge, feature_sizes, sizes_or_problem

    table = data.table
    if not len(table) or not {"image_w", "image_h", "scale_x", "scale_y"} <= set(table.columns):
        return data
    h = np.rint(table["image_h"].to_numpy(np.float64) * table["scale_y"].to_numpy(np.float64))
    w = np.rint(table["image_w"].to_numpy(np.float64) * table["scale_x"].to_numpy(np.float64))
    finite = np.isfinite(h) & np.isfinite(w)
    if not finite.any():
        return data
    try:
        feature_sizes(graph, (int(h[finite].min()), int(w[finite].min())))
        return data
    except GraphError:  # (a SizeLikeMismatch too: raised below, at an image's own input size)
        pass
    pairs, inverse = np.unique(np.stack([np.where(finite, h, 1), np.where(finite, w, 1)], axis=1), axis=0,
                               return_inverse=True)  # fmt: skip
    inverse = inverse.reshape(-1)
    problems: dict[int, GraphError] = {}
    for k, (hk, wk) in enumerate(pairs.tolist()):
        found = sizes_or_problem(graph, (int(hk), int(wk)))
        if isinstance(found, GraphError):
            problems[k] = found
    bad = np.array([k in problems for k in range(len(pairs))], dtype=bool)
    small = bad[inverse] & finite
    if small.all() or (strict and small.any()):
        row = int(np.flatnonzero(small)[0])
        problem = problems[int(inverse[row])]
        hk, wk = (int(v) for v in pairs[inverse[row]])
        fit = "too large" if isinstance(problem, MapTooLarge) else "too small"
        first = small_image_text(table, row, (wk, hk), resize_words(data.resize), network, str(problem), fit)
        if small.all():
            raise DatasetError(
                f"{data.source}: every image becomes too small an input for the network; the first: {first}"
            )
        raise DatasetError(f"{data.source}: {first} [{IMAGE_TOO_SMALL}]")
    excluded = dict(data.excluded)
    excluded[IMAGE_TOO_SMALL] = excluded.get(IMAGE_TOO_SMALL, 0) + int(small.sum())
    return replace(data, table=rows_at(table, ~small), excluded={k: excluded[k] for k in sorted(excluded)})


def ranked(designs: list[Design]) -> list[Design]:
    """A sweep's designs, best first: target reached, then higher coverage, fewer levels, fewer anchors, fewer
    input pixels (a multi-scale policy's at its largest scale)."""

    def key(d: Design) -> tuple[bool, float, int, int, float]:
        r = d.recommendation
        pixels = r.input_advice.pixels_largest or r.input_advice.pixels_now or 0.0
        return (not r.reached, -round(r.chosen.coverage, 6), len(r.chosen.levels), d.anchor_count, pixels)

    return sorted(designs, key=key)
