"""explain() at the edges of the maps: what the arrays read, against the brute-force Jacobian and torch autograd.

A unit near the top or left edge (or, with an input size, the bottom or right one) reads only units that exist:
the zero padding reads nothing. Its units read, their pixels, the union, the exact 2-D count and the ERF moments
are compared with the brute-force impulse propagation (1-D, every unit of every map at both ends) and with the
nonzero input gradient of torch (2-D, random stacks and a merge of crossed kernels, border and interior units).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from bruteforce import GridTooSmall, engine_points, propagate
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_bruteforce_1d import SETTINGS, N, dags, on, stacks

from scalematch.errors import GraphError, OptionError
from scalematch.profile import build, edges, from_layers, profile
from scalematch.profile.explain import explain
from scalematch.profile.graph import INPUT, Graph

EDGE = 12
"""Units checked at each end of every map (some middle ones too)."""


def _moments(row: np.ndarray) -> tuple[float, float]:
    weights = row / row.sum()
    points = np.arange(len(row))
    mean = float((weights * points).sum())
    return mean, float((weights * (points - mean) ** 2).sum())


def check_every_map(a: int, graph: Graph, size: int = N) -> None:
    try:
        signals = propagate(graph, (size,), (a,))
        prof = profile(graph, on(a, size, 1))
    except (GridTooSmall, GraphError):
        assume(False)
        return
    for fm in prof.feature_maps:
        if fm.geom is None:
            continue
        n = signals[fm.name].jac.shape[0]
        for u in sorted({*range(min(EDGE, n)), *range(max(n - EDGE, 0), n), *range(0, n, 29)}):
            row = signals[fm.name].jac[u]
            truth = tuple(int(p) for p in np.flatnonzero(row > 0))
            if not truth:
                with pytest.raises(OptionError, match="reads no input pixel"):
                    explain(prof, fm.name, on(a, u, 0))
                continue
            exp = explain(prof, fm.name, on(a, u, 0))
            reads = exp.axes[a]
            assert engine_points(reads.union) == truth, (fm.name, u)
            assert exp.area == len(truth)
            for src, units, sets in zip(reads.sources, reads.units, reads.sets, strict=True):
                for i, pixels in zip(units, sets, strict=True):
                    if src == INPUT:
                        assert engine_points(pixels) == (i,)
                        continue
                    src_row = signals[src].jac[i]
                    assert engine_points(pixels) == tuple(int(p) for p in np.flatnonzero(src_row > 0)), (src, i)
            mean, var = _moments(row)
            assert float(exp.erf_mean[a]) == pytest.approx(mean, abs=1e-6)
            assert exp.erf_sigma[a] ** 2 == pytest.approx(var, abs=1e-6)


@SETTINGS
@given(stacks())
def test_every_unit_of_stacks_reads_what_the_arrays_read(case: tuple[int, Graph]) -> None:
    check_every_map(*case, size=61)


@SETTINGS
@given(dags("union"))
def test_every_unit_of_dags_reads_what_the_arrays_read(case: tuple[int, Graph]) -> None:
    check_every_map(*case, size=61)


def _torch_read(specs: list[tuple[int, int, int, int]], side: int, unit: tuple[int, int]) -> np.ndarray:
    """Where the input gradient of ``unit`` of the last of the convolutions ``(k, s, p, d)`` is nonzero (torch,
    weights of 1 on a ``side`` x ``side`` image)."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, side, side, requires_grad=True)
    h = x
    for k, s, p, d in specs:
        conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        torch.nn.init.constant_(conv.weight, 1.0)
        h = conv(h)
    h[0, 0, unit[0], unit[1]].backward()
    read: np.ndarray = (x.grad[0, 0] != 0).numpy()
    return read


conv_spec = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3))


