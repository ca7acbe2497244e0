"""Property tests in 2-D: rectangular kernels and strides per axis, and cross-shaped branches (1xk and kx1
convolutions added or concatenated), against a brute force on a small 2-D grid.

The brute force propagates all G x G impulses at once (a 4-D Jacobian ``[unit_y, unit_x, pixel_y, pixel_x]``),
applying each layer's y operation along the unit-y axis and its x operation along the unit-x axis, so merges of
differently shaped branches give genuinely non-rectangular dependency regions. For clean (border-free) units we
check the engine's ``area`` (largest 2-D union over the period) and, per axis, the projected pixel sets, the
marginal ERF moments and the summary numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bruteforce import (
    GridTooSmall,
    Signal,
    Unit,
    bilinear_1d,
    clean_block,
    compare_axis,
    detect_period,
    nearest_1d,
    period_bounds,
    propagate,
    transposed_1d,
    unit_of,
    window_1d,
)
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from scalematch.errors import GraphError
from scalematch.profile.engine import profile
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.layers import Layer, Merge, Passthrough, TransposedConv, Upsample, Window

G = 36
"""Input pixels per axis of the 2-D grid."""


def pair(draw: st.DrawFn, lo: int, hi: int) -> tuple[int, int]:
    return draw(st.integers(lo, hi)), draw(st.integers(lo, hi))


@st.composite
def window_2d(draw: st.DrawFn, strides: tuple[int, int]) -> Window:
    """A window with independent kernel, padding and dilation per axis (``strides`` given)."""
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    k = pair(draw, 1, 4)
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind != "avgpool" else (1, 1)
    pads = (
        (draw(st.integers(0, k[0] // 2 + 1)), draw(st.integers(0, k[0] // 2 + 1))),
        (draw(st.integers(0, k[1] // 2 + 1)), draw(st.integers(0, k[1] // 2 + 1))),
    )
    ceil_mode = kind != "conv" and draw(st.booleans())
    return Window(kind, k, strides, pads, d, ceil_mode)  # type: ignore[arg-type]


@st.composite
def cross_graphs(draw: st.DrawFn) -> Graph:
    """stem (0-2 windows) -> 1-2 cross blocks -> optional tail (window, up-sampling or transposed conv)."""
    nodes: list[Node] = []
    prev = INPUT
    budget = [4, 4]  # remaining down-sampling per axis

    def add(name: str, layer: Layer, inputs: tuple[str, ...]) -> str:
        nodes.append(Node(name, layer, inputs))
        return name

    def strides() -> tuple[int, int]:
        s = (draw(st.integers(1, min(2, budget[0]))), draw(st.integers(1, min(2, budget[1]))))
        budget[0] //= s[0]
        budget[1] //= s[1]
        return s

    for i in range(draw(st.integers(0, 2))):
        prev = add(f"stem{i}", draw(window_2d(strides())), (prev,))
    for b in range(draw(st.integers(1, 2))):
        s = strides()
        ka, kb = draw(st.integers(2, 5)), draw(st.integers(2, 5))
        da, db = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        pa = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        pb = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        row = add(f"b{b}_1x{ka}", Window("conv", (1, ka), s, ((0, 0), pa), (1, da)), (prev,))
        col = add(f"b{b}_{kb}x1", Window("conv", (kb, 1), s, (pb, (0, 0)), (db, 1)), (prev,))
        branches = [row, col]
        if draw(st.booleans()):  # a square branch after the row branch
            row2 = add(f"b{b}_sq", draw(window_2d((1, 1))), (row,))
            branches[0] = row2
        if draw(st.booleans()):  # a third branch: identity (stride 1) or a strided 1x1
            third = prev if s == (1, 1) else add(f"b{b}_1x1", Window("conv", (1, 1), s), (prev,))
            branches.append(third)
        kind = draw(st.sampled_from(["add", "concat"]))
        prev = add(f"b{b}_{kind}", Merge(kind, "union"), tuple(branches))  # type: ignore[arg-type]
        if draw(st.booleans()):
            prev = add(f"b{b}_relu", Passthrough("relu"), (prev,))
    if draw(st.booleans()):  # a fractional-jump block: up-sampling and transposed conv of the same factors, merged
        f = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        k, p, d = [], [], []
        for a in (0, 1):
            tk, tp, td = draw(st.integers(1, 4)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
            if not phases_covered(tk, f[a], tp, td):  # some output phase would get no tap
                tk, td = max(tk, f[a]), 1
            k.append(tk)
            p.append(tp)
            d.append(td)
        mode = draw(st.sampled_from(["nearest", "bilinear"]))
        upped = add("f_up", Upsample(f, mode), (prev,))  # type: ignore[arg-type]
        dec = add("f_deconv", TransposedConv((k[0], k[1]), f, (p[0], p[1]), (d[0], d[1])), (prev,))
        prev = add("f_add", Merge("add", "union"), (upped, dec))
    tail = draw(st.sampled_from(["none", "window", "nearest", "bilinear", "deconv"]))
    if tail == "window":
        prev = add("tail", draw(window_2d(strides())), (prev,))
    elif tail in ("nearest", "bilinear"):
        prev = add("tail", Upsample((draw(st.integers(1, 2)), draw(st.integers(1, 2))), tail), (prev,))  # type: ignore[arg-type]
    elif tail == "deconv":
        prev = add("tail", TransposedConv((4, 3), (2, 1), (1, 1)), (prev,))
    return Graph("cross", tuple(nodes), taps=(("out", prev),))


def phases_covered(k: int, s: int, p: int, d: int) -> bool:
    """Every output phase of a transposed convolution receives at least one tap."""
    return all(any((q + p - t * d) % s == 0 for t in range(k)) for q in range(s))


def marginal_units(sig: Signal, axis: int, fixed: int, lo: int, hi: int) -> list[Unit]:
    """Units ``lo..hi-1`` along ``axis`` (the other unit index fixed), as marginal rows over that axis' pixels."""
    out = []
    for i in range(lo, hi):
        idx = (i, fixed) if axis == 0 else (fixed, i)
        region = sig.jac[idx]  # (G, G) pixels
        out.append(unit_of(region.sum(axis=1 - axis)))
    return out


