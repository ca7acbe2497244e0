"""Property tests: the profile engine against a brute-force impulse propagation on a 1-D grid.

Random layer stacks and random DAGs act on one axis (the other axis is left unchanged, and which axis is chosen
at random). The brute force (``bruteforce.py``) runs the real array operations on an identity matrix; for every
node and every clean (border-free) unit we compare the exact pixel set and the ERF mean and variance, then the
summary numbers (period, stride, rf, union, padding, centre, overlap, erf_sigma) and the 2-D ``area``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from bruteforce import (
    Signal,
    Unit,
    axis_truth,
    clean_block,
    compare_axis,
    period_bounds,
    propagate,
    unit_of,
)
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from scalematch.errors import GraphError
from scalematch.profile.engine import Profile, profile
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.layers import Layer, Merge, Passthrough, TransposedConv, Upsample, Window

N = 359
"""Input pixels of the 1-D grid (prime, so "same" padding and ceil_mode meet non-divisible sizes)."""

MAX_RF = 150
"""Rough bound on a path's receptive field while generating (keeps plenty of clean units)."""

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def on(a: int, value: Any, other: Any) -> Any:
    """A ``(y, x)`` pair holding ``value`` on axis ``a`` and ``other`` on the other one."""
    return (value, other) if a == 0 else (other, value)


def conv(
    a: int,
    k: int,
    s: int = 1,
    pads: tuple[int, int] | str = (0, 0),
    d: int = 1,
    kind: str = "conv",
    ceil_mode: bool = False,
) -> Window:
    padding: Any = "same" if pads == "same" else on(a, pads, (0, 0))
    return Window(kind, on(a, k, 1), on(a, s, 1), padding, on(a, d, 1), ceil_mode)  # type: ignore[arg-type]


def deconv(a: int, k: int, s: int, p: int = 0, d: int = 1, op: int = 0) -> TransposedConv:
    return TransposedConv(on(a, k, 1), on(a, s, 1), on(a, p, 0), on(a, d, 1), on(a, op, 0))


def up(a: int, f: int, mode: str) -> Upsample:
    return Upsample(on(a, f, 1), mode)  # type: ignore[arg-type]


def phases_covered(k: int, s: int, p: int, d: int) -> bool:
    """Every output phase of a transposed convolution receives at least one tap."""
    return all(any((q + p - t * d) % s == 0 for t in range(k)) for q in range(s))


# ---------------------------------------------------------------------------------------------------------------
# strategies


