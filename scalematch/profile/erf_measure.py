"""Measured effective receptive field (the ``torch`` extra): input gradients of a feature map's centre unit.

The gradient of the centre unit of a feature map (summed over its channels) with respect to the input is
taken for ``samples`` random inputs (standard normal); its absolute value, summed over input channels and
averaged over the samples, is the ERF map (Luo et al. 2016). Reported: the standard deviation per axis of
that map (as a distribution), and the side of the smallest square centred on its centre pixel holding 20,
50, 90 and 99 % of the mass (the protocol published with RepLKNet, Ding et al. 2022, reported as a side in
pixels instead of an area ratio).

Weights: ``uniform`` builds a linear network of the graph's geometry (one channel, every kernel averaging its
taps, max-pooling averaged, adds and concats averaging their inputs): its ERF is the analytic one exactly.
``random`` builds a ReLU network of the same geometry with He-initialised random weights (8 channels), or
re-initialises a torch module's parameters; ``model`` uses a torch module's own weights.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

from scalematch._text import int_text
from scalematch.errors import GraphError, ModelError, OptionError
from scalematch.profile import runs
from scalematch.profile.engine import Profile, profile
from scalematch.profile.graph import INPUT, Graph, upstream
from scalematch.profile.layers import GlobalPool, Merge, Pair, Passthrough, TransposedConv, Upsample, Window

_T = TypeVar("_T")

if TYPE_CHECKING:
    import pandas as pd

MAX_SAMPLES = 10_000
"""Most random inputs averaged (each costs a forward and a backward pass)."""

Weights = Literal["uniform", "random", "model"]
FRACTIONS = (0.2, 0.5, 0.9, 0.99)
WIDTH = 8
BATCH = 256
"""Random inputs run at once: the memory of the measurement is that of 256 samples at most, whatever ``samples`` is."""
MAX_ERF_BYTES = 8 << 30
"""The activations one batch of the measurement may hold (estimated before it runs, see :func:`_sample_bytes`):
a batch holds fewer samples when they would exceed it, and a network whose one sample would is refused."""
KEPT = 3
"""Copies of each map a sample of a built network (:func:`graph_network`, which keeps every node's value) is
estimated to hold: the value, what autograd saves of it, its gradient."""


@dataclass(frozen=True)
class MeasuredErf:
    """A measured ERF next to the analytic one. Pairs are ``(y, x)``; ``mass`` is the normalised map."""

    model: str
    tap: str
    node: str
    input_size: Pair
    samples: int
    weights: str
    unit: Pair
    center: tuple[float, float]
    sigma: tuple[float, float]
    analytic_sigma: tuple[float, float]
    rf: Pair
    box: tuple[Pair, Pair]
    squares: tuple[tuple[float, int], ...]
    mass: Any = field(repr=False, compare=False)
    warnings: tuple[str, ...] = ()
    """What the profile of the network warned of: a misaligned add or concat taken as the exact union of its
    inputs (``allow_misaligned``)."""

    @property
    def clipped(self) -> bool:
        """The unit's receptive field reaches past the input's border, so the border cuts the measured ERF and
        its sigma is smaller than in an input that holds the whole field."""
        return any(lo < 0 or hi >= size for (lo, hi), size in zip(self.box, self.input_size, strict=True))

    def __repr__(self) -> str:
        from scalematch.profile.erf_document import erf_repr

        return erf_repr(self)

    def to_dict(self) -> dict[str, Any]:
        """The ``scalematch erf --json`` document (pairs per axis, ``[y, x]``)."""
        from scalematch.profile.erf_document import erf_json

        return erf_json(self)

    def to_frame(self) -> pd.DataFrame:
        """One row: the document's numbers, per-axis ones as ``<name>_h`` / ``<name>_w`` (a pandas DataFrame;
        ``pd.concat`` of several measurements compares them)."""
        from scalematch.profile.erf_document import erf_frame

        return erf_frame(self)


def _same_pads(k_eff: int, s: int, n: int) -> tuple[int, int]:
    total = max((-(-n // s) - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def graph_network(graph: Graph, weights: Weights, seed: int = 0) -> Any:
    """A torch module computing ``graph`` (``forward(x, until)`` returns node ``until``); see the module doc."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    order = graph.ordered()
    linear = weights == "uniform"
    channels = 1 if linear else WIDTH
    generator = torch.Generator().manual_seed(seed)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kernels: dict[str, Any] = {}
            for node in order:
                layer = node.layer
                if isinstance(layer, Window | TransposedConv) and (layer_kind(layer) == "conv" or not linear):
                    kh, kw = layer.kernel
                    if linear:
                        self.kernels[node.name] = torch.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=torch.float64)
                    elif isinstance(layer, TransposedConv) or layer.kind == "conv":
                        fan = channels * kh * kw
                        w = torch.randn(channels, channels, kh, kw, generator=generator) * math.sqrt(2.0 / fan)
                        self.kernels[node.name] = w

        def forward(self, x: Any, until: str) -> Any:
            values: dict[str, Any] = {INPUT: x}
            for node in order:
                values[node.name] = self.step(node, [values[r] for r in node.inputs], values)
                if node.name == until:
                    return values[node.name]
            raise KeyError(until)

        def step(self, node: Any, xs: list[Any], values: dict[str, Any]) -> Any:
            layer, x = node.layer, xs[0]
            if isinstance(layer, Window):
                k_eff = [layer.dilation[a] * (layer.kernel[a] - 1) + 1 for a in (0, 1)]
                if layer.padding == "same":
                    (t, b), (le, r) = (_same_pads(k_eff[a], layer.stride[a], x.shape[2 + a]) for a in (0, 1))
                else:
                    (t, b), (le, r) = layer.padding
                x = F.pad(x, (le, r, t, b))
                if layer.kind == "conv":
                    w = self.kernels[node.name]
                    y = F.conv2d(x, w, None, layer.stride, 0, layer.dilation, groups=1)
                    return y if linear else F.relu(y)
                if layer.kind == "maxpool" and not linear:
                    return F.max_pool2d(x, layer.kernel, layer.stride, 0, layer.dilation, layer.ceil_mode)
                if layer.dilation != (1, 1):  # a dilated average: a uniform depthwise convolution
                    w = torch.full((x.shape[1], 1, *layer.kernel), 1.0 / math.prod(layer.kernel), dtype=x.dtype)
                    return F.conv2d(x, w, None, layer.stride, 0, layer.dilation, groups=x.shape[1])
                return F.avg_pool2d(x, layer.kernel, layer.stride, 0, layer.ceil_mode)
            if isinstance(layer, TransposedConv):
                args = (layer.stride, 0, 0, 1, layer.dilation)
                y = window_of(F.conv_transpose2d(x, self.kernels[node.name], None, *args), layer)
                if not linear:
                    return F.relu(y)
                ones = torch.ones(1, 1, *layer.kernel, dtype=x.dtype)
                count = window_of(F.conv_transpose2d(torch.ones_like(x[:1, :1]), ones, None, *args), layer)
                return y * (layer.kernel[0] * layer.kernel[1]) / count.clamp(min=1)
            if isinstance(layer, Upsample):
                size = values[layer.size_like].shape[-2:] if layer.size_like else None
                scale = None if size is not None else tuple(float(s) for s in layer.scale)
                if layer.mode == "nearest":
                    return F.interpolate(x, size=size, scale_factor=scale, mode="nearest")
                return F.interpolate(x, size=size, scale_factor=scale, mode="bilinear", align_corners=False)
            if isinstance(layer, GlobalPool):
                return x.mean((2, 3), keepdim=True) if linear or layer.kind == "avg" else x.amax((2, 3), keepdim=True)
            if isinstance(layer, Merge):
                return sum(xs[1:], xs[0]) / len(xs)
            assert isinstance(layer, Passthrough)
            return x

    return Net()


