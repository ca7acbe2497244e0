"""ONNX operators read as the specification of the model's opset says (review round 16): the axes of the Reduce*
operators, ConvTranspose's pads, output_padding, output_shape and auto_pad, Slice's default axes, statistics over
rows or columns, and why no graph output is a feature map. The sizes are checked against onnx's own reference
evaluator (or its shape inference), the unit geometry against the evaluator's impulse responses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from scalematch.errors import ModelError  # noqa: E402
from scalematch.profile import GlobalPool, Passthrough, profile  # noqa: E402
from scalematch.profile.importers.onnx import from_onnx  # noqa: E402

CONV = helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1])
"""A 3x3 conv, 3 -> 4 channels, size kept: the feature map the operators under test read."""


def model(nodes: list[Any], opset: int, size: tuple[int, int] = (16, 16), **inits: Any) -> Any:
    """A model of input ``x`` (1x3xHxW) and output ``y``; ``inits`` become initializers (arrays as given)."""
    rng = np.random.default_rng(0)
    tensors = [numpy_helper.from_array(rng.random((4, 3, 3, 3), dtype=np.float32), "w")]
    tensors += [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=tensors,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run(m: Any, x: Any = None) -> Any:
    """The output ``y`` of onnx's reference evaluator."""
    h, w = (d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[2:])
    x = np.random.default_rng(1).random((1, 3, h, w), dtype=np.float32) if x is None else x
    outputs: Any = ReferenceEvaluator(m).run(None, {"x": x})
    return outputs[0]


REDUCE = [
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceSum",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceSumSquare",
]


def reduce_cases() -> list[tuple[str, int, Any, int]]:
    """(op, opset, axes, noop_with_empty_axes): axes None (left out), or a list, as an attribute or an input as
    the opset's schema has it; reductions over channels, over H and W, over all axes, and the identity."""
    cases = []
    for op in REDUCE:
        for opset in (13, 18):
            as_input = any(i.name == "axes" for i in onnx.defs.get_schema(op, opset, "").inputs)
            for axes in (None, [], [1], [2, 3], [-1, -2], [0, 1, 2, 3]):
                for noop in (0, 1) if as_input else (0,):
                    if as_input or axes != []:  # an empty axes attribute is no exporter's
                        cases.append((op, opset, axes, noop))
    return cases


def reduce_model(op: str, opset: int, axes: Any, noop: int) -> Any:
    as_input = any(i.name == "axes" for i in onnx.defs.get_schema(op, opset, "").inputs)
    attrs: dict[str, Any] = {"keepdims": 1}
    inits: dict[str, Any] = {}
    inputs = ["c"]
    if as_input:
        attrs["noop_with_empty_axes"] = noop
        if axes is not None:
            inputs.append("axes")
            inits["axes"] = np.asarray(axes, dtype=np.int64)
    elif axes is not None:
        attrs["axes"] = axes
    return model([CONV, helper.make_node(op, inputs, ["y"], name="rm", **attrs)], opset, **inits)


@pytest.mark.parametrize(("op", "opset", "axes", "noop"), reduce_cases())
def test_reduce_axes_follow_the_opset(op: str, opset: int, axes: Any, noop: int) -> None:
    """Opset 18 without axes and with noop_with_empty_axes=1 is the identity (was a global pool); empty axes
    without it reduce every axis (was the identity), as the reference evaluator computes (review round 16 F6)."""
    m = reduce_model(op, opset, axes, noop)
    truth = run(m).shape[2:]
    g = from_onnx(m)
    y = profile(g, (16, 16))["y"]
    assert y.size == truth
    assert isinstance(g.nodes[-1].layer, GlobalPool if truth == (1, 1) else Passthrough)
    assert y.y is not None and y.y.rf == (18 if truth == (1, 1) else 3)