@st.composite
def layer_1d(
    draw: st.DrawFn, a: int, jump: Fraction, rf: Fraction, allow_same: bool
) -> tuple[Layer, Fraction, Fraction]:
    """A random single-input layer on axis ``a`` for an input of jump ``jump`` and rough span ``rf``.

    Returns the layer, the new jump and a rough bound of the new span. Jumps stay within [1/4, 8].
    """
    kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool", "deconv", "up", "up", "pass"]))
    max_s = max(1, min(3, int(8 / jump)))
    max_f = max(1, min(3, int(jump * 4)))
    if kind == "conv":
        k = draw(st.integers(1, 5))
        d = draw(st.integers(1, 3)) if k > 1 else 1
        s = draw(st.integers(1, max_s))
        if allow_same and draw(st.integers(0, 4)) == 0:
            pads: Any = "same"
        else:
            pads = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        layer: Layer = conv(a, k, s, pads, d)
        k_eff, new_jump = d * (k - 1) + 1, jump * s
        grow = (k_eff - 1) * jump
    elif kind in ("maxpool", "avgpool"):
        k = draw(st.integers(1, 4))
        d = draw(st.integers(1, 2)) if kind == "maxpool" and k > 1 else 1
        s = draw(st.integers(1, max_s))
        pads = (draw(st.integers(0, k // 2)), draw(st.integers(0, k // 2)))
        layer = conv(a, k, s, pads, d, kind=kind, ceil_mode=draw(st.booleans()))
        k_eff, new_jump = d * (k - 1) + 1, jump * s
        grow = (k_eff - 1) * jump
    elif kind == "deconv":
        s = draw(st.integers(1, max_f))
        k, d, p = draw(st.integers(1, 5)), draw(st.integers(1, 2)), draw(st.integers(0, 2))
        if not phases_covered(k, s, p, d):  # some output phase would get no tap: use k >= s taps 1 apart
            k, d = max(k, s), 1
        op = draw(st.integers(0, max(s, d) - 1))
        layer = deconv(a, k, s, p, d, op)
        new_jump = jump / s
        grow = (d * (k - 1) + 1) * jump
    elif kind == "up":
        f = draw(st.integers(1, max_f))
        layer = up(a, f, draw(st.sampled_from(["nearest", "bilinear"])))
        new_jump, grow = jump / f, jump
    else:
        layer, new_jump, grow = Passthrough(draw(st.sampled_from(["relu", "identity"]))), jump, Fraction(0)
    if rf + grow > MAX_RF:
        return Passthrough(), jump, rf
    return layer, new_jump, rf + grow


@st.composite
def stacks(draw: st.DrawFn) -> tuple[int, Graph]:
    """A chain of 1-6 layers on one random axis ('same' padding allowed: profiled with the input size)."""
    a = draw(st.sampled_from([0, 1]))
    jump, rf = Fraction(1), Fraction(1)
    nodes, prev = [], INPUT
    for i in range(draw(st.integers(1, 6))):
        layer, jump, rf = draw(layer_1d(a, jump, rf, allow_same=True))
        nodes.append(Node(f"l{i}", layer, (prev,)))
        prev = f"l{i}"
    return a, Graph("stack", tuple(nodes), taps=(("out", prev),))


@st.composite
def dags(draw: st.DrawFn, align: str) -> tuple[int, Graph]:
    """A random DAG of 2-9 nodes on one axis: single-input layers on any earlier node, and add/concat nodes
    over 2-3 earlier nodes of equal jump (alignment not enforced)."""
    a = draw(st.sampled_from([0, 1]))
    state: dict[str, tuple[Fraction, Fraction]] = {INPUT: (Fraction(1), Fraction(1))}
    nodes: list[Node] = []
    count = draw(st.integers(2, 9))
    for i in range(count):
        name = f"n{i}"
        groups: dict[Fraction, list[str]] = {}
        for ref, (jump, _) in state.items():
            groups.setdefault(jump, []).append(ref)
        mergeable = [g for g in groups.values() if len(g) >= 2]
        # the last node is a merge whenever possible, so most examples exercise one
        if mergeable and (i == count - 1 or draw(st.integers(0, 2)) == 0):
            group = draw(st.sampled_from(mergeable))
            refs = draw(st.lists(st.sampled_from(group), min_size=2, max_size=min(3, len(group)), unique=True))
            kind = draw(st.sampled_from(["add", "concat"]))
            nodes.append(Node(name, Merge(kind, align), tuple(refs)))  # type: ignore[arg-type]
            state[name] = (state[refs[0]][0], max(state[r][1] for r in refs) * 2)
        else:
            ref = draw(st.sampled_from(sorted(state)))
            jump, rf = state[ref]
            layer, jump, rf = draw(layer_1d(a, jump, min(rf, Fraction(MAX_RF)), allow_same=False))
            nodes.append(Node(name, layer, (ref,)))
            state[name] = (jump, rf)
    return a, Graph("dag", tuple(nodes))


# ---------------------------------------------------------------------------------------------------------------
# checks


def clean_units(sig: Signal) -> tuple[int, list[Unit]]:
    lo, hi = clean_block(sig.clean)
    return lo, [unit_of(sig.jac[i]) for i in range(lo, hi)]


def check_graph(a: int, graph: Graph, prof: Profile, signals: dict[str, Signal], sizes: bool) -> int:
    """Compare every node; returns how many nodes had a clean run long enough for the summary checks."""
    checked = 0
    bounds = period_bounds(graph, a)
    for node in graph.nodes:
        fm, sig = prof[node.name], signals[node.name]
        assert fm.geom is not None and fm.y is not None and fm.x is not None
        where = f"node '{node.name}' ({node.layer})"
        if sizes:
            assert fm.size is not None
            assert fm.size[a] == sig.jac.shape[0], f"{where}: {sig.jac.shape[0]} units, engine size {fm.size}"
            assert fm.size[1 - a] == N
        # rows sum to one on clean units (self-check of the brute force)
        lo, units = clean_units(sig)
        if units:
            total = sig.jac[lo : lo + len(units)].sum(axis=1)
            assert abs(total - 1).max() < 1e-9
        other = fm.y if a == 1 else fm.x
        assert (other.stride, other.rf, other.union, other.padding, other.period) == (Fraction(1), 1, 1, 0, 1), where
        truth = compare_axis(fm.geom[a], fm.x if a == 1 else fm.y, units, lo, bounds[node.name], where)
        if units:  # the input box of a clean unit is its dependency's min and max (nothing to clip)
            mid = lo + len(units) // 2
            u = units[len(units) // 2]
            i, j = on(a, mid, 7)
            box = fm.input_box(i, j, clip_to=(N, N))
            assert box == on(a, (u.points[0], u.points[-1]), (7, 7)), f"{where}: unit {mid} box {box}"
        if truth is not None:
            checked += 1
            assert fm.area == truth.union, f"{where}: area {fm.area}, brute-force union {truth.union}"
    return checked


@SETTINGS
@given(stacks())
def test_stack_matches_bruteforce(case: tuple[int, Graph]) -> None:
    a, graph = case
    note(repr(graph.nodes))
    size = (N, N)
    prof = profile(graph, input_size=size)
    signals = propagate(graph, (N,), (a,))
    checked = check_graph(a, graph, prof, signals, sizes=True)
    event(f"nodes checked: {checked}/{len(graph.nodes)}")
    assert checked >= 1


@SETTINGS
@given(dags("union"))
def test_dag_matches_bruteforce(case: tuple[int, Graph]) -> None:
    a, graph = case
    note(repr(graph.nodes))
    prof = profile(graph)
    signals = propagate(graph, (N,), (a,))
    checked = check_graph(a, graph, prof, signals, sizes=False)
    event(f"nodes checked: {checked}/{len(graph.nodes)}")
    event(f"merges: {sum(isinstance(n.layer, Merge) for n in graph.nodes)}")
    assert checked >= 1


def misaligned(node: Node, signals: dict[str, Signal], bound: int) -> bool | None:
    """Whether a merge's inputs have different box centres on common clean units (None: cannot tell)."""
    ins = [signals[r] for r in node.inputs]
    common = min(s.clean.shape[0] for s in ins)
    both = ins[0].clean[:common].copy()
    for s in ins[1:]:
        both &= s.clean[:common]
    lo, hi = clean_block(both)
    centres = [[(s.jac[i] > 0).nonzero()[0] for i in range(lo, hi)] for s in ins]
    mids = [[Fraction(int(p[0]) + int(p[-1]), 2) for p in c] for c in centres]
    if any(m != mids[0] for m in mids[1:]):
        return True
    # ``bound`` is a multiple of every input's period: that many equal centres settle it
    return False if hi - lo >= bound else None


@SETTINGS
@given(dags("strict"))
def test_strict_merge_raises_exactly_when_misaligned(case: tuple[int, Graph]) -> None:
    a, graph = case
    note(repr(graph.nodes))
    signals = propagate(graph, (N,), (a,))
    first_bad = None
    bounds = period_bounds(graph, a)
    for node in graph.nodes:
        if isinstance(node.layer, Merge):
            bad = misaligned(node, signals, bounds[node.name])
            if bad is None:
                event("undecidable")
            assume(bad is not None)
            if bad:
                first_bad = node.name
                break
    event("misaligned" if first_bad else "aligned")
    if first_bad is None:
        prof = profile(graph)
        assert not prof.warnings
        check_graph(a, graph, prof, signals, sizes=False)
    else:
        with pytest.raises(GraphError, match=f"node '{first_bad}'"):
            profile(graph)
        # the opt-in takes the exact union and warns
        prof = profile(graph, allow_misaligned=True)
        assert any(f"node '{first_bad}'" in w for w in prof.warnings)
        check_graph(a, graph, prof, signals, sizes=False)


# ---------------------------------------------------------------------------------------------------------------
# hand-written exact cases


def chain(*layers: Layer) -> Graph:
    nodes, prev = [], INPUT
    for i, layer in enumerate(layers):
        nodes.append(Node(f"l{i}", layer, (prev,)))
        prev = f"l{i}"
    return Graph("chain", tuple(nodes), taps=(("out", prev),))


def truth_of(graph: Graph, a: int = 1) -> Any:
    sig = propagate(graph, (N,), (a,))[graph.nodes[-1].name]
    lo, units = clean_units(sig)
    return axis_truth(units, lo, period_bounds(graph, a)[graph.nodes[-1].name])


def test_five_dilated_convs() -> None:
    graph = chain(*[Window("conv", (3, 3), dilation=(2, 2)) for _ in range(5)])
    fm = profile(graph)["out"]
    assert fm.x is not None and (fm.x.rf, fm.x.union) == (21, 11)
    truth = truth_of(chain(*[conv(1, 3, d=2) for _ in range(5)]))
    assert (truth.rf, truth.union, truth.stride, truth.padding) == (21, 11, 1, 0)


def test_bruteforce_sees_padding() -> None:
    """The brute force is sensitive to an off-by-one in padding, stride and dilation."""
    assert truth_of(chain(conv(1, 3, pads=(1, 1)))).padding == 1
    assert truth_of(chain(conv(1, 3, pads=(2, 1)))).padding == 2
    assert truth_of(chain(conv(1, 3, 2, (1, 1)), conv(1, 3, 1, (1, 1)))).padding == 3
    assert truth_of(chain(conv(1, 3, 2, (1, 1)), conv(1, 3, 2, (1, 1)))).stride == 4
    assert truth_of(chain(conv(1, 3, d=2), conv(1, 3))).rf == 7


@pytest.mark.parametrize(
    ("engine_graph", "brute_graph", "message"),
    [
        (chain(conv(1, 3, pads=(2, 2))), chain(conv(1, 3, pads=(1, 1))), "depends on"),
        (chain(conv(1, 3), conv(1, 3, 2)), chain(conv(1, 3), conv(1, 3, 1)), "depends on"),
        (chain(conv(1, 3)), chain(conv(1, 2), conv(1, 2)), "variance"),
        (chain(up(1, 2, "nearest")), chain(up(1, 2, "bilinear")), "depends on"),
    ],
)
def test_comparison_catches_a_wrong_engine(engine_graph: Graph, brute_graph: Graph, message: str) -> None:
    """Feeding the comparison an engine profile of a slightly different network must fail."""
    prof = profile(engine_graph)
    sig = propagate(brute_graph, (N,), (1,))[brute_graph.nodes[-1].name]
    lo, units = clean_units(sig)
    fm = prof["out"]
    assert fm.geom is not None
    with pytest.raises(AssertionError, match=message):
        compare_axis(fm.geom[1], fm.x, units, lo, period_bounds(brute_graph, 1)["l0"] * 2, "out")


def test_transposed_conv_and_upsampling_exact() -> None:
    """A few hand-derived values on fractional jumps."""
    # nearest x2 then conv k3 pad 1: unit j reads up-sampled j-1..j+1, i.e. sources floor((j-1)/2)..floor((j+1)/2)
    fm = profile(chain(up(1, 2, "nearest"), conv(1, 3, pads=(1, 1))))["out"]
    assert fm.x is not None
    assert (fm.x.stride, fm.x.period) == (Fraction(1, 2), 2)
    assert fm.geom is not None
    assert [fm.geom[1].unit(i)[0] for i in range(4)] == [((-1, 1),), ((0, 2),), ((0, 2),), ((1, 3),)]
    # ConvTranspose k4 s2 p1 (the usual x2 deconvolution): every output reads 2 inputs
    fm = profile(chain(deconv(1, 4, 2, 1)))["out"]
    assert fm.geom is not None and fm.x is not None
    assert (fm.x.stride, fm.x.rf, fm.x.union) == (Fraction(1, 2), 2, 2)
    assert [fm.geom[1].unit(i)[0] for i in range(3)] == [((-1, 1),), ((0, 2),), ((0, 2),)]


def test_transposed_conv_with_tapless_phase_is_an_error_naming_the_node() -> None:
    for layer, k, d in ((deconv(1, 1, 2), 1, 1), (deconv(1, 2, 2, d=2), 2, 2)):
        with pytest.raises(GraphError) as err:
            profile(chain(layer))
        assert str(err.value).endswith(
            f"a deconv with kernel {k}, dilation {d} and stride 2 leaves some output units reading no input; "
            "expected every output phase to get a tap"
        )
