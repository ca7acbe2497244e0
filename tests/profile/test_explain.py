"""explain(): the units one output unit reads and their input pixels, checked against brute force."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.errors import ConfigError, OptionError
from scalematch.profile import build, from_layers, profile
from scalematch.profile.explain import build_network, explain
from scalematch.profile.runs import Runs, from_points
from scalematch.report.explain_text import reads_text

Spec = tuple[str, int, int, int, int]  # (kind, kernel or factor, stride, dilation, padding)


def _spec_text(spec: Spec) -> str:
    kind, k, s, d, p = spec
    if kind == "upsample":
        return f"upsample:f={k}"
    return f"{kind}:k={k},s={s},d={d},p={p}"


def _brute_reads(specs: list[Spec], u: int) -> tuple[list[int], list[set[int]], set[int]]:
    """Units of the previous map read by unit ``u`` of the last layer, their pixel sets and the union, by
    expanding every unit back to the image with plain Python sets (1-D, one axis). Units before 0 do not exist
    (the zero padding): they are not read. The maps have no end (no input size)."""

    def reads(spec: Spec, j: int) -> list[int]:
        kind, k, s, d, p = spec
        if kind == "upsample":
            return [j // k]
        return [i for i in (j * s - p + t * d for t in range(k)) if i >= 0]

    def pixels(depth: int, j: int) -> set[int]:
        if depth == 0:
            return {j}
        return set().union(*(pixels(depth - 1, i) for i in reads(specs[depth - 1], j)))

    units = sorted(set(reads(specs[-1], u)))
    return units, [pixels(len(specs) - 1, i) for i in units], pixels(len(specs), u)


def _torch_pool(spec: Spec) -> bool:
    """A pool's padding is at most half its kernel, as torch requires (and the parser)."""
    kind, k, _, _, p = spec
    return kind == "conv" or p <= k // 2


