"""Levels the design search may add to a preset: a finer P2 and a coarser P7, where the network can honestly
make them for a head shared across levels (torchvision's RPN, RetinaNet and FCOS heads, mmdetection's ATSS head).

- **P2** where the backbone gives C2 and the neck is an FPN whose P3 is a 3x3 conv on a top-down sum: P2 is built
  the same way one level down (a 1x1 lateral conv on C2, the top-down map up-sampled 2x and added, a 3x3 output
  conv), as torchvision's ``_resnet_fpn_extractor(returned_layers=[1, 2, 3, 4])`` and mmdetection's
  ``FPN(start_level=0)`` build it. Its anchors are the finest level's at half the size (stride 4); for FCOS that
  also puts the regress range (4 s, 8 s) of the new level below the first one's, which then gains a lower bound.
- **P7** where the neck makes its coarsest level P6 by a 1x1 max-pool with stride 2 (Faster R-CNN's FPN): P7 is
  the same max-pool on P6, as mmdetection's FPN without extra convs makes every level beyond the backbone's
  (``num_outs=6``). Its anchors are P6's at twice the size. RetinaNet, FCOS and ATSS already end at P7.

Not offered, because no toolkit builds them from these presets' settings: a P2 or extra map for SSD300 (its
per-level heads have their own box counts, and each new map needs new extra layers, a new scale s_k and step),
P2 for the YOLO heads (the Detect head and its anchor rows are built for P3-P5; ultralytics' P2 models are other
architectures with their own necks), and levels beyond P7 (torchvision's LastLevelP6P7 and mmdetection's
RetinaNet, FCOS and ATSS configs stop there).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scalematch.presets.preset import ATSSAssign, FCOSAssign, MaxIoU, MMDetAnchors, Preset, TorchvisionAnchors
from scalematch.profile.graph import Graph, Node
from scalematch.profile.layers import Merge, Upsample, Window


@dataclass(frozen=True)
class Widened:
    """The preset on every level it can use (``added`` are the new ones) and the graph with their taps."""

    preset: Preset
    graph: Graph
    added: tuple[str, ...] = ()


def shared_head(preset: Preset) -> bool:
    """True for a head whose weights are shared across levels, so that any contiguous run of levels is usable."""
    return isinstance(preset.anchors, TorchvisionAnchors | MMDetAnchors) and isinstance(
        preset.assigner, MaxIoU | FCOSAssign | ATSSAssign
    )


def widen(preset: Preset, graph: Graph) -> Widened:
    """``preset`` with P2 and P7 added where :mod:`this module <scalematch.match.widen>` says they can be made."""
    if not shared_head(preset):
        return Widened(preset, graph)
    graph, added = _add_levels(graph, preset.levels[0] == "P3", preset.levels[-1] == "P6")
    if not added:
        return Widened(preset, graph)
    levels = (("P2",) if "P2" in added else ()) + preset.levels + (("P7",) if "P7" in added else ())
    gen = preset.anchors
    if isinstance(gen, TorchvisionAnchors):
        sizes = gen.sizes
        if "P2" in added:
            sizes = (tuple(s / 2 for s in sizes[0]), *sizes)
        if "P7" in added:
            sizes = (*sizes, tuple(s * 2 for s in sizes[-1]))
        gen = replace(gen, sizes=sizes)
    else:
        assert isinstance(gen, MMDetAnchors)
        strides = gen.strides
        if "P2" in added:
            strides = (strides[0] // 2, *strides)
        if "P7" in added:
            strides = (*strides, strides[-1] * 2)
        gen = replace(gen, strides=strides)
    return Widened(replace(preset, levels=levels, anchors=gen), graph, tuple(added))


def level_graph(preset: Preset) -> Graph:
    """The graph of ``preset``'s backbone and neck, with P2 or P7 added when its levels name them and the neck
    does not make them (a design the search chose, or a preset file asking for them): the same construction as
    :func:`widen`, so that such a preset can be simulated and profiled again. A preset whose ``anchors.strides``
    are not the levels' strides in that graph is refused (:func:`~scalematch.match.geometry.check_strides`), and
    a backbone that cannot be imported names the preset file that names it
    (:func:`~scalematch.presets.load.backbone_refusal`)."""
    from scalematch.errors import ConfigError, ModelError, OptionError
    from scalematch.match.geometry import check_strides
    from scalematch.presets.load import backbone_refusal
    from scalematch.profile.api import build_any_size

    try:
        graph = build_any_size(preset.backbone, preset.neck)
    except (ModelError, OptionError, ConfigError) as exc:
        raise backbone_refusal(preset, exc) from None
    taps = dict(graph.taps)
    if shared_head(preset) and not all(lv in taps for lv in preset.levels):
        graph = _add_levels(graph, "P2" in preset.levels, "P7" in preset.levels)[0]
    check_strides(preset, graph)
    return graph


def _add_levels(graph: Graph, p2: bool, p7: bool) -> tuple[Graph, list[str]]:
    """``graph`` with a P2 (from C2, under an FPN whose P3 is an output conv on a top-down sum) and a P7 (a
    max-pool of a max-pooled P6) where asked for and possible; the names of the levels added."""
    nodes = {n.name: n for n in graph.nodes}
    taps = dict(graph.taps)
    added: list[str] = []
    if p2 and "C2" in taps and "P2" not in taps and "P3" in taps:
        p3 = nodes.get(taps["P3"])
        top = nodes.get(p3.inputs[0]) if p3 is not None else None
        if _is_output_conv(p3) and top is not None and isinstance(top.layer, Merge) and top.layer.kind == "add":
            assert p3 is not None
            prefix = p3.name.rsplit(".", 1)[0] + ".added_" if "." in p3.name else "added_"
            lateral = Node(prefix + "lateral2", Window("conv", (1, 1)), (taps["C2"],))
            up = Node(prefix + "up3", Upsample((2, 2), "nearest", size_like=lateral.name), (top.name,))
            merge = Node(prefix + "merge2", Merge("add", "union"), (lateral.name, up.name))
            out = Node(prefix + "out2", Window("conv", (3, 3), padding=((1, 1), (1, 1))), (merge.name,))
            graph = replace(graph, nodes=(*graph.nodes, lateral, up, merge, out), taps=(*graph.taps, ("P2", out.name)))
            added.append("P2")
    if p7 and "P7" not in taps:
        p6 = nodes.get(taps.get("P6", ""))
        if p6 is not None and isinstance(p6.layer, Window) and p6.layer.kind == "maxpool":
            name = p6.name.rsplit(".", 1)[0] + ".added_pool7" if "." in p6.name else "added_pool7"
            pool = Node(name, p6.layer, (p6.name,))
            graph = replace(graph, nodes=(*graph.nodes, pool), taps=(*graph.taps, ("P7", pool.name)))
            added.append("P7")
    return graph, added


def _is_output_conv(node: Node | None) -> bool:
    """A 3x3 stride-1 conv with padding 1: an FPN level's output conv."""
    if node is None or not isinstance(node.layer, Window):
        return False
    w = node.layer
    return w.kind == "conv" and w.kernel == (3, 3) and w.stride == (1, 1) and w.padding == ((1, 1), (1, 1))


def level_sets(widened: Widened, preset: Preset) -> list[tuple[str, ...]]:
    """Contiguous runs of the widened levels worth trying, the preset's first: starting at the preset's first
    level or the added P2, ending at its last, one or two levels earlier or at the added P7; at least three
    levels."""
    if not shared_head(preset) or len(preset.levels) <= 3:
        return [preset.levels]
    full = widened.preset.levels
    starts = [preset.levels[0]] + (["P2"] if "P2" in widened.added else [])
    ends = [preset.levels[-1], preset.levels[-2], preset.levels[-3]] + (["P7"] if "P7" in widened.added else [])
    runs = []
    for start in starts:
        for end in ends:
            run = full[full.index(start) : full.index(end) + 1]
            if len(run) >= 3 and run not in runs:
                runs.append(run)
    return runs
