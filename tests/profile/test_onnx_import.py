"""ONNX import: operator attributes on hand-built graphs, and exported torch builds against the configs."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
from onnx import TensorProto, helper  # noqa: E402

from scalematch.errors import ModelError  # noqa: E402
from scalematch.profile import Passthrough, Upsample, Window, build, profile  # noqa: E402
from scalematch.profile.importers.onnx import from_onnx  # noqa: E402


def model(nodes: list[Any], outputs: list[str], size: int | tuple[int, int] = 64, **consts: Sequence[float]) -> Any:
    """A one-input (1x3xHxW) ONNX model; ``consts`` become initializers (1-D float or int64 for pads/axes)."""
    h, w = (size, size) if isinstance(size, int) else size
    inits = []
    for name, values in consts.items():
        is_int = name.startswith(("pads", "axes", "sizes"))
        inits.append(
            helper.make_tensor(name, TensorProto.INT64 if is_int else TensorProto.FLOAT, [len(values)], values)
        )
    weights = [helper.make_tensor(f"w{k}", TensorProto.FLOAT, [3, 3, k, k], [0.0] * (9 * k * k)) for k in (1, 3, 5)]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=weights + inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def conv(x: str, y: str, k: int = 3, **attrs: Any) -> Any:
    return helper.make_node("Conv", [x, f"w{k}"], [y], name=f"n_{y}", **attrs)


def test_conv_pads_are_top_left_bottom_right() -> None:
    g = from_onnx(model([conv("x", "y", 5, pads=[1, 2, 3, 4])], ["y"]))
    assert g.nodes[0].layer == Window("conv", (5, 5), (1, 1), ((1, 3), (2, 4)))
    y = profile(g, (64, 64))["y"]
    assert (y.y.padding, y.x.padding, y.size) == (1, 2, (64, 66))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("auto_pad", "size", "before", "out"),
    [
        ("SAME_UPPER", 64, 0, 32),  # total padding 1: the extra one at the end
        ("SAME_LOWER", 64, 1, 32),  # ... at the beginning
        ("SAME_UPPER", 65, 1, 33),  # total 2: one each side
        ("SAME_LOWER", 65, 1, 33),
        ("VALID", 64, 0, 31),
    ],
)
def test_auto_pad(auto_pad: str, size: int, before: int, out: int) -> None:
    g = from_onnx(model([conv("x", "y", 3, strides=[2, 2], auto_pad=auto_pad)], ["y"], size))
    y = profile(g, (size, size))["y"]
    assert (y.x.padding, y.size) == (before, (out, out))  # type: ignore[union-attr]


def test_ceil_mode_dilation_and_default_pool_stride() -> None:
    nodes = [
        helper.make_node("MaxPool", ["x"], ["floor"], kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("MaxPool", ["x"], ["ceil"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("AveragePool", ["x"], ["avg"], kernel_shape=[2, 2]),  # ONNX default stride 1
        conv("x", "dil", 3, dilations=[2, 2]),
    ]
    p = profile(from_onnx(model(nodes, ["floor", "ceil", "avg", "dil"])), (64, 64))
    assert (p["floor"].size, p["ceil"].size, p["avg"].size) == ((31, 31), (32, 32), (63, 63))
    assert p["avg"].x.stride == 1  # type: ignore[union-attr]
    assert (p["dil"].x.rf, p["dil"].x.union) == (5, 3)  # type: ignore[union-attr]


def test_pad_folds_into_the_next_window_else_stays_explicit() -> None:
    pad = helper.make_node("Pad", ["x", "pads"], ["p"])
    folded = from_onnx(model([pad, conv("p", "y")], ["y"], pads=[0, 0, 1, 2, 0, 0, 3, 4]))
    assert [n.layer for n in folded.nodes] == [Window("conv", (3, 3), (1, 1), ((1, 3), (2, 4)))]
    assert folded.nodes[0].inputs == ("image",)
    shared = from_onnx(model([pad, conv("p", "y"), conv("p", "z")], ["y", "z"], pads=[0, 0, 1, 2, 0, 0, 3, 4]))
    assert [n.name for n in shared.nodes] == ["p", "y", "z"]
    p = profile(shared, (64, 64))
    assert (p["y"].y.padding, p["y"].x.padding, p["y"].size) == (1, 2, (66, 68))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("attrs", "mode"),
    [
        ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, "nearest"),
        ({"mode": "nearest"}, "nearest"),  # half_pixel + round_prefer_floor: also floor(j / 2)
        ({"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"}, "bilinear"),
    ],
)
def test_resize(attrs: dict[str, str], mode: str) -> None:
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["up"], **attrs)]
    g = from_onnx(model(nodes, ["up"], scales=[1.0, 1.0, 2.0, 2.0]))
    up = profile(g, (64, 64))["up"]
    assert (up.x.stride, up.size, g.nodes[0].layer.mode) == (0.5, (128, 128), mode)  # type: ignore[union-attr]


def test_resize_cubic_is_an_error() -> None:
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["up"], name="r", mode="cubic")]
    with pytest.raises(ModelError, match=r"^<onnx model>: node 'r' \(Resize\): mode cubic"):
        from_onnx(model(nodes, ["up"], scales=[1.0, 1.0, 2.0, 2.0]))


def resize_by_sizes(sizes: list[int], size: int | None = 64, **attrs: Any) -> Any:
    """A stride-2 conv (64 -> 32 at the default size) resized to a constant ``sizes`` input; ``size=None``
    makes the input's height and width symbolic."""
    nodes = [conv("x", "c", 3, strides=[2, 2], pads=[1, 1, 1, 1])]
    nodes.append(helper.make_node("Resize", ["c", "", "", "sizes"], ["up"], name="r", mode="nearest", **attrs))
    m = model(nodes, ["up"], sizes=sizes)
    if size is None:
        for dim, name in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], "HW", strict=True):
            dim.dim_param = name
    return m


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([1, 3, 45, 45], "scales 32x32 to 45x45"),  # factor 1.41, was read as x1
        ([1, 3, 63, 63], "scales 32x32 to 63x63"),  # 1.97, was read as x2 (64x64)
        ([1, 3, 64, 48], "scales 32x32 to 48x64"),  # x2 along y, 1.5 along x (WxH as everywhere)
        ([1, 3, 16, 16], "scales 32x32 to 16x16"),  # down-sampling, was read as the identity
        ([1, 3, 64, 33], "scales 32x32 to 33x64"),  # one unit more along x only
    ],
)
def test_resize_by_constant_sizes_without_an_integer_factor_is_refused(sizes: list[int], message: str) -> None:
    with pytest.raises(ModelError) as caught:
        from_onnx(resize_by_sizes(sizes), taps="up")
    assert str(caught.value) == f"<onnx model>: node 'r' (Resize): {message}; expected an integer factor"


def test_resize_by_constant_sizes_with_an_integer_factor() -> None:
    for sizes, factor, out in (([1, 3, 64, 64], (2, 2), (64, 64)), ([1, 3, 96, 64], (3, 2), (96, 64))):
        g = from_onnx(resize_by_sizes(sizes))
        assert [n.layer for n in g.nodes if n.name == "up"] == [Upsample(factor, "nearest")]
        up = profile(g, (64, 64))["up"]
        assert (up.size, up.y.stride, up.x.stride) == (out, Fraction(2, factor[0]), Fraction(2, factor[1]))  # type: ignore[union-attr]


def test_resize_by_constant_sizes_is_read_at_the_input_size() -> None:
    """A constant output size gives a factor that depends on the input size: the one at the size imported
    (x2 at 64, x1 at 128, refused at 96), and no factor without a size."""
    m = resize_by_sizes([1, 3, 64, 64], size=None)
    assert profile(from_onnx(m, input_size=(64, 64)), (64, 64))["up"].size == (64, 64)
    at_128 = profile(from_onnx(m, input_size=(128, 128)), (128, 128))["up"]
    assert (at_128.size, at_128.x.stride) == ((64, 64), 2)  # type: ignore[union-attr]
    with pytest.raises(ModelError, match=r"^<onnx model>: node 'r' \(Resize\): scales 48x48 to 64x64; expected an"):
        from_onnx(m, input_size=(96, 96), taps="up")
    with pytest.raises(ModelError, match=r"node 'r' \(Resize\): cannot tell the scale factor"):
        from_onnx(m, taps="up")


def test_resize_by_sizes_on_axes() -> None:
    """Opset 18's ``axes``: the sizes of the two spatial axes only."""
    assert profile(from_onnx(resize_by_sizes([64, 64], axes=[2, 3])), (64, 64))["up"].size == (64, 64)
    with pytest.raises(ModelError, match=r"node 'r' \(Resize\): scales 32x32 to 45x64; expected an integer factor"):
        from_onnx(resize_by_sizes([64, 45], axes=[-2, -1]), taps="up")


@pytest.mark.parametrize(
    ("scales", "shown"),
    [((1.5, 2.0), "[1.5, 2.0]"), ((math.nan, math.nan), "[nan, nan]"), ((math.inf, 2.0), "[inf, 2.0]"),
     ((-math.inf, 2.0), "[-inf, 2.0]")],
)  # fmt: skip
def test_resize_by_scales_without_an_integer_factor_is_refused(scales: tuple[float, float], shown: str) -> None:
    """NaN and infinite scales too (review round 22, F1: int() of them raised ValueError/OverflowError)."""
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["up"], name="r")]
    with pytest.raises(ModelError) as caught:
        from_onnx(model(nodes, ["up"], scales=[1.0, 1.0, *scales]), taps="up")
    assert str(caught.value) == f"<onnx model>: node 'r' (Resize): scales {shown} are not integer up-sampling factors"


