"""The design search of ``recommend --detector``: variations of a preset, each simulated, the cheapest that meets
the target kept (scalematch's objective; the simulation under it is the toolkit's own decision).

A variation scales the input, scales the anchors (their count per location stays the head's), or drops the
coarsest levels of a head shared across levels (the level set stays contiguous). Cost: the anchors or points the
head scores per image (mean over the images), which grows with the input's pixels and the levels kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from scalematch.dataset.resize import Fixed, LongestEdge, ResizePolicy, ShortestEdge, parse_policy
from scalematch.errors import OptionError
from scalematch.match.assign import DEFAULT_MIN_IOU, simulate
from scalematch.presets.preset import (
    LetterboxInput,
    MMDetAnchors,
    MMDetInput,
    Points,
    Preset,
    SSDBoxes,
    TorchvisionAnchors,
    TorchvisionInput,
    YoloAnchors,
)
from scalematch.profile.api import build

if TYPE_CHECKING:
    import pandas as pd

INPUT_SCALES = (1.0, 1.25, 1.5, 2.0, 3.0)
ANCHOR_SCALES = (1.0, 0.75, 0.5, 0.25)
SEARCH_OBJECTS = 50_000
"""At most this many objects (whole images, a fixed-seed sample) are simulated per variation; the preset and
the chosen design are then simulated on every object."""


@dataclass(frozen=True)
class Trial:
    """One design: its changes from the preset, the share of objects meeting the target's test, its cost."""

    preset: Preset
    input_scale: float
    anchor_scale: float
    dropped: int
    share: float
    cost: float

    @property
    def changes(self) -> str:
        parts = []
        if self.input_scale != 1:
            parts.append(f"input x{self.input_scale:g}")
        if self.anchor_scale != 1:
            parts.append(f"anchors x{self.anchor_scale:g}")
        if self.dropped:
            parts.append(f"levels {self.preset.levels[0]}-{self.preset.levels[-1]}")
        return ", ".join(parts) or "the preset as it is"


@dataclass(frozen=True)
class Search:
    """The preset (``before``), the chosen design and every design tried (on ``sampled`` objects)."""

    before: Trial
    chosen: Trial
    trials: tuple[Trial, ...]
    target: float
    reached: bool
    sampled: int
    objects: int


def scaled(preset: Preset, input_scale: float = 1.0, anchor_scale: float = 1.0, dropped: int = 0) -> Preset:
    """``preset`` with its input and anchors scaled and its ``dropped`` coarsest levels removed."""
    spec = preset.input
    if input_scale != 1:
        if isinstance(spec, TorchvisionInput):
            fixed = spec.fixed_size
            spec = replace(
                spec,
                min_size=round(spec.min_size * input_scale),
                max_size=round(spec.max_size * input_scale),
                fixed_size=None if fixed is None else (round(fixed[0] * input_scale), round(fixed[1] * input_scale)),
            )
        elif isinstance(spec, MMDetInput):
            spec = replace(spec, long=round(spec.long * input_scale), short=round(spec.short * input_scale))
        else:
            assert isinstance(spec, LetterboxInput)
            spec = replace(spec, size=32 * round(spec.size * input_scale / 32))
    gen = preset.anchors
    if anchor_scale != 1:
        if isinstance(gen, TorchvisionAnchors):
            gen = replace(gen, sizes=tuple(tuple(s * anchor_scale for s in level) for level in gen.sizes))
        elif isinstance(gen, SSDBoxes):
            gen = replace(gen, scales=tuple(s * anchor_scale for s in gen.scales))
        elif isinstance(gen, YoloAnchors):
            gen = replace(
                gen, shapes=tuple(tuple((w * anchor_scale, h * anchor_scale) for w, h in lv) for lv in gen.shapes)
            )
        elif isinstance(gen, MMDetAnchors):
            gen = replace(gen, octave_base_scale=gen.octave_base_scale * anchor_scale)
    out = replace(preset, input=spec, anchors=gen)
    return with_levels(out, out.levels[:-dropped]) if dropped else out


def variations(preset: Preset) -> list[tuple[float, float, int]]:
    """(input scale, anchor scale, coarsest levels dropped) worth trying for ``preset``'s head."""
    anchors = ANCHOR_SCALES if not isinstance(preset.anchors, Points) else (1.0,)
    # A head shared across levels (torchvision's RPN, RetinaNet and FCOS heads, mmdet's ATSS head) works on any
    # contiguous run; SSD's per-level heads and YOLO's three-level head keep their levels.
    shared = isinstance(preset.anchors, TorchvisionAnchors | MMDetAnchors) and len(preset.levels) > 3
    drops = (0, 1, 2) if shared else (0,)
    return [(i, a, d) for i in INPUT_SCALES for a in anchors for d in drops]


def _sample(rows: pd.DataFrame, limit: int, seed: int = 0) -> pd.DataFrame:
    """Whole images drawn with a fixed seed until about ``limit`` objects."""
    import numpy as np

    if len(rows) <= limit:
        return rows
    ids = rows["image_id"].to_numpy()
    images = np.unique(ids)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(images)[: max(1, int(len(images) * limit / len(rows)))]
    sampled: pd.DataFrame = rows[np.isin(ids, chosen)]
    return sampled


