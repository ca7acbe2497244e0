"""Shared steps of the model importers (ONNX, torch.fx): taps, pad folding, pruning, the final graph.

An importer walks a foreign graph and emits :class:`~scalematch.profile.graph.Node` objects named after the
foreign values (ONNX value names, torch module paths). This module turns that node list into a
:class:`~scalematch.profile.graph.Graph`: explicit pads folded into the window that follows them, nodes that
no tap depends on dropped (shape arithmetic, classifier heads, squeeze-excitation gates), taps resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from scalematch.errors import ModelError
from scalematch.profile.graph import INPUT, Graph, Node
from scalematch.profile.importers.layer_list import layer_problem
from scalematch.profile.layers import GlobalPool, Merge, Pair, TransposedConv, Upsample, Window

NAME_TAPS = "name its feature maps as taps (profile --taps, erf --tap)"
"""The advice of an import that finds no feature map among a model's outputs."""
TapSpec = str | Sequence[str] | Mapping[str, str] | None
"""Taps as ``"a,b"`` / ``"C3=a,C4=b"`` text, a list of such items, or a mapping tap -> value name."""


def pad_layer(pads: tuple[Pair, Pair]) -> Window:
    """An explicit pad as a layer: a 1x1/1 window with that padding (unit j reads input unit j - pad)."""
    return Window("avgpool", (1, 1), (1, 1), pads)


def parse_taps(spec: TapSpec) -> list[tuple[str, str]] | None:
    """``[(tap name, value name), ...]``; a bare ``name`` is tapped under its own name. None: the outputs."""
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return [(str(k), str(v)) for k, v in spec.items()]
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[tuple[str, str]] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        tap, eq, value = item.partition("=")
        out.append((tap.strip(), value.strip()) if eq else (item, item))
    return out or None


def fold_pads(nodes: list[Node], pad_nodes: set[str], keep: set[str]) -> list[Node]:
    """Fold each explicit pad node into the window that alone reads it (explicit padding, no ceil mode)."""
    readers: dict[str, list[Node]] = {}
    for node in nodes:
        for ref in node.inputs:
            readers.setdefault(ref, []).append(node)
    by_name = {n.name: n for n in nodes}
    folded: dict[str, Node] = {}
    dropped: set[str] = set()
    for name in pad_nodes:
        pad = by_name[name]
        users = readers.get(name, [])
        if name in keep or len(users) != 1 or not isinstance(pad.layer, Window):
            continue
        user = folded.get(users[0].name, users[0])
        layer = user.layer
        if not isinstance(layer, Window) or layer.padding == "same" or layer.ceil_mode or pad.layer.padding == "same":
            continue
        (pt, pb), (pl, pr) = pad.layer.padding
        (t, b), (left, r) = layer.padding
        if min(t + pt, b + pb, left + pl, r + pr) < 0:
            continue  # a crop (negative pad) the window's padding does not cover: refused with the pad's node
        new = replace(layer, padding=((t + pt, b + pb), (left + pl, r + pr)))
        folded[user.name] = Node(user.name, new, tuple(pad.inputs[0] if i == name else i for i in user.inputs))
        dropped.add(name)
    return [folded.get(n.name, n) for n in nodes if n.name not in dropped]


def _sides(padding: tuple[Pair, Pair]) -> str:
    (t, b), (left, r) = padding
    return f"top {t}, bottom {b}, left {left}, right {r}"


def check_crop(node: Node, nodes: Sequence[Node], source: str) -> None:
    """A :class:`ModelError` naming an explicit pad with a negative side (a crop) left after folding: a crop is
    modelled only as part of the padding of the one window that reads it, when that padding covers it."""
    layer = node.layer
    if not isinstance(layer, Window) or layer.padding == "same" or min(min(p) for p in layer.padding) >= 0:
        return
    readers = [n for n in nodes if node.name in n.inputs]
    reader = readers[0] if len(readers) == 1 else None
    after = ""
    if reader is not None and isinstance(reader.layer, Window) and reader.layer.padding != "same":
        after = f" ('{reader.name}' pads {_sides(reader.layer.padding)})"
    raise ModelError(
        f"{source}: node '{node.name}': negative pads ({_sides(layer.padding)}) crop the map; a crop is modelled "
        f"only when the padding of the window that follows covers it{after}"
    )