def test_resize_to_a_smaller_map_is_refused() -> None:
    """Sizes taken from another map's shape (as FPN's top-down path takes its lateral's) that shrink the map."""
    nodes = [
        conv("x", "c", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        conv("c", "d", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["d"], ["shape"]),
        helper.make_node("Resize", ["c", "", "", "shape"], ["down"], name="r", mode="nearest"),
    ]
    with pytest.raises(ModelError) as caught:
        from_onnx(model(nodes, ["down"]), taps="down")
    assert str(caught.value) == "<onnx model>: node 'r' (Resize): scales 32x32 to 16x16; expected an integer factor"


def odd_lateral(**attrs: Any) -> Any:
    """FPN at an odd size: 7 units resized to the shape of a 13-unit map (one short of x2)."""
    nodes = [
        conv("x", "c", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        conv("c", "d", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Resize", ["d", "", "", "shape"], ["up"], name="r", mode="nearest", **attrs),
    ]
    return model(nodes, ["up"], 26)


def test_resize_to_an_odd_lateral_keeps_its_size() -> None:
    """As torch exports nearest (asymmetric/floor), output unit j reads unit j // 2, checked with ONNX's
    reference evaluator on a map that holds its own indices."""
    from onnx.reference import ReferenceEvaluator

    torch_nearest = {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    g = from_onnx(odd_lateral(**torch_nearest))
    assert [n.layer for n in g.nodes if n.name == "up"] == [Upsample((2, 2), "nearest", "c")]
    assert profile(g, (26, 26))["up"].size == (13, 13)
    resize = helper.make_node("Resize", ["d", "", "", "s"], ["up"], mode="nearest", **torch_nearest)
    index = np.tile(np.arange(7, dtype=np.float32), (1, 1, 7, 1))
    read: Any = ReferenceEvaluator(resize).run(None, {"d": index, "s": np.array([1, 1, 13, 13], np.int64)})
    assert read[0][0, 0, 0].tolist() == [j // 2 for j in range(13)]


def test_resize_to_an_odd_lateral_in_half_pixel_mode_is_refused() -> None:
    """ONNX's default Resize (half_pixel, round_prefer_floor) reads unit 4 for output unit 7 there, not 7 // 2."""
    with pytest.raises(ModelError) as caught:
        from_onnx(odd_lateral(), taps="up")
    assert str(caught.value) == (
        "<onnx model>: node 'r' (Resize): scales 7x7 to 13x13 in nearest mode with coordinate_transformation_mode "
        "half_pixel; expected an integer factor, or nearest with asymmetric/floor (torch's nearest) for a size short "
        "of a multiple"
    )


def test_merges_gates_and_global_pool() -> None:
    nodes = [
        conv("x", "a", 3, pads=[1, 1, 1, 1]),
        conv("x", "b", 5, pads=[2, 2, 2, 2]),
        conv("x", "c", 1),
        helper.make_node("Sum", ["a", "b", "c"], ["sum"]),
        helper.make_node("Concat", ["a", "b"], ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["sum"], ["pool"]),
        helper.make_node("Sigmoid", ["pool"], ["gate"]),
        helper.make_node("Mul", ["sum", "gate"], ["se"]),  # squeeze-excitation: follows 'sum'
        helper.make_node("Mul", ["se", "scale"], ["scaled"]),  # a constant: pass-through
    ]
    g = from_onnx(model(nodes, ["sum", "cat", "se", "scaled", "pool"], scale=[2.0]))
    p = profile(g, (64, 64))
    assert p["sum"].x.rf == p["cat"].x.rf == 5  # type: ignore[union-attr]
    assert p["se"].x == p["sum"].x and p["scaled"].x == p["sum"].x
    assert isinstance(g.nodes[[n.name for n in g.nodes].index("scaled")].layer, Passthrough)
    assert "se" not in [n.name for n in g.nodes]  # the gated product is the map itself
    assert p["pool"].x.rf == 64 + 4  # type: ignore[union-attr]  # the whole image and the 5x5 conv's padding
    assert profile(g)["pool"].x is None  # no input size: whole-image maps are unbounded


def test_concat_along_a_spatial_axis_is_an_error() -> None:
    nodes = [conv("x", "a", 1), conv("x", "b", 1), helper.make_node("Concat", ["a", "b"], ["cat"], name="c", axis=3)]
    with pytest.raises(ModelError, match=r"node 'c' \(Concat\): concatenates along spatial axis 3"):
        from_onnx(model(nodes, ["cat"]))


def test_split_along_a_spatial_axis_is_an_error_along_channels_kept() -> None:
    """A Split along W was followed as pass-through (a 32x16 half reported as 32x32, review round 11 F1)."""
    splits: tuple[tuple[int, list[float]], ...] = ((3, [16, 16]), (-2, [8, 24]))
    for axis, sizes in splits:
        nodes = [
            conv("x", "a", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
            helper.make_node("Split", ["a", "sizes"], ["b0", "b"], name="split", axis=axis),
            conv("b", "y", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        ]
        with pytest.raises(ModelError) as err:
            from_onnx(model(nodes, ["y"], sizes=sizes))
        assert str(err.value) == (
            f"<onnx model>: node 'split' (Split): splits along spatial axis {axis}; expected the channel axis"
        )
    nodes = [
        conv("x", "a", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Split", ["a", "sizes"], ["b0", "b"], name="split", axis=1),
        helper.make_node("Concat", ["b", "b0"], ["c"], axis=1),
        conv("c", "y", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
    ]
    y = profile(from_onnx(model(nodes, ["y"], sizes=[1, 2])), (64, 64))["y"]
    assert (y.size, y.y.stride, y.y.rf, y.y.padding) == ((16, 16), 4, 7, 3)  # type: ignore[union-attr]


def test_a_second_image_input_is_refused_a_scalar_one_is_not() -> None:
    """``Add(Conv3x3(x), Conv5x5(z))`` was profiled along x alone (rf 3, review round 11 F14)."""
    nodes = [
        conv("x", "a", 3, pads=[1, 1, 1, 1]),
        conv("z", "b", 5, pads=[2, 2, 2, 2]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]

    def two(z_shape: list[int]) -> Any:
        m = model(nodes, ["y"])
        m.graph.input.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, z_shape))
        return m

    with pytest.raises(ModelError) as err:
        from_onnx(two([1, 3, 64, 64]))
    assert str(err.value) == (
        "<onnx model>: input 'z' is a second image input (1x3x64x64) besides 'x'; expected one (N, C, H, W) input "
        "(the profile follows the geometry from one image)"
    )
    y = profile(from_onnx(two([1, 3, 1, 1])), (64, 64))["y"]  # a broadcast operand, as a constant
    assert y.y is not None and y.y.rf == 3


def test_reflect_and_wrap_pads_are_refused_edge_is_not() -> None:
    """Pad(mode=reflect, 3 rows) then a 3x3/2 conv: unit 1 reads rows 0..5 (mirrored), not the zero-padded -5..1
    (review round 11, F25)."""
    for mode, read in (("reflect", "mirrored"), ("wrap", "from the other side")):
        nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode=mode), conv("p", "y", 3)]
        proto = model(nodes, ["y"], pads=[0, 0, 3, 3, 0, 0, 3, 3])
        proto.opset_import[0].version = 19  # wrap is a mode from opset 19 on
        with pytest.raises(ModelError) as err:
            from_onnx(proto)
        assert str(err.value) == (
            f"<onnx model>: node 'pad' (Pad): pads in '{mode}' mode: border units read pixels of the image ({read}), "
            "not the zeros the profile models; expected constant or edge padding"
        )
    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="edge"), conv("p", "y", 3)]
    assert profile(from_onnx(model(nodes, ["y"], pads=[0, 0, 1, 1, 0, 0, 1, 1])), (64, 64))["y"].size == (64, 64)


@pytest.mark.parametrize(("mode", "opset"), [("Reflect", 18), ("", 18), ("zeros", 19), ("wrap", 18)])
def test_a_pad_mode_onnx_does_not_list_is_refused(mode: str, opset: int) -> None:
    """A Pad mode that is none of ONNX's at the model's opset (constant, reflect, edge; wrap from opset 19) was
    read as constant zero padding (review round 39, F6); onnx.reference refuses it too."""
    from onnx.reference import ReferenceEvaluator

    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode=mode), conv("p", "y", 3)]
    proto = model(nodes, ["y"], pads=[0, 0, 1, 1, 0, 0, 1, 1])
    proto.opset_import[0].version = opset
    if mode != "wrap":  # (onnx.reference runs wrap at any opset; its checker has no word on the text)
        with pytest.raises(Exception, match="mode"):
            ReferenceEvaluator(proto).run(None, {"x": np.zeros((1, 3, 8, 8), np.float32)})
    with pytest.raises(ModelError) as err:
        from_onnx(proto)
    listed = "constant, reflect, edge" + (", wrap" if opset >= 19 else "")
    assert (
        str(err.value)
        == f"<onnx model>: node 'pad' (Pad): mode {mode!r} is not one of {listed} (ONNX's Pad, opset {opset})"
    )


def test_a_nearest_mode_that_onnx_does_not_list_is_refused() -> None:
    """nearest_mode 'round_prefer_up' is none of ONNX's; it was read as round_prefer_floor (review round 39, F6)."""
    node = helper.make_node(
        "Resize", ["x", "", "scales"], ["up"], name="r", mode="nearest", nearest_mode="round_prefer_up"
    )
    with pytest.raises(ModelError, match=r"^<onnx model>: node 'r' \(Resize\): mode nearest with coordinate_trans"):
        from_onnx(model([node], ["up"], scales=[1.0, 1.0, 2.0, 2.0]), taps="up")
    node.attribute[-1].s = b"round_prefer_ceil"
    assert from_onnx(model([node], ["up"], scales=[1.0, 1.0, 2.0, 2.0]), taps="up").nodes[0].layer == Upsample(
        (2, 2), "nearest"
    )


def test_unknown_op_names_it_and_can_be_declared_pass_through() -> None:
    nodes = [conv("x", "a", 3), helper.make_node("Frobnicate", ["a"], ["b"], name="frob1", domain="custom")]
    m = model(nodes, ["b"])
    m.opset_import.append(helper.make_opsetid("custom", 1))
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'frob1' (Frobnicate): unknown operator type 'Frobnicate'; declare it pass-through if "
        "it keeps the geometry (--passthrough Frobnicate, or the node name)"
    )
    for declared in ("Frobnicate", "frob1"):
        g = from_onnx(m, passthrough=[declared])
        assert profile(g)["b"].x == profile(g)["a"].x


def test_taps_pick_named_values() -> None:
    nodes = [conv("x", "a", 3), conv("a", "b", 3), conv("b", "c", 3)]
    g = from_onnx(model(nodes, ["c"]), taps="a,C3=b")
    assert g.taps == (("a", "a"), ("C3", "b"))
    assert [n.name for n in g.nodes] == ["a", "b"]  # 'c' feeds no tap
    assert g.taps == from_onnx(model(nodes, ["c"]), taps=["a", "C3=n_b"]).taps  # ONNX node names work too
    with pytest.raises(ModelError, match="tap 'C9': no feature map or module named 'zz'"):
        from_onnx(model(nodes, ["c"]), taps="C9=zz")


def test_a_tap_name_means_one_map(tmp_path: Any) -> None:
    """``--taps C3=a,C3=b`` gave two maps named C3, ``C3=b,C4=b`` dropped C3 (review round 11, F22): both refused,
    as a config's outputs are."""
    from scalematch.errors import OptionError
    from scalematch.profile.api import build

    nodes = [conv("x", "a", 3), conv("a", "b", 3), conv("b", "c", 3)]
    path = tmp_path / "m.onnx"
    path.write_bytes(model(nodes, ["c"]).SerializeToString())
    for taps in ("C3=a,C3=b", ["C3=a", "C3=b"], "b,b", "b,b=a"):
        with pytest.raises(OptionError) as named:
            build(str(path), taps=taps)
        assert str(named.value) == f"taps: tap '{'C3' if 'C3' in str(taps) else 'b'}' is named twice"
    for taps in ("C3=b,C4=b", "C3=b,C4=n_b"):  # a value name and its node's name are one map
        with pytest.raises(ModelError) as mapped:
            from_onnx(model(nodes, ["c"]), taps=taps)
        assert str(mapped.value) == (
            "<onnx model>: taps 'C3' and 'C4' both name the feature map 'b'; expected one tap name per map (a "
            "feature map carries one name)"
        )
    assert build(str(path), taps="C3=a,C4=b").taps == (("C3", "a"), ("C4", "b"))


def test_conv_transpose_matches_the_config_layer() -> None:
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w3"], ["up"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    ]
    p = profile(from_onnx(model(nodes, ["up"])), (64, 64))
    ref = profile(build_yaml("deconv:k=3,s=2,p=1,output_padding=1"), (64, 64))
    assert (p["up"].x, p["up"].size) == (ref.feature_maps[-1].x, ref.feature_maps[-1].size)


def resize_with_scales(scales: Any) -> Any:
    """A Resize whose ``scales`` are the initializer ``scales`` (named 'sc')."""
    nodes = [helper.make_node("Resize", ["x", "", "sc"], ["y"], name="r", mode="nearest")]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[scales],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def float_scales(values: Sequence[float] = (1, 1, 2, 2)) -> Any:
    return onnx.numpy_helper.from_array(np.array(values, np.float32), "sc")


def short_raw(t: Any) -> None:
    t.raw_data = t.raw_data[:8]


def few_floats(t: Any) -> None:
    t.ClearField("raw_data")
    t.float_data.extend([1, 1])


def unknown_type(t: Any) -> None:
    t.data_type = 999


def negative_dims(t: Any) -> None:
    del t.dims[:]
    t.dims.extend([-4])


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (short_raw, "its stored data does not fit its shape [4] and data type FLOAT (ValueError: cannot reshape"),
        (few_floats, "its stored data does not fit its shape [4] and data type FLOAT (ValueError: cannot reshape"),
        (unknown_type, "its stored data does not fit its shape [4] and data type 999 (KeyError: 999)"),
        (negative_dims, "its shape [-4] has a negative dimension"),
    ],
)
def test_an_initializer_whose_data_does_not_fit_its_shape_and_type_is_one_line(spoil: Any, message: str) -> None:
    """numpy ended these in a bare ValueError or KeyError (R39-F1); a negative dimension was read as -1."""
    scales = float_scales()
    spoil(scales)
    with pytest.raises(ModelError) as err:
        from_onnx(resize_with_scales(scales))
    assert str(err.value).startswith(f"<onnx model>: initializer 'sc': {message}")
    assert "\n" not in str(err.value)


