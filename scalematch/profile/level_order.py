"""Feature maps listed in stride order: along the list, a map's stride never gets smaller on either axis. One
check for a neck's ``P<k>`` outputs (by their number) and for a detector preset's levels (in the order listed)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from fractions import Fraction

from scalematch.profile.graph import Graph

Stride = tuple[Fraction, Fraction]
"""A map's stride in input pixels per unit, ``(y, x)``."""


def tap_strides(graph: Graph, names: Iterable[str]) -> dict[str, Stride]:
    """The strides of the outputs ``names`` of ``graph`` (names it does not make, and maps that depend on the
    whole input, are left out). Profiles ``graph``: a :class:`~scalematch.errors.GraphError` is the caller's."""
    from scalematch.profile.engine import profile

    taps = profile(graph, allow_misaligned=True).taps
    strides = {}
    for name in names:
        fm = taps.get(name)
        if fm is not None and fm.y is not None and fm.x is not None:
            strides[name] = (fm.y.stride, fm.x.stride)
    return strides


def first_decrease(names: Iterable[str], strides: Mapping[str, Stride]) -> tuple[str, str] | None:
    """The first two neighbours ``(a, b)`` of ``names`` (those with a stride in ``strides``) where ``b``, later in
    the list, has a smaller stride than ``a`` on an axis; None when the strides never decrease (equal ones are
    SSD's: its P6 to P8 are all at stride 64)."""
    known = [name for name in names if name in strides]
    for a, b in itertools.pairwise(known):
        if strides[b][0] < strides[a][0] or strides[b][1] < strides[a][1]:
            return a, b
    return None


def stride_text(stride: Stride) -> str:
    """``16``, or ``16x8 (y x x)`` when the axes differ."""
    sy, sx = stride
    return f"{sy}" if sy == sx else f"{sy}x{sx} (y x x)"
