"""Brute-force receptive fields: the real array operations applied to impulses, for the property tests.

Every layer runs as the actual numpy operation on a finite signal: zero padding with ``np.pad`` and strided
slices for convolution and pooling (dilation, PyTorch ``ceil_mode``), scatter-add for transposed convolution,
``np.repeat`` and explicit interpolation weights for up-sampling, and the mean of the inputs (truncated to the
common length) for add/concat. The network input is an identity (one impulse per input pixel), so each node's
array is its Jacobian with respect to the input: entry ``[unit..., pixel...]`` is the input-gradient of that unit.
Weights follow the uniform linear model of the analytic ERF: a window averages its taps, a transposed
convolution output averages its (input, tap) pairs, bilinear uses its interpolation weights, a merge averages
its inputs.

Next to each Jacobian a boolean ``clean`` mask marks the units whose whole computation read only real units of
the finite signal (no zero padding, no clamped interpolation source, no missing transposed-convolution pair).
For those the finite computation equals the infinite-signal model the engine describes, so they are compared
exactly with it; the others touch the border and are left out.

Nothing here uses scalematch's geometry code: the layer and graph dataclasses are only read as specifications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scalematch.profile.graph import INPUT, Graph
from scalematch.profile.layers import Layer, Merge, Passthrough, TransposedConv, Upsample, Window

Arr = NDArray[np.float64]
Mask = NDArray[np.bool_]


# --------------------------------------------------------------------------------------------------------------
# 1-D layers along axis 0 of ``arr`` (the unit axis); any trailing axes are carried along.
# ``clean`` has the unit axis first too (its trailing axes may differ from arr's).


def _col(v: NDArray[Any], ndim: int) -> NDArray[Any]:
    """``v`` (1-D) shaped to broadcast along axis 0 of an ``ndim``-dimensional array."""
    return v.reshape((-1,) + (1,) * (ndim - 1))


def _pad0(a: NDArray[Any], before: int, after: int, value: Any = 0) -> NDArray[Any]:
    return np.pad(a, [(before, after)] + [(0, 0)] * (a.ndim - 1), constant_values=value)


class GridTooSmall(ValueError):
    """The finite grid is too small for the network (a window longer than its input)."""


def tf_same(n: int, k_eff: int, s: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding for an input of ``n`` units: the output has ceil(n / s) units."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def window_1d(
    arr: Arr, clean: Mask, k: int, s: int, pads: tuple[int, int], d: int, ceil_mode: bool
) -> tuple[Arr, Mask]:
    """Convolution / pooling (averaging its taps) with explicit zero padding, dilation and ceil_mode."""
    n = arr.shape[0]
    before, after = pads
    k_eff = d * (k - 1) + 1
    room = n + before + after - k_eff
    if room < 0 or n < 1:
        raise GridTooSmall(f"input of {n} units smaller than the kernel {k_eff}")
    # PyTorch pooling_output_shape_pad_lr
    out = (room + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + before:
        out -= 1
    # ceil_mode may let the last window run past the padded input: those positions are not read at all
    extra = max(0, (out - 1) * s + k_eff - (n + before + after))
    padded = _pad0(arr, before, after + extra)
    padded_clean = _pad0(clean, before, after + extra, False)
    readable = np.concatenate([np.ones(n + before + after), np.zeros(extra)])  # real or padded position
    stop = (out - 1) * s + 1
    total = np.zeros((out, *arr.shape[1:]))
    count = np.zeros(out)
    ok = np.ones((out, *clean.shape[1:]), dtype=bool)
    for t in range(k):
        sl = slice(t * d, t * d + stop, s)
        total += padded[sl]
        count += readable[sl]
        ok &= padded_clean[sl]
    return total / _col(count, arr.ndim), ok


def transposed_1d(arr: Arr, clean: Mask, k: int, s: int, p: int, d: int, op: int) -> tuple[Arr, Mask]:
    """PyTorch ConvTranspose (scatter-add of every (input, tap) pair), each output averaging its pairs.

    ``g`` ghost units (zeros, unclean) on both sides supply the pairs an output would get from an infinite
    input, so the pair count is the infinite-signal one and an output reached by a ghost is marked unclean.
    """
    n = arr.shape[0]
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if n < 1 or out < 1:  # PyTorch refuses a non-positive output size
        raise GridTooSmall(f"input of {n} units: the transposed convolution's output would have {out}")
    g = (d * (k - 1) + p) // s + 2
    ext = _pad0(arr, g, g)
    ext_dirty = _pad0(~clean, g, g, True).astype(np.int64)
    m = n + 2 * g
    full = (m - 1) * s + d * (k - 1) + 1
    acc = np.zeros((full, *arr.shape[1:]))
    pairs = np.zeros(full)
    dirty = np.zeros((full, *clean.shape[1:]), dtype=np.int64)
    for t in range(k):
        sl = slice(t * d, t * d + (m - 1) * s + 1, s)
        acc[sl] += ext
        pairs[sl] += 1
        dirty[sl] += ext_dirty
    # real input i is extended input i + g: its tap t lands on extended (i + g)*s + t*d = o + g*s + p
    start = g * s + p
    assert start + out <= full
    acc, pairs, dirty = acc[start : start + out], pairs[start : start + out], dirty[start : start + out]
    res = acc / _col(np.maximum(pairs, 1), arr.ndim)
    ok = (dirty == 0) & _col(pairs > 0, dirty.ndim)
    return res, ok


def nearest_1d(arr: Arr, clean: Mask, f: int) -> tuple[Arr, Mask]:
    if arr.shape[0] < 1:
        raise GridTooSmall("an empty input has nothing to up-sample")
    return np.repeat(arr, f, axis=0), np.repeat(clean, f, axis=0)


def bilinear_1d(arr: Arr, clean: Mask, f: int) -> tuple[Arr, Mask]:
    """PyTorch linear interpolation, align_corners=False, scale factor f (source clamped at 0 and n-1)."""
    n = arr.shape[0]
    if n < 1:  # no source unit to interpolate from (and the index lists below would be empty float arrays)
        raise GridTooSmall("an empty input has nothing to up-sample")
    src = [Fraction(2 * j + 1, 2 * f) - Fraction(1, 2) for j in range(n * f)]
    clamped = np.array([x < 0 for x in src])
    xs = [max(x, Fraction(0)) for x in src]
    i0 = np.array([math.floor(x) for x in xs])
    lam = np.array([float(x - math.floor(x)) for x in xs])
    i1 = np.where(i0 < n - 1, i0 + 1, i0)
    res = arr[i0] * (1 - _col(lam, arr.ndim)) + arr[i1] * _col(lam, arr.ndim)
    reads_next = lam > 0
    exact = ~clamped & (~reads_next | (i0 + 1 <= n - 1))  # same sources as on an infinite signal
    ok = clean[i0] & (_col(~reads_next, clean.ndim) | clean[i1]) & _col(exact, clean.ndim)
    return res, ok


# --------------------------------------------------------------------------------------------------------------
# Graph propagation


@dataclass(frozen=True)
class Signal:
    """A node's Jacobian (unit axes first, then pixel axes) and its clean-unit mask (unit axes)."""

    jac: Arr
    clean: Mask