def external_scales(location: str, **entries: str) -> Any:
    scales = float_scales()
    scales.ClearField("raw_data")
    scales.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), *entries.items()):
        scales.external_data.add(key=key, value=value)
    return scales


@pytest.mark.parametrize(
    ("size", "entries", "held"),
    [
        (8, {}, "'sc.bin' from offset 0 gives 8"),
        (1 << 26, {}, "'sc.bin' from offset 0 gives 67,108,864"),  # sparse: never read
        (1 << 26, {"offset": "16"}, "'sc.bin' from offset 16 gives 67,108,848"),
        (64, {"length": "32"}, "its length 32 gives 32"),
    ],
)
def test_external_data_of_another_size_than_the_tensor_needs_is_refused_before_reading(
    tmp_path: Any, monkeypatch: Any, size: int, entries: dict[str, str], held: str
) -> None:
    """A 4-value tensor with no ``length`` once read its whole data file (600 MB: 3 GB of memory, then a
    traceback, R39-F1); its bytes are checked against the file's size first, and nothing is read."""
    with open(tmp_path / "sc.bin", "wb") as f:
        f.truncate(size)
    onnx.save(resize_with_scales(external_scales("sc.bin", **entries)), tmp_path / "m.onnx")
    from onnx import external_data_helper

    def no_read(*args: Any) -> None:
        raise AssertionError("read")

    monkeypatch.setattr(external_data_helper, "load_external_data_for_tensor", no_read)
    with pytest.raises(ModelError) as err:
        from_onnx(tmp_path / "m.onnx")
    assert (
        str(err.value) == f"{tmp_path / 'm.onnx'}: initializer 'sc': its shape [4] of FLOAT needs 16 bytes, but {held}"
    )


OUTSIDE = "lies outside 'sc.bin' (64 bytes); expected an offset from 0 to the file's size"


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"offset": "-5"}, f"its offset -5 {OUTSIDE}"),
        ({"offset": str(1 << 70)}, f"its offset {1 << 70:,} {OUTSIDE}"),
        ({"length": "-3"}, "its length -3 is negative"),
    ],
)  # fmt: skip
def test_external_data_outside_its_file_is_refused_as_such(
    tmp_path: Any, entries: dict[str, str], problem: str
) -> None:
    """An offset before or after the file was refused by a byte count that cannot be (-1,180,591,...; 21 for -5:
    review round 45, B3)."""
    (tmp_path / "sc.bin").write_bytes(b"\0" * 64)
    onnx.save(resize_with_scales(external_scales("sc.bin", **entries)), tmp_path / "m.onnx")
    with pytest.raises(ModelError) as err:
        from_onnx(tmp_path / "m.onnx")
    assert str(err.value) == f"{tmp_path / 'm.onnx'}: initializer 'sc': {problem}"


def test_external_data_of_the_size_the_tensor_needs_is_read(tmp_path: Any) -> None:
    (tmp_path / "sc.bin").write_bytes(b"\0" * 16 + np.array([1, 1, 2, 2], np.float32).tobytes())
    onnx.save(resize_with_scales(external_scales("sc.bin", offset="16")), tmp_path / "m.onnx")
    assert from_onnx(tmp_path / "m.onnx").nodes[-1].layer == Upsample((2, 2), "nearest")


def test_a_needed_external_tensor_read_later_is_checked_before_reading_too(tmp_path: Any) -> None:
    """The lazy read of a tensor of more than SMALL items (read with the model only up to SMALL) checks too."""
    from scalematch.profile.importers.onnx import SMALL, load_external

    with open(tmp_path / "w.bin", "wb") as f:
        f.truncate(1 << 26)
    tensor = onnx.numpy_helper.from_array(np.zeros(SMALL + 1, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="w.bin")
    with pytest.raises(ModelError) as err:
        load_external(tensor, tmp_path, "m.onnx")
    assert str(err.value) == (
        f"m.onnx: initializer 'w': its shape [{SMALL + 1}] of FLOAT needs {4 * (SMALL + 1)} bytes, but 'w.bin' from "
        "offset 0 gives 67,108,864"
    )
    (tmp_path / "w.bin").write_bytes(np.arange(SMALL + 1, dtype=np.float32).tobytes())
    assert load_external(tensor, tmp_path, "m.onnx").tolist() == list(range(SMALL + 1))


@pytest.mark.parametrize(
    ("op", "key", "value"),
    [
        ("Conv", "auto_pad", b"\xff\xfe"),
        ("ConvTranspose", "auto_pad", b"\xff"),
        ("Pad", "mode", b"\xff"),
        ("Resize", "mode", b"\xff"),
        ("Resize", "coordinate_transformation_mode", b"asymmetric\xff"),
        ("Resize", "nearest_mode", b"\xfffloor"),
    ],
)
def test_a_string_attribute_that_is_not_utf8_is_refused_at_its_node(op: str, key: str, value: bytes) -> None:
    """Such bytes ended in a bare UnicodeDecodeError (R39-F2); onnx's checker takes them (a STRING is bytes)."""
    inputs = {"Conv": ["x", "w3"], "ConvTranspose": ["x", "w3"], "Pad": ["x", "pads"], "Resize": ["x", "", "sc"]}
    node = helper.make_node(op, inputs[op], ["y"], name="n")
    node.attribute.append(helper.make_attribute(key, value))
    m = model([node], ["y"], pads=[0, 0, 1, 1, 0, 0, 1, 1], sc=[1, 1, 2, 2])
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == f"<onnx model>: node 'n' ({op}): attribute '{key}' is bytes {value!r}, not UTF-8 text"


def test_a_top_level_attribute_reference_is_refused_at_its_node() -> None:
    """``ref_attr_name`` belongs in a function body; outside one it ended in onnx's bare ValueError (R39-F4), and
    onnx's checker refuses the node."""
    node = conv("x", "y", 3)
    strides = helper.make_attribute_ref("strides", onnx.AttributeProto.INTS)
    strides.ref_attr_name = "s"
    node.attribute.append(strides)
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_node(node, onnx.checker.C.CheckerContext())
    with pytest.raises(ModelError) as err:
        from_onnx(model([node], ["y"]))
    assert str(err.value) == (
        "<onnx model>: node 'n_y' (Conv): attribute 'strides' refers to 's' (ref_attr_name), which only a node "
        "inside a function body may do"
    )


def test_scalar_resize_scales_are_refused_at_the_node() -> None:
    """A ``Constant(value_float=2.0)`` as a Resize's scales ended in a bare TypeError (R39-F4)."""
    nodes = [
        helper.make_node("Constant", [], ["sc"], name="k", value_float=2.0),
        helper.make_node("Resize", ["x", "", "sc"], ["y"], name="r", mode="nearest"),
    ]
    with pytest.raises(ModelError) as err:
        from_onnx(model(nodes, ["y"]))
    assert (
        str(err.value) == "<onnx model>: node 'r' (Resize): scales are a scalar; expected a list of one factor per axis"
    )


@pytest.mark.parametrize("opset", [2**31, 2**62, -(2**31) - 1])
def test_an_opset_onnx_cannot_look_up_is_refused_naming_the_model(opset: int) -> None:
    """onnx's schema lookup takes a 32-bit opset: beyond, a bare TypeError (R39-F4)."""
    m = model([conv("x", "y", 3)], ["y"])
    m.opset_import[0].version = opset
    with pytest.raises(TypeError):
        onnx.defs.get_schema("Conv", opset, "")
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        f"<onnx model>: the model imports ONNX opset {opset}, which is no opset onnx can look up (the newest is "
        f"{onnx.defs.onnx_opset_version()})"
    )
    m.opset_import[0].version = 2**31 - 1  # the largest it looks up: read with the newest schemas
    assert profile(from_onnx(m), (64, 64))["y"].size == (62, 62)  # a 3x3 conv without padding


def build_yaml(spec: str) -> Any:
    from scalematch.profile import from_layers

    return from_layers([spec])


# -- exported torch builds ---------------------------------------------------------------------------------
torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")


def export(module: Any, size: tuple[int, int], names: list[str] | None = None, channels: int = 3) -> Any:
    """torch.onnx.export with the TorchScript exporter (dynamo=False): it needs no onnxscript and keeps
    module-path value names; it is deprecated in torch 2.9+ but still shipped, so its warning is silenced."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (torch.zeros(1, channels, *size),),
            buffer,
            dynamo=False,
            opset_version=17,
            output_names=names,
        )
    return onnx.load_from_string(buffer.getvalue())


def module_path(node_name: str) -> str:
    """The module path of an exported node: /layer1/layer1.0/conv1/Conv and /block4/unit_3/Add scope alike."""
    path = ""
    for seg in node_name.split("/")[1:-1]:
        path = seg if not path or seg.startswith(path + ".") else f"{path}.{seg}"
    return path


def last_value_in(proto: Any, path: str) -> str:
    """The output of the last exported node inside module ``path`` (the module's output)."""
    inside = [n.output[0] for n in proto.graph.node if (module_path(n.name) + ".").startswith(path + ".")]
    return str(inside[-1])


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v3_large", "cspdarknet", "vgg16-ssd", "resnet50-tfslim"])
def test_exported_builds_match_the_configs(name: str) -> None:
    from torch_models import BACKBONES

    module, taps = BACKBONES[name]()
    size = (128, 160)
    channels = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d)).in_channels
    proto = export(module, size, channels=channels)
    onnx_taps = {tap: last_value_in(proto, path) for tap, path in taps.items()}
    g = from_onnx(proto, taps=onnx_taps)
    config = build(name)
    for size_or_none in (size, None):
        ours, theirs = profile(config, size_or_none), profile(g, size_or_none)
        for tap in onnx_taps:
            assert (ours[tap].y, ours[tap].x, ours[tap].area) == (theirs[tap].y, theirs[tap].x, theirs[tap].area), tap


