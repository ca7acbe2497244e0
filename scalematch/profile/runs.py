"""Finite sets of integers (input pixel coordinates along one axis) stored as sorted runs.

A set is a tuple of half-open runs ``(start, stop)``, sorted, disjoint and not touching. Receptive-field
sets are contiguous for most networks (one run) and gappy under dilation (many short runs); both stay small.
"""

from __future__ import annotations

from collections.abc import Iterable

Runs = tuple[tuple[int, int], ...]


def from_points(points: Iterable[int]) -> Runs:
    """The run set holding exactly ``points``."""
    return union(((p, p + 1),) for p in points)


def shift(runs: Runs, by: int) -> Runs:
    """Every element moved by ``by``."""
    return tuple((a + by, b + by) for a, b in runs)


def union(sets: Iterable[Runs]) -> Runs:
    """Union of run sets."""
    pieces = sorted(run for runs in sets for run in runs)
    merged: list[tuple[int, int]] = []
    for start, stop in pieces:
        if merged and start <= merged[-1][1]:
            if stop > merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return tuple(merged)


def size(runs: Runs) -> int:
    """Number of elements."""
    return sum(b - a for a, b in runs)


def span(runs: Runs) -> int:
    """max - min + 1 (0 for the empty set)."""
    return runs[-1][1] - runs[0][0] if runs else 0


def intersection_size(left: Runs, right: Runs) -> int:
    """Number of elements in both sets (two-pointer sweep)."""
    i = j = total = 0
    while i < len(left) and j < len(right):
        lo = max(left[i][0], right[j][0])
        hi = min(left[i][1], right[j][1])
        if hi > lo:
            total += hi - lo
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return total


def contains(outer: Runs, inner: Runs) -> bool:
    """Whether ``inner`` is a subset of ``outer``."""
    return intersection_size(outer, inner) == size(inner)