def window_of(full: Any, layer: TransposedConv) -> Any:
    """The output of a transposed convolution cut from its ``full`` output (no padding): ``padding`` units
    dropped at the start, the length torch's formula gives kept, zeros past the full output (an
    ``output_padding`` of any size, negative too: ONNX's asymmetric pads)."""
    import torch.nn.functional as F

    ends = []
    for a in (1, 0):  # F.pad lists the last axis first
        n = full.shape[2 + a]
        kept = n - 2 * layer.padding[a] + layer.output_padding[a]
        ends += [-layer.padding[a], kept - (n - layer.padding[a])]
    return F.pad(full, tuple(ends))


def layer_kind(layer: Window | TransposedConv) -> str:
    return layer.kind if isinstance(layer, Window) else "conv"


def _stats(mass: Any) -> tuple[tuple[float, float], tuple[float, float], tuple[tuple[float, int], ...]]:
    """Centre of mass, sigma per axis, and the centred squares holding FRACTIONS of the mass."""
    import numpy as np

    centres, sigmas = [], []
    for a in (0, 1):
        marginal = mass.sum(axis=1 - a)
        coords = np.arange(marginal.size, dtype=np.float64)
        mean = float((coords * marginal).sum())
        centres.append(mean)
        sigmas.append(math.sqrt(max(float(((coords - mean) ** 2 * marginal).sum()), 0.0)))
    cy, cx = (round(c) for c in centres)
    integral = np.pad(mass.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = mass.shape
    squares = []
    reach = max(h, w)
    for fraction in FRACTIONS:
        side = 2 * reach + 1
        for k in range(reach + 1):
            y0, y1, x0, x1 = max(cy - k, 0), min(cy + k + 1, h), max(cx - k, 0), min(cx + k + 1, w)
            inside = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
            if inside >= fraction - 1e-12:
                side = 2 * k + 1
                break
        squares.append((fraction, side))
    return (centres[0], centres[1]), (sigmas[0], sigmas[1]), tuple(squares)


MAX_ERF_PIXELS = 4096 * 4096


def default_input_size(rf: Pair, stride: tuple[float, float]) -> Pair:
    """The receptive field plus four strides, rounded up to a multiple of 32 (at least 64, at most 1024)."""
    return (
        min(max(64, 32 * math.ceil((rf[0] + 4 * stride[0]) / 32)), 1024),
        min(max(64, 32 * math.ceil((rf[1] + 4 * stride[1]) / 32)), 1024),
    )


def measure_erf(
    model: Any,
    input_size: str | tuple[int, int] | None = None,
    tap: str | None = None,
    samples: int = 8,
    weights: Weights | None = None,
    neck: str | None = None,
    seed: int = 0,
    allow_misaligned: bool = False,
    passthrough: str | Sequence[str] | None = (),
) -> MeasuredErf:
    """Measure the ERF of one feature map (``tap``: an output name or node; default the last output).

    ``model``: a built-in/YAML/ONNX name, a torch ``package.module:attribute``, an ``nn.Module`` or a
    :class:`Graph`. ``input_size`` is width first (``"1333x800"`` or ``(1333, 800)``), as everywhere in
    scalematch; default: the RF plus four strides, rounded up to 32 (a graph that holds at its example size
    only, and an ONNX model that fixes its input, at that size). ``weights`` (uniform, random or model, in any case)
    defaults to ``model`` for torch modules and ``uniform`` otherwise. A misaligned add or concat is an error, as
    in :func:`~scalematch.profile.api.profile_model`, unless ``allow_misaligned`` (then the exact union of its
    inputs is taken and :attr:`MeasuredErf.warnings` says so). ``passthrough`` declares unknown operators of an
    ONNX or torch model geometry-preserving, as in ``profile_model``. When the default taps would stop before a
    node the import refuses, a ``tap`` naming a map before that node is imported as the only tap (without a
    ``neck``), so that map is measured. torch's global random state is the caller's again afterwards (the inputs
    and random weights drawn from ``seed`` leave a notebook's later random numbers as they would have been).
    """
    with _random_state_kept():
        return _measure_erf(model, input_size, tap, samples, weights, neck, seed, allow_misaligned, passthrough)


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """torch's global random state (CPU) restored when the block ends, once torch is importable."""
    try:
        import torch
    except ImportError:  # (the measurement says which extra to install)
        yield
        return
    with torch.random.fork_rng(devices=[]):
        yield


def _measure_erf(
    model: Any,
    input_size: str | tuple[int, int] | None,
    tap: str | None,
    samples: int,
    weights: Weights | None,
    neck: str | None,
    seed: int,
    allow_misaligned: bool,
    passthrough: str | Sequence[str] | None,
) -> MeasuredErf:
    import os
    import sys

    from scalematch import _args
    from scalematch.extras import require
    from scalematch.profile.api import _names, build, check_given, is_imported, parse_size

    input_pair = parse_size(input_size)
    if isinstance(model, str | os.PathLike):  # a path as its text; a NUL byte in it is refused here
        model = _args.path_or_name(model, "model", "a model name or path, an nn.Module or a Graph")
        check_given(model, "model", "a model name or path")
    torch_nn = sys.modules.get("torch.nn")  # an nn.Module's class is torch's: torch is imported once there is one
    if not isinstance(model, str | Graph) and (torch_nn is None or not isinstance(model, torch_nn.Module)):
        expected = "a model name or path, an nn.Module or a Graph"
        raise OptionError(f"model: expected {expected}, got {_args.shown_path(model)}")
    _args.expect(tap, "tap", str, "an output name or node (str)", optional=True)
    samples = _args.integer(samples, "samples")  # a numpy integer as the int it stands for
    seed = _args.integer(seed, "seed")
    allow_misaligned = _args.flag(allow_misaligned, "allow_misaligned")
    declared = _names(passthrough, "passthrough")
    if declared and isinstance(model, Graph):
        raise OptionError("passthrough: a Graph is measured as it is; passthrough= applies to names and paths")
    if not 1 <= samples <= MAX_SAMPLES:
        raise OptionError(f"samples: expected a whole number from 1 to {MAX_SAMPLES}, got {int_text(samples)}")
    if not 0 <= seed < 2**32:  # torch's CPU generator keeps 32 bits of a seed: 2^32 gives the numbers of 0
        raise OptionError(f"seed: expected a whole number from 0 to 2^32 - 1, got {int_text(seed)}")
    if weights is not None:  # (an array or a Series would be compared with the names element by element)
        if isinstance(weights, str) and weights.lower() in get_args(Weights):
            weights = cast(Weights, weights.lower())  # in any case, as Weights("UNIFORM") and format= take them
        _args.choice(weights, "weights", get_args(Weights))
    if neck is not None and not (
        isinstance(model, str) and (not is_imported(model) or model.lower().endswith(".onnx"))
    ):
        what = "a Graph" if isinstance(model, Graph) else "a PyTorch module"
        raise OptionError(
            f"neck: applies to a backbone config, a built-in backbone or an ONNX model, not to {what} (measured as "
            f"it is); got {_args.shown(neck)}"
        )
    label = model if isinstance(model, str) else model.name if isinstance(model, Graph) else type(model).__name__
    graph: Graph | None = None
    fixed = False  # the size is the model's own fixed input size
    if isinstance(model, Graph) or (
        isinstance(model, str) and (not is_imported(model) or model.lower().endswith(".onnx"))
    ):  # a config, a built-in or an ONNX file: read (and its options checked) before torch is needed
        if weights == "model":
            raise OptionError(
                "weights: model needs a PyTorch module (package.module:attribute); configs and ONNX "
                "models are measured with uniform or random weights"
            )
        onnx_size = input_pair if isinstance(model, str) and model.lower().endswith(".onnx") else None
        if isinstance(model, Graph):
            graph = model
        else:
            name = str(model)
            graph = _imported(
                lambda taps: build(name, neck, taps=taps, passthrough=declared, input_size=onnx_size, param="model"),
                tap,
                neck,
                (lambda found: found) if is_imported(name) else None,  # a config's taps: its outputs and nodes
            )
        if input_pair is None and graph.fixed_input is not None and None not in graph.fixed_input:
            input_pair = graph.fixed_input[1:]  # type: ignore[assignment]  # an ONNX model that fixes its input
            fixed = True
        tap, node = _tap_node(graph, tap, str(label))
    require("torch", "torch", "measuring the ERF")
    import numpy as np
    import torch
    from torch import fx, nn

    traced, source = None, None
    if graph is None:
        from scalematch.profile.importers.torch import check_initialised, load_module, trace

        weights = weights or "model"
        module = load_module(model) if isinstance(model, str) else cast(nn.Module, model)  # no Graph: graph is set
        check_initialised(module, str(label))
        if any(p.is_meta for p in [*module.parameters(), *module.buffers()]):
            raise ModelError(
                f"{label}: the module holds parameters on the 'meta' device, which have a shape but no values; "
                "load its weights (or build it on the CPU) before measuring"
            )
        try:  # measured on a copy: the module given is never changed (its weights, its dtype)
            module = copy.deepcopy(module)
        except Exception as exc:  # a lock, a generator, a file handle among its attributes, or its own __deepcopy__
            raise ModelError(
                f"{label}: the module cannot be copied ({type(exc).__name__}: {_first(exc)}), and erf measures a copy "
                "(its weights and dtype are changed); keep what cannot be copied out of the module's attributes"
            ) from None
        module = module.double()  # float64: the uniform case reproduces the analytic sigma
        _set_weights(module, weights, seed)
        traced = _imported(
            lambda taps: _labelled(
                lambda: trace(module, input_pair or (224, 224), taps, declared, name=str(label)), module, model
            ),
            tap,
            None,
            lambda found: found.graph,
        )
        graph, source = traced.graph, module
        tap, node = _tap_node(graph, tap, str(label))
    assert tap is not None  # resolved with the graph
    if traced is None:  # the map's own network: a node after it takes no part (the module runs whole)
        graph = upstream(graph, node)
    weights = weights or "uniform"
    free = _profiled(graph, None, allow_misaligned, str(label) if traced is not None else None)[node]
    if free.y is None or free.x is None:
        raise OptionError(f"tap: '{tap}' depends on the whole input; its ERF is the whole image")
    size = input_pair or default_input_size((free.y.rf, free.x.rf), (float(free.y.stride), float(free.x.stride)))
    source_of_size = "" if input_pair else " (the default: the RF plus four strides)"
    if input_pair is None and graph.size_bound and graph.traced_at is not None and traced is None:
        size = graph.traced_at  # a graph that holds at its example size only is measured there
        source_of_size = " (the size the model was read at)"
    if input_pair is None and graph.fixed_input is not None:  # a model that fixes its height or its width
        size = (graph.fixed_input[1] or size[0], graph.fixed_input[2] or size[1])
        fixed = fixed or (graph.fixed_input[1] or 1) * (graph.fixed_input[2] or 1) > MAX_ERF_PIXELS
    if fixed and graph.fixed_input is not None and size[0] * size[1] > MAX_ERF_PIXELS:
        side_note = " (WxH, its free side at the default)" if None in graph.fixed_input[1:] else " (WxH)"
        raise ModelError(
            f"{label}: its input '{graph.fixed_input[0]}' is fixed at {size[1]}x{size[0]}{side_note}; the measured ERF "
            f"runs networks on at most {MAX_ERF_PIXELS} pixels (4096x4096), beyond which the activations would "
            "exhaust memory"
        )
    if size[0] * size[1] > MAX_ERF_PIXELS:
        raise OptionError(
            f"input_size: the measured ERF runs the network on {size[1]}x{size[0]} inputs{source_of_size}; expected "
            f"at most {MAX_ERF_PIXELS} pixels (4096x4096), beyond which the activations would exhaust memory"
        )
    default = ""
    if input_pair is None:
        default = " (the default: the RF plus four strides); give input_size=WxH at which the module runs"
    if traced is not None and graph.size_bound and size != traced.input_size:
        from scalematch.profile.importers.torch import trace

        try:  # its geometry was read at the first example size: trace it again where it is measured
            traced = trace(source, size, name=str(label), channels=traced.channels)
        except ModelError as exc:
            text = str(exc).replace(f"{type(source).__name__}: ", f"{label}: ", 1)
            raise ModelError(f"{text}; the ERF is measured at {size[1]}x{size[0]} (WxH){default}") from None
        graph = traced.graph
        tap, node = _tap_node(graph, tap, str(label))
    measured = _profiled(graph, size, allow_misaligned, str(label) if traced is not None else None)
    fm = measured[node]
    assert fm.size is not None and fm.y is not None and fm.x is not None
    unit = (fm.size[0] // 2, fm.size[1] // 2)
    box = fm.input_box(*unit)
    assert box is not None
    torch.manual_seed(seed)
    if traced is not None:
        target = traced.fx_names[node]

        class Reached(Exception):
            """The map measured is computed: the nodes after it take no part (nor memory)."""

        class Capture(fx.Interpreter):
            captured: Any = None

            def run_node(self, n: Any) -> Any:
                result = super().run_node(n)
                if n.name == target:
                    self.captured = result
                    raise Reached
                return result

        def run(x: Any) -> Any:
            from scalematch.profile.importers.torch import stdout_to_stderr

            interpreter = Capture(traced.module)
            with stdout_to_stderr(), contextlib.suppress(Reached):  # the module's forward may print
                interpreter.run(x)
            return interpreter.captured

        dtype, channels = torch.float64, traced.channels
        traced.module.eval()
    else:
        net = graph_network(graph, weights, seed)
        dtype = torch.float64 if weights == "uniform" else torch.float32
        channels = 1 if weights == "uniform" else WIDTH

        def run(x: Any) -> Any:
            return net(x, node)

    itemsize = torch.finfo(dtype).bits // 8
    per_sample = (
        _fx_sample_bytes(traced.module, target, size, traced.input_size)
        if traced is not None
        else _graph_sample_bytes(measured, channels, itemsize)
    )
    if per_sample > MAX_ERF_BYTES:
        raise ModelError(
            f"{label}: measuring '{tap}' on {size[1]}x{size[0]} (WxH) inputs would hold about "
            f"{per_sample / (1 << 30):,.1f} GB of activations for one sample ({len(measured.feature_maps):,} layers); "
            f"expected at most {MAX_ERF_BYTES >> 30} GB, beyond which memory runs out: "
            + ("its input is fixed at that size" if fixed else "give a smaller --size")
        )
    batch_size = max(1, min(BATCH, MAX_ERF_BYTES // max(per_sample, 1)))
    grad_sum = torch.zeros(size, dtype=torch.float64)
    try:
        for start in range(0, samples, batch_size):  # a batch at a time: memory does not grow with the samples (the
            # inputs drawn batch by batch are the ones one draw of all would give, from 16 numbers a batch on)
            batch = torch.randn(min(batch_size, samples - start), channels, *size, dtype=dtype, requires_grad=True)
            out = run(batch)
            if tuple(out.shape[-2:]) != fm.size:
                (h, w), (ph, pw) = out.shape[-2:], fm.size
                traced_at = graph.traced_at or size
                raise ModelError(
                    f"{label}: '{tap}' is {w}x{h} (WxH) when run at {size[1]}x{size[0]}, but {pw}x{ph} in the profile "
                    f"traced at {traced_at[1]}x{traced_at[0]}: the module's geometry depends on the input size "
                    "in a way the trace does not show; give input_size=WxH to trace and measure it at one size"
                )
            picked = out[:, :, unit[0], unit[1]].sum()
            if picked.requires_grad:
                picked.backward()
            if batch.grad is None:  # no path autograd follows from the input to the tap
                raise ModelError(
                    f"{label}: measuring '{tap}': autograd finds no path from the input to it (the module cuts the "
                    "gradient on the way: x.detach(), x.data or torch.no_grad()), so its gradients cannot be measured"
                )
            grad_sum += batch.grad.detach().abs().sum(1).sum(0).to(torch.float64)
            del out, batch
    except ModelError:
        raise
    except (Exception, SystemExit) as exc:  # the module's own error at this size (a forward may call sys.exit)
        if isinstance(exc, RuntimeError) and "leaf Variable that requires grad" in str(exc):
            raise ModelError(
                f"{label}: measuring '{tap}': the module changes its input in place (x.mul_(...) on what forward "
                "is given), which autograd refuses on the measured input; write it out of place (x = x * ...)"
            ) from None
        if isinstance(exc, RuntimeError) and "modified by an inplace operation" in str(exc):
            raise ModelError(
                f"{label}: measuring '{tap}': autograd cannot go back through an in-place op of the module that "
                "changes a value a later op saved (a.add_(b) or a += b after reading a); write it out of place "
                "(a = a + b)"
            ) from None
        if not isinstance(exc, MemoryError) and not (isinstance(exc, RuntimeError) and "alloc" in str(exc).lower()):
            raise ModelError(
                f"{label}: measuring '{tap}': running the module on {size[1]}x{size[0]} (WxH) inputs failed "
                f"({type(exc).__name__}: {_first(exc)}){default or '; try another input_size'}"
            ) from None
        raise ModelError(
            f"{label}: measuring '{tap}' on {size[1]}x{size[0]} (WxH) inputs ran out of memory "
            f"({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no memory'}); "
            "try a smaller --size"
        ) from None
    grad = (grad_sum / samples).numpy()
    total = float(grad.sum())
    if not np.isfinite(total):  # NaN or inf weights (a diverged checkpoint), or a sum past float64
        advice = "; try weights=random" if weights != "random" else ""
        raise ModelError(
            f"{label}: the gradient of '{tap}' is not finite (NaN or inf: from the module's weights or its own "
            f"computation, or too large to sum){advice}"
        )
    assert fm.geom is not None  # the analytic sigma of this very unit (units of a period can differ)
    if total <= 0:
        blind = [a for a in (0, 1) if not runs.intersection_size(fm.geom[a].unit(unit[a])[0], ((0, size[a]),))]
        if blind:  # (the unit's pixels in a map without ends: a superset of those it reads at this size)
            raise ModelError(
                f"{label}: the measured unit ({unit[0]}, {unit[1]}) of '{tap}' reads no input pixel along "
                f"{'yx'[blind[0]]} at {size[1]}x{size[0]} (WxH), only the zero padding: its gradient is zero whatever "
                "the weights; give a larger size, or measure another map"
            )
        raise ModelError(f"{label}: the gradient of '{tap}' is zero everywhere (dead units?); try weights=random")
    mass = np.asarray(grad / total)
    analytic = (math.sqrt(fm.geom[0].unit(unit[0])[2]), math.sqrt(fm.geom[1].unit(unit[1])[2]))
    centre, sigma, squares = _stats(mass)
    return MeasuredErf(
        model=str(label),
        tap=tap,
        node=node,
        input_size=size,
        samples=samples,
        weights=weights,
        unit=unit,
        center=centre,
        sigma=sigma,
        analytic_sigma=analytic,
        rf=(fm.y.rf, fm.x.rf),
        box=box,
        squares=squares,
        mass=mass,
        warnings=measured.warnings,
    )


def _imported(
    load: Callable[[dict[str, str] | None], _T],
    tap: str | None,
    neck: str | None,
    graph_of: Callable[[_T], Graph] | None,
) -> _T:
    """``load(None)``: the model imported with its default taps. When those would stop before a node the import
    refuses, or need a node it refuses (an imported model; the map ``tap`` names may not), or do not make ``tap``
    an output or a node of the graph (``graph_of`` the import), ``load({tap: tap})`` imports the map ``tap`` names
    as the only tap (erf measures one map; without a neck, which reads the maps after that node; ``graph_of`` None
    for a config, whose taps are its outputs and nodes), the name as given (a ``,`` or ``=`` in it is no list of
    taps, and an error names the tap, never ``taps``): the importer resolves it as it resolves ``profile --taps``
    (a node, an ONNX value or node name, a torch module path) and refuses it with the same error; without a tap,
    the error offers ``--tap``, not ``--taps``."""
    from scalematch.profile.importers.emit import BlockedTaps

    try:
        found = load(None)
    except BlockedTaps as exc:
        if tap is None or neck is not None:
            offer = f"; to measure a map before it, name it (--tap {exc.taps[-1][1]})" if neck is None else ""
            raise ModelError(str(exc).replace(exc.advice, offer)) from None
        return load({tap: tap})
    except ModelError:  # a node the default outputs need is refused: the map named may not need it
        if tap is None or neck is not None or graph_of is None:
            raise
        return load({tap: tap})
    if tap is None or neck is not None or graph_of is None:
        return found
    graph = graph_of(found)
    if tap in dict(graph.taps) or any(n.name == tap for n in graph.nodes):
        return found
    return load({tap: tap})


def _labelled(load: Callable[[], _T], module: Any, given: object) -> _T:
    """``load()``, the trace of ``module``: its errors name the module as ``given`` (``torchvision.models:resnet18``,
    as ``profile`` names it), not by its class, which the trace of a loaded module names it after."""
    try:
        return load()
    except ModelError as exc:
        own = f"{type(module).__name__}: "
        if isinstance(given, str) and type(exc) is ModelError and str(exc).startswith(own):
            raise ModelError(f"{given}: {str(exc).removeprefix(own)}") from None
        raise


def _graph_sample_bytes(measured: Profile, channels: int, itemsize: int) -> int:
    """An estimate of the peak memory one sample takes through :func:`graph_network` of the profile ``measured``
    (at the input size measured): :data:`KEPT` copies of every map, and twice the largest buffer a convolution or
    window unrolls its input into (kernel taps x channels x output pixels: torch's im2col on the CPU)."""
    kept = unrolled = 0
    for fm in measured.feature_maps:
        if fm.size is None:
            continue
        area = fm.size[0] * fm.size[1] * channels
        kept += area
        if isinstance(fm.layer, Window | TransposedConv):
            unrolled = max(unrolled, math.prod(fm.layer.kernel) * area)
    return (kept * KEPT + 2 * unrolled) * itemsize


def _fx_sample_bytes(module: Any, target: str, size: Pair, traced_at: Pair) -> int:
    """An estimate of the peak memory one sample takes through a torch module's fx graph up to node ``target``
    at input ``size`` (float64), from the shapes recorded at ``traced_at`` scaled by the input's area: every value
    computed on the way to the map measured (the interpreter stops there; autograd keeps some of them, a module's
    in-place ops share others), and twice the largest buffer a convolution unrolls its input into (kernel taps x
    input channels per group x output pixels). torchvision's resnet18 at 1024x1024: 1.9 GB estimated, 1.9 GB
    measured (peak RSS less the 0.5 GB before the run); resnet50: 6.4 GB estimated, 4.3 GB measured."""
    modules = dict(module.named_modules())
    nodes = {n.name: n for n in module.graph.nodes}
    seen, stack, kept, unrolled = set(), [target], 0, 0
    while stack:
        name = stack.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        node = nodes[name]
        meta = node.meta.get("tensor_meta")
        if hasattr(meta, "shape") and len(meta.shape) >= 1:
            items = math.prod(int(v) for v in meta.shape[1:])  # (per sample)
            kept += items
            sub = modules.get(str(node.target)) if node.op == "call_module" else None
            kernel = getattr(sub, "kernel_size", None)
            if sub is not None and isinstance(kernel, tuple) and hasattr(sub, "in_channels") and len(meta.shape) == 4:
                per_group = int(sub.in_channels) // max(int(getattr(sub, "groups", 1)), 1)
                unrolled = max(unrolled, math.prod(kernel) * per_group * int(meta.shape[2]) * int(meta.shape[3]))
        stack.extend(n.name for n in node.all_input_nodes)
    scale = size[0] * size[1] / max(traced_at[0] * traced_at[1], 1)
    return int((kept + 2 * unrolled) * scale) * 8


def _profiled(graph: Graph, size: Pair | None, allow_misaligned: bool, label: str | None) -> Profile:
    """:func:`profile` of the network measured; for a torch module traced (``label``: its name as given), its error
    names the module as given (``m:Net``, as ``profile`` names it), not by the class its graph is named after."""
    try:
        return profile(graph, size, allow_misaligned=allow_misaligned, misaligned_flag=True)
    except GraphError as exc:
        text = str(exc)
        if label and graph.source and text.startswith(f"{graph.source}: "):  # (its kinds take the message alone)
            raise type(exc)(f"{label}: {text.removeprefix(f'{graph.source}: ')}") from None
        raise


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "no message"


def _tap_node(graph: Graph, tap: str | None, label: str) -> tuple[str, str]:
    """The tap (default: the last output) and the node it names."""
    taps = dict(graph.taps)
    if tap is None:
        if not taps:
            raise OptionError(f"{label}: no named outputs; give tap=NAME")
        tap = list(taps)[-1]
    node = taps.get(tap, tap)
    if node not in {n.name for n in graph.nodes}:
        raise OptionError(f"tap: '{tap}' is not an output or node of {label} (outputs: {', '.join(taps)})")
    return tap, node


def _set_weights(module: Any, weights: Weights, seed: int) -> None:
    """Re-initialise (random) or set every conv/linear to a uniform average (uniform); 'model' keeps them."""
    import torch
    from torch import nn

    if weights == "model":
        return
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if weights == "random" and hasattr(m, "reset_parameters"):
                m.reset_parameters()
            elif weights == "uniform" and isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                m.weight.fill_(1.0 / (m.weight[0].numel()))
                if m.bias is not None:
                    m.bias.zero_()
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
