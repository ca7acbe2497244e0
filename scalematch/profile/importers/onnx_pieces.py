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
BOUND = SMALL * SMALL
"""The most items a node folded here may make (before its result is kept or dropped by :data:`SMALL`): a node whose
result could hold more (a ``ConstantOfShape`` of a large shape, a ``Sum`` broadcasting several short vectors into a
huge array) is not evaluated at all."""
BROADCASTING = frozenset(["Add", "Sub", "Mul", "Div", "Mod", "Sum", "Max", "Min", "Mean"])
SAME_OR_SMALLER = frozenset(
    ["Cast", "Identity", "Neg", "Abs", "Floor", "Ceil", "Slice", "Squeeze", "Unsqueeze", "Reshape", "Transpose",
     "ReduceProd", "ReduceSum", "Size"]
)  # fmt: skip
"""Folded operators whose result holds at most as many items as their first input."""


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


def result_bound(node: Any, inputs: list[Any]) -> int | None:
    """The most items the result of folded node ``node`` can hold on ``inputs`` (its input values, in order),
    computed without running it; None when it cannot be told (the node is then not evaluated)."""
    import numpy as np

    op, sizes = node.op_type, [int(np.size(value)) for value in inputs]
    if op == "ConstantOfShape":
        dims = [int(d) for d in np.ravel(inputs[0])] if inputs else []
        return math.prod(dims) if all(d >= 0 for d in dims) and len(dims) <= SMALL else None
    if op in BROADCASTING:
        try:
            return math.prod(np.broadcast_shapes(*(np.shape(value) for value in inputs)))
        except ValueError:
            return None
    if op == "Expand" and len(inputs) == 2:
        try:
            target = tuple(int(d) for d in np.ravel(inputs[1]))
            return math.prod(np.broadcast_shapes(np.shape(inputs[0]), target)) if len(target) <= SMALL else None
        except ValueError:
            return None
    if op == "Tile" and len(inputs) == 2:
        repeats = [int(r) for r in np.ravel(inputs[1])]
        return sizes[0] * math.prod(repeats) if all(r >= 0 for r in repeats) and len(repeats) <= SMALL else None
    if op == "Range" and len(inputs) == 3 and all(size == 1 for size in sizes):
        start, limit, delta = (float(np.ravel(value)[0]) for value in inputs)
        steps = (limit - start) / delta if delta else math.inf
        return max(math.ceil(steps), 0) if math.isfinite(steps) else None
    if op == "Concat":
        return sum(sizes)
    if op == "Gather" and len(sizes) == 2:
        return sizes[0] * sizes[1]
    if op in SAME_OR_SMALLER and sizes:
        return sizes[0] if op != "Size" else 1
    if op == "Constant":
        return sum(_attribute_items(attribute) for attribute in node.attribute)
    return None


def _attribute_items(attribute: Any) -> int:
    """Items a ``Constant`` node's attribute holds (a tensor's declared size, a list's length, 1 for a scalar)."""
    if attribute.HasField("t"):
        return math.prod(attribute.t.dims)
    if attribute.HasField("sparse_tensor"):
        return math.prod(attribute.sparse_tensor.dims)
    return max(len(attribute.ints), len(attribute.floats), len(attribute.strings), 1)


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
    shapes = dict(shapes)  # (with the shapes found here, for the Shape nodes after them)
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
                now = {o: tuple(int(d) for d in np.shape(p)) for o, p in zip(outputs, pieces, strict=True)}
                found.update(now)
                shapes.update(now)
        elif node.op_type in folded and all(i in values for i in names):
            bound = result_bound(node, [values[i] for i in names])
            if bound is None or bound > BOUND:
                continue
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