layer = st.one_of(
    st.tuples(
        st.sampled_from(["conv", "maxpool", "avgpool"]),
        st.integers(1, 4),
        st.integers(1, 3),
        st.integers(1, 3),
        st.integers(0, 3),
    ).filter(_torch_pool),
    st.tuples(st.just("upsample"), st.integers(2, 3), st.just(1), st.just(1), st.just(0)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(layer, min_size=1, max_size=4), st.integers(0, 7))
def test_reads_and_sets_match_brute_force(specs: list[Spec], unit: int) -> None:
    prof = profile(from_layers([_spec_text(s) for s in specs]))
    units, sets, union = _brute_reads(specs, unit)
    if not union:  # a window over the padding only: there is nothing to explain, and it says so
        with pytest.raises(OptionError, match=f"unit: unit {unit} of 'L{len(specs)}' reads no input pixel along y"):
            explain(prof, unit=unit)
        return
    exp = explain(prof, unit=unit)
    for reads in exp.axes:
        assert reads.unit == unit
        assert reads.units == (tuple(units),)
        assert reads.sets == (tuple(from_points(s) for s in sets),)
        assert reads.union == from_points(union)
    assert len(exp.regions) == len(units) ** 2
    assert {r.unit for r in exp.regions} == {(i, j) for i in units for j in units}


def _points(runs: Runs) -> set[int]:
    return {p for a, b in runs for p in range(a, b)}


def test_pooling_after_conv_reads_four_units() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1", "pooling_2x2_stride_2"])))
    # conv unit i covers pixels i-1..i+1 (padding 1); pool unit 1 reads conv units 2 and 3
    assert exp.unit == (1, 1)
    assert [r.unit for r in exp.regions] == [(2, 2), (2, 3), (3, 2), (3, 3)]
    assert [r.rectangles() for r in exp.regions] == [
        ((1, 4, 1, 4),),
        ((1, 4, 2, 5),),
        ((2, 5, 1, 4),),
        ((2, 5, 2, 5),),
    ]
    assert exp.union.rectangles() == ((1, 5, 1, 5),)
    assert exp.node.x is not None and exp.node.x.rf == 4 and exp.node.x.union == 4
    assert exp.product_exact


def test_default_unit_is_inside_the_image() -> None:
    exp = explain(profile(from_layers(["conv_3x3_stride_1_dilate_2"] * 5)))
    assert exp.unit == (10, 10)  # RF 21 centred: pixels 0..20
    assert _points(exp.union.cols) == set(range(0, 21, 2))


def test_merge_reads_the_same_unit_of_every_input() -> None:
    exp = explain(profile(build("resnet50")), "C3")
    assert exp.node.inputs == ("layer2.3.conv3", "layer2.2.add")
    assert [r.source for r in exp.regions] == list(exp.node.inputs)
    assert all(r.unit == exp.unit for r in exp.regions)
    union = set().union(*(_points(r.cols) for r in exp.regions))
    assert union == _points(exp.union.cols)
    assert exp.chain == ("layer2.3.conv3", "layer2.2.add", "layer2.3.add")


def test_unknown_node_and_global_pool() -> None:
    with pytest.raises(OptionError, match="node: no map named 'P9' in resnet50"):
        explain(profile(build("resnet50")), "P9")
    with pytest.raises(OptionError, match="global pooling"):
        explain(profile(from_layers(["conv_3x3_stride_1", "global_avgpool"])))


def test_network_errors_name_the_spec() -> None:
    with pytest.raises(ConfigError, match=r"^layer 2 'conv:k=3,q=2': 'q' is not a field of a conv layer"):
        build_network(["conv_3x3_stride_1", "conv:k=3,q=2"])
    with pytest.raises(OptionError, match="a neck needs a backbone"):
        build_network(["conv_3x3_stride_1"], "fpn")
    graph, labels = build_network(["conv_3x3_stride_1", "pooling_2x2_stride_2"])
    assert labels == {"L1": "conv_3x3_stride_1", "L2": "pooling_2x2_stride_2"}
    assert [n.name for n in graph.nodes] == ["L1", "L2"]


def test_a_merge_of_crossed_branches_counts_its_union_exactly(tmp_path: Path) -> None:
    path = tmp_path / "cross.yaml"
    path.write_text(
        "nodes:\n"
        "  - {name: c1, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: a1, type: conv, kernel: [1, 7], padding: [0, 3]}\n"
        "  - {name: b1, type: conv, kernel: [7, 1], padding: [3, 0], input: c1}\n"
        "  - {name: m1, type: add, inputs: [a1, b1]}\n"
    )
    exp = explain(profile(build(str(path))), "m1", 4)
    # a 15 x 3 and a 3 x 15 rectangle crossing in 3 x 3 pixels: 45 + 45 - 9
    assert (exp.area, exp.product_exact) == (81, False)
    text = reads_text(exp)
    assert "their union is 81 pixels." in text
    assert "the per-axis product, 15 x 15 = 225 pixels, is what the figure draws" in text
    assert "at most" not in text


def test_the_repr_counts_in_the_singular_and_the_plural() -> None:
    assert repr(explain(["conv:k=1,s=2", "upsample:f=2"])) == (
        "<Explanation L2 unit 0: reads 1 unit of L1; input region 1 pixel>"
    )
    assert repr(explain(["conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2"])) == (
        "<Explanation L2 unit 3: reads 9 units of L1; input region 81 pixels>"
    )


def test_the_transposed_convolution_is_named_once() -> None:
    from scalematch.report.explain_text import sentence

    text = sentence(explain(["conv:k=3,s=2,p=1", "deconv:k=4,s=2,p=1,d=3,output_padding=1"]))
    assert text.startswith("The transposed convolution (k4 s2 d3 op1) halves the stride to 1;"), text
    assert "(transposed)" not in text


def test_to_dict_and_to_frame_hold_what_the_explanation_holds() -> None:
    import json

    exp = explain(["conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2"], unit=(0, 3))
    doc = json.loads(json.dumps(exp.to_dict()))
    assert doc["node"] == "L2" and doc["layer"] == "conv:k=3,d=2,p=2" and doc["unit"] == [0, 3]
    assert doc["reads"][0] == {"source": "L1", "unit": [0, 1], "rows": [[0, 2]], "cols": [[1, 4]], "pixels": 6}
    assert doc["union"] == {"rows": [[0, 2], [3, 6]], "cols": [[1, 4], [5, 8], [9, 12]], "pixels": 45}
    assert (doc["area"], doc["product_exact"]) == (45, True)
    assert doc["erf_mean"] == [float(exp.erf_mean[0]), 6.0] and doc["chain"] == ["image", "L1", "L2"]
    frame = exp.to_frame()
    assert len(frame) == len(exp.regions) == 6
    first = frame.iloc[0]
    assert (first["source"], first["unit_h"], first["unit_w"], first["pixels"]) == ("L1", 0, 1, 6)
    assert (first["y_min"], first["y_max"], first["x_min"], first["x_max"]) == (0, 1, 1, 3)
    empty = explain(["conv:k=1,p=1", "conv:k=3,p=1"], unit=1).to_frame().iloc[0]
    assert empty["pixels"] == 0 and empty["rows"] == () and empty[["y_min", "x_max"]].isna().all()
    assert "L1 unit 0  no input pixel (it reads the padding only)" in reads_text(
        explain(["conv:k=1,p=1", "conv:k=3,p=1"], unit=1)
    )
