"""A layer graph: named nodes, each a layer applied to named inputs, plus named outputs (taps)."""

from __future__ import annotations

from dataclasses import dataclass

from scalematch.errors import GraphError
from scalematch.profile.layers import Layer, Merge, Pair, Upsample

INPUT = "image"
"""The name of the network input; every graph starts from it."""


@dataclass(frozen=True)
class Node:
    """One layer applied to the outputs of ``inputs`` (node names or :data:`INPUT`)."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """A backbone (optionally with a neck). ``taps`` maps output names (C2, P3, ...) to node names."""

    name: str
    nodes: tuple[Node, ...]
    taps: tuple[tuple[str, str], ...] = ()
    convention: str = ""
    source: str = "<python>"
    inputs: tuple[str, ...] = (INPUT,)
    """Names given from outside: the image for a backbone, the backbone outputs a neck reads."""
    traced_at: Pair | None = None
    """``(h, w)`` of the example input an importer ran the model on (torch), else None."""
    size_bound: tuple[tuple[str, str], ...] = ()
    """Nodes some tap depends on whose geometry was read at ``traced_at`` (a pad to a multiple, a stride or an
    output size computed from shapes, an adaptive pool), each with what was read: the graph holds at that input
    size only (:func:`check_size`)."""
    fixed_input: tuple[str, int | None, int | None] | None = None
    """``(name, h, w)`` of an imported model's image input that fixes its height, its width or both (None where
    the input is free): the graph is profiled at a size that has them only (:func:`check_size`), as onnxruntime
    runs the model."""
    imported: tuple[str, ...] = ()
    """Nodes an importer read from an ONNX file or a PyTorch module: no config node says their ``align``, so the
    error at a misaligned merge among them offers ``--allow-misaligned`` only."""

    def ordered(self) -> tuple[Node, ...]:
        """The nodes in a topological order (stable: the written order where it is valid).

        Raises :class:`GraphError` naming the node for a duplicate name, a missing input, a wrong number of
        inputs, or a cycle.
        """
        where = f"{self.source}: " if self.source else ""
        by_name: dict[str, Node] = {}
        for node in self.nodes:
            if node.name in by_name or node.name in self.inputs:
                raise GraphError(f"{where}node '{node.name}': the name is used twice")
            by_name[node.name] = node
        needs: dict[str, tuple[str, ...]] = {}
        for node in self.nodes:
            merging = isinstance(node.layer, Merge)
            if isinstance(node.layer, Merge) and len(node.inputs) < 2:
                raise GraphError(
                    f"{where}node '{node.name}': {'an' if node.layer.kind[0] in 'aeiou' else 'a'} {node.layer.kind} "
                    "node needs at least 2 inputs, "
                    f"got {len(node.inputs)}"
                )
            if not merging and len(node.inputs) != 1:
                raise GraphError(f"{where}node '{node.name}': expected 1 input, got {len(node.inputs)}")
            extra = (node.layer.size_like,) if isinstance(node.layer, Upsample) and node.layer.size_like else ()
            for ref in node.inputs + extra:
                if ref not in self.inputs and ref not in by_name:
                    raise GraphError(f"{where}node '{node.name}': input '{ref}' is not defined")
            needs[node.name] = tuple(r for r in node.inputs + extra if r not in self.inputs)
        state: dict[str, bool] = {}  # False while being visited, True when placed
        order: list[Node] = []
        for start in self.nodes:
            stack = [(start.name, 0)]
            while stack:
                name, k = stack.pop()
                if k == 0:
                    if state.get(name) is True:
                        continue
                    state[name] = False
                if k < len(needs[name]):
                    stack.append((name, k + 1))
                    ref = needs[name][k]
                    if state.get(ref) is False:
                        cycle = [n for n, _ in stack] + [ref]
                        raise GraphError(f"{where}the graph has a cycle: {' -> '.join(cycle[cycle.index(ref) :])}")
                    if ref not in state:
                        stack.append((ref, 0))
                else:
                    state[name] = True
                    order.append(by_name[name])
        for tap, node_name in self.taps:
            if node_name not in by_name:
                raise GraphError(f"{where}output '{tap}': node '{node_name}' is not defined")
        return tuple(order)


def upstream(graph: Graph, node: str) -> Graph:
    """``graph`` cut to the nodes ``node`` reads (itself included, in their written order), with the outputs and
    size-bound entries among them: a node after it plays no part in its map, so its fit to an input size must not
    decide whether the map can be measured there."""
    from dataclasses import replace

    by_name = {n.name: n for n in graph.nodes}
    keep: set[str] = set()
    stack = [node]
    while stack:
        name = stack.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        layer = by_name[name].layer
        extra = (layer.size_like,) if isinstance(layer, Upsample) and layer.size_like else ()
        stack.extend(by_name[name].inputs + extra)
    return replace(
        graph,
        nodes=tuple(n for n in graph.nodes if n.name in keep),
        taps=tuple((tap, name) for tap, name in graph.taps if name in keep),
        size_bound=tuple((name, what) for name, what in graph.size_bound if name in keep),
    )


def fixed_problem(label: str, fixed: tuple[str, int | None, int | None] | None, size: Pair | None) -> str | None:
    """Why ``size`` ``(h, w)`` is not one a model whose input ``fixed`` (``(name, h, w)``, None where free) takes
    (the model's ``label`` first); None when it is, or when no size is given."""
    if fixed is None or size is None:
        return None
    name, h, w = fixed
    if (h is None or h == size[0]) and (w is None or w == size[1]):
        return None
    got = f"{size[1]}x{size[0]}"
    if h is not None and w is not None:
        return f"{label}: input '{name}' has the fixed size {w}x{h} (WxH); expected that size or none, got {got}"
    side, value, other = ("height", h, "width") if h is not None else ("width", w, "height")
    return (
        f"{label}: input '{name}' has the fixed {side} {value} (its {other} is free); expected a size of that "
        f"{side} or none, got {got} (WxH)"
    )


def check_size(graph: Graph, size: Pair | None) -> None:
    """A :class:`GraphError` when ``graph`` holds at its example size only (``size_bound``) and is used at another
    ``size`` ``(h, w)``, or when its model's input fixes a height or width that ``size`` does not have
    (``fixed_input``); None (no input size: the geometry as traced) passes."""
    problem = fixed_problem(graph.source, graph.fixed_input, size)
    if problem is not None:
        raise GraphError(problem)
    if size is None or not graph.size_bound or graph.traced_at is None or tuple(size) == graph.traced_at:
        return
    (h, w), (th, tw) = size, graph.traced_at
    again = f"module again at that size: from_torch(model, '{w}x{h}')"
    if graph.convention.startswith("imported from ONNX"):
        again = f"model again at that size: from_onnx(path, input_size='{w}x{h}')"
    raise GraphError(
        f"{graph.source}: traced at {tw}x{th} (WxH), where {bound_nodes(graph)}, so the graph holds at "
        f"{tw}x{th} only, not at {w}x{h}; import the {again} (on the command line, --size {w}x{h})"
    )


def bound_nodes(graph: Graph) -> str:
    """The ``size_bound`` nodes of ``graph`` as a message names them (at most three)."""
    shown = [f"node '{name}' {why}" for name, why in graph.size_bound[:3]]
    more = len(graph.size_bound) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more else "")