def finish(
    name: str,
    nodes: list[Node],
    taps: list[tuple[str, str]],
    convention: str,
    source: str,
    pad_nodes: Iterable[str] = (),
    refused: Mapping[str, str] | None = None,
    notes: Iterable[str] = (),
    traced_at: Pair | None = None,
    size_bound: Mapping[str, str] | None = None,
) -> Graph:
    """The graph of the nodes that some tap depends on (pads folded), checked for structure.

    ``refused`` maps nodes the importer could not model to the error to raise if a tap depends on one (the
    first in order); the others (a classifier head, an unsupported op off the tapped path) are dropped.
    ``notes`` are added to the convention, one line each, as are the merges kept that take the union of
    misaligned inputs. Every kept layer is held to the bounds a config's layers are (a
    :class:`~scalematch.errors.ModelError` naming ``source`` and the node otherwise). ``traced_at`` is the
    example input ``(h, w)``; ``size_bound`` maps the nodes whose geometry was read at that size to what was
    read: those a tap depends on (pads before folding too) make the graph's ``size_bound``.
    """
    keep = {value for _, value in taps}
    pads = set(pad_nodes)
    marked = dict(size_bound or {})
    before = _needed(nodes, keep) if marked else set()
    bound = tuple((n.name, marked[n.name]) for n in nodes if n.name in marked and n.name in before)
    nodes = fold_pads(nodes, pads, keep)
    needed = _needed(nodes, keep)
    kept = [n for n in nodes if n.name in needed]
    for node in kept:
        if refused and node.name in refused:
            raise ModelError(refused[node.name])
        if node.name in pads:
            check_crop(node, kept, source)
        problem = layer_problem(node.layer)
        if problem:
            raise ModelError(f"{source}: node '{node.name}': {problem}")
    unions = [n.name for n in kept if isinstance(n.layer, Merge) and n.layer.align == "union"]
    lines = [convention, *(f"note: {note}" for note in notes)]
    if bound and traced_at is not None:
        names = ", ".join(f"'{name}'" for name, _ in bound)
        lines.append(
            f"note: {names} read the input's size: the geometry holds at {traced_at[1]}x{traced_at[0]} (WxH) only"
        )
    if unions:
        shown = ", ".join(unions[:4]) + (f" and {len(unions) - 4} more" if len(unions) > 4 else "")
        lines.append(
            f"note: nearest up-sampling puts odd units half a cell off; the merges after it take the exact "
            f"union of their inputs (align: union, as the fpn and pan necks do): {shown}"
        )
    graph = Graph(
        name,
        tuple(kept),
        tuple(taps),
        "\n".join(lines),
        source,
        traced_at=traced_at,
        size_bound=bound,
        imported=tuple(n.name for n in kept),
    )
    graph.ordered()
    return graph


def _needed(nodes: Sequence[Node], keep: set[str]) -> set[str]:
    """The names of the nodes that some node of ``keep`` depends on (themselves included)."""
    by_name = {n.name: n for n in nodes}
    needed: set[str] = set()
    stack = [v for v in keep if v in by_name]
    while stack:
        current = stack.pop()
        if current in needed or current not in by_name:
            continue
        needed.add(current)
        node = by_name[current]
        stack.extend(node.inputs)
        if isinstance(node.layer, Upsample) and node.layer.size_like:
            stack.append(node.layer.size_like)
    return needed


def resolve_taps(
    requested: list[tuple[str, str]],
    names: Sequence[str],
    aliases: Mapping[str, str],
    where: str,
) -> list[tuple[str, str]]:
    """Tap values resolved to node names: a node name, else an alias (e.g. a module path or ONNX value name)."""
    known = set(names)
    out = []
    for tap, value in requested:
        if value in known:
            out.append((tap, value))
        elif value in aliases:
            out.append((tap, aliases[value]))
        elif value == INPUT:
            raise ModelError(f"{where}: tap '{tap}': the input image is not a feature map")
        elif not names:
            raise ModelError(
                f"{where}: tap '{tap}': no feature map or module named '{value}': the model has no feature map "
                "(no node of its graph makes one)"
            )
        else:
            shown = ", ".join(list(names)[-5:])
            raise ModelError(
                f"{where}: tap '{tap}': no feature map or module named '{value}' (the last feature maps: {shown})"
            )
    return out


