"""Exact geometry of one feature map along one axis.

A feature map's units repeat with a period: after ``period`` units the dependency set moves by ``shift``
input pixels, so the jump (effective stride) is ``shift / period``. Ordinary networks have period 1; after
up-sampling or a transposed convolution units within a period can differ (e.g. nearest 2x: units 2i and 2i+1
read the same source unit). For each phase we keep

* the exact set of input pixels the unit depends on (coordinates of unit ``q`` of the period), and
* the mean and variance of its input-gradient distribution under the uniform linear model used for the
  analytic effective receptive field (every kernel averages its taps, every merge averages its inputs).

Everything is exact: integer run sets and :class:`fractions.Fraction` moments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from scalematch.profile import runs
from scalematch.profile.runs import Runs

Tap = tuple[int, Fraction]
"""``(input unit index, weight)`` of one output unit."""


@dataclass(frozen=True)
class AxisMap:
    """How a single-input layer maps units along one axis.

    Output unit ``j`` reads the input units ``taps[j % m]`` shifted by ``(j // m) * n`` with the given
    weights, i.e. the layer is periodic: ``m`` output units advance ``n`` input units.
    """

    m: int
    n: int
    taps: tuple[tuple[Tap, ...], ...]

    def of(self, j: int) -> tuple[Tap, ...]:
        base = (j // self.m) * self.n
        return tuple((i + base, w) for i, w in self.taps[j % self.m])


IDENTITY_MAP = AxisMap(1, 1, (((0, Fraction(1)),),))


@dataclass(frozen=True)
class AxisGeom:
    """Periodic exact geometry: ``sets[q]``, ``means[q]``, ``variances[q]`` for unit ``q < period``."""

    period: int
    shift: int
    sets: tuple[Runs, ...]
    means: tuple[Fraction, ...]
    variances: tuple[Fraction, ...]

    @property
    def jump(self) -> Fraction:
        """Effective stride in input pixels per unit."""
        return Fraction(self.shift, self.period)

    def unit(self, i: int) -> tuple[Runs, Fraction, Fraction]:
        """Exact set, ERF mean and ERF variance of unit ``i`` (any integer, negative too)."""
        q, k = i % self.period, i // self.period
        offset = k * self.shift
        return runs.shift(self.sets[q], offset), self.means[q] + offset, self.variances[q]

    def expanded(self, period: int) -> AxisGeom:
        """The same geometry written with a longer period (a multiple of the current one)."""
        units = [self.unit(q) for q in range(period)]
        return AxisGeom(
            period,
            self.shift * (period // self.period),
            tuple(u[0] for u in units),
            tuple(u[1] for u in units),
            tuple(u[2] for u in units),
        )


def image_axis() -> AxisGeom:
    """The input image: pixel i depends on itself only."""
    return AxisGeom(1, 1, (((0, 1),),), (Fraction(0),), (Fraction(0),))


def _mix(parts: list[tuple[Runs, Fraction, Fraction, Fraction]]) -> tuple[Runs, Fraction, Fraction]:
    """Union of sets and the weighted mixture of ``(set, mean, variance, weight)`` distributions."""
    total = sum((w for *_, w in parts), Fraction(0))
    mean = sum((w * mu for _, mu, _, w in parts), Fraction(0)) / total
    var = sum((w * (v + (mu - mean) ** 2) for _, mu, v, w in parts), Fraction(0)) / total
    return runs.union(p[0] for p in parts), mean, var


def _reduced(geom: AxisGeom) -> AxisGeom:
    """The same geometry with the shortest period that describes it exactly."""
    b = geom.period
    for d in range(1, b):
        if b % d or (geom.shift * d) % b:
            continue
        step = geom.shift * d // b
        if all(
            geom.sets[q + d] == runs.shift(geom.sets[q], step)
            and geom.means[q + d] == geom.means[q] + step
            and geom.variances[q + d] == geom.variances[q]
            for q in range(b - d)
        ):
            return AxisGeom(d, step, geom.sets[:d], geom.means[:d], geom.variances[:d])
    return geom


def apply(layer: AxisMap, geom: AxisGeom) -> AxisGeom:
    """Geometry of a single-input layer's output, given its input's geometry."""
    k = geom.period // math.gcd(layer.n, geom.period)
    period = layer.m * k
    shift = geom.shift * (k * layer.n // geom.period)
    phases = []
    for q in range(period):
        parts = []
        for i, w in layer.of(q):
            unit_set, mean, var = geom.unit(i)
            parts.append((unit_set, mean, var, w))
        phases.append(_mix(parts))
    return _reduced(
        AxisGeom(
            period,
            shift,
            tuple(p[0] for p in phases),
            tuple(p[1] for p in phases),
            tuple(p[2] for p in phases),
        )
    )


def common_period(geoms: list[AxisGeom]) -> list[AxisGeom]:
    """The geometries rewritten with one common period (they must have the same jump)."""
    period = math.lcm(*(g.period for g in geoms))
    return [g.expanded(period) for g in geoms]


def merge(geoms: list[AxisGeom]) -> AxisGeom:
    """Union of the inputs of an add/concat node, mixed with equal weight for the ERF."""
    same = common_period(geoms)
    phases = [_mix([(g.sets[q], g.means[q], g.variances[q], Fraction(1)) for g in same]) for q in range(same[0].period)]
    return _reduced(
        AxisGeom(
            same[0].period,
            same[0].shift,
            tuple(p[0] for p in phases),
            tuple(p[1] for p in phases),
            tuple(p[2] for p in phases),
        )
    )


def global_pool(geom: AxisGeom, units: int) -> AxisGeom:
    """One unit reading all ``units`` units of its input, averaged."""
    unit_set, mean, var = _mix([(*geom.unit(i), Fraction(1)) for i in range(units)])
    return AxisGeom(1, int(units * geom.jump) or 1, (unit_set,), (mean,), (var,))


def centres(geom: AxisGeom) -> tuple[Fraction, ...]:
    """Centre ``(min + max) / 2`` of each phase's input box."""
    return tuple(Fraction(s[0][0] + s[-1][1] - 1, 2) for s in geom.sets)
