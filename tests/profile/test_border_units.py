"""The input pixels of units at the edges of the maps, against the brute-force impulse propagation.

The periodic sets of ``FeatureMap.geom`` describe maps without ends. ``Profile.unit_pixels`` (and with it
``Profile.input_box``) follows each layer's taps back to units that exist, so that border units past the end of
an up-sampled, transposed or zero-padded map read what the real array operations read (review round 16 F17):
every unit of every node, border units included, is compared with the rows of the brute-force Jacobian.
"""

from __future__ import annotations

import numpy as np
from bruteforce import GridTooSmall, engine_points, propagate
from hypothesis import assume, given
from test_bruteforce_1d import SETTINGS, N, conv, dags, deconv, on, stacks, up

from scalematch.errors import GraphError
from scalematch.profile.engine import profile
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.layers import Layer

EDGE = 24
"""Units checked at each end of every map (the middle ones are sampled: they are the periodic ones)."""


def check_every_unit(a: int, graph: Graph, size: int = N) -> None:
    try:
        signals = propagate(graph, (size,), (a,))
        prof = profile(graph, on(a, size, 1))
    except (GridTooSmall, GraphError):
        assume(False)
        return
    for fm in prof.feature_maps:
        jac = signals[fm.name].jac
        assert fm.size is not None and fm.size[a] == jac.shape[0], fm.name
        n = jac.shape[0]
        units = sorted({*range(min(EDGE, n)), *range(max(n - EDGE, 0), n), *range(0, n, 7)})
        for u in units:
            pixels = prof.unit_pixels(fm.name, *on(a, u, 0))
            assert pixels is not None
            truth = tuple(int(p) for p in np.flatnonzero(jac[u] > 0))
            assert engine_points(pixels[a]) == truth, (fm.name, u)
            assert engine_points(pixels[1 - a]) == (0,)


@SETTINGS
@given(stacks())
def test_border_units_of_stacks_read_what_the_arrays_read(case: tuple[int, Graph]) -> None:
    check_every_unit(*case)


@SETTINGS
@given(dags("union"))
def test_border_units_of_dags_read_what_the_arrays_read(case: tuple[int, Graph]) -> None:
    check_every_unit(*case)


def chain(*layers: Layer) -> Graph:
    nodes = [Node(f"l{k}", layer, (f"l{k - 1}" if k else INPUT,)) for k, layer in enumerate(layers)]
    return Graph("chain", tuple(nodes), taps=(("out", nodes[-1].name),))


def test_the_reviewed_border_units() -> None:
    """The three cases of the review, along y on one column: (a) a deconv k3 s3 p2 with output_padding 1 and
    dilation 2 after a k3 s3 p1 conv on 24 rows: its output_padding row 22 reads nothing (was given row 23);
    (b) depth-to-space by 3 (nearest up-sampling) of a k3 s3 p1 conv on 27 rows, then a k3 s2 p1 conv: the last
    unit reads rows 23..25 (was 23..26: row 26 is dropped by the first conv's floor); (c) a conv whose output is
    zero-padded by 1 and tapped: the padded rows read nothing (the first was given row 0)."""
    deconv_case = chain(conv(0, 3, 3, (1, 1)), deconv(0, 3, 3, 2, 2, 1))
    p = profile(deconv_case, (24, 1))
    assert p["l1"].size == (23, 1)
    assert p.unit_pixels("l1", 22, 0) == ((), ((0, 1),))
    assert p.input_box("l1", 22, 0) is None
    assert p["l1"].input_box(22, 0, (24, 1)) == ((23, 23), (0, 0))  # the periodic set: a unit past the end
    shuffled = chain(conv(0, 3, 3, (1, 1)), up(0, 3, "nearest"), conv(0, 3, 2, (1, 1)))
    p = profile(shuffled, (27, 1))
    assert p["l2"].size == (14, 1)
    assert p.input_box("l2", 13, 0) == ((23, 25), (0, 0))
    assert p["l2"].input_box(13, 0, (27, 1)) == ((23, 26), (0, 0))
    padded = chain(conv(0, 3, 1, (1, 1)), conv(0, 1, 1, (1, 1), kind="avgpool"))
    p = profile(padded, (8, 1))
    assert [p.input_box("l1", i, 0) for i in (0, 1, 9)] == [None, ((0, 1), (0, 0)), None]
    for graph, size in ((deconv_case, 24), (shuffled, 27), (padded, 8)):
        check_every_unit(0, graph, size)