def search(
    rows: pd.DataFrame, preset: Preset, target: float = 0.99, min_positives: int = 1, min_iou: float = DEFAULT_MIN_IOU
) -> Search:
    """Simulate every variation of ``preset`` on (a sample of) ``rows`` and choose: the preset when it meets the
    target, else the cheapest variation that does, else the one with the highest share (the cheaper on ties)."""
    part = _sample(rows, SEARCH_OBJECTS)
    graph = build(preset.backbone, preset.neck)
    trials = []
    for i, a, d in variations(preset):
        candidate = scaled(preset, i, a, d)
        sim = simulate(candidate, part, graph, min_iou)
        share = float((sim.quality >= min_positives).mean()) if len(part) else 0.0
        trials.append(Trial(candidate, i, a, d, share, sim.anchors_per_image))
    before = trials[0]
    meeting = [t for t in trials if t.share >= target]
    if before.share >= target:
        chosen = before
    elif meeting:
        chosen = min(meeting, key=lambda t: (t.cost, _distance(t)))
    else:
        chosen = max(trials, key=lambda t: (round(t.share, 9), -t.cost))
    if len(part) < len(rows):  # the numbers shown are of every object
        before, chosen = (_full(t, rows, graph, min_positives, min_iou) for t in (before, chosen))
    return Search(before, chosen, tuple(trials), target, chosen.share >= target, len(part), len(rows))


def _distance(t: Trial) -> float:
    """How far a design is from the preset (to break cost ties towards small changes)."""
    return abs(math.log(t.input_scale)) + abs(math.log(t.anchor_scale)) + t.dropped


def _full(t: Trial, rows: pd.DataFrame, graph: object, min_positives: int, min_iou: float) -> Trial:
    sim = simulate(t.preset, rows, graph, min_iou)  # type: ignore[arg-type]
    return replace(t, share=float((sim.quality >= min_positives).mean()), cost=sim.anchors_per_image)


def at_input(preset: Preset, policy: str | ResizePolicy) -> Preset:
    """``preset`` with its input size taken from a resize policy of the same kind: shortest-edge:S,L for
    torchvision's and mmdetection's resize, longest-edge:L for a letterbox, fixed:WxH for a stretch."""
    parsed = parse_policy(policy)
    spec = preset.input
    if isinstance(spec, TorchvisionInput) and spec.fixed_size is None and isinstance(parsed, ShortestEdge):
        return replace(preset, input=replace(spec, min_size=parsed.short, max_size=parsed.max_long))
    if isinstance(spec, TorchvisionInput) and spec.fixed_size is not None and isinstance(parsed, Fixed):
        return replace(preset, input=replace(spec, fixed_size=(parsed.width, parsed.height)))
    if isinstance(spec, MMDetInput) and isinstance(parsed, ShortestEdge):
        return replace(preset, input=replace(spec, short=parsed.short, long=parsed.max_long))
    if isinstance(spec, LetterboxInput) and isinstance(parsed, LongestEdge):
        return replace(preset, input=replace(spec, size=parsed.long))
    expected = (
        "longest-edge:L"
        if isinstance(spec, LetterboxInput)
        else "fixed:WxH"
        if isinstance(spec, TorchvisionInput) and spec.fixed_size is not None
        else "shortest-edge:S,L"
    )
    raise OptionError(f"resize: detector {preset.name} resizes as {expected}; got {str(parsed)!r}")


@dataclass(frozen=True)
class Sweep:
    """Input sizes tried for one preset, best first, with their objects without any positive."""

    ranked: tuple[tuple[str, Trial, int], ...]
    target: float


def sweep_inputs(
    rows: pd.DataFrame,
    preset: Preset,
    policies: list[str],
    target: float = 0.99,
    min_positives: int = 1,
    min_iou: float = DEFAULT_MIN_IOU,
) -> Sweep:
    """Simulate ``preset`` at each input size of ``policies``; rank: target met first, then fewer objects without
    any positive, then the higher share of objects meeting the test, then fewer anchors per image."""
    graph = build(preset.backbone, preset.neck)
    found = []
    for policy in policies:
        candidate = at_input(preset, policy)
        sim = simulate(candidate, rows, graph, min_iou)
        share = float((sim.quality >= min_positives).mean()) if len(rows) else 0.0
        none = int((sim.positives == 0).sum())
        found.append((str(parse_policy(policy)), Trial(candidate, 1.0, 1.0, 0, share, sim.anchors_per_image), none))
    found.sort(key=lambda f: (f[1].share < target, f[2], -round(f[1].share, 9), f[1].cost))
    return Sweep(tuple(found), target)


def with_levels(preset: Preset, names: tuple[str, ...]) -> Preset:
    """``preset`` on a contiguous run of its own levels, the anchor or point settings of those levels kept."""
    levels = preset.levels
    if not names or any(n not in levels for n in names):
        unknown = next((n for n in names if n not in levels), "")
        raise OptionError(
            f"levels: detector {preset.name} has levels {', '.join(levels)}; got {unknown!r}"
            if unknown
            else "levels: expected level names"
        )
    start = levels.index(names[0])
    if names != levels[start : start + len(names)]:
        raise OptionError(
            f"levels: expected a contiguous run of {', '.join(levels)} in that order, got {','.join(names)}"
        )
    sl = slice(start, start + len(names))
    gen = preset.anchors
    if isinstance(gen, TorchvisionAnchors):
        gen = replace(gen, sizes=gen.sizes[sl])
    elif isinstance(gen, SSDBoxes):
        gen = replace(gen, aspect_ratios=gen.aspect_ratios[sl], scales=gen.scales[start : start + len(names) + 1],
                      steps=gen.steps[sl])  # fmt: skip
    elif isinstance(gen, YoloAnchors):
        gen = replace(gen, shapes=gen.shapes[sl], strides=gen.strides[sl])
    else:
        gen = replace(gen, strides=gen.strides[sl])
    return replace(preset, levels=names, anchors=gen)