@pytest.mark.parametrize("extra", ["pool", "c5"])
def test_torch_and_onnx_importers_agree_on_a_resnet_fpn(extra: str) -> None:
    """A residual network with an FPN, built here: traced by torch.fx and exported to ONNX, the two graphs
    give identical numbers at every level (and match the built-in resnet50 + fpn config)."""
    from torch_models import ResNetFPN, resnet_fpn_taps

    from scalematch.profile.importers.torch import from_torch

    module = ResNetFPN(extra)
    taps = resnet_fpn_taps(extra)
    size = (128, 160)
    by_torch = from_torch(module, size, taps=taps)
    by_onnx = from_onnx(export(module, size, names=list(taps)))
    assert [t for t, _ in by_onnx.taps] == list(taps)
    neck = "fpn" if extra == "pool" else "fpn-retinanet"
    config = build("resnet50", neck)
    for size_or_none in (size, None):
        a, b, c = profile(by_torch, size_or_none), profile(by_onnx, size_or_none), profile(config, size_or_none)
        for tap in taps:
            got = [(p[tap].y, p[tap].x, p[tap].area, p[tap].size) for p in (a, b, c)]
            assert got[0] == got[1] == got[2], tap
        assert a.warnings == b.warnings == ()  # the top-down adds take the union, as the fpn config says
    for graph in (by_torch, by_onnx):  # ... and say so
        assert "half a cell off; the merges after it take the exact union" in graph.convention
    assert profile(by_torch, size, allow_misaligned=True).warnings == ()


def squeeze_excitation(dims: list[Any]) -> Any:
    """conv/2, a squeeze-excitation gate (global pool, 1x1 conv, sigmoid, product), conv/2, input ``dims``."""
    weights = {"w1": (4, 3, 3, 3), "wf": (4, 4, 1, 1), "w2": (4, 4, 3, 3)}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="c1", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
        helper.make_node("GlobalAveragePool", ["c1"], ["g"], name="gap"),
        helper.make_node("Conv", ["g", "wf"], ["f"], name="fc", kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["f"], ["s"], name="sig"),
        helper.make_node("Mul", ["c1", "s"], ["m"], name="mul"),
        helper.make_node("Conv", ["m", "w2"], ["c2"], name="c2", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4),
    ]
    inits = [helper.make_tensor(k, TensorProto.FLOAT, v, [1.0] * math.prod(v)) for k, v in weights.items()]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("c2", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("dims", [[1, 3, "H", "W"], ["N", 3, "H", "W"], [1, 3, 64, 64]])
def test_a_squeeze_excitation_gate_keeps_the_geometry_at_a_symbolic_size(dims: list[Any]) -> None:
    """The product with a 1x1 gate follows the map at a symbolic input size too: the geometry does not depend on
    the size (with a symbolic height and width the product was a merge with the global pool, and every map after
    it had no stride and no receptive field)."""
    for size in ("64x64", None):
        c2 = profile(from_onnx(squeeze_excitation(dims), input_size=size))["c2"]
        assert c2.y is not None and (c2.y.stride, c2.y.rf) == (Fraction(4), 7) and c2.x == c2.y


def test_a_gate_of_unknown_shape_at_a_symbolic_size_is_refused_asking_for_a_size() -> None:
    """A gate whose shape inference gives no shape (an operator of another domain, declared pass-through) cannot be
    told from a full-size map: refused naming the node and asking for a size, never merged with the global pool,
    after which the default taps would stop without a word."""
    proto = squeeze_excitation([1, 3, "H", "W"])
    proto.graph.node[3].CopyFrom(helper.make_node("Gate", ["f"], ["s"], name="sig", domain="custom"))
    proto.opset_import.append(helper.make_opsetid("custom", 1))
    with pytest.raises(ModelError) as caught:
        from_onnx(proto, passthrough=["sig"])
    assert str(caught.value) == (
        "<onnx model>: node 'mul' (Mul): the shapes do not tell whether 's', computed from a global pool, is broadcast "
        "over the map (a squeeze-excitation gate, left out) or merged with it, and the model's input size is "
        "symbolic; give input_size=WxH to import it at that size, or export the model with a fixed input size"
    )


def test_a_gate_with_one_value_per_row_is_refused_at_a_symbolic_size_too() -> None:
    proto = squeeze_excitation([1, 3, "H", "W"])
    proto.graph.node[1].CopyFrom(helper.make_node("ReduceMean", ["c1"], ["g"], name="gap", axes=[3]))  # along W
    with pytest.raises(ModelError) as caught:
        from_onnx(proto)
    assert str(caught.value) == (
        "<onnx model>: node 'gap' (ReduceMean): reduces along spatial axis 3 only (each unit of the result reads its "
        "whole row); expected H and W together (a global pool) or neither"
    )
    with pytest.raises(ModelError) as caught:
        from_onnx(proto, passthrough=["gap"])
    assert str(caught.value).startswith(
        "<onnx model>: node 'mul' (Mul): reads 's' (1x?, WxH), one value per row broadcast over the ?x? map: a "
        "statistic of whole rows"
    )


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "regnet_y_400mf", "efficientnet_b0"])
def test_torchvision_exports_with_dynamic_axes_give_the_torch_import_s_table(name: str) -> None:
    """Squeeze-excitation backbones exported with a symbolic batch, height and width (the usual detection export):
    without a size, the default taps are the torch import's C1 to C5 with the same numbers (they stopped at the
    first gate, C1 or C2, without a word)."""
    torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")
    from scalematch.profile.importers.torch import from_torch

    module = getattr(torchvision.models, name)(weights=None).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, 224, 224),),
            buffer,
            dynamo=False,
            opset_version=17,
            input_names=["x"],
            dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}},
        )
    by_onnx = from_onnx(onnx.load_from_string(buffer.getvalue()))
    by_torch = from_torch(module, (224, 224))
    assert [t for t, _ in by_onnx.taps] == [t for t, _ in by_torch.taps] == ["C1", "C2", "C3", "C4", "C5"]
    for size in (None, (224, 224)):
        a, b = profile(by_onnx, size), profile(by_torch, size)
        for tap in ("C1", "C2", "C3", "C4", "C5"):
            assert (a[tap].y, a[tap].x, a[tap].area) == (b[tap].y, b[tap].x, b[tap].area), tap


def test_exported_space_to_depth_channels_last_and_head() -> None:
    """TResNet's space-to-depth (Reshape, Transpose, Reshape), ConvNeXt's channels-last blocks (Transpose,
    LayerNormalization, MatMul, Transpose) and a VGG head (Flatten, Gemm) exported to ONNX give the numbers
    of the torch import (tested against autograd in test_torch_import.py) and of the convnext_tiny config."""
    from test_torch_import import TinyTResNet, VGGLike
    from torch_models import CONVNEXT_TAPS, convnext_tiny

    from scalematch.profile.importers.torch import from_torch

    size = (96, 64)
    proto = export(TinyTResNet(), size)
    ours, theirs = profile(from_onnx(proto), size), profile(from_torch(TinyTResNet(), size), size)
    last = ours.feature_maps[-1]
    assert (last.y, last.x, last.size) == (theirs.feature_maps[-1].y, theirs.feature_maps[-1].x, (12, 8))
    assert last.y is not None and last.y.stride == 8 and last.y.rf == 20

    module = convnext_tiny()
    proto = export(module, (128, 160))
    g = from_onnx(proto, taps={tap: last_value_in(proto, path) for tap, path in CONVNEXT_TAPS.items()})
    config = build("convnext_tiny")
    for size_or_none in ((128, 160), None):
        a, b = profile(config, size_or_none), profile(g, size_or_none)
        for tap in CONVNEXT_TAPS:
            assert (a[tap].y, a[tap].x, a[tap].area) == (b[tap].y, b[tap].x, b[tap].area), tap

    head = from_onnx(export(VGGLike(), (112, 112)))  # the logits are no feature map: stage taps instead
    # ONNX has no adaptive pool: the exported 28 -> 7 pool is a fixed 4x4/4 one, a stride-16 map like any other
    assert [t for t, _ in head.taps] == ["C1", "C2", "C4"]
    assert "note: taps: the last feature map at each stride" in head.convention


@pytest.mark.parametrize("how", ["chunk(-1)", "split(dim=3)", "amax(-1)", "mean(3)", "chunk(1)", "amax(2)"])
def test_exported_channels_last_splits_and_reductions_give_the_torch_import_s_numbers(how: str) -> None:
    """A chunk of the last axis of an (N, H, W, C) tensor, exported as Slice (its bounds computed from Shape, so
    shape inference loses the shapes after it), was refused as 'rearranges the axes'; the torch import and the
    export agree now, and a split or reduction over rows or columns is refused by both."""
    from test_torch_import import ChannelsLast

    from scalematch.profile.importers.torch import from_torch

    size = (48, 64)
    proto = export(ChannelsLast(how), size)
    if how in ("chunk(1)", "amax(2)"):
        with pytest.raises(ModelError, match="spatial axis"):
            profile(from_onnx(proto), size)
        return
    ours, theirs = profile(from_onnx(proto), size), profile(from_torch(ChannelsLast(how), size), size)
    a, b = ours.feature_maps[-1], theirs.feature_maps[-1]
    assert (a.y, a.x, a.size) == (b.y, b.x, b.size) and a.size == (12, 16)


def test_exported_transpose_of_rows_and_columns_is_refused() -> None:
    from torch import nn

    transposed = nn.Sequential(nn.Conv2d(3, 4, 1))
    transposed.forward = lambda x: transposed[0](x.transpose(2, 3))  # type: ignore[method-assign]
    proto = export(transposed, (32, 48))
    with pytest.raises(ModelError, match=r"\(Conv\): reads '.*', which is not an \(N, C, H, W\) feature map: "):
        from_onnx(proto)