def test_reduce_axes_computed_from_shapes_are_resolved_unknown_ones_refused() -> None:
    """Axes computed in the graph (Shape -> Shape -> Sub = [1], channels) were read as every axis, a global pool."""
    nodes = [
        CONV,
        helper.make_node("Shape", ["c"], ["s1"], name="sh1"),
        helper.make_node("Shape", ["s1"], ["s2"], name="sh2"),
        helper.make_node("Sub", ["s2", "three"], ["ax"], name="sub"),
        helper.make_node("ReduceMean", ["c", "ax"], ["y"], name="rm", keepdims=1),
    ]
    m = model(nodes, 18, three=np.asarray([3], dtype=np.int64))
    assert run(m).shape == (1, 1, 16, 16)
    assert profile(from_onnx(m), (16, 16))["y"].size == (16, 16)
    nodes = [CONV, helper.make_node("ReduceMean", ["c", "ax"], ["y"], name="rm", keepdims=1)]
    m = model(nodes, 18)
    m.graph.input.append(helper.make_tensor_value_info("ax", TensorProto.INT64, [1]))
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'rm' (ReduceMean): its axes ('ax') are neither a constant nor computed from constants and "
        "shapes; expected constant axes"
    )


def test_reduce_along_one_spatial_axis_is_refused() -> None:
    m = reduce_model("ReduceMax", 13, [3], 0)
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'rm' (ReduceMax): reduces along spatial axis 3 only (each unit of the result reads its "
        "whole row); expected H and W together (a global pool) or neither"
    )


# -- ConvTranspose ------------------------------------------------------------------------------------------
def deconv_model(size: int, **attrs: Any) -> Any:
    """A one-channel ConvTranspose (kernel 4 rows x 1 column, all ones) on an Hx1 image: along H, output unit j is
    non-zero for an impulse at row i exactly when it reads row i."""
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, size, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.ones((1, 1, 4, 1), dtype=np.float32), "w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def impulse_reads(m: Any, size: int) -> list[set[int]]:
    """The input rows each output row reads, from the reference evaluator's response to each impulse."""
    reads: list[set[int]] = []
    for i in range(size):
        x = np.zeros((1, 1, size, 1), dtype=np.float32)
        x[0, 0, i, 0] = 1.0
        outputs: Any = ReferenceEvaluator(m).run(None, {"x": x})
        y = outputs[0][0, 0, :, 0]
        reads += [set() for _ in range(len(y) - len(reads))]
        for j in np.flatnonzero(y):
            reads[j].add(i)
    return reads


@pytest.mark.parametrize(
    "attrs",
    [
        {"strides": [2, 1], "pads": [2, 0, 0, 0], "output_padding": [1, 0]},  # 'got output_padding 3' before
        {"strides": [2, 1], "pads": [2, 0, 0, 0]},  # 'got output_padding 2' although the model has none
        {"strides": [2, 1], "pads": [0, 0, 2, 0]},  # more cropped at the end than at the start
        {"strides": [3, 1], "pads": [1, 0, 2, 0], "output_padding": [2, 0]},
        {"strides": [2, 1], "output_shape": [13, 1]},  # pads from output_shape, the odd one at the start
        {"strides": [2, 1], "output_shape": [14, 1], "auto_pad": "SAME_UPPER"},
        {"strides": [2, 1], "auto_pad": "SAME_UPPER"},  # output = input * stride, the odd padding at the end
        {"strides": [2, 1], "auto_pad": "SAME_LOWER"},  # ... at the start
        {"strides": [3, 1], "auto_pad": "SAME_LOWER", "output_padding": [1, 0]},  # 21 rows (see below)
        {"strides": [2, 1], "dilations": [3, 1], "pads": [1, 0, 3, 0], "output_padding": [1, 0]},
    ],
)
def test_conv_transpose_geometry_is_onnx_s(attrs: dict[str, Any]) -> None:
    """Asymmetric pads, output_padding, output_shape and auto_pad: the output size and the input rows of every
    output row are the reference evaluator's (review round 16 F11: valid models were refused citing an
    output_padding they do not have)."""
    size = 7
    m = deconv_model(size, **attrs)
    # onnx's reference evaluator ignores output_shape without auto_pad; the specification then splits the padding
    # as SAME_LOWER does ("Else: pads[start_i] = total_padding[i] - (total_padding[i]/2)"), which it does follow.
    # With auto_pad SAME_* and an output_padding it gives input * stride rows, as the specification says; onnx's
    # shape inference adds the output_padding to that (22 rows instead of 21 in the case above).
    same = {**attrs, "auto_pad": "SAME_LOWER"} if "output_shape" in attrs and "auto_pad" not in attrs else attrs
    truth = impulse_reads(deconv_model(size, **same), size)
    if "output_shape" in attrs:
        assert len(truth) == attrs["output_shape"][0]
    fm = profile(from_onnx(m), (size, 1))["y"]
    assert fm.size is not None and fm.size[0] == len(truth)
    assert fm.geom is not None
    for j, rows in enumerate(truth):
        ours = {p for a, b in fm.geom[0].unit(j)[0] for p in range(a, b) if 0 <= p < size}
        assert ours == rows, (j, ours, rows)


