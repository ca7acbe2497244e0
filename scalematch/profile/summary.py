"""Summary numbers of a feature map's exact geometry (see docs/reference/profile.md for the definitions)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise, product

from scalematch.profile import axis, runs
from scalematch.profile.axis import AxisGeom
from scalematch.profile.runs import Runs


@dataclass(frozen=True)
class AxisSummary:
    """One axis of one feature map.

    ``stride``: jump, input pixels per unit. ``rf``: receptive field, the span (max - min + 1) of the input
    pixels a unit depends on. ``padding``: effective padding P, so unit 0's input box starts at ``-P``.
    ``center``: centre of unit 0's input box. ``union``: the seed's spatial scale, the number of distinct
    input pixels a unit depends on. ``overlap``: the share of those pixels that the next unit also depends on.
    ``erf_sigma``: standard deviation of the input-gradient distribution under the uniform linear model.
    ``period``: units after which the pattern repeats (1 unless the map was up-sampled). When units within a
    period differ, ``rf``, ``union`` and ``erf_sigma`` are the largest over the period and ``overlap`` the mean.
    """

    stride: Fraction
    rf: int
    padding: int
    center: Fraction
    union: int
    overlap: float
    erf_sigma: float
    period: int


def summarize(geom: AxisGeom) -> AxisSummary:
    """The summary of one axis."""
    first = geom.sets[0]
    nxt = [geom.unit(q + 1)[0] for q in range(geom.period)]
    overlaps = [runs.intersection_size(s, t) / runs.size(s) for s, t in zip(geom.sets, nxt, strict=True)]
    return AxisSummary(
        stride=geom.jump,
        rf=max(runs.span(s) for s in geom.sets),
        padding=-first[0][0],
        center=axis.centres(geom)[0],
        union=max(runs.size(s) for s in geom.sets),
        overlap=sum(overlaps) / len(overlaps),
        erf_sigma=max(math.sqrt(v) for v in geom.variances),
        period=geom.period,
    )


def rects_area(rects: list[tuple[Runs, Runs]]) -> int:
    """Number of pixels in a union of products ``rows x cols`` (sweep over row boundaries)."""
    if len(rects) == 1:
        return runs.size(rects[0][0]) * runs.size(rects[0][1])
    cuts = sorted({c for r, _ in rects for run in r for c in run})
    index = {c: i for i, c in enumerate(cuts)}
    cover = [0] * len(cuts)  # cover[i]: bit k set when rect k holds the rows cuts[i] .. cuts[i + 1] - 1
    for k, (rows, _) in enumerate(rects):
        for start, stop in rows:
            for i in range(index[start], index[stop]):
                cover[i] |= 1 << k
    widths: dict[int, int] = {0: 0}
    total = 0
    for (lo, hi), mask in zip(pairwise(cuts), cover, strict=False):
        if mask not in widths:
            widths[mask] = runs.size(runs.union(c for k, (_, c) in enumerate(rects) if mask >> k & 1))
        total += (hi - lo) * widths[mask]
    return total


def union_area(terms: list[tuple[AxisGeom, AxisGeom]]) -> int:
    """Largest number of input pixels any unit depends on, over the phases of the period (2-D)."""
    ys = axis.common_period([t[0] for t in terms])
    xs = axis.common_period([t[1] for t in terms])
    return max(
        rects_area([(y.sets[qy], x.sets[qx]) for y, x in zip(ys, xs, strict=True)])
        for qy, qx in product(range(ys[0].period), range(xs[0].period))
    )