def softmax_between_convs(op: str, opset: int, **attrs: Any) -> Any:
    nodes = [
        conv("x", "a", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node(op, ["a"], ["s"], name="sm", **attrs),
        conv("s", "y", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
    ]
    m = model(nodes, ["y"])
    m.opset_import[0].version = opset
    return m


SOFTMAX_HINT = "expected the channel axis, or declare the node pass-through to leave that out (--passthrough sm)"


@pytest.mark.parametrize(
    ("op", "opset", "attrs", "message"),
    [
        ("Softmax", 18, {}, "normalises along spatial axis -1 (each unit reads the whole axis)"),  # default -1: W
        ("LogSoftmax", 13, {"axis": 2}, "normalises along spatial axis 2 (each unit reads the whole axis)"),
        (
            "Softmax",
            11,
            {},  # default 1: the input read as (N, C*H*W)
            "normalises over axes 1 to 3 at once (opset 11 reads the input as 2-D at axis 1), rows or columns among "
            "them (each unit reads all of them)",
        ),
        (
            "LogSoftmax",
            12,
            {"axis": -1},
            "normalises over axis 3 (opset 12 reads the input as 2-D at axis -1), rows or columns among them (each "
            "unit reads all of them)",
        ),
    ],
)
def test_a_softmax_along_a_spatial_axis_is_refused(op: str, opset: int, attrs: dict[str, int], message: str) -> None:
    """A Softmax along W was taken as pass-through (rf unchanged; each unit reads its whole row, review round 15
    F2). Before opset 13 the input is coerced to 2-D at ``axis``: the default 1 normalises C, H and W together."""
    with pytest.raises(ModelError) as err:
        from_onnx(softmax_between_convs(op, opset, **attrs))
    assert str(err.value) == f"<onnx model>: node 'sm' ({op}): {message}; {SOFTMAX_HINT}"
    declared = profile(from_onnx(softmax_between_convs(op, opset, **attrs), passthrough=["sm"]), (64, 64))["y"]
    assert declared.size == (16, 16)


@pytest.mark.parametrize(("op", "opset", "axis"), [("Softmax", 18, 1), ("LogSoftmax", 13, -3)])
def test_a_softmax_along_channels_keeps_the_geometry(op: str, opset: int, axis: int) -> None:
    y = profile(from_onnx(softmax_between_convs(op, opset, axis=axis)), (64, 64))["y"]
    assert (y.size, y.y.stride, y.y.rf, y.y.padding) == ((16, 16), 4, 7, 3)  # type: ignore[union-attr]


def test_a_crop_is_modelled_only_when_the_next_padding_covers_it() -> None:
    """Pad by -2 rows and columns before (a crop, legal since opset 11) was folded into the next Conv's padding
    and refused naming the Conv and its sum, -1 (review round 15 F3): refused naming the Pad."""
    crop = helper.make_node("Pad", ["a", "pads"], ["p"], name="pad")
    first = conv("x", "a", 3, strides=[2, 2], pads=[1, 1, 1, 1])
    pads = [0, 0, -2, -2, 0, 0, 0, 0]
    with pytest.raises(ModelError) as err:
        from_onnx(model([first, crop, conv("p", "y", 3, strides=[2, 2], pads=[1, 1, 1, 1])], ["y"], pads=pads))
    assert str(err.value) == (
        "<onnx model>: node 'p': negative pads (top -2, bottom 0, left -2, right 0) crop the map; a crop is modelled "
        "only when the padding of the window that follows covers it ('y' pads top 1, bottom 1, left 1, right 1)"
    )
    # covered: 32 -> 30 cropped, then padded by 3 all round by a 7x7 conv (torch: 30 + 6 - 7 + 1 = 30 units)
    nodes = [first, crop, helper.make_node("Conv", ["p", "w7"], ["y"], pads=[3, 3, 3, 3])]
    m = model(nodes, ["y"], pads=pads)
    m.graph.initializer.append(helper.make_tensor("w7", TensorProto.FLOAT, [3, 3, 7, 7], [0.0] * (9 * 49)))
    y = profile(from_onnx(m), (64, 64))["y"]
    # padding in input pixels: 1 of the first conv, then 3 - 2 units of stride 2; rf 3 + (7 - 1) * 2
    assert (y.size, y.y.stride, y.y.padding, y.y.rf) == ((30, 30), 2, 1 + (3 - 2) * 2, 15)  # type: ignore[union-attr]


def test_from_onnx_takes_a_path_object_or_the_model_s_bytes(tmp_path: Any) -> None:
    """A path object (os.PathLike) and a serialised model were an AttributeError: 'PL' object has no attribute
    'graph' (review round 17 F5)."""
    m = model([conv("x", "y", 3, pads=[1, 1, 1, 1])], ["y"])
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))

    class OtherPath:  # any os.PathLike, e.g. a path object of another library
        def __fspath__(self) -> str:
            return str(path)

    expected = [(n.name, n.layer) for n in from_onnx(m).nodes]
    for given in (path, OtherPath(), m.SerializeToString()):
        assert (
            [(n.name, n.layer) for n in from_onnx(given).nodes]
            == expected
            == [("y", Window("conv", (3, 3), (1, 1), ((1, 1), (1, 1))))]
        )
    assert from_onnx(OtherPath()).source == str(path)


def test_bytes_that_are_no_model_are_refused_in_words() -> None:
    """As a file's (tests/cli/test_preset_backbones.py): protobuf's DecodeError text was shown as it is."""
    good = model([conv("x", "y", 3, pads=[1, 1, 1, 1])], ["y"]).SerializeToString()
    for data, why in (
        (b"a text, not a model\n", "protobuf parse failed"),
        (good[: len(good) // 2], "protobuf parse failed"),
        (good[:2], "it parses as protobuf but holds no graph"),
    ):
        with pytest.raises(ModelError) as refused:
            from_onnx(data)
        assert str(refused.value) == f"<onnx model>: the bytes are no serialised ONNX model ({why})"


def test_default_taps_never_stop_silently_before_a_refused_node() -> None:
    """A classifier whose second stage follows an unknown operator: its default taps stopped before it, without a
    word (C1 alone); the import is now refused with that node and the taps that reach the maps before it."""
    nodes = [
        conv("x", "c1", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="r1"),
        helper.make_node("Foo", ["r1"], ["f"], name="foo", domain="com.custom"),
        helper.make_node("Conv", ["f", "w3"], ["c2"], name="c2", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c2"], ["gp"], name="gp"),
        helper.make_node("Flatten", ["gp"], ["logits"], name="fl"),
    ]
    m = model(nodes, ["logits"])
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == (
        "<onnx model>: node 'foo' (Foo): unknown operator type 'Foo'; declare it pass-through if it keeps the "
        "geometry (--passthrough Foo, or the node name); no graph output is a feature map, and the default taps "
        "(the last feature map at each stride) would stop before that node, leaving out the feature maps after it "
        "('c2'); to profile only the maps before it, name them (--taps C1=r1)"
    )
    assert from_onnx(m, taps="C1=r1").taps == (("C1", "r1"),)
    assert from_onnx(m, passthrough=["foo"]).taps == (("C1", "f"), ("C2", "c2"))


def test_a_model_whose_external_data_file_is_missing_is_read_without_its_weights(tmp_path: Any) -> None:
    """The geometry reads no weights: a model saved with its tensors in a separate file profiles without that file;
    only a value the geometry reads (a Resize's scales) needs it, and then the error names the file."""
    nodes = [conv("x", "y", 3, pads=[1, 1, 1, 1]), helper.make_node("Resize", ["y", "", "scales"], ["up"])]
    path = tmp_path / "m.onnx"
    m = model(nodes, ["y", "up"], scales=[1.0, 1.0, 2.0, 2.0])
    raw = [onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(i), i.name) for i in m.graph.initializer]
    del m.graph.initializer[:]
    m.graph.initializer.extend(raw)  # (only raw data goes to the external file)
    onnx.save_model(
        m,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="m.data",
        size_threshold=0,
    )
    whole = from_onnx(str(path))  # with the file: read as before
    assert [n.name for n in whole.nodes] == ["y", "up"]
    (tmp_path / "m.data").unlink()
    without = from_onnx(str(path), taps="y")  # ('Data of TensorProto ... is not regular file', before)
    assert [(n.name, n.layer) for n in without.nodes] == [(n.name, n.layer) for n in whole.nodes[:1]]
    with pytest.raises(ModelError) as err:
        from_onnx(str(path))
    assert str(err.value) == (
        f"{path}: the values of 'scales' are needed, but the external data file 'm.data' named in the model is missing"
    )
    (tmp_path / "m.data").mkdir()  # a folder of that name is no data file
    with pytest.raises(ModelError) as err:
        from_onnx(str(path))
    assert str(err.value) == (
        f"{path}: the values of 'scales' are needed, but the external data file 'm.data' named in the model is not a "
        "regular file (a folder)"
    )


def test_external_weights_are_never_read_and_other_values_only_when_needed(tmp_path: Any, monkeypatch: Any) -> None:
    """Every external tensor whose file was there was read with the model, the weights too, which the geometry
    never needs: now only small vectors (for shape inference) are read with it, any other value when needed."""
    from scalematch.profile.importers import onnx as importer

    nodes = [conv("x", "y", 3, pads=[1, 1, 1, 1]), helper.make_node("Resize", ["y", "", "scales"], ["up"])]
    m = model(nodes, ["y", "up"], scales=[1.0, 1.0, 2.0, 2.0])
    raw = [onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(i), i.name) for i in m.graph.initializer]
    del m.graph.initializer[:]
    m.graph.initializer.extend(raw)  # (only raw data goes to the external file)
    path = tmp_path / "m.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, location="m.data", size_threshold=0)
    read: list[str] = []
    load = onnx.external_data_helper.load_external_data_for_tensor

    def spy(tensor: Any, base: str) -> None:
        read.append(tensor.name)
        load(tensor, base)

    monkeypatch.setattr(onnx.external_data_helper, "load_external_data_for_tensor", spy)
    assert profile(from_onnx(str(path)), (64, 64))["up"].size == (128, 128)
    assert sorted(read) == ["scales", "w1"]  # 4 and 9 items; not w3 (81) nor w5 (225)
    read.clear()
    monkeypatch.setattr(importer, "SMALL", 0)  # the scales read when the Resize needs them
    assert profile(from_onnx(str(path)), (64, 64))["up"].size == (128, 128)
    assert read == ["scales"]
    data = (tmp_path / "m.data").read_bytes()
    (tmp_path / "m.data").write_bytes(data[:8])
    with pytest.raises(ModelError) as err:
        from_onnx(str(path))
    assert str(err.value).startswith(f"{path}: initializer 'scales': its offset ")  # the file cut before it
    assert str(err.value).endswith(" lies outside 'm.data' (8 bytes); expected an offset from 0 to the file's size")


def test_a_model_given_as_a_modelproto_or_bytes_has_no_folder_for_its_external_data(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """A ModelProto loaded without its external data (or its bytes) has no folder: the data file sitting in the
    working folder was called missing."""
    m = model([helper.make_node("Resize", ["x", "", "scales"], ["up"])], ["up"], scales=[1.0, 1.0, 2.0, 2.0])
    raw = [onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(i), i.name) for i in m.graph.initializer]
    del m.graph.initializer[:]
    m.graph.initializer.extend(raw)  # (only raw data goes to the external file)
    onnx.save_model(m, str(tmp_path / "m.onnx"), save_as_external_data=True, location="m.data", size_threshold=0)
    monkeypatch.chdir(tmp_path)
    proto = onnx.load("m.onnx", load_external_data=False)
    for given in (proto, proto.SerializeToString()):
        with pytest.raises(ModelError) as err:
            from_onnx(given)
        assert str(err.value) == (
            "<onnx model>: the values of 'scales' are needed, but they are kept in the external data file 'm.data', "
            "and a model given as a ModelProto or its bytes has no folder to find that file in; give the model's "
            "path, or load it with its data (onnx.load(path))"
        )
    assert from_onnx(onnx.load("m.onnx")).taps == (("up", "up"),)  # loaded with its data


@pytest.mark.parametrize(
    ("given", "shown"), [(None, "NoneType None"), (3, "int 3"), ({"graph": 1}, "dict {'graph': 1}")]
)
def test_from_onnx_refuses_anything_else_naming_the_parameter(given: Any, shown: str) -> None:
    from scalematch.errors import OptionError

    with pytest.raises(OptionError) as err:
        from_onnx(given)
    assert str(err.value) == (
        f"model: expected an ONNX file's path (str or os.PathLike), a loaded onnx.ModelProto or its bytes, got {shown}"
    )


def test_a_resize_to_constant_sizes_holds_at_the_size_imported_only() -> None:
    """Its factor is the one at the size imported (x2 at 64x64): profiled at 128x128 it said x2 where the model
    gives x1 (review round 17 F3, the ONNX side); a factor given by scales holds at every size."""
    from scalematch.errors import GraphError

    graph = from_onnx(resize_by_sizes([1, 3, 64, 64], size=None), input_size="64x64")
    assert (graph.traced_at, graph.size_bound) == (
        (64, 64),
        (("up", "(Resize) up-samples to a size, its factor read from the sizes at that input"),),
    )
    with pytest.raises(GraphError) as err:
        profile(graph, (128, 128))
    assert str(err.value) == (
        "<onnx model>: traced at 64x64 (WxH), where node 'up' (Resize) up-samples to a size, its factor read from "
        "the sizes at that input, so the graph holds at 64x64 only, not at 128x128; import the model again at that "
        "size: from_onnx(path, input_size='128x128') (on the command line, --size 128x128)"
    )
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["up"])]
    by_scales = model(nodes, ["up"], scales=[1.0, 1.0, 2.0, 2.0])
    for dim, name in zip(by_scales.graph.input[0].type.tensor_type.shape.dim[2:], "HW", strict=True):
        dim.dim_param = name  # a symbolic size: a fixed one takes that size only (round 18 F9)
    scaled = from_onnx(by_scales, input_size="64x64")
    assert (scaled.traced_at, scaled.size_bound) == ((64, 64), ())
    assert profile(scaled, (100, 128))["up"].size == (200, 256)