def test_conv_transpose_errors_name_the_node_and_the_model_s_values() -> None:
    cases = [
        ({"strides": [2, 1], "output_padding": [2, 0]}, "output_padding [2, 0] must be non-negative and smaller "
         "than the stride [2, 1] or the dilation [1, 1] (ONNX's rule)"),
        ({"strides": [0, 1]}, "'stride' must be a positive integer, got 0"),
        ({"strides": [5, 1]}, "a deconv with kernel 4, dilation 1 and stride 5 leaves some output units reading no "
         "input; expected every output phase to get a tap"),
        ({"strides": [2, 1], "output_shape": [20, 1]}, "output_shape [20, 1] is larger than the transposed "
         "convolution computes with output_padding; not supported"),
        ({"strides": [2, 1], "output_shape": [1, 1, 14, 1]}, "expected 2 output_shape values for its 2-D kernel, got "
         "[1, 1, 14, 1]"),
    ]  # fmt: skip
    for attrs, message in cases:
        with pytest.raises(ModelError) as err:
            from_onnx(deconv_model(7, **attrs))
        assert str(err.value) == f"<onnx model>: node 'ct' (ConvTranspose): {message}"
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="cv", strides=[0, 1], pads=[1, 1, 1, 1])
    with pytest.raises(ModelError) as err:
        from_onnx(model([conv], 17))
    assert str(err.value) == "<onnx model>: node 'cv' (Conv): 'stride' must be a positive integer, got 0"


def test_erf_measures_an_onnx_deconv_with_asymmetric_pads() -> None:
    """The ERF measurement builds the layer with torch, whose output_padding must stay below the stride: the
    layer's wider output padding (here 3) is cut from the full output instead."""
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    from scalematch.profile.erf_measure import measure_erf

    deconv = helper.make_node(
        "ConvTranspose", ["c", "wt"], ["y"], name="ct", strides=[2, 2], pads=[2, 1, 0, 0], output_padding=[1, 0]
    )
    m = model([CONV, deconv], 17, wt=np.ones((4, 4, 4, 4), dtype=np.float32))
    g = from_onnx(m)
    assert profile(g, (16, 16))["y"].size == run(m).shape[2:] == (33, 33)
    result = measure_erf(g, (16, 16), "y", samples=1)
    assert (result.node, result.input_size) == ("y", (16, 16))  # torch refused its output_padding 3 before


# -- Slice --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opset", [9, 13])
def test_a_slice_without_axes_slices_the_first_axes(opset: int) -> None:
    """ONNX's default axes are 0 .. len(starts) - 1: starts [0, 0], ends [1, 2] slice the batch and the channels,
    a channel slice that keeps H and W (was refused as 'without constant axes', review round 16 F16)."""
    if opset < 10:
        node = helper.make_node("Slice", ["c"], ["y"], name="sl", starts=[0, 0], ends=[1, 2])
        m = model([CONV, node], opset)
    else:
        node = helper.make_node("Slice", ["c", "starts", "ends"], ["y"], name="sl")
        m = model([CONV, node], opset, starts=np.asarray([0, 0]), ends=np.asarray([1, 2]))
    assert run(m).shape == (1, 2, 16, 16)
    assert profile(from_onnx(m), (16, 16))["y"].size == (16, 16)
    # three starts: the default axes reach H, a crop
    if opset < 10:
        node = helper.make_node("Slice", ["c"], ["y"], name="sl", starts=[0, 0, 1], ends=[1, 2, 16])
        m = model([CONV, node], opset)
    else:
        m = model([CONV, node], opset, starts=np.asarray([0, 0, 1]), ends=np.asarray([1, 2, 16]))
    assert run(m).shape == (1, 2, 15, 16)
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'sl' (Slice): slices a spatial axis; expected slicing along channels only"
    )