@settings(max_examples=40, deadline=None)
@given(st.lists(conv_spec, min_size=1, max_size=3), st.integers(0, 3), st.integers(0, 2), st.booleans())
def test_the_2d_count_is_torch_autograds(specs: list[tuple[int, int, int, int]], iy: int, ix: int, end: bool) -> None:
    """Border units (the first ones; with ``end``, the last ones of a profile with an input size) and interior
    ones: the exact count and the rows and columns read are those of torch's nonzero input gradient."""
    side = 40
    layers = [f"conv:k={k},s={s},p={p},d={d}" for k, s, p, d in specs]
    try:
        prof = profile(from_layers(layers), (side, side))
    except GraphError:
        assume(False)
        return
    last = prof.feature_maps[-1]
    assert last.size is not None
    unit = (last.size[0] - 1 - iy, last.size[1] - 1 - ix) if end else (iy, ix)
    assume(0 <= unit[0] < last.size[0] and 0 <= unit[1] < last.size[1])
    read = _torch_read(specs, side, unit)
    if not read.any():
        with pytest.raises(OptionError, match="reads no input pixel"):
            explain(prof, unit=unit)
        return
    exp = explain(prof, unit=unit)
    assert exp.area == int(read.sum())
    assert engine_points(exp.union.rows) == tuple(np.flatnonzero(read.any(1)).tolist())
    assert engine_points(exp.union.cols) == tuple(np.flatnonzero(read.any(0)).tolist())


def test_the_reviewed_border_unit_reads_25_pixels() -> None:
    """conv k3 s2 p1 then conv k3 d2 p2, unit 0: torch reads rows 0, 1, 3, 4, 5 (25 pixels), not 81 from -5."""
    exp = explain(["conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2"], unit=0)
    assert exp.axes[0].units == ((0, 2),)
    assert exp.union.rows == ((0, 2), (3, 6))
    assert exp.area == 25 == int(_torch_read([(3, 2, 1, 1), (3, 1, 2, 2)], 32, (0, 0)).sum())
    assert repr(exp) == "<Explanation L2 unit 0: reads 4 units of L1; input region 25 pixels>"
    assert exp.erf_mean[0] > 0  # the padding sends no gradient: the ERF leans into the image


def test_a_merge_of_crossed_kernels_at_the_corner_matches_torch() -> None:
    """A 1x7 and a 7x1 branch added (their union is no rectangle), at the corner and inside: torch's count."""
    torch = pytest.importorskip("torch")
    from pathlib import Path
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as folder:
        path = Path(folder) / "cross.yaml"
        path.write_text(
            "nodes:\n"
            "  - {name: c1, type: conv, kernel: 3, stride: 2, padding: 1}\n"
            "  - {name: a1, type: conv, kernel: [1, 7], padding: [0, 3]}\n"
            "  - {name: b1, type: conv, kernel: [7, 1], padding: [3, 0], input: c1}\n"
            "  - {name: m1, type: add, inputs: [a1, b1]}\n"
        )
        prof = profile(build(str(path)), (32, 32))
    c1 = torch.nn.Conv2d(1, 1, 3, 2, 1, bias=False)
    a1 = torch.nn.Conv2d(1, 1, (1, 7), padding=(0, 3), bias=False)
    b1 = torch.nn.Conv2d(1, 1, (7, 1), padding=(3, 0), bias=False)
    for conv in (c1, a1, b1):
        torch.nn.init.constant_(conv.weight, 1.0)
    for unit in ((0, 0), (1, 2), (4, 4), (15, 0), (15, 15)):
        x = torch.zeros(1, 1, 32, 32, requires_grad=True)
        h = c1(x)
        (a1(h) + b1(h))[0, 0, unit[0], unit[1]].backward()
        exp = explain(prof, "m1", unit)
        assert exp.area == int((x.grad[0, 0] != 0).sum()), unit


def test_a_unit_outside_the_map_of_a_sized_profile_is_refused() -> None:
    prof = profile(from_layers(["conv:k=3,s=2,p=1"]), (8, 8))
    with pytest.raises(OptionError, match=r"^unit: unit 4 is outside the 4 rows of 'L1' \(0 to 3\) at input 8x8"):
        explain(prof, unit=4)
    assert explain(prof, unit=3).union.rows == ((5, 8),)  # the last unit: the bottom padding reads nothing


def test_a_unit_over_the_padding_only_is_refused() -> None:
    with pytest.raises(OptionError, match=r"^unit: unit 0 of 'L1' reads no input pixel along y"):
        explain(["conv:k=1,p=1"], unit=0)
    assert explain(["conv:k=1,p=1"]).unit == (1, 1)


