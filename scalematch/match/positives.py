"""Summaries of an assigner simulation: how many positives objects get, by size and by level, and why some get
none; the receptive-field context of the level that predicts each object."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalematch.match.assign import DROPPED, HAS_POSITIVE, LOST_TO_OTHER, NO_CANDIDATE, Simulation
from scalematch.match.levels import Level

if TYPE_CHECKING:
    import pandas as pd

COUNT_BINS = (("0", 0, 0), ("1", 1, 1), ("2-4", 2, 4), (">=5", 5, math.inf))
"""Positives per object, binned as the summaries report them (inclusive ends)."""

SIZE_BINS = (0.0, 16.0, 32.0, 64.0, 128.0, 256.0, math.inf)
"""Object size buckets in input pixels, by sqrt(w * h) of the box the assigner sees."""


@dataclass(frozen=True)
class SizeRow:
    label: str
    objects: int
    median: float | None
    none: int


@dataclass(frozen=True)
class LevelRow:
    """One level: the objects whose positives lie mostly there, and all positives it holds."""

    name: str
    objects: int
    positives: int
    stride: float | None = None
    rf: float | None = None
    erf_sigma: float | None = None
    larger_than_rf: int = 0


@dataclass(frozen=True)
class PositivesSummary:
    """What ``recommend --detector`` reports about positives (see :func:`summarize`)."""

    objects: int
    counts: tuple[tuple[str, int], ...]
    sizes: tuple[SizeRow, ...]
    levels: tuple[LevelRow, ...]
    reasons: tuple[tuple[str, int], ...]
    min_positives: int
    meeting: int
    upper_bound: bool
    floor: float | None = None
    only_weak: int = 0
    """Objects whose positives all have IoU below the floor."""

    @property
    def share_meeting(self) -> float:
        """Share of objects with at least ``min_positives`` positives at or above the quality floor."""
        return self.meeting / self.objects if self.objects else 0.0

    def to_dict(self) -> dict[str, object]:
        n = self.objects or 1
        return {
            "objects": self.objects,
            "min_positives": self.min_positives,
            "share_meeting": round(self.share_meeting, 6),
            "upper_bound": self.upper_bound,
            "quality_floor": self.floor,
            "objects_with_only_low_quality_positives": self.only_weak,
            "positives_per_object": {k: {"objects": v, "share": round(v / n, 6)} for k, v in self.counts},
            "by_size": [
                {"size": r.label, "objects": r.objects, "median_positives": r.median, "none": r.none}
                for r in self.sizes
            ],
            "levels": [
                {
                    "level": r.name,
                    "objects": r.objects,
                    "positives": r.positives,
                    "stride": r.stride,
                    "rf": r.rf,
                    "erf_sigma": None if r.erf_sigma is None else round(r.erf_sigma, 3),
                    "objects_larger_than_rf": r.larger_than_rf,
                }
                for r in self.levels
            ],
            "no_positive": dict(self.reasons),
        }


def size_label(lo: float, hi: float) -> str:
    if lo == 0:
        return f"<{hi:g}"
    return f">{lo:g}" if math.isinf(hi) else f"{lo:g}-{hi:g}"


def _median(tally: npt.NDArray[np.int64]) -> float:
    """The median of the values that ``tally`` counts (``tally[v]``: how many equal ``v``), as ``np.median`` gives it
    (for an even number, the mean of the two middle values)."""
    import numpy as np

    ends = np.cumsum(tally)
    k = int(ends[-1])
    low, high = np.searchsorted(ends, [(k - 1) // 2, k // 2], side="right")
    return (int(low) + int(high)) / 2


def main_level(sim: Simulation) -> npt.NDArray[np.int64]:
    """Per object: the index of the level holding most of its positives (the finest on ties), -1 for none and
    for every object of an upper-bound simulation (its per-level counts are candidates, not positives)."""
    import numpy as np

    per_level = sim.per_level
    main = np.full(len(sim.positives), -1, np.int64)
    if sim.upper_bound or not per_level.shape[1]:
        return main
    best = per_level[:, 0].copy()  # level by level: np.argmax along the short rows is slower
    main[best > 0] = 0
    for k in range(1, per_level.shape[1]):
        count = per_level[:, k]
        np.copyto(main, k, where=count > best)  # strictly more: the finest level wins a tie
        np.maximum(best, count, out=best)
    return main


def _size_tallies(sim: Simulation, total: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    """Per size bucket (:data:`SIZE_BINS`, by sqrt(w * h) of the box the assigner sees; NaN and inf in none): the
    tally of its objects' positives (``tally[v]``: how many have ``v``), at least one entry long."""
    import numpy as np

    size = np.sqrt(sim.w_in * sim.h_in)
    buckets = len(SIZE_BINS) - 1
    bucket = np.zeros(len(size), np.int64)
    for edge in SIZE_BINS[1:]:  # (the first is 0: sqrt gives no less; NaN is no size and inf past the last bucket)
        bucket += size >= edge
    bucket[np.isnan(size)] = buckets
    inside = bucket < buckets
    width = int(total.max(initial=0)) + 1
    if width * buckets > 4 * len(total) + 1024:  # counts too spread for one table: a tally per bucket
        return [np.bincount(total[inside & (bucket == b)], minlength=1) for b in range(buckets)]
    both = np.bincount(bucket[inside] * width + total[inside], minlength=buckets * width)
    return list(both.reshape(buckets, width))