def test_a_slice_with_a_step_of_zero_is_refused() -> None:
    """ONNX forbids a Slice step of 0 (onnx's reference evaluator fails on it); a channel slice with one was
    accepted (review round 41 F6)."""
    node = helper.make_node("Slice", ["c", "starts", "ends", "axes", "steps"], ["y"], name="sl")
    arrays: dict[str, Any] = {"starts": np.asarray([0]), "ends": np.asarray([2]), "axes": np.asarray([1])}
    with pytest.raises(Exception):  # noqa: B017 (whatever the evaluator raises: the model is not valid)
        run(model([CONV, node], 13, steps=np.asarray([0]), **arrays))
    with pytest.raises(ModelError) as err:
        from_onnx(model([CONV, node], 13, steps=np.asarray([0]), **arrays))
    assert str(err.value) == "<onnx model>: node 'sl' (Slice): has a step of 0 (ONNX Slice steps must be non-zero)"
    assert profile(from_onnx(model([CONV, node], 13, steps=np.asarray([1]), **arrays)), (16, 16))["y"].size == (16, 16)


TAKES = "ONNX's Resize (opset 17) takes"


@pytest.mark.parametrize(
    ("array", "slot", "message"),
    [
        (np.asarray(["1", "1", "2", "2"]), 2, f"input 'scales' ('v') is of type STRING; {TAKES} float"),
        (np.asarray([1, 1, 2, 2]), 2, f"input 'scales' ('v') is of type INT64; {TAKES} float"),
        (np.asarray([1.0, 1, 32, 32], dtype=np.float32), 3, f"input 'sizes' ('v') is of type FLOAT; {TAKES} int64"),
    ],
)
def test_an_input_of_a_type_the_operator_does_not_take_is_refused(array: Any, slot: int, message: str) -> None:
    """Resize's scales or sizes of another element type than its schema takes: STRING scales ended in a
    traceback (review round 42 F2); onnx's strict shape inference refuses the same models."""
    inputs = ["c", "", "v", ""][: slot + 1] if slot == 2 else ["c", "", "", "v"]
    m = model([CONV, helper.make_node("Resize", inputs, ["y"], name="rs", mode="nearest")], 17, v=array)
    with pytest.raises(Exception):  # noqa: B017 (whatever onnx raises: the model is not valid)
        onnx.shape_inference.infer_shapes(m, strict_mode=True)
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == f"<onnx model>: node 'rs' (Resize): {message}"
    good = np.asarray([1, 1, 2, 2], dtype=np.float32) if slot == 2 else np.asarray([1, 4, 32, 32])
    assert profile(from_onnx(model(m.graph.node, 17, v=good)), (16, 16))["y"].size == (32, 32)


def test_inputs_that_share_a_type_variable_agree() -> None:
    """Conv binds X and W to one type T (its schema says so; onnxruntime refuses the model): a FLOAT image with
    DOUBLE weights was profiled (review round 43, D-F1)."""
    assert {f.name: f.type_str for f in onnx.defs.get_schema("Conv", 13, "").inputs} == {"X": "T", "W": "T", "B": "T"}
    m = model([CONV], 13)
    w = next(i for i in m.graph.initializer if i.name == "w")
    w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w).astype(np.float64), "w"))
    m.graph.output[0].name = "c"
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'conv' (Conv): input 'W' ('w') is of type DOUBLE, but 'X' ('x') is FLOAT; ONNX's Conv "
        "takes one type (T) for both"
    )


