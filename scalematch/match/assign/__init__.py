"""Assigner simulation: for a detector preset, which anchors or points become positives of every object.

Images are processed in chunks of whole images (objects compete only within their image), so memory stays
bounded on large datasets.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalematch.match import geometry
from scalematch.match.assign._grid import anchor_levels
from scalematch.match.assign.atss import atss
from scalematch.match.assign.maxiou import Assigned, Boxes, assign
from scalematch.match.assign.points import fcos, tal
from scalematch.match.assign.yolov5 import build_targets
from scalematch.match.result import Selected
from scalematch.presets.preset import (
    ATSSAssign,
    FCOSAssign,
    MaxIoU,
    MMDetAnchors,
    Points,
    Preset,
    SSDBoxes,
    SSDMatch,
    TALAssign,
    TorchvisionAnchors,
    YoloAnchors,
    YOLOv5Assign,
)
from scalematch.profile.graph import Graph

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

CHUNK = 50_000
"""Objects per chunk (whole images; a chunk holds at least one image)."""

DEFAULT_MIN_IOU = 0.1
"""Quality floor (scalematch's choice): a positive anchor whose IoU with its object is below it counts as low
quality. At 0.1 an object inside an anchor fills at least a tenth of it (a 10 px object in a 32 px anchor);
below, the anchor is mostly background around the object, as in the low-quality matches that give tiny objects
their only positives."""

HAS_POSITIVE = "has_positive"
LOST_TO_OTHER = "lost_to_other"
NO_CANDIDATE = "no_candidate"
DROPPED = "dropped_by_pipeline"
REASONS = (LOST_TO_OTHER, NO_CANDIDATE, DROPPED)
OUTCOMES = (HAS_POSITIVE, *REASONS)
"""Why an object has no positive: every anchor or point it could take went to another object of its image;
none qualifies for it (IoU, ratio, range or centre-sampling test); the toolkit's data pipeline drops the box
(empty after clamping it to the image)."""


@dataclass(frozen=True)
class Simulation:
    """Per object (rows of ``table``, in its order): positives per level and in total, the best IoU over all
    anchors (NaN for point and ratio assigners), the box as the toolkit sees it, and the reason for none."""

    preset: Preset
    levels: tuple[str, ...]
    rows: pd.DataFrame | Selected = field(repr=False)
    """The objects, as a table or as rows of a table not taken yet (:attr:`table` takes them)."""
    per_level: npt.NDArray[np.int64] = field(repr=False)
    positives: npt.NDArray[np.int64] = field(repr=False)
    best_iou: npt.NDArray[np.float64] = field(repr=False)
    w_in: npt.NDArray[np.float64] = field(repr=False)
    h_in: npt.NDArray[np.float64] = field(repr=False)
    reason_code: npt.NDArray[np.int8] = field(repr=False)
    """Per object: the index of its reason in :data:`OUTCOMES`."""
    weak: npt.NDArray[np.int64] = field(repr=False)
    """Per object: positives whose IoU is below ``min_iou`` (zeros where no IoU applies)."""
    min_iou: float = DEFAULT_MIN_IOU
    anchors_per_image: float = 0.0
    """Anchors or points the head scores per image, the mean over the images (the search's cost)."""

    @property
    def table(self) -> pd.DataFrame:
        """The objects' rows of the box table (one per object, in the simulation's order)."""
        rows = self.rows
        return rows.frame if isinstance(rows, Selected) else rows

    @property
    def reason(self) -> npt.NDArray[np.object_]:
        """Per object: :data:`HAS_POSITIVE` or the reason for none (one of :data:`REASONS`)."""
        import numpy as np

        return np.array(OUTCOMES, dtype=object)[self.reason_code]

    def count(self, outcome: str) -> int:
        """How many objects have ``outcome`` (:data:`HAS_POSITIVE` or one of :data:`REASONS`)."""
        import numpy as np

        return int(np.count_nonzero(self.reason_code == OUTCOMES.index(outcome)))

    @property
    def quality(self) -> npt.NDArray[np.int64]:
        """Per object: positives at or above the quality floor (all positives where no floor applies)."""
        return self.positives - self.weak

    @property
    def upper_bound(self) -> bool:
        return self.preset.upper_bound


def simulate(
    preset: Preset, table: pd.DataFrame, graph: Graph, min_iou: float = DEFAULT_MIN_IOU, workers: int | None = None
) -> Simulation:
    """Run ``preset``'s assigner on every object of ``table`` (one row per object to match; columns image_id,
    image_w, image_h, x, y, w, h in original pixels) over the levels of ``graph``; positives of IoU assigners
    below ``min_iou`` are counted in ``weak``. Chunks of images go to ``workers`` processes (default: every
    core; the result does not depend on it)."""
    return Running(preset, table, graph, min_iou, workers).result(table)


class Running:
    """A simulation (as :func:`simulate` runs it) set up on ``table`` here and now: the images resized, the
    objects as the toolkit's pipeline hands them over, the level grids. Its chunks of images then run at
    :meth:`run` (or :meth:`result`). An error of the set-up is raised here, one of the chunks by :meth:`run`."""

    def __init__(
        self, preset: Preset, table: pd.DataFrame | Selected, graph: Graph, min_iou: float = DEFAULT_MIN_IOU,
        workers: int | None = None,
    ) -> None:  # fmt: skip
        import numpy as np

        self.preset, self.min_iou = preset, min_iou
        rows = table if isinstance(table, Selected) else Selected(table)
        n = len(rows)
        image_ids = rows.column("image_id")
        order = np.argsort(image_ids, kind="stable")  # images together, file order inside each
        ids = image_ids[order]
        new = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, bool)
        first = np.flatnonzero(new)
        inverse = np.cumsum(new) - 1
        at = order if rows.positions is None else rows.positions[order]  # the rows' positions in their table
        w0 = rows.table["image_w"].to_numpy(np.float64)[at[first]]
        h0 = rows.table["image_h"].to_numpy(np.float64)[at[first]]
        imgs = geometry.images(preset, w0, h0)
        sorted_rows = rows.table[[c for c in geometry.BOX_COLUMNS if c in rows.columns]].take(at)
        objs = geometry.objects(preset, sorted_rows, inverse.astype(np.int64), imgs)
        try:
            grids = geometry.grids(preset, graph, imgs)
        except geometry.TooSmall as small:
            from scalematch.errors import DatasetError

            k = small.index
            raise DatasetError(
                f"image {ids[first[k]]} ({w0[k]:g}x{h0[k]:g} px) becomes a {small.width}x{small.height} input under "
                f"{preset.name}'s resize, {small.fit} for {preset.backbone}: {small.reason.rsplit(': ', 1)[-1]}"
            ) from None
        self.anchors_per_image = _head_size(preset, grids)
        self.order, self.objs = order, objs
        # Results go straight to the table's order (``order[i]`` is the row of sorted object ``i``).
        self.per_level = np.zeros((n, len(preset.levels)), np.int64)
        self.total = np.zeros(n, np.int64)
        self.best = np.full(n, np.nan)
        self.lost = np.zeros(n, bool)
        self.weak = np.zeros(n, np.int64)
        kept_idx = np.flatnonzero(objs.kept)
        chunks = [kept_idx[lo:hi] for lo, hi in _chunks(objs.image[kept_idx])]
        if isinstance(preset.assigner, MaxIoU | SSDMatch):
            from scalematch.match.assign import _compiled
            from scalematch.pool import cores

            threads = min(cores() if workers is None else workers, len(chunks))
            _compiled.prepare(len(kept_idx), threads)  # it then runs in threads of this process (see _results)
        self._work = (chunks, (preset, objs, grids, imgs, min_iou), workers)
        self._ran = False

    def run(self) -> None:
        """Run the chunks of images here (once; :meth:`result` runs them when no one has)."""
        if self._ran:
            return
        chunks, state, workers = self._work
        order = self.order
        for idx, (res, bound) in zip(chunks, _results(chunks, state, workers), strict=True):
            rows = order[idx]
            self.per_level[rows] = res.positives
            self.total[rows] = res.positives.sum(axis=1) if bound is None else bound
            self.best[rows] = res.best
            self.lost[rows] = res.lost
            if res.weak is not None:
                self.weak[rows] = res.weak
        self._ran = True
        if isinstance(self.preset.assigner, MaxIoU | SSDMatch):
            from scalematch.match.assign import _compiled

            _compiled.after(sum(len(c) for c in chunks), int(self.total.sum()))

    def result(self, table: pd.DataFrame | Selected) -> Simulation:
        """The :class:`Simulation`, for ``table`` (the rows set up, or a table of the same rows in their order)."""
        import numpy as np

        self.run()
        objs, order, n = self.objs, self.order, len(self.total)
        none = np.where(self.lost, OUTCOMES.index(LOST_TO_OTHER), OUTCOMES.index(NO_CANDIDATE))
        code = np.where(self.total == 0, none, OUTCOMES.index(HAS_POSITIVE)).astype(np.int8)
        code[order[~objs.kept]] = OUTCOMES.index(DROPPED)
        w_in = np.empty(n)
        h_in = np.empty(n)
        w_in[order] = objs.x2 - objs.x1
        h_in[order] = objs.y2 - objs.y1
        return Simulation(
            self.preset, self.preset.levels, table, self.per_level, self.total, self.best, w_in, h_in, code,
            self.weak, self.min_iou, self.anchors_per_image,
        )  # fmt: skip


def anchors_per_image(preset: Preset, table: pd.DataFrame, graph: Graph) -> float:
    """The anchors or points ``preset``'s head scores per image of ``table``, the mean over its images (what
    :func:`simulate` reports, without running the assigner); infinite when an image is too small for the network,
    or its input not the one size a model that fixes it takes (the design search skips such designs)."""
    import numpy as np

    ids = table["image_id"].to_numpy()
    _, first = np.unique(ids, return_index=True)
    w0 = table["image_w"].to_numpy(np.float64)[first]
    h0 = table["image_h"].to_numpy(np.float64)[first]
    try:
        grids = geometry.grids(preset, graph, geometry.images(preset, w0, h0))
    except (geometry.TooSmall, geometry.FixedInput):
        return float("inf")
    return _head_size(preset, grids)


def _head_size(preset: Preset, grids: tuple[geometry.Grid, ...]) -> float:
    """Mean over the images of the anchors or points on every level's grid."""
    import numpy as np

    cells = sum(g.rows * g.cols * a for g, a in zip(grids, _per_location(preset), strict=True))
    return float(np.mean(cells)) if len(grids) and len(grids[0].rows) else 0.0


def _per_location(preset: Preset) -> list[int]:
    """Anchors (or points) per grid location on each level."""
    gen = preset.anchors
    n = len(preset.levels)
    if isinstance(gen, SSDBoxes):
        return [2 + 2 * len(r) for r in gen.aspect_ratios]
    if isinstance(gen, YoloAnchors):
        return [len(level) for level in gen.shapes]
    return [gen.per_level()] * n


def _chunks(image: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """Index ranges of about CHUNK objects that never split an image (``image`` is sorted)."""
    import numpy as np

    bounds = [0]
    while bounds[-1] < len(image):
        end = min(bounds[-1] + CHUNK, len(image))
        if end < len(image):
            end = int(np.searchsorted(image, image[end], side="left"))
            if end <= bounds[-1]:
                end = int(np.searchsorted(image, image[bounds[-1]], side="right"))
        bounds.append(end)
    return list(itertools.pairwise(bounds))


_State = tuple[Preset, "geometry.Objects", tuple["geometry.Grid", ...], "geometry.Images", float]
_state: list[_State] = []
"""In a worker process: what every chunk needs, inherited from the parent when the worker forks."""


def _results(
    chunks: list[npt.NDArray[np.int64]], state: _State, workers: int | None
) -> Iterator[tuple[Assigned, npt.NDArray[np.int64] | None]]:
    """The assigner's result on each chunk of objects, in order: here, or in worker processes when there are
    several chunks and cores."""
    from scalematch.match.assign import _compiled
    from scalematch.pool import can_fork, cores, ordered_map, thread_map

    workers = min(cores() if workers is None else workers, len(chunks))
    if workers > 1 and isinstance(state[0].assigner, MaxIoU | SSDMatch) and _compiled.active():
        # the compiled kernel runs without the GIL: threads share the objects and anchors, nothing is copied
        return thread_map(lambda idx: _run(state[0], state[1], idx, *state[2:]), chunks, workers)
    if workers <= 1 or not can_fork():
        return (_run(state[0], state[1], idx, *state[2:]) for idx in chunks)
    return ordered_map(_run_chunk, chunks, workers, initializer=_state.append, initargs=(state,))


def _run_chunk(idx: npt.NDArray[np.int64]) -> tuple[Assigned, npt.NDArray[np.int64] | None]:
    preset, objs, grids, imgs, floor = _state[0]
    return _run(preset, objs, idx, grids, imgs, floor)


def _run(
    preset: Preset, objs: geometry.Objects, idx: npt.NDArray[np.int64], grids: tuple[geometry.Grid, ...],
    imgs: geometry.Images, floor: float,
) -> tuple[Assigned, npt.NDArray[np.int64] | None]:  # fmt: skip
    boxes = Boxes(objs.image[idx], objs.x1[idx], objs.y1[idx], objs.x2[idx], objs.y2[idx])
    gen, rule = preset.anchors, preset.assigner
    if isinstance(rule, MaxIoU | SSDMatch) and isinstance(gen, TorchvisionAnchors | SSDBoxes):
        levels = anchor_levels(gen, grids, imgs)
        if isinstance(rule, MaxIoU):
            return assign(boxes, levels, rule.high, rule.low_quality, floor=floor), None
        return assign(boxes, levels, rule.threshold, low_quality=False, forced=True, floor=floor), None
    if isinstance(rule, FCOSAssign) and isinstance(gen, TorchvisionAnchors):
        return fcos(boxes, anchor_levels(gen, grids, imgs), rule.center_sampling_radius), None
    if isinstance(rule, YOLOv5Assign) and isinstance(gen, YoloAnchors) and objs.norm is not None:
        norm = tuple(v[idx] for v in objs.norm)
        return build_targets(norm, boxes.image, grids, gen.shapes, gen.strides, rule.anchor_t), None  # type: ignore[arg-type]
    if isinstance(rule, ATSSAssign) and isinstance(gen, MMDetAnchors | TorchvisionAnchors):
        return atss(boxes, anchor_levels(gen, grids, imgs), rule.topk, floor), None
    if isinstance(rule, TALAssign) and isinstance(gen, Points):
        return tal(boxes, grids, gen.offset, rule.topk, rule.min_side)
    from scalematch.errors import ConfigError
    from scalematch.presets.load import kind_of

    where = preset.path or preset.name
    if isinstance(rule, YOLOv5Assign) and isinstance(gen, YoloAnchors):
        raise ConfigError(f"{where}: assigner yolov5 needs input kind letterbox with style yolov5")
    raise ConfigError(f"{where}: assigner {kind_of(rule)} does not work with anchors {kind_of(gen)}")