def resolve_requested(importer: Any, requested: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    """The requested taps as node names, for either importer (its ``nodes``, ``aliases``, ``unmapped``,
    ``pending_keys`` and ``read_back``): a tap on a value kept in a rearranged layout is read back first; a tap
    on a value that is not an (N, C, H, W) feature map is a :class:`ModelError` saying why."""
    for _, value in requested:
        if value in importer.pending_keys:
            importer.read_back(importer.pending_keys[value])
    names = [n.name for n in importer.nodes]
    for tap, value in requested:
        if value not in names and value not in importer.aliases and value in importer.unmapped:
            raise ModelError(
                f"{label}: tap '{tap}': '{value}' is not an (N, C, H, W) feature map: {importer.unmapped[value]}"
            )
    return resolve_taps(requested, names, importer.aliases, label)


def repeated_map(taps: Iterable[tuple[str, str]]) -> tuple[str, str, str] | None:
    """The first feature map that two of ``taps`` (name, node) name: (its first name, its second, the node)."""
    named: dict[str, str] = {}
    for tap, node in taps:
        if node in named:
            return named[node], tap, node
        named[node] = tap
    return None


def one_name_per_map(resolved: list[tuple[str, str]], label: str) -> None:
    """A :class:`ModelError` when two requested taps name one feature map (as a config's ``outputs`` may not)."""
    twice = repeated_map(resolved)
    if twice is not None:
        raise ModelError(
            f"{label}: taps '{twice[0]}' and '{twice[1]}' both name the feature map '{twice[2]}'; expected one tap "
            "name per map (a feature map carries one name)"
        )


def stage_taps(nodes: Sequence[Node], excluded: set[str]) -> list[tuple[str, str]]:
    """Default taps of a model that returns no feature map (a classifier): at each stride above 1, the last
    node that every later node depends on (a stage output, not a node inside a residual block), named
    ``C<k>`` at stride ``2**k`` (``S<stride>`` otherwise), in the order of the strides.

    Nodes in ``excluded`` (refused, or sized by adaptive pooling) and nodes after a global pool or one of
    them are skipped: they belong to the head.
    """
    jump: dict[str, tuple[Fraction, Fraction] | None] = {INPUT: (Fraction(1), Fraction(1))}
    position = {node.name: k for k, node in enumerate(nodes)}
    reach = [k for k in range(len(nodes))]  # the last position that reads node k's output
    for k, node in enumerate(nodes):
        for ref in node.inputs:
            if ref in position:
                reach[position[ref]] = max(reach[position[ref]], k)
    last: dict[tuple[Fraction, Fraction], str] = {}
    crossing = max((k for k, node in enumerate(nodes) if INPUT in node.inputs), default=0)
    for k, node in enumerate(nodes):
        ins = [jump.get(r) for r in node.inputs]
        layer = node.layer
        current = ins[0] if ins and all(j is not None for j in ins) else None
        cut = crossing <= k  # no node before this one is read after it
        crossing = max(crossing, reach[k])
        if node.name in excluded or isinstance(layer, GlobalPool) or current is None:
            jump[node.name] = None
            continue
        if isinstance(layer, Window):
            current = (current[0] * layer.stride[0], current[1] * layer.stride[1])
        elif isinstance(layer, TransposedConv | Upsample):
            factor = layer.stride if isinstance(layer, TransposedConv) else layer.scale
            current = (current[0] / factor[0], current[1] / factor[1])
        jump[node.name] = current
        if cut and current[0] > 1 and current[1] > 1:
            last.pop(current, None)
            last[current] = node.name
    taps = []
    for (sy, sx), node_name in sorted(last.items()):
        k = sy.numerator.bit_length() - 1
        if sy == sx and sy.denominator == 1 and sy.numerator == 2**k:
            tap = f"C{k}"
        else:
            tap = f"S{sy}" if sy == sx else f"S{sx}x{sy}"
        taps.append((tap, node_name))
    return taps


def blocked_maps(nodes: Sequence[Node], refused: set[str], maps: set[str], heads: set[str]) -> list[str]:
    """The feature maps (nodes in ``maps``) that :func:`stage_taps` can never tap because a refused node lies
    before them, in graph order; maps after a global pool or a node of ``heads`` (the classifier) are none."""
    after_refusal: set[str] = set()
    in_head: set[str] = set()
    found = []
    for node in nodes:
        if node.name in heads or isinstance(node.layer, GlobalPool) or any(i in in_head for i in node.inputs):
            in_head.add(node.name)
            continue
        if node.name in refused or any(i in after_refusal for i in node.inputs):
            after_refusal.add(node.name)
            if node.name in maps and node.name not in refused:
                found.append(node.name)
    return found


class BlockedTaps(ModelError):
    """The default taps would stop before a refused node (:func:`blocked_error`); ``taps`` are those that reach
    the maps before it, ``advice`` the clause that offers them (what a caller without ``--taps`` replaces)."""

    def __init__(self, message: str, taps: list[tuple[str, str]], advice: str) -> None:
        super().__init__(message)
        self.taps = taps
        self.advice = advice


def blocked_error(refusal: str, later: list[str], taps: list[tuple[str, str]], returned: str) -> BlockedTaps:
    """The error of default stage taps ``taps`` that would stop before the refused node ``refusal`` describes,
    leaving out the feature maps ``later`` (:func:`blocked_maps`); ``returned``: what the model returns instead
    of a feature map."""
    from scalematch._text import counted

    more = f" and {counted(len(later) - 1, 'other')}" if len(later) > 1 else ""
    shown = ",".join(f"{tap}={value}" for tap, value in taps)
    advice = f"; to profile only the maps before it, name them (--taps {shown})"
    return BlockedTaps(
        f"{refusal}; {returned}, and the default taps (the last feature map at each stride) would stop before that "
        f"node, leaving out the feature maps after it ('{later[-1]}'{more}){advice}",
        taps,
        advice,
    )
