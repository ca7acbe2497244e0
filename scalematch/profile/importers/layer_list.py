"""Layer records (dicts from YAML or inline specs) -> layer dataclasses, with errors that name the field."""

from __future__ import annotations

from typing import Any

from scalematch._text import cut_name, described
from scalematch.errors import ConfigError
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
    tapless_axis,
    tapless_message,
)

PASSTHROUGH = frozenset(
    [
        "identity",
        "act",
        "relu",
        "relu6",
        "leaky_relu",
        "silu",
        "swish",
        "mish",
        "gelu",
        "sigmoid",
        "hardswish",
        "hardsigmoid",
        "tanh",
        "norm",
        "bn",
        "batchnorm",
        "gn",
        "groupnorm",
        "ln",
        "layernorm",
        "frozenbn",
        "dropout",
        "drop_path",
        "se",
    ]
)
"""Types that keep the geometry (``se``: squeeze-excitation re-weights channels, see docs/reference/erf.md)."""

WINDOWS = {"conv": "conv", "dwconv": "conv", "maxpool": "maxpool", "avgpool": "avgpool"}

MAIN_TYPES = [*WINDOWS, "deconv", "upsample", "global_avgpool", "global_maxpool", "add", "concat"]
TYPES = frozenset([*MAIN_TYPES, *PASSTHROUGH])

_FIELDS: dict[str, set[str]] = {
    "window": {"kernel", "stride", "padding", "dilation", "ceil_mode", "groups"},
    "pool": {"kernel", "stride", "padding", "dilation", "ceil_mode"},  # (no groups: a pool has none)
    "deconv": {"kernel", "stride", "padding", "dilation", "output_padding"},
    "upsample": {"scale", "mode", "size_like"},
    "merge": {"align"},
    "none": set(),
}


# The largest kernel, stride, dilation, padding or scale factor a layer may have. The profile is exact: its
# memory and time grow with these (a kernel of 10**9 taps would allocate until the system kills the process),
# and no detector backbone comes near 1024 (the largest kernels in use are 31 to 51).
MAX_LAYER_VALUE = 1024
MAX_GROUPS = 1 << 20
"""The bound on a config's ``groups``: recorded and shown, never used, but a count of channels (2,048 in the
widest depthwise convolutions in use)."""


def _pair(value: Any, key: str, minimum: int) -> Pair:
    items = value if isinstance(value, list | tuple) else [value, value]
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in items):
        bound = "positive" if minimum > 0 else "non-negative"
        from scalematch._yaml import text_number_note

        note = text_number_note(value, integer=True)
        raise ConfigError(f"'{key}' must be a {bound} integer or [h, w], got {described(value, 40)}{note}")
    if max(items) > MAX_LAYER_VALUE:
        raise ConfigError(_too_large(key, value))
    return int(items[0]), int(items[1])


def _bound(key: str, value: int, minimum: int) -> str | None:
    """The problem with one value of a layer field, or None."""
    if value < minimum:
        sign = "positive" if minimum > 0 else "non-negative"
        return f"'{key}' must be a {sign} integer, got {described(value, 40)}"
    if value > MAX_LAYER_VALUE:
        return _too_large(key, value)
    return None


def _too_large(key: str, value: object) -> str:
    return f"'{key}' must be at most {MAX_LAYER_VALUE} (larger layers would exhaust memory), got {described(value, 40)}"


def outpad_problem(layer: TransposedConv) -> str | None:
    """torch's rule for a transposed convolution: ``output_padding`` below the stride or the dilation."""
    for a in (0, 1):
        o, s, d = layer.output_padding[a], layer.stride[a], layer.dilation[a]
        if o >= max(s, d):
            return (
                f"'output_padding' must be smaller than the stride or the dilation (as torch requires), got "
                f"output_padding {o} with stride {s} and dilation {d}"
            )
    return None