def _trivial(layer: Layer, a: int) -> bool:
    if isinstance(layer, Window):
        pads = (0, 0) if layer.padding == "same" else layer.padding[a]
        return layer.kernel[a] == 1 and layer.stride[a] == 1 and tuple(pads) == (0, 0)
    if isinstance(layer, TransposedConv):
        return (layer.kernel[a], layer.stride[a], layer.padding[a], layer.output_padding[a]) == (1, 1, 0, 0)
    if isinstance(layer, Upsample):
        return layer.scale[a] == 1
    return True


def layer_1d(layer: Layer, a: int, arr: Arr, clean: Mask) -> tuple[Arr, Mask]:
    """Apply ``layer``'s axis-``a`` operation along axis 0."""
    if isinstance(layer, Window):
        k, s, d = layer.kernel[a], layer.stride[a], layer.dilation[a]
        pads = tf_same(arr.shape[0], d * (k - 1) + 1, s) if layer.padding == "same" else layer.padding[a]
        return window_1d(arr, clean, k, s, (pads[0], pads[1]), d, layer.ceil_mode)
    if isinstance(layer, TransposedConv):
        return transposed_1d(
            arr,
            clean,
            layer.kernel[a],
            layer.stride[a],
            layer.padding[a],
            layer.dilation[a],
            layer.output_padding[a],
        )
    if isinstance(layer, Upsample):
        f = layer.scale[a]
        return nearest_1d(arr, clean, f) if layer.mode == "nearest" else bilinear_1d(arr, clean, f)
    if isinstance(layer, Passthrough):
        return arr, clean
    raise TypeError(f"brute force does not model {layer!r}")