W1 = np.ones((1, 4, 1, 1), dtype=np.float32)
"""A 1x1 conv reading a result: the import needs that result as a feature map."""
OUT_OF_RANGE: dict[str, tuple[list[Any], int, dict[str, Any], str]] = {
    "reduce_attr": ([helper.make_node("ReduceMean", ["c"], ["r"], name="n", axes=[6, 7])], 13, {}, "6"),
    "reduce_input": ([helper.make_node("ReduceMean", ["c", "ax"], ["r"], name="n")], 18,
                     {"ax": np.asarray([-5])}, "-5"),
    "concat": ([helper.make_node("Concat", ["c", "c"], ["r"], name="n", axis=5)], 13, {}, "5"),
    "softmax": ([helper.make_node("Softmax", ["c"], ["r"], name="n", axis=5)], 13, {}, "5"),
    "pad": ([helper.make_node("Pad", ["c", "p", "", "ax"], ["r"], name="n")], 18,
            {"p": np.asarray([1, 1, 1, 1]), "ax": np.asarray([6, 7])}, "6"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_an_axis_out_of_range_is_refused_not_wrapped(case: str) -> None:
    """ONNX takes axes of a rank-r input in -r .. r - 1; axes 6 and 7 were read as 2 and 3 (a global pool), -5 as
    3, a Concat along axis 5 as along the channels (review round 42 F5). onnx's strict shape inference refuses
    the same models."""
    nodes, opset, inits, axis = OUT_OF_RANGE[case]
    head = helper.make_node("Conv", ["r", "w1"], ["y"], name="head")
    m = model([CONV, *nodes, head], opset, w1=W1, **inits)
    with pytest.raises(Exception):  # noqa: B017 (whatever onnx raises: the model is not valid)
        onnx.shape_inference.infer_shapes(m, strict_mode=True)
    with pytest.raises(ModelError) as err:
        profile(from_onnx(m), (16, 16))
    assert str(err.value) == (
        f"<onnx model>: node 'n' ({nodes[0].op_type}): axis {axis} is out of range for a rank-4 input (ONNX takes "
        "-4 to 3)"
    )


# -- statistics over rows or columns ------------------------------------------------------------------------
HINT = "expected the channel axis, or declare the node pass-through to leave that out (--passthrough n)"


@pytest.mark.parametrize(
    ("op", "attrs", "message"),
    [
        ("LpNormalization", {}, "normalises over axis -1, which holds rows or columns but not the whole map"),
        ("LpNormalization", {"axis": 2}, "normalises over axis 2, which holds rows or columns but not the whole map"),
        ("MeanVarianceNormalization", {"axes": [3]}, "normalises over axes [3], which hold rows or columns but not "
         "the whole map"),
        ("LayerNormalization", {"axis": 3}, "normalises over axis 3 and those after it, which hold rows or columns "
         "but not the whole map"),
    ],
)  # fmt: skip
def test_a_normalisation_along_rows_or_columns_is_refused(op: str, attrs: dict[str, Any], message: str) -> None:
    """LpNormalization's default axis -1 is W: each unit reads its whole row, yet it passed with rf 3 (review round
    16 F10); refused as a softmax along H or W is, and declarable pass-through."""
    inputs = ["c", "scale"] if op == "LayerNormalization" else ["c"]
    m = model([CONV, helper.make_node(op, inputs, ["y"], name="n", **attrs)], 18, scale=np.ones(16, np.float32))
    truth = impulse_response_width(m)
    assert truth == 16  # the reference evaluator: a change at one pixel moves the whole row
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        f"<onnx model>: node 'n' ({op}): {message} (each unit reads a statistic of its whole row or column); {HINT}"
    )
    assert profile(from_onnx(m, passthrough=["n"]), (16, 16))["y"].size == (16, 16)


def impulse_response_width(m: Any) -> int:
    """How many units of row 8 or of column 8 of ``y`` (the more) change when input pixel (8, 8) changes (3: a 3x3
    conv; 16: the whole row or column)."""
    x = np.random.default_rng(2).random((1, 3, 16, 16), dtype=np.float32)
    moved = x.copy()
    moved[0, :, 8, 8] += 1.0
    diff = np.abs(run(m, moved) - run(m, x))[0].max(axis=0) > 1e-6
    return int(max(diff[8, :].sum(), diff[:, 8].sum()))


@pytest.mark.parametrize(
    ("op", "attrs"),
    [
        ("LpNormalization", {"axis": 1}),
        ("MeanVarianceNormalization", {}),  # axes [0, 2, 3]: a statistic of the whole map, as instance norm
        ("MeanVarianceNormalization", {"axes": [1]}),
        ("LayerNormalization", {"axis": 1}),  # C, H and W: the whole map
    ],
)
def test_a_normalisation_over_channels_or_the_whole_map_keeps_the_geometry(op: str, attrs: dict[str, Any]) -> None:
    shape = attrs == {"axis": 1} and op == "LayerNormalization"
    inputs = ["c", "scale"] if op == "LayerNormalization" else ["c"]
    scale = np.ones((4, 16, 16) if shape else 16, np.float32)
    m = model([CONV, helper.make_node(op, inputs, ["y"], name="n", **attrs)], 18, scale=scale)
    y = profile(from_onnx(m), (16, 16))["y"]
    assert (y.size, y.y.rf) == ((16, 16), 3)  # type: ignore[union-attr]


def softmax_by_hand(axis: int) -> Any:
    nodes = [
        CONV,
        helper.make_node("ReduceMax", ["c"], ["m"], name="rmax", axes=[axis], keepdims=1),
        helper.make_node("Sub", ["c", "m"], ["s"], name="sub"),
        helper.make_node("Exp", ["s"], ["e"], name="exp"),
        helper.make_node("ReduceSum", ["e", "ax"], ["z"], name="rsum", keepdims=1),
        helper.make_node("Div", ["e", "z"], ["y"], name="div"),
    ]
    return model(nodes, 13, ax=np.asarray([axis], dtype=np.int64))


def test_a_softmax_written_out_along_w_is_refused_along_channels_kept() -> None:
    """ReduceMax / Sub / Exp / ReduceSum / Div along W passed with rf 3 through the broadcast-gate rule, which
    dropped the refused reductions that only a gate read (review round 16 F10)."""
    m = softmax_by_hand(3)
    assert impulse_response_width(m) == 16
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'rmax' (ReduceMax): reduces along spatial axis 3 only (each unit of the result reads its "
        "whole row); expected H and W together (a global pool) or neither"
    )
    y = profile(from_onnx(softmax_by_hand(1)), (16, 16))["y"]
    assert (y.size, y.y.rf) == ((16, 16), 3)  # type: ignore[union-attr]


def test_a_gate_with_one_value_per_row_is_refused() -> None:
    """A gate pooled along W by a window (AveragePool 1x16, which the importer models) holds one value per row:
    the product reads whole rows. A gate from a global pool keeps the rule."""
    nodes = [
        CONV,
        helper.make_node("AveragePool", ["c"], ["p"], name="pool", kernel_shape=[1, 16]),
        helper.make_node("Sigmoid", ["p"], ["g"], name="sig"),
        helper.make_node("Mul", ["c", "g"], ["y"], name="gate"),
    ]
    m = model(nodes, 17)
    assert impulse_response_width(m) == 16
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'gate' (Mul): reads 'g' (1x16, WxH), one value per row broadcast over the 16x16 map: a "
        "statistic of whole rows (each unit reads its whole row); expected a full-size map or a gate constant over "
        "the map (a global pool), or declare the node pass-through to leave that out (--passthrough gate)"
    )
    nodes[1] = helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool")
    y = profile(from_onnx(model(nodes, 17)), (16, 16))["y"]
    assert (y.size, y.y.rf) == ((16, 16), 3)  # type: ignore[union-attr]


