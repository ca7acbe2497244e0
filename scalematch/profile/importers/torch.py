"""Import a PyTorch ``nn.Module`` as a layer graph by torch.fx symbolic tracing (the ``torch`` extra).

The module is traced once in eval mode (known pass-through modules, such as drop-path, are leaves) and run
once on an example input (shape propagation, with fake tensors where torch supports that), so every value's
shape is known. Each traced operation becomes a node named after the module that runs it
(``layer1.0.conv1``; functions take the path of the module whose ``forward`` calls them plus the function
name, ``layer1.0.add``). Convolutions, pooling, up-sampling, additions and concatenations carry the geometry;
activations, normalisations and dropout are pass-through. Reshapes and permutes are followed exactly
(:mod:`scalematch.profile.layout`): a space-to-depth is a window, a depth-to-space nearest up-sampling, a
round trip nothing, anything else no feature map. An element-wise product or sum with a broadcast operand (a
squeeze-excitation gate computed from a global pool, a layer-scale parameter, a constant) keeps the geometry
of the full-size operand: the gate's whole-image dependence is left out, as the built-in configs do with
their ``se`` nodes. A node that cannot be modelled is an error only when a tap depends on it.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scalematch._args import no_nul
from scalematch.errors import ModelError
from scalematch.extras import require
from scalematch.profile.graph import INPUT, Graph, Node
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
from scalematch.profile.layers import (
    GlobalPool,
    Layer,
    Merge,
    MergeKind,
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
        "ChannelShuffle",
        "StochasticDepth",
        "DropPath",
        "DropBlock2d",
        "DropBlock3d",
        "FrozenBatchNorm2d",
        "LayerNorm2d",
    ]
)
"""Module classes that keep the geometry: ``torch.nn`` activations, normalisations and dropout, and by class
name (so that neither torchvision nor timm is imported) the no-ops in eval of torchvision (``StochasticDepth``,
``DropBlock2d``, ``FrozenBatchNorm2d``, ConvNeXt's ``LayerNorm2d``) and timm (``DropPath``, ``DropBlock2d``).
Normalisations are pass-through although their statistics read the whole map (eval: a per-element affine).
Classes outside ``torch.nn`` are traced as leaves, so their insides are never looked at."""

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
        "stochastic_depth",
        "drop_path",
        "drop_block2d",
        "drop_block3d",
        "alpha_dropout",
        "feature_alpha_dropout",
        "batch_norm",
        "instance_norm",
        "layer_norm",
        "group_norm",
        "rms_norm",
        "normalize",
        "local_response_norm",
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
        "channel_shuffle",
        "sign",
        "erf",
    ]
)
"""Functions and tensor methods that keep the geometry (element-wise, or acting on channels only)."""

AXIS_OPS = {
    "GLU": "glu",
    "glu": "glu",
    "Softmax": "softmax",
    "Softmax2d": "softmax",
    "LogSoftmax": "softmax",
    "softmax": "softmax",
    "log_softmax": "softmax",
    "normalize": "softmax",
}
"""Known pass-through modules and functions that work along one axis: pass-through only along channels (a
GLU along H or W halves it; a softmax along it makes each unit read the whole row or column)."""

RESHAPES = frozenset(["view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as", "reshape_as"])
PERMUTES = frozenset(["permute", "transpose", "swapaxes", "swapdims", "movedim", "moveaxis", "t"])
SHUFFLES = frozenset(["pixel_shuffle", "pixel_unshuffle"])
"""Layout functions: the axis algebra of :mod:`scalematch.profile.layout` follows where the rows and columns
go (space-to-depth becomes a window, depth-to-space an up-sampling; anything else is refused when read)."""

VIEWS = RESHAPES | PERMUTES | frozenset(["getitem", "chunk", "split", "tensor_split", "unbind", "narrow", "select"])
VIEWS |= frozenset(["expand", "expand_as", "as_strided", "diagonal", "unfold", "contiguous", "detach", "to", "float"])
VIEWS |= frozenset(["half", "double", "type", "Identity", "Flatten", "Unflatten"])
"""Ops whose result may share its data with their first argument (a view, or the argument itself): an in-place
op on one of them changes the other."""

BINARY = frozenset(["add", "iadd", "sub", "isub", "rsub", "mul", "imul", "truediv", "itruediv", "div"])
REDUCTIONS = frozenset(
    ["mean", "sum", "amax", "amin", "max", "min", "norm", "linalg_vector_norm", "logsumexp", "var", "std", "median"]
)
REDUCTIONS |= {"nanmedian", "nanmean", "nansum", "prod", "mode", "argmax", "argmin"}
SPLITS = frozenset(["chunk", "split", "tensor_split", "unbind"])
"""Reductions: along channels pass-through, over H and W (mean, sum, max, amax, norm) a global pool, along one
of H and W refused (each unit would read the whole row or column)."""
SHAPE_FUNCTIONS = frozenset(["size", "dim", "numel", "getattr", "shape"])
TENSOR_ATTRIBUTES = frozenset(["values", "indices", "data", "real"])
"""Attributes (``getattr`` nodes) that give data, not a shape: the items of a reduction's or sort's named tuple
(``torch.max(x, dim=2).values``, as ``[0]`` gives), and ``x.data`` and ``x.real`` (of a real map), the map
itself. Of the other attributes of a feature map, those of :data:`SHAPE_ATTRIBUTES` are shape queries, and any
other (``x.mT``, a transpose) is refused: read as a constant, it dropped what it reads."""
SHAPE_ATTRIBUTES = frozenset(
    ["shape", "ndim", "dtype", "device", "is_cuda", "layout", "requires_grad", "is_leaf", "itemsize", "nbytes"]
)
CHANGES_GEOMETRY = {
    "shifted_window_attention": "each position attends to every position of its (shifted) window",
    "patch_merging_pad": "each 2x2 block of positions is merged into the channels: the map halves",
}
"""Functions torch.fx leaves whole (torchvision's Swin) that are known not to keep the geometry: their refusal
does not suggest declaring them pass-through, which would give wrong numbers."""


@dataclass(frozen=True)
class _Side:
    """One side of a feature map as a shape query reads it: graph node ``map``'s height (``axis`` 0) or width
    (1)."""

    map: str
    axis: int


@dataclass(frozen=True)
class Traced:
    """A traced module: its layer graph, the fx ``GraphModule``, and which fx node computes each graph node."""

    graph: Graph
    module: Any = field(repr=False)
    fx_names: Mapping[str, str] = field(repr=False)
    channels: int = 3
    input_size: Pair = (224, 224)


def _flagged(parts: Any) -> bool:
    """True when some part of a value's size flags (a flag, or a tuple of them) is set."""
    return any(_flagged(p) for p in parts) if isinstance(parts, tuple) else bool(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def stdout_to_stderr() -> contextlib.AbstractContextManager[Any]:
    """While the user's code runs (its import, constructor, factory, ``forward``), what it prints goes to stderr:
    stdout carries only scalematch's output (``profile --json`` stays one JSON document)."""
    return contextlib.redirect_stdout(sys.stderr)


def load_module(spec: str) -> Any:
    """The ``nn.Module`` named by ``package.module:attribute`` (a class or factory is called without arguments,
    or with those of :func:`no_downloads`)."""
    with stdout_to_stderr():
        return _load_module(spec)


def _load_module(spec: str) -> Any:
    require("torch", "torch", spec)
    from torch import nn

    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise ModelError(f"{spec}: expected a torch module as 'package.module:attribute'")
    from scalematch._paths import importable_here

    importable_here()
    try:
        obj: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise ModelError(f"{spec}: cannot import '{module_name}' ({_first_line(exc)})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"{spec}: '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if isinstance(obj, nn.Module):
        check_initialised(obj, spec)
        return obj
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)) and not _torch_factory(obj):
        raise ModelError(
            f"{spec}: expected an nn.Module, an nn.Module subclass or a Python function of a module that uses "
            f"torch (a factory), got {_kind(obj)}"
        )
    arguments = no_downloads(obj)
    call = f"{attr}({', '.join(f'{name}=None' for name in arguments)})"
    try:
        made = obj(**arguments)
    except (Exception, SystemExit) as exc:
        raise ModelError(f"{spec}: calling '{call}' failed ({_first_line(exc)})") from None
    if not isinstance(made, nn.Module):
        raise ModelError(f"{spec}: calling '{call}' returned {type(made).__name__}, expected an nn.Module")
    check_initialised(made, spec)
    return made


def no_downloads(obj: Any) -> dict[str, None]:
    """The arguments a class or factory is called with: none, except for one that takes ``weights_backbone``
    (torchvision's detection and segmentation builders, whose default fetches ImageNet weights for the backbone
    from the internet): ``weights=None`` (when it takes it) and ``weights_backbone=None``, so that nothing is
    downloaded. The geometry reads no weights; a module with trained weights is named as an instance."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some built-in classes): called without arguments
        return {}
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    taken = {p.name for p in parameters if p.kind in named}
    if "weights_backbone" not in taken:
        return {}
    return {name: None for name in ("weights", "weights_backbone") if name in taken}


def check_initialised(module: Any, label: str) -> None:
    """A :class:`ModelError` for an ``nn.Module`` on which ``nn.Module.__init__`` never ran (every use of it would
    end in an AttributeError), and first for a TorchScript module (torch.fx traces Python code, which it has not)."""
    from torch import jit

    if isinstance(module, jit.ScriptModule):
        traced = any(c.__name__ == "TracedModule" for c in type(module).__mro__)  # torch.jit exports no name
        how = "torch.jit.trace" if traced else "torch.jit.script"
        raise ModelError(
            f"{label}: the {type(module).__name__} is a TorchScript module (made by {how}), which torch.fx cannot "
            "trace; expected the nn.Module it was made from, or export that to ONNX and give the .onnx file"
        )
    if not all(key in vars(module) for key in ("training", "_parameters", "_buffers", "_modules")):
        raise ModelError(
            f"{label}: the {type(module).__name__} instance was never initialised (nn.Module.__init__ did not run on "
            "it, e.g. made by __new__ alone); expected a module built by calling its class"
        )
    from torch.nn.parameter import is_lazy

    for path, sub in module.named_modules():
        tensors = [*sub._parameters.values(), *sub._buffers.values()]
        if any(t is not None and is_lazy(t) for t in tensors):
            raise ModelError(
                f"{label}: '{path or type(module).__name__}' ({type(sub).__name__}) has lazy parameters whose shapes "
                "are not known yet; run the module once on an input first (model(x)), which sets them"
            )


MIRRORED = ("reflect", "circular")
"""Padding modes whose padded units read pixels of the image (mirrored, or from the other side): a border unit reads
other pixels than the zero padding the profile models, so they are refused."""


def _mirrored(mode: str) -> str:
    read = "mirrored" if mode == "reflect" else "from the other side"
    return (
        f"pads in '{mode}' mode: border units read pixels of the image ({read}), not the zeros the profile models; "
        "expected zero, constant or replicate padding"
    )


def _kind(obj: Any) -> str:
    if inspect.isbuiltin(obj):
        return f"the built-in function '{getattr(obj, '__name__', obj)}'"
    if isinstance(obj, type):
        return f"the class '{obj.__name__}' (not an nn.Module subclass)"
    if inspect.isfunction(obj):
        return f"the function '{obj.__name__}' of '{obj.__module__}', which does not use torch"
    return f"a {type(obj).__name__} object"


def _torch_factory(obj: Any) -> bool:
    """A plain Python function (``def`` or lambda; not a built-in or other callable object) whose module, or the
    module of the function it wraps, refers to torch or to an nn.Module subclass: the factories that build models
    (``torchvision.models:resnet50``). Functions of other modules (``code:interact``) are never called."""
    from torch import nn

    def uses_torch(fn: Any) -> bool:
        for value in fn.__globals__.values():
            if inspect.ismodule(value) and (value.__name__ == "torch" or value.__name__.startswith("torch.")):
                return True
            if isinstance(value, type) and issubclass(value, nn.Module):
                return True
        return False

    if not inspect.isfunction(obj):
        return False
    inner = inspect.unwrap(obj)
    return uses_torch(obj) or (inspect.isfunction(inner) and uses_torch(inner))


def _pair(value: Any) -> Pair:
    if isinstance(value, int):
        return value, value
    items = tuple(int(v) for v in value)
    return (items[0], items[0]) if len(items) == 1 else (items[-2], items[-1])


def _bool_dtypes() -> tuple[Any, ...]:
    import torch

    return (torch.bool, torch.uint8)


def _base(name: str) -> str:
    return re.sub(r"_\d+$", "", name) or name


def _bind(node: Any, names: list[str], skip: int = 0) -> dict[str, Any]:
    """Arguments of a call by parameter name (positional after ``skip`` leading ones, then keywords)."""
    bound = dict(zip(names, node.args[skip:], strict=False))
    bound.update({k: v for k, v in node.kwargs.items() if k in names})
    return bound


class _Resolved:
    """An fx node as the importer reads it: each argument computed from shapes in the traced graph (a dim, a
    kernel size, a pad amount: ``a.dim() - 1``, ``out.size()[2:]``) replaced by its value in the example run.
    Feature maps, tensors and values the run did not give stay fx nodes; everything else is the node's."""

    def __init__(self, node: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.node = node
        self.args = args
        self.kwargs = kwargs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)


class _Importer:
    def __init__(self, gm: Any, label: str, passthrough: frozenset[str]) -> None:
        self.gm = gm
        self.label = label
        self.passthrough = passthrough
        self.modules: dict[str, Any] = dict(gm.named_modules())
        self.values: dict[str, str | None] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.sides: dict[str, Any] = {}  # non-feature values read from a map's shape: the _Side of each item
        self.layouts: dict[str, Layout] = {}  # feature values not in (N, C, H, W) layout: where their axes went
        self.opaque: dict[str, str] = {}  # feature values that are no feature map: why
        self.origin: dict[str, str] = {}  # ... and the fx node that made them so
        self.nodes: list[Node] = []
        self.names: set[str] = set()
        self.pads: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.unmapped: dict[str, str] = {}  # fx names and module paths whose value is no feature map: why
        self.pending_keys: dict[str, str] = {}  # ... and the fx value each of them names
        self.fx_nodes: dict[str, Any] = {}
        self.fx_names: dict[str, str] = {}
        self.outputs: list[tuple[str, str]] = []
        self.returned: list[str] = []  # returned values that are no feature map
        self.refused: dict[str, str] = {}
        self.heads: set[str] = set()  # nodes whose geometry depends on the example size (adaptive pooling)
        self.after_nearest: set[str] = set()  # nodes after a nearest up-sampling (their merges take the union)
        self.seen: dict[str, Pair] = {}  # graph nodes: (h, w) of the fx values that are them, in the example run
        self.view_of: dict[str, str] = {}  # fx values that may share their data with another: that one
        self.same_as: dict[str, str] = {}  # results of in-place ops: the value they changed (the same tensor)
        self.by_size: dict[str, Any] = {}  # values that are no feature map: which parts come from an H or W size
        self.sized: dict[str, str] = {}  # graph nodes whose geometry was read at the example size: what was read
        self.rerun: Callable[[], dict[str, tuple[int, ...] | None] | None] | None = None  # shapes at twice the size
        self.second: dict[str, tuple[int, ...] | None] | None = None
        self.reran = False

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

    def resolved(self, node: Any) -> Any:
        """``node`` with the arguments computed from shapes replaced by their values (:class:`_Resolved`)."""
        from torch import fx

        def value(arg: Any) -> Any:
            if self.values.get(arg.name) is None and VALUE in arg.meta:
                return arg.meta[VALUE]
            return arg

        args, kwargs = fx.node.map_arg((node.args, node.kwargs), value)
        return _Resolved(node, tuple(args), dict(kwargs))

    def elementwise(self, node: Any, op: str) -> bool:
        """An element-wise maximum or minimum of two tensors (``torch.max(a, b)``, ``torch.maximum``): it reads
        both operands as an add does. ``max(a, dim)`` is a reduction."""
        from torch import fx

        if op in ("maximum", "minimum", "fmax", "fmin"):
            return True
        other = node.kwargs.get("other", node.args[1] if len(node.args) > 1 else None)
        return op in ("max", "min") and isinstance(other, fx.Node) and self.shapes.get(other.name) is not None

    def whole_map(self, node: Any, src: str, bound: Mapping[str, Any]) -> bool:
        """A pooling of ``src`` whose kernel is ``src``'s own height and width, each read from its own axis
        (CIFAR ResNets' ``F.avg_pool2d(out, out.size()[2:])``), with no padding and the kernel as stride: a
        global pool at any input size. A kernel read from one side (``out.size(3)``, square at a square input)
        is not: it is a window of that size."""
        kernel = _bind(node.node, ["input", "kernel_size"]).get("kernel_size")
        k, stride = _pair(bound["kernel_size"]), bound.get("stride")
        return (
            self.full_size_of(kernel) == self.values[src]
            and k == self.spatial(src)
            and (stride is None or (not isinstance(stride, int) and len(stride) == 0) or _pair(stride) == k)
            and _pair(bound.get("padding", 0)) == (0, 0)
        )

    def hint(self, node: Any, what: str) -> str:
        """How to declare ``node`` pass-through, as typed on the command line (a module: its class, or its path
        for this module only)."""
        if node.op != "call_module":
            return f"--passthrough {what}"
        return f"--passthrough {what}, or --passthrough {node.target} for this module only"

    def refusal_in(self, name: str) -> str | None:
        """The refusal of the first refused node among graph node ``name`` and its ancestors (None: none)."""
        by_name = {n.name: n for n in self.nodes}
        seen: set[str] = set()
        stack, found = [name], []
        while stack:
            current = stack.pop()
            if current in seen or current not in by_name:
                continue
            seen.add(current)
            if current in self.refused:
                found.append(current)
            stack.extend(by_name[current].inputs)
        order = {n.name: k for k, n in enumerate(self.nodes)}
        return self.refused[min(found, key=order.__getitem__)] if found else None

    def check_gate(self, node: Any, op: str, full: str, gate: str) -> None:
        """A gate broadcast along one of H and W only (``a - a.amax(-1, keepdim=True)``, a softmax written by
        hand, ``x * adaptive_avg_pool2d(x, (None, 1))``) makes each unit read its whole row or column: refused,
        with the refusal of the node that made it so when there is one (a reduction along one axis), which the
        gate rule would otherwise drop. A gate broadcast over both (a squeeze-excitation) is left out, as
        documented."""
        shape, out, layout = self.shapes.get(gate), self.shapes.get(full), self.layout_of(full)
        if shape is None or out is None or layout is None or len(layout) != len(out) or len(shape) > len(out):
            return
        shape = (1,) * (len(out) - len(shape)) + shape
        sides = [a - len(out) for a in range(len(out)) if spatial_in(layout, a)]  # H and W: -2, -1 unless rearranged
        along = [a for a in sides if shape[a] == 1 and out[a] > 1]
        if len(along) != 1 or any(shape[a] != out[a] for a in sides if a != along[0]):
            return
        name = self.values[gate]
        refusal = self.refusal_in(name) if name is not None else None
        if refusal is not None:
            raise ModelError(refusal)
        spatial_size = tuple(out[-2:]) if full not in self.opaque else tuple(out[a] for a in sides)
        if self.user_declared(gate, spatial_size):
            return  # the user declared the node that makes the gate pass-through: left out, as asked
        across_w = any(atom.axis == "W" for atom in layout[along[0]])
        line = "row" if across_w else "column"
        raise self.fail(
            node, op,
            f"its operand '{gate}' holds one value per {line} (it is broadcast along "
            f"{'W' if across_w else 'H'} only), so each unit reads its whole {line}, which no receptive "
            "field describes; a gate broadcast along both H and W (squeeze-excitation) is left out, one along a "
            "single axis (coordinate attention) is refused",
        )  # fmt: skip

    def user_declared(self, name: str, full: tuple[int, ...]) -> bool:
        """Whether fx value ``name`` or one of its ancestors down to the maps of spatial size ``full`` (what it
        is computed from) is a node the user declared pass-through."""
        from torch import fx

        stack, seen = [name], set()
        while stack:
            current = stack.pop()
            if current in seen or current not in self.fx_nodes:
                continue
            seen.add(current)
            node = self.fx_nodes[current]
            if node.op == "call_module":
                mod = self.modules.get(str(node.target))
                keys = {type(mod).__name__, str(node.target)}
            else:
                target = node.target
                keys = {(target if isinstance(target, str) else getattr(target, "__name__", str(target))).strip("_")}
            if keys & self.passthrough:
                return True
            shape = self.shapes.get(current)
            if shape is None or len(shape) < 2 or tuple(shape[-2:]) != full:
                fx.node.map_arg((node.args, node.kwargs), lambda a: stack.append(a.name))
        return False

    def number(self, node: Any, what: str, param: str, value: Any) -> Any:
        """``value``, the argument ``param`` of ``node``, when it holds no fx node; else a refusal naming the
        node that computes it (a tensor, or a value the example run did not give as a number)."""
        from torch import fx

        found: list[Any] = []
        fx.node.map_arg(value, found.append)
        if found:
            raise self.fail(
                node,
                what,
                f"its {param} comes from '{found[0].name}', which is not a number in the example run; expected "
                "a number or a tuple of numbers",
            )
        return value

    def numel(self, name: str) -> int:
        shape = self.shapes.get(name)
        return math.prod(shape) if shape is not None else 0

    def spatial(self, name: str) -> Pair | None:
        shape = self.shapes.get(name)
        return (shape[-2], shape[-1]) if shape is not None and len(shape) == 4 else None

    def display(self, node: Any) -> str:
        """A readable name of an fx node: its module path, or the calling module's path and the function."""
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        owner = [v[0] if isinstance(v, tuple) else k for k, v in stack.items()]
        return (owner[-1] + "." if owner else "") + _base(node.name)

    def node_name(self, node: Any) -> str:
        base = self.display(node)
        name, k = base, 0
        while name in self.names or name == INPUT:
            k += 1
            name = f"{base}_{k}"
        return name

    def add(self, node: Any, layer: Layer, refs: tuple[str, ...], pad: bool = False) -> str:
        """A new graph node for fx ``node`` reading the graph nodes ``refs``; its name."""
        name = self.node_name(node)
        self.names.add(name)
        self.nodes.append(Node(name, layer, refs))
        self.fx_names.setdefault(name, node.name)
        nearest = isinstance(layer, Upsample) and layer.mode == "nearest" and layer.scale != (1, 1)
        if nearest or any(r in self.after_nearest for r in refs):
            self.after_nearest.add(name)
        if pad:
            self.pads.add(name)
        return name

    def emit(self, node: Any, layer: Layer, inputs: list[str], pad: bool = False) -> None:
        refs = tuple(v for v in (self.values[i] for i in inputs) if v is not None)
        self.set_value(node, self.add(node, layer, refs, pad))

    def keys(self, node: Any) -> list[str]:
        """The names a tap may use for the value of ``node``: its fx name and the paths of the modules it
        ends (the last value computed inside a module is that module's output)."""
        stack = node.meta.get("nn_module_stack") or {}
        return [node.name, *(v[0] if isinstance(v, tuple) else k for k, v in stack.items())]

    def set_value(self, node: Any, name: str) -> None:
        """``node`` computes the feature map of graph node ``name`` in (N, C, H, W) layout."""
        self.values[node.name] = name
        size = self.spatial(node.name)
        if size is not None:
            self.seen.setdefault(name, size)
        for key in self.keys(node):
            self.aliases[key] = name
            self.unmapped.pop(key, None)
            self.pending_keys.pop(key, None)

    def set_pending(self, node: Any, name: str, layout: Layout | None, why: str, origin: str) -> None:
        """``node`` computes the data of graph node ``name`` rearranged (``layout``) or no feature map at
        all (``layout`` None: ``why`` says what it is); ``origin`` is the fx node that made it so."""
        self.values[node.name] = name
        if layout is not None:
            self.layouts[node.name] = layout
        self.opaque[node.name] = why
        self.origin[node.name] = origin
        for key in self.keys(node):
            self.aliases.pop(key, None)
            self.unmapped[key] = f"'{origin}' {why}"
            self.pending_keys[key] = node.name

    def carry(self, node: Any, src: str, layer: Layer | None = None) -> None:
        """``node`` keeps the geometry and the layout of its feature argument ``src`` (``layer``: emitted as a
        node of the graph, e.g. an activation; None: ``node`` is the same value)."""
        name = self.values[src]
        assert name is not None
        if layer is not None and src not in self.opaque:  # rearranged values need no node: no geometry
            name = self.add(node, layer, (name,))
        if src in self.opaque:
            layout = self.layouts.get(src)
            shape = self.shapes.get(node.name)
            if layout is not None and shape is not None:
                layout = fit_channels(layout, shape) or layout
            self.set_pending(node, name, layout, self.opaque[src], self.origin[src])
        else:
            self.set_value(node, name)

    def carry_reduced(self, node: Any, op: str, src: str) -> None:
        """A reduction over the channel axes of a rearranged value: the result keeps its layout, those axes
        emptied (``keepdim``) or dropped (the result's rank tells which)."""
        layout, shape = self.layouts.get(src), self.shapes.get(node.name)
        if layout is not None and shape is not None and len(shape) != len(layout):
            at = 2 if op in ("norm", "linalg_vector_norm") else 1
            dims = self.number(node, op, "dim", node.kwargs.get("dim", node.args[at] if len(node.args) > at else None))
            dims = {d % len(layout) for d in ((dims,) if isinstance(dims, int) else tuple(dims or ()))}
            layout = tuple(axis for k, axis in enumerate(layout) if k not in dims)
        fitted = fit_channels(layout, shape) if layout is not None and shape is not None else None
        name = self.values[src]
        assert name is not None
        self.set_pending(node, name, fitted, self.opaque[src], self.origin[src])

    def axis_spatial(self, src: str, dim: int) -> bool:
        """Whether axis ``dim`` of feature value ``src`` holds rows or columns: as its layout says (axis -1 of a
        channels-last ``(N, H, W, C)`` tensor holds the channels), else axes 2 and 3 of a 4-D value."""
        shape, layout = self.shapes.get(src), self.layout_of(src)
        if not shape:
            return False
        if layout is not None and len(layout) == len(shape):
            return spatial_in(layout, dim % len(shape))
        return len(shape) == 4 and dim % 4 in (2, 3)

    def layout_of(self, src: str) -> Layout | None:
        """Where the axes of feature value ``src`` come from (None: unknown, e.g. a vector from a head)."""
        if src in self.opaque:
            return self.layouts.get(src)
        return canonical(self.shapes.get(src) or ())

    def rearranged(self, node: Any, what: str, src: str) -> ModelError:
        return self.fail(
            node,
            what,
            f"reads '{self.display(self.fx_nodes[src])}', which is not an (N, C, H, W) feature map: "
            f"'{self.origin[src]}' {self.opaque[src]}; "
            "its geometry cannot be read",
        )

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

    def upsample(
        self, node: Any, src: str, size: Any, scale: Any, mode: Any, align_corners: Any, size_from: Any = None
    ) -> Layer:
        """Up-sampling of ``src`` to ``size`` or by ``scale``; ``size_from`` is the size argument as traced (fx
        nodes where it is read from shapes): a size that is another map's size follows that map (``size_like``),
        a size computed from ``src``'s own shape (twice its height) is a factor."""
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
                    node, what, f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]}; expected an integer factor"
                )
            factors.append(f)
        if scale is not None and not isinstance(scale, int | tuple | list) and float(scale) != int(scale):
            raise self.fail(node, what, f"scale factor {scale} is not an integer")
        size_like = None
        if size_from is not None:
            like = self.full_size_of(size_from)  # (its H, its W), not one side given for both (y.shape[-1])
            fx_like = next((k for k, v in self.values.items() if v == like), None) if like == INPUT else None
            fx_like = self.fx_names.get(like or "", fx_like)
            if like is not None and fx_like is not None and self.spatial(fx_like) == n_out:
                size_like = like
        if n_out != (n_in[0] * factors[0], n_in[1] * factors[1]):  # a size short of a multiple (FPN's 13 from 7)
            if size_like is None:  # a constant size: the factor would give another size
                raise self.fail(
                    node, what, f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]}; expected an integer factor"
                )
            if mode != "nearest":  # nearest-exact and bilinear read other units than j // factor there
                raise self.fail(
                    node,
                    what,
                    f"scales {n_in[1]}x{n_in[0]} to {n_out[1]}x{n_out[0]} in mode {mode!r}; expected an integer "
                    "factor, or mode 'nearest' for a size short of a multiple",
                )
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

    def transposed(self, node: Any, mod: Any, src: str) -> Layer:
        kernel, stride, pad, dil = (_pair(v) for v in (mod.kernel_size, mod.stride, mod.padding, mod.dilation))
        out_pad = _pair(mod.output_padding)
        if _bind(node, ["input", "output_size"]).get("output_size") is not None:
            # torch's _output_padding: the output size asked for, less the smallest one (read at the example size)
            n_in, n_out = self.spatial(src), self.spatial(node.name)
            if n_in is None or n_out is None:
                raise self.fail(node, "ConvTranspose2d", "expected a 4-D (N, C, H, W) input and output")
            least = [(n_in[a] - 1) * stride[a] - 2 * pad[a] + dil[a] * (kernel[a] - 1) + 1 for a in (0, 1)]
            out_pad = (n_out[0] - least[0], n_out[1] - least[1])
        layer = TransposedConv(kernel, stride, pad, dil, out_pad)
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
            pads = mod.padding
            if mod.padding_mode in MIRRORED and (pads == "same" or (not isinstance(pads, str) and any(pads))):
                raise self.fail(node, cls, _mirrored(mod.padding_mode))
            return (
                self.window(node, "conv", mod.kernel_size, mod.stride, mod.padding, mod.dilation, False, mod.groups),
                False,
            )
        if isinstance(mod, nn.ConvTranspose2d):
            return self.transposed(node, mod, feats[0]), False
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
        if cls in ("ReflectionPad2d", "CircularPad2d"):
            raise self.fail(node, cls, _mirrored("reflect" if cls.startswith("Reflection") else "circular"))
        if cls in ("ZeroPad2d", "ConstantPad2d", "ReplicationPad2d"):
            left, right, top, bottom = (int(v) for v in mod.padding)
            return pad_layer(((top, bottom), (left, right))), True
        return None

    def function_layer(self, node: Any, op: str, feats: list[str]) -> tuple[Layer, bool] | str | None:
        """A layer; or the fx name of the argument this node merely forwards; or None (unknown)."""
        if op in BINARY or self.elementwise(node, op):
            if len(feats) == 1:
                return Passthrough(op), False
            if len(feats) != 2:
                return None
            full = [f for f in feats if self.numel(f) == self.numel(node.name)]
            if len(full) == 2:
                return self.merge(feats, "add"), False
            if len(full) == 1:  # a broadcast gate (squeeze-excitation) or scale: follow the full-size operand
                self.check_gate(node, op, full[0], next(f for f in feats if f != full[0]))
                return full[0]
            raise self.fail(node, op, "both operands are broadcast; expected at least one full-size feature map")
        if op in ("cat", "concat", "concatenate"):
            dim = self.number(node, op, "dim", node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0))
            shape = self.shapes.get(node.name)
            if shape is not None and len(shape) == 4 and dim % 4 in (2, 3):
                raise self.fail(node, op, f"concatenates along spatial axis {dim}; expected the channel axis")
            layout = self.layout_of(feats[0])  # a rearranged value: tokens (N, H*W, C) hold positions on axis 1
            on_tokens = shape and layout and len(layout) == len(shape) and isinstance(dim, int)
            if on_tokens and spatial_in(layout, dim % len(shape)):  # type: ignore[arg-type]
                raise self.fail(
                    node, op, f"concatenates along axis {dim}, which holds rows or columns; expected channels"
                )
            return (self.merge(feats, "concat"), False) if len(feats) > 1 else feats[0]
        if op in SPLITS:
            at = 1 if op == "unbind" else 2
            dim = self.number(node, op, "dim", node.kwargs.get("dim", node.args[at] if len(node.args) > at else 0))
            if self.axis_spatial(feats[0], dim):
                raise self.fail(node, op, f"splits along spatial axis {dim}; expected the channel axis")
            return feats[0]
        if op == "getitem":
            src = feats[0]
            before, after = self.spatial(src), self.spatial(node.name)
            if self.shapes.get(src) is None:
                return src  # an item of a tuple (chunk, split)
            if before is not None and before == after:
                problem = self.index_problem(node.args[1] if len(node.args) > 1 else (), src)
                if problem:
                    raise self.fail(node, "getitem", f"{problem}; expected slicing along channels only")
                return src
            raise self.fail(node, "getitem", "slices a spatial axis; expected slicing along channels only")
        if op in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            b = _bind(node, ["input", "size", "scale_factor", "mode", "align_corners"])
            b = {k: self.number(node, op, k, v) for k, v in b.items() if k != "input"}
            mode = b.get("mode", "bilinear" if op == "upsample_bilinear" else "nearest")
            align = b.get("align_corners", True if op == "upsample_bilinear" else None)
            size_from = _bind(node.node, ["input", "size"]).get("size")
            layer = self.upsample(node, feats[0], b.get("size"), b.get("scale_factor"), mode, align, size_from)
            return layer, False
        if op in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices"):
            names = ["input", "kernel_size", "stride", "padding"]
            names += ["dilation", "ceil_mode"] if op.startswith("max") else ["ceil_mode"]
            b = {k: self.number(node, op, k, v) for k, v in _bind(node, names).items() if k != "input"}
            kind = "maxpool" if op.startswith("max") else "avgpool"
            if self.whole_map(node, feats[0], b):
                return GlobalPool("max" if kind == "maxpool" else "avg"), False
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
            size = self.number(node, op, "output_size", _bind(node, ["input", "output_size"])["output_size"])
            return self.adaptive(node, feats[0], size, "avgpool" if "avg" in op else "maxpool"), False
        if op in REDUCTIONS and len(feats) == 1:
            at = 2 if op in ("norm", "linalg_vector_norm") else 1  # after the order p
            dims = self.number(node, op, "dim", node.kwargs.get("dim", node.args[at] if len(node.args) > at else None))
            dims = (dims,) if isinstance(dims, int) else tuple(dims or ())
            rank = len(self.shapes.get(feats[0]) or ())
            spatial = {d % rank for d in dims if self.axis_spatial(feats[0], d)} if rank else set()
            every = {a for a in range(rank) if self.axis_spatial(feats[0], a)}
            if spatial and spatial == every and op in ("mean", "amax", "max", "sum", "norm"):
                if feats[0] in self.opaque:
                    raise self.rearranged(node, op, feats[0])
                return GlobalPool("max" if op in ("amax", "max") else "avg"), False
            if dims and not spatial:
                return Passthrough(op), False  # a reduction over channels keeps the geometry
            if spatial:
                axis = next(d for d in dims if d % rank in spatial)
                raise self.fail(
                    node,
                    op,
                    f"reduces along spatial axis {axis} (each unit reads the whole axis); expected the channel axis "
                    f"or both H and W, or declare it pass-through to leave that out (--passthrough {op})",
                )
            return None
        if op == "conv2d":
            b = _bind(node, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"])
            b |= {k: self.number(node, op, k, b[k]) for k in ("stride", "padding", "dilation", "groups") if k in b}
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
            b |= {k: self.number(node, op, k, b[k]) for k in ("pad", "mode") if k in b}
            if b.get("mode", "constant") in MIRRORED:
                raise self.fail(node, op, _mirrored(b["mode"]))
            pad = [int(v) for v in b["pad"]] + [0, 0, 0, 0]
            left, right, top, bottom = pad[:4]
            return pad_layer(((top, bottom), (left, right))), True
        return None

    def index_problem(self, index: Any, src: str) -> str | None:
        """Why indexing the 4-D map ``src`` with ``index`` may move or repeat rows or columns (an index tensor or
        list, a slice with a step or computed bounds, an unknown index), or None when every H and W position
        provably stays in order (``:`` there; anything along N and C)."""
        from torch import fx

        shape = self.shapes.get(src) or ()
        items = list(index) if isinstance(index, tuple) else [index]

        def width(item: Any) -> int | None:  # how many source axes an item consumes (None: unknown)
            if item is None or item is Ellipsis:
                return 0
            meta = item.meta.get("tensor_meta") if isinstance(item, fx.Node) else None
            if isinstance(item, fx.Node) and not hasattr(meta, "dtype"):
                return None
            return len(meta.shape) if meta is not None and meta.dtype in _bool_dtypes() else 1

        widths = [width(i) for i in items]
        if items.count(Ellipsis) > 1 or any(w is None for w in widths):
            return "indexes with a value of unknown kind"
        cut = items.index(Ellipsis) if Ellipsis in items else len(items)
        spans: list[tuple[range, Any]] = []
        pos = 0
        for item, w in zip(items[:cut], widths[:cut], strict=True):
            spans.append((range(pos, pos + (w or 0)), item))
            pos += w or 0
        pos = len(shape)
        for item, w in reversed(list(zip(items[cut + 1 :], widths[cut + 1 :], strict=True))):
            pos -= w or 0
            spans.append((range(pos, pos + (w or 0)), item))
        for span, item in spans:
            hit = [a for a in span if a in (2, 3)]
            if not hit:
                continue
            if not isinstance(item, slice):
                kind = f"the tensor '{item.name}'" if isinstance(item, fx.Node) else f"{type(item).__name__} {item!r}"
                kind = "a list" if isinstance(item, list | tuple) else kind
                return f"indexes spatial axis {hit[0]} with {kind}, which may move or repeat rows or columns"
            size = shape[hit[0]]
            whole = item.start in (None, 0, -size) and item.step in (None, 1)
            if not (whole and (item.stop is None or (isinstance(item.stop, int) and item.stop >= size))):
                shown = ":".join("" if v is None else str(v) for v in (item.start, item.stop, item.step))
                return f"slices spatial axis {hit[0]} with [{shown}], which may not keep every row or column in order"
        return None

    def merge(self, feats: list[str], kind: MergeKind) -> Merge:
        """A merge of ``feats``: ``align: union`` when an input comes after a nearest up-sampling (FPN's
        top-down add, PAN's concats: odd units sit half a cell off, as the fpn and pan neck configs say),
        else ``strict``."""
        union = any(self.values[f] in self.after_nearest for f in feats)
        return Merge(kind, "union" if union else "strict")

    # -- layouts -----------------------------------------------------------------------------------------
    def layout_op(self, node: Any, op: str, src: str) -> Layout | str:
        """The layout after a reshape, permute or pixel shuffle of ``src``; or why it cannot be followed."""
        layout = self.layout_of(src)
        shape, out = self.shapes.get(src), self.shapes.get(node.name)
        if layout is None or shape is None or out is None:
            return "rearranges a value whose layout is unknown"
        result: Layout | None
        if op in RESHAPES:
            result = reshape(layout, out)
        elif op in PERMUTES:
            order = self.permutation(node, src, shape)
            result = permute(layout, order) if order is not None else None
        else:
            n, c, h, w = shape if len(shape) == 4 else (0, 0, 0, 0)
            if op == "pixel_shuffle" and len(out) == 4 and h and out[2] % h == 0:
                r = out[2] // h
                steps = [(n, c // (r * r), r, r, h, w), (0, 1, 4, 2, 5, 3), out]
            elif op == "pixel_unshuffle" and len(out) == 4 and out[2] and h % out[2] == 0:
                r = h // out[2]
                steps = [(n, c, h // r, r, w // r, r), (0, 1, 3, 5, 2, 4), out]
            else:
                return f"is a {op} of a {len(shape)}-D value"
            first = reshape(layout, steps[0])
            result = reshape(permute(first, steps[1]), steps[2]) if first is not None else None
        return result if result is not None else "splits or merges axes unevenly"

    def block_depends_on_size(self, value: str, src: str, found: tuple[tuple[int, int], tuple[int, int]]) -> str | None:
        """Why the reading ``found`` of the rearranged ``value`` (a map of graph node ``src``) holds at the
        example size only, or None when it holds at any size. One trace cannot tell a block of fixed size (a
        space-to-depth by 2 or 4) from one read from the size (``reshape(n, c, 2, -1, w)`` stacks the two
        halves of the map: a block of half its height): the shapes of a second run at twice the example size
        must be those the reading gives for the source map at that size."""
        if self.rerun is not None and not self.reran:
            self.reran = True
            self.second = self.rerun()
        if self.second is None:
            return "(a rearrangement read as a feature map) could not be run at a second size to check its block size"
        fx_src = (
            next((k for k, v in self.values.items() if v == INPUT), None) if src == INPUT else self.fx_names.get(src)
        )
        before = self.shapes.get(value)
        source, after = self.second.get(fx_src or ""), self.second.get(value)
        known = before is not None and source is not None and after is not None and len(source) == 4
        if known and after[0] == source[0] and fits_at(found, before[1], (source[2], source[3]), after[1:]):  # type: ignore[index]
            return None
        return size_bound_reason(found)

    def permutation(self, node: Any, src: str, shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The axis order of a permute-like call, found by running it on a tensor whose axes have distinct
        sizes (None when its arguments are not constants)."""
        import torch
        from torch import fx

        has_nodes = False

        def probe_arg(arg: Any) -> Any:
            nonlocal has_nodes
            if arg.name == src:
                return probe
            has_nodes = True
            return arg

        sizes = [2 + k for k in range(len(shape))]
        probe = torch.empty(sizes, device="meta")
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), probe_arg)
        if has_nodes:
            return None
        try:
            if node.op == "call_method":
                result = getattr(args[0], str(node.target))(*args[1:], **kwargs)
            else:
                result = node.target(*args, **kwargs)
        except Exception:
            return None
        got = list(result.shape)
        return tuple(sizes.index(s) for s in got) if sorted(got) == sizes else None

    def settle(self, node: Any, src: str, layout: Layout) -> None:
        """Record ``node``'s rearranged value: the same map when the data is back in place; else pending, read
        as a feature map only when a geometry op, a merge or a tap needs it (:meth:`read_back`), so that an
        intermediate such as a channels-last tensor is never mistaken for one."""
        name = self.values[src]
        assert name is not None
        found = as_feature_map(layout)
        if found == ((1, 1), (1, 1)):
            self.set_value(node, name)
            return
        origin = self.origin.get(src, self.display(node)) if src in self.layouts else self.display(node)
        why = f"rearranges the axes ({found})" if isinstance(found, str) else "rearranges the axes"
        self.set_pending(node, name, layout, why, origin)

    def read_back(self, value: str) -> bool:
        """Read a rearranged value as a feature map if it is one: a window for a space-to-depth, nearest
        up-sampling for a depth-to-space (nodes named after the op that made the value). True when it now is
        an (N, C, H, W) map."""
        layout = self.layouts.get(value) if value in self.opaque else None
        found = as_feature_map(layout) if layout is not None else "no layout"
        if isinstance(found, str):
            return False
        node, name = self.fx_nodes[value], self.values[value]
        assert name is not None
        (sy, ry), (sx, rx) = found
        why = self.block_depends_on_size(value, name, found)
        if (sy, sx) != (1, 1):
            name = self.add(node, Window("avgpool", (sy, sx), (sy, sx)), (name,))
            if why is not None:
                self.sized[name] = why
        if (ry, rx) != (1, 1):
            name = self.add(node, Upsample((ry, rx), "nearest"), (name,))
            if why is not None:
                self.sized[name] = why
        self.values[value] = name
        size = self.spatial(value)
        if size is not None:
            self.seen.setdefault(name, size)
        for table in (self.opaque, self.layouts, self.origin):
            table.pop(value, None)
        for key in [k for k, v in self.pending_keys.items() if v == value]:
            self.aliases[key] = name
            self.unmapped.pop(key, None)
            self.pending_keys.pop(key)
        return True

    def linear(self, node: Any, src: str) -> None:
        """A Linear layer: it maps the last axis; over channels it keeps the geometry, over rows or columns
        the result is no feature map (a classifier over a flattened map)."""
        layout = self.layout_of(src)
        out = self.shapes.get(node.name)
        name = self.values[src]
        assert name is not None
        if layout is None or out is None or not layout or spatial_in(layout, len(layout) - 1):
            why = "mixes spatial positions (a Linear layer over rows or columns)"
            self.set_pending(node, name, None, why if layout else self.opaque.get(src, why), self.display(node))
            return
        new = replace_last(layout, out[-1])
        if as_feature_map(new) == ((1, 1), (1, 1)):
            self.set_value(node, self.add(node, Passthrough("linear"), (name,)))
        else:
            origin = self.origin.get(src, self.display(node))
            self.set_pending(node, name, new, self.opaque.get(src, "rearranges the axes"), origin)

    def check_axis(self, node: Any, op: str, src: str) -> None:
        """Refuse a known pass-through that works along one axis (GLU, softmax) when that axis of ``src`` holds
        rows or columns: a GLU halves it, a softmax makes each unit read all of it. Along channels it passes."""
        shape = self.shapes.get(src)
        layout = self.layout_of(src)
        if shape is None or layout is None or len(layout) != len(shape) or not shape:
            return  # no feature map (a vector of a head): any geometry read from it is refused anyway
        if op == "Softmax2d":
            dim: Any = -3
        elif node.op == "call_module":
            dim = self.modules[str(node.target)].dim
        elif op == "normalize":
            dim = self.number(node, op, "dim", _bind(node, ["input", "p", "dim"]).get("dim", 1))
        else:
            dim = self.number(node, op, "dim", _bind(node, ["input", "dim"]).get("dim", -1 if op == "glu" else None))
        if dim is None:  # torch's implicit choice (_get_softmax_dim): axis 0 of a 0-, 1- or 3-D input, else 1
            dim = 0 if len(shape) in (0, 1, 3) else 1
        if not spatial_in(layout, int(dim) % len(shape)):
            return
        what = op if node.op != "call_module" else type(self.modules[str(node.target)]).__name__
        if AXIS_OPS[op] == "glu":
            raise self.fail(node, what, f"splits along spatial axis {dim}; expected the channel axis")
        raise self.fail(
            node,
            what,
            f"normalises along spatial axis {dim} (each unit reads the whole axis); expected the channel axis, or "
            f"declare it pass-through to leave that out ({self.hint(node, what)})",
        )

    # -- one node ----------------------------------------------------------------------------------------
    def visit(self, node: Any) -> None:
        self.fx_nodes[node.name] = node
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
            self.sides[node.name] = self.item_sides(node)
            self.by_size[node.name] = self.size_parts(node)
            return
        self.note_view(node)
        try:
            self.visit_op(self.resolved(node), feats)
            self.note_sized(node)
        except ModelError as exc:  # refused; an error only if some tap depends on this node
            refs = tuple(dict.fromkeys(v for v in (self.values[f] for f in feats) if v is not None))
            layer = Merge("add", "union") if len(refs) > 1 else Passthrough("refused")
            name = self.add(node, layer, refs)
            self.refused[name] = str(exc)
            self.set_value(node, name)
        self.follow_inplace(node, feats)

    # -- arguments read at the example size ----------------------------------------------------------------
    def axes_by_size(self, src: str) -> tuple[bool, ...] | bool:
        """Which axes of feature value ``src`` vary with the input's size: H and W of an (N, C, H, W) map; the
        axes holding rows or columns of a rearranged one; every axis but the batch where the layout is
        unknown (True: the shape itself is unknown)."""
        shape = self.shapes.get(src)
        if shape is None:
            return True
        if src not in self.opaque and len(shape) == 4:
            return (False, False, True, True)
        layout = self.layouts.get(src)
        if layout is not None and len(layout) == len(shape):
            return tuple(spatial_in(layout, a) or not layout[a] for a in range(len(shape)))
        return tuple(a > 0 for a in range(len(shape)))

    def shape_parts(self, node: Any, op: str, src: str) -> Any:
        """Which parts of a shape query of ``src`` vary with the input's size (``x.shape``, ``x.size(2)``:
        a tuple of flags or one flag; ``x.dim()`` never does)."""
        axes = self.axes_by_size(src)
        if op == "dim" or (op == "getattr" and len(node.args) > 1 and node.args[1] in ("ndim", "dtype", "device")):
            return False
        if op == "numel" or isinstance(axes, bool):
            return True
        if op == "size":
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            if dim is None:
                return axes
            return axes[dim] if isinstance(dim, int) and -len(axes) <= dim < len(axes) else True
        return axes if op == "shape" or (len(node.args) > 1 and node.args[1] == "shape") else True

    def shape_sides(self, node: Any, op: str, src: str) -> Any:
        """The :class:`_Side` read by each item of a shape query of the (N, C, H, W) map ``src`` (a tuple, None
        for N and C), or by the query itself (``x.size(3)``); None for anything else."""
        name, shape = self.values.get(src), self.shapes.get(src)
        if name is None or shape is None or len(shape) != 4 or src in self.opaque:
            return None
        per_axis = (None, None, _Side(name, 0), _Side(name, 1))
        if op == "size":
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            if dim is None:
                return per_axis
            return per_axis[dim] if isinstance(dim, int) and -4 <= dim < 4 else None
        return per_axis if op == "shape" or (len(node.args) > 1 and node.args[1] == "shape") else None

    def item_sides(self, node: Any) -> Any:
        """The sides an item or a slice of a shape reads (``y.shape[-2:]``, ``h, w = y.shape[2:]``); None for
        any other value, arithmetic on sizes included."""
        import operator

        from torch import fx

        if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[0], fx.Node):
            return None
        whole, index = self.sides.get(node.args[0].name), node.args[1]
        if not isinstance(whole, tuple) or isinstance(index, bool) or not isinstance(index, int | slice):
            return None
        if isinstance(index, slice) and any(isinstance(v, fx.Node) for v in (index.start, index.stop, index.step)):
            return None
        try:
            return whole[index]
        except IndexError:
            return None

    def full_size_of(self, arg: Any) -> str | None:
        """The graph node whose own (height, width) the argument ``arg`` (as traced) is, each read from its own
        axis, so that it follows that map at every input size; None for anything else: one side given for both
        axes, sides swapped or of two maps, a size computed from them."""
        from torch import fx

        if isinstance(arg, fx.Node):
            found = self.sides.get(arg.name)
        elif isinstance(arg, tuple | list) and all(isinstance(a, fx.Node) for a in arg):
            found = tuple(self.sides.get(a.name) for a in arg)
        else:
            return None
        if not isinstance(found, tuple) or len(found) != 2 or not all(isinstance(s, _Side) for s in found):
            return None
        height, width = found
        return str(height.map) if height.map == width.map and (height.axis, width.axis) == (0, 1) else None

    def size_parts(self, node: Any) -> Any:
        """Which parts of a value that is no feature map vary with the input's size: an item of a shape (its
        flag), else any argument that does (arithmetic on sizes: ``(32 - w % 32) % 32``)."""
        import operator

        from torch import fx

        args = [self.by_size.get(a, False) for a in self.all_args(node)]
        if node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node):
            whole, index = self.by_size.get(node.args[0].name, False), node.args[1]
            plain = isinstance(index, int | slice) and not isinstance(index, bool)
            if plain and isinstance(index, slice):
                plain = not any(isinstance(v, fx.Node) for v in (index.start, index.stop, index.step))
            if isinstance(whole, tuple) and plain:
                try:
                    return whole[index]
                except IndexError:
                    return True
        return any(_flagged(a) for a in args)

    def reads_size(self, node: Any) -> bool:
        """True when an argument of ``node`` that is no feature map was computed from the input's H or W."""
        return any(_flagged(self.by_size.get(a, False)) for a in self.all_args(node) if self.values.get(a) is None)

    def note_sized(self, node: Any) -> None:
        """Record the graph node ``node`` made when its geometry was read at the example size: an argument
        computed from H or W, an adaptive pool's window, an up-sampling's factor read from a given size, a
        transposed convolution's ``output_size``. An up-sampling to another map's size follows that map, a
        global pool and a pass-through hold at any size."""
        name = self.values.get(node.name)
        if name is None or self.fx_names.get(name) != node.name or node.name in self.opaque:
            return
        layer = next(n.layer for n in reversed(self.nodes) if n.name == name)
        mod = self.modules.get(str(node.target)) if node.op == "call_module" else None
        what = type(mod).__name__ if mod is not None else _base(node.name)
        why = f"({what}) takes arguments computed from the input's shape" if self.reads_size(node) else None
        if isinstance(layer, Passthrough | GlobalPool):
            return
        if isinstance(layer, Upsample):
            if layer.size_like is not None:
                return
            size = getattr(mod, "size", None) if mod is not None else _bind(node, ["input", "size"]).get("size")
            if size is not None:
                why = f"({what}) up-samples to a size, its factor read from the sizes in that run"
        elif isinstance(layer, Window) and "adaptive" in what.lower():
            why = f"({what}) has a window read from its input's size"
        elif isinstance(layer, TransposedConv) and _bind(node, ["input", "output_size"]).get("output_size") is not None:
            why = f"({what}) has its output padding read from output_size"
        if why is not None:
            self.sized[name] = why

    # -- in-place ops ------------------------------------------------------------------------------------
    def note_view(self, node: Any) -> None:
        """Record that ``node`` may share its data with its first argument (a view, a no-op conversion)."""
        from torch import fx

        first = node.args[0] if node.args else None
        if not isinstance(first, fx.Node):
            return
        if node.op == "call_module":
            op = type(self.modules[str(node.target)]).__name__
        else:
            target = node.target
            op = (target if isinstance(target, str) else getattr(target, "__name__", "")).strip("_")
        if op == "getitem" and self.shapes.get(first.name) is None:  # an item of a tuple: a piece of a split
            if first.name in self.view_of:
                self.view_of[node.name] = first.name
        elif op in VIEWS:
            self.view_of[node.name] = first.name

    def inplace_target(self, node: Any) -> Any:
        """The fx value an in-place op writes to (``a.add_(b)``, ``a += b``, ``relu(a, inplace=True)``, ``out=``),
        or None."""
        from torch import fx

        first = node.args[0] if node.args and isinstance(node.args[0], fx.Node) else None
        out = node.kwargs.get("out")
        if isinstance(out, fx.Node):
            return out
        if node.kwargs.get("inplace") is True:
            return first
        if node.op == "call_module":
            return first if getattr(self.modules[str(node.target)], "inplace", False) is True else None
        target = node.target
        name = target if isinstance(target, str) else getattr(target, "__name__", "")
        augmented = getattr(target, "__module__", "") in ("_operator", "operator") and name in INPLACE_OPERATORS
        if node.op == "call_function" and augmented:
            return first
        if node.op in ("call_method", "call_function") and name.endswith("_") and not name.startswith("_"):
            return first
        return None

    def follow_inplace(self, node: Any, feats: list[str]) -> None:
        """After an in-place op, the value it wrote to is its result for every later node (``a.add_(b); return
        a`` returns the sum). A value that shares data with it through a view (``a[:, :4].add_(b)`` changes
        ``a``) becomes an error when a tap depends on it, unless the op only acted on the written value element by
        element (an in-place activation): its geometry is then unchanged."""
        target = self.inplace_target(node)
        if target is None or target.name not in self.values or target.name == node.name:
            return
        written = target.name
        before, after = self.values[written], self.values[node.name]
        made = next((n for n in reversed(self.nodes) if n.name == after), None)
        elementwise = made is not None and isinstance(made.layer, Passthrough) and made.inputs == (before,)
        harmless = feats == [written] and after not in self.refused and (after == before or elementwise)
        root = self.same_as.get(written, written)
        self.same_as[node.name] = root
        same = {n for n, r in self.same_as.items() if r == root} | {root}
        for name in same - {node.name}:
            self.values[name] = after
            for table in (self.opaque, self.origin):
                if node.name in table:
                    table[name] = table[node.name]
                else:
                    table.pop(name, None)
            if node.name in self.layouts:
                self.layouts[name] = self.layouts[node.name]
            else:
                self.layouts.pop(name, None)
        if harmless:
            return
        linked = [(a, b) for a, b in self.view_of.items()] + [(a, b) for a, b in self.same_as.items()]
        group, grown = set(same), True
        while grown:
            grown = False
            for a, b in linked:
                if (a in group) != (b in group):
                    group |= {a, b}
                    grown = True
        for name in sorted(group - same, key=list(self.values).index):
            refs = tuple(dict.fromkeys(v for v in (self.values.get(name), after) if v is not None))
            layer = Merge("add", "union") if len(refs) > 1 else Passthrough("refused")
            made_name = self.add(node, layer, refs)
            self.refused[made_name] = (
                f"{self.label}: node '{node.name}': changes '{self.display(target)}' in place, which shares its data "
                f"with '{self.display(self.fx_nodes[name])}' (a view or an alias); the geometry of a value changed "
                "through a view is not followed"
            )
            self.values[name] = made_name
            for kept in (self.opaque, self.layouts, self.origin):
                kept.pop(name, None)

    def visit_op(self, node: Any, feats: list[str]) -> None:
        from torch import nn

        if node.op == "call_module":
            mod = self.modules[str(node.target)]
            what = cls = type(mod).__name__
            declared = cls in self.passthrough or str(node.target) in self.passthrough
            user = declared
            op = {"Flatten": "flatten", "Unflatten": "unflatten", "PixelShuffle": "pixel_shuffle"}.get(cls, "")
            op = op or {"PixelUnshuffle": "pixel_unshuffle"}.get(cls, "")
            if not declared and isinstance(mod, nn.Linear):
                op = "linear"
            elif not declared and not op and cls in PASS_MODULES:
                declared = True
        else:
            target = node.target
            op = target if isinstance(target, str) else getattr(target, "__name__", str(target))
            op = what = op.strip("_")
            attribute = node.args[1] if op == "getattr" and len(node.args) > 1 else None
            if attribute in TENSOR_ATTRIBUTES:  # data, not a shape: an item of torch.max(x, dim)'s named tuple
                op = what = "getitem" if attribute in ("values", "indices") else "alias"
                if op == "alias":  # x.data: the map itself
                    self.carry(node, feats[0])
                    return
            elif op == "getattr" and attribute not in SHAPE_ATTRIBUTES:
                raise self.fail(
                    node,
                    f"getattr {attribute}",
                    f"reads the attribute '{attribute}' of a feature map, which the import cannot follow (a transpose "
                    "such as x.mT rearranges the axes); expected a shape query (x.shape) or an operation on the map",
                )
            if op in SHAPE_FUNCTIONS:
                self.values[node.name] = None
                self.sides[node.name] = self.shape_sides(node, op, feats[0])
                self.by_size[node.name] = self.shape_parts(node, op, feats[0])
                return
            user = op in self.passthrough
            declared = op in PASS_FUNCTIONS or user
        src = feats[0]
        if declared and not user and (op or what) in AXIS_OPS:
            self.check_axis(node, op or what, src)
        if declared:
            self.carry(node, src, Passthrough(op or what.lower()))
            return
        if op in RESHAPES | PERMUTES | SHUFFLES:
            layout = self.layout_op(node, op, src)
            if isinstance(layout, str):
                self.set_pending(node, self.values[src] or INPUT, None, layout, self.display(node))
            else:
                self.settle(node, src, layout)
            return
        if op == "linear":
            self.linear(node, src)
            return
        for f in feats:  # a geometry op, a merge or a gate reads its inputs as feature maps
            if f in self.opaque:
                self.read_back(f)
        call = self.module_layer(node, feats) if node.op == "call_module" else self.function_layer(node, op, feats)
        result: tuple[Layer, bool] | str | None = call
        if result is None and what in CHANGES_GEOMETRY:
            raise ModelError(
                f"{self.label}: node '{node.name}': unsupported operation '{what}', which does not keep the geometry "
                f"({CHANGES_GEOMETRY[what]}); declaring it pass-through would give wrong numbers"
            )
        if result is None:
            raise ModelError(
                f"{self.label}: node '{node.name}': unsupported operation '{what}'; declare it pass-through if it "
                f"keeps the geometry ({self.hint(node, what)})"
            )
        merging = node.op != "call_module" and (op in BINARY or op in ("cat", "concat", "concatenate"))
        if isinstance(result, str):  # forwards an argument: the full-size operand of a gate, a chunk, an item
            piece = op in SPLITS or (op == "getitem" and self.shapes.get(result) is None)  # of a channel split
            if result in self.opaque and not merging and not piece:
                raise self.rearranged(node, what, result)
            self.carry(node, result)
            return
        layer, pad = result
        inputs = feats if isinstance(layer, Merge) else feats[:1]
        pending = [f for f in inputs if f in self.opaque]
        if pending and op in REDUCTIONS and isinstance(layer, Passthrough):  # over channels (axis -1 of (N, H, W, C))
            self.carry_reduced(node, op, pending[0])
            return
        if pending:
            same = merging and all(f in self.layouts and self.layouts[f] == self.layouts[inputs[0]] for f in inputs)
            if not same:
                raise self.rearranged(node, what, pending[0])
            refs = tuple(v for v in (self.values[i] for i in inputs) if v is not None)
            name = self.add(node, layer, refs)
            self.set_pending(node, name, self.layouts[inputs[0]], self.opaque[pending[0]], self.origin[pending[0]])
            return
        self.emit(node, layer, inputs, pad)
        emitted = self.values[node.name]
        assert emitted is not None
        out = self.shapes.get(node.name)
        if isinstance(layer, Window) and ("adaptive" in what.lower()):
            self.heads.add(emitted)
        if isinstance(layer, GlobalPool) and out is not None and len(out) != 4:
            pooled = reshape(canonical((*out[:2], 1, 1)) or (), out) if len(out) == 2 else None
            self.set_pending(node, emitted, pooled, "pools the whole map into a vector", self.display(node))

    def no_map(self) -> str:
        """Why the module returns no feature map: the refusal that left none (a convolution reading a transposed
        map, an unknown op between token tensors), else what the first returned value is."""
        for name in self.returned:
            value = self.values.get(name)
            refusal = self.refusal_in(value) if value is not None else None
            if refusal is not None:
                return refusal
        if self.returned:
            first = self.returned[0]
            return (
                f"{self.label}: the module returns '{self.display(self.fx_nodes[first])}', which is not an (N, C, H, "
                f"W) feature map: '{self.origin[first]}' {self.opaque[first]}; {NAME_TAPS}"
            )
        return f"{self.label}: the module returns no feature map; {NAME_TAPS}"

    def returns_lost_map(self) -> bool:
        """Whether the module returns a 4-D value whose geometry the import cannot follow (a 1-D convolution over
        the flattened positions, viewed back as a map): the stages before it alone would leave it out without a
        word, where a classifier's vector is rightly left out."""
        for name in self.returned:
            meta = self.fx_nodes[name].meta.get("tensor_meta") if name in self.fx_nodes else None
            if meta is not None and hasattr(meta, "shape") and len(meta.shape) == 4:
                return True
        return False

    def check_blocked(self, taps: list[tuple[str, str]]) -> None:
        """A :class:`ModelError` when the default stage taps ``taps`` stop before a refused node that later
        feature maps depend on (Swin's window attention): profiling the stages before it alone would leave the
        later ones out without a word."""
        later = blocked_maps(self.nodes, set(self.refused), self.maps(), self.heads)
        if not later:
            return
        refusal = self.refusal_in(later[-1])
        assert refusal is not None
        raise blocked_error(refusal, later, taps, "the module returns no feature map")

    def check_sizes(self, input_size: Pair) -> None:
        """Hold every node's size, computed by its layer from its inputs' sizes in the example run, to the size of
        its value in that run: where they differ, something the trace does not show changes the value (a forward
        hook or pre-hook of a module, which torch.fx does not trace). Such a node is refused (an error when a tap
        depends on it)."""
        from scalematch.profile.engine import out_size

        sizes: dict[str, Pair] = {INPUT: input_size}
        for graph_node in self.nodes:
            seen = self.seen.get(graph_node.name)
            try:
                n = sizes[graph_node.inputs[0]]
                made = (out_size(graph_node, 0, n[0], sizes), out_size(graph_node, 1, n[1], sizes))
            except Exception:  # an input too small, a size the engine refuses: reported when profiled
                made = None
            if seen is not None:
                sizes[graph_node.name] = seen
            elif made is not None:
                sizes[graph_node.name] = made
            else:
                continue
            if seen is None or made is None or seen == made or graph_node.name in self.refused:
                continue
            fx_node = self.fx_nodes[self.fx_names[graph_node.name]]
            module = self.modules.get(str(fx_node.target)) if fx_node.op == "call_module" else None
            hooked = module is not None and bool(module._forward_hooks or module._forward_pre_hooks)
            if hooked:
                why = (
                    f"a forward hook or pre-hook of '{fx_node.target}' changes it, which torch.fx does not trace; "
                    "expected hooks that return None"
                )
            elif isinstance(graph_node.layer, Passthrough):
                why = "it is taken as pass-through, which keeps the size; expected an op that keeps the geometry"
            else:
                why = "something the trace does not show changes it"
            self.refused[graph_node.name] = (
                f"{self.label}: node '{fx_node.name}': its value is {seen[1]}x{seen[0]} in the example run, but its "
                f"layer gives {made[1]}x{made[0]}: {why}"
            )

    def maps(self) -> set[str]:
        """The graph nodes that some fx value is, as an (N, C, H, W) map (a token sequence is none)."""
        return set(self.seen)

    def check_maps(self, taps: list[tuple[str, str]]) -> None:
        """A :class:`ModelError` for a tap on a node that is no (N, C, H, W) map: a merge or gate computed on a
        rearranged value (a position embedding added to a token sequence) has the geometry of a map, but holds
        none."""
        maps = self.maps()
        for tap, name in taps:
            if name in maps:
                continue
            fx_name = next((f for f, v in self.values.items() if v == name and f in self.opaque), None)
            shape = next((self.shapes.get(f) for f, v in self.values.items() if v == name), None)
            if fx_name is not None:
                why = f": '{self.origin[fx_name]}' {self.opaque[fx_name]}"
            else:
                why = f": its value has the shape {tuple(shape)}" if shape is not None else ""
            raise ModelError(f"{self.label}: tap '{tap}': '{name}' is not an (N, C, H, W) feature map{why}")

    def collect_outputs(self, out: Any) -> None:
        from torch import fx

        if isinstance(out, dict):
            for key, value in out.items():
                if isinstance(value, fx.Node) and value.name in self.opaque and not self.read_back(value.name):
                    self.returned.append(value.name)
                if isinstance(value, fx.Node) and self.values.get(value.name) and value.name not in self.opaque:
                    self.outputs.append((str(key), str(self.values[value.name])))
            return
        found: list[str] = []
        fx.node.map_arg(out, lambda a: found.append(a.name))
        for name in found:
            if name in self.opaque and not self.read_back(name):
                self.returned.append(name)
            value = self.values.get(name)
            if value and value != INPUT and name not in self.opaque and (value, value) not in self.outputs:
                self.outputs.append((value, value))


def _tracer(passthrough: frozenset[str]) -> Any:
    """A torch.fx tracer that keeps known and declared pass-through modules as leaves (not traced into)."""
    from torch import fx

    proxy_class = _inplace_proxy_class()

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            cls = type(m).__name__
            if cls in PASS_MODULES or cls in passthrough or qualname in passthrough:
                return True
            return bool(super().is_leaf_module(m, qualname))

        def proxy(self, node: Any) -> Any:
            return proxy_class(node, self)

    return Tracer()


INPLACE_OPERATORS = ("iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "imatmul", "iand", "ior", "ixor")
"""Augmented assignments (``a += b``): torch.fx's proxies have none, so Python falls back to ``a = a + b`` and an
alias of ``a`` (``y = a``) would keep the old value; the tracer records them as ``operator.iadd`` etc. instead (the
traced module then changes ``a`` in place, as the module does)."""


def _inplace_proxy_class() -> Any:
    import operator

    from torch import fx

    def make(name: str) -> Any:
        def method(self: Any, other: Any) -> Any:
            op = getattr(operator, name)  # named as fx names 'a + b' (add, add_1, ...): node names stay as they were
            return self.tracer.create_proxy("call_function", op, (self, other), {}, name=name[1:])

        method.__name__ = f"__{name}__"
        return method

    return type("Proxy", (fx.Proxy,), {f"__{name}__": make(name) for name in INPLACE_OPERATORS})


def _example_channels(gm: Any, modules: Mapping[str, Any], given: int | None) -> list[int]:
    """Channel counts to try for the example input: the given one; else the input channels of the first
    convolution run, then 3 and 1 (a space-to-depth or a stem that is no convolution comes first)."""
    from torch import nn

    if given is not None:
        return [given]
    first = None
    for node in gm.graph.nodes:
        mod = modules.get(str(node.target)) if node.op == "call_module" else None
        if isinstance(mod, nn.Conv2d | nn.ConvTranspose2d):
            first = int(mod.in_channels)
            break
    return list(dict.fromkeys([c for c in (first, 3, 1) if c is not None]))


VALUE = "scalematch_value"
"""The ``node.meta`` key of a value the example run computed that is no tensor (a size, a dim, a pad amount)."""


def _plain(value: Any) -> bool:
    """Numbers, text, None and tuples or lists of them (``torch.Size`` is a tuple): a value an argument can be."""
    if isinstance(value, tuple | list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def _recording_shape_prop() -> Any:
    """torch's ShapeProp that also keeps, in ``node.meta[VALUE]``, every value the example run computes that is
    no tensor: a dim, a size or a pad computed from shapes in the traced graph (``a.dim() - 1``,
    ``x.size()[2:]``, ``(8 - w % 8) % 8``) is then read at the example size."""
    from torch.fx.passes.shape_prop import ShapeProp

    class Recording(ShapeProp):
        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            if _plain(result):
                n.meta[VALUE] = result
            return result

    return Recording


def _propagate_shapes(gm: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """Record every value's shape (ShapeProp) for an example input of ``shape``: with fake tensors (no
    arithmetic, fast at detection sizes) where torch supports that, else by running the module."""
    import torch

    ShapeProp = _recording_shape_prop()
    with contextlib.redirect_stderr(io.StringIO()), torch.no_grad():  # ShapeProp prints the tracebacks
        try:
            from torch._subclasses.fake_tensor import FakeTensorMode

            mode = FakeTensorMode(allow_non_fake_inputs=True)
            with mode:  # made inside the mode: a fake tensor from the start, no memory for its data
                example = torch.empty(shape, dtype=dtype)
            ShapeProp(gm, fake_mode=mode).propagate(example)
            return
        except (Exception, SystemExit):
            pass  # an op without a fake implementation, an input that does not fit: run it for real
        try:
            ShapeProp(gm).propagate(torch.zeros(shape, dtype=dtype))
        except (Exception, SystemExit) as exc:
            raise exc.__cause__ or exc from None  # ShapeProp's own message only names the node


def _second_shapes(
    module: Any, gm: Any, shape: tuple[int, ...], dtype: Any
) -> dict[str, tuple[int, ...] | None] | None:
    """Every fx value's shape for an example input of ``shape`` (None when the module does not run at it),
    the values recorded by the example run left as they were."""
    saved = {node: dict(node.meta) for node in gm.graph.nodes}
    modes = [(sub, sub.training) for sub in module.modules()]
    module.eval()
    try:
        _propagate_shapes(gm, shape, dtype)
        shapes: dict[str, tuple[int, ...] | None] = {}
        for node in gm.graph.nodes:
            meta = node.meta.get("tensor_meta")
            shapes[node.name] = tuple(int(v) for v in meta.shape) if hasattr(meta, "shape") else None
        return shapes
    except Exception:
        return None
    finally:
        for node, meta in saved.items():
            node.meta.clear()
            node.meta.update(meta)
        for sub, training in modes:
            sub.training = training


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
    broadcast gates); ``channels`` its channel count (default: the first one the module runs on, trying the
    first convolution's input channels, then 3 and 1). ``taps`` names the feature maps to mark as outputs
    (node names, module paths such as ``layer2``, or ``C3=layer2``); by default the module's outputs that are
    feature maps, or, when it returns none (a classifier), the last feature map at each stride (C1 at stride
    2, ..., C5 at 32). ``passthrough`` declares module classes, module paths or function names as
    geometry-preserving. Nodes no tap depends on are dropped before anything is checked. Raises
    :class:`ModelError` with one line naming the module when tracing fails, and naming the node for an
    unsupported operation.
    """
    require("torch", "torch", f"{model}" if isinstance(model, str) else "PyTorch modules")
    with stdout_to_stderr():
        return _trace(model, input_size, taps, passthrough, name, channels)


def _trace(
    model: Any, input_size: Pair, taps: TapSpec, passthrough: Iterable[str], name: str | None, channels: int | None
) -> Traced:
    import torch
    from torch import fx, nn

    label = model if isinstance(model, str) else type(model).__name__
    module = load_module(model) if isinstance(model, str) else model
    if not isinstance(module, nn.Module):
        if not isinstance(model, str):  # (its type is no name for it)
            raise ModelError(f"model: expected an nn.Module or a 'file.py:name' text, got {type(model).__name__}")
        raise ModelError(f"{label}: expected an nn.Module, got {type(module).__name__}")
    check_initialised(module, label)
    declared = frozenset(passthrough)
    if module._forward_hooks or module._forward_pre_hooks:
        raise ModelError(
            f"{label}: the {type(module).__name__} has forward hooks or pre-hooks of its own, which torch.fx does "
            "not trace (they run around its forward); expected a module without them"
        )
    modes = [(sub, sub.training) for sub in module.modules()]  # each module's own mode, restored as it was
    module.eval()  # traced as used for inference: dropout and drop-path branches are the identity
    try:
        try:
            tracer = _tracer(declared)
            traced_graph = tracer.trace(module)
            gm = fx.GraphModule(tracer.root, traced_graph, type(module).__name__)
        except (Exception, SystemExit) as exc:  # (a forward that calls sys.exit)
            text = str(exc)
            if isinstance(exc, fx.proxy.TraceError):  # a Proxy in an if, a loop, *args: torch.fx's own refusal
                why = "data-dependent control flow cannot be traced"
            elif "Proxy" in text or "symbolic tracing" in text:  # len(x), int(x.sum()), a Proxy given to numpy ...
                why = "code that reads a traced tensor's values (len(), int(), an if on them) cannot be traced"
            else:  # the module's own error (a check, a bug, a raise): its cause is not known here
                why = (
                    "the module raised this while torch.fx traced it with symbolic tensors, which hold no values "
                    "(one possible cause: code that reads the input's values)"
                )
            if "does not support item assignment" in text:
                why = (
                    "an assignment to part of a tensor (x[...] = y) cannot be traced: build the tensor with "
                    "torch.cat or F.pad instead, or export the model to ONNX and give the .onnx file"
                )
            raise ModelError(
                f"{label}: torch.fx cannot trace module '{type(module).__name__}' ({_first_line(exc)}); {why}"
            ) from None
        params = [p for p in module.parameters() if p.is_floating_point()]
        dtype = params[0].dtype if params else torch.float32
        tried = _example_channels(gm, dict(gm.named_modules()), channels)
        first: BaseException | None = None
        for c in tried:
            try:
                _propagate_shapes(gm, (1, c, *input_size), dtype)
                channels = c
                break
            except (Exception, SystemExit) as exc:
                first = first or exc
        else:
            rest = tried[1:]
            others = f"; also tried {'/'.join(map(str, rest))} channel{'s' * (rest != [1])}" if rest else ""
            raise ModelError(
                f"{label}: running '{type(module).__name__}' on a 1x{tried[0]}x{input_size[0]}x{input_size[1]} "
                f"input failed ({_first_line(first or RuntimeError())}){others}"
            ) from None
    finally:
        for sub, training in modes:
            sub.training = training
    assert channels is not None
    importer = _Importer(gm, label, declared)
    importer.rerun = lambda: _second_shapes(module, gm, (1, channels, 2 * input_size[0], 2 * input_size[1]), dtype)
    for node in gm.graph.nodes:
        importer.visit(node)
    notes = []
    requested = parse_taps(taps)
    if requested is None:
        maps = importer.maps()  # outputs that are no (N, C, H, W) map (a token sequence) are left out
        requested = [(tap, value) for tap, value in importer.outputs if value in maps or value in importer.refused]
        if not requested and importer.returns_lost_map():
            raise ModelError(importer.no_map())
        if not requested:
            non_maps = {n.name for n in importer.nodes} - maps
            requested = stage_taps(importer.nodes, set(importer.refused) | importer.heads | non_maps)
            if requested:
                importer.check_blocked(requested)
                notes.append("taps: the last feature map at each stride (the module returns no feature map)")
    if not requested:
        raise ModelError(importer.no_map())
    resolved = resolve_requested(importer, requested, label)
    if taps is not None:
        one_name_per_map(resolved, label)
    importer.check_sizes(input_size)
    convention = f"imported from PyTorch module '{label}' by torch.fx tracing at {input_size[1]}x{input_size[0]}"
    if channels != 3:
        convention += f" with {channels} input channels"
    graph = finish(
        name or (label.rsplit(":", 1)[-1] if isinstance(model, str) else label),
        importer.nodes,
        resolved,
        convention,
        label,
        importer.pads,
        importer.refused,
        notes,
        input_size,
        importer.sized,
    )
    importer.check_maps(resolved)
    return Traced(graph, gm, importer.fx_names, channels, input_size)


def from_torch(
    model: Any,
    input_size: str | tuple[int, int] = "224x224",
    taps: TapSpec = None,
    passthrough: Iterable[str] = (),
    name: str | None = None,
    channels: int | None = None,
) -> Graph:
    """The layer graph of a PyTorch module (see :func:`trace`). ``input_size`` is the example input, width
    first as everywhere in scalematch (``"1333x800"`` or ``(1333, 800)``, as :func:`profile_model` takes it).
    A graph whose geometry was read at that size (a pad to a multiple, a stride computed from the shape) is
    profiled at that size only (``Graph.size_bound``)."""
    from scalematch.profile.api import parse_size

    if isinstance(model, str):
        no_nul(model, "model")
    size = parse_size(input_size, required=True)
    assert size is not None
    return trace(model, size, taps, passthrough, name, channels).graph