def summarize(sim: Simulation, levels: tuple[Level, ...] | None = None, min_positives: int = 1) -> PositivesSummary:
    """Shares of objects with 0 / 1 / 2-4 / >= 5 positives, median positives per size bucket, per-level load and
    the reasons for no positive. ``levels`` (the profile's, same names) adds each level's RF and ERF and how many
    of its objects are larger than that RF along their longer side."""
    import numpy as np

    total = sim.positives
    n = len(total)
    # Each figure from one bincount over the objects, not a mask per bin (~70 passes over train2017's objects)
    last = int(COUNT_BINS[-1][1])  # (the bins tile 0, 1, 2, ...: counts are >= 0; the last is open)
    bin_of = np.searchsorted([lo for _, lo, _ in COUNT_BINS], np.arange(last + 1), side="right") - 1
    per_bin = np.bincount(bin_of[np.minimum(total, last)], minlength=len(COUNT_BINS))
    counts = tuple((label, int(c)) for (label, _, _), c in zip(COUNT_BINS, per_bin, strict=True))
    sizes = [
        SizeRow(size_label(lo, hi), int(tally.sum()), _median(tally) if tally.sum() else None, int(tally[0]))
        for (lo, hi), tally in zip(itertools.pairwise(SIZE_BINS), _size_tallies(sim, total), strict=True)
    ]
    main = main_level(sim)
    by_name = {lv.name: lv for lv in levels or ()}
    found = [by_name.get(name) for name in sim.levels]
    taken = np.bincount(main + 1, minlength=len(sim.levels) + 1)[1:]  # (main -1: none)
    rf = np.array([lv.rf if lv else np.inf for lv in found] or [np.inf], np.float64)
    placed = main >= 0
    longer = np.maximum(sim.w_in[placed], sim.h_in[placed])
    larger = np.bincount(main[placed][longer > rf[main[placed]]], minlength=len(sim.levels))
    positives = [int(sim.per_level[:, k].sum()) for k in range(len(sim.levels))]  # (faster than sum(axis=0))
    rows = []
    for k, (name, lv) in enumerate(zip(sim.levels, found, strict=True)):
        stride, level_rf, sigma = (lv.stride, lv.rf, lv.erf_sigma) if lv else (None, None, None)
        rows.append(
            LevelRow(name, int(taken[k]), int(positives[k]), stride, level_rf, sigma, int(larger[k]) if lv else 0)
        )
    reasons = tuple((r, sim.count(r)) for r in (LOST_TO_OTHER, NO_CANDIDATE, DROPPED))
    quality = sim.quality
    return PositivesSummary(
        n, counts, tuple(sizes), tuple(rows), reasons, min_positives,
        int(np.count_nonzero(quality >= min_positives)), sim.upper_bound,
        sim.min_iou if sim.preset.scores_iou else None, int(np.count_nonzero((total > 0) & (quality == 0))),
    )  # fmt: skip


def objects_frame(sim: Simulation) -> pd.DataFrame:
    """One row per object: ids (``annotation_id``: the file's id for COCO, ``<file>:<object or line>`` for VOC and
    YOLO), ``category_id`` (when the table has it) and ``category`` (the name), the box the assigner sees,
    positives in total and per level, best IoU, the level holding most positives and the reason for none (empty
    when it has one); with several inputs, first ``shard`` (the input of the row) and after ``image_id``
    ``shard_image_id`` (the image's id there). For an upper-bound simulation (YOLOv8's top-k of candidates) the
    per-level columns are ``candidates_<level>`` and ``level`` is empty: which candidates the top-k keeps is
    decided in training."""
    import numpy as np
    import pandas as pd

    t = sim.table
    ids = t["ann_id"].to_numpy()
    if "label_file" in t.columns:  # VOC and YOLO: the file (relative to the dataset folder) and object or line
        ids = (t["label_file"].astype(str) + ":" + t["label_index"].astype(str)).to_numpy()
    main = main_level(sim)
    names = np.array((*sim.levels, ""), dtype=object)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "image_id": t["image_id"].to_numpy(),
            "annotation_id": ids,
            **({"category_id": t["category_id"].to_numpy()} if "category_id" in t.columns else {}),
            "category": t["category"].astype(str).to_numpy() if "category" in t.columns else "",
            "w_in": np.round(sim.w_in, 3),
            "h_in": np.round(sim.h_in, 3),
            "positives": sim.positives,
        }
    )
    per_level = "candidates" if sim.upper_bound else "positives"  # an upper bound counts candidates per level
    for k, name in enumerate(sim.levels):
        frame[f"{per_level}_{name}"] = sim.per_level[:, k]
    frame["positives_below_floor"] = sim.weak
    frame["best_iou"] = np.round(sim.best_iou, 6)
    frame["level"] = names[main]
    frame["no_positive_reason"] = np.where(sim.reason == HAS_POSITIVE, "", sim.reason)
    if "shard" in t.columns:  # several inputs: the input each row comes from and the image's id there
        frame.insert(0, "shard", t["shard"].astype(str).to_numpy())
        frame.insert(2, "shard_image_id", t["shard_image_id"].to_numpy())
    return frame


if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