def fixing(h: int | str, w: int | str) -> Any:
    """A stride-2 convolution on an input whose height and width are ``h`` and ``w`` (a text: symbolic)."""
    m = model([conv("x", "y", 3, strides=[2, 2], pads=[1, 1, 1, 1])], ["y"])
    for dim, value in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], (h, w), strict=True):
        if isinstance(value, str):
            dim.dim_param = value
        else:
            dim.dim_value = value
    return m


def test_a_graph_of_a_model_with_a_fixed_input_takes_that_size_only() -> None:
    """``from_onnx(path)`` kept the size imported but not that the model fixes it: its Graph was profiled at any
    size without a word, where the path form and onnxruntime refuse it (review round 18 F9)."""
    from scalematch.errors import GraphError

    fixed = "<onnx model>: input 'x' has the fixed size 48x64 (WxH); expected that size or none, got 96x80"
    graph = from_onnx(fixing(64, 48))
    assert graph.fixed_input == ("x", 64, 48)
    assert profile(graph, (64, 48))["y"].size == (32, 24)
    with pytest.raises(GraphError) as err:
        profile(graph, (80, 96))
    assert str(err.value) == fixed
    with pytest.raises(ModelError) as refused:
        from_onnx(fixing(64, 48), input_size="96x80")
    assert str(refused.value) == fixed
    assert from_onnx(fixing("h", "w")).fixed_input is None
    assert profile(from_onnx(fixing("h", "w")), (80, 96))["y"].size == (40, 48)


