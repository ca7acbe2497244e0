"""ONNX import: the shapes of ``Slice``, ``Split`` and ``Reshape`` results that onnx's shape inference leaves
unknown.

torch exports ``chunk`` as ``Slice`` nodes whose ends are computed from the input's shape (``Shape`` ->
``Gather`` -> ``Add`` -> ``Div`` -> ``Mul``), and a ``view`` to sizes read from the input (a channel shuffle's
``c // groups``) as a ``Reshape`` to such a shape; onnx's data propagation stops at the ``Div``, so the results
and every value after them lose their shapes, and a rearrangement of them cannot be followed. Here the bounds and
target shapes are evaluated from the graph's constants and the shapes that inference does know, and the results'
shapes are computed from them, to be written back for inference to carry further.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

PIECES = frozenset(["Slice", "Split", "Reshape"])
"""Nodes whose result's shape is read from their other inputs, evaluated here on a zero-memory input."""
SMALL = 64
"""The most items a value computed from constants and shapes may hold here (bounds, sizes and axes are short)."""


def known_shape(shape: tuple[int | None, ...] | None) -> tuple[int, ...] | None:
    """``shape`` when every axis of it is known, else None."""
    if shape is None or any(d is None for d in shape):
        return None
    return tuple(int(d) for d in shape if d is not None)


def small_constants(model: Any) -> dict[str, Any]:
    """The initializers of ``model`` with at most :data:`SMALL` items whose data is in the model."""
    import onnx
    from onnx import numpy_helper

    found = {}
    for tensor in model.graph.initializer:
        external = tensor.HasField("data_location") and tensor.data_location == onnx.TensorProto.EXTERNAL
        if not external and math.prod(tensor.dims) <= SMALL:
            try:
                found[tensor.name] = numpy_helper.to_array(tensor)
            except Exception:
                continue  # a malformed initializer is refused by the importer, with its name
    return found


def shape_value(node: Any, shape: tuple[int, ...] | None) -> Any | None:
    """The value of ``Shape`` node ``node`` (its ``start`` and ``end``) of a value of known ``shape``."""
    import numpy as np

    if shape is None:
        return None
    attrs = {a.name: a.i for a in node.attribute if a.name in ("start", "end")}
    return np.array(shape[slice(attrs.get("start", 0), attrs.get("end"))], dtype=np.int64)


def unknown_piece(node: Any, shapes: dict[str, tuple[int | None, ...]]) -> bool:
    """Whether ``node`` is one of :data:`PIECES` reading a value of known shape, with an output of unknown shape."""
    if node.op_type not in PIECES or node.domain not in ("", "ai.onnx") or not node.input:
        return False
    outputs = [o for o in node.output if o]
    return known_shape(shapes.get(node.input[0])) is not None and any(
        known_shape(shapes.get(o)) is None for o in outputs
    )


def evaluate(node: Any, inputs: dict[str, Any]) -> list[Any] | None:
    """The outputs of ``node`` run by onnx's reference evaluator on ``inputs``; None when it fails."""
    from onnx.reference import ReferenceEvaluator

    try:
        return list(ReferenceEvaluator(node).run(None, inputs))
    except Exception:
        return None


def piece_shapes(
    model: Any, shapes: dict[str, tuple[int | None, ...]], arithmetic: Iterable[str]
) -> dict[str, tuple[int, ...]]:
    """The shapes of the outputs of :data:`PIECES` nodes of ``model`` that ``shapes`` (the inferred ones) leaves
    unknown in whole or in part, where the node's input has a known shape and its bounds or target shape are
    constants or computed from constants and known shapes by the ``arithmetic`` operators; empty when none."""
    import numpy as np

    if not any(unknown_piece(node, shapes) for node in model.graph.node):
        return {}
    values = small_constants(model)
    found: dict[str, tuple[int, ...]] = {}
    folded = set(arithmetic) | {"Constant"}
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        names = [i for i in node.input if i]
        if node.op_type == "Shape" and names:
            result = shape_value(node, known_shape(shapes.get(names[0])))
            if result is not None:
                values[node.output[0]] = result
        elif unknown_piece(node, shapes) and all(i in values for i in names[1:]):
            shape, outputs = known_shape(shapes.get(names[0])), [o for o in node.output if o]
            data = np.broadcast_to(np.zeros((), np.float32), shape or ())  # no memory (nor its slices, reshapes)
            pieces = evaluate(node, {names[0]: data, **{i: values[i] for i in names[1:]}})
            if pieces is not None and len(pieces) == len(outputs):
                found.update({o: tuple(int(d) for d in np.shape(p)) for o, p in zip(outputs, pieces, strict=True)})
        elif node.op_type in folded and all(i in values for i in names):
            results = evaluate(node, {i: values[i] for i in names})
            for out, value in zip(node.output, results or [], strict=False):
                if out and np.size(value) <= SMALL:
                    values[out] = np.asarray(value)
    return found


def write_shapes(model: Any, found: dict[str, tuple[int, ...]]) -> int:
    """Record the shapes ``found`` in the ``value_info`` of ``model``; how many were recorded (a value that
    inference gave no tensor type is left out: its element type is unknown)."""
    infos = {info.name: info for info in model.graph.value_info}
    written = 0
    for name, shape in found.items():
        info = infos.get(name)
        if info is None or not info.type.HasField("tensor_type"):
            continue
        dims = info.type.tensor_type.shape.dim
        del dims[:]
        for size in shape:
            dims.add().dim_value = size
        written += 1
    return written
