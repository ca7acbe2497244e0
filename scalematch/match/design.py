"""One design (backbone, neck, resize) matched against a dataset, and a ranked sweep over several."""

from __future__ import annotations

from dataclasses import dataclass

from scalematch.dataset.loader import LoadResult
from scalematch.errors import DatasetError, OptionError
from scalematch.match.levels import levels_from_profile
from scalematch.match.recommend import Recommendation, recommend
from scalematch.match.result import usable
from scalematch.match.rules import Rule, RuleParams
from scalematch.profile.api import build
from scalematch.profile.engine import profile


@dataclass(frozen=True)
class Design:
    """A recommendation for one backbone/neck at one resize policy."""

    backbone: str
    neck: str | None
    resize: str
    recommendation: Recommendation
    excluded: dict[str, int]

    @property
    def anchor_count(self) -> int:
        a = self.recommendation.anchors
        return a.per_level * len(a.fitted.shapes) if a else 0


def design(
    data: LoadResult,
    backbone: str,
    neck: str | None = "fpn",
    level_names: list[str] | None = None,
    rule: Rule = Rule.RF,
    params: RuleParams | None = None,
    target: float = 0.99,
    anchors_per_level: int | None = None,
    allow_misaligned: bool = False,
) -> Design:
    """Profile ``backbone`` (+ ``neck``), take its levels, and recommend for the objects of ``data``."""
    if anchors_per_level is not None and anchors_per_level < 1:
        raise OptionError(f"--anchors-per-level: expected a positive integer, got {anchors_per_level}")
    if not len(usable(data.table)):
        excluded = ", ".join(f"{k} {v}" for k, v in data.excluded.items()) or "none"
        raise DatasetError(f"{data.source}: no usable object to recommend for (excluded: {excluded})")
    prof = profile(build(backbone, neck), allow_misaligned=allow_misaligned)
    levels = levels_from_profile(prof, level_names, neck=neck is not None)
    rec = recommend(data.table, levels, rule, params, target, anchors_per_level)
    return Design(backbone, neck, data.resize, rec, data.excluded)


def ranked(designs: list[Design]) -> list[Design]:
    """A sweep's designs, best first: target reached, then higher coverage, fewer levels, fewer anchors, fewer
    input pixels."""

    def key(d: Design) -> tuple[bool, float, int, int, float]:
        r = d.recommendation
        pixels = r.input_advice.pixels_now or 0.0
        return (not r.reached, -round(r.chosen.coverage, 6), len(r.chosen.levels), d.anchor_count, pixels)

    return sorted(designs, key=key)