def layer_problem(layer: Layer) -> str | None:
    """What is wrong with a layer built outside a config (an ONNX or torch import), in the words a config error
    uses, or None: the same bounds as a config's fields (every value at most :data:`MAX_LAYER_VALUE`, strides,
    kernels, dilations and scales positive, paddings non-negative), and every output phase of a transposed
    convolution reading some input. A transposed convolution's ``output_padding`` is only bounded in size: an
    importer holds the model's own attribute to its framework's rule, and ONNX's asymmetric pads make the layer's
    value any integer (the rows added, or cropped when negative, at the end)."""
    fields: list[tuple[str, Pair, int]] = []
    if isinstance(layer, Window):
        fields = [("kernel", layer.kernel, 1), ("stride", layer.stride, 1), ("dilation", layer.dilation, 1)]
        if layer.padding != "same":
            fields += [("padding", layer.padding[0], 0), ("padding", layer.padding[1], 0)]
    elif isinstance(layer, TransposedConv):
        fields = [
            ("kernel", layer.kernel, 1),
            ("stride", layer.stride, 1),
            ("padding", layer.padding, 0),
            ("dilation", layer.dilation, 1),
            ("output_padding", (abs(layer.output_padding[0]), abs(layer.output_padding[1])), 0),
        ]
    elif isinstance(layer, Upsample):
        fields = [("scale", layer.scale, 1)]
    for key, pair, minimum in fields:
        for value in pair:
            problem = _bound(key, value, minimum)
            if problem:
                return problem
    if isinstance(layer, TransposedConv):
        axis = tapless_axis(layer)
        return tapless_message(layer, axis) if axis is not None else None
    return None


def _padding(value: Any) -> Padding:
    if value == "same":
        return "same"
    if value == "valid":
        return ((0, 0), (0, 0))
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, list | tuple) for v in value):
        return (_pair(value[0], "padding", 0), _pair(value[1], "padding", 0))
    y, x = _pair(value, "padding", 0)
    return ((y, y), (x, x))


def _check_pool_padding(kind: str, kernel: tuple[int, int], padding: tuple[tuple[int, int], ...]) -> None:
    """torch's pools take at most half the kernel as padding on a side (the undilated kernel, for max too)."""
    for a, (before, after) in enumerate(padding):
        half = kernel[a] // 2
        if max(before, after) > half:
            raise ConfigError(
                f"'padding' of a {kind} layer must be at most half its kernel ({half} along {'yx'[a]}, as torch "
                f"requires), got {max(before, after)}"
            )


def _family(kind: str) -> str:
    if kind in WINDOWS:
        return "pool" if kind.endswith("pool") else "window"
    if kind in ("deconv", "upsample"):
        return kind
    return "merge" if kind in ("add", "concat") else "none"


def parse_layer(kind: Any, fields: dict[str, Any]) -> Layer:
    """One layer from its ``type`` and parameter fields; unknown types and fields are errors."""
    if not isinstance(kind, str) or (kind not in TYPES):
        raise ConfigError(
            f"unknown layer type {cut_name(kind)!r}; expected one of: {', '.join(MAIN_TYPES)}, or a pass-through type "
            "(identity, relu, bn, ... keep the geometry)"
        )
    family = _family(kind)
    unknown = sorted(set(fields) - _FIELDS[family])
    if unknown:
        allowed = ", ".join(sorted(_FIELDS[family])) or "none"
        article = "an" if kind[0] in "aeiou" else "a"
        raise ConfigError(f"'{unknown[0]}' is not a field of {article} {kind} layer (fields: {allowed})")
    if family in ("window", "pool"):
        if "kernel" not in fields:
            raise ConfigError(f"a {kind} layer needs 'kernel'")
        kernel = _pair(fields["kernel"], "kernel", 1)
        default_stride = kernel if kind.endswith("pool") else (1, 1)
        ceil_mode = fields.get("ceil_mode", False)
        if not isinstance(ceil_mode, bool):
            raise ConfigError(f"'ceil_mode' must be true or false, got {ceil_mode!r}")
        groups = fields.get("groups", 1)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
            from scalematch._yaml import text_number_note

            note = text_number_note(groups, integer=True)
            raise ConfigError(f"'groups' must be a positive integer, got {groups!r}{note}")
        if groups > MAX_GROUPS:
            raise ConfigError(
                f"'groups' must be at most {MAX_GROUPS} (a count of channels; no network has more), got "
                f"{described(groups, 40)}"
            )
        padding = _padding(fields.get("padding", 0))
        dilation = _pair(fields.get("dilation", 1), "dilation", 1)
        if kind.endswith("pool") and padding != "same":
            _check_pool_padding(kind, kernel, padding)
        return Window(
            WINDOWS[kind],  # type: ignore[arg-type]
            kernel,
            _pair(fields["stride"], "stride", 1) if "stride" in fields else default_stride,
            padding,
            dilation,
            ceil_mode,
            groups,
        )
    if family == "deconv":
        if "kernel" not in fields:
            raise ConfigError("a deconv layer needs 'kernel'")
        layer = TransposedConv(
            _pair(fields["kernel"], "kernel", 1),
            _pair(fields.get("stride", 1), "stride", 1),
            _pair(fields.get("padding", 0), "padding", 0),
            _pair(fields.get("dilation", 1), "dilation", 1),
            _pair(fields.get("output_padding", 0), "output_padding", 0),
        )
        problem = outpad_problem(layer)
        if problem:
            raise ConfigError(problem)
        axis = tapless_axis(layer)
        if axis is not None:
            raise ConfigError(tapless_message(layer, axis))
        return layer
    if family == "upsample":
        mode = fields.get("mode", "nearest")
        if mode not in ("nearest", "bilinear"):
            raise ConfigError(f"'mode' must be nearest or bilinear, got {mode!r}")
        size_like = fields.get("size_like")
        if size_like is not None and not isinstance(size_like, str):
            raise ConfigError(f"'size_like' must be a node name, got {size_like!r}")
        return Upsample(_pair(fields.get("scale", 2), "scale", 1), mode, size_like)
    if family == "merge":
        align = fields.get("align", "strict")
        if align not in ("strict", "union"):
            raise ConfigError(f"'align' must be strict or union, got {align!r}")
        return Merge(kind, align)  # type: ignore[arg-type]
    if kind.startswith("global_"):
        return GlobalPool("avg" if kind == "global_avgpool" else "max")
    return Passthrough(kind)


