"""Propagate exact per-axis geometry through a layer graph: the scale profile of every feature map."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scalematch import _args
from scalematch._text import counted, described
from scalematch.errors import GraphError, OptionError
from scalematch.profile import axis, runs
from scalematch.profile.axis import AxisGeom, AxisMap
from scalematch.profile.graph import INPUT, Graph, Node, check_size
from scalematch.profile.layers import (
    GlobalPool,
    Layer,
    Merge,
    Pair,
    Passthrough,
    TransposedConv,
    Upsample,
    Window,
    tapless_axis,
    tapless_message,
    type_name,
)
from scalematch.profile.summary import AxisSummary, summarize, union_area

if TYPE_CHECKING:
    import pandas as pd

AXES = ("y", "x")

MAX_MAP_SIDE = 16384
"""The largest feature map side (units), the bound on the input side too: a map beyond it (an up-sampling
chain that outgrows every detector input) would exhaust memory in the ERF measurement and the reports."""

MAX_PERIOD = 1024
"""The longest period of a map's geometry along one axis (units). Up-sampling that no stride undoes multiplies
the period (two 1024x up-samplings: about a million distinct units), and the exact profile keeps every unit of
a period; FPN-style necks stay below 16."""

MAX_RUNS = 4096
"""The most runs of consecutive input pixels one node may produce along one axis, before they are merged:
summed over the units of its period, for its geometry and for each path (term) merged into it. A unit's input
pixels are kept as runs; a dilation or a stride that skips pixels leaves gaps, and layers stacked so that each
one's taps fall into the last one's gaps multiply the runs (three layers within the per-layer limits make a
million). Real networks stay below 40 per unit; an up-sampled map with a period of 1024 has 1024."""

MAX_POOL_RUNS = 1 << 20
"""The most runs a global pool gathers along one axis (its input's units times their runs, before they are
merged): 16384 units of 64 runs each; real networks pool a few hundred units of a few runs."""

Term = tuple[AxisGeom, AxisGeom]
"""One product set (rows x columns) of a 2-D dependency region; a region is a union of terms."""


@dataclass(frozen=True)
class FeatureMap:
    """The scale profile of one node. Per-axis values are in ``y`` and ``x`` (None when unbounded)."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    tap: str | None
    y: AxisSummary | None
    x: AxisSummary | None
    area: int | None
    size: Pair | None
    geom: tuple[AxisGeom, AxisGeom] | None = field(default=None, repr=False, compare=False)
    terms: tuple[Term, ...] = field(default=(), repr=False, compare=False)
    """The product sets whose union is a unit's 2-D region (empty when unbounded)."""

    def input_box(self, i: int, j: int, clip_to: Pair | None = None) -> tuple[Pair, Pair] | None:
        """Input box ``((y0, y1), (x0, x1))`` (inclusive) of unit ``(i, j)``, clipped to an image size ``(h, w)``.
        The indices are integers (an ``int`` or a numpy integer, taken as the ``int``: the box holds ints)."""
        unit_i, unit_j = _args.integer(i, "i"), _args.integer(j, "j")
        size = _clip_size(clip_to)
        if self.geom is None:
            return None
        box = []
        for g, unit, limit in zip(self.geom, (unit_i, unit_j), size or (None, None), strict=True):
            s = g.unit(unit)[0]
            lo, hi = s[0][0], s[-1][1] - 1
            if limit is not None:
                lo, hi = max(lo, 0), min(hi, limit - 1)
            box.append((lo, hi))
        return box[0], box[1]


