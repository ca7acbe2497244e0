"""A detector preset matched against a dataset: the assigner simulation, its summary and the levels' profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from scalematch.dataset.loader import LoadResult
from scalematch.errors import OptionError
from scalematch.match.assign import Simulation, simulate
from scalematch.match.levels import Level, levels_from_profile
from scalematch.match.positives import PositivesSummary, summarize
from scalematch.match.result import usable
from scalematch.presets.preset import Preset
from scalematch.profile.api import build
from scalematch.profile.engine import profile


@dataclass(frozen=True)
class DetectorResult:
    """What ``recommend --detector`` reports: the preset, per-object positives and their summary."""

    preset: Preset
    simulation: Simulation = field(repr=False)
    summary: PositivesSummary
    levels: tuple[Level, ...]
    target: float

    @property
    def meets_target(self) -> bool:
        return self.summary.share_meeting >= self.target


def evaluate(data: LoadResult, preset: Preset, target: float = 0.99, min_positives: int = 1) -> DetectorResult:
    """Simulate ``preset``'s assigner on every non-crowd object of ``data`` and summarise it.

    ``target`` is the share of objects that should have at least ``min_positives`` positives.
    """
    if not 0 < target <= 1:
        raise OptionError(f"target: expected a share in (0, 1], got {target}")
    if min_positives < 1:
        raise OptionError(f"min_positives: expected a positive integer, got {min_positives}")
    graph = build(preset.backbone, preset.neck)
    rows = usable(data.table)
    if not len(rows):
        raise OptionError(f"{data.source}: no usable object to match (every record is excluded or crowd)")
    sim = simulate(preset, rows, graph)
    levels = levels_from_profile(profile(graph), list(preset.levels))
    return DetectorResult(preset, sim, summarize(sim, levels, min_positives), levels, target)