# -- channels swapped with a spatial axis --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "attrs", "inits", "shape", "why"),
    [
        ("Transpose", {"perm": [0, 3, 2, 1]}, {}, (1, 20, 12, 4), "all source columns moved into the channels"),
        ("Transpose", {"perm": [0, 2, 1, 3]}, {}, (1, 12, 4, 20), "all source rows moved into the channels"),
        ("Transpose", {"perm": [1, 0, 2, 3]}, {}, (4, 1, 12, 20), "the batch axis holds channels"),
        ("Reshape", {}, {"s": np.asarray([4, 1, 12, 20])}, (4, 1, 12, 20), "the batch axis holds channels"),
        ("Reshape", {}, {"s": np.asarray([1, 48, 1, 20])}, (1, 48, 1, 20), "all source rows moved into the channels"),
    ],
)
def test_channels_swapped_with_a_spatial_axis_are_refused(
    op: str, attrs: dict[str, Any], inits: dict[str, Any], shape: tuple[int, ...], why: str
) -> None:
    """A Transpose(perm=[0, 3, 2, 1]) of a (1, 4, 12, 20) map, whose output is (1, 20, 12, 4), was profiled as
    an avgpool over the whole width (review round 21, F2): its width is the channel count at any input size."""
    node = helper.make_node(op, ["c", *inits], ["y"], name="t", **attrs)
    m = model([CONV, node], 17, (12, 20), **inits)
    assert run(m).shape == shape
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        f"<onnx model>: no graph output is a feature map (output 'y': 't' rearranges the axes ({why})); name its "
        "feature maps as taps (profile --taps, erf --tap)"
    )