def propagate(graph: Graph, grid: tuple[int, ...], axes: tuple[int, ...]) -> dict[str, Signal]:
    """Every node's :class:`Signal` for an input of ``grid`` pixels along the engine axes ``axes``.

    ``axes=(1,)`` models only x (every layer must leave y unchanged); ``axes=(0, 1)`` is the full 2-D grid.
    Nodes must be written in a topological order.
    """
    assert len(grid) == len(axes)
    nd = len(grid)
    size = math.prod(grid)
    signals = {INPUT: Signal(np.eye(size).reshape(grid + grid), np.ones(grid, dtype=bool))}
    for node in graph.nodes:
        ins = [signals[r] for r in node.inputs]
        layer = node.layer
        if isinstance(layer, Merge):
            common = tuple(min(s.clean.shape[k] for s in ins) for k in range(nd))
            cut = tuple(slice(0, c) for c in common)
            jac = np.mean([s.jac[cut] for s in ins], axis=0)
            clean = np.logical_and.reduce([s.clean[cut] for s in ins])
            signals[node.name] = Signal(jac, clean)
            continue
        for a in (0, 1):
            if a not in axes:
                assert _trivial(layer, a), f"node {node.name}: axis {a} is not modelled but {layer} changes it"
        jac, clean = ins[0].jac, ins[0].clean
        for k, a in enumerate(axes):
            j2, c2 = layer_1d(layer, a, np.moveaxis(jac, k, 0), np.moveaxis(clean, k, 0))
            jac, clean = np.moveaxis(j2, 0, k), np.moveaxis(c2, 0, k)
        signals[node.name] = Signal(np.ascontiguousarray(jac), clean)
    return signals


# --------------------------------------------------------------------------------------------------------------
# What a unit depends on, and the per-axis summary numbers, from Jacobian rows


@dataclass(frozen=True)
class Unit:
    """The exact input dependency of one unit along one axis: pixel set and normalised-gradient moments."""

    points: tuple[int, ...]
    mean: float
    var: float


def unit_of(row: Arr) -> Unit:
    """Dependency of a unit from its (nonnegative) gradient row over input coordinates 0..len-1."""
    assert (row >= 0).all()
    pts = np.flatnonzero(row > 0)
    w = row[pts] / row[pts].sum()
    mean = float((w * pts).sum())
    var = float((w * (pts - mean) ** 2).sum())
    return Unit(tuple(int(p) for p in pts), mean, var)


def clean_block(clean: NDArray[np.bool_]) -> tuple[int, int]:
    """The longest run ``[lo, hi)`` of True in a 1-D mask (``(0, 0)`` if none)."""
    best, lo = (0, 0), None
    for i, c in enumerate([*clean.tolist(), False]):
        if c and lo is None:
            lo = i
        elif not c and lo is not None:
            if i - lo > best[1] - best[0]:
                best = (lo, i)
            lo = None
    return best


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _shifted(u: Unit, v: Unit, c: int) -> bool:
    """Whether v is u moved by c pixels (set, mean, variance)."""
    return (
        len(u.points) == len(v.points)
        and all(q == p + c for p, q in zip(u.points, v.points, strict=True))
        and _close(u.mean + c, v.mean)
        and _close(u.var, v.var)
    )


@dataclass(frozen=True)
class AxisTruth:
    """Brute-force summary of one axis from a run of clean units ``first .. first + len(units) - 1``."""

    period: int
    shift: int
    stride: Fraction
    rf: int
    union: int
    padding: int
    center: Fraction
    overlap: float
    erf_sigma: float


