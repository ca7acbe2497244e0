"""The exact geometry of one unit near the edges of its maps: what the arrays read, unit by unit.

The periodic sets of ``FeatureMap.geom`` describe maps without ends: a unit whose window reaches past the edge of
a map gets the pixels the missing units there would read. Here each layer's taps are followed back only to units
that exist: units from 0 on, and below the map's size when the profile has an input size (without one the maps
have no bottom or right edge). The zero padding reads nothing, a bilinear source past the edge is clamped to the
edge unit (as torch's ``interpolate`` does), a transposed convolution's missing input units add nothing. A unit
whose taps all exist, down to the image, is the periodic one and is read off ``geom``.

The ERF moments follow the uniform linear model of the analytic ERF (every kernel averages its taps, every merge
averages its inputs), with the taps that do not exist left out: the gradient a border unit sends to each pixel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from scalematch.errors import OptionError
from scalematch.profile import runs
from scalematch.profile.axis import AxisGeom, AxisMap
from scalematch.profile.engine import FeatureMap, Profile, _window_pads, axis_map
from scalematch.profile.graph import INPUT
from scalematch.profile.layers import GlobalPool, Merge, Passthrough, Upsample, Window
from scalematch.profile.runs import Runs
from scalematch.profile.summary import rects_area

Tap = tuple[str, int, Fraction]
"""``(source map, unit, weight)`` of one unit's read ('image' for the network input)."""


@dataclass(frozen=True)
class UnitValue:
    """One unit along one axis: its exact input pixels, ERF mean and variance, and the gradient mass it sends to
    the image (1 when none of its taps is missing)."""

    pixels: Runs
    mean: Fraction
    variance: Fraction
    mass: Fraction


_ONE = Fraction(1)


class _Reader:
    """The taps of one node along one axis, limited to the units of its input(s) that exist."""

    def __init__(self, profile: Profile, fm: FeatureMap, a: int) -> None:
        self.fm = fm
        self.axis = a
        self.n = _side(profile, fm.inputs[0], a)
        self.map: AxisMap | None = None
        if isinstance(fm.layer, GlobalPool) and self.n is None:
            raise OptionError(f"map '{fm.name}' depends on the whole input (global pooling); expected a bounded one")
        if not isinstance(fm.layer, Merge | Passthrough | GlobalPool):
            self.map = axis_map(fm.layer, a, self.n)

    def complete(self, u: int) -> bool | None:
        """Whether every tap of unit ``u`` exists, when that is known without listing them (a window)."""
        layer = self.fm.layer
        if not isinstance(layer, Window) or self.map is None:
            return None
        offsets = [i for i, _ in self.map.taps[0]]
        first, last = u * self.map.n + offsets[0], u * self.map.n + offsets[-1]
        return first >= 0 and (self.n is None or last < self.n)

    def taps(self, u: int) -> tuple[list[Tap], bool]:
        """The taps of unit ``u`` that exist, and whether they are all of its taps (none missing or clamped)."""
        fm, n = self.fm, self.n
        if isinstance(fm.layer, Passthrough):
            return [(fm.inputs[0], u, _ONE)], True
        if isinstance(fm.layer, Merge):
            w = Fraction(1, len(fm.inputs))
            return [(ref, u, w) for ref in fm.inputs], True
        if isinstance(fm.layer, GlobalPool):
            assert n is not None
            return [(fm.inputs[0], i, Fraction(1, n)) for i in range(n)], True
        assert self.map is not None
        raw = self.map.of(u)
        clamp = isinstance(fm.layer, Upsample) and fm.layer.mode == "bilinear"
        kept: dict[int, Fraction] = {}
        whole = True
        if isinstance(fm.layer, Window) and n is not None:  # ceil_mode: a window past the padded end
            end = n + _window_pads(fm.layer, self.axis, n)[1]
            over = sum(1 for t, _ in raw if t >= end)
            if over:  # those positions are not read at all (torch's divisor leaves them out)
                raw = tuple((t, w * len(raw) / (len(raw) - over)) for t, w in raw if t < end)
                whole = False
        for t, w in raw:
            inside = t >= 0 and (n is None or t < n)
            if not inside and clamp:
                t = 0 if t < 0 or n is None else n - 1
            elif not inside:
                whole = False
                continue
            kept[t] = kept.get(t, Fraction(0)) + w
        whole = whole and len(kept) == len(raw)
        return [(fm.inputs[0], t, w) for t, w in kept.items()], whole


def _side(profile: Profile, name: str, a: int) -> int | None:
    """Units of map ``name`` along axis ``a`` (the image's pixels for 'image'), None without an input size."""
    if profile.input_size is None:
        return None
    if name == INPUT:
        return profile.input_size[a]
    size = profile[name].size
    return None if size is None else size[a]


