"""A detector preset matched against a dataset: the assigner simulation, its summary and the levels' profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalematch.dataset.loader import LoadResult, as_load_result
from scalematch.errors import OptionError
from scalematch.match.assign import DEFAULT_MIN_IOU, Simulation, simulate
from scalematch.match.levels import Level, levels_from_profile
from scalematch.match.positives import PositivesSummary, summarize
from scalematch.match.result import usable
from scalematch.match.search import Search, Sweep, search
from scalematch.match.widen import level_graph
from scalematch.presets.preset import Preset
from scalematch.profile.engine import profile

if TYPE_CHECKING:
    import pandas as pd


MAX_MIN_POSITIVES = 10_000  # no default assigner gives one object more positives than this


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
    source: str = ""
    excluded: dict[str, int] = field(default_factory=dict)
    """Records left out of the box table, by reason."""
    sweep: Sweep | None = None
    """The input sizes tried, best first, when several were given (the preset is then the best one's)."""
    data: LoadResult | None = field(default=None, repr=False, compare=False)
    """The boxes matched (for figures and per-object tables)."""

    @property
    def meets_target(self) -> bool:
        return self.summary.share_meeting >= self.target

    def __repr__(self) -> str:
        verdict = "meets" if self.meets_target else "misses"
        return (
            f"<DetectorResult {self.preset.name} ({self.preset.toolkit}): {100 * self.summary.share_meeting:.1f}% of "
            f"{self.summary.objects} objects have {self.summary.min_positives}+ positives, {verdict} the target "
            f"{100 * self.target:g}%>"
        )

    def to_dict(self) -> dict[str, object]:
        """The ``scalematch recommend --detector ... --json`` document."""
        from scalematch.match.documents import document, sweep_document

        doc = document(self.preset, self.summary, self.target, self.source, self.search, self.excluded)
        if self.sweep is not None:
            doc["sweep"] = sweep_document(self.sweep)
        return doc

    def to_frame(self, kind: str = "levels") -> pd.DataFrame:
        """A pandas DataFrame: ``levels`` (positives per level), ``sizes`` (per object size bucket),
        ``categories`` (per category) or ``objects`` (one row per object, as ``--objects FILE.csv``)."""
        import pandas as pd

        from scalematch.match.positives import objects_frame

        if kind == "objects":
            return objects_frame(self.simulation)
        if kind == "categories":
            objects = objects_frame(self.simulation)
            objects["meeting"] = self.simulation.quality >= self.summary.min_positives
            grouped = objects.groupby("category", sort=True)
            frame = pd.DataFrame(
                {
                    "objects": grouped.size(),
                    "meeting": grouped["meeting"].sum().astype(int),
                    "no_positive": grouped["positives"].apply(lambda p: int((p == 0).sum())),
                    "median_positives": grouped["positives"].median(),
                }
            )
            frame["share_meeting"] = frame["meeting"] / frame["objects"]
            ordered: pd.DataFrame = frame.sort_values("objects", ascending=False)
            return ordered
        positives: dict[str, Any] = self.summary.to_dict()
        if kind in ("levels", "sizes"):
            table: pd.DataFrame = pd.DataFrame(positives["levels" if kind == "levels" else "by_size"])
            return table
        raise OptionError(f"kind: expected levels, sizes, categories or objects, got {kind!r}")


def evaluate(
    data: LoadResult | pd.DataFrame,
    preset: Preset,
    target: float = 0.99,
    min_positives: int = 1,
    min_iou: float = DEFAULT_MIN_IOU,
    workers: int | None = None,
) -> DetectorResult:
    """Simulate ``preset``'s assigner on every non-crowd object of ``data`` and summarise it (in ``workers``
    processes; default: every core).

    ``target`` is the share of objects that should have at least ``min_positives`` positives, counting for IoU
    assigners only those with IoU >= ``min_iou``. ``data`` is a :class:`LoadResult` or a DataFrame with the
    box-table columns.
    """
    data = as_load_result(data)
    if not 0 < target <= 1:
        raise OptionError(f"coverage: expected a share in (0, 1], got {target}")
    if not 1 <= min_positives <= MAX_MIN_POSITIVES:
        raise OptionError(f"min_positives: expected an integer from 1 to {MAX_MIN_POSITIVES:,}, got {min_positives}")
    if not 0 <= min_iou < 1:
        raise OptionError(f"min_iou: expected an IoU in [0, 1), got {min_iou}")
    graph = level_graph(preset)
    rows = usable(data.table)
    if not len(rows):
        raise OptionError(f"{data.source}: no usable object to match (every record is excluded or crowd)")
    sim = simulate(preset, rows, graph, min_iou, workers)
    levels = levels_from_profile(profile(graph), list(preset.levels))
    summary = summarize(sim, levels, min_positives)
    found = None if summary.share_meeting >= target else search(rows, preset, target, min_positives, min_iou)
    return DetectorResult(preset, sim, summary, levels, target, found, data.source, dict(data.excluded), data=data)
