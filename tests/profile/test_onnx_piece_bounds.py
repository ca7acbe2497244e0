"""The ONNX importer's evaluation of small values (piece shapes, constants computed in the graph) stays small and
quick on hostile graphs: a node whose result could be huge is never run, and a chain of pieces is resolved in one
round, not one round per piece (review round 41, F1 and F2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from scalematch.profile.importers import onnx as importer  # noqa: E402
from scalematch.profile.importers import onnx_pieces  # noqa: E402
from scalematch.profile.importers.onnx import from_onnx  # noqa: E402


def _int64(name: str, value: Any) -> Any:
    return numpy_helper.from_array(np.array(value, np.int64), name)


def _chunked(extra: list[Any], inits: list[Any], pieces: int = 1) -> Any:
    """A convolution, then ``pieces`` channel Slices in a chain, each one's end its input's channel count read
    through Shape -> Gather -> Unsqueeze and halved (Div, as torch exports ``chunk``; one piece) or less one (Sub;
    a chain), and the ``extra`` nodes beside."""
    shrink, by, channels = ("Div", 2, 4) if pieces == 1 else ("Sub", 1, pieces + 2)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c0"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3])]
    for k in range(pieces):
        src, out = f"c{k}", f"c{k + 1}"
        nodes += [
            helper.make_node("Shape", [src], [f"s{k}"], name=f"shape{k}"),
            helper.make_node("Gather", [f"s{k}", "one"], [f"g{k}"], name=f"gather{k}"),
            helper.make_node("Unsqueeze", [f"g{k}", "zero"], [f"u{k}"], name=f"unsq{k}"),
            helper.make_node(shrink, [f"u{k}", "by"], [f"h{k}"], name=f"shrink{k}"),
            helper.make_node("Slice", [src, "zero", f"h{k}", "axis"], [out], name=f"slice{k}"),
        ]
    weights = numpy_helper.from_array(np.ones((channels, 3, 3, 3), np.float32), "w")
    constants = [_int64("one", 1), _int64("zero", [0]), _int64("two", [2]), _int64("by", [by]), _int64("axis", [1])]
    constants.append(weights)
    graph = helper.make_graph(
        [*nodes, *extra],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info(f"c{pieces}", TensorProto.FLOAT, None)],
        [*constants, *inits],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _evaluated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The op types onnx's reference evaluator is built for from here on."""
    import onnx.reference

    seen: list[str] = []
    real = onnx.reference.ReferenceEvaluator

    def spy(node: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(node, "op_type", "?"))
        return real(node, *args, **kwargs)

    monkeypatch.setattr(onnx.reference, "ReferenceEvaluator", spy)
    return seen


@pytest.mark.parametrize(
    ("extra", "inits", "op"),
    [
        ([helper.make_node("ConstantOfShape", ["big"], ["cos"], name="cos")], [_int64("big", [24000, 24000])],
         "ConstantOfShape"),
        ([helper.make_node("Sum", [f"v{k}" for k in range(5)], ["sum"], name="sum")],
         [numpy_helper.from_array(np.ones([64 if i == k else 1 for i in range(5)], np.float16), f"v{k}")
          for k in range(5)], "Sum"),
        ([helper.make_node("Expand", ["one", "big"], ["ex"], name="ex")], [_int64("big", [30000, 30000])], "Expand"),
        ([helper.make_node("Tile", ["two", "big"], ["ti"], name="ti")], [_int64("big", [10**9])], "Tile"),
    ],
)  # fmt: skip
def test_a_node_whose_result_could_be_huge_is_never_run(
    extra: list[Any], inits: list[Any], op: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node beside the pieces whose inputs are small constants but whose result would hold hundreds of
    millions of items (2.3 GB, or 24 s and 4.3 GB for the Sum, before) is not evaluated; the map still profiles."""
    seen = _evaluated(monkeypatch)
    graph = from_onnx(_chunked(extra, inits))
    assert [name for name, _ in graph.taps] == ["c1"]
    assert "Slice" in seen and op not in seen


def test_result_bounds_are_upper_bounds() -> None:
    """The bound of each node kind is at least the size of what onnx's reference evaluator makes of it."""
    from onnx.reference import ReferenceEvaluator

    cases: list[tuple[str, list[Any]]] = [
        ("ConstantOfShape", [np.array([3, 4], np.int64)]),
        ("Sum", [np.ones((3, 1)), np.ones((1, 5)), np.ones(5)]),
        ("Concat", [np.ones(3), np.ones(4)]),
        ("Gather", [np.arange(6), np.array([[0, 1], [2, 3]])]),
        ("Expand", [np.ones((3, 1)), np.array([2, 3, 4], np.int64)]),
        ("Tile", [np.ones((2, 3)), np.array([2, 2], np.int64)]),
        ("Range", [np.array(0), np.array(10), np.array(3)]),
        ("Unsqueeze", [np.ones(4), np.array([0], np.int64)]),
    ]
    for op, values in cases:
        names = [f"i{k}" for k in range(len(values))]
        attrs: dict[str, Any] = {"axis": 0} if op == "Concat" else {}
        node = helper.make_node(op, names, ["out"], **attrs)
        feeds: dict[str, Any] = dict(zip(names, values, strict=True))
        made: Any = ReferenceEvaluator(node).run(None, feeds)
        bound = onnx_pieces.result_bound(node, values)
        assert bound is not None and bound >= np.size(made[0]), op


def test_a_chain_of_pieces_is_resolved_in_one_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """300 chained channel Slices, each one's end read from the previous one's shape: every piece's shape is found
    in one pass (a shape found feeds the Shape nodes after it), so shape inference runs twice, not 300 times (35 s
    for 500 pieces before)."""
    rounds: list[int] = []
    real = onnx_pieces.piece_shapes

    def counted(*args: Any) -> Any:
        rounds.append(1)
        return real(*args)

    monkeypatch.setattr(importer, "piece_shapes", counted)
    graph = from_onnx(_chunked([], [], pieces=8))
    assert [name for name, _ in graph.taps] == ["c8"] and len(rounds) <= 2
    rounds.clear()
    from_onnx(_chunked([], [], pieces=300))
    assert len(rounds) <= 2
