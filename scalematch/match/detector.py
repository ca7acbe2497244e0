"""A detector preset matched against a dataset: the assigner simulation, its summary and the levels' profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from scalematch.dataset.loader import LoadResult
from scalematch.errors import OptionError
from scalematch.match.assign import DEFAULT_MIN_IOU, Simulation, simulate
from scalematch.match.levels import Level, levels_from_profile
from scalematch.match.positives import PositivesSummary, summarize
from scalematch.match.result import usable
from scalematch.match.search import Search, search
from scalematch.match.widen import level_graph
from scalematch.presets.preset import Preset
from scalematch.profile.engine import profile


@dataclass(frozen=True)
class DetectorResult:
    """What ``recommend --detector`` reports: the preset, per-object positives and their summary."""

    preset: Preset
    simulation: Simulation = field(repr=False)
    summary: PositivesSummary
    levels: tuple[Level, ...]
    target: float
    search: Search | None = None
    """The design search, run when the preset misses the target."""

    @property
    def meets_target(self) -> bool:
        return self.summary.share_meeting >= self.target


def evaluate(
    data: LoadResult, preset: Preset, target: float = 0.99, min_positives: int = 1, min_iou: float = DEFAULT_MIN_IOU
) -> DetectorResult:
    """Simulate ``preset``'s assigner on every non-crowd object of ``data`` and summarise it.

    ``target`` is the share of objects that should have at least ``min_positives`` positives, counting for IoU
    assigners only those with IoU >= ``min_iou``.
    """
    if not 0 < target <= 1:
        raise OptionError(f"target: expected a share in (0, 1], got {target}")
    if min_positives < 1:
        raise OptionError(f"min_positives: expected a positive integer, got {min_positives}")
    if not 0 <= min_iou < 1:
        raise OptionError(f"min_iou: expected an IoU in [0, 1), got {min_iou}")
    graph = level_graph(preset)
    rows = usable(data.table)
    if not len(rows):
        raise OptionError(f"{data.source}: no usable object to match (every record is excluded or crowd)")
    sim = simulate(preset, rows, graph, min_iou)
    levels = levels_from_profile(profile(graph), list(preset.levels))
    summary = summarize(sim, levels, min_positives)
    found = None if summary.share_meeting >= target else search(rows, preset, target, min_positives, min_iou)
    return DetectorResult(preset, sim, summary, levels, target, found)
