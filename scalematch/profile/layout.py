"""Where a tensor's elements sit after reshapes and permutes: the axis algebra of the model importers.

A feature map is an ``(N, C, H, W)`` tensor. Reshapes (view, flatten, unflatten, squeeze), permutes and
transposes only move elements, so every axis of the result is a product of *atoms*: pieces of the original
axes, each a run of ``size`` positions ``step`` apart along its source axis (row-major, major atom first).
Splitting ``H`` by 4 gives the atoms ``(H, H/4, step 4)`` and ``(H, 4, step 1)``; a permute reorders axes.

A layout that is again ``(N, C, H, W)``-shaped is read back as geometry (:func:`as_feature_map`): the rows of
the result are the major ``H`` atom (step ``s``) followed by channel atoms of total size ``r``. ``s > 1`` is a
space-to-depth (each row of the result covers ``s`` source rows, the other ``H`` atoms went to the channels:
an ``s x s`` window with stride ``s``); ``r > 1`` is a depth-to-space (row ``j`` reads source row
``j // r``: nearest up-sampling). Anything else (spatial positions spread over the batch, rows and columns
mixed, the rows split across channels in another order, an axis with no source row left in it) is not a
feature map, and the importers refuse to read geometry from it. The last case is a channel<->spatial swap
such as ``transpose(1, 3)``: the result's columns are the source channels and every source column went to
the channels. At the traced size it looks like one window over the whole axis followed by an up-sampling,
but its width is the channel count at any input size, and the window's size is that of the traced input
only, so no geometry holds for it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

AXES = ("N", "C", "H", "W")


@dataclass(frozen=True)
class Atom:
    """``size`` positions, ``step`` apart, of source axis ``axis`` (one of N, C, H, W)."""

    axis: str
    size: int
    step: int = 1


Layout = tuple[tuple[Atom, ...], ...]
"""One tuple of atoms per tensor axis, major first; atoms of size 1 are left out."""


def canonical(shape: tuple[int, ...]) -> Layout | None:
    """The layout of an ``(N, C, H, W)`` tensor of this shape (None for another rank)."""
    if len(shape) != 4:
        return None
    return tuple((Atom(axis, size),) if size > 1 else () for axis, size in zip(AXES, shape, strict=True))


def _normal(dim: list[Atom]) -> tuple[Atom, ...]:
    """Adjacent atoms that are one run of their axis merged (``(H, 7, 4), (H, 4, 1)`` -> ``(H, 28, 1)``)."""
    out: list[Atom] = []
    for atom in dim:
        if atom.size == 1:
            continue
        last = out[-1] if out else None
        if last is not None and last.axis == atom.axis and last.step == atom.step * atom.size:
            out[-1] = Atom(atom.axis, last.size * atom.size, atom.step)
        else:
            out.append(atom)
    return tuple(out)


def reshape(layout: Layout, shape: tuple[int, ...]) -> Layout | None:
    """The layout after a row-major reshape to ``shape`` (None when an atom would be cut unevenly)."""
    queue = deque(a for dim in layout for a in dim)
    out: list[tuple[Atom, ...]] = []
    for size in shape:
        need, group = size, []
        while need > 1:
            if not queue:
                return None
            atom = queue.popleft()
            if atom.size <= need:
                if need % atom.size:
                    return None
                group.append(atom)
                need //= atom.size
            else:
                if atom.size % need:
                    return None
                minor = atom.size // need
                group.append(Atom(atom.axis, need, atom.step * minor))
                queue.appendleft(Atom(atom.axis, minor, atom.step))
                need = 1
        out.append(_normal(group))
    return tuple(out) if not queue else None


def permute(layout: Layout, order: tuple[int, ...]) -> Layout:
    """The layout after ``permute(order)`` (axis ``k`` of the result is axis ``order[k]`` of the input)."""
    return tuple(layout[k] for k in order)


def replace_last(layout: Layout, size: int) -> Layout:
    """The layout after a map over the last axis (a Linear layer): that axis becomes new channels."""
    return (*layout[:-1], (Atom("C", size),) if size > 1 else ())


def fit_channels(layout: Layout, shape: tuple[int, ...]) -> Layout | None:
    """``layout`` with its channel-only axes resized to ``shape`` (a piece of a split along channels, a
    reduction over them kept as an axis of 1): each axis whose atoms hold no row or column becomes channels of
    its new size; None when the ranks differ or an axis holding rows or columns changed size."""
    if len(layout) != len(shape):
        return None
    out = []
    for dim, size in zip(layout, shape, strict=True):
        if math.prod(a.size for a in dim) == size:
            out.append(dim)
        elif any(a.axis in ("H", "W") for a in dim):
            return None
        else:
            out.append((Atom("C", size),) if size > 1 else ())
    return tuple(out)


def spatial_in(layout: Layout, axis: int) -> bool:
    """True when axis ``axis`` of the tensor holds spatial positions (an H or W atom)."""
    return any(a.axis in ("H", "W") for a in layout[axis])


def as_feature_map(layout: Layout) -> tuple[tuple[int, int], tuple[int, int]] | str:
    """``((s_y, r_y), (s_x, r_x))`` when the tensor is again an ``(N, C, H, W)`` feature map: each unit of
    the result covers ``s`` source units and repeats ``r`` times along that axis (``(1, 1)``: unchanged).
    Otherwise a short reason why it is not one."""
    if len(layout) != 4:
        return f"it has {len(layout)} axes, not (N, C, H, W)"
    if any(a.axis != "N" for a in layout[0]):
        return "the batch axis holds " + ("spatial positions" if spatial_in(layout, 0) else "channels")
    if any(a.axis == "N" for a in layout[1]):
        return "the channel axis holds images of the batch"
    found = []
    for dim, axis, other in ((2, "H", "W"), (3, "W", "H")):
        atoms = layout[dim]
        name = "rows" if axis == "H" else "columns"
        if any(a.axis in (other, "N") for a in atoms):
            return f"its {name} mix {'rows and columns' if any(a.axis == other for a in atoms) else 'the batch'}"
        own = [a for a in atoms if a.axis == axis]
        every = [a for d in layout for a in d if a.axis == axis]
        if own:
            major = max(every, key=lambda a: a.step)
            if len(own) > 1 or atoms[0] != own[0] or own[0] != major:
                return f"its {name} are source {name} in another order"
            step = own[0].step
        elif every:  # one unit would cover the whole source axis: true at this size only
            return f"all source {name} moved into the channels"
        elif atoms:  # only channels along it (the source axis was 1 long): it keeps that size at any input
            return f"its {name} are source channels"
        else:
            step = 1
        repeat = math.prod(a.size for a in atoms if a.axis != axis)
        found.append((step, repeat))
    return found[0], found[1]


Reading = tuple[tuple[int, int], tuple[int, int]]
"""A feature-map reading per spatial axis (y, then x): (block of source positions, repeat), as
:func:`as_feature_map` gives it."""


def fits_at(
    found: Reading, channels: int, source: tuple[int | None, int | None], after: tuple[int | None, ...]
) -> bool:
    """Whether a rearranged value's (C, H, W) ``after`` at a second input size is what the reading ``found`` (made at
    the first size, with ``channels`` channels) gives for its source map of size ``source`` there: a block of fixed
    size (a space-to-depth by 2) fits at any size, a block read from the size (the two halves of a map stacked as
    channels: a block of half its height) does not."""
    (sy, ry), (sx, rx) = found
    h, w = source
    if h is None or w is None or h % sy or w % sx:
        return False
    return tuple(after) == (channels, h // sy * ry, w // sx * rx)


def size_bound_reason(found: Reading) -> str:
    """Why a graph holding the reading ``found`` is bound to the size it was imported at."""
    (sy, ry), (sx, rx) = found
    block = f"{sy}x{sx} block" if (sy, sx) != (1, 1) else f"{ry}x{rx} repeat"
    return f"(a rearrangement read as a feature map) has a {block} read from the input's size"