def _mix(parts: list[tuple[UnitValue, Fraction]]) -> UnitValue:
    """The union of the parts' pixels and the mixture of their gradient distributions, weighted by ``w * mass``."""
    weighted = [(v, w * v.mass) for v, w in parts if w * v.mass]
    pixels = runs.union(v.pixels for v, _ in parts)
    total = sum((w for _, w in weighted), Fraction(0))
    if not total:
        return UnitValue(pixels, Fraction(0), Fraction(0), Fraction(0))
    mean = sum((w * v.mean for v, w in weighted), Fraction(0)) / total
    var = sum((w * (v.variance + (v.mean - mean) ** 2) for v, w in weighted), Fraction(0)) / total
    return UnitValue(pixels, mean, var, total)


def _pixel(p: int) -> UnitValue:
    return UnitValue(((p, p + 1),), Fraction(p), Fraction(0), _ONE)


@dataclass(frozen=True)
class AxisEdges:
    """Unit ``unit`` of a map along one axis: its taps that exist, and the exact value of every unit it depends
    on (``values[(map, unit)]``; the image's pixels are not listed)."""

    unit: int
    taps: dict[tuple[str, int], list[Tap]]
    values: dict[tuple[str, int], UnitValue]

    def value(self, name: str, u: int) -> UnitValue:
        return _pixel(u) if name == INPUT else self.values[(name, u)]


MAX_DEPENDENCIES = 200_000
"""The most units (summed over the maps, along one axis) :func:`axis_edges` follows back from one unit, counted
by :func:`dependency_span` before any is listed."""


def dependency_span(profile: Profile, fm: FeatureMap, a: int, unit: int) -> int:
    """An upper bound, from the layer geometry alone, on the units :func:`axis_edges` lists along axis ``a`` for
    unit ``unit`` of ``fm``: per map, the span from the first to the last unit the explained unit can depend on
    (the image's pixels are not counted). Exact for chains of layers without dilation or gaps."""
    order = [m for m in profile.feature_maps]
    index = {m.name: k for k, m in enumerate(order)}
    need: dict[str, tuple[int, int]] = {fm.name: (unit, unit)}
    total = 0
    for m in reversed(order[: index[fm.name] + 1]):
        span = need.pop(m.name, None)
        if span is None:
            continue
        total += span[1] - span[0] + 1
        for ref, lo, hi in _read_spans(profile, m, a, span):
            if ref == INPUT or lo > hi:
                continue
            old = need.get(ref, (lo, hi))
            need[ref] = (min(old[0], lo), max(old[1], hi))
    return total


