"""Import a PyTorch ``nn.Module`` as a layer graph by torch.fx symbolic tracing (the ``torch`` extra).

The module is traced once (``torch.fx.symbolic_trace``) and run once on a zero input of the example size
(shape propagation), so every value's shape is known. Each traced operation becomes a node named after the
module that runs it (``layer1.0.conv1``; functions take the path of the module whose ``forward`` calls them
plus the function name, ``layer1.0.add``). Convolutions, pooling, up-sampling, additions and concatenations
carry the geometry; activations, normalisations, dropout and layout ops are pass-through. An element-wise
product or sum with a broadcast operand (a squeeze-excitation gate computed from a global pool, a layer-scale
parameter, a constant) keeps the geometry of the full-size operand: the gate's whole-image dependence is left
out, as the built-in configs do with their ``se`` nodes.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scalematch.errors import ModelError
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.imported import TapSpec, finish, pad_layer, parse_taps, resolve_taps
from scalematch.profile.layers import (
    GlobalPool,
    Layer,
    Merge,
    Pair,
    Passthrough,
    TransposedConv,
    Upsample,
    Window,
)

PASS_MODULES = frozenset(
    [
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "RReLU",
        "ELU",
        "SELU",
        "CELU",
        "GELU",
        "SiLU",
        "Mish",
        "Sigmoid",
        "Hardsigmoid",
        "Hardswish",
        "Hardtanh",
        "Tanh",
        "Softplus",
        "Softsign",
        "Tanhshrink",
        "LogSigmoid",
        "Softmax",
        "Softmax2d",
        "LogSoftmax",
        "Threshold",
        "GLU",
        "Identity",
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "Dropout3d",
        "AlphaDropout",
        "FeatureAlphaDropout",
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "SyncBatchNorm",
        "GroupNorm",
        "InstanceNorm1d",
        "InstanceNorm2d",
        "LayerNorm",
        "RMSNorm",
        "LocalResponseNorm",
        "CrossMapLRN2d",
        "Flatten",
        "Unflatten",
        "Linear",
        "ChannelShuffle",
    ]
)
"""``torch.nn`` module classes that keep the geometry (Linear and LayerNorm act on the last axis: channels in
channels-last blocks such as ConvNeXt's, features after global pooling)."""

PASS_FUNCTIONS = frozenset(
    [
        "relu",
        "relu6",
        "leaky_relu",
        "prelu",
        "rrelu",
        "elu",
        "selu",
        "celu",
        "gelu",
        "silu",
        "mish",
        "sigmoid",
        "hardsigmoid",
        "hardswish",
        "hardtanh",
        "tanh",
        "softplus",
        "softsign",
        "logsigmoid",
        "softmax",
        "log_softmax",
        "threshold",
        "glu",
        "dropout",
        "dropout1d",
        "dropout2d",
        "dropout3d",
        "alpha_dropout",
        "feature_alpha_dropout",
        "batch_norm",
        "instance_norm",
        "layer_norm",
        "group_norm",
        "rms_norm",
        "normalize",
        "local_response_norm",
        "linear",
        "flatten",
        "unflatten",
        "clamp",
        "clip",
        "clamp_min",
        "clamp_max",
        "neg",
        "abs",
        "exp",
        "log",
        "sqrt",
        "rsqrt",
        "square",
        "pow",
        "contiguous",
        "float",
        "half",
        "double",
        "to",
        "type",
        "detach",
        "clone",
        "permute",
        "transpose",
        "reshape",
        "view",
        "squeeze",
        "unsqueeze",
        "channel_shuffle",
        "sign",
        "erf",
    ]
)
"""Functions and tensor methods that keep the geometry (layout ops are assumed to keep the spatial axes)."""

BINARY = frozenset(["add", "iadd", "sub", "isub", "rsub", "mul", "imul", "truediv", "itruediv", "div"])
SHAPE_FUNCTIONS = frozenset(["size", "dim", "numel", "getattr", "shape"])


@dataclass(frozen=True)
class Traced:
    """A traced module: its layer graph, the fx ``GraphModule``, and which fx node computes each graph node."""

    graph: Graph
    module: Any = field(repr=False)
    fx_names: Mapping[str, str] = field(repr=False)
    channels: int = 3
    input_size: Pair = (224, 224)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_module(spec: str) -> Any:
    """The ``nn.Module`` named by ``package.module:attribute`` (a class or factory is called without arguments)."""
    from torch import nn

    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise ModelError(f"{spec}: expected a torch module as 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ModelError(f"{spec}: cannot import '{module_name}' ({_first_line(exc)})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"{spec}: '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if not isinstance(obj, nn.Module) and callable(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise ModelError(f"{spec}: calling '{attr}()' failed ({_first_line(exc)})") from None
    if not isinstance(obj, nn.Module):
        raise ModelError(f"{spec}: expected an nn.Module (or a class/factory making one), got {type(obj).__name__}")
    return obj


def _pair(value: Any) -> Pair:
    if isinstance(value, int):
        return value, value
    items = tuple(int(v) for v in value)
    return (items[0], items[0]) if len(items) == 1 else (items[-2], items[-1])


def _base(name: str) -> str:
    return re.sub(r"_\d+$", "", name) or name


def _bind(node: Any, names: list[str], skip: int = 0) -> dict[str, Any]:
    """Arguments of a call by parameter name (positional after ``skip`` leading ones, then keywords)."""
    bound = dict(zip(names, node.args[skip:], strict=False))
    bound.update({k: v for k, v in node.kwargs.items() if k in names})
    return bound


class _Importer:
    def __init__(self, gm: Any, label: str, passthrough: frozenset[str]) -> None:
        self.gm = gm
        self.label = label
        self.passthrough = passthrough
        self.modules: dict[str, Any] = dict(gm.named_modules())
        self.values: dict[str, str | None] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.sources: dict[str, frozenset[str]] = {}  # non-feature values: the feature maps whose shape they read
        self.nodes: list[Node] = []
        self.names: set[str] = set()
        self.pads: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.fx_names: dict[str, str] = {}
        self.outputs: list[tuple[str, str]] = []

    # -- helpers -----------------------------------------------------------------------------------------
    def fail(self, node: Any, what: str, message: str) -> ModelError:
        return ModelError(f"{self.label}: node '{node.name}' ({what}): {message}")

    def feature_args(self, node: Any) -> list[str]:
        """fx names of the feature-map arguments of ``node``, in order, without repeats."""
        from torch import fx

        found: list[str] = []

        def visit(arg: Any) -> Any:
            if self.values.get(arg.name) is not None and arg.name not in found:
                found.append(arg.name)
            return arg

        fx.node.map_arg((node.args, node.kwargs), visit)
        return found

    def all_args(self, node: Any) -> list[str]:
        from torch import fx

        found: list[str] = []
        fx.node.map_arg((node.args, node.kwargs), lambda a: found.append(a.name))
        return found

    def numel(self, name: str) -> int:
        shape = self.shapes.get(name)
        return math.prod(shape) if shape is not None else 0

    def spatial(self, name: str) -> Pair | None:
        shape = self.shapes.get(name)
        return (shape[-2], shape[-1]) if shape is not None and len(shape) == 4 else None

    def node_name(self, node: Any) -> str:
        if node.op == "call_module":
            base = str(node.target)
        else:
            stack = node.meta.get("nn_module_stack") or {}
            owner = [v[0] if isinstance(v, tuple) else k for k, v in stack.items()]
            base = (owner[-1] + "." if owner else "") + _base(node.name)
        name, k = base, 0
        while name in self.names or name == INPUT:
            k += 1
            name = f"{base}_{k}"
        return name

    def emit(self, node: Any, layer: Layer, inputs: list[str], pad: bool = False) -> None:
        name = self.node_name(node)
        self.names.add(name)
        refs = tuple(v for v in (self.values[i] for i in inputs) if v is not None)
        self.nodes.append(Node(name, layer, refs))
        if pad:
            self.pads.add(name)
        self.set_value(node, name)

    def set_value(self, node: Any, name: str) -> None:
        self.values[node.name] = name
        self.fx_names.setdefault(name, node.name)
        self.aliases[node.name] = name
        for key, value in (node.meta.get("nn_module_stack") or {}).items():
            self.aliases[value[0] if isinstance(value, tuple) else key] = name

    # -- layers ------------------------------------------------------------------------------------------
    def window(
        self,
        node: Any,
        kind: str,
        kernel: Any,
        stride: Any,
        padding: Any,
        dilation: Any = 1,
        ceil_mode: bool = False,
        groups: int = 1,
    ) -> Window:
        k, d = _pair(kernel), _pair(dilation)
        if isinstance(padding, str):
            if padding == "valid":
                pads: tuple[Pair, Pair] = ((0, 0), (0, 0))
            else:  # torch "same" (stride 1): total d*(k-1), the smaller half before
                totals = [d[a] * (k[a] - 1) for a in (0, 1)]
                pads = ((totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2))
        else:
            p = _pair(padding)
            pads = ((p[0], p[0]), (p[1], p[1]))
        s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _pair(stride)
        return Window(kind, k, s, pads, d, bool(ceil_mode), int(groups))  # type: ignore[arg-type]

    def upsample(self, node: Any, src: str, size: Any, scale: Any, mode: Any, align_corners: Any) -> Layer:
        what = "interpolate"
        if mode in ("nearest", "nearest-exact"):
            kind = "nearest"
        elif mode == "bilinear" and not align_corners:
            kind = "bilinear"
        else:
            raise self.fail(
                node,
                what,
                f"mode {mode!r} (align_corners={align_corners}) is not supported; expected nearest or "
                "bilinear with align_corners=False",
            )
        n_in, n_out = self.spatial(src), self.spatial(node.name)
        if n_in is None or n_out is None:
            raise self.fail(node, what, "expected a 4-D (N, C, H, W) input and output")
        factors = []
        for a in (0, 1):
            f = max(round(n_out[a] / n_in[a]), 1)
            if abs(n_out[a] - n_in[a] * f) >= f:
                raise self.fail(
                    node, what, f"scales {n_in[0]}x{n_in[1]} to {n_out[0]}x{n_out[1]}; expected an integer factor"
                )
            factors.append(f)
        if scale is not None and not isinstance(scale, int | tuple | list) and float(scale) != int(scale):
            raise self.fail(node, what, f"scale factor {scale} is not an integer")
        size_like = None
        if size is not None:
            from torch import fx

            refs: set[str] = set()
            fx.node.map_arg(size, lambda a: refs.update(self.sources.get(a.name, frozenset())))
            if len(refs) == 1:
                size_like = next(iter(refs))
        return Upsample((factors[0], factors[1]), kind, size_like)  # type: ignore[arg-type]

    def adaptive(self, node: Any, src: str, output_size: Any, kind: str) -> Layer:
        out = (output_size, output_size) if not isinstance(output_size, tuple | list) else tuple(output_size)
        if all(o == 1 for o in out):
            return GlobalPool("avg" if kind == "avgpool" else "max")
        n_in = self.spatial(src)
        if n_in is None:
            raise self.fail(node, f"adaptive {kind}", "expected a 4-D input")
        k = []
        for a in (0, 1):
            o = out[a] if out[a] is not None else n_in[a]
            if n_in[a] % o:
                raise self.fail(
                    node, f"adaptive {kind}", f"output {o} does not divide the input {n_in[a]} at the example size"
                )
            k.append(n_in[a] // o)
        return Window(kind, (k[0], k[1]), (k[0], k[1]))  # type: ignore[arg-type]

    def transposed(self, node: Any, mod: Any) -> Layer:
        layer = TransposedConv(
            _pair(mod.kernel_size),
            _pair(mod.stride),
            _pair(mod.padding),
            _pair(mod.dilation),
            _pair(mod.output_padding),
        )
        for a in (0, 1):
            s = layer.stride[a]
            if len({(t * layer.dilation[a]) % s for t in range(layer.kernel[a])}) < s:
                raise self.fail(node, "ConvTranspose2d", "some output units read no input (kernel < stride)")
        return layer

    # -- one fx node -------------------------------------------------------------------------------------
    def module_layer(self, node: Any, feats: list[str]) -> tuple[Layer, bool] | None:
        from torch import nn

        mod = self.modules[str(node.target)]
        cls = type(mod).__name__
        if isinstance(mod, nn.Conv2d):
            return (
                self.window(node, "conv", mod.kernel_size, mod.stride, mod.padding, mod.dilation, False, mod.groups),
                False,
            )
        if isinstance(mod, nn.ConvTranspose2d):
            return self.transposed(node, mod), False
        if isinstance(mod, nn.MaxPool2d):
            return self.window(
                node, "maxpool", mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode
            ), False
        if isinstance(mod, nn.AvgPool2d):
            return self.window(node, "avgpool", mod.kernel_size, mod.stride, mod.padding, 1, mod.ceil_mode), False
        if isinstance(mod, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
            kind = "avgpool" if isinstance(mod, nn.AdaptiveAvgPool2d) else "maxpool"
            return self.adaptive(node, feats[0], mod.output_size, kind), False
        if isinstance(mod, nn.Upsample):
            return self.upsample(node, feats[0], mod.size, mod.scale_factor, mod.mode, mod.align_corners), False
        if cls in ("ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "CircularPad2d"):
            left, right, top, bottom = (int(v) for v in mod.padding)
            return pad_layer(((top, bottom), (left, right))), True
        if cls in PASS_MODULES or cls in self.passthrough or str(node.target) in self.passthrough:
            return Passthrough(cls.lower()), False
        return None

    def function_layer(self, node: Any, op: str, feats: list[str]) -> tuple[Layer, bool] | str | None:
        """A layer; or the fx name of the argument this node merely forwards; or None (unknown)."""
        if op in BINARY:
            if len(feats) == 1:
                return Passthrough(op), False
            if len(feats) != 2:
                return None
            full = [f for f in feats if self.numel(f) == self.numel(node.name)]
            if len(full) == 2:
                return Merge("add"), False
            if len(full) == 1:  # a broadcast gate (squeeze-excitation) or scale: follow the full-size operand
                return full[0]
            raise self.fail(node, op, "both operands are broadcast; expected at least one full-size feature map")
        if op in ("cat", "concat", "concatenate"):
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            shape = self.shapes.get(node.name)
            if shape is not None and len(shape) == 4 and dim % 4 in (2, 3):
                raise self.fail(node, op, f"concatenates along spatial axis {dim}; expected the channel axis")
            return (Merge("concat"), False) if len(feats) > 1 else feats[0]
        if op in ("chunk", "split", "tensor_split", "unbind"):
            return feats[0]
        if op == "getitem":
            src = feats[0]
            before, after = self.spatial(src), self.spatial(node.name)
            if self.shapes.get(src) is None:
                return src  # an item of a tuple (chunk, split)
            if before is not None and before == after:
                return src
            raise self.fail(node, "getitem", "slices a spatial axis; expected slicing along channels only")
        if op in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            b = _bind(node, ["input", "size", "scale_factor", "mode", "align_corners"])
            mode = b.get("mode", "bilinear" if op == "upsample_bilinear" else "nearest")
            align = b.get("align_corners", True if op == "upsample_bilinear" else None)
            return self.upsample(node, feats[0], b.get("size"), b.get("scale_factor"), mode, align), False
        if op in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices"):
            names = ["input", "kernel_size", "stride", "padding"]
            names += ["dilation", "ceil_mode"] if op.startswith("max") else ["ceil_mode"]
            b = _bind(node, names)
            kind = "maxpool" if op.startswith("max") else "avgpool"
            return self.window(
                node,
                kind,
                b["kernel_size"],
                b.get("stride"),
                b.get("padding", 0),
                b.get("dilation", 1),
                b.get("ceil_mode", False),
            ), False
        if op in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            b = _bind(node, ["input", "output_size"])
            return self.adaptive(node, feats[0], b["output_size"], "avgpool" if "avg" in op else "maxpool"), False
        if op in ("mean", "amax", "max", "sum", "norm") and len(feats) == 1:
            dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
            spatial = {d % 4 for d in dims} & {2, 3} if len(self.shapes.get(feats[0]) or ()) == 4 else set()
            if spatial == {2, 3}:
                return GlobalPool("max" if op in ("amax", "max") else "avg"), False
            if dims and not spatial:
                return Passthrough(op), False  # a reduction over channels keeps the geometry
            return None
        if op == "conv2d":
            b = _bind(node, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"])
            weight = self.shapes.get(b["weight"].name)
            if weight is None:
                raise self.fail(node, op, "the weight's shape is unknown")
            return self.window(
                node,
                "conv",
                weight[-2:],
                b.get("stride", 1),
                b.get("padding", 0),
                b.get("dilation", 1),
                False,
                b.get("groups", 1),
            ), False
        if op == "pad":
            b = _bind(node, ["input", "pad", "mode", "value"])
            pad = [int(v) for v in b["pad"]] + [0, 0, 0, 0]
            left, right, top, bottom = pad[:4]
            return pad_layer(((top, bottom), (left, right))), True
        if op in PASS_FUNCTIONS or op in self.passthrough:
            return Passthrough(op), False
        return None

    def visit(self, node: Any) -> None:
        meta = node.meta.get("tensor_meta")
        self.shapes[node.name] = tuple(int(v) for v in meta.shape) if hasattr(meta, "shape") else None
        if node.op == "placeholder":
            if INPUT in self.values.values():
                self.values[node.name] = None  # a further input: only constants may flow from it
                return
            self.values[node.name] = INPUT
            return
        if node.op == "output":
            self.collect_outputs(node.args[0])
            return
        feats = self.feature_args(node) if node.op != "get_attr" else []
        if not feats:
            self.values[node.name] = None
            self.sources[node.name] = frozenset().union(
                *(self.sources.get(a, frozenset()) for a in self.all_args(node))
            )
            return
        if node.op == "call_module":
            what = type(self.modules[str(node.target)]).__name__
            result: tuple[Layer, bool] | str | None = self.module_layer(node, feats)
        else:
            target = node.target
            op = target if isinstance(target, str) else getattr(target, "__name__", str(target))
            op = op.strip("_")
            what = op
            if op in SHAPE_FUNCTIONS:
                self.values[node.name] = None
                self.sources[node.name] = frozenset(v for v in (self.values[f] for f in feats) if v is not None)
                return
            if op in self.passthrough and op not in PASS_FUNCTIONS:
                result = (Passthrough(op), False)
            else:
                result = self.function_layer(node, op, feats)
        if result is None:
            hint = what if node.op != "call_module" else f"{what}' or '{node.target}"
            raise ModelError(
                f"{self.label}: node '{node.name}': unsupported operation '{what}'; declare it pass-through if it "
                f"keeps the geometry (passthrough=['{hint}'], CLI --passthrough)"
            )
        if isinstance(result, str):
            forwarded = self.values[result]
            assert forwarded is not None
            self.set_value(node, forwarded)
            return
        layer, pad = result
        inputs = feats if isinstance(layer, Merge) else feats[:1]
        self.emit(node, layer, inputs, pad)

    def collect_outputs(self, out: Any) -> None:
        from torch import fx

        if isinstance(out, dict):
            for key, value in out.items():
                if isinstance(value, fx.Node) and self.values.get(value.name):
                    self.outputs.append((str(key), str(self.values[value.name])))
            return
        found: list[str] = []
        fx.node.map_arg(out, lambda a: found.append(a.name))
        for name in found:
            value = self.values.get(name)
            if value and value != INPUT and (value, value) not in self.outputs:
                self.outputs.append((value, value))


def trace(
    model: Any,
    input_size: Pair = (224, 224),
    taps: TapSpec = None,
    passthrough: Iterable[str] = (),
    name: str | None = None,
    channels: int | None = None,
) -> Traced:
    """Trace ``model`` (an ``nn.Module`` or ``"package.module:attribute"``) into a layer graph.

    ``input_size`` ``(h, w)`` is the example input (shapes decide up-sampling factors, adaptive pooling and
    broadcast gates). ``taps`` names the feature maps to mark as outputs (node names, module paths such as
    ``layer2``, or ``C3=layer2``); by default the module's outputs. ``passthrough`` declares unknown module
    classes, module paths or function names as geometry-preserving. Raises :class:`ModelError` with one line
    naming the module when tracing fails, and naming the node for an unsupported operation.
    """
    import torch
    from torch import fx, nn
    from torch.fx.passes.shape_prop import ShapeProp

    label = model if isinstance(model, str) else type(model).__name__
    module = load_module(model) if isinstance(model, str) else model
    if not isinstance(module, nn.Module):
        raise ModelError(f"{label}: expected an nn.Module, got {type(module).__name__}")
    try:
        gm = fx.symbolic_trace(module)
    except Exception as exc:
        raise ModelError(
            f"{label}: torch.fx cannot trace module '{type(module).__name__}' ({_first_line(exc)}); "
            "data-dependent control flow cannot be traced"
        ) from None
    if channels is None:
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
        channels = int(convs[0].in_channels) if convs else 3
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            params = [p for p in module.parameters() if p.is_floating_point()]
            dtype = params[0].dtype if params else torch.float32
            ShapeProp(gm).propagate(torch.zeros(1, channels, *input_size, dtype=dtype))
    except Exception as exc:
        raise ModelError(
            f"{label}: running '{type(module).__name__}' on a 1x{channels}x{input_size[0]}x{input_size[1]} input "
            f"failed ({_first_line(exc)})"
        ) from None
    finally:
        module.train(was_training)
    importer = _Importer(gm, label, frozenset(passthrough))
    for node in gm.graph.nodes:
        importer.visit(node)
    requested = parse_taps(taps) or importer.outputs
    if not requested:
        raise ModelError(f"{label}: the module returns no feature map; name the taps to profile")
    names = [n.name for n in importer.nodes]
    resolved = resolve_taps(requested, names, importer.aliases, label)
    graph = finish(
        name or (label.rsplit(":", 1)[-1] if isinstance(model, str) else label),
        importer.nodes,
        resolved,
        f"imported from PyTorch module '{label}' by torch.fx tracing at {input_size[0]}x{input_size[1]}",
        label,
        importer.pads,
    )
    return Traced(graph, gm, importer.fx_names, channels, input_size)


def from_torch(
    model: Any,
    input_size: Pair = (224, 224),
    taps: TapSpec = None,
    passthrough: Iterable[str] = (),
    name: str | None = None,
) -> Graph:
    """The layer graph of a PyTorch module (see :func:`trace`)."""
    return trace(model, input_size, taps, passthrough, name).graph
