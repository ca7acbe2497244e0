"""Quantiles of groups of values in bounded memory: exact for small groups, within 2**-8 relative beyond.

A :class:`Sketch` holds, for each of ``groups`` groups (the categories of a dataset, or one group), the values'
log-spaced bins: a bin is the values that share the sign, the exponent and the first :data:`BITS` bits of the
mantissa of their float64 (a bin spans a relative width of at most 2**-8 = 0.39%), and keeps their count, least and
greatest value. Beside the bins, the values themselves are kept for every group of at most :data:`EXACT` values.
Quantiles (numpy's linear method) are then bit for bit ``np.quantile`` for a group of at most :data:`EXACT` values;
for a larger group, a value of rank k is read in its bin, between the bin's least and greatest value in proportion
to k's place among the bin's count: it lies in the bin, so within 2**-8 of the exact value (relative), and the
least and greatest values (the minimum and maximum) are exact. Memory is bounded by the bins that can exist (about
2.7 thousand per group over the sizes 1 to 1333 pixels) and ``groups * EXACT`` values, whatever the number of values.

Sketches merge exactly (:func:`merge`): bins by their least, greatest and summed counts, so that the result does
not depend on how the values were split or ordered (one process or several, one file or shards).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BITS = 8
EXACT = 1 << 12
_SHIFT = 52 - BITS
_MAGNITUDE = (1 << 63) - 1


_LOCAL = 20  # a bin's key within its group takes 64 - _SHIFT = 20 bits
_HALF = 1 << (_LOCAL - 1)


@dataclass(frozen=True)
class Sketch:
    """The bins (``key``, ``lo``, ``hi``, ``counts``; ascending by key, which is the group times 2**20 plus the
    bin's place in the group) and the exact values (``exact_group``, ``exact``; in no given order) of ``groups``
    groups; ``count`` is each group's number of values. A group's values are all in ``exact`` when ``count`` is
    at most :data:`EXACT`."""

    groups: int
    count: np.ndarray
    key: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    counts: np.ndarray
    exact_group: np.ndarray
    exact: np.ndarray

    def regrouped(self, into: np.ndarray, groups: int) -> Sketch:
        """The same values, group g now ``into[g]`` of ``groups`` (groups may merge; one without values may go
        anywhere)."""
        return merge([self], [into], groups)


def empty(groups: int) -> Sketch:
    import numpy as np

    i, f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return Sketch(groups, np.zeros(groups, dtype=np.int64), i, f, f, i, i, f)


def of(values: np.ndarray, group: np.ndarray | None = None, groups: int = 1) -> Sketch:
    """The sketch of ``values`` (float64), value k in group ``group[k]`` (all in group 0 when None)."""
    return add(empty(groups), values, group)


def add(sketch: Sketch, values: np.ndarray, group: np.ndarray | None = None, groups: int = 0) -> Sketch:
    """``sketch`` with ``values`` added (in ``group``, as :func:`of`), and at least ``groups`` groups (the new
    ones after the sketch's). The bins that exist already are updated in place (``sketch``'s arrays change: pass
    a sketch you do not keep, as a fold does), so that adding to a full sketch copies none of its bins; the
    values of new bins are inserted."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    group = np.zeros(len(values), dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    groups = max(groups, sketch.groups)
    count = np.bincount(group, minlength=groups)
    count[: sketch.groups] += sketch.count
    small = count[group] <= EXACT
    exact_group, exact = np.r_[sketch.exact_group, group[small]], np.r_[sketch.exact, values[small]]
    del small
    key = (group << _LOCAL) | (_keys(values) + _HALF)
    if len(sketch.key):
        at = np.minimum(np.searchsorted(sketch.key, key), len(sketch.key) - 1)
        hit = sketch.key[at] == key
        held = at[hit]
        sketch.counts[:] += np.bincount(held, minlength=len(sketch.counts))
        np.minimum.at(sketch.lo, held, values[hit])
        np.maximum.at(sketch.hi, held, values[hit])
        del at, held
        key, values = key[~hit], values[~hit]
    order = np.argsort(key)
    key, values = key[order], values[order]
    del order
    first = _firsts(key)
    key, lo, hi = key[first], np.minimum.reduceat(values, first), np.maximum.reduceat(values, first)
    counts = np.diff(np.r_[first, len(values)]) if len(values) else np.zeros(0, dtype=np.int64)
    del values
    if len(key):  # new bins, in their places among the sketch's
        at = np.searchsorted(sketch.key, key)
        new = (key, lo, hi, counts)
        key, lo, hi, counts = (np.insert(old, at, v) for old, v in zip(_columns(sketch), new, strict=True))
    else:
        key, lo, hi, counts = _columns(sketch)
    small = count[exact_group] <= EXACT
    return Sketch(groups, count, key, lo, hi, counts, exact_group[small], exact[small])


def _columns(sketch: Sketch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return sketch.key, sketch.lo, sketch.hi, sketch.counts


def merge(sketches: list[Sketch], into: list[np.ndarray] | None = None, groups: int | None = None) -> Sketch:
    """One sketch of the values of all ``sketches``; group g of sketch i becomes ``into[i][g]`` of ``groups``
    (the same groups when ``into`` is None; a group without values may be sent anywhere)."""
    import numpy as np

    if into is None:
        return _bins(
            sketches[0].groups, np.sum([s.count for s in sketches], axis=0), list(sketches),
            np.concatenate([s.exact_group for s in sketches]), np.concatenate([s.exact for s in sketches]),
        )  # fmt: skip
    groups = sketches[0].groups if groups is None else groups
    count = np.zeros(groups, dtype=np.int64)
    parts: list[Sketch | tuple[np.ndarray, ...]] = []
    for s, m in zip(sketches, into, strict=True):
        held = s.count > 0  # a group without values may be sent anywhere (or dropped)
        np.add.at(count, m[held], s.count[held])
        key = (m[s.key >> _LOCAL] << _LOCAL) | (s.key & ((1 << _LOCAL) - 1))
        order = np.argsort(key, kind="stable")  # runs of groups moved as wholes
        parts.append((key[order], s.lo[order], s.hi[order], s.counts[order]))
    exact_group = np.concatenate([m[s.exact_group] for s, m in zip(sketches, into, strict=True)])
    return _bins(groups, count, parts, exact_group, np.concatenate([s.exact for s in sketches]))


def _keys(values: np.ndarray) -> np.ndarray:
    """Each value's bin in its group: its float64 bits mapped to an integer of the same order, its low mantissa
    bits dropped (every NaN is one bin, after +inf)."""
    import numpy as np

    values = np.where(np.isnan(values), np.nan, values)  # one NaN, positive: its bits order after +inf
    bits = values.view(np.int64)
    ordered = bits ^ ((bits >> 63) & _MAGNITUDE)  # negative floats: magnitude bits flipped
    return ordered >> _SHIFT


def _firsts(key: np.ndarray) -> np.ndarray:
    """Where each run of equal keys begins in ascending ``key``."""
    import numpy as np

    return np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.intp)


def _bins(
    groups: int, count: np.ndarray, parts: list[Sketch | tuple[np.ndarray, ...]], exact_group: np.ndarray,
    exact: np.ndarray,
) -> Sketch:  # fmt: skip
    """A sketch of bins given in parts, each ascending by key (bins of one key in several parts made one; the
    parts' runs merged in linear time by the stable sort), with the exact values of groups of at most
    :data:`EXACT` values."""
    import numpy as np

    columns = [(p.key, p.lo, p.hi, p.counts) if isinstance(p, Sketch) else p for p in parts]
    key = np.concatenate([c[0] for c in columns])
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = _firsts(key)
    lo = np.minimum.reduceat(np.concatenate([c[1] for c in columns])[order], first) if len(key) else key[:0] * 0.0
    hi = np.maximum.reduceat(np.concatenate([c[2] for c in columns])[order], first) if len(key) else lo
    counts = np.add.reduceat(np.concatenate([c[3] for c in columns])[order], first) if len(key) else key[:0]
    small = count[exact_group] <= EXACT
    return Sketch(groups, count, key[first], lo, hi, counts, exact_group[small], exact[small])


def quantile_rows(sketch: Sketch, q: np.ndarray) -> np.ndarray:
    """Per group, the quantiles ``q`` (numpy's linear method) of its values; NaN rows for empty groups, and for
    groups holding a NaN (as ``np.quantile`` gives)."""
    import numpy as np

    out = np.full((sketch.groups, len(q)), np.nan)
    ends = np.searchsorted(sketch.key, np.arange(sketch.groups + 1) << _LOCAL)
    exact_order = np.argsort(sketch.exact_group, kind="stable")
    values = sketch.exact[exact_order]
    exact_ends = np.searchsorted(sketch.exact_group[exact_order], np.arange(sketch.groups + 1))
    for g in np.flatnonzero(sketch.count > 0).tolist():
        n = int(sketch.count[g])
        previous, following, gamma = linear_steps(n, q)
        if n <= EXACT:
            row = np.sort(values[exact_ends[g] : exact_ends[g + 1]])
            a, b = row[previous], row[following]
            last = row[-1]
        else:
            cut = slice(ends[g], ends[g + 1])
            bins = (sketch.lo[cut], sketch.hi[cut], sketch.counts[cut])
            a = _ranked(*bins, np.where(previous < 0, n - 1, previous))
            b = _ranked(*bins, np.where(following < 0, n - 1, following))
            last = sketch.hi[cut][-1]
        out[g] = np.nan if np.isnan(last) else linear_values(a, b, gamma)
    return out


def _ranked(lo: np.ndarray, hi: np.ndarray, counts: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The value of each rank (0-based, ascending) read in the bins: its bin's least value plus its place among
    the bin's values times the bin's span (equal spacing within a bin)."""
    import numpy as np

    ends = np.cumsum(counts)
    j = np.searchsorted(ends, ranks, side="right")
    size = counts[j]
    place = ranks - (ends[j] - size)
    with np.errstate(invalid="ignore"):  # a bin of infinities has no span: its ends are taken below
        inner = lo[j] + (hi[j] - lo[j]) * (place / np.maximum(size - 1, 1))
    ranked: np.ndarray = np.where(place == size - 1, hi[j], np.where(place == 0, lo[j], inner))
    return ranked


def linear_steps(n: Any, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's steps of the linear method for ``n`` values (an int, or an array of counts shaped to broadcast
    against ``q``): the ranks below and above each quantile (-1, numpy's index of the last value, at the top) and
    the weight of the one above, by the same float operations as ``np.quantile``."""
    import numpy as np

    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1  # numpy's index -1, the group's last value
    following[above] = -1
    previous = previous.astype(np.intp)
    following = following.astype(np.intp)
    return previous, following, virtual - previous


def linear_values(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation between the values below (``a``) and above (``b``), by its float operations."""
    import numpy as np

    diff = b - a
    rows: np.ndarray = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=rows, where=gamma >= 0.5)
    return rows