def _read_spans(profile: Profile, fm: FeatureMap, a: int, span: tuple[int, int]) -> list[tuple[str, int, int]]:
    """Per input of ``fm``: the first and the last of its units (that exist) that units ``span[0]..span[1]`` read
    along axis ``a``."""
    lo, hi = span
    if isinstance(fm.layer, Merge | Passthrough):
        return [(ref, lo, hi) for ref in fm.inputs]
    n = _side(profile, fm.inputs[0], a)
    if isinstance(fm.layer, GlobalPool):
        return [] if n is None else [(fm.inputs[0], 0, n - 1)]  # without a size _Reader refuses the map
    layer_map = axis_map(fm.layer, a, n)
    offsets = [i for taps in layer_map.taps for i, _ in taps]
    if not offsets:
        return []
    first = (lo // layer_map.m) * layer_map.n + min(offsets)
    last = (hi // layer_map.m) * layer_map.n + max(offsets)
    if isinstance(fm.layer, Upsample) and fm.layer.mode == "bilinear":  # a source past the edge is the edge unit
        first, last = max(first, 0), max(last, 0)
        if n is not None:
            first, last = min(first, n - 1), min(last, n - 1)
    return [(fm.inputs[0], max(first, 0), last if n is None else min(last, n - 1))]


def axis_edges(profile: Profile, fm: FeatureMap, a: int, unit: int) -> AxisEdges:
    """The exact values, along axis ``a``, of unit ``unit`` of ``fm`` and of every unit it depends on."""
    order = [m for m in profile.feature_maps]
    index = {m.name: k for k, m in enumerate(order)}
    readers: dict[str, _Reader] = {}
    need: dict[str, set[int]] = {fm.name: {unit}}
    taps: dict[tuple[str, int], list[Tap]] = {}
    whole: dict[tuple[str, int], bool] = {}
    for m in reversed(order[: index[fm.name] + 1]):  # topological order, read backwards
        units = need.pop(m.name, None)
        if not units:
            continue
        reader = readers[m.name] = _Reader(profile, m, a)
        for u in units:
            if m.inputs == (INPUT,) and reader.complete(u):  # real pixels only: the periodic value, taps not listed
                whole[(m.name, u)] = True
                continue
            read, whole[(m.name, u)] = reader.taps(u)
            taps[(m.name, u)] = read
            for src, t, _ in read:
                if src != INPUT:
                    need.setdefault(src, set()).add(t)
    values: dict[tuple[str, int], UnitValue] = {}
    intact: dict[tuple[str, int], bool] = {}
    for key in sorted(whole, key=lambda k: (index[k[0]], k[1])):
        name, u = key
        read = taps.get(key, [])
        intact[key] = whole[key] and all(src == INPUT or intact[(src, t)] for src, t, _ in read)
        if intact[key]:
            geom = profile[name].geom
            assert geom is not None
            values[key] = _periodic(geom[a], u)
        else:
            values[key] = _mix([(_pixel(t) if src == INPUT else values[(src, t)], w) for src, t, w in read])
    if (fm.name, unit) not in taps:  # a window over real pixels only: its taps are listed all the same
        taps[(fm.name, unit)] = readers[fm.name].taps(unit)[0]
    return AxisEdges(unit, taps, values)


def _periodic(geom: AxisGeom, u: int) -> UnitValue:
    pixels, mean, var = geom.unit(u)
    return UnitValue(pixels, mean, var, _ONE)


def reads(edges: AxisEdges, fm: FeatureMap) -> tuple[tuple[int, ...], ...]:
    """Per input of ``fm``, the units (that exist) its explained unit reads, in order."""
    read = edges.taps[(fm.name, edges.unit)]
    return tuple(tuple(sorted({t for src, t, _ in read if src == ref})) for ref in fm.inputs)


def area(profile: Profile, fm: FeatureMap, ys: AxisEdges, xs: AxisEdges) -> int:
    """The exact number of input pixels unit ``(ys.unit, xs.unit)`` of ``fm`` reads (2-D).

    A unit of a map that one chain of layers computes from the image reads the product of its per-axis pixels.
    Above a merge the region is a union of such products, one per path: the sets of units read are followed back
    as products (rows x columns of units, the smaller ones dropped) to the maps a chain computes, or the image."""
    chains = _chains(profile)
    order = [m.name for m in profile.feature_maps]
    products: dict[str, list[tuple[frozenset[int], frozenset[int]]]] = {
        fm.name: [(frozenset({ys.unit}), frozenset({xs.unit}))]
    }
    rects: list[tuple[Runs, Runs]] = []
    for name in reversed(order[: order.index(fm.name) + 1]):
        found = products.pop(name, None)
        if not found:
            continue
        if name in chains:
            for y, x in found:
                rows = runs.union(ys.value(name, u).pixels for u in y)
                cols = runs.union(xs.value(name, u).pixels for u in x)
                if rows and cols:
                    rects.append((rows, cols))
            continue
        for ref in profile[name].inputs:
            for y, x in found:
                y_in = _back(ys, name, y, ref)
                x_in = _back(xs, name, x, ref)
                if not y_in or not x_in:
                    continue
                if ref == INPUT:
                    rects.append((runs.from_points(y_in), runs.from_points(x_in)))
                else:
                    _add_pruned(products.setdefault(ref, []), (y_in, x_in))
    return rects_area(rects) if rects else 0


def _back(edges: AxisEdges, name: str, units: Iterable[int], ref: str) -> frozenset[int]:
    return frozenset(t for u in units for src, t, _ in edges.taps[(name, u)] if src == ref)


def _add_pruned(kept: list[tuple[frozenset[int], frozenset[int]]], new: tuple[frozenset[int], frozenset[int]]) -> None:
    """Add the product ``new`` unless one kept holds it; drop those it holds."""
    if any(new[0] <= y and new[1] <= x for y, x in kept):
        return
    kept[:] = [(y, x) for y, x in kept if not (y <= new[0] and x <= new[1])]
    kept.append(new)


def _chains(profile: Profile) -> set[str]:
    """The maps one chain of single-input layers computes from the image (their 2-D regions are products)."""
    found: set[str] = set()
    for m in profile.feature_maps:
        if not isinstance(m.layer, Merge) and (m.inputs == (INPUT,) or m.inputs[0] in found):
            found.add(m.name)
    return found


__all__ = ["MAX_DEPENDENCIES", "AxisEdges", "UnitValue", "area", "axis_edges", "dependency_span", "reads"]
