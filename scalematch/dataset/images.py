"""A reader's images (id -> file name, width, height) in compact columns instead of a dict of tuples.

A dict entry with its tuple, name and two floats costs about 300 bytes an image; COCO's train2017 lists 118,287
images, Objects365 and Open Images millions. :class:`ImageTable` keeps the ids and sizes in column arrays, the
names in one byte string, and an index of sorted runs for lookups: about 60 bytes an image. It is a mapping like
the dict it replaces, in insertion order; :meth:`ImageTable.extend` and :meth:`ImageTable.any_of` take a piece of
records at once, :func:`columns` gives ids, widths and heights as arrays without a Python object per image.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING

from scalematch.dataset.table import Column

if TYPE_CHECKING:
    import numpy as np

Image = tuple[str, float, float]


class ImageTable(MutableMapping[int, Image]):
    """Images by id, in insertion order (ids are not removed; :meth:`replace` gives an image another name and size
    in its place, as a dict's assignment does). Without ``names``, every image's file name reads as the empty
    string (for readers whose caller never shows them)."""

    def __init__(self, names: bool = True) -> None:
        self.keep_names = names
        self._ids = Column("q")
        self._w = _Side()
        self._h = _Side()
        self._ends = Column("q")  # where each name ends in _names
        self._names = bytearray()
        self._renamed: dict[int, str] = {}  # place -> the name of an image replaced (see replace)
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (ids ascending, their places)
        self._sealed: int | None = None  # the number of images once :func:`lookup` made the index (ids released)

    # -- bulk ---------------------------------------------------------------------------------------------
    def extend(self, ids: list[int], names: list[str], widths: list[float], heights: list[float]) -> None:
        """Add a piece of images (ids new, and distinct: see :meth:`any_of`)."""
        import numpy as np

        if self._sealed is not None:
            raise TypeError("an ImageTable does not grow after lookup()")
        start = len(self._ids)
        values = np.array(ids, dtype=np.int64)
        self._ids.frombytes(values.tobytes())
        self._w.extend(np.array(widths, dtype=np.float64))
        self._h.extend(np.array(heights, dtype=np.float64))
        if self.keep_names:
            encoded = [n.encode("utf-8", "surrogatepass") for n in names]
            ends = len(self._names) + np.cumsum([len(b) for b in encoded], dtype=np.int64)
            self._ends.frombytes(ends.tobytes())
            self._names += b"".join(encoded)
        order = np.argsort(values, kind="stable")
        self._keep(values[order], order + start)

    def any_of(self, ids: list[int]) -> bool:
        """Whether any of ``ids`` is an image of the table already."""
        import numpy as np

        values = np.array(ids, dtype=np.int64)
        return any(bool(self._where(run, values)[0].any()) for run in self._runs)

    def replace(self, key: int, value: Image) -> None:
        """Give image ``key`` (one of the table's) the name and size of ``value``, in its place."""
        place = self._place(key)
        if place is None:
            raise KeyError(key)
        self._w.put(place, value[1])
        self._h.put(place, value[2])
        if self.keep_names:
            self._renamed[place] = value[0]

    # -- mapping ------------------------------------------------------------------------------------------
    def __setitem__(self, key: int, value: Image) -> None:
        self.extend([key], [value[0]], [value[1]], [value[2]])

    def __delitem__(self, key: int) -> None:
        raise TypeError("images are not removed from an ImageTable")

    def __getitem__(self, key: int) -> Image:
        import numpy as np

        in_range = isinstance(key, int) and -(1 << 63) <= key < 1 << 63
        place = self._place(key) if in_range else None
        if place is None:
            raise KeyError(key)
        name = ""
        if self.keep_names:
            ends = np.frombuffer(self._ends.buffer(), dtype=np.int64)
            start = int(ends[place - 1]) if place else 0
            name = self._names[start : int(ends[place])].decode("utf-8", "surrogatepass")
            name = self._renamed.get(place, name)
        w, h = float(self._w.values()[place]), float(self._h.values()[place])
        return name, w, h

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and -(1 << 63) <= key < 1 << 63 and self._place(key) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(self._in_order().tolist())

    def __len__(self) -> int:
        return len(self._ids) if self._sealed is None else self._sealed

    def _in_order(self) -> np.ndarray:
        """The ids in insertion order (a view of the column, or once sealed, made from the index)."""
        import numpy as np

        if self._sealed is None:
            return np.frombuffer(self._ids.buffer(), dtype=np.int64)
        ids = np.empty(self._sealed, dtype=np.int64)
        if self._runs:
            ids[self._runs[0][1]] = self._runs[0][0]
        return ids

    def names(self) -> list[str]:
        """Every image's file name, in order."""
        import numpy as np

        if not self.keep_names:
            return [""] * len(self)
        ends = np.frombuffer(self._ends.buffer(), dtype=np.int64).tolist()
        data = bytes(self._names)
        starts = [0, *ends][: len(ends)]
        out = [data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends, strict=True)]
        for place, name in self._renamed.items():
            out[place] = name
        return out

    # -- index --------------------------------------------------------------------------------------------
    def _place(self, key: int) -> int | None:
        import numpy as np

        for run in self._runs:
            hit, at = self._where(run, np.array([key], dtype=np.int64))
            if hit[0]:
                return int(run[1][at[0]])
        return None

    @staticmethod
    def _where(run: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        ids = run[0]
        at = np.minimum(np.searchsorted(ids, values), len(ids) - 1)
        return ids[at] == values, at

    def _keep(self, ids: np.ndarray, places: np.ndarray) -> None:

        if len(ids) == 0:
            return
        self._runs.append((ids, places))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            self._merge_last()

    def _merge_last(self) -> None:
        import numpy as np

        (a, pa), (b, pb) = self._runs[-2], self._runs.pop()
        both = np.concatenate([a, b])
        order = np.argsort(both, kind="stable")  # two ascending runs: one merge
        self._runs[-1] = (both[order], np.concatenate([pa, pb])[order])


class _Side:
    """Every image's width (or height), in float32 while each one is a float32 exactly (the whole numbers of
    image sizes are, up to 2**24), in float64 from the first that is not: 4 bytes an image instead of 8."""

    def __init__(self) -> None:
        self.column = Column("f")

    def extend(self, values: np.ndarray) -> None:
        import numpy as np

        if self.column.typecode == "f":
            narrow = values.astype(np.float32)
            if np.array_equal(narrow, values, equal_nan=True):
                self.column.frombytes(narrow.tobytes())
                return
            self._widen()
        self.column.frombytes(values.tobytes())

    def put(self, place: int, value: float) -> None:
        """Set the size at ``place`` (widening the column to float64 when ``value`` is no float32)."""
        import numpy as np

        if self.column.typecode == "f" and not np.array_equal(np.float32(value), value, equal_nan=True):
            self._widen()
        view = self.column.buffer()
        sizes = np.frombuffer(view, dtype=np.float32 if self.column.typecode == "f" else np.float64)
        sizes[place] = value
        del sizes
        view.release()

    def _widen(self) -> None:
        import numpy as np

        wide = Column("d")
        wide.frombytes(self.values().astype(np.float64).tobytes())
        self.column.release()
        self.column = wide

    def values(self) -> np.ndarray:
        """A view of the sizes (float32 or float64: cast them where they are computed with)."""
        import numpy as np

        return np.frombuffer(self.column.buffer(), dtype=np.float32 if self.column.typecode == "f" else np.float64)


def columns(images: Mapping[int, Image]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images' ids, widths and heights as arrays, in the mapping's order."""
    import numpy as np

    if isinstance(images, ImageTable):
        ids = images._in_order().copy()
        return ids, images._w.values().astype(np.float64), images._h.values().astype(np.float64)
    n = len(images)
    ids = np.fromiter(images.keys(), dtype=np.int64, count=n)
    w = np.fromiter((v[1] for v in images.values()), dtype=np.float64, count=n)
    h = np.fromiter((v[2] for v in images.values()), dtype=np.float64, count=n)
    return ids, w, h


def names(images: Mapping[int, Image]) -> list[str]:
    """The images' file names, in the mapping's order."""
    return images.names() if isinstance(images, ImageTable) else [v[0] for v in images.values()]


def replace(images: MutableMapping[int, Image], key: int, value: Image) -> None:
    """Give image ``key`` of ``images`` the name and size of ``value``, in its place (the order is kept)."""
    if isinstance(images, ImageTable):
        images.replace(key, value)
    else:
        images[key] = value


def lookup(images: Mapping[int, Image]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The images' ids ascending, each one's place in the mapping's order, and the widths and heights in that
    order (float32 or float64: cast what is taken of them). An :class:`ImageTable` gives its own columns and its
    index, made one sorted run of every image, and then releases its ids column (the index holds them; the table
    cannot grow afterwards): a few bytes an image less while a whole file's annotations are folded."""
    import numpy as np

    if isinstance(images, ImageTable):
        if images._sealed is None:
            n = len(images._ids)
            images._runs.clear()  # one run, made by one sort (merging the runs would hold them twice)
            if n:
                every = np.frombuffer(images._ids.buffer(), dtype=np.int64)
                order = np.argsort(every, kind="stable")
                images._runs.append((every[order], order.astype(np.int32 if n < 1 << 31 else np.int64)))
                del every
            images._ids.release()
            images._sealed = n
        ids, places = images._runs[0] if images._runs else (np.zeros(0, dtype=np.int64),) * 2
        return ids, places, images._w.values(), images._h.values()
    ids, w, h = columns(images)
    places = np.argsort(ids, kind="stable")
    return ids[places], places, w, h