def period_bounds(graph: Graph, a: int) -> dict[str, int]:
    """A multiple of every node's period along axis ``a``, from the layer specs alone.

    A single-input layer that turns one input unit into ``m`` output units (up-sampling factor, transposed
    stride) multiplies the period by at most ``m`` (the new period divides ``m`` times the old one); a merge's
    period divides the lcm of its inputs' periods.
    """
    bound = {INPUT: 1}
    for node in graph.nodes:
        layer = node.layer
        if isinstance(layer, Merge):
            bound[node.name] = math.lcm(*(bound[r] for r in node.inputs))
            continue
        m = (
            layer.scale[a]
            if isinstance(layer, Upsample)
            else layer.stride[a]
            if isinstance(layer, TransposedConv)
            else 1
        )
        bound[node.name] = m * bound[node.inputs[0]]
    return bound


def detect_period(units: list[Unit], bound: int) -> tuple[int, int] | None:
    """Smallest ``p`` (with a constant pixel shift ``c``) such that unit ``i + p`` is unit ``i`` moved by ``c``
    for every pair in the run. ``bound`` is a known multiple of the true period: a candidate is only accepted
    when its pairs cover ``bound`` consecutive units (so every phase), else None (run too short)."""
    for p in range(1, bound + 1):
        if len(units) - p < bound:
            return None
        c = units[p].points[0] - units[0].points[0]
        if all(_shifted(units[i], units[i + p], c) for i in range(len(units) - p)):
            return p, c
    raise AssertionError(f"no period up to the bound {bound}: the bound is wrong")


def axis_truth(units: list[Unit], first: int, bound: int) -> AxisTruth | None:
    """The summary numbers from a run of consecutive clean units, or None if the run is too short."""
    found = detect_period(units, bound)
    if found is None:
        return None
    p, c = found
    period = units[:p]
    nxt = units[1 : p + 1]
    rf = max(u.points[-1] - u.points[0] + 1 for u in period)
    union = max(len(u.points) for u in period)
    overlap = sum(len(set(u.points) & set(v.points)) / len(u.points) for u, v in zip(period, nxt, strict=True)) / p
    sigma = max(math.sqrt(u.var) for u in period)
    # a unit i = 0 (mod p) sits at i*S exactly: P = i*S - min
    i = -(-first // p) * p
    u = units[i - first]
    base = (i // p) * c
    padding = base - u.points[0]
    center = Fraction(u.points[0] + u.points[-1], 2) - base
    return AxisTruth(p, c, Fraction(c, p), rf, union, padding, center, overlap, sigma)


def engine_points(runs: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    return tuple(x for a, b in runs for x in range(a, b))


def compare_axis(geom: Any, summary: Any, units: list[Unit], first: int, bound: int, where: str) -> AxisTruth | None:
    """Assert the engine's per-unit geometry and summary of one axis match the brute force.

    ``units`` are consecutive clean units starting at index ``first``; ``bound`` is a multiple of the period.
    Returns the brute-force summary (None when the run is too short to see a whole period; the per-unit checks
    are still made).
    """
    for k, u in enumerate(units):
        i = first + k
        runs, mean, var = geom.unit(i)
        pts = engine_points(runs)
        assert pts == u.points, f"{where}: unit {i} depends on {_short(u.points)}, engine says {_short(pts)}"
        assert _close(float(mean), u.mean), f"{where}: unit {i} ERF mean {u.mean}, engine {float(mean)}"
        assert _close(float(var), u.var), f"{where}: unit {i} ERF variance {u.var}, engine {float(var)}"
    truth = axis_truth(units, first, bound)
    if truth is None:
        return None
    got = {
        "period": summary.period,
        "stride": summary.stride,
        "rf": summary.rf,
        "union": summary.union,
        "padding": summary.padding,
        "center": summary.center,
    }
    want = {
        "period": truth.period,
        "stride": truth.stride,
        "rf": truth.rf,
        "union": truth.union,
        "padding": truth.padding,
        "center": truth.center,
    }
    for key, value in want.items():
        assert got[key] == value, f"{where}: {key} is {value} by brute force, engine says {got[key]}"
    assert _close(summary.overlap, truth.overlap), f"{where}: overlap {truth.overlap}, engine {summary.overlap}"
    assert _close(summary.erf_sigma, truth.erf_sigma), (
        f"{where}: erf_sigma {truth.erf_sigma}, engine {summary.erf_sigma}"
    )
    return truth


def _short(points: tuple[int, ...]) -> str:
    text = str(list(points))
    return text if len(text) < 200 else text[:200] + "...]"