def test_the_erf_moments_at_the_edge_are_exact_fractions() -> None:
    exp = explain(["conv:k=3,p=1"], unit=0)
    assert exp.erf_mean == (Fraction(1, 2), Fraction(1, 2))  # pixels 0 and 1, equal weights
    assert exp.erf_sigma == (0.5, 0.5)


def test_the_text_and_the_figure_say_where_the_image_ends() -> None:
    pytest.importorskip("matplotlib")
    from scalematch.report.explain_plot import explain_figure
    from scalematch.report.explain_text import reads_text

    border = explain(["conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2"], unit=0)
    inside = explain(["conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2"])
    assert "(unit 0 is at the image's edge: the padding and units past a map's edge read nothing;" in reads_text(border)
    assert "edge" not in reads_text(inside)
    drawn = [p for p in explain_figure(border).axes[0].patches if p.get_gid() == "outside"]
    assert len(drawn) == 2  # above row 0 and left of column 0
    assert not [p for p in explain_figure(inside).axes[0].patches if p.get_gid() == "outside"]


def test_the_default_unit_of_a_small_sized_map_is_its_middle_one() -> None:
    """resnet50 at 64x64: C5 has 2 x 2 units, none inside the image (the first inside would be unit 7)."""
    exp = explain(profile(build("resnet50"), (64, 64)), "C5")
    assert exp.unit == (1, 1)
    assert exp.union.rows == ((0, 64),) and exp.area == 64 * 64


def check_span_bounds_the_units_listed(a: int, graph: Graph, size: int | None) -> None:
    try:
        prof = profile(graph, None if size is None else on(a, size, 1))
    except GraphError:
        assume(False)
        return
    for fm in prof.feature_maps:
        side = None if fm.size is None else fm.size[a]
        for u in sorted({0, 1, 7, *(() if side is None else (side // 2, side - 1))}):
            if fm.geom is None or (side is not None and u >= side):
                continue
            listed = edges.axis_edges(prof, fm, a, u).values
            assert len(listed) <= edges.dependency_span(prof, fm, a, u), (fm.name, u)


@SETTINGS
@given(stacks(), st.sampled_from([None, N]))
def test_the_counted_span_bounds_the_units_of_stacks(case: tuple[int, Graph], size: int | None) -> None:
    check_span_bounds_the_units_listed(*case, size)


@SETTINGS
@given(dags("union"), st.sampled_from([None, N]))
def test_the_counted_span_bounds_the_units_of_dags(case: tuple[int, Graph], size: int | None) -> None:
    check_span_bounds_the_units_listed(*case, size)


def test_the_counted_span_of_a_chain_is_the_units_it_lists() -> None:
    """Without gaps the span is exact: 12 convolutions 3/2 list 2**13 - 2 - 12 units. Past the bound, 17 of them,
    explain refuses the last map before listing any unit, naming the network; a map nearer the input is explained."""
    prof = profile(from_layers(["conv:k=3,s=2"] * 12))
    last = prof.feature_maps[-1]
    assert edges.dependency_span(prof, last, 0, 0) == len(edges.axis_edges(prof, last, 0, 0).values) == 2**13 - 14
    deep = profile(from_layers(["conv:k=3,s=2"] * 17, name="deep"))
    assert edges.dependency_span(deep, deep.feature_maps[-1], 1, 0) == 2**18 - 19 > edges.MAX_DEPENDENCIES
    with pytest.raises(OptionError, match=r"^deep: unit 0 of 'L17' depends on up to 262,125 units .* along y, mor"):
        explain(deep)
    assert explain(deep, "L12").area == (2**13 - 1) ** 2


@pytest.mark.parametrize("name", ["resnet152", "mobilenet_v3_large", "efficientnet_b0"])
def test_the_built_in_backbones_are_far_within_the_bound(name: str) -> None:
    prof = profile(build(name, "fpn"))
    for fm in prof.feature_maps:
        if fm.geom is not None:
            assert edges.dependency_span(prof, fm, 0, 0) < edges.MAX_DEPENDENCIES // 10, fm.name
