"""The statistics of a COCO file taken while it is read: a piece of annotations at a time, none kept.

The reader hands over its columns after every piece of the ``annotations`` array once the ``images`` array has been
read (:func:`scalematch.dataset.formats.coco.read`'s ``drain``); :class:`Stream` runs on each piece the checks that
:func:`scalematch.dataset.table.check` runs on the whole table, in the same order and with the same outcome per
record, folds the kept objects into a :class:`~scalematch.dataset.stats.Fold` and returns the columns to the system.
What grows with the file is the annotation ids seen (to tell duplicates: 8 bytes an annotation) and the images'
table (sizes and object counts), never the boxes. A file that lists its annotations before its images is folded at
the end, as a whole (its columns are kept until then).

One check cannot be run while reading: a COCO file usually lists its categories after its annotations. Each kept
object's category is checked at the end; when any is not among the file's categories (an ``unknown_category``
record), :meth:`Stream.partial` gives None and the caller reads the file again with the checks on the whole table,
which give that record its reason in the documented order. Only without ``strict``: there, the first bad record
ends the run with its message, which the whole-table checks give. So does an annotation whose box comes from its
mask (made at the end of the file) when its id was met already: which of the two came first in the file, and is
kept, the whole table tells.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from scalematch._text import text_of
from scalematch.dataset.table import DUPLICATE_ID, UNKNOWN_CATEGORY, Exclusions, RawBoxes, problems

if TYPE_CHECKING:
    import numpy as np

    from scalematch.dataset.resize import ResizePolicy
    from scalematch.dataset.stats import Fold, Partial

_RELEASED = ("ann_id", "image_id", "category_id", "x", "y", "w", "h", "area", "iscrowd", "difficult", "truncated",
             "ignore", "label_index")  # fmt: skip


class Seen:
    """The ids met so far, as sorted runs (merged as they pile up, so that there are few); a run of consecutive
    ids (1, 2, 3, ..., as many exports number their annotations) is kept as its first and last id.
    :meth:`mark` tells which of a piece's ids were met before, earlier in the piece or in an earlier one."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (first ids, last ids) of ranges, ascending
        self.top: int | None = None

    def mark(self, ids: np.ndarray) -> np.ndarray:
        """Per id of the piece (in order), whether it was met before; the piece's ids are met afterwards."""
        import numpy as np

        if len(ids) == 0:
            return np.zeros(0, dtype=bool)
        rising = bool((ids[1:] > ids[:-1]).all()) and (self.top is None or int(ids[0]) > self.top)
        if rising:  # (most files): nothing met before, nothing to look up
            self._keep(ids)
            return np.zeros(len(ids), dtype=bool)
        uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        again = np.ones(len(ids), dtype=bool)
        again[first] = False
        met = self.met(uniq)
        self._keep(uniq[~met])
        marked: np.ndarray = again | met[inverse.reshape(-1)]
        return marked

    def met(self, ids: np.ndarray) -> np.ndarray:
        """Per id, whether it was met so far (nothing is kept)."""
        import numpy as np

        met = np.zeros(len(ids), dtype=bool)
        for lo, hi in self.runs:
            at = np.searchsorted(lo, ids, side="right") - 1
            met |= (at >= 0) & (ids <= hi[np.maximum(at, 0)])
        return met

    def _keep(self, ids: np.ndarray) -> None:
        """Keep ascending ``ids``, none met before."""
        import numpy as np

        if len(ids) == 0:
            return
        self.top = max(int(ids[-1]), self.top if self.top is not None else int(ids[-1]))
        self.runs.append(_ranges(ids, ids))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (a, b), (c, d) = self.runs[-2], self.runs.pop()
            lo, hi = np.concatenate([a, c]), np.concatenate([b, d])
            order = np.argsort(lo, kind="stable")  # two ascending runs: one merge
            self.runs[-1] = _ranges(lo[order], hi[order])


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ascending, disjoint ranges [lo, hi] with those that touch made one."""
    import numpy as np

    starts = np.flatnonzero(np.r_[True, lo[1:] != hi[:-1] + 1])
    ends = np.r_[starts[1:], len(lo)] - 1
    return lo[starts].copy(), hi[ends].copy()


class Stream:
    """The statistics of a COCO file's annotations, piece by piece (see the module's text)."""

    def __init__(self, policy: ResizePolicy, need_size: bool) -> None:
        self.policy = policy
        self.need_size = need_size
        self.excluded: Counter[str] = Counter()
        self.seen = Seen()
        self.fold: Fold | None = None
        self.image_ids: np.ndarray | None = None  # ascending
        self.image_at: np.ndarray | None = None  # each of those images' place in the reader's order
        self.image_w: np.ndarray | None = None  # in the reader's order
        self.image_h: np.ndarray | None = None
        self.categories: set[int] = set()  # of the objects the checks so far keep
        self.unsure = False  # a box from a mask, made at the end, has an id met before
        self.crowd: list[np.ndarray] = []

    def drain(self, raw: RawBoxes) -> None:
        """Take the rows ``raw`` holds (its images complete), and return its columns to the system."""
        import numpy as np

        from scalematch.dataset.images import lookup
        from scalematch.dataset.stats import Fold

        if len(raw.ann_id) == 0:
            return
        if self.fold is None:
            self.image_ids, self.image_at, self.image_w, self.image_h = lookup(raw.images)
            self.fold = Fold(len(raw.images))
        types = {"q": np.int64, "d": np.float64, "b": np.int8}
        columns = {}
        for name in _RELEASED:
            column = getattr(raw, name)
            columns[name] = np.frombuffer(column.buffer(), dtype=types[column.typecode]).copy()
            column.release()
        if raw.late:
            self.unsure = self.unsure or bool(self.seen.met(columns["ann_id"][: raw.late]).any())
        self._piece(columns)

    def _piece(self, c: dict[str, np.ndarray]) -> None:
        import numpy as np

        from scalematch.dataset.resize import input_columns
        from scalematch.dataset.stats import COLUMNS

        assert self.fold is not None and self.image_ids is not None and self.image_at is not None
        assert self.image_w is not None and self.image_h is not None
        w, h, image_id = c["w"], c["h"], c["image_id"]
        if len(self.image_ids):
            found = np.minimum(np.searchsorted(self.image_ids, image_id), len(self.image_ids) - 1)
            unknown = self.image_ids[found] != image_id
            pos = self.image_at[found]
        else:
            unknown, pos = np.ones(len(w), dtype=bool), np.zeros(len(w), dtype=np.int64)
        f64 = np.float64  # (the image table may hold its sizes in float32, when they are float32 exactly)
        per_row = (self.image_w[pos].astype(f64), self.image_h[pos].astype(f64)) if len(self.image_ids) else None
        later = np.zeros(len(w), dtype=bool)  # the categories are checked at the end
        keep = np.ones(len(w), dtype=bool)
        box = (c["x"], c["y"], w, h)
        for reason, bad in problems(box, unknown, later, per_row, self.need_size):
            if reason == UNKNOWN_CATEGORY:
                self.categories.update(np.unique(c["category_id"][keep]).tolist())
            bad = bad & keep
            self.excluded[reason] += int(bad.sum())
            keep &= ~bad
        again = np.zeros(len(w), dtype=bool)  # the last check: an id of a record kept before (in the piece too)
        again[keep] = self.seen.mark(c["ann_id"][keep])
        self.excluded[DUPLICATE_ID] += int(again.sum())
        keep &= ~again
        crowd = c["iscrowd"] != 0
        self.crowd.append(c["category_id"][keep & crowd])
        use = keep & ~crowd
        part = {name: c[name][use] for name in ("category_id", "area")}
        images, image = np.unique(pos[use], return_inverse=True)
        image_w, image_h = self.image_w[images].astype(f64), self.image_h[images].astype(f64)
        sizes = input_columns(self.policy, image_w, image_h, w[use], h[use], COLUMNS, image.reshape(-1))
        self.fold.add(part | sizes, pos[use])

    def partial(self, raw: RawBoxes, exclusions: Exclusions, source: str) -> Partial | None:
        """The :class:`Partial` of the file once read, with the reader's ``exclusions`` (None: an object's category
        is not among the file's)."""
        import numpy as np

        from scalematch.dataset.resize import input_columns
        from scalematch.dataset.stats import COLUMNS, Fold

        if self.unsure or not self.categories <= raw.categories.keys():
            return None
        fold = self.fold
        if fold is None:  # no annotation at all
            fold = Fold(len(raw.images))
            f, i = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
            fold.add({"category_id": i, "area": f} | input_columns(self.policy, f, f, f, f, COLUMNS, i), i)
        categories = {k: text_of(v) for k, v in raw.categories.items()}
        crowd = np.concatenate(self.crowd) if self.crowd else np.zeros(0, dtype=np.int64)
        counts = exclusions.counts + self.excluded
        excluded = {r: counts[r] for r in sorted(counts)}
        unnamed = frozenset(raw.unnamed)
        return fold.partial(source, "coco", str(self.policy), len(raw.images), categories, excluded, crowd, unnamed)
