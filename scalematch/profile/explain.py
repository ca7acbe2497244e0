"""Which units of the previous map one output unit reads, and the exact input pixels of each (for teaching).

Everything here is read off the profile engine: the units a layer reads come from the engine's own
:func:`~scalematch.profile.engine.axis_map` (the same taps it propagates), and every pixel set is the engine's
exact per-axis unit set ``FeatureMap.geom[a].unit(i)``. Nothing is recomputed from formulas.

Per axis, unit ``u`` of a node reads some units of each input map; in 2-D it reads their products. The 2-D
region of an input unit is drawn as the product of its per-axis sets (rows x columns): exact for chains of
layers and for merges of maps with product-shaped regions. When a merge of differently shaped kernels makes the
true 2-D region smaller than the product (1x7 + 7x1), :attr:`Explanation.exact_area` says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from os import PathLike
from typing import TYPE_CHECKING, Any

from scalematch._text import counted, cut_name
from scalematch.errors import ConfigError, GraphError, OptionError, ScalematchError
from scalematch.profile import edges
from scalematch.profile.api import build, is_imported
from scalematch.profile.axis import AxisGeom, image_axis
from scalematch.profile.engine import FeatureMap, Profile, axis_map, profile
from scalematch.profile.graph import INPUT, Graph
from scalematch.profile.importers.config import builtin, from_layers
from scalematch.profile.layers import GlobalPool, Merge, Passthrough
from scalematch.profile.runs import Runs, size
from scalematch.profile.summary import AxisSummary, summarize

if TYPE_CHECKING:
    import pandas as pd

IMAGE_SUMMARY = summarize(image_axis())
"""The input image as a map: stride 1, receptive field 1, union 1, overlap 0, ERF sigma 0."""

MAX_UNIT = 1 << 24
"""The largest unit index :func:`explain` takes (both axes)."""

_SEARCH = 100_000
"""How far :func:`explain` looks for the first unit whose region lies inside the image."""


@dataclass(frozen=True)
class Region:
    """Unit ``unit`` ``(i_y, i_x)`` of map ``source`` and its exact input pixels per axis (half-open runs)."""

    source: str
    unit: tuple[int, int]
    rows: Runs
    cols: Runs

    def rectangles(self) -> tuple[tuple[int, int, int, int], ...]:
        """The region as rectangles ``(y0, y1, x0, x1)`` (half-open, input pixels): rows x columns runs."""
        return tuple((y0, y1, x0, x1) for y0, y1 in self.rows for x0, x1 in self.cols)

    @property
    def pixels(self) -> int:
        """Number of input pixels in the region (product of the per-axis counts)."""
        return size(self.rows) * size(self.cols)


@dataclass(frozen=True)
class AxisReads:
    """One axis: unit ``unit`` of the node reads ``units[k]`` of input ``sources[k]``; their pixel sets."""

    unit: int
    sources: tuple[str, ...]
    units: tuple[tuple[int, ...], ...]
    sets: tuple[tuple[Runs, ...], ...]
    union: Runs


@dataclass(frozen=True)
class Explanation:
    """One output unit of ``node`` and the units it reads in the previous map(s), with their input regions."""

    profile: Profile
    node: FeatureMap
    inputs: tuple[tuple[str, AxisSummary, AxisSummary], ...]
    """``(name, y summary, x summary)`` of each input map ('image' for the network input)."""
    unit: tuple[int, int]
    axes: tuple[AxisReads, AxisReads]
    regions: tuple[Region, ...]
    union: Region
    product_exact: bool
    """Whether the exact 2-D count ``area`` equals the product of the per-axis sets (False only when a merge of
    differently shaped regions, 1x7 + 7x1, leaves holes in the product drawn here)."""
    area: int
    """The exact number of input pixels the unit reads (2-D)."""
    erf_mean: tuple[Fraction, Fraction]
    """Mean ``(y, x)`` of the unit's input-gradient distribution (analytic ERF), in input pixels."""
    erf_sigma: tuple[float, float]
    """Its standard deviation ``(y, x)`` for this unit."""
    chain: tuple[str, ...]
    """Maps from the input to the node when the graph is a single chain (all of them), else the node's inputs
    and the node."""
    labels: tuple[tuple[str, str], ...] = ()
    """``(node, spec)`` for a network given as layer specs (nodes ``L1``, ``L2``, ... named by the spec typed)."""

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data (JSON-ready): the node, the unit ``[y, x]``, each unit read with its exact
        input pixels (half-open runs per axis), the union, the exact 2-D count and the unit's ERF moments."""
        from scalematch.profile.document import explain_json

        return explain_json(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per unit read: its map, ``unit_h`` / ``unit_w``, its pixel count and box, and its exact runs (a
        pandas DataFrame)."""
        from scalematch.profile.document import explain_frame

        return explain_frame(self)

    def __repr__(self) -> str:
        unit = self.unit[0] if self.unit[0] == self.unit[1] else self.unit
        sources = ", ".join(self.node.inputs)
        return (
            f"<Explanation {self.node.name} unit {unit}: reads {counted(len(self.regions), 'unit')} of {sources}; "
            f"input region {counted(self.area, 'pixel')}>"
        )


def _geom(profile: Profile, name: str) -> tuple[AxisGeom, AxisGeom]:
    if name == INPUT:
        return image_axis(), image_axis()
    geom = profile[name].geom
    if geom is None:
        raise OptionError(f"map '{name}' depends on the whole input (global pooling); explain needs a bounded one")
    return geom


def _reads(profile: Profile, fm: FeatureMap, a: int, u: int) -> tuple[tuple[int, ...], ...]:
    """Per input map, the units that unit ``u`` of ``fm`` reads along axis ``a`` (the engine's taps)."""
    if isinstance(fm.layer, Merge | Passthrough):
        return tuple((u,) for _ in fm.inputs)
    if isinstance(fm.layer, GlobalPool):
        raise OptionError(f"node '{fm.name}' is a global pooling: it reads every unit, there is nothing to draw")
    taps = axis_map(fm.layer, a, None).of(u)
    return (tuple(sorted({i for i, _ in taps})),)


def _first_inside(profile: Profile, fm: FeatureMap, a: int) -> int:
    """The smallest unit index >= 0 whose input pixels and read units all have non-negative indices."""
    geom = _geom(profile, fm.name)[a]
    for u in range(_SEARCH):
        if geom.unit(u)[0][0][0] >= 0 and all(min(units) >= 0 for units in _reads(profile, fm, a, u)):
            return u
    return 0  # pragma: no cover - needs a padding of more than _SEARCH strides


def _within(unit: int, side: int) -> int:
    """The default unit of a map of ``side`` units: the first inside the image, or the middle one when the map
    has no unit whose region lies inside the image (every unit reaches past an edge)."""
    return unit if unit < side else side // 2


def _is_chain(profile: Profile) -> bool:
    previous = INPUT
    for fm in profile.feature_maps:
        if fm.inputs != (previous,):
            return False
        previous = fm.name
    return True


NETWORK = "a backbone name, a YAML config path, a list of layer specs (str) or a Profile"


def explain(
    network: Profile | str | PathLike[str] | Sequence[str],
    node: str | None = None,
    unit: int | tuple[int, int] | None = None,
    *,
    neck: str | PathLike[str] | None = None,
) -> Explanation:
    """What ``scalematch explain`` prints and draws: unit ``unit`` of map ``node`` of ``network`` and the units it
    reads in its input map(s), with their exact input pixels.

    ``network`` is a built-in backbone name or a YAML config path (with an optional ``neck``, a built-in name or
    a YAML path), a list of layers applied in order (seed names such as ``"conv_3x3_stride_1"`` or inline specs
    such as ``"conv:k=3,s=2"``: nodes ``L1``, ``L2``, ...), or a :class:`Profile` already made. ``node`` is a map
    name (default: the last map); ``unit`` is one index from 0 to 2**24 for both axes, or ``(i_y, i_x)``
    (default: the first unit whose input region lies in the image; in a Profile with an input size whose map has
    no such unit, the middle one). A unit at the edge reads only units that exist (see
    :mod:`scalematch.profile.edges`).

    Raises :class:`OptionError` for an argument of the wrong type or range, an unknown node or a map without a
    bounded region (global pooling).
    """
    from scalematch import _args

    _args.expect(node, "node", str, "a map name (str)", optional=True)
    if unit is not None:
        if isinstance(unit, tuple) and len(unit) == 2:
            unit = (_args.at_least(unit[0], "unit", 0, MAX_UNIT), _args.at_least(unit[1], "unit", 0, MAX_UNIT))
        elif isinstance(unit, tuple | list):
            raise OptionError(f"unit: expected one index or a pair (i_y, i_x), got {_args.shown(unit)}")
        else:
            unit = _args.at_least(unit, "unit", 0, MAX_UNIT)
    if isinstance(network, Profile):
        if neck is not None:
            raise OptionError(f"neck: a Profile is explained as it is; got {_args.shown_path(neck)}")
        return _explain(network, node, unit)
    neck = _args.path_or_name(neck, "neck", "a neck name or YAML path (str or pathlib.Path)", optional=True)
    if isinstance(network, list | tuple):
        for spec in network:
            _args.expect(spec, "network", str, NETWORK)
        specs = list(network)
    else:
        specs = [_args.path_or_name(network, "network", NETWORK)]
    graph, labels = build_network(specs, neck)
    result = _explain(profile_network(graph, labels), node, unit, None if labels else specs[0], labels)
    return replace(result, labels=tuple(labels.items()))


def _explain(
    profile: Profile,
    node: str | None,
    unit: int | tuple[int, int] | None,
    source: str | None = None,
    labels: dict[str, str] | None = None,
) -> Explanation:
    """:func:`explain` of a profile, its arguments checked. An error names the network by ``source`` (the backbone
    or config as given; default: the profile's name), or a layer spec by its place and ``labels[node]``."""
    if not profile.feature_maps:
        raise OptionError("the network has no layers to explain")
    if node is None:
        fm = profile.feature_maps[-1]
    else:
        try:
            fm = profile[node]
        except KeyError:
            names = [f.name for f in profile.feature_maps]
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise OptionError(f"node: no map named '{node}' in {profile.name}; maps: {shown}") from None
    _geom(profile, fm.name)  # a bounded map
    if isinstance(unit, int):
        unit = (unit, unit)
    chosen = unit if unit is not None else (_first_inside(profile, fm, 0), _first_inside(profile, fm, 1))
    if unit is None and profile.input_size is not None and fm.size is not None:  # a map too small for such a unit
        chosen = (_within(chosen[0], fm.size[0]), _within(chosen[1], fm.size[1]))
    if profile.input_size is not None and fm.size is not None:
        for a, what in enumerate(("rows", "columns")):
            if not 0 <= chosen[a] < fm.size[a]:
                side = fm.size[a]
                raise OptionError(
                    f"unit: unit {chosen[a]} is outside the {side} {what} of '{fm.name}' (0 to {side - 1}) at "
                    f"input {profile.input_size[1]}x{profile.input_size[0]} (WxH)"
                )
    _check_span(profile, fm, chosen, source, labels or {})
    found = [edges.axis_edges(profile, fm, a, chosen[a]) for a in (0, 1)]
    axes = []
    for a, axis_found in enumerate(found):
        own = axis_found.value(fm.name, chosen[a])
        if not own.pixels:
            raise OptionError(
                f"unit: unit {chosen[a]} of '{fm.name}' reads no input pixel along {'yx'[a]}: every unit it would "
                "read lies in the padding or past the edge of its map"
            )
        per_source = edges.reads(axis_found, fm)
        sets = tuple(
            tuple(axis_found.value(src, i).pixels for i in units)
            for src, units in zip(fm.inputs, per_source, strict=True)
        )
        axes.append(AxisReads(chosen[a], fm.inputs, per_source, sets, own.pixels))
    ay, ax = axes
    regions = tuple(
        Region(src, (iy, ix), rows, cols)
        for k, src in enumerate(fm.inputs)
        for iy, rows in zip(ay.units[k], ay.sets[k], strict=True)
        for ix, cols in zip(ax.units[k], ax.sets[k], strict=True)
    )
    union = Region(fm.name, chosen, ay.union, ax.union)
    inputs = tuple(
        (src, IMAGE_SUMMARY, IMAGE_SUMMARY) if src == INPUT else _summaries(profile[src]) for src in fm.inputs
    )
    if _is_chain(profile):
        names = [f.name for f in profile.feature_maps]
        chain = (INPUT, *names[: names.index(fm.name) + 1])
    else:
        chain = (*fm.inputs, fm.name)
    area = edges.area(profile, fm, found[0], found[1])
    moments = [found[a].value(fm.name, chosen[a]) for a in (0, 1)]
    return Explanation(
        profile,
        fm,
        inputs,
        chosen,
        (ay, ax),
        regions,
        union,
        area == size(ay.union) * size(ax.union),
        area,
        (moments[0].mean, moments[1].mean),
        (math.sqrt(moments[0].variance), math.sqrt(moments[1].variance)),
        chain,
    )


def _check_span(
    profile: Profile, fm: FeatureMap, unit: tuple[int, int], source: str | None, labels: dict[str, str]
) -> None:
    """Refuse a unit that depends on more units than explain follows back (counted before any is listed)."""
    for a in (0, 1):
        span = edges.dependency_span(profile, fm, a, unit[a])
        if span <= edges.MAX_DEPENDENCIES:
            continue
        if fm.name in labels:
            where = f"layer {fm.name[1:]} '{cut_name(labels[fm.name])}': unit {unit[a]}"
            fix = "explain fewer layers"
        else:
            where = f"{cut_name(source or profile.name)}: unit {unit[a]} of '{fm.name}'"
            fix = "explain a node nearer the input"
        raise OptionError(
            f"{where} depends on up to {span:,} units of the maps before it along {'yx'[a]}, more than the "
            f"{edges.MAX_DEPENDENCIES:,} explain follows back; {fix}"
        )


def build_network(specs: list[str], neck: str | None = None) -> tuple[Graph, dict[str, str]]:
    """The graph to explain and a label per node: one built-in backbone name or YAML path (with an optional
    neck), or a sequence of seed layer names / inline specs (nodes ``L1``, ``L2``, ... labelled by their spec)."""
    if not specs:
        raise OptionError("expected at least one layer: a seed layer name, an inline spec or a backbone")
    blank = next((k for k, spec in enumerate(specs) if not spec.strip()), None)
    if blank is not None:  # (it named the network '', which the config read of the layers refused as its name)
        where = f"layer {blank + 1}: " if len(specs) > 1 else ""
        raise OptionError(
            f"{where}expected a seed layer name, an inline spec or a backbone, got an empty value ({specs[blank]!r})"
        )
    if len(specs) == 1 and (specs[0] in builtin("backbones") or specs[0].endswith((".yaml", ".yml"))):
        return build(specs[0], neck), {}
    imported = next((spec for spec in specs if is_imported(spec)), None)
    if imported is not None:
        kind = "an ONNX file" if imported.lower().endswith(".onnx") else "a torch module"
        raise OptionError(
            f"'{imported}' is {kind}: explain takes a built-in backbone, a YAML config or layer specs; profile and erf "
            f"take torch modules and ONNX files (scalematch profile {imported})"
        )
    if neck is not None:
        raise OptionError(f"neck: '{neck}': a neck needs a backbone (a built-in name or a YAML path), got layer specs")
    try:
        graph = from_layers(specs, name=" ".join(specs))
    except (ConfigError, GraphError) as exc:
        found = re.match(r"<layers>: layers\[(\d+)\]( \([^)]*\))?: (layer spec '[^']*': )?", str(exc))
        node = re.match(r"<layers>: node 'L(\d+)': ", str(exc))  # a check of the built node (an add's inputs)
        node = node or re.match(r"<layers>: (?=the graph has a cycle: L(\d+) )", str(exc))  # (its first node)
        if found is not None:
            k = int(found.group(1))
        elif node is not None and 1 <= int(node.group(1)) <= len(specs):
            k, found = int(node.group(1)) - 1, node
        else:
            raise
        raise type(exc)(f"layer {k + 1} '{cut_name(specs[k])}': {str(exc)[found.end() :]}") from None
    return graph, {f"L{i}": spec for i, spec in enumerate(specs, start=1)}


def profile_network(graph: Graph, labels: dict[str, str]) -> Profile:
    """The profile of a :func:`network` graph. For layer specs, an error at node ``Lk`` names layer k by the spec
    typed for it (``layer 2 'upsample:f=1024': ...``), as the errors of reading the specs do."""
    try:
        return profile(graph)
    except ScalematchError as exc:
        found = re.match(r"<layers>: node '(L\d+)': ", str(exc))
        if found is None or found.group(1) not in labels:
            raise
        k = found.group(1)
        raise type(exc)(f"layer {k[1:]} '{cut_name(labels[k])}': {str(exc)[found.end() :]}") from None


def _summaries(fm: FeatureMap) -> tuple[str, AxisSummary, AxisSummary]:
    if fm.y is None or fm.x is None:  # pragma: no cover - _geom rejects these first
        raise OptionError(f"map '{fm.name}' depends on the whole input")
    return fm.name, fm.y, fm.x


def summary_of(profile: Profile, name: str) -> tuple[AxisSummary, AxisSummary]:
    """``(y, x)`` summaries of a map, or of the image for ``'image'``."""
    if name == INPUT:
        return IMAGE_SUMMARY, IMAGE_SUMMARY
    _, y, x = _summaries(profile[name])
    return y, x


__all__ = [
    "IMAGE_SUMMARY",
    "MAX_UNIT",
    "AxisReads",
    "Explanation",
    "Region",
    "build_network",
    "explain",
    "summary_of",
]