@pytest.mark.parametrize(
    ("h", "w", "message"),
    [
        (64, "w", "input 'x' has the fixed height 64 (its width is free); expected a size of that height or none"),
        ("h", 48, "input 'x' has the fixed width 48 (its height is free); expected a size of that width or none"),
    ],
)
def test_a_model_that_fixes_one_side_takes_that_side_only(h: int | str, w: int | str, message: str) -> None:
    """Only H (or only W) fixed (``dynamic_axes={'x': {3: 'w'}}``): any size was taken, the fixed side too
    (review round 18 F9). Another value of that side is refused, imported or profiled; the free side is free."""
    from scalematch.errors import GraphError

    wrong, right = (80, 96), (64 if h == 64 else 80, 48 if w == 48 else 96)
    with pytest.raises(ModelError) as refused:
        from_onnx(fixing(h, w), input_size=(wrong[1], wrong[0]))
    assert str(refused.value) == f"<onnx model>: {message}, got 96x80 (WxH)"
    assert profile(from_onnx(fixing(h, w), input_size=(right[1], right[0])), right)["y"].size == (
        right[0] // 2,
        right[1] // 2,
    )
    graph = from_onnx(fixing(h, w))
    with pytest.raises(GraphError) as err:
        profile(graph, wrong)
    assert str(err.value) == f"<onnx model>: {message}, got 96x80 (WxH)"
    assert profile(graph, right)["y"].size == (right[0] // 2, right[1] // 2)


def test_a_negative_input_axis_is_refused_a_symbolic_or_unknown_one_is_free() -> None:
    """An input of 1x3x-5x64 was read as one of a free height (review round 24, F5); a zero axis was refused.
    Both are refused, with a size too (they are no fixed side); a named axis or one without a value is free."""
    from scalematch.errors import ConfigError

    for h, given in [(-5, None), (-5, "32x64"), (0, "32x64")]:
        with pytest.raises(ConfigError) as refused:
            from_onnx(fixing(h, 64), input_size=given)
        why = "a negative axis size" if h < 0 else "a zero-size axis"
        assert str(refused.value).startswith(f"<onnx model>: input 'x' is 1x3x{h}x64, with {why}; expected a non-empty")
    unknown = fixing("h", 64)
    unknown.graph.input[0].type.tensor_type.shape.dim[2].ClearField("dim_param")
    for free in (fixing("h", 64), unknown):
        assert profile(from_onnx(free, input_size="64x32"), (32, 64))["y"].size == (16, 32)


def test_a_conv_whose_group_does_not_fit_its_weight_and_input_is_refused() -> None:
    """group 2 on 3 channels with a 4x3x3x3 weight was profiled (review round 24, F5): onnx.reference refuses it,
    as torch does. A depthwise Conv (group 3, weight 3x1x3x3) is read."""
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    def grouped(group: int, weight: tuple[int, int]) -> Any:
        node = helper.make_node("Conv", ["x", "wg"], ["y"], name="c", group=group, pads=[1, 1, 1, 1])
        m = model([node], ["y"])
        m.graph.initializer.append(numpy_helper.from_array(np.zeros((*weight, 3, 3), np.float32), "wg"))
        return m

    image = {"x": np.zeros((1, 3, 64, 64), np.float32)}
    for group, weight, message in [
        (2, (4, 3), "group 2 with the weight 4x3x3x3 expects an input of 6 channels, got 3"),
        (3, (4, 1), "group 3 does not divide the 4 output channels of its weight 4x1x3x3"),
        (0, (3, 3), "group must be a positive integer, got 0"),
    ]:
        with pytest.raises(ModelError) as refused:
            from_onnx(grouped(group, weight), taps="y")
        assert str(refused.value) == f"<onnx model>: node 'c' (Conv): {message}"
        with pytest.raises((ValueError, ZeroDivisionError)):  # onnx.reference refuses it (group 0: divides by 0)
            ReferenceEvaluator(grouped(group, weight)).run(None, image)
    depthwise = grouped(3, (3, 1))
    ran: Any = ReferenceEvaluator(depthwise).run(None, image)
    assert profile(from_onnx(depthwise, taps="y"), (64, 64))["y"].size == tuple(ran[0].shape[-2:]) == (64, 64)


def test_a_graph_without_nodes_says_it_has_no_feature_map() -> None:
    """A graph of no node (its output its input) ended with '(the last feature maps: )', an empty list (review
    round 24, F6)."""
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])
    empty = helper.make_model(helper.make_graph([], "g", [image], [image]), opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(ModelError) as refused:
        from_onnx(empty)
    assert str(refused.value) == (
        "<onnx model>: tap 'x': no feature map or module named 'x': the model has no feature map (no node of its "
        "graph makes one)"
    )


def symbolic(m: Any) -> Any:
    """``m`` with a symbolic input height and width, as an export with dynamic axes writes it."""
    for dim, name in zip(m.graph.input[0].type.tensor_type.shape.dim[2:], "HW", strict=True):
        dim.dim_param = name
    return m


def pad_to_eight() -> Any:
    """A 3x3 conv padded at the bottom and right to a multiple of 8 (torch's export of ``F.pad`` by amounts
    computed from the shape: Shape, Slice, Mod, Sub, Concat), then an 8x8 average pool."""
    nodes = [
        conv("x", "c", 3, pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Slice", ["shape", "axes_from", "axes_to"], ["hw"]),
        helper.make_node("Mod", ["hw", "axes_eight"], ["rest"]),
        helper.make_node("Sub", ["axes_eight", "rest"], ["short"]),
        helper.make_node("Mod", ["short", "axes_eight"], ["more"]),
        helper.make_node("Concat", ["pads_none", "more"], ["pads"], axis=0),
        helper.make_node("Pad", ["c", "pads"], ["padded"], name="p"),
        helper.make_node("AveragePool", ["padded"], ["y"], kernel_shape=[8, 8], strides=[8, 8]),
    ]
    return symbolic(model(nodes, ["y"], axes_from=[2], axes_to=[4], axes_eight=[8], pads_none=[0] * 6))


def test_a_geometry_computed_from_shapes_under_a_symbolic_size_says_how_to_import_it() -> None:
    """A Resize to another map's size, a Pad to a multiple, exported with dynamic axes: the errors said neither
    the cause nor the way forward ("cannot tell the scale factor (no constant scales and no shapes)", "the pads
    are not a constant", the latter also at a given size) (review round 18 F7). Imported at a size, the Resize
    follows the other map at every size and the Pad holds at that size; both as ONNX's reference evaluator runs
    them."""
    from onnx.reference import ReferenceEvaluator

    from scalematch.errors import GraphError

    torch_nearest = {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    for m, node, what in [
        (symbolic(odd_lateral(**torch_nearest)), "r' (Resize)", "its output size is computed from shapes"),
        (pad_to_eight(), "p' (Pad)", "the pads are computed from shapes"),
    ]:
        with pytest.raises(ModelError) as err:
            from_onnx(m)
        assert str(err.value) == (
            f"<onnx model>: node '{node}: {what}, and the model's input size is symbolic; give input_size=WxH to "
            "import it at that size, or export the model with a fixed input size"
        )
        out = m.graph.output[0].name
        run = ReferenceEvaluator(m)
        for w, h in [(26, 26), (30, 22), (17, 41)]:
            ran: Any = run.run(None, {"x": np.zeros((1, 3, h, w), np.float32)})
            got = ran[0].shape[-2:]
            graph = from_onnx(m, input_size=(w, h))
            assert profile(graph, (h, w))[out].size == tuple(got)
            if node.startswith("r"):
                assert graph.size_bound == ()
                assert profile(from_onnx(m, input_size="26x26"), (h, w))[out].size == tuple(got)
            else:
                assert graph.size_bound == (("padded", "(Pad) has pads computed from the input's shape"),)
                if (w, h) != (26, 26):
                    with pytest.raises(GraphError):
                        profile(from_onnx(m, input_size="26x26"), (h, w))


def resize_to_lateral(items: list[int]) -> Any:
    """FPN's top-down Resize (torch's nearest) of ``d`` to the size of the lateral ``c``, its ``sizes`` the
    batch and channels of ``d`` and the items ``items`` of ``c``'s shape (2, 3: its own height and width)."""
    nodes = [
        conv("x", "c", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        conv("c", "d", 3, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["d"], ["d_shape"]),
        helper.make_node("Shape", ["c"], ["c_shape"]),
        helper.make_node("Slice", ["d_shape", "axes_zero", "axes_two"], ["batch_channels"]),
        helper.make_node("Gather", ["c_shape", "axes_items"], ["hw"], axis=0),
        helper.make_node("Concat", ["batch_channels", "hw"], ["sizes"], axis=0),
        helper.make_node(
            "Resize",
            ["d", "", "", "sizes"],
            ["up"],
            name="r",
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        ),
    ]
    return symbolic(model(nodes, ["up"], axes_zero=[0], axes_two=[2], axes_items=items))


@pytest.mark.parametrize("items", [[3, 3], [2, 2], [3, 2]])
def test_a_resize_to_one_side_of_a_square_lateral_binds_the_graph(items: list[int]) -> None:
    """Imported at a square size, sizes read from one side of the lateral (or its sides swapped) are its size:
    the Resize was taken to follow it and profiled at 64x128 (WxH) and 96x80 at the lateral's size, where the model
    gives another one (the ONNX side of review round 18 F2). It binds the graph; its own sizes follow the lateral."""
    from onnx.reference import ReferenceEvaluator

    from scalematch.errors import GraphError

    run = ReferenceEvaluator(resize_to_lateral(items))
    graph = from_onnx(resize_to_lateral(items), input_size="64x64")
    assert graph.size_bound == (("up", "(Resize) up-samples to a size, its factor read from the sizes at that input"),)
    own = from_onnx(resize_to_lateral([2, 3]), input_size="64x64")
    assert own.size_bound == () and [n.layer for n in own.nodes if n.name == "up"] == [Upsample((2, 2), "nearest", "c")]
    for h, w in [(128, 64), (80, 96)]:
        ran: Any = run.run(None, {"x": np.zeros((1, 3, h, w), np.float32)})
        assert profile(replace(graph, size_bound=()), (h, w))["up"].size != tuple(ran[0].shape[-2:])
        with pytest.raises(GraphError):
            profile(graph, (h, w))
        if (h, w) == (128, 64):  # imported again there (at 96x80 the factor is no integer: refused)
            again = from_onnx(resize_to_lateral(items), input_size=(w, h))
            assert profile(again, (h, w))["up"].size == tuple(ran[0].shape[-2:])
        assert profile(own, (h, w))["up"].size == (h // 2, w // 2)


def halves() -> Any:
    """A 3x3 conv, then its top and bottom halves stacked as channels, the sizes read from its shape as torch
    exports ``y.reshape(n, c, 2, -1, w).permute(0, 1, 3, 2, 4).reshape(n, -1, 2, w)``: a block of half the map's
    height."""
    nodes = [
        conv("x", "c", 3, pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["s"]),
        helper.make_node("Gather", ["s", "axes_n"], ["n"], axis=0),
        helper.make_node("Gather", ["s", "axes_nc"], ["nc"], axis=0),
        helper.make_node("Gather", ["s", "axes_w"], ["w"], axis=0),
        helper.make_node("Concat", ["nc", "sizes_split", "w"], ["split"], axis=0),
        helper.make_node("Reshape", ["c", "split"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 1, 3, 2, 4]),
        helper.make_node("Concat", ["n", "sizes_back", "w"], ["back"], axis=0),
        helper.make_node("Reshape", ["t", "back"], ["y"]),
    ]
    return symbolic(
        model(nodes, ["y"], axes_n=[0], axes_nc=[0, 1], axes_w=[3], sizes_split=[2, -1], sizes_back=[-1, 2])
    )


def test_a_rearrangement_whose_block_is_read_from_the_size_binds_the_graph() -> None:
    """The halves stacked as channels read as a 24x1 window at 40x48 (WxH) and 48x1 at 40x96: the block is read
    from the size, unlike a space-to-depth by a fixed factor, so the graph holds at its input size only (it gave
    4 rows at 40x96, where ONNX's ReferenceEvaluator gives 2); imported there it is the evaluator's."""
    from onnx.reference import ReferenceEvaluator

    from scalematch.errors import GraphError

    run = ReferenceEvaluator(halves())
    graph = from_onnx(halves(), input_size="40x48")
    why = "(a rearrangement read as a feature map) has a 24x1 block read from the input's size"
    assert graph.size_bound == (("y", why),)
    for h in (48, 96):
        ran: Any = run.run(None, {"x": np.zeros((1, 3, h, 40), np.float32)})
        assert tuple(ran[0].shape[-2:]) == (2, 40)
        assert profile(from_onnx(halves(), input_size=(40, h)), (h, 40))["y"].size == (2, 40)
    assert profile(graph, (48, 40))["y"].size == (2, 40)
    assert profile(replace(graph, size_bound=()), (96, 40))["y"].size == (4, 40)
    with pytest.raises(GraphError, match="holds at 40x48 only, not at 40x96"):
        profile(graph, (96, 40))


def test_a_space_to_depth_by_a_fixed_factor_holds_at_any_size() -> None:
    """pixel_unshuffle(2) exported with a symbolic height and width: the block is 2x2 at every size, as ONNX's
    ReferenceEvaluator gives it, and the graph holds at any size."""
    from onnx.reference import ReferenceEvaluator

    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.PixelUnshuffle(2)).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, 48, 40),),
            buffer,
            dynamo=False,
            opset_version=17,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {2: "h", 3: "w"}},
        )
    proto = onnx.load_from_string(buffer.getvalue())
    graph = from_onnx(proto, input_size="40x48")
    assert graph.size_bound == () and [n.layer for n in graph.nodes if n.name == "y"] == [
        Window("avgpool", (2, 2), (2, 2))
    ]
    run = ReferenceEvaluator(proto)
    for h, w in [(48, 40), (96, 40), (64, 88)]:
        ran: Any = run.run(None, {"x": np.zeros((1, 3, h, w), np.float32)})
        assert profile(graph, (h, w))["y"].size == tuple(ran[0].shape[-2:]) == (h // 2, w // 2)


def test_attributes_an_onnx_model_may_not_hold_are_refused() -> None:
    """A Conv whose kernel_shape is not its weight's, and Resize axes outside the input's rank, are invalid models
    (no runtime runs them): refused, not profiled with a kernel of 5 or axis 7 read as the width (review round 22,
    F3)."""
    bad_kernel = [helper.make_node("Conv", ["x", "w3"], ["y"], name="c", kernel_shape=[5, 5])]
    with pytest.raises(ModelError) as caught:
        from_onnx(model(bad_kernel, ["y"]), taps="y")
    assert str(caught.value) == (
        "<onnx model>: node 'c' (Conv): kernel_shape [5, 5] differs from its weight's spatial shape [3, 3]"
    )
    bad_axes = [helper.make_node("Resize", ["x", "", "scales"], ["up"], name="r", axes=[7, 9])]
    with pytest.raises(ModelError) as caught:
        from_onnx(model(bad_axes, ["up"], scales=[2.0, 2.0]), taps="up")
    assert str(caught.value) == "<onnx model>: node 'r' (Resize): axes [7, 9] are not axes of a rank-4 input"
    good = [helper.make_node("Conv", ["x", "w3"], ["y"], name="c", kernel_shape=[3, 3])]
    assert profile(from_onnx(model(good, ["y"]), taps="y"), (64, 64))["y"].x.rf == 3  # type: ignore[union-attr]


def onnx_checker_refuses(node: Any, opset: int = 18) -> str | None:
    """onnx's own checker on one node at ``opset``: its message, or None when it accepts the node."""
    context = onnx.checker.C.CheckerContext()
    context.ir_version, context.opset_imports = 8, {"": opset}
    try:
        onnx.checker.check_node(node, context, onnx.checker.C.LexicalScopeContext())
    except onnx.checker.ValidationError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("node", "shown"),
    [
        (conv("x", "y", pads="1111"), "'pads' is of type STRING; ONNX's Conv (opset 18) takes INTS"),
        (conv("x", "y", strides=[1.9, 1.9]), "'strides' is of type FLOATS; ONNX's Conv (opset 18) takes INTS"),
        (conv("x", "y", strides=[2.0, 2.0]), "'strides' is of type FLOATS; ONNX's Conv (opset 18) takes INTS"),
        (conv("x", "y", dilations="22"), "'dilations' is of type STRING; ONNX's Conv (opset 18) takes INTS"),
        (conv("x", "y", group=1.7), "'group' is of type FLOAT; ONNX's Conv (opset 18) takes INT"),
        (conv("x", "y", group=[1]), "'group' is of type INTS; ONNX's Conv (opset 18) takes INT"),
        (
            helper.make_node("MaxPool", ["x"], ["y"], name="n_y", kernel_shape=[2.0, 2.0]),
            "'kernel_shape' is of type FLOATS; ONNX's MaxPool (opset 18) takes INTS",
        ),
        (
            helper.make_node("MaxPool", ["x"], ["y"], name="n_y", kernel_shape=[2, 2], ceil_mode=1.0),
            "'ceil_mode' is of type FLOAT; ONNX's MaxPool (opset 18) takes INT",
        ),
        (
            helper.make_node("Concat", ["x", "x"], ["y"], name="n_y", axis=1.0),
            "'axis' is of type FLOAT; ONNX's Concat (opset 18) takes INT",
        ),
    ],
)
def test_an_attribute_of_another_type_is_refused_as_onnx_checker_does(node: Any, shown: str) -> None:
    """An attribute whose type is not the one ONNX's schema declares is refused naming the node and the attribute,
    never read as that type (a STRING pads "1111" was padding 49, strides [1.9, 1.9] were 1); onnx's own checker
    refuses the same node."""
    assert onnx_checker_refuses(node) is not None
    with pytest.raises(ModelError) as caught:
        profile(from_onnx(model([node], ["y"])), (64, 64))
    assert str(caught.value) == f"<onnx model>: node 'n_y' ({node.op_type}): attribute {shown}"