# -- no graph output is a feature map -----------------------------------------------------------------------
def test_the_refusal_that_leaves_no_feature_map_is_named() -> None:
    """A (1, 4, 16, 16) output after a refused node or a token mixing gave 'no graph output is a feature map'
    (review round 16 F12): the refusal, or what made the output no map, is said."""
    w31 = np.ones((4, 4, 3, 1), dtype=np.float32)
    nodes = [
        CONV,
        helper.make_node("Transpose", ["c"], ["t"], name="t1", perm=[0, 1, 3, 2]),
        helper.make_node("Conv", ["t", "w31"], ["u"], name="c31", pads=[1, 0, 1, 0]),
        helper.make_node("Transpose", ["u"], ["y"], name="t2", perm=[0, 1, 3, 2]),
    ]
    m = model(nodes, 17, w31=w31)
    assert run(m).shape == (1, 4, 16, 16)
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'c31' (Conv): reads 't', which is not an (N, C, H, W) feature map: 't1' rearranges the "
        "axes (its rows mix rows and columns); its geometry cannot be read"
    )
    nodes = [
        CONV,
        helper.make_node("Reshape", ["c", "flat"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "mix"], ["g"], name="mix"),
        helper.make_node("Reshape", ["g", "back"], ["y"], name="unflatten"),
    ]
    m = model(
        nodes,
        17,
        flat=np.asarray([1, 4, 256]),
        mix=np.ones((256, 256), np.float32),
        back=np.asarray([1, 4, 16, 16]),
    )
    assert run(m).shape == (1, 4, 16, 16)
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: no graph output is a feature map (output 'y': 'mix' mixes spatial positions (a product over "
        "rows or columns)); name its feature maps as taps (profile --taps, erf --tap)"
    )
    nodes = [
        CONV,
        helper.make_node("Transpose", ["c"], ["t"], name="t1", perm=[0, 1, 3, 2]),
        helper.make_node("Transpose", ["c"], ["u"], name="t2", perm=[0, 1, 3, 2]),
        helper.make_node("Add", ["t", "u"], ["y"], name="add"),  # a merge of two rearranged values
    ]
    with pytest.raises(ModelError) as err:
        from_onnx(model(nodes, 17))
    assert str(err.value) == (
        "<onnx model>: no graph output is a feature map (output 'y': 't1' rearranges the axes (its rows mix rows and "
        "columns)); name its feature maps as taps (profile --taps, erf --tap)"
    )