@dataclass(frozen=True)
class Profile:
    """Every node's scale profile, in topological order, plus warnings raised while computing it."""

    name: str
    input_size: Pair | None
    feature_maps: tuple[FeatureMap, ...]
    warnings: tuple[str, ...] = ()
    convention: str = ""
    neck: str | None = None
    """The neck as it was named (a built-in name or a path), when one is attached."""

    def __repr__(self) -> str:
        outputs = [fm.tap for fm in self.feature_maps if fm.tap]
        size = f", input {self.input_size[1]}x{self.input_size[0]} (WxH)" if self.input_size else ""
        maps = counted(len(self.feature_maps), "feature map")
        return f"<Profile {self.name}: {maps}, outputs {', '.join(outputs)}{size}>"

    def to_dict(self) -> dict[str, Any]:
        """The ``scalematch profile --json`` document (pairs per axis, ``[y, x]``)."""
        from scalematch.profile.document import profile_json

        return profile_json(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per feature map, per-axis quantities as ``<name>_h`` / ``<name>_w`` (a pandas DataFrame)."""
        from scalematch.profile.document import profile_frame

        return profile_frame(self)

    def __getitem__(self, key: str) -> FeatureMap:
        """A feature map by node name or by output (tap) name (a KeyError for anything else)."""
        if isinstance(key, str):  # (None would name the first node without a tap)
            for fm in self.feature_maps:
                if key in (fm.name, fm.tap):
                    return fm
        raise KeyError(key)

    def input_box(self, key: str, i: int, j: int) -> tuple[Pair, Pair] | None:
        """Input box ``((y0, y1), (x0, x1))`` (inclusive) of unit ``(i, j)`` of a map. With an input size, the box
        of the pixels the unit reads (:meth:`unit_pixels`: exact at the edges of every map; None for a unit that
        reads no pixel); without one, the box of its periodic set (:meth:`FeatureMap.input_box`). Arguments as
        :meth:`unit_pixels` takes them."""
        fm, unit_i, unit_j = self._unit(key, i, j)
        pixels = self.unit_pixels(fm.name, unit_i, unit_j)
        if pixels is None:
            return fm.input_box(unit_i, unit_j)
        if not pixels[0] or not pixels[1]:
            return None
        return (pixels[0][0][0], pixels[0][-1][1] - 1), (pixels[1][0][0], pixels[1][-1][1] - 1)

    def unit_pixels(self, key: str, i: int, j: int) -> tuple[runs.Runs, runs.Runs] | None:
        """The input pixels unit ``(i, j)`` of a map reads along y and along x, exact at the edges of every map
        (None without an input size). The periodic sets of ``geom`` describe maps without ends: a unit whose
        window reaches past the edge of an intermediate map gets the pixels the missing units there would read.
        Here each layer's taps are followed back only to units that exist (the zero padding, the rows a
        transposed convolution's ``output_padding`` adds and the rows a stride drops by floor read nothing).
        ``key`` is an output (tap) or node name; ``i`` and ``j`` are integers (an ``int`` or a numpy integer,
        taken as the ``int``, so the runs hold ints) and, with an input size, inside the map; anything else is an
        :class:`OptionError` naming it."""
        fm, unit_i, unit_j = self._unit(key, i, j)
        if self.input_size is None:
            return None
        return self._axis_pixels(fm, 0, unit_i), self._axis_pixels(fm, 1, unit_j)

    def _unit(self, key: object, i: object, j: object) -> tuple[FeatureMap, int, int]:
        """The map ``key`` names and the unit's indices as ints, checked (see :meth:`unit_pixels`)."""
        if not isinstance(key, str):
            raise OptionError(f"key: expected the name of an output or node (str), got {_args.shown(key)}")
        for fm in self.feature_maps:
            if key in (fm.name, fm.tap):
                unit = _args.integer(i, "i"), _args.integer(j, "j")
                if self.input_size is not None and fm.size is not None:
                    for name, index, side, what in zip("ij", unit, fm.size, ("rows", "columns"), strict=True):
                        if not 0 <= index < side:
                            shown = f"the {side} {what} of {described(key, 40)} (0 to {side - 1})"
                            raise OptionError(f"{name}: unit {index} is outside {shown}")
                return fm, unit[0], unit[1]
        outputs = ", ".join(self.taps) or "none named"
        raise OptionError(f"key: {described(key, 40)} is not an output or node of {self.name} (outputs: {outputs})")

    def _axis_pixels(self, start: FeatureMap, a: int, unit: int) -> runs.Runs:
        if start.size is None or not 0 <= unit < start.size[a]:
            return ()
        assert self.input_size is not None
        sizes = {fm.name: fm.size for fm in self.feature_maps}
        need: dict[str, set[int]] = {start.name: {unit}}
        pixels: set[int] = set()
        for fm in reversed(self.feature_maps):  # topological order, read backwards
            units = need.pop(fm.name, None)
            if not units:
                continue
            size_in = self.input_size if fm.inputs[0] == INPUT else sizes[fm.inputs[0]]
            assert size_in is not None
            n = size_in[a]
            if isinstance(fm.layer, GlobalPool):
                read = set(range(n))
            else:
                layer = axis_map(fm.layer, a, n)
                read = {t for u in units for t, w in layer.of(u) if w and 0 <= t < n}
            for ref in fm.inputs:
                (pixels if ref == INPUT else need.setdefault(ref, set())).update(read)
        return runs.from_points(pixels)

    @property
    def taps(self) -> dict[str, FeatureMap]:
        """Named outputs (C2, P3, ...) in order."""
        return {fm.tap: fm for fm in self.feature_maps if fm.tap is not None}


def _clip_size(value: object) -> Pair | None:
    """``clip_to`` of :meth:`FeatureMap.input_box`: None or an image size ``(h, w)`` of two integers from 1."""
    if value is None:
        return None
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise OptionError(f"clip_to: expected an image size (h, w) of two integers, or None, got {_args.shown(value)}")
    return _args.at_least(value[0], "clip_to", 1), _args.at_least(value[1], "clip_to", 1)


def _same_padding(kernel: int, stride: int, n: int | None) -> tuple[int, int]:
    """TensorFlow "same": output ceil(n / s); without n, assume n divisible by s."""
    total = max(kernel - stride, 0) if n is None else max((-(-n // stride) - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


def _window_pads(layer: Window, a: int, n: int | None) -> tuple[int, int]:
    k_eff = layer.dilation[a] * (layer.kernel[a] - 1) + 1
    if layer.padding == "same":
        return _same_padding(k_eff, layer.stride[a], n)
    return layer.padding[a]


def axis_map(layer: Layer, a: int, n: int | None) -> AxisMap:
    """How ``layer`` maps units along axis ``a`` (0 = y, 1 = x) for an input of ``n`` units (if known)."""
    if isinstance(layer, Window):
        k, d = layer.kernel[a], layer.dilation[a]
        before, _ = _window_pads(layer, a, n)
        w = Fraction(1, k)
        return AxisMap(1, layer.stride[a], (tuple((-before + t * d, w) for t in range(k)),))
    if isinstance(layer, TransposedConv):
        k, s, d, p = layer.kernel[a], layer.stride[a], layer.dilation[a], layer.padding[a]
        phases = []
        for q in range(s):
            sources = [(q + p - t * d) // s for t in range(k) if (q + p - t * d) % s == 0]
            phases.append(tuple((i, Fraction(1, len(sources))) for i in sources))
        return AxisMap(s, 1, tuple(phases))
    if isinstance(layer, Upsample):
        f = layer.scale[a]
        if layer.mode == "nearest":
            return AxisMap(f, 1, tuple(((0, Fraction(1)),) for _ in range(f)))
        phases = []
        for q in range(f):
            x = Fraction(2 * q + 1, 2 * f) - Fraction(1, 2)
            i0 = math.floor(x)
            lam = x - i0
            phases.append(tuple((i, w) for i, w in ((i0, 1 - lam), (i0 + 1, lam)) if w))
        return AxisMap(f, 1, tuple(phases))
    return axis.IDENTITY_MAP


def out_size(node: Node, a: int, n: int, sizes: dict[str, Pair]) -> int:
    """Feature-map length along axis ``a`` after ``node`` for an input of length ``n``. An up-sampling to a
    ``size_like`` node's size takes that size, as torch's ``interpolate(size=...)`` does at any size, where it is
    ``n * scale`` rounded by less than the scale (the lateral's size that a stride-``scale`` layer divided, rounding
    down or up: VGG's 66 units of a 133-unit lateral); farther off, the scale is not the sizes' ratio, a
    :class:`SizeLikeMismatch`. Whether the units read are the scale's is the geometry's check
    (:func:`_check_size_like`)."""
    layer = node.layer
    if isinstance(layer, Window):
        k_eff = layer.dilation[a] * (layer.kernel[a] - 1) + 1
        before, after = _window_pads(layer, a, n)
        room = n + before + after - k_eff
        if room < 0:
            raise GraphError(
                f"node '{node.name}': its {AXES[a]} input is {counted(n, 'unit')}, smaller than the kernel's "
                f"{k_eff} "
                "(the input size is too small for this network)"
            )
        s = layer.stride[a]
        if not layer.ceil_mode:
            return room // s + 1
        out = -(-room // s) + 1
        return out - 1 if (out - 1) * s >= n + before else out
    if isinstance(layer, TransposedConv):
        out = (
            (n - 1) * layer.stride[a]
            - 2 * layer.padding[a]
            + layer.dilation[a] * (layer.kernel[a] - 1)
            + layer.output_padding[a]
            + 1
        )
        if out < 1:  # the padding crops more than the layer computes
            raise GraphError(
                f"node '{node.name}': its {AXES[a]} input of {n} units gives {out} units after the padding "
                "(the input size is too small for this network)"
            )
        return out
    if isinstance(layer, Upsample):
        if not layer.size_like:
            return n * layer.scale[a]
        out = sizes[layer.size_like][a]
        if abs(out - n * layer.scale[a]) >= layer.scale[a]:
            raise SizeLikeMismatch(
                f"node '{node.name}': its {AXES[a]} input of {n} units up-sampled to the size of "
                f"'{layer.size_like}' ({out} units) reads other units than up-sampling by its scale "
                f"{layer.scale[a]} (to {n * layer.scale[a]} units); expected a 'size_like' node whose size the "
                "scale gives, or the scale that gives its size"
            )
        return out
    if isinstance(layer, GlobalPool):
        return 1
    return n


def _check_size_like(node: Node, a: int, n: int, out: int) -> None:
    """For the geometry at a known input size: refuse an up-sampling to a ``size_like`` size (one that
    :func:`out_size` takes: ``n * scale`` rounded by less than the scale, as a stride-``scale`` layer rounds the
    lateral's size) where torch's ``interpolate(size=out)`` reads other units than up-sampling by the scale (VGG's
    floor pooling gives 66 units of a 133-unit lateral: torch runs it, reading unit ``j * 66 // 133``, which
    repeats no period the profile models)."""
    layer = node.layer
    assert isinstance(layer, Upsample) and layer.size_like
    scale = layer.scale[a]
    if _size_like_fits(n, out, scale, layer.mode):
        return
    raise GraphError(
        f"node '{node.name}': its {AXES[a]} input of {n} units up-sampled to the size of '{layer.size_like}' "
        f"({out} units) reads other units than up-sampling by its scale {scale} (to {n * scale} units) at this "
        "input size; torch runs it, but its geometry there is not the profile's; expected an input size the "
        "network's strides divide (the toolkits pad theirs to a multiple of 32)"
    )


def _size_like_fits(n: int, out: int, scale: int, mode: str) -> bool:
    """Whether torch's ``interpolate(size=out)`` of ``n`` units reads what up-sampling by ``scale`` reads (unit
    ``j // scale`` for nearest, which sizes up to ``scale - 1`` units short of ``n * scale`` may still give, e.g.
    FPN's 13 units from 7 by 2); bilinear only at exactly ``n * scale``."""
    if out == n * scale:
        return True
    if mode != "nearest" or not (n - 1) * scale < out < n * scale:
        return False
    return all(j * n // out == j // scale for j in range(out))


class SizeLikeMismatch(GraphError):
    """An up-sampling to a ``size_like`` size that its ``scale`` does not give (rounding aside): the config's
    scale is not the sizes' ratio, an error of the network (not of the input size)."""


class MapTooLarge(GraphError):
    """A feature map over :data:`MAX_MAP_SIDE` units per side: the input is too large (not too small) for the
    network."""


def _refuse_above(
    node: Node, value: int, bound: int, what: str, why: str, error: type[GraphError] = GraphError
) -> None:
    """An ``error`` naming ``node`` when ``value`` (described by ``what``) is above ``bound``; ``why`` follows the
    bound."""
    if value > bound:
        raise error(f"node '{node.name}': {what}; expected at most {bound} {why}")


def _check_side(node: Node, size: Pair) -> None:
    what = f"its feature map would be {size[1]}x{size[0]} units (WxH)"
    _refuse_above(node, max(size), MAX_MAP_SIDE, what, "per side (larger maps would exhaust memory)", MapTooLarge)


def _check_period(node: Node, a: int, period: int) -> None:
    what = f"its {AXES[a]} geometry would repeat only every {period} units (up-sampling that no stride undoes)"
    _refuse_above(node, period, MAX_PERIOD, what, "(longer periods would not finish)")


def _check_pool_runs(node: Node, a: int, units: int, count: int) -> None:
    what = (
        f"the global pool over {units} units would gather {count} runs of pixels along {AXES[a]} (dilations or "
        "strides leaving gaps in every unit's receptive field)"
    )
    _refuse_above(node, count, MAX_POOL_RUNS, what, "(more would exhaust memory)")


def _check_runs(node: Node, a: int, count: int) -> None:
    what = (
        f"its {AXES[a]} receptive field would be split into {count} runs of pixels (dilations or strides whose "
        "taps fall into the gaps of earlier ones)"
    )
    _refuse_above(node, count, MAX_RUNS, what, "(more would exhaust memory)")


def _runs_in(layer: AxisMap, geom: AxisGeom) -> int:
    """The runs :func:`axis.apply` would gather for ``layer`` on ``geom``, counted without building them."""
    period = layer.m * (geom.period // math.gcd(layer.n, geom.period))
    return sum(len(geom.sets[i % geom.period]) for q in range(period) for i, _ in layer.of(q))


def _check_merge(node: Node, geoms: list[AxisGeom], a: int) -> str | None:
    """None if aligned; else a description of the misalignment. Different strides are an error."""
    kind = type_name(node.layer)
    jumps = {g.jump for g in geoms}
    if len(jumps) > 1:
        shown = " vs ".join(f"{g.jump} ('{ref}')" for g, ref in zip(geoms, node.inputs, strict=True))
        raise GraphError(
            f"node '{node.name}' ({kind}): inputs have different {AXES[a]} strides: {shown} (maps at different "
            f"strides have no common grid to merge on: align: union and {ALLOW_MISALIGNED.get()} only lift "
            "misaligned centres)"
        )
    same = axis.common_period(geoms)
    centres = [axis.centres(g) for g in same]
    for k, c in enumerate(centres[1:], start=1):
        if c != centres[0]:
            q = next(q for q in range(len(c)) if c[q] != centres[0][q])
            return (
                f"node '{node.name}' ({kind}): inputs are misaligned along {AXES[a]}: "
                f"unit {q} is centred at {float(centres[0][q]):g} for '{node.inputs[0]}' and at "
                f"{float(c[q]):g} for '{node.inputs[k]}'"
            )
    return None


def _contains(outer: Term, inner: Term) -> bool:
    for a in (0, 1):
        big, small = axis.common_period([outer[a], inner[a]])
        if not all(runs.contains(o, i) for o, i in zip(big.sets, small.sets, strict=True)):
            return False
    return True


def _prune(terms: list[Term]) -> list[Term]:
    """Drop terms contained in another term (keeps the first of equal ones)."""
    kept: list[Term] = []
    for k, t in enumerate(terms):
        dominated = any(_contains(o, t) and (not _contains(t, o) or m < k) for m, o in enumerate(terms) if m != k)
        if not dominated:
            kept.append(t)
    return kept


def feature_sizes(graph: Graph, input_size: Pair) -> dict[str, Pair]:
    """Feature-map sizes ``(h, w)`` of every tap for an input of ``input_size`` ``(h, w)``, without the geometry
    (the same arithmetic as :func:`profile`, cheap enough to run once per distinct input size)."""
    sizes: dict[str, Pair] = {INPUT: input_size}
    try:
        for node in graph.ordered():
            n = sizes[node.inputs[0]]
            sizes[node.name] = (out_size(node, 0, n[0], sizes), out_size(node, 1, n[1], sizes))
            _check_side(node, sizes[node.name])
    except GraphError as exc:  # the same kind of error, with the graph and the input size
        raise type(exc)(
            f"{graph.source or graph.name}: at input {input_size[1]}x{input_size[0]} (WxH): {exc}"
        ) from None
    return {tap: sizes[name] for tap, name in graph.taps}


def sizes_or_problem(graph: Graph, input_size: Pair) -> dict[str, Pair] | GraphError:
    """:func:`feature_sizes`, or the :class:`GraphError` that says ``input_size`` does not suit the network (too
    small; too large, a :class:`MapTooLarge`), returned for the caller to name the image it comes from. A
    :class:`SizeLikeMismatch` is raised: an error of the network at any input size, not of one image."""
    try:
        return feature_sizes(graph, input_size)
    except SizeLikeMismatch:
        raise
    except GraphError as exc:
        return exc


def profile(
    graph: Graph, input_size: Pair | None = None, allow_misaligned: bool = False, *, misaligned_flag: bool = False
) -> Profile:
    """The scale profile of every node of ``graph``.

    ``input_size`` ``(h, w)`` gives feature sizes, resolves "same" padding exactly and bounds global pooling.
    A misaligned add/concat is a :class:`GraphError` unless the node says ``align: union`` or
    ``allow_misaligned`` is set (then the exact union is taken and a warning recorded). The error offers what
    applies: ``align: union`` for a config's node (not an imported model's), :data:`ALLOW_MISALIGNED` only when the
    caller takes it (``misaligned_flag``: ``profile`` and ``erf``; not ``recommend`` or ``explain``).
    """
    check_size(graph, input_size)
    order = graph.ordered()
    try:
        return _run(graph, order, input_size, allow_misaligned, misaligned_flag)
    except GraphError as exc:
        if graph.source and graph.source != "<python>" and not str(exc).startswith(graph.source):
            raise type(exc)(f"{graph.source}: {exc}") from None
        raise


ALLOW_MISALIGNED: ContextVar[str] = ContextVar("scalematch_allow_misaligned", default="allow_misaligned=True")
"""What lifts a misaligned merge, as the errors name it: the Python argument of ``profile_model`` and
``measure_erf``, or the flag of the commands that take it (``profile`` and ``erf`` set ``--allow-misaligned``)."""


@contextmanager
def misaligned_flag(option: str) -> Iterator[None]:
    """Within the block, the misaligned-merge errors name ``option`` (a command's flag) as what lifts them."""
    token = ALLOW_MISALIGNED.set(option)
    try:
        yield
    finally:
        ALLOW_MISALIGNED.reset(token)


def _union_advice(imported: bool, flag: bool) -> str:
    """How to take the exact union at a misaligned merge: what applies to the node's graph and the caller."""
    option = ALLOW_MISALIGNED.get()
    if imported and flag:
        return f"pass {option} to take their exact union"
    if imported:
        return "expected aligned inputs (an imported model has no config node to write 'align: union' on)"
    if flag:
        return f"write 'align: union' on the node or pass {option} to take their exact union"
    return "write 'align: union' on the node to take their exact union"


def _run(
    graph: Graph, order: tuple[Node, ...], input_size: Pair | None, allow_misaligned: bool, misaligned_flag: bool
) -> Profile:
    taps = {node: tap for tap, node in graph.taps}
    geoms: dict[str, tuple[AxisGeom, AxisGeom] | None] = {INPUT: (axis.image_axis(), axis.image_axis())}
    terms: dict[str, list[Term]] = {INPUT: [(axis.image_axis(), axis.image_axis())]}
    sizes: dict[str, Pair] = {INPUT: input_size} if input_size else {}
    warnings: list[str] = []
    maps: list[FeatureMap] = []
    for node in order:
        layer = node.layer
        size_in = sizes.get(node.inputs[0])
        if input_size is not None and size_in is not None:
            if isinstance(layer, Merge):
                shapes = [sizes[r] for r in node.inputs]
                if len(set(shapes)) > 1:
                    shown = " vs ".join(f"{w}x{h} ('{r}')" for (h, w), r in zip(shapes, node.inputs, strict=True))
                    raise GraphError(f"node '{node.name}' ({layer.kind}): input sizes differ: {shown}")
            sizes[node.name] = (out_size(node, 0, size_in[0], sizes), out_size(node, 1, size_in[1], sizes))
            _check_side(node, sizes[node.name])
            if isinstance(layer, Upsample) and layer.size_like:
                for a in (0, 1):
                    _check_size_like(node, a, size_in[a], sizes[node.name][a])
        ins = [geoms[r] for r in node.inputs]
        geom: tuple[AxisGeom, AxisGeom] | None
        if any(g is None for g in ins) or (isinstance(layer, GlobalPool) and size_in is None):
            geom, terms[node.name] = None, []
        elif isinstance(layer, Merge):
            inputs = [g for g in ins if g is not None]
            for a in (0, 1):
                period = math.lcm(*(g[a].period for g in inputs))
                _check_period(node, a, period)
                sets = [g[a].sets for g in inputs] + [t[a].sets for r in node.inputs for t in terms[r]]
                _check_runs(node, a, max(sum(len(s[q % len(s)]) for q in range(period)) for s in sets))
                problem = _check_merge(node, [g[a] for g in inputs], a)
                if problem and layer.align == "strict":
                    if not allow_misaligned:
                        raise GraphError(f"{problem}; {_union_advice(node.name in graph.imported, misaligned_flag)}")
                    warnings.append(f"{problem}; took their exact union")
            geom = (axis.merge([g[0] for g in inputs]), axis.merge([g[1] for g in inputs]))
            terms[node.name] = _prune([t for r in node.inputs for t in terms[r]])
        elif isinstance(layer, GlobalPool):
            assert size_in is not None and ins[0] is not None
            for a in (0, 1):
                g = ins[0][a]
                _check_pool_runs(node, a, size_in[a], sum(len(g.sets[i % g.period]) for i in range(size_in[a])))
            geom = (axis.global_pool(ins[0][0], size_in[0]), axis.global_pool(ins[0][1], size_in[1]))
            terms[node.name] = [geom]
        else:
            if isinstance(layer, Passthrough):
                geom = ins[0]
                terms[node.name] = terms[node.inputs[0]]
            else:
                if isinstance(layer, TransposedConv) and (bad := tapless_axis(layer)) is not None:
                    raise GraphError(f"node '{node.name}': {tapless_message(layer, bad)}")
                maps_yx = [axis_map(layer, a, size_in[a] if size_in else None) for a in (0, 1)]
                assert ins[0] is not None
                for a, (m, g) in enumerate(zip(maps_yx, ins[0], strict=True)):
                    _check_period(node, a, m.m * (g.period // math.gcd(m.n, g.period)))
                    _check_runs(node, a, max(_runs_in(m, t[a]) for t in [ins[0], *terms[node.inputs[0]]]))
                geom = (axis.apply(maps_yx[0], ins[0][0]), axis.apply(maps_yx[1], ins[0][1]))
                terms[node.name] = _prune(
                    [(axis.apply(maps_yx[0], t[0]), axis.apply(maps_yx[1], t[1])) for t in terms[node.inputs[0]]]
                )
        geoms[node.name] = geom
        maps.append(
            FeatureMap(
                name=node.name,
                layer=layer,
                inputs=node.inputs,
                tap=taps.get(node.name),
                y=summarize(geom[0]) if geom else None,
                x=summarize(geom[1]) if geom else None,
                area=union_area(terms[node.name]) if geom else None,
                size=sizes.get(node.name),
                geom=geom,
                terms=tuple(terms[node.name]) if geom else (),
            )
        )
    return Profile(graph.name, input_size, tuple(maps), tuple(warnings), graph.convention)
