"""Layer specifications: small frozen dataclasses, every spatial parameter per axis as ``(y, x)``.

Only what changes where a feature unit looks in the input is modelled: kernel, stride, padding, dilation,
up-sampling. Channel counts, weights and activations do not change the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Pair = tuple[int, int]
"""A per-axis integer, ``(y, x)``."""

PadPair = tuple[Pair, Pair]
"""Explicit padding ``((top, bottom), (left, right))``."""

Padding = PadPair | Literal["same"]
"""Explicit padding, or TensorFlow-style "same" (resolved from the input size, or assuming a divisible one)."""

WindowKind = Literal["conv", "maxpool", "avgpool"]
MergeKind = Literal["add", "concat"]
Align = Literal["strict", "union"]


@dataclass(frozen=True)
class Window:
    """A sliding window: convolution (also depthwise/grouped: ``groups`` is recorded, not used) or pooling."""

    kind: WindowKind
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Padding = ((0, 0), (0, 0))
    dilation: Pair = (1, 1)
    ceil_mode: bool = False
    groups: int = 1


@dataclass(frozen=True)
class TransposedConv:
    """A transposed convolution (PyTorch ``ConvTranspose2d`` semantics): a fractional jump of 1/stride."""

    kernel: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    output_padding: Pair = (0, 0)


def tapless_axis(layer: TransposedConv) -> int | None:
    """The first axis on which some output phase of a transposed convolution reads no input (kernel taps
    ``t * dilation`` miss a residue modulo the stride), or None when every output unit reads something."""
    for a in (0, 1):
        s = layer.stride[a]
        if len({(t * layer.dilation[a]) % s for t in range(layer.kernel[a])}) < s:
            return a
    return None


def tapless_message(layer: TransposedConv, a: int) -> str:
    return (
        f"a deconv with kernel {layer.kernel[a]}, dilation {layer.dilation[a]} and stride {layer.stride[a]} leaves "
        "some output units reading no input; expected every output phase to get a tap"
    )


@dataclass(frozen=True)
class Upsample:
    """Integer-factor up-sampling, PyTorch ``interpolate`` semantics.

    ``nearest`` reads unit ``j // scale``; ``bilinear`` uses ``align_corners=False`` (source coordinate
    ``(j + 0.5) / scale - 0.5``). ``size_like`` names a node whose feature size the output takes (as FPN
    implementations interpolate to the lateral's shape); the geometry still uses ``scale``.
    """

    scale: Pair
    mode: Literal["nearest", "bilinear"] = "nearest"
    size_like: str | None = None


@dataclass(frozen=True)
class GlobalPool:
    """Global average or max pooling: one unit that depends on the whole input (needs an input size)."""

    kind: Literal["avg", "max"] = "avg"


@dataclass(frozen=True)
class Passthrough:
    """A shape-preserving layer (activation, normalisation, identity, dropout, ...): changes nothing."""

    kind: str = "identity"


@dataclass(frozen=True)
class Merge:
    """A multi-input node. ``align='union'`` accepts misaligned inputs (their exact union is taken)."""

    kind: MergeKind
    align: Align = "strict"


Layer = Window | TransposedConv | Upsample | GlobalPool | Passthrough | Merge


def describe(layer: Layer) -> str:
    """Short human-readable parameters, e.g. ``k3 s2`` (``k5x3``, width first, when the axes differ: a kernel of 3
    rows and 5 columns), as every ``a x b`` pair in scalematch's output; dilation ``d``, groups ``g``, a transposed
    convolution's output padding ``op`` when not the default."""

    def pair(tag: str, value: Pair) -> str:
        return f"{tag}{value[0]}" if value[0] == value[1] else f"{tag}{value[1]}x{value[0]}"

    if isinstance(layer, Window | TransposedConv):
        text = f"{pair('k', layer.kernel)} {pair('s', layer.stride)}"
        text += f" {pair('d', layer.dilation)}" if layer.dilation != (1, 1) else ""
        if isinstance(layer, Window):
            return text + (f" g{layer.groups}" if layer.groups != 1 else "")
        text += f" {pair('op', layer.output_padding)}" if layer.output_padding != (0, 0) else ""
        return text + " (transposed)"
    if isinstance(layer, Upsample):
        return f"{pair('x', layer.scale)} {layer.mode}"
    if isinstance(layer, Merge) and layer.align == "union":
        return "union"
    return ""


def type_name(layer: Layer) -> str:
    """The config ``type`` this layer is written as."""
    if isinstance(layer, Window):
        return layer.kind
    if isinstance(layer, TransposedConv):
        return "deconv"
    if isinstance(layer, Upsample):
        return "upsample"
    if isinstance(layer, GlobalPool):
        return f"global_{layer.kind}pool"
    if isinstance(layer, Passthrough):
        return layer.kind
    return layer.kind