SEED_LAYERS: dict[str, dict[str, Any]] = {
    "conv_3x3_stride_1": {"type": "conv", "kernel": 3, "stride": 1, "padding": 1},
    "conv_3x3_stride_2": {"type": "conv", "kernel": 3, "stride": 2, "padding": 1},
    "conv_1x1_stride_1": {"type": "conv", "kernel": 1, "stride": 1},
    "conv_1x1_stride_2": {"type": "conv", "kernel": 1, "stride": 2},
    "conv_7x7_stride_2": {"type": "conv", "kernel": 7, "stride": 2, "padding": 3},
    "conv_3x3_stride_1_dilate_2": {"type": "conv", "kernel": 3, "stride": 1, "padding": 2, "dilation": 2},
    "pooling_2x2_stride_2": {"type": "maxpool", "kernel": 2, "stride": 2},
    "pooling_3x3_stride_2": {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
}
"""The origin write-up's eight layer names, with "same"-style padding (the write-up ignores padding)."""


def _value(text: str, key: str) -> Any:
    if not text.isascii():  # numbers are ASCII digits ('３' stays text, so the layer check names it)
        return text
    if "x" in text and all(p.isdigit() for p in text.split("x")):
        return [_integer(p, key) for p in text.split("x")]
    if text.removeprefix("-").isdigit():  # (one sign: '--5' stays text, so the layer check names it)
        return _integer(text, key)
    return {"true": True, "false": False}.get(text, text)


def _integer(text: str, key: str) -> int:
    """The integer of the digits ``text``; one of more than 18 digits (leading zeros aside), far beyond
    :data:`MAX_LAYER_VALUE`, is refused here, shown cut (``int()`` refuses more than 4,300 digits with a bare
    ValueError, and Python prints no such integer)."""
    digits = text.removeprefix("-").lstrip("0")
    if len(digits) > 18:
        if text.startswith("-"):
            why = "be a non-negative integer"
        else:
            why = f"be at most {MAX_LAYER_VALUE} (larger layers would exhaust memory)"
        raise ConfigError(f"'{key}' must {why}, got {cut_name(text)} ({len(digits)} digits)")
    return int(text)


_SHORT = {"k": "kernel", "s": "stride", "p": "padding", "d": "dilation", "f": "scale"}


def parse_spec(spec: str) -> dict[str, Any]:
    """A seed layer name or an inline spec ``type:key=value,...`` (``k s p d f`` abbreviate kernel, stride,
    padding, dilation, scale; ``3x5`` is ``[3, 5]``) -> a layer record ``{"type": ..., ...}``."""
    spec = spec.strip()
    if spec in SEED_LAYERS:
        return dict(SEED_LAYERS[spec])
    kind, _, rest = spec.partition(":")
    record: dict[str, Any] = {"type": kind}
    for item in rest.split(",") if rest.strip() else []:
        if not item.strip():
            raise ConfigError(f"layer spec {cut_name(spec)!r}: expected key=value separated by ',', got an empty field")
        key, eq, text = item.partition("=")
        if not eq:
            raise ConfigError(f"layer spec {cut_name(spec)!r}: expected key=value, got {cut_name(item)!r}")
        name = _SHORT.get(key.strip(), key.strip())
        if name in record:
            raise ConfigError(f"layer spec {cut_name(spec)!r}: {cut_name(name)!r} is given twice")
        record[name] = _value(text.strip(), name)
    if kind not in TYPES:
        raise ConfigError(
            f"layer spec {cut_name(spec)!r}: expected a seed layer name ({', '.join(SEED_LAYERS)}) or "
            "type:key=value,..."
        )
    return record
