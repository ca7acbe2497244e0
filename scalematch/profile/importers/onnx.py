"""Import an ONNX model as a layer graph (the ``onnx`` extra).

Feature maps are named by their ONNX value names. Conv, ConvTranspose, MaxPool, AveragePool (``pads`` in
ONNX order ``[top, left, bottom, right]``, ``auto_pad``, ``dilations``, ``ceil_mode``), the global pools, Pad
(folded into the window that reads it, else an explicit pad), Resize/Upsample with integer scales (nearest,
linear), Add/Sum/Sub/Mul/Div, Concat and Split carry the geometry; activations, normalisations and other
element-wise ops are pass-through. A product or sum with a broadcast operand (a squeeze-excitation gate, a
per-channel constant) keeps the geometry of the full-size operand. Values computed only from constants and
shapes (``Shape`` -> ``Gather`` -> ...) are not feature maps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from scalematch._args import no_nul, shown
from scalematch._paths import kind as path_kind
from scalematch._paths import problem
from scalematch.errors import ConfigError, ModelError, OptionError
from scalematch.extras import require
from scalematch.profile.graph import INPUT, Graph, Node, fixed_problem
from scalematch.profile.importers.emit import (
    NAME_TAPS,
    TapSpec,
    blocked_error,
    blocked_maps,
    finish,
    one_name_per_map,
    pad_layer,
    parse_taps,
    resolve_requested,
    stage_taps,
)
from scalematch.profile.importers.layer_list import layer_problem
from scalematch.profile.importers.onnx_pieces import BOUND as PIECE_BOUND
from scalematch.profile.importers.onnx_pieces import piece_shapes, result_bound, write_shapes
from scalematch.profile.layers import (
    GlobalPool,
    Layer,
    Merge,
    Padding,
    Pair,
    Passthrough,
    TransposedConv,
    Upsample,
    Window,
)
from scalematch.profile.layout import (
    Layout,
    as_feature_map,
    canonical,
    fit_channels,
    fits_at,
    permute,
    replace_last,
    reshape,
    size_bound_reason,
    spatial_in,
)

PASS_OPS = frozenset(
    [
        "Relu",
        "LeakyRelu",
        "PRelu",
        "Elu",
        "Selu",
        "Celu",
        "Gelu",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Softplus",
        "Softsign",
        "Mish",
        "Clip",
        "ThresholdedRelu",
        "Shrink",
        "BatchNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LpNormalization",
        "MeanVarianceNormalization",
        "LRN",
        "Identity",
        "Dropout",
        "Cast",
        "Neg",
        "Abs",
        "Exp",
        "Log",
        "Sqrt",
        "Reciprocal",
        "Pow",
        "Erf",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Softmax",
        "LogSoftmax",
    ]
)
"""Operators that keep the geometry (element-wise, or acting on channels only)."""

LAYOUT_OPS = frozenset(["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"])
"""Rearrangements followed by the axis algebra of :mod:`scalematch.profile.layout`: a space-to-depth becomes a
window, a depth-to-space nearest up-sampling, a round trip (ConvNeXt's channels-last blocks) nothing; any
other result is no feature map, refused when a geometry op or a tap reads it."""
LINEAR_OPS = frozenset(["MatMul", "Gemm"])
"""A product with a constant matrix maps the last axis: over channels it keeps the geometry (a channels-last
block, a classifier after global pooling); over rows or columns the result is no feature map."""

BINARY = frozenset(["Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean"])
REDUCE_OPS = frozenset(
    [
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
)
STATISTICS = frozenset(["LpNormalization", "MeanVarianceNormalization", "LayerNormalization"])
"""Normalisations over the axes an attribute names: their statistic over a whole row or column is refused."""
SHAPE_OPS = frozenset(["Shape", "Size"])
SHAPE_ARITHMETIC = frozenset(
    [
        *SHAPE_OPS,
        *BINARY,
        "Cast",
        "Concat",
        "Gather",
        "Identity",
        "Mod",
        "Neg",
        "Slice",
        "Squeeze",
        "Unsqueeze",
        "Abs",
        "Floor",
        "Ceil",
        "ReduceProd",
        "ReduceSum",
        "Reshape",
        "Transpose",
        "ConstantOfShape",
    ]
)
"""Operators folded on values computed from shapes (their results are small integer vectors; a ConstantOfShape
only while it stays small: the pads torch exports for ``F.pad`` with computed amounts are made with one)."""
MOVES = {"Slice": 1, "Gather": 1, "Unsqueeze": 1, "Squeeze": 1, "Reshape": 1, "Identity": 1, "Cast": 1}
MOVES |= {"Transpose": 1, "Concat": 0}
"""Operators that only move the items of a value computed from shapes: how many of their first inputs are the
data moved (0: all of them); the others are indices, axes or shapes."""
SYMBOLIC = "and the model's input size is symbolic; give input_size=WxH to import it at that size"
"""How the error of a node whose geometry is computed from unknown shapes goes on (a symbolic input size and none
given): ``recommend``, which imports without a size, tells it apart by this text (the refusal of a node is kept as
its text until a tap needs the node)."""


def _ints(value: Any, default: list[int]) -> list[int]:
    return [int(v) for v in value] if value is not None else default


def _node_name(node: Any) -> str:
    return str(node.name or (node.output[0] if node.output else node.op_type))


def subgraphs(node: Any) -> list[Any]:
    """The graphs a node runs (the GRAPH and GRAPHS attributes of ``If``, ``Loop``, ``Scan``, ...), with the
    names of their attributes."""
    found = []
    for attribute in node.attribute:
        if attribute.HasField("g"):
            found.append((attribute.name, attribute.g))
        found.extend((attribute.name, g) for g in attribute.graphs)
    return found


def outer_reads(graph: Any) -> list[str]:
    """The values of enclosing graphs that ``graph`` reads, at any depth: what its nodes (and the graphs they
    run), and its outputs, read that it does not define itself (as an input, an initializer or a node's
    output)."""
    defined = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    defined |= {i.values.name for i in graph.sparse_initializer}
    reads: list[str] = []
    for node in graph.node:
        reads.extend(node.input)
        for _, inner in subgraphs(node):
            reads.extend(outer_reads(inner))
        defined.update(node.output)
    reads.extend(o.name for o in graph.output)
    return [r for r in dict.fromkeys(reads) if r and r not in defined]


def node_inputs(node: Any) -> list[str]:
    """The values a node reads: its inputs, then the values of the enclosing graphs its subgraphs read (an
    ``If`` branch that reads the image is a dependency of the ``If`` as an input is)."""
    inner = [r for _, g in subgraphs(node) for r in outer_reads(g)]
    return [i for i in dict.fromkeys([*node.input, *inner]) if i]


def name_problem(name: str) -> str | None:
    """What is wrong with a node or value name (``''``, no name, is none): one of whitespace only, or with
    whitespace around it, which the tables print as another name (or none) and ``--taps`` cannot give."""
    if not name or name == name.strip():
        return None
    if not name.strip():
        return f"'{name}' is whitespace only; expected a name of visible characters, or none"
    return (
        f"'{name}' has leading or trailing whitespace, which --taps strips and the tables do not show; expected "
        f"'{name.strip()}'"
    )


def check_names(graph: Any, label: str) -> None:
    """A :class:`ConfigError` naming the file and the node (or the graph output) whose name, or the name of a
    value it writes, is whitespace only or has whitespace around it (:func:`name_problem`)."""
    for node in graph.node:
        for what, name in [("its name", node.name), *(("output", out) for out in node.output)]:
            problem = name_problem(name)
            if problem is not None:
                raise ConfigError(f"{label}: node '{_node_name(node)}' ({node.op_type}): {what} {problem}")
    for output in graph.output:
        problem = name_problem(output.name)
        if problem is not None:
            raise ConfigError(f"{label}: graph output {problem}")


def check_graph(graph: Any, label: str) -> None:
    """ONNX's rules for a graph, which the import relies on: each value has one producer (a node, a graph input
    or an initializer), and a node reads only values produced before it (no cycle; the nodes are sorted); and the
    names of nodes and the values they write are no blank (:func:`check_names`). A :class:`ConfigError` names the
    file and the node otherwise."""
    check_names(graph, label)
    made: dict[str, str] = {i.name: "an initializer" for i in graph.initializer}
    for value in graph.input:
        made.setdefault(value.name, "a graph input")
    writer: dict[str, Any] = {}
    for node in graph.node:
        for out in filter(None, node.output):
            first = writer.get(out)
            if first is not None or out in made:
                by = f"node '{_node_name(first)}' ({first.op_type})" if first is not None else made[out]
                raise ConfigError(
                    f"{label}: node '{_node_name(node)}' ({node.op_type}): writes '{out}', which {by} writes too; "
                    "an ONNX value has one producer"
                )
            writer[out] = node
    ready = set(made)
    for node in graph.node:
        direct = set(node.input)
        for value in node_inputs(node):
            if value in ready:
                continue
            inner = "" if value in direct else " (in a subgraph)"
            where = f"{label}: node '{_node_name(node)}' ({node.op_type}): reads '{value}'{inner}"
            if value in writer:
                raise ConfigError(
                    f"{where} before it is computed (the graph has a cycle, or its nodes are out of order)"
                )
            raise ConfigError(f"{where}, which no node, graph input or initializer provides")
        ready.update(filter(None, node.output))


def check_image_input(shape: tuple[int | None, ...] | None, name: str, label: str) -> None:
    """The image input, where its shape is known, is a batch of images (N, C, H, W) of non-zero size."""
    if shape is None:
        return
    dims = "x".join("?" if d is None else str(d) for d in shape) or "a scalar"
    if len(shape) != 4:
        raise ConfigError(
            f"{label}: input '{name}' is {dims} (rank {len(shape)}); expected a 4-D image batch (N, C, H, W)"
        )
    if 0 in shape:
        raise ConfigError(
            f"{label}: input '{name}' is {dims}, with a zero-size axis; expected a non-empty (N, C, H, W)"
        )
    if any(d is not None and d < 0 for d in shape):  # an unknown axis is a dim_param or no value, never negative
        raise ConfigError(
            f"{label}: input '{name}' is {dims}, with a negative axis size; expected a non-empty (N, C, H, W) "
            "(a free axis has a name or no value)"
        )


def declared_input(model: Any) -> tuple[str, tuple[int | None, ...] | None] | None:
    """The name and declared shape of the image input (the first input that is no initializer; None for a
    symbolic or unknown axis, None for no shape), as the file writes it; None when the model has no input."""
    initializers = {i.name for i in model.graph.initializer}
    image = next((i for i in model.graph.input if i.name not in initializers), None)
    if image is None:
        return None
    tensor = image.type.tensor_type
    if not tensor.HasField("shape"):
        return image.name, None
    return image.name, tuple(int(d.dim_value) if d.HasField("dim_value") else None for d in tensor.shape.dim)


class _Importer:
    def __init__(self, model: Any, label: str, passthrough: frozenset[str], folder: Path | None = None) -> None:
        import onnx
        from onnx import numpy_helper

        self.label = label
        self.folder = folder
        """The model file's folder, where its external data files are (None: a ModelProto or bytes, which have none)."""
        self.passthrough = passthrough
        self.graph = model.graph
        self.missing = {i.name: external_location(i) for i in self.graph.initializer if external(i)}
        """Initializers whose external data is not loaded: each with its file (read when a value is needed)."""
        self.unloaded = {i.name: i for i in self.graph.initializer if i.name in self.missing}
        self.constants: dict[str, Any] = {
            i.name: initializer_values(i, label) for i in self.graph.initializer if i.name not in self.missing
        }
        self.derived: dict[str, Any] = {}  # values computed from constants and known shapes (axes)
        self.sides: dict[str, Any] = {}  # derived values: which side of which map each item is (codes, 0: none)
        self.side_codes: list[tuple[str, int]] = []  # code k + 1: the map's height (axis 0) or width (1)
        self.shapes = value_shapes(model)
        self.types = value_types(model)
        self.values: dict[str, str | None] = {}
        self.sources: dict[str, frozenset[str]] = {}
        self.nodes: list[Node] = []
        self.names: set[str] = set()
        self.pads: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        self.sized: dict[str, str] = {}  # nodes whose geometry was read at the input size: what was read
        self.rerun: Callable[[], dict[str, tuple[int | None, ...]] | None] | None = None  # shapes at another size
        self.second: dict[str, tuple[int | None, ...]] | None = None
        self.reran = False
        self.after_nearest: set[str] = set()  # nodes after a nearest up-sampling (their merges take the union)
        self.pooled: set[str] = set()  # nodes that read the image through global pools only (constant over a map)
        self.layouts: dict[str, Layout] = {}  # values not in (N, C, H, W) layout: where their axes went
        self.opaque: dict[str, str] = {}  # values that are no feature map: why ...
        self.origin: dict[str, str] = {}  # ... and the node that made them so
        self.unmapped: dict[str, str] = {}  # value and node names a tap cannot use: why
        self.pending_keys: dict[str, str] = {}  # ... and the value each of them names
        self.producers: dict[str, Any] = {}  # the node that computed each rearranged value
        self.opset = next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        if not -(2**31) <= self.opset < 2**31:  # onnx looks schemas up by a 32-bit opset (a bare TypeError beyond)
            raise ModelError(
                f"{label}: the model imports ONNX opset {self.opset}, which is no opset onnx can look up (the "
                f"newest is {onnx.defs.onnx_opset_version()})"
            )
        self.onnx = onnx
        self.helper = onnx.helper
        self.defs = onnx.defs
        self.numpy_helper = numpy_helper

    # -- helpers -----------------------------------------------------------------------------------------
    def where(self, node: Any) -> str:
        return f"{self.label}: node '{node.name or node.output[0]}' ({node.op_type})"

    def fail(self, node: Any, message: str) -> ModelError:
        return ModelError(f"{self.where(node)}: {message}")

    def axis(self, node: Any, value: int, rank: int, what: str = "axis", extra: int = 0) -> int:
        """``value`` as an axis of a rank-``rank`` value, a negative one counting from the end: ONNX takes -rank to
        rank - 1 (to rank for Flatten, ``extra`` 1); beyond that the model is invalid, a :class:`ModelError` (an
        axis 6 of a rank-4 value was read as axis 2, review round 42)."""
        if not -rank <= value < rank + extra:
            raise self.fail(
                node,
                f"{what} {value} is out of range for a rank-{rank} input (ONNX takes {-rank} to {rank + extra - 1})",
            )
        return value + rank if value < 0 else value

    def text(self, node: Any, attrs: dict[str, Any], key: str, default: str) -> str:
        """The STRING attribute ``key`` of ``node`` as text (``default`` when absent); a :class:`ModelError` naming
        the node and the attribute when its bytes are not UTF-8 (a bare UnicodeDecodeError otherwise)."""
        value = attrs.get(key, default)
        if not isinstance(value, bytes):
            return str(value)
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise self.fail(node, f"attribute '{key}' is {shown(value)}, not UTF-8 text") from None

    def const(self, name: str) -> Any | None:
        self.check_loaded(name)
        return self.constants.get(name) if name else None

    def check_loaded(self, name: str) -> None:
        """A :class:`ModelError` when the values of initializer ``name`` are needed but its external data file is
        no regular file (missing, a folder, a FIFO, a device ...: named as the readers name it); the geometry reads
        no weights, only such parameters as scales, pads and axes."""
        if name not in self.missing:
            return
        where = f"{self.label}: the values of '{name}' are needed, but"
        if self.folder is None:
            raise ModelError(
                f"{where} they are kept in the external data file '{self.missing[name]}', and a model given as a "
                "ModelProto or its bytes has no folder to find that file in; give the model's path, or load it "
                "with its data (onnx.load(path))"
            )
        what = path_kind(self.folder / self.missing[name])  # its status only: a FIFO is never opened
        if what is None:
            self.constants[name] = load_external(self.unloaded[name], self.folder, self.label)
            del self.missing[name]
            return
        if what == "missing":
            state = "is missing"
        elif what.startswith("unreadable"):
            state = f"cannot be read{what.removeprefix('unreadable')}"
        else:  # a folder, a FIFO, a device, a socket, a dangling symlink or a symlink loop, as the readers name them
            state = f"is not a regular file ({what})"
        raise ModelError(f"{where} the external data file '{self.missing[name]}' named in the model {state}")

    def spatial(self, name: str) -> Pair | None:
        shape = self.shapes.get(name)
        if shape is None or len(shape) != 4 or shape[2] is None or shape[3] is None:
            return None
        return int(shape[2]), int(shape[3])

    def emit(self, node: Any, layer: Layer, inputs: list[str], pad: bool = False) -> None:
        base = node.output[0]
        name, k = base, 0
        while name in self.names or name == INPUT:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        refs = tuple(v for v in (self.values[i] for i in inputs) if v is not None)
        self.nodes.append(Node(name, layer, refs))
        nearest = isinstance(layer, Upsample) and layer.mode == "nearest" and layer.scale != (1, 1)
        if isinstance(layer, GlobalPool) or (refs and all(r in self.pooled for r in refs)):
            self.pooled.add(name)
        if nearest or any(r in self.after_nearest for r in refs):
            self.after_nearest.add(name)
        if pad:
            self.pads.add(name)
        self.values[node.output[0]] = name
        self.aliases[node.output[0]] = name

    # -- layers ------------------------------------------------------------------------------------------
    def window_padding(self, node: Any, attrs: dict[str, Any], k_eff: Pair, stride: Pair, src: str) -> Padding:
        auto = self.text(node, attrs, "auto_pad", "NOTSET")
        if auto == "NOTSET":
            p = _ints(attrs.get("pads"), [0, 0, 0, 0])
            if len(p) != 4:
                raise self.fail(node, f"expected 4 pads [top, left, bottom, right], got {p}")
            return (p[0], p[2]), (p[1], p[3])
        if auto == "VALID":
            return (0, 0), (0, 0)
        if auto == "SAME_UPPER":
            return "same"  # TensorFlow's rule: the smaller half before (resolved from the input size)
        if auto == "SAME_LOWER":
            n = self.spatial(src)
            pads = []
            for a in (0, 1):
                s = stride[a]
                total = max(k_eff[a] - s, 0) if n is None else max((-(-n[a] // s) - 1) * s + k_eff[a] - n[a], 0)
                pads.append((total - total // 2, total // 2))
            return pads[0], pads[1]
        raise self.fail(node, f"auto_pad {auto!r} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")

    def window(self, node: Any, attrs: dict[str, Any], kind: str, src: str) -> Window:
        kernel = attrs.get("kernel_shape")
        if kernel is None and kind == "conv":
            weight = self.shapes.get(node.input[1])
            kernel = weight[2:] if weight is not None else None
        if kernel is None or len(kernel) != 2 or any(k is None for k in kernel):
            raise self.fail(node, f"expected a 2-D kernel_shape, got {kernel}")
        k = (int(kernel[0]), int(kernel[1]))
        s = _ints(attrs.get("strides"), [1, 1])
        d = _ints(attrs.get("dilations"), [1, 1])
        self.check_rank(node, s, d)
        problem = layer_problem(Window("conv", k, (s[0], s[1]), dilation=(d[0], d[1])))
        if problem:  # before the padding, which divides by the stride
            raise self.fail(node, problem)
        k_eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
        padding = self.window_padding(node, attrs, k_eff, (s[0], s[1]), src)
        if kind != "conv" and padding != "same" and any(p >= k[a] for a in (0, 1) for p in padding[a]):
            raise self.fail(  # a window of padding only: no runtime runs it (it was read with a border past the map)
                node,
                f"pads {_ints(attrs.get('pads'), [0, 0, 0, 0])} reach its kernel {list(k)}; expected each pad smaller "
                "than the kernel along its axis, as onnxruntime requires of a pool ('Pad should be smaller than "
                "kernel')",
            )
        return Window(
            kind,  # type: ignore[arg-type]
            k,
            (s[0], s[1]),
            padding,
            (d[0], d[1]),
            bool(attrs.get("ceil_mode", 0)),
            int(attrs.get("group", 1)),
        )

    def check_rank(self, node: Any, strides: list[int], dilations: list[int], pads: list[int] | None = None,
                   output_padding: list[int] | None = None) -> None:  # fmt: skip
        """A :class:`ConfigError` unless each attribute has one entry per kernel axis (two begin/end pads)."""
        for key, values, wanted in (("strides", strides, 2), ("dilations", dilations, 2), ("pads", pads, 4),
                                    ("output_padding", output_padding, 2)):  # fmt: skip
            if values is not None and len(values) != wanted:
                raise ConfigError(
                    f"{self.label}: node '{_node_name(node)}': expected {wanted} {key} for its 2-D kernel, got {values}"
                )

    def check_weight(self, node: Any, kind: str, kernel: tuple[int, int]) -> None:
        """A convolution whose ``kernel_shape`` is not its weight's spatial shape is not a valid model (ONNX's rule;
        no runtime runs it): refused, not profiled with the attribute's kernel."""
        name = node.input[1] if kind == "conv" and len(node.input) > 1 else ""
        value = self.constants.get(name) if name else None  # (a weight: its shape only, even when not loaded)
        weight = tuple(value.shape) if value is not None and hasattr(value, "shape") else self.shapes.get(name)
        if weight is not None and len(weight) == 4 and None not in weight[2:] and tuple(weight[2:]) != kernel:
            raise self.fail(
                node, f"kernel_shape {list(kernel)} differs from its weight's spatial shape {list(weight[2:])}"
            )
        if node.op_type == "Conv" and weight is not None and len(weight) == 4:
            self.check_groups(node, weight)

    def check_attribute_types(self, node: Any) -> None:
        """Each attribute of one of ONNX's own operators has the type the operator's schema at the model's opset
        declares (INT, INTS, FLOAT, STRING, ...), as onnx's checker requires; otherwise a :class:`ModelError`
        names it. Read as another type, a STRING pads "1111" was padding 49 and FLOATS strides 1.9 were stride 1.
        An attribute the schema does not declare (AveragePool's dilations at opset 17) or one given twice is
        refused too: it was read all the same, the last of two winning."""
        if node.domain not in ("", "ai.onnx"):
            return
        try:
            schema: Any = self.defs.get_schema(node.op_type, self.opset, "")  # (its stubs lack the enum's int)
        except self.defs.SchemaError:  # not an operator of that opset: the checks of the node speak of it
            return
        kinds = self.onnx.AttributeProto.AttributeType
        seen: set[str] = set()
        for attribute in node.attribute:
            if attribute.name in seen:
                raise self.fail(node, f"attribute '{attribute.name}' is given more than once")
            seen.add(attribute.name)
            declared = schema.attributes.get(attribute.name)
            if declared is None:
                raise self.fail(
                    node, f"attribute '{attribute.name}' is not declared by ONNX's {node.op_type} (opset {self.opset})"
                )
            if attribute.type != int(declared.type):
                given = (
                    "has no type" if attribute.type == kinds.UNDEFINED else f"is of type {kinds.Name(attribute.type)}"
                )
                raise self.fail(
                    node,
                    f"attribute '{attribute.name}' {given}; ONNX's {node.op_type} (opset {self.opset}) takes "
                    f"{kinds.Name(int(declared.type))}",
                )

    def check_input_types(self, node: Any) -> None:
        """Each input of one of ONNX's own operators whose element type is known is of a type the operator's
        schema at the model's opset takes for it (Resize's scales are float), else a :class:`ModelError` names it:
        STRING scales were read as numbers until they failed with a traceback (review round 42)."""
        if node.domain not in ("", "ai.onnx"):
            return
        try:
            schema: Any = self.defs.get_schema(node.op_type, self.opset, "")
        except self.defs.SchemaError:
            return
        formal = list(schema.inputs)
        names = self.onnx.TensorProto.DataType
        bound: dict[str, tuple[str, str, str]] = {}  # a type variable (T) -> the type, input and value that set it
        for k, name in enumerate(node.input):
            if not name or not formal or name not in self.types:
                continue
            parameter = formal[min(k, len(formal) - 1)]  # (a variadic input is the last one)
            where = f"input '{parameter.name}' ('{name}')"
            if self.types[name] not in names.values():
                raise self.fail(node, f"{where} has the element type {self.types[name]}, which ONNX does not define")
            given = names.Name(self.types[name]).lower()
            allowed = {t[len("tensor(") : -1] for t in parameter.types if t.startswith("tensor(")}
            if allowed and given not in allowed:
                taken = ", ".join(sorted(allowed)[:4]) + (", ..." if len(allowed) > 4 else "")
                raise self.fail(
                    node,
                    f"{where} is of type {given.upper()}; ONNX's {node.op_type} (opset {self.opset}) takes {taken}",
                )
            variable = parameter.type_str
            if variable.startswith("tensor(") or not allowed:
                continue  # a type of its own, not a variable that inputs share
            first = bound.setdefault(variable, (given, parameter.name, name))
            if first[0] != given:
                raise self.fail(
                    node,
                    f"{where} is of type {given.upper()}, but '{first[1]}' ('{first[2]}') is {first[0].upper()}; "
                    f"ONNX's {node.op_type} takes one type ({variable}) for both",
                )

    def check_groups(self, node: Any, weight: tuple[int | None, ...]) -> None:
        """ONNX's Conv takes an input of ``group`` x the weight's channels (W is M x C/group x kH x kW) and splits
        its M output channels into ``group`` groups (onnx.reference refuses the model otherwise; torch too)."""
        group = next((int(a.i) for a in node.attribute if a.name == "group"), 1)
        shown = "x".join("?" if d is None else str(d) for d in weight)
        if group < 1:
            raise self.fail(node, f"group must be a positive integer, got {group}")
        if weight[0] is not None and weight[0] % group:
            raise self.fail(
                node, f"group {group} does not divide the {weight[0]} output channels of its weight {shown}"
            )
        source = self.shapes.get(node.input[0])
        channels = source[1] if source is not None and len(source) == 4 else None
        if channels is not None and weight[1] is not None and channels != group * weight[1]:
            raise self.fail(
                node,
                f"group {group} with the weight {shown} expects an input of {group * weight[1]} channels, "
                f"got {channels}",
            )

    def transposed(self, node: Any, attrs: dict[str, Any], src: str) -> Layer:
        """ONNX's ConvTranspose: ``pads`` at the start and the end of each axis, ``output_padding`` added at the
        end, or the pads worked out from ``output_shape`` / ``auto_pad`` SAME_* as the ONNX specification says."""
        kernel: Any = attrs.get("kernel_shape") or (self.shapes.get(node.input[1]) or (None, None, None, None))[2:]
        if len(kernel) != 2 or any(v is None for v in kernel):
            raise self.fail(node, "the kernel shape is unknown")
        k = (int(kernel[0]), int(kernel[1]))
        s, d = _ints(attrs.get("strides"), [1, 1]), _ints(attrs.get("dilations"), [1, 1])
        p, op = _ints(attrs.get("pads"), [0, 0, 0, 0]), _ints(attrs.get("output_padding"), [0, 0])
        self.check_rank(node, s, d, p, op)
        problem = layer_problem(TransposedConv(k, (s[0], s[1]), (0, 0), (d[0], d[1])))
        if problem:
            raise self.fail(node, problem)
        for a in (0, 1):
            if not 0 <= op[a] < max(s[a], d[a]):
                raise self.fail(
                    node,
                    f"output_padding {op} must be non-negative and smaller than the stride {s} or the dilation "
                    f"{d} (ONNX's rule)",
                )
        auto = self.text(node, attrs, "auto_pad", "NOTSET")
        if auto not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
            raise self.fail(node, f"auto_pad {auto!r} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        shape = attrs.get("output_shape")
        if shape is not None or auto.startswith("SAME"):
            beyond = [op[a] + d[a] * (k[a] - 1) + 1 - s[a] for a in (0, 1)]  # full output + output_padding - n * s
            if shape is not None:
                n = self.spatial(src)
                if len(shape) != 2:
                    raise self.fail(node, f"expected 2 output_shape values for its 2-D kernel, got {list(shape)}")
                if n is None:
                    raise self.fail(node, "output_shape needs the input size; give the image size (--size)")
                total = [s[a] * n[a] + beyond[a] - int(shape[a]) for a in (0, 1)]
            else:
                total = beyond  # SAME_*: output_shape = input * stride
            if min(total) < 0:
                raise self.fail(
                    node,
                    f"output_shape {list(shape) if shape is not None else 'input * stride'} is larger than the "
                    "transposed convolution computes with output_padding; not supported",
                )
            first = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
            p = [first[0], first[1], total[0] - first[0], total[1] - first[1]]
        elif auto == "VALID":
            p = [0, 0, 0, 0]
        # the layer pads the start and grows the output at the end by its output_padding (cut when negative)
        extra = (op[0] + p[0] - p[2], op[1] + p[1] - p[3])
        return TransposedConv(k, (s[0], s[1]), (p[0], p[1]), (d[0], d[1]), extra)

    def resize(self, node: Any, attrs: dict[str, Any], src: str) -> Layer:
        def text(key: str, default: str) -> str:
            return self.text(node, attrs, key, default)

        mode = text("mode", "nearest")
        transform = text("coordinate_transformation_mode", "asymmetric" if node.op_type == "Upsample" else "half_pixel")
        rounding = text("nearest_mode", "floor" if node.op_type == "Upsample" else "round_prefer_floor")
        if mode == "nearest" and (
            (transform == "asymmetric" and rounding == "floor")
            or (
                transform in ("half_pixel", "pytorch_half_pixel")
                and rounding in ("round_prefer_floor", "round_prefer_ceil")
            )
        ):
            kind = "nearest"  # all read unit floor(j / scale) for integer scales
        elif mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel"):
            kind = "bilinear"
        else:
            raise self.fail(
                node,
                f"mode {mode} with coordinate_transformation_mode {transform} (nearest_mode {rounding}) is not "
                "supported; expected nearest (asymmetric/floor or half_pixel) or linear (half_pixel)",
            )
        rank = len(self.shapes.get(src) or ()) or 4
        if any(not -rank <= int(a) < rank for a in attrs.get("axes") or ()):  # modulo would make axis 7 the width
            raise self.fail(node, f"axes {[int(a) for a in attrs['axes']]} are not axes of a rank-{rank} input")
        scales = self.resize_scales(node, attrs)
        n_in, n_out = self.spatial(src), self.spatial(node.output[0])
        given = self.resize_pair(attrs, src, scales, 1) if scales is not None and len(scales) else None
        if given is not None:
            if any(not math.isfinite(v) or v != int(v) or v < 1 for v in given):
                raise self.fail(node, f"scales {[float(v) for v in given]} are not integer up-sampling factors")
            f, exact = (int(given[0]), int(given[1])), True
        else:  # the output size is given (sizes): a constant, or computed from another map's shape
            sizes = self.const(node.input[3]) if node.op_type == "Resize" and len(node.input) > 3 else None
            if sizes is not None and n_out is None and text("keep_aspect_ratio_policy", "stretch") == "stretch":
                pair = self.resize_pair(attrs, src, sizes, None)
                n_out = (int(pair[0]), int(pair[1])) if pair is not None and None not in pair else None
            if n_in is None or n_out is None:
                if self.reads_shapes(node.input[3] if len(node.input) > 3 else ""):
                    raise self.unknown_shapes(node, "its output size is computed from shapes")
                raise self.fail(node, "cannot tell the scale factor (no constant scales and no shapes)")
            f = (max(round(n_out[0] / n_in[0]), 1), max(round(n_out[1] / n_in[1]), 1))
            exact = n_out == (n_in[0] * f[0], n_in[1] * f[1])
            # a constant size is read at this input size and must be a multiple of it; a size taken from another
            # map (FPN) may be up to a factor short of it (the engine checks the units read, as for torch)
            if not exact and (sizes is not None or any(abs(n_out[a] - n_in[a] * f[a]) >= f[a] for a in (0, 1))):
                raise self.fail(
                    node, f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]}; expected an integer factor"
                )
            if not exact and (mode, transform, rounding) != ("nearest", "asymmetric", "floor"):
                raise self.fail(  # other modes read other units than j // factor at such a size
                    node,
                    f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]} in {mode} mode with "
                    f"coordinate_transformation_mode {transform}; expected an integer factor, or nearest with "
                    "asymmetric/floor (torch's nearest) for a size short of a multiple",
                )
        # output sizes read from another map's shape (FPN: interpolate to the lateral's size) -> size_like
        # (its height, its width), each read from its own axis: not one side given for both (a square input's)
        like = self.size_of(node.input[3], src) if node.op_type == "Resize" and len(node.input) > 3 else None
        fits = like is not None and like != self.values[src] and self.spatial_of_node(like) in (n_out, None)
        size_like = like if fits else None
        if size_like is None and not exact and n_in is not None and n_out is not None:
            raise self.fail(
                node,
                f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]}, the size of no other feature map; expected "
                "an integer factor",
            )
        return Upsample(f, kind, size_like)  # type: ignore[arg-type]

    def resize_scales(self, node: Any, attrs: dict[str, Any]) -> Any:
        """A Resize's or Upsample's constant ``scales`` (an attribute before opset 9, then an input), or None."""
        scales = attrs.get("scales")
        if scales is None:
            inputs = list(node.input)
            if node.op_type == "Upsample" or len(inputs) == 2:
                scales = self.const(inputs[1]) if len(inputs) > 1 else None
            elif len(inputs) > 2:
                scales = self.const(inputs[2])
        rank = getattr(scales, "ndim", 1)  # (an attribute is a list)
        if scales is not None and rank != 1:
            what = "a scalar" if rank == 0 else f"of shape {list(scales.shape)}"
            raise self.fail(node, f"scales are {what}; expected a list of one factor per axis")
        return scales if scales is not None and len(scales) else None

    def resize_pair(self, attrs: dict[str, Any], src: str, values: Any, fill: int | None) -> tuple[Any, Any] | None:
        """The (h, w) entries of a Resize's ``scales`` or ``sizes`` (one per axis, or one per ``axes`` entry);
        ``fill`` for a spatial axis the ``axes`` leave out, None when the list has the wrong length."""
        rank = len(self.shapes.get(src) or ()) or 4
        axes = attrs.get("axes")
        if axes is None:
            return (values[rank - 2], values[rank - 1]) if len(values) == rank else None
        if len(values) != len(axes):
            return None
        by_axis = {int(a) % rank: v for a, v in zip(axes, values, strict=True)}
        return by_axis.get(rank - 2, fill), by_axis.get(rank - 1, fill)

    def spatial_of_node(self, graph_name: str) -> Pair | None:
        for value, name in self.values.items():
            if name == graph_name:
                return self.spatial(value)
        return None

    def pad(self, node: Any, attrs: dict[str, Any], src: str) -> Layer:
        mode = self.text(node, attrs, "mode", "constant")
        modes = ("constant", "reflect", "edge", "wrap") if self.opset >= 19 else ("constant", "reflect", "edge")
        if mode not in modes:  # ONNX's modes at the model's opset; another text is not constant padding
            raise self.fail(node, f"mode {mode!r} is not one of {', '.join(modes)} (ONNX's Pad, opset {self.opset})")
        if mode in ("reflect", "wrap"):
            read = "mirrored" if mode == "reflect" else "from the other side"
            raise self.fail(
                node,
                f"pads in '{mode}' mode: border units read pixels of the image ({read}), not the zeros the profile "
                "models; expected constant or edge padding",
            )
        pads = attrs.get("pads")
        if pads is None:
            pads = self.known(node.input[1]) if len(node.input) > 1 else None  # computed from shapes: sized
        if pads is None and len(node.input) > 1 and self.reads_shapes(node.input[1]):
            raise self.unknown_shapes(node, "the pads are computed from shapes")
        if pads is None:
            raise self.fail(node, "the pads are not a constant")
        pads = [int(v) for v in pads]
        axes_value = self.const(node.input[3]) if len(node.input) > 3 else None
        rank = len(self.shapes.get(src) or ()) or len(pads) // 2
        axes = (
            [self.axis(node, int(a), rank) for a in axes_value]
            if axes_value is not None
            else list(range(len(pads) // 2))
        )
        per_axis = {axis: (pads[i], pads[i + len(axes)]) for i, axis in enumerate(axes)}
        if any(v != (0, 0) for axis, v in per_axis.items() if axis < rank - 2):
            raise self.fail(node, "pads a batch or channel axis; expected spatial padding only")
        top_bottom = per_axis.get(rank - 2, (0, 0))
        left_right = per_axis.get(rank - 1, (0, 0))
        return pad_layer((top_bottom, left_right))

    def reads_shapes(self, name: str) -> bool:
        """True when the value ``name`` (no feature map) is computed from some feature map's shape."""
        return bool(name) and bool(self.sources.get(name))

    def unknown_shapes(self, node: Any, what: str) -> ModelError:
        """The error for a node whose geometry needs shapes that are unknown: when the image input's size is
        symbolic, one that says how to give one (:data:`SYMBOLIC`)."""
        image = next((v for v, name in self.values.items() if name == INPUT), None)
        if image is not None and self.spatial(image) is None:
            return self.fail(node, f"{what}, {SYMBOLIC}, or export the model with a fixed input size")
        return self.fail(node, f"{what}, which shape inference does not give")

    def merge(self, kind: str, feats: list[str]) -> Merge:
        """A merge; ``align: union`` when an input comes after a nearest up-sampling (FPN's top-down add,
        PAN's concats: odd units sit half a cell off, as the fpn and pan neck configs say)."""
        if any(self.values[f] in self.after_nearest for f in feats):
            return Merge(kind, "union")  # type: ignore[arg-type]
        return Merge(kind)  # type: ignore[arg-type]

    def full_size(self, value: str, out: str) -> bool | None:
        """Whether ``value`` has the shape of the broadcast result ``out`` (its axes aligned from the last): a
        symbolic axis matches a symbolic one, and an axis of 1 where the result's is symbolic or larger is
        broadcast (a squeeze-excitation gate of 1x1 over a map of symbolic size). None when the shapes do not
        tell (one unknown, or a known axis against a symbolic one other than 1)."""
        shape, result = self.shapes.get(value), self.shapes.get(out)
        if shape is None or result is None or len(shape) > len(result):
            return None
        aligned = (1,) * (len(result) - len(shape)) + tuple(shape)
        if any(d == 1 and r != 1 for d, r in zip(aligned, result, strict=True)):
            return False
        if all(d == r for d, r in zip(aligned, result, strict=True)):
            return True
        return None

    def binary(self, node: Any, feats: list[str]) -> Layer | str:
        if len(feats) == 1:
            return Passthrough(node.op_type.lower()) if node.op_type != "Sum" else feats[0]
        sizes = [self.full_size(f, node.output[0]) for f in feats]
        if None in sizes:
            gates = [f for f in feats if self.values[f] in self.pooled]
            if gates and len(gates) < len(feats):  # never a merge with a whole-image value by default
                raise self.unknown_shapes(
                    node,
                    f"the shapes do not tell whether '{gates[0]}', computed from a global pool, is broadcast over the "
                    "map (a squeeze-excitation gate, left out) or merged with it",
                )
            return self.merge("add", feats)
        full = [f for f, is_full in zip(feats, sizes, strict=True) if is_full]
        if len(full) == len(feats):
            return self.merge("add", feats)
        if len(full) == 1:
            self.check_gates(node, full[0], feats)
            return full[0]  # a broadcast gate or scale: follow the full-size operand
        raise self.fail(node, "inputs are broadcast against each other; expected at most one full-size feature map")

    def check_gates(self, node: Any, full: str, feats: list[str]) -> None:
        """Refuse a broadcast operand computed from the image that holds one value per row or per column (a
        statistic of whole rows or columns, such as a softmax written out with ReduceMax and ReduceSum along W):
        each unit would read its whole row or column. Gates constant over the map (global pools) pass. The rows
        and columns of a rearranged value (a channels-last tensor) are where its layout says."""
        shape = self.shapes.get(full)
        layout = self.layouts.get(full) if full in self.opaque else None
        if shape is None or (layout is None and (len(shape) != 4 or full in self.opaque)):
            return
        if layout is not None and len(layout) != len(shape):
            return
        sides = {2: "H", 3: "W"} if layout is None else {
            a: "W" if any(atom.axis == "W" for atom in layout[a]) else "H"
            for a in range(len(shape)) if spatial_in(layout, a)
        }  # fmt: skip
        for f in feats:
            gate = self.shapes.get(f)
            if f == full or gate is None or len(gate) > len(shape) or (f in self.opaque and layout is None):
                continue
            gate = (1,) * (len(shape) - len(gate)) + gate
            along = [a for a in sides if gate[a] == 1 and shape[a] != 1]
            if not along or len(along) == len(sides):
                continue  # full-size, or constant over the map
            per = "row" if sides[along[0]] == "W" else "column"
            sizes, over = "", "the map"
            if layout is None:
                h, w = gate[2:]
                sizes = " (" + "x".join("?" if d is None else str(d) for d in (w, h)) + ", WxH)"
                over = "the " + "x".join("?" if d is None else str(d) for d in (shape[3], shape[2])) + " map"
            raise self.fail(
                node,
                f"reads '{f}'{sizes}, one value per {per} broadcast over {over}: a "
                f"statistic of whole {per}s (each unit reads its whole {per}); expected a full-size map or a gate "
                "constant over the map (a global pool), or declare the node pass-through to leave that out "
                f"(--passthrough {_node_name(node)})",
            )

    def check_statistics(self, node: Any, attrs: dict[str, Any], src: str) -> None:
        """Refuse LpNormalization, MeanVarianceNormalization or LayerNormalization over axes that hold some of the
        rows and columns but not all (along W: each unit reads a statistic of its whole row). Over channels it
        keeps the geometry; over the whole map it is a statistic left out, as a group or instance norm is."""
        layout = self.layout_of(src)
        if layout is None and src in self.opaque:
            return  # no feature map: any geometry read from it is refused anyway
        op = node.op_type
        if op == "MeanVarianceNormalization":
            written: list[int] = _ints(attrs.get("axes"), [0, 2, 3])
            what = f"axes {written}, which hold"
        else:
            written = [int(attrs.get("axis", -1))]
            what = f"axis {written[0]}" + (
                " and those after it, which hold" if op == "LayerNormalization" else ", which holds"
            )
        hint = "expected the channel axis, or declare the node pass-through to leave that out"
        hint += f" (--passthrough {_node_name(node)})"
        if layout is None:
            raise self.fail(node, f"normalises over {what.split(',')[0]} of a value of unknown shape; {hint}")
        rank = len(layout)
        checked = [self.axis(node, a, rank) for a in written]
        axes = set(range(checked[0], rank)) if op == "LayerNormalization" else set(checked)
        spatial = [(k, atom) for k, dim in enumerate(layout) for atom in dim if atom.axis in ("H", "W")]
        over = [atom for k, atom in spatial if k in axes]
        if over and len(over) < len(spatial):
            raise self.fail(
                node,
                f"normalises over {what} rows or columns but not the whole map (each unit reads a "
                f"statistic of its whole row or column); {hint}",
            )

    def check_softmax(self, node: Any, attrs: dict[str, Any], src: str) -> None:
        """Refuse a Softmax or LogSoftmax over rows or columns (each unit would read all of them). Opset 13 on:
        along ``axis`` (default -1, W); before: over the axes from ``axis`` (default 1) on, the input read as 2-D."""
        layout = self.layout_of(src)
        if layout is None and src in self.opaque:
            return  # no feature map (a vector of a head): any geometry read from it is refused anyway
        since13 = self.opset >= 13
        axis = int(attrs.get("axis", -1 if since13 else 1))
        hint = "expected the channel axis, or declare the node pass-through to leave that out"
        hint += f" (--passthrough {_node_name(node)})"
        if layout is None:
            raise self.fail(node, f"normalises along axis {axis} of a value of unknown shape; {hint}")
        rank = len(layout)
        first = self.axis(node, axis, rank)
        axes = [first] if since13 else list(range(first, rank))
        if not any(spatial_in(layout, a) for a in axes):
            return
        if since13:
            raise self.fail(node, f"normalises along spatial axis {axis} (each unit reads the whole axis); {hint}")
        over = f"axis {first}" if first == rank - 1 else f"axes {first} to {rank - 1} at once"
        raise self.fail(
            node,
            f"normalises over {over} (opset {self.opset} reads the input as 2-D at axis {axis}), rows or columns "
            f"among them (each unit reads all of them); {hint}",
        )

    # -- one node ----------------------------------------------------------------------------------------
    def visit(self, node: Any) -> None:
        """Import one node; a node that cannot be modelled becomes a placeholder that is an error only if
        some tap depends on it (a classifier head never blocks an import)."""
        try:
            self.visit_op(node)
        except ModelError as exc:
            feats = [i for i in node_inputs(node) if self.values.get(i) is not None]
            refs = [i for i in feats if self.values[i] is not None]
            layer = Merge("add", "union") if len(refs) > 1 else Passthrough("refused")
            self.emit(node, layer, refs)
            self.refused[str(self.values[node.output[0]])] = str(exc)
            for extra in node.output[1:]:
                self.values[extra] = self.values[node.output[0]]

    def visit_op(self, node: Any) -> None:
        op = node.op_type
        if not (node.name in self.passthrough or op in self.passthrough):
            self.check_attribute_types(node)
            self.check_input_types(node)
        for attribute in node.attribute:  # a reference to an attribute of the function a node is in (none here)
            if attribute.ref_attr_name:
                raise self.fail(
                    node,
                    f"attribute '{attribute.name}' refers to '{attribute.ref_attr_name}' (ref_attr_name), which only "
                    "a node inside a function body may do",
                )
        attrs = {a.name: self.helper.get_attribute_value(a) for a in node.attribute}
        reads = node_inputs(node)
        feats = [i for i in reads if self.values.get(i) is not None]
        if op == "Constant" and "value" in attrs:
            self.constants[node.output[0]] = self.numpy_helper.to_array(attrs["value"])
        elif not feats:
            self.fold(node)
        elif op in SHAPE_OPS:
            self.fold_shape(node, attrs, feats[0])
        if not feats or op in SHAPE_OPS:
            found = frozenset(v for v in (self.values.get(i) for i in feats) if v is not None)
            for out in node.output:
                self.values[out] = None
                self.sources[out] = found.union(*(self.sources.get(i, frozenset()) for i in reads))
            return
        src = feats[0]
        layer: Layer | str
        declared = node.name in self.passthrough or (op in self.passthrough and op not in PASS_OPS)
        before, after = self.spatial(src), self.spatial(node.output[0])
        if declared and before is not None and after is not None and before != after:  # (shapes known: inferred)
            raise self.fail(
                node,
                f"its value is {after[1]}x{after[0]} (WxH) but it reads a {before[1]}x{before[0]} map: declared "
                "pass-through, which keeps the size; expected an op that keeps the geometry",
            )
        if not declared and node.domain not in ("", "ai.onnx") and self.defs.has(op):  # not ONNX's own op
            raise ModelError(
                f"{self.where(node)}: operator '{op}' of domain '{node.domain}' is not ONNX's own {op}; declare it "
                f"pass-through if it keeps the geometry (--passthrough {_node_name(node)})"
            )
        inner = subgraphs(node)
        if not declared and inner:
            runs = ", ".join(dict.fromkeys(f"'{a}'" for a, _ in inner))
            read = ", ".join(f"'{f}'" + ("" if f in node.input else " (in a subgraph)") for f in feats)
            raise self.fail(node, f"runs subgraphs ({runs}) and reads {read}; control flow is not modelled")
        if not declared and op in ("Softmax", "LogSoftmax"):
            self.check_softmax(node, attrs, src)
        if not declared and op in STATISTICS:
            self.check_statistics(node, attrs, src)
        if not declared and op in LAYOUT_OPS:
            self.layout_op(node, attrs, src)
            return
        if not declared and op in LINEAR_OPS and len(feats) == 1 and node.input[0] == src:
            self.linear(node, attrs, src)
            return
        if not declared and (self.channel_pieces(node, attrs, src) or self.channel_reduction(node, attrs, src)):
            return
        if not declared and op not in PASS_OPS:  # a geometry op or a merge reads its inputs as feature maps
            for f in feats:
                if f in self.opaque:
                    self.read_back(f)
        pending = [f for f in feats if f in self.opaque]
        if pending:
            self.read_pending(node, feats, pending, declared)
            return
        if declared:
            layer = Passthrough(op.lower())
        elif op == "Conv":
            layer = self.window(node, attrs, "conv", src)
        elif op in ("MaxPool", "AveragePool", "LpPool"):
            layer = self.window(node, attrs, "maxpool" if op == "MaxPool" else "avgpool", src)
        elif op == "ConvTranspose":
            layer = self.transposed(node, attrs, src)
        elif op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
            layer = GlobalPool("max" if op == "GlobalMaxPool" else "avg")
        elif op in REDUCE_OPS:
            rank = len(self.shapes.get(src) or ()) or 4
            axes = self.reduce_axes(node, attrs, rank)
            spatial = set(axes) & {rank - 2, rank - 1}
            if spatial == {rank - 2, rank - 1}:
                layer = GlobalPool("max" if op in ("ReduceMax", "ReduceMin") else "avg")
            elif not spatial:
                layer = Passthrough(op.lower())
            else:
                line = "column" if rank - 2 in spatial else "row"  # over H, a unit reads its whole column
                raise self.fail(
                    node,
                    f"reduces along spatial axis {min(spatial)} only (each unit of the result reads its whole "
                    f"{line}); expected H and W together (a global pool) or neither",
                )
        elif op in ("Resize", "Upsample"):
            layer = self.resize(node, attrs, src)
        elif op in ("SpaceToDepth", "DepthToSpace"):
            b = int(attrs.get("blocksize", 1))
            layer = Window("avgpool", (b, b), (b, b)) if op == "SpaceToDepth" else Upsample((b, b), "nearest")
        elif op == "Pad":
            self.emit(node, self.pad(node, attrs, src), [src], pad=True)
            if len(node.input) > 1 and node.input[1] in self.derived and "pads" not in attrs:
                name = str(self.values[node.output[0]])
                self.sized[name] = "(Pad) has pads computed from the input's shape"
            return
        elif op in BINARY:
            layer = self.binary(node, feats)
        elif op == "Concat":
            rank = len(self.shapes.get(src) or ())
            axis = int(attrs.get("axis", 1))
            if rank and self.axis(node, axis, rank) in (2, 3) and rank == 4:
                raise self.fail(node, f"concatenates along spatial axis {axis}; expected the channel axis")
            layer = self.merge("concat", feats) if len(feats) > 1 else src
        elif op == "Split" and self.axis(node, int(attrs.get("axis", 0)), len(self.shapes.get(src) or ()) or 4) in (
            2,
            3,
        ):
            raise self.fail(node, f"splits along spatial axis {int(attrs.get('axis', 0))}; expected the channel axis")
        elif op == "Split" or (op == "Slice" and self.slices_channels_only(node, attrs)):
            for out in node.output:
                self.values[out] = self.values[src]
                self.aliases[out] = str(self.values[src])
            return
        elif op in PASS_OPS:
            layer = Passthrough(op.lower())
        else:
            raise ModelError(
                f"{self.where(node)}: unknown operator type '{op}'; declare it pass-through if it keeps the "
                f"geometry (--passthrough {op}, or the node name)"
            )
        problem = None if isinstance(layer, str) else layer_problem(layer)
        if problem:
            raise self.fail(node, problem)
        if isinstance(layer, Window | TransposedConv) and op in ("Conv", "ConvTranspose"):
            self.check_weight(node, "conv", layer.kernel)  # after the checks that name the attribute at fault
        if isinstance(layer, str):
            forwarded = self.values[layer]
            self.values[node.output[0]] = forwarded
            self.aliases[node.output[0]] = str(forwarded)
        else:
            self.emit(node, layer, feats if isinstance(layer, Merge) else [src])
            if isinstance(layer, Upsample) and layer.size_like is None and op in ("Resize", "Upsample"):
                scales = self.resize_scales(node, attrs)
                if scales is None or self.resize_pair(attrs, src, scales, 1) is None:
                    name = str(self.values[node.output[0]])
                    self.sized[name] = f"({op}) up-samples to a size, its factor read from the sizes at that input"
        for extra in node.output[1:]:  # indices of MaxPool, mask of Dropout, running stats ...
            self.values[extra] = None

    # -- layouts -----------------------------------------------------------------------------------------
    def known_shape(self, name: str) -> tuple[int, ...] | None:
        """The shape of a value with a symbolic batch taken as 1; None when another axis is unknown."""
        shape = self.shapes.get(name)
        if shape is None or any(d is None for d in shape[1:]):
            return None
        return tuple(1 if d is None else int(d) for d in shape)

    def layout_of(self, src: str) -> Layout | None:
        if src in self.opaque:
            return self.layouts.get(src)
        return canonical(self.known_shape(src) or ())

    def set_pending(self, node: Any, src: str, layout: Layout | None, why: str, origin: str) -> None:
        """The value of ``node`` is the data of ``src``'s node rearranged (``layout``) or no feature map."""
        out = node.output[0]
        self.values[out] = self.values[src]
        if layout is not None:
            self.layouts[out] = layout
        self.opaque[out] = why
        self.origin[out] = origin
        self.producers[out] = node
        self.aliases.pop(out, None)
        self.unmapped[out] = f"'{origin}' {why}"
        self.pending_keys[out] = out

    def carry(self, node: Any, src: str) -> None:
        """``node`` keeps the geometry and the layout of ``src`` (an element-wise op on a rearranged value)."""
        out = node.output[0]
        if src in self.opaque:
            self.set_pending(node, src, self.layouts.get(src), self.opaque[src], self.origin[src])
        else:
            self.values[out] = self.values[src]
            self.aliases[out] = str(self.values[src])

    def layout_op(self, node: Any, attrs: dict[str, Any], src: str) -> None:
        layout, shape = self.layout_of(src), self.known_shape(src)
        out = self.known_shape(node.output[0])
        where = node.name or node.output[0]
        result: Layout | None = None
        if layout is not None and (shape is not None or node.op_type == "Transpose"):  # a permute needs no shape
            if node.op_type == "Transpose":
                perm = attrs.get("perm")
                order = tuple(int(p) for p in perm) if perm is not None else tuple(reversed(range(len(layout))))
                result = permute(layout, order) if sorted(order) == list(range(len(layout))) else None
            elif node.op_type == "Flatten" and shape is not None:
                axis = self.axis(node, int(attrs.get("axis", 1)), len(shape), extra=1)
                result = reshape(layout, (math.prod(shape[:axis]), math.prod(shape[axis:])))
            elif out is not None and shape is not None:
                result = reshape(layout, out)
        if result is None:
            if src in self.opaque and src not in self.layouts:  # already no feature map: say what made it so
                self.set_pending(node, src, None, self.opaque[src], self.origin[src])
            else:
                self.set_pending(node, src, None, "rearranges the axes in a way that cannot be followed", where)
            return
        found = as_feature_map(result)
        if found == ((1, 1), (1, 1)):
            self.carry_canonical(node, src)
            return
        origin = self.origin.get(src, where) if src in self.layouts else where
        why = f"rearranges the axes ({found})" if isinstance(found, str) else "rearranges the axes"
        self.set_pending(node, src, result, why, origin)  # read as a feature map only when one is needed

    def read_back(self, value: str) -> bool:
        """Read a rearranged value as a feature map if it is one (a window for a space-to-depth, nearest
        up-sampling for a depth-to-space); True when it now is an (N, C, H, W) map."""
        layout = self.layouts.get(value) if value in self.opaque else None
        found = as_feature_map(layout) if layout is not None else "no layout"
        if isinstance(found, str):
            return False
        node = self.producers[value]
        why = self.block_depends_on_size(value, found)
        for table in (self.opaque, self.layouts, self.origin):
            table.pop(value, None)
        (sy, ry), (sx, rx) = found
        if (sy, sx) != (1, 1):
            self.emit(node, Window("avgpool", (sy, sx), (sy, sx)), [value])
            if why is not None:
                self.sized[str(self.values[value])] = why
        if (ry, rx) != (1, 1):
            self.emit(node, Upsample((ry, rx), "nearest"), [value])
            if why is not None:
                self.sized[str(self.values[value])] = why
        for key in [k for k, v in self.pending_keys.items() if v == value]:
            self.aliases[key] = str(self.values[value])
            self.unmapped.pop(key, None)
            self.pending_keys.pop(key)
        return True

    def block_depends_on_size(self, value: str, found: tuple[tuple[int, int], tuple[int, int]]) -> str | None:
        """Why the reading ``found`` of the rearranged ``value`` holds at the input size only, or None when it
        holds at any size (or the model takes no other size). Shapes at one size cannot tell a block of fixed
        size (a space-to-depth by 2 or 4) from one read from the size (a Reshape to ``(n, c, 2, -1, w)`` stacks
        the two halves of the map: a block of half its height): the shapes inferred at a second size must be
        those the reading gives for the source map there."""
        if self.rerun is not None and not self.reran:
            self.reran = True
            self.second = self.rerun()
        if self.second is None:
            return None
        src = self.values[value]
        source_value = next((k for k, v in self.values.items() if v == src and k not in self.opaque), None)
        before = self.known_shape(value)
        source, after = self.second.get(source_value or ""), self.second.get(value)
        known = before is not None and source is not None and after is not None and len(source) == 4
        if known and before[1] is not None and fits_at(found, before[1], (source[2], source[3]), after[1:]):  # type: ignore[index]
            return None
        return size_bound_reason(found)

    def carry_canonical(self, node: Any, src: str) -> None:
        out = node.output[0]
        self.values[out] = self.values[src]
        self.aliases[out] = str(self.values[src])

    def linear(self, node: Any, attrs: dict[str, Any], src: str) -> None:
        """A product with a constant matrix: maps the last axis (channels: geometry kept)."""
        layout, out = self.layout_of(src), self.known_shape(node.output[0])
        where = node.name or node.output[0]
        if layout is None or out is None or not layout or spatial_in(layout, len(layout) - 1) or attrs.get("transA"):
            why = "mixes spatial positions (a product over rows or columns)"
            self.set_pending(node, src, None, self.opaque.get(src, why) if layout is None else why, where)
            return
        new = replace_last(layout, out[-1])
        if as_feature_map(new) == ((1, 1), (1, 1)):
            self.emit(node, Passthrough(node.op_type.lower()), [src])
        else:
            origin = self.origin.get(src, where)
            self.set_pending(node, src, new, self.opaque.get(src, "rearranges the axes"), origin)

    def read_pending(self, node: Any, feats: list[str], pending: list[str], declared: bool) -> None:
        """A node reading a rearranged value: element-wise ops and merges of equal layouts keep it; anything
        else cannot read geometry from it."""
        op = node.op_type
        if declared or op in PASS_OPS:
            self.carry(node, feats[0])
            return
        if op in BINARY:
            layer = self.binary(node, feats)
            if isinstance(layer, str):
                self.carry(node, layer)
                return
            if isinstance(layer, Passthrough):
                self.carry(node, feats[0])
                return
            if all(f in self.layouts and self.layouts[f] == self.layouts[feats[0]] for f in feats):
                self.emit(node, layer, feats)
                first = pending[0]
                out = node.output[0]
                self.layouts[out], self.opaque[out], self.origin[out] = (
                    self.layouts[first],
                    self.opaque[first],
                    self.origin[first],
                )
                self.aliases.pop(out, None)
                return
        first = pending[0]
        raise self.fail(
            node,
            f"reads '{first}', which is not an (N, C, H, W) feature map: '{self.origin[first]}' "
            f"{self.opaque[first]}; its geometry cannot be read",
        )

    def fold(self, node: Any) -> None:
        """Evaluate a node whose inputs are all constants (pads, scales and sizes computed in the graph), or
        constants and values computed from shapes (:meth:`fold_shape`; its outputs are then such values too)."""
        inputs = [i for i in node.input if i]
        if any(i not in self.constants and i not in self.derived for i in inputs) or node.domain not in ("", "ai.onnx"):
            return
        if any(i in self.derived for i in inputs) and node.op_type not in SHAPE_ARITHMETIC:
            return  # a tensor the size of a map (Expand) is never worth computing
        import numpy as np
        from onnx.reference import ReferenceEvaluator

        known = {i: self.constants[i] if i in self.constants else self.derived[i] for i in inputs}
        bound = result_bound(node, list(known.values()))
        largest = max((int(np.size(value)) for value in known.values()), default=0)
        if node.op_type == "ConstantOfShape" and (bound is None or bound > 64):
            return  # ... nor a ConstantOfShape that is no small vector
        if bound is not None and bound > max(PIECE_BOUND, largest):
            return  # nor a result far larger than its inputs (a Sum broadcasting short vectors, an Expand, a Tile)
        try:
            results = ReferenceEvaluator(node).run(None, known)
        except Exception:
            return  # not foldable: its outputs stay unknown
        into = self.derived if any(i in self.derived for i in inputs) else self.constants
        for name, value in zip(node.output, results, strict=False):
            into[name] = value
        moved = MOVES.get(node.op_type)
        if into is self.derived and moved is not None and any(i in self.sides for i in inputs):
            import numpy as np

            data = [i for k, i in enumerate(node.input) if i and (moved == 0 or k < moved)]
            codes = {i: self.sides[i] if i in self.sides else np.zeros_like(known[i], np.int64) for i in data}
            try:
                moved_codes: Any = ReferenceEvaluator(node).run(None, {**known, **codes})
            except Exception:
                return
            self.sides[node.output[0]] = np.asarray(moved_codes[0]).astype(np.int64)

    def fold_shape(self, node: Any, attrs: dict[str, Any], src: str) -> None:
        """The value of ``Shape`` (``start``, ``end``) or ``Size`` of a feature map whose shape inference knows
        the dimensions asked for. Kept apart from the constants: only axes are read from it, as the same graph
        is profiled at other input sizes."""
        import numpy as np

        shape = self.shapes.get(src)
        if shape is None:
            return
        if node.op_type == "Size":
            dims: tuple[int | None, ...] = (None,) if None in shape else (math.prod(int(d or 0) for d in shape),)
            value = np.array(dims[0] if dims[0] is not None else 0, dtype=np.int64)
        else:
            start, end = attrs.get("start", 0), attrs.get("end")
            dims = shape[slice(int(start), None if end is None else int(end))]
            value = np.array([d or 0 for d in dims], dtype=np.int64)
        if None not in dims:
            self.derived[node.output[0]] = value
        rank, name = len(shape), self.values.get(src)
        if node.op_type == "Shape" and name is not None and src not in self.opaque and rank >= 2:
            axes = list(range(rank))[
                slice(int(attrs.get("start", 0)), None if attrs.get("end") is None else int(attrs["end"]))
            ]
            codes = []
            for a in axes:
                side = (name, a - (rank - 2))
                if a < rank - 2:
                    codes.append(0)
                    continue
                if side not in self.side_codes:
                    self.side_codes.append(side)
                codes.append(self.side_codes.index(side) + 1)
            self.sides[node.output[0]] = np.array(codes, dtype=np.int64)

    def size_of(self, name: str, src: str) -> str | None:
        """The graph node whose own (height, width) the last two items of the value ``name`` are (an up-sampling's
        ``sizes``: each read from its own axis, so it follows that map at every size), else None: one side given
        for both axes, the sides swapped, a size computed from them."""
        codes = self.sides.get(name)
        if codes is None or codes.ndim != 1 or len(codes) < 2 or 0 in codes[-2:]:
            return None
        (h_map, h_axis), (w_map, w_axis) = (self.side_codes[int(c) - 1] for c in codes[-2:])
        return h_map if h_map == w_map and (h_axis, w_axis) == (0, 1) else None

    def known(self, name: str) -> Any | None:
        """A constant, or a value computed from constants and known shapes."""
        self.check_loaded(name)
        return self.constants.get(name, self.derived.get(name)) if name else None

    def reduce_axes(self, node: Any, attrs: dict[str, Any], rank: int) -> list[int]:
        """The axes a Reduce* node reduces, as the ONNX schema of the model's opset says: an ``axes`` attribute
        (default: all axes) before the opset that made it an input (ReduceSum 13, the others 18); then the input,
        whose absence or emptiness means all axes, or none (the identity) under ``noop_with_empty_axes``. Axes
        that are neither constant nor computed from constants and shapes are refused."""
        try:
            as_input = any(i.name == "axes" for i in self.defs.get_schema(node.op_type, self.opset, "").inputs)
        except Exception:  # an opset older than the operator: read it as the model writes it
            as_input = "axes" not in attrs
        if not as_input:
            axes = attrs.get("axes")
            return sorted({self.axis(node, int(a), rank) for a in axes}) if axes else list(range(rank))
        name = node.input[1] if len(node.input) > 1 else ""
        value = self.known(name)
        if name and value is None:
            raise self.fail(
                node,
                f"its axes ('{name}') are neither a constant nor computed from constants and shapes; expected "
                "constant axes",
            )
        axes = [] if value is None else [int(a) for a in value.reshape(-1)]
        if not axes:
            return [] if int(attrs.get("noop_with_empty_axes", 0)) else list(range(rank))
        return sorted({self.axis(node, a, rank) for a in axes})

    def slices_channels_only(self, node: Any, attrs: dict[str, Any]) -> bool:
        """True for a Slice whose axes hold no rows or columns; ``axes`` left out mean ONNX's default, the
        first ``len(starts)`` axes (attributes before opset 10, inputs since)."""
        rank = len(self.shapes.get(node.input[0]) or ()) or 4
        if self.opset < 10:
            starts, axes = attrs.get("starts"), attrs.get("axes")
        else:
            starts = self.known(node.input[1]) if len(node.input) > 1 else None
            if starts is None and len(node.input) > 1:
                length = self.shapes.get(node.input[1])
                starts = range(length[0]) if length is not None and len(length) == 1 and length[0] else None
            given = node.input[3] if len(node.input) > 3 else ""
            axes = self.known(given) if given else None
            if given and axes is None:
                raise self.fail(node, "slices without constant axes; expected slicing along channels only")
            steps = self.known(node.input[4]) if len(node.input) > 4 and node.input[4] else None
            if steps is not None and not steps.all():
                raise self.fail(node, "has a step of 0 (ONNX Slice steps must be non-zero)")
        if axes is None:
            if starts is None:
                raise self.fail(node, "slices axes that are unknown (no constant axes or starts); expected slicing "
                                "along channels only")  # fmt: skip
            axes = range(len(starts))
        layout = self.layouts.get(node.input[0]) if node.input[0] in self.opaque else None
        if layout is not None and len(layout) == rank:  # a rearranged value: its layout says which axes hold what
            spatial = any(spatial_in(layout, self.axis(node, int(a), rank)) for a in axes)
        else:
            spatial = any(self.axis(node, int(a), rank) >= rank - 2 for a in axes)
        if spatial:
            raise self.fail(node, "slices a spatial axis; expected slicing along channels only")
        return True

    def channel_reduction(self, node: Any, attrs: dict[str, Any], src: str) -> bool:
        """A Reduce* over a rearranged value: along axes that hold channels only it keeps the layout (those axes
        emptied, or dropped without ``keepdims``); along rows or columns it is refused. True when done."""
        layout = self.layouts.get(src) if src in self.opaque else None
        if layout is None or node.op_type not in REDUCE_OPS:
            return False
        axes = self.reduce_axes(node, attrs, len(layout))
        spatial = [a for a in axes if spatial_in(layout, a)]
        if spatial:
            raise self.fail(
                node,
                f"reduces along spatial axis {spatial[0]} of a rearranged value (each unit of the result reads "
                "its whole row or column, or more); expected channels only",
            )
        if not int(attrs.get("keepdims", 1)):
            layout = tuple(dim for k, dim in enumerate(layout) if k not in axes)
        shape = self.known_shape(node.output[0])
        fitted = fit_channels(layout, shape) if shape is not None else None
        self.set_pending(node, src, fitted or layout, self.opaque[src], self.origin[src])
        return True

    def channel_pieces(self, node: Any, attrs: dict[str, Any], src: str) -> bool:
        """A Split or Slice of a rearranged value along axes that hold channels only (the last axis of a
        channels-last (N, H, W, C) tensor): each piece keeps the layout, its channel axis resized; True when
        done. False for another op or a value of unknown layout (then read as a feature map)."""
        layout = self.layouts.get(src) if src in self.opaque else None
        if layout is None or node.op_type not in ("Split", "Slice"):
            return False
        if node.op_type == "Split":
            axis = int(attrs.get("axis", 0))
            if spatial_in(layout, self.axis(node, axis, len(layout))):
                raise self.fail(node, f"splits along spatial axis {axis}; expected the channel axis")
        else:
            self.slices_channels_only(node, attrs)
        for out in filter(None, node.output):
            shape = self.known_shape(out)
            fitted = fit_channels(layout, shape) if shape is not None else None
            self.values[out] = self.values[src]
            self.layouts[out] = fitted or layout  # (the channel count only is unknown without a shape)
            self.opaque[out], self.origin[out], self.producers[out] = self.opaque[src], self.origin[src], node
            self.aliases.pop(out, None)
            self.unmapped[out] = f"'{self.origin[src]}' {self.opaque[src]}"
            self.pending_keys[out] = out
        return True

    def refusal_behind(self, name: str) -> str | None:
        """The refusal of the first refused node (in graph order) that node ``name`` depends on, if any."""
        by_name = {n.name: n for n in self.nodes}
        seen, stack = set(), [name]
        while stack:
            current = stack.pop()
            if current in seen or current not in by_name:
                continue
            seen.add(current)
            stack.extend(by_name[current].inputs)
        refused = [n.name for n in self.nodes if n.name in seen and n.name in self.refused]
        return self.refused[refused[0]] if refused else None

    def check_blocked(self, taps: list[tuple[str, str]]) -> None:
        """A :class:`ModelError` when the default stage taps ``taps`` stop before a refused node that later
        feature maps depend on: profiling the stages before it alone would leave the later ones out without a
        word. A map is a value in (N, C, H, W) layout whose shape is 4-D and more than 1x1 (or unknown, as
        after an unknown operator); token sequences and vectors are none."""
        maps = set()
        for value, name in self.values.items():
            shape = self.shapes.get(value)
            if name is None or value in self.opaque:
                continue
            if shape is None or (len(shape) == 4 and (shape[2], shape[3]) != (1, 1)):
                maps.add(name)
        later = blocked_maps(self.nodes, set(self.refused), maps, set())
        if not later:
            return
        refusal = self.refusal_behind(later[-1])
        assert refusal is not None
        raise blocked_error(refusal, later, taps, "no graph output is a feature map")

    def why_no_map(self, outputs: list[str]) -> str:
        """Why none of the graph ``outputs`` is a feature map: the refusal an output depends on, else what made
        the first output no feature map."""
        for out in outputs:
            name = self.values.get(out)
            refused = self.refusal_behind(name) if name is not None else None
            if refused is not None:
                return refused
        for out in outputs:
            if out in self.opaque:
                why = f"output '{out}': '{self.origin[out]}' {self.opaque[out]}"
                return f"{self.label}: no graph output is a feature map ({why}); {NAME_TAPS}"
        return f"{self.label}: no graph output is a feature map; {NAME_TAPS}"


def tap_values(graph: Any, requested: list[tuple[str, str]], label: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``--taps`` names as ONNX value names, and notes: a value name names that value (values are unique, so
    every map has a name no node can take), else a node name its node's first output. A name that is no value's
    and that two nodes bear is a :class:`ModelError` naming both; a value name that another node bears is read
    as the value, and a note says so."""
    initializers = {i.name for i in graph.initializer}
    values = {i.name for i in graph.input if i.name not in initializers} | {o for n in graph.node for o in n.output}
    by_name: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.name and node.output:
            by_name.setdefault(node.name, []).append(node)
    out, notes = [], []
    for tap, name in requested:
        nodes = [n for n in by_name.get(name, []) if n.output[0] != name]
        if name in values:
            if nodes:
                writer = next(n for n in graph.node if name in n.output)
                others = ", ".join(f"node '{n.name}' ({n.op_type}) writes '{n.output[0]}'" for n in nodes)
                notes.append(
                    f"tap '{tap}' is the value '{name}' (written by node '{_node_name(writer)}' ({writer.op_type})); "
                    f"{others}: a value name comes before a node name"
                )
            out.append((tap, name))
        elif len(nodes) > 1:
            both = " and ".join(f"node '{name}' ({n.op_type}) writing '{n.output[0]}'" for n in nodes)
            label_of = "" if tap == name else f"{tap}="
            choices = " or ".join(f"--taps {label_of}{n.output[0]}" for n in nodes)
            raise ModelError(
                f"{label}: tap '{tap}': '{name}' names {len(nodes)} nodes ({both}); give the value name of the "
                f"one meant ({choices})"
            )
        else:
            out.append((tap, nodes[0].output[0] if nodes else name))
    return out, notes


def load_onnx(path: str | Path, input_size: Pair | None = None) -> Any:
    """The ONNX model at ``path`` with its shapes inferred (the image input fixed to ``input_size``)."""
    return with_shapes(read_onnx(path), input_size, str(path))


def read_onnx(path: str | Path) -> Any:
    """The ONNX model at ``path`` as written; a :class:`ModelError` naming the file says why it cannot be read, in
    words: no such file or not a regular file (checked before anything opens it: a FIFO would block the read), an
    empty file (0 bytes), or not an ONNX model (:func:`not_a_model`)."""
    require("onnx", "onnx", str(path))
    import onnx
    from google.protobuf.message import DecodeError

    what = path_kind(Path(path))
    if what is not None:
        raise ModelError(problem(Path(path), what))
    refusal = f"{path}: not an ONNX model"
    if os.path.getsize(path) == 0:
        raise ModelError(f"{path}: the file is empty (0 bytes)")
    try:
        model = onnx.load(str(path), load_external_data=False)
        for tensor in model.graph.initializer:  # small vectors only (shapes, scales, pads) for shape inference;
            small = math.prod(tensor.dims) <= SMALL  # the weights are never needed, other values when read
            if external(tensor) and small and (Path(path).parent / external_location(tensor)).is_file():
                check_external_size(tensor, Path(path).parent, str(path))  # before the read: no length reads all
                onnx.external_data_helper.load_external_data_for_tensor(tensor, str(Path(path).parent))
                tensor.data_location = onnx.TensorProto.DEFAULT
                del tensor.external_data[:]
    except DecodeError:
        raise ModelError(f"{refusal} ({PARSE_FAILED})") from None
    except ModelError:
        raise
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise ModelError(
            f"{path}: cannot read the ONNX model ({type(exc).__name__}: {text[0] if text else ''})"
        ) from None
    not_a_model(model, refusal)
    return model


PARSE_FAILED = "protobuf parse failed"
"""Why bytes are no ONNX model when protobuf cannot parse them (random bytes, a text, a file cut inside a field)."""


def not_a_model(model: Any, refusal: str) -> None:
    """A :class:`ModelError` reading ``refusal`` (``m.onnx: not an ONNX model``) for a ``ModelProto`` that parsed
    but holds no graph: what a few stray bytes, or a file cut between two fields, parse as."""
    if not model.HasField("graph"):
        raise ModelError(f"{refusal} (it parses as protobuf but holds no graph)")


SMALL = 64
"""External tensors of at most this many items are read with the model (the shapes, scales and pads that shape
inference may need); the others (the weights) only when the geometry needs their values, which it never does
for weights."""


def load_external(tensor: Any, folder: Path, label: str) -> Any:
    """The values of the external ``tensor`` (an initializer), read from its file in ``folder``; a
    :class:`ModelError` with onnx's reason when the file cannot give them (too short, a location outside it)."""
    import onnx

    check_external_size(tensor, folder, label)
    try:
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        onnx.external_data_helper.load_external_data_for_tensor(copy, str(folder))
        copy.data_location = onnx.TensorProto.DEFAULT
        del copy.external_data[:]
    except Exception as exc:
        text = str(exc).strip().splitlines()
        raise ModelError(
            f"{label}: cannot read the values of '{tensor.name}' from '{external_location(tensor)}' "
            f"({type(exc).__name__}: {text[0] if text else ''})"
        ) from None
    return initializer_values(copy, label)


PACKED = frozenset(["INT4", "UINT4", "FLOAT4E2M1", "INT2", "UINT2"])
"""ONNX tensor types stored packed, several items to a byte (4 or 2 bits each)."""


def initializer_values(tensor: Any, label: str) -> Any:
    """The values of initializer ``tensor`` (its data in the model); a :class:`ModelError` naming the model and the
    initializer when its stored data does not fit its shape and type (too few or too many values, an unknown data
    type), where numpy would end in a bare ValueError or KeyError."""
    import onnx
    from onnx import numpy_helper

    where = f"{label}: initializer '{tensor.name}'"
    if any(d < 0 for d in tensor.dims):
        raise ModelError(f"{where}: its shape {list(tensor.dims)} has a negative dimension")
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:
        kinds = onnx.TensorProto.DataType
        name = kinds.Name(tensor.data_type) if tensor.data_type in kinds.values() else str(tensor.data_type)
        text = str(exc).strip().splitlines()
        raise ModelError(
            f"{where}: its stored data does not fit its shape {list(tensor.dims)} and data type {name} "
            f"({type(exc).__name__}: {text[0] if text else ''})"
        ) from None


def check_external_size(tensor: Any, folder: Path, label: str) -> None:
    """A :class:`ModelError` naming the model and the initializer, before anything is read, unless the bytes of
    external ``tensor`` in its file (its ``length``, else the file from ``offset`` to its end, which onnx reads
    whole) are the bytes its shape and type need: a 4-value tensor must not read a 600 MB file."""
    import onnx

    where = f"{label}: initializer '{tensor.name}'"
    entries = {entry.key: entry.value for entry in tensor.external_data}
    try:
        offset, length = int(entries.get("offset") or 0), entries.get("length")
        length = int(length) if length else None
        name = onnx.TensorProto.DataType.Name(tensor.data_type)
        item = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (ValueError, KeyError) as exc:
        text = str(exc).strip().splitlines()
        raise ModelError(
            f"{where}: cannot read its external data ({type(exc).__name__}: {text[0] if text else ''})"
        ) from None
    if any(d < 0 for d in tensor.dims):
        raise ModelError(f"{where}: its shape {list(tensor.dims)} has a negative dimension")
    count = math.prod(tensor.dims)
    bits = 2 if name.endswith("INT2") else 4 if name in PACKED else 8 * item
    needed = -(-count * bits // 8)
    size = os.path.getsize(folder / external_location(tensor))
    if offset < 0 or offset > size:
        raise ModelError(
            f"{where}: its offset {offset:,} lies outside '{external_location(tensor)}' ({size:,} bytes); expected "
            "an offset from 0 to the file's size"
        )
    if length is not None and length < 0:
        raise ModelError(f"{where}: its length {length:,} is negative")
    given = length if length is not None else size - offset
    if given != needed:
        held = f"its length {length}" if length is not None else f"'{external_location(tensor)}' from offset {offset}"
        raise ModelError(
            f"{where}: its shape {list(tensor.dims)} of {name} needs {needed:,} bytes, but {held} gives {given:,}"
        )


def external(tensor: Any) -> bool:
    """Whether ``tensor`` (an initializer) keeps its data in an external file that is not loaded."""
    import onnx

    return bool(tensor.HasField("data_location") and tensor.data_location == onnx.TensorProto.EXTERNAL)


def external_location(tensor: Any) -> str:
    """The file an external ``tensor`` names for its data (relative to the model's folder)."""
    return next((entry.value for entry in tensor.external_data if entry.key == "location"), "")


def fixed_size(model: Any) -> tuple[str, Pair] | None:
    """The name and ``(h, w)`` of the image input (the first input that is no initializer) when the model fixes
    both its height and width; None when either is symbolic or unknown."""
    fixed = fixed_input(model)
    if fixed is None or fixed[1] is None or fixed[2] is None:
        return None
    return fixed[0], (fixed[1], fixed[2])


def fixed_input(model: Any) -> tuple[str, int | None, int | None] | None:
    """The name, height and width of the image input (the first input that is no initializer) when the model
    fixes its height, its width or both (None for a symbolic or unknown one); None when it fixes neither."""
    initializers = {i.name for i in model.graph.initializer}
    image = next((i for i in model.graph.input if i.name not in initializers), None)
    if image is None:
        return None
    dims = list(image.type.tensor_type.shape.dim)
    if len(dims) != 4:
        return None
    h, w = (None if d.dim_param or d.dim_value <= 0 else int(d.dim_value) for d in dims[2:])
    return None if h is None and w is None else (image.name, h, w)


def value_shapes(model: Any) -> dict[str, tuple[int | None, ...]]:
    """The shape of every value of ``model`` that shape inference gave one (None for a symbolic axis)."""

    shapes: dict[str, tuple[int | None, ...]] = {}
    for info in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
    for array in model.graph.initializer:
        shapes[array.name] = tuple(int(v) for v in array.dims)
    return shapes


def value_types(model: Any) -> dict[str, int]:
    """The element type (a ``TensorProto.DataType``) of every tensor value of ``model`` that has one declared or
    inferred, and of every initializer."""
    types = {
        info.name: int(info.type.tensor_type.elem_type)
        for info in [*model.graph.input, *model.graph.value_info, *model.graph.output]
        if info.type.HasField("tensor_type") and info.type.tensor_type.elem_type
    }
    types.update({array.name: int(array.data_type) for array in model.graph.initializer if array.data_type})
    return types


def second_shapes(model: Any, input_size: Pair | None) -> dict[str, tuple[int | None, ...]] | None:
    """The value shapes of ``model`` at twice the height and width ``input_size`` (a fixed side kept); None
    when the model fixes both sides or no size is given (it then holds at that size only anyway)."""
    fixed = fixed_input(model)
    h_fixed, w_fixed = (fixed[1] is not None, fixed[2] is not None) if fixed is not None else (False, False)
    if input_size is None or (h_fixed and w_fixed):
        return None
    h, w = input_size
    try:
        return value_shapes(with_shapes(model, (h if h_fixed else 2 * h, w if w_fixed else 2 * w)))
    except ModelError:
        return None


def with_shapes(model: Any, input_size: Pair | None = None, label: str = "<onnx model>") -> Any:
    """``model`` with inferred value shapes (best effort), the first real input resized to ``input_size``; a
    ``input_size`` that contradicts the model's fixed height or width is a :class:`ModelError`."""
    import onnx

    declared = declared_input(model)
    if declared is not None:  # before the size is compared with it: a 0 or -5 is no fixed side, nor a free one
        check_image_input(declared[1], declared[0], label)
    problem = fixed_problem(label, fixed_input(model), input_size)
    if problem is not None:
        raise ModelError(problem)
    if input_size is not None:
        model = onnx.ModelProto.FromString(model.SerializeToString())
        initializers = {i.name for i in model.graph.initializer}
        image = next((i for i in model.graph.input if i.name not in initializers), None)
        dims = image.type.tensor_type.shape.dim if image is not None else []
        if len(dims) == 4:
            for dim, size in zip(dims[2:], input_size, strict=True):
                dim.ClearField("dim_param")
                dim.dim_value = size
            del model.graph.value_info[:]
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        return model
    return with_piece_shapes(model)


PIECE_ROUNDS = 16
"""Rounds of :func:`with_piece_shapes` at most (each one runs shape inference on the whole model): a torchvision
ShuffleNet v2 export needs 2; shapes still unknown after them are refused where a geometry needs them."""


def with_piece_shapes(model: Any) -> Any:
    """``model`` (its shapes inferred) with the shapes of the ``Slice``, ``Split`` and ``Reshape`` results that
    inference left unknown computed from the graph's constants and known shapes (:mod:`onnx_pieces`), and
    inference run again to carry them on; each round fixes at least one more result, or it stops, after at most
    :data:`PIECE_ROUNDS` rounds (a shape found feeds the ``Shape`` nodes after it in the same round; a round is
    needed again only where an operator inference alone follows lies between two pieces)."""
    import onnx

    for _ in range(PIECE_ROUNDS):
        found = piece_shapes(model, value_shapes(model), SHAPE_ARITHMETIC)
        if not found:
            break
        fixed = onnx.ModelProto.FromString(model.SerializeToString())
        if not write_shapes(fixed, found):
            break
        try:
            model = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
        except Exception:
            break  # the computed shapes contradict the model: keep what inference alone gave
    return model


def from_onnx(
    model: str | Path | Any,
    taps: TapSpec = None,
    passthrough: Iterable[str] = (),
    input_size: str | tuple[int, int] | None = None,
    name: str | None = None,
) -> Graph:
    """The layer graph of an ONNX model: a file's path (``str`` or ``os.PathLike``), a loaded ``ModelProto``
    or its bytes (``SerializeToString()``); anything else is an :class:`OptionError` naming ``model``.

    ``taps`` names the values to mark as outputs (``a,b`` or ``C3=a,C4=b``; default: the graph outputs).
    ``passthrough`` declares operator types or node names as geometry-preserving. ``input_size`` (width first,
    ``"1333x800"`` or ``(1333, 800)``) fixes the image size for shape inference (needed for SAME_LOWER padding
    and size-based Resize when the model's input size is symbolic); a model that fixes its input's height or
    width takes sizes with them only, and the graph remembers them (``Graph.fixed_input``). An unknown operator is
    a :class:`ModelError` naming the op type and the node.
    """
    from scalematch.profile.api import parse_size

    size = parse_size(input_size)
    if isinstance(model, os.PathLike) and isinstance(os.fspath(model), str):
        model = os.fspath(model)
    if isinstance(model, str):
        no_nul(model, "model")
    require("onnx", "onnx", str(model) if isinstance(model, str) else "ONNX models")
    import onnx

    if isinstance(model, bytes | bytearray):  # a serialised model, as model.SerializeToString() gives it
        from google.protobuf.message import DecodeError

        refusal = "<onnx model>: the bytes are no serialised ONNX model"
        try:
            model = onnx.ModelProto.FromString(bytes(model))
        except DecodeError:
            raise ModelError(f"{refusal} ({PARSE_FAILED})") from None
        except Exception as exc:
            first = str(exc).strip().splitlines()
            raise ModelError(f"{refusal} ({type(exc).__name__}: {first[0] if first else 'no message'})") from None
        not_a_model(model, refusal)
    if isinstance(model, str):
        if not model.strip():
            raise OptionError("model: expected an ONNX file's path, got an empty value")
        label, folder = model, Path(model).parent
        model = read_onnx(model)
        proto = with_shapes(model, size, label)
        default_name = Path(label).stem
    elif not isinstance(model, onnx.ModelProto):
        raise OptionError(
            "model: expected an ONNX file's path (str or os.PathLike), a loaded onnx.ModelProto or its bytes, "
            f"got {shown(model)}"
        )
    else:
        label, default_name, folder = "<onnx model>", model.graph.name or "onnx", None
        proto = with_shapes(model, size, label)
    check_graph(proto.graph, label)
    importer = _Importer(proto, label, frozenset(passthrough), folder)
    original = model
    importer.rerun = lambda: second_shapes(original, size)
    initializers = {i.name for i in proto.graph.initializer}
    real = [i.name for i in proto.graph.input if i.name not in initializers]
    if not real:
        raise ModelError(f"{label}: the model has no input")
    check_image_input(importer.shapes.get(real[0]), real[0], label)
    importer.values[real[0]] = INPUT
    for extra in real[1:]:
        shape = importer.shapes.get(extra)
        if shape is not None and len(shape) == 4 and shape[2:] != (1, 1):
            dims = "x".join("?" if d is None else str(d) for d in shape)
            raise ModelError(
                f"{label}: input '{extra}' is a second image input ({dims}) besides '{real[0]}'; expected one (N, C, "
                "H, W) input (the profile follows the geometry from one image)"
            )
        importer.values[extra] = None
    for node in proto.graph.node:
        importer.visit(node)
    for o in proto.graph.output:
        if o.name in importer.opaque:
            importer.read_back(o.name)
    outputs = [
        (o.name, o.name) for o in proto.graph.output if importer.values.get(o.name) and o.name not in importer.opaque
    ]
    notes: list[str] = []
    requested = parse_taps(taps)
    if requested:
        requested, notes = tap_values(proto.graph, requested, label)
    requested = requested or outputs
    if not requested:
        requested = stage_taps(importer.nodes, set(importer.refused))
        if requested:
            importer.check_blocked(requested)
            notes.append("taps: the last feature map at each stride (no graph output is a feature map)")
    if not requested:
        raise ModelError(importer.why_no_map([o.name for o in proto.graph.output]))
    resolved = resolve_requested(importer, requested, label)
    if taps is not None:
        one_name_per_map(resolved, label)
    opset = max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=0)
    graph = finish(
        name or default_name,
        importer.nodes,
        resolved,
        f"imported from ONNX model '{label}' (opset {opset})",
        label,
        importer.pads,
        importer.refused,
        notes,
        size or (fixed[1] if (fixed := fixed_size(proto)) is not None else None),
        importer.sized,
    )
    return replace(graph, fixed_input=fixed_input(model))