def test_an_attribute_without_a_type_is_refused_and_one_of_its_type_is_read() -> None:
    good = conv("x", "y", pads=[1, 1, 1, 1])
    assert onnx_checker_refuses(good) is None
    assert profile(from_onnx(model([good], ["y"])), (64, 64))["y"].size == (64, 64)
    untyped = conv("x", "y", pads=[1, 1, 1, 1])
    untyped.attribute[0].type = onnx.AttributeProto.UNDEFINED
    assert onnx_checker_refuses(untyped) is not None
    with pytest.raises(ModelError, match=r"node 'n_y' \(Conv\): attribute 'pads' has no type; ONNX's Conv \(opset 18"):
        profile(from_onnx(model([untyped], ["y"])), (64, 64))


def test_a_declared_pass_through_node_is_not_read() -> None:
    odd = helper.make_node("MaxPool", ["x"], ["y"], name="n_y", kernel_shape=[2.0, 2.0])
    assert isinstance(from_onnx(model([odd], ["y"]), passthrough=["n_y"]).nodes[0].layer, Passthrough)


@pytest.mark.parametrize(
    ("node", "opset", "shown"),
    [
        (
            helper.make_node("AveragePool", ["x"], ["y"], name="n_y", kernel_shape=[3, 3], dilations="22"),
            17,
            "'dilations' is not declared by ONNX's AveragePool (opset 17)",
        ),
        (
            helper.make_node("AveragePool", ["x"], ["y"], name="n_y", kernel_shape=[3, 3], dilations=[2, 2]),
            17,
            "'dilations' is not declared by ONNX's AveragePool (opset 17)",
        ),
        (
            helper.make_node("MaxPool", ["x"], ["y"], name="n_y", kernel_shape=[3, 3], dilations="22"),
            9,
            "'dilations' is not declared by ONNX's MaxPool (opset 9)",
        ),
        (conv("x", "y", 3, speed=[2, 2]), 18, "'speed' is not declared by ONNX's Conv (opset 18)"),
    ],
)
def test_an_attribute_the_schema_does_not_declare_is_refused_as_onnx_checker_does(
    node: Any, opset: int, shown: str
) -> None:
    """An attribute ONNX's operator does not have at the model's opset is refused, never read: a STRING dilations
    "22" on AveragePool at opset 17 was dilation 50 (review round 39, F5)."""
    assert onnx_checker_refuses(node, opset) is not None
    proto = model([node], ["y"])
    proto.opset_import[0].version = opset
    with pytest.raises(ModelError) as caught:
        profile(from_onnx(proto), (64, 64))
    assert str(caught.value) == f"<onnx model>: node 'n_y' ({node.op_type}): attribute {shown}"
    declared = helper.make_node("AveragePool", ["x"], ["y"], name="n_y", kernel_shape=[3, 3], dilations=[2, 2])
    assert onnx_checker_refuses(declared, 19) is None
    proto = model([declared], ["y"])
    proto.opset_import[0].version = 19
    assert profile(from_onnx(proto), (64, 64))["y"].x.rf == 5  # type: ignore[union-attr]


def test_an_attribute_given_twice_is_refused_as_onnx_checker_does() -> None:
    """Two strides on one node were read as the last one (stride 2); onnx's checker refuses the node (F5)."""
    node = conv("x", "y", 3, strides=[1, 1])
    node.attribute.extend([helper.make_attribute("strides", [2, 2])])
    assert onnx_checker_refuses(node) is not None
    with pytest.raises(ModelError) as caught:
        profile(from_onnx(model([node], ["y"])), (64, 64))
    assert str(caught.value) == "<onnx model>: node 'n_y' (Conv): attribute 'strides' is given more than once"


def branch(name: str, nodes: list[Any], out: str) -> Any:
    """A subgraph (an ``If`` branch) of ``nodes`` with no inputs and the output ``out``."""
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])


def if_node(out: str, then: list[Any], then_out: str, other: list[Any], other_out: str) -> Any:
    return helper.make_node(
        "If",
        ["cond"],
        [out],
        name="iff",
        then_branch=branch("t", then, then_out),
        else_branch=branch("e", other, other_out),
    )


def with_cond(m: Any) -> Any:
    m.graph.initializer.append(helper.make_tensor("cond", TensorProto.BOOL, [], [True]))
    return m


def nested(depth: int, out: str) -> Any:
    """An ``If`` whose branches read the image ``x`` through ``depth`` levels of ``If`` (a 5x5 conv, pads 2)."""
    if depth == 1:
        return if_node(
            out,
            [conv("x", f"{out}_t", 5, pads=[2] * 4)],
            f"{out}_t",
            [conv("x", f"{out}_e", 5, pads=[2] * 4)],
            f"{out}_e",
        )
    return if_node(out, [nested(depth - 1, f"{out}_t")], f"{out}_t", [nested(depth - 1, f"{out}_e")], f"{out}_e")


@pytest.mark.parametrize("depth", [1, 2])
def test_a_subgraph_that_reads_the_image_makes_its_node_a_dependency(depth: int) -> None:
    """``y2 = If(cond)`` whose branches are a 5x5 conv of ``x`` read from the enclosing graph, then
    ``z = Add(y1, y2)``: the If was no dependency of ``z``, which came out with the 3x3 conv's receptive field
    (R40B-F1). Its subgraphs' reads of the outer graph are its inputs: refused where a tap depends on it."""
    nodes = [
        conv("x", "y1", 3, pads=[1] * 4),
        nested(depth, "y2"),
        helper.make_node("Add", ["y1", "y2"], ["z"], name="add"),
    ]
    m = with_cond(model(nodes, ["z"]))
    refusal = (
        "<onnx model>: node 'iff' (If): runs subgraphs ('else_branch', 'then_branch') and reads 'x' (in a subgraph); "
        "control flow is not modelled"
    )
    with pytest.raises(ModelError) as err:
        from_onnx(m)
    assert str(err.value) == refusal
    relu = [nested(depth, "y2"), helper.make_node("Relu", ["y2"], ["z"], name="r")]  # was "no node makes one"
    with pytest.raises(ModelError) as only:
        from_onnx(with_cond(model(relu, ["z"])))
    assert str(only.value) == refusal
    g = from_onnx(m, taps="y1")  # no tap depends on the If: imported
    assert [n.name for n in g.nodes] == ["y1"]
    assert profile(g)["y1"].x.rf == 3  # type: ignore[union-attr]


def test_a_subgraph_that_reads_constants_only_is_no_feature_map() -> None:
    """An ``If`` whose branches read only constants makes no feature map (a constant, as before): a product
    with it keeps the geometry of the map."""
    const = [helper.make_node("Constant", [], ["k_t"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [2.0]))]
    other = [helper.make_node("Constant", [], ["k_e"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [3.0]))]
    nodes = [
        conv("x", "y1", 3),
        if_node("k", const, "k_t", other, "k_e"),
        helper.make_node("Mul", ["y1", "k"], ["z"], name="mul"),
    ]
    g = from_onnx(with_cond(model(nodes, ["z"])))
    assert profile(g)["z"].x.rf == 3  # type: ignore[union-attr]


def test_a_subgraph_that_reads_a_value_computed_later_is_refused() -> None:
    """An outer value a subgraph reads must be computed before its node, as an input must (onnx's rule)."""
    nodes = [nested(1, "y2"), conv("x", "y1", 3)]
    nodes[0].attribute[0].g.node[0].input[0] = "y1"  # the else branch reads y1, computed after the If
    from scalematch.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        from_onnx(with_cond(model(nodes, ["y1", "y2"])))
    assert str(err.value) == (
        "<onnx model>: node 'iff' (If): reads 'y1' (in a subgraph) before it is computed (the graph has a cycle, or "
        "its nodes are out of order)"
    )


def test_a_tap_name_two_nodes_bear_is_refused_a_value_name_comes_first() -> None:
    """``--taps same`` with two nodes named ``same`` took the last, and ``--taps z`` where node ``z`` writes
    ``y`` and node ``y`` writes ``z`` took the value without a word (R40B-F3)."""
    same = [conv("x", "y", 3, strides=[2, 2]), conv("y", "z", 5)]
    for node in same:
        node.name = "same"
    for taps, pick in (("same", "--taps y or --taps z"), ("C3=same", "--taps C3=y or --taps C3=z")):
        with pytest.raises(ModelError) as err:
            from_onnx(model(same, ["z"]), taps=taps)
        assert str(err.value) == (
            f"<onnx model>: tap '{taps.split('=')[0]}': 'same' names 2 nodes (node 'same' (Conv) writing 'y' and "
            f"node 'same' (Conv) writing 'z'); give the value name of the one meant ({pick})"
        )
    assert from_onnx(model(same, ["z"]), taps="y").taps == (("y", "y"),)
    cross = [conv("x", "y", 3, strides=[2, 2]), conv("y", "z", 5)]
    cross[0].name, cross[1].name = "z", "y"
    g = from_onnx(model(cross, ["z"]), taps="z")
    assert g.taps == (("z", "z"),)
    assert (
        "note: tap 'z' is the value 'z' (written by node 'y' (Conv)); node 'z' (Conv) writes 'y': a value name "
        in g.convention.replace("\n", " ")
    )
    assert "note" not in from_onnx(model(cross, ["z"])).convention  # the graph outputs are values


@pytest.mark.parametrize(("op", "pads", "refused"), [
    ("MaxPool", [2, 2, 2, 2], False), ("MaxPool", [3, 0, 0, 0], True), ("AveragePool", [0, 0, 0, 5], True),
])  # fmt: skip
def test_a_pool_padded_by_its_kernel_or_more_is_refused(tmp_path: Any, op: str, pads: list[int], refused: bool) -> None:
    """A MaxPool k3 with pads 5 was profiled (a border of units reading padding only, its size off by one against
    AveragePool's), where onnxruntime refuses any pool whose pad reaches its kernel (review round 47, E4)."""
    node = helper.make_node(op, ["x"], ["y"], kernel_shape=[3, 3], pads=pads)
    graph = helper.make_graph(
        [node], "p", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "p.onnx")
    if not refused:
        assert profile(from_onnx(tmp_path / "p.onnx"), (64, 64))["y"].size == (66, 66)
        return
    with pytest.raises(ModelError) as err:
        from_onnx(tmp_path / "p.onnx")
    assert str(err.value) == (
        f"{tmp_path / 'p.onnx'}: node 'y' ({op}): pads {pads} reach its kernel [3, 3]; expected each pad smaller than "
        "the kernel along its axis, as onnxruntime requires of a pool ('Pad should be smaller than kernel')"
    )


def test_a_pass_through_declaration_of_an_op_that_changes_the_size_is_refused(tmp_path: Any) -> None:
    """--passthrough Conv on a strided convolution of a model fixing its input gave stride 1 and rf 1 to a map
    that shape inference makes 16x16 (review round 47, F6), where the torch importer refuses it."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 3, 3], [0.0] * 81)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    assert profile(from_onnx(tmp_path / "m.onnx"), (64, 64))["y"].size == (32, 32)
    with pytest.raises(ModelError) as err:
        from_onnx(tmp_path / "m.onnx", passthrough=["Conv"])
    assert str(err.value) == (
        f"{tmp_path / 'm.onnx'}: node 'c' (Conv): its value is 32x32 (WxH) but it reads a 64x64 map: declared "
        "pass-through, which keeps the size; expected an op that keeps the geometry"
    )