def flat_units(sig: Signal, axis: int, fixed: int, lo: int, hi: int) -> list[Unit]:
    """The same units with their full 2-D pixel sets (flattened index y * G + x)."""
    out = []
    for i in range(lo, hi):
        idx = (i, fixed) if axis == 0 else (fixed, i)
        out.append(unit_of(sig.jac[idx].reshape(-1)))
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cross_graphs())
def test_cross_dag_matches_bruteforce_2d(graph: Graph) -> None:
    note(repr(graph.nodes))
    prof = profile(graph)
    try:
        signals = propagate(graph, (G, G), (0, 1))
    except GridTooSmall:
        assume(False)
    checked = 0
    bounds = [period_bounds(graph, 0), period_bounds(graph, 1)]
    for node in graph.nodes:
        fm, sig = prof[node.name], signals[node.name]
        assert fm.geom is not None
        where = f"node '{node.name}' ({node.layer})"
        ylo, yhi = clean_block(np.asarray(sig.clean.any(axis=1)))
        xlo, xhi = clean_block(np.asarray(sig.clean.any(axis=0)))
        if ylo == yhi or xlo == xhi:
            continue
        assert sig.clean[ylo:yhi, xlo:xhi].all(), f"{where}: clean units do not form a rectangle"
        summaries: list[Any] = [fm.y, fm.x]
        periods = []
        for axis, (lo, hi), (olo, ohi) in ((0, (ylo, yhi), (xlo, xhi)), (1, (xlo, xhi), (ylo, yhi))):
            for fixed in sorted({olo, (olo + ohi) // 2, ohi - 1}):
                units = marginal_units(sig, axis, fixed, lo, hi)
                bound = bounds[axis][node.name]
                compare_axis(fm.geom[axis], summaries[axis], units, lo, bound, f"{where} axis {'yx'[axis]}")
            found = detect_period(flat_units(sig, axis, (olo + ohi) // 2, lo, hi), bounds[axis][node.name])
            periods.append(found[0] if found else None)
        if None in periods:
            continue
        py, px = periods
        assert py is not None and px is not None
        counts = [int((sig.jac[i, j] > 0).sum()) for i in range(ylo, ylo + py) for j in range(xlo, xlo + px)]
        assert fm.area == max(counts), f"{where}: brute-force 2-D union {max(counts)}, engine area {fm.area}"
        checked += 1
    event(f"nodes with area checked: {checked}/{len(graph.nodes)}")
    assert checked >= 1


def cross(k: int) -> Graph:
    nodes = (
        Node("row", Window("conv", (1, k), padding=((0, 0), (k // 2, k // 2))), (INPUT,)),
        Node("col", Window("conv", (k, 1), padding=((k // 2, k // 2), (0, 0))), (INPUT,)),
        Node("sum", Merge("add"), ("row", "col")),
        Node("after", Window("conv", (3, 3), padding=((1, 1), (1, 1))), ("sum",)),
    )
    return Graph("cross", nodes)


def test_cross_area_by_hand() -> None:
    """1x5 + 5x1 is a plus sign of 9 pixels; a 3x3 conv after it covers a 7x7 square minus 4 corners of 2x2."""
    prof = profile(cross(5))
    assert prof["sum"].area == 9
    assert prof["after"].area == 49 - 4 * 4
    signals = propagate(cross(5), (G, G), (0, 1))
    assert int((signals["sum"].jac[10, 10] > 0).sum()) == 9
    assert int((signals["after"].jac[10, 10] > 0).sum()) == 33


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cross_graphs(), st.integers(1, 6), st.integers(1, 6))
def test_tiny_grids_give_the_engine_sizes_or_grid_too_small(graph: Graph, gy: int, gx: int) -> None:
    """On grids of a few pixels, maps shrink to nothing (a transposed convolution whose padding exceeds its
    output, a window longer than its input): the brute force stops with GridTooSmall, never an IndexError from
    indexing an empty map; where it runs, every map has the size the engine computes."""
    note(repr(graph.nodes))
    try:
        signals = propagate(graph, (gy, gx), (0, 1))
    except GridTooSmall:
        event("grid too small")
        return
    try:
        sizes = {fm.name: fm.size for fm in profile(graph, (gy, gx)).feature_maps}
    except GraphError:  # the engine refuses to add maps of different sizes; the brute force truncates them
        event("sizes differ at a merge")
        return
    for node in graph.nodes:
        assert signals[node.name].clean.shape == sizes[node.name], node.name


def test_an_empty_map_is_too_small_for_every_layer() -> None:
    """The edge the property test reaches: a 1-pixel input through a transposed convolution with padding 2
    (PyTorch's output size (1 - 1) * 1 - 2 * 2 + 1 = -3), then up-sampling."""
    graph = Graph(
        "empty",
        (
            Node("deconv", TransposedConv((1, 1), (1, 1), (2, 2)), (INPUT,)),
            Node("up", Upsample((2, 2), "bilinear"), ("deconv",)),
        ),
    )
    with pytest.raises(GridTooSmall):
        propagate(graph, (1, 1), (0, 1))
    empty, mask = np.zeros((0, 3)), np.zeros((0,), dtype=bool)
    with pytest.raises(GridTooSmall):
        bilinear_1d(empty, mask, 2)
    with pytest.raises(GridTooSmall):
        nearest_1d(empty, mask, 2)
    with pytest.raises(GridTooSmall):
        window_1d(empty, mask, 1, 1, (1, 1), 1, False)
    with pytest.raises(GridTooSmall):
        transposed_1d(empty, mask, 3, 2, 0, 1, 0)
