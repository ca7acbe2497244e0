"""A box table given as a pandas DataFrame (the Python API): its columns checked, its rows checked as the file
readers check records, and the bad rows counted under the readers' reasons (never used as objects)."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from scalematch._text import described
from scalematch.dataset.table import (
    BBOX_INVALID,
    BBOX_NONPOSITIVE,
    BBOX_OUTSIDE_IMAGE,
    DUPLICATE_ID,
    MALFORMED_RECORD,
    MAX_IMAGE_SIDE,
    MIN_BOX_SIDE,
    MISSING_IMAGE_SIZE,
)
from scalematch.errors import OptionError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

NUMBERS = ("x", "y", "w", "h", "image_w", "image_h", "area")
DERIVED = ("w_in", "h_in", "size_in", "scale_x", "scale_y", "scale_hi", "w_in_hi", "h_in_hi")
"""Input-pixel columns a DataFrame may bring (numbers too; see :func:`given_input`)."""
IDS = ("ann_id", "image_id", "category_id")
FLAGS = ("iscrowd", "difficult", "truncated", "ignore", "label_refused")
_I64 = 2.0**63


def numeric_objects(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each of its :data:`NUMBERS`, :data:`DERIVED` and :data:`IDS` columns of ``object`` dtype that
    holds only numbers (Python or numpy integers and floats; None or NaN for a missing value, as ``astype(object)``
    or a concat with None gives) as a numeric column: integers as nullable Int64 (exact, also above 2**53), else
    float64. The table itself is not changed; any other object column is left for :func:`check_columns`."""
    import numpy as np
    import pandas as pd

    numbers = (int, float, np.integer, np.floating)
    changed: dict[str, Any] = {}
    for name in (*NUMBERS, *DERIVED, *IDS):
        if name not in table.columns or getattr(table[name], "ndim", 1) != 1 or table[name].dtype != object:
            continue
        values = table[name].tolist()
        if not all(v is None or (isinstance(v, numbers) and not isinstance(v, bool | np.bool_)) for v in values):
            continue
        try:
            ints = all(v is None or isinstance(v, int | np.integer) for v in values)
            changed[name] = pd.array(values, dtype="Int64") if ints else None
        except (OverflowError, TypeError, ValueError):  # an integer beyond int64
            changed[name] = None
        if changed[name] is None:
            changed[name] = np.array([real(v) for v in values], dtype=np.float64)
    return table.assign(**changed) if changed else table


def real(value: object) -> float:
    """A number as float64: None is NaN, an integer beyond float range is infinite (with its sign; the checks
    then refuse it as they refuse inf), anything else that is no number is NaN."""
    import numpy as np

    if value is None or isinstance(value, str | bytes) or not isinstance(value, int | float | np.integer | np.floating):
        return math.nan
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def check_columns(table: pd.DataFrame) -> None:
    """An :class:`OptionError` naming the first column among :data:`NUMBERS`, :data:`DERIVED` and :data:`IDS`
    that does not hold real numbers (strings, booleans, complex numbers, objects) or that the DataFrame has twice."""
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    for name in (*NUMBERS, *DERIVED, *IDS):
        if name not in table.columns:
            continue
        column = table[name]
        if getattr(column, "ndim", 1) != 1:
            raise OptionError(f"annotations: the DataFrame has the column {name!r} more than once")
        complex_ = is_complex_dtype(column.dtype)
        if is_numeric_dtype(column.dtype) and not is_bool_dtype(column.dtype) and not complex_:
            continue
        odd = [v for v in column if v is not None and type(v) not in (int, float)][:1]
        example = f", such as {described(complex(odd[0]) if complex_ else odd[0], 60)}" if odd else ""
        raise OptionError(
            f"annotations: the DataFrame's column {name!r} holds {column.dtype} values{example}; expected "
            f"{'real ' if complex_ else ''}numbers"
        )


def check_images(table: pd.DataFrame) -> None:
    """An :class:`OptionError` for a ``category`` without a value (the readers give every object one) or an
    ``image_id`` whose rows give two image sizes (an image has one; a file reader takes it from the image)."""
    import numpy as np

    if "category" in table.columns:
        missing = np.flatnonzero(table["category"].isna().to_numpy())
        if len(missing):
            row = row_label(table.index, missing[0])
            raise OptionError(
                f"annotations: the DataFrame's column 'category' has no value in row {row}; expected a name per row"
                " (without the column, every object is of one category 'object')"
            )
    if not {"image_id", "image_w", "image_h"} <= set(table.columns) or not len(table):
        return
    ids, good = id_values(table["image_id"])
    w = table["image_w"].to_numpy(np.float64, na_value=np.nan)
    h = table["image_h"].to_numpy(np.float64, na_value=np.nan)
    sized = np.flatnonzero(good & np.isfinite(w) & np.isfinite(h))
    order = sized[np.argsort(ids[sized], kind="stable")]
    same = ids[order][1:] == ids[order][:-1]
    other = same & ((w[order][1:] != w[order][:-1]) | (h[order][1:] != h[order][:-1]))
    if other.any():
        k = int(np.flatnonzero(other)[0])
        a, b = int(order[k]), int(order[k + 1])
        raise OptionError(
            f"annotations: image_id {ids[a]!s} has two sizes, {w[a]:g}x{h[a]:g} (row {row_label(table.index, a)}) and "
            f"{w[b]:g}x{h[b]:g} (row {row_label(table.index, b)}); an image has one size"
        )


def check_categories(table: pd.DataFrame) -> None:
    """An :class:`OptionError` naming two rows that give one ``category_id`` two names: a category has one name, as
    the inputs of one dataset must agree on theirs (a COCO file cannot say otherwise). Names are compared as text
    (see :func:`category_names`); rows whose ``category_id`` is no id are left to :func:`check_rows`."""
    import numpy as np
    import pandas as pd

    if not {"category_id", "category"} <= set(table.columns) or not len(table):
        return
    ids, good = id_values(table["category_id"])
    codes, names = category_names(table["category"])
    rows = np.flatnonzero(good)
    pairs = pd.DataFrame({"id": ids[rows], "name": codes[rows]}).drop_duplicates()  # index: place in rows
    again = np.flatnonzero(pairs["id"].duplicated().to_numpy())
    if len(again):
        b = int(pairs.index[again[0]])
        cid = ids[rows[b]]
        a = int(pairs.index[np.flatnonzero(pairs["id"].to_numpy() == cid)[0]])
        first, second = int(rows[a]), int(rows[b])
        raise OptionError(
            f"annotations: category_id {cid} is named {names[codes[first]]!r} (row {row_label(table.index, first)})"
            f" and {names[codes[second]]!r} (row {row_label(table.index, second)}); a category has one name"
        )


def category_names(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A ``category`` column as codes into its distinct names (in order of first appearance), each name as text: a
    name written as a number (``pd.read_csv`` reads the names ``7`` and ``9`` as integers) is its text, '7'."""
    import numpy as np
    import pandas as pd

    from scalematch._text import text_of

    codes, uniques = pd.factorize(column)
    texts = [text_of(str(u.item() if isinstance(u, np.generic) else u)) for u in uniques]
    canon, names = pd.factorize(pd.Series(texts, dtype=object))
    out: np.ndarray = canon[codes] if len(texts) else np.zeros(len(codes), dtype=np.intp)
    return out, [str(n) for n in names]


def row_label(index: pd.Index, k: int) -> object:
    """The label of position ``k`` of ``index``, as a plain value (pandas 2 gives numpy integers)."""
    import numpy as np

    label = index[k]
    return label.item() if isinstance(label, np.generic) else label


def given_input(table: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """The input-pixel columns of a table that brings its own resize (none given to from_frame), made from its boxes
    ``w`` and ``h`` as a resize policy makes them: at its scales when it has ``scale_x`` and ``scale_y`` (every box
    table has them; ``scale_hi``, the largest input of a multi-scale policy, too), so ``w_in = w * scale_x`` follows
    an edit of ``w``; else its ``w_in`` and ``h_in`` (and ``w_in_hi``, ``h_in_hi``) as given. ``size_in`` and
    ``max_side_in`` follow from them and ``aspect`` from w and h. None when the table has neither."""
    import numpy as np

    def floats(name: str) -> np.ndarray:
        out: np.ndarray = table[name].to_numpy(np.float64, na_value=np.nan)
        return out

    columns = set(table.columns)
    w, h = floats("w"), floats("h")
    with np.errstate(all="ignore"):  # NaN, inf and 0 in the given values: the rows are checked in check_rows
        if {"scale_x", "scale_y"} <= columns:
            ends = [("", w * floats("scale_x"), h * floats("scale_y"))]
            if "scale_hi" in columns:
                ends.append(("_hi", w * floats("scale_hi"), h * floats("scale_hi")))
        elif {"w_in", "h_in", "size_in"} <= columns:
            ends = [("", floats("w_in"), floats("h_in"))]
            if {"w_in_hi", "h_in_hi"} <= columns:
                ends.append(("_hi", floats("w_in_hi"), floats("h_in_hi")))
        else:
            return None
        out: dict[str, np.ndarray] = {}
        for suffix, w_in, h_in in ends:
            out |= {"w_in" + suffix: w_in, "h_in" + suffix: h_in, "size_in" + suffix: np.sqrt(w_in * h_in),
                    "max_side_in" + suffix: np.maximum(w_in, h_in)}  # fmt: skip
        out["aspect"] = w / h
    return out


def check_rows(
    table: pd.DataFrame, need_size: bool, given: dict[str, np.ndarray] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows of ``table`` that the file readers would keep, and the others counted by reason, in the readers'
    order: an id that is not a 64-bit integer or an ``area`` that is not a finite number >= 0
    (``malformed_record``), as is an ``iscrowd`` that is not 0 or 1 (the COCO reader's rule: 2, 0.5, NaN, a string),
    a ``label_refused`` that is not an integer from 0 to 3 (the bits of :mod:`scalematch.dataset.yolo_labels`)
    or a ``difficult`` or ``truncated`` that is not an integer (VOC's rule: non-zero is set); ``x y w h`` not
    finite (``bbox_invalid``); w or h <= 0 (``bbox_nonpositive``); the same for the box in input pixels when the
    table brings its own (``given``, see :func:`given_input`; added to the rows kept); a side outside [2**-24, 2**24]
    (``bbox_invalid``), of the box or of its given box in input pixels; no image size when ``need_size``
    (``missing_image_size``); a box that does not overlap its image at all (``bbox_outside_image``); last, an
    ``ann_id`` of an earlier row that every check keeps (``duplicate_id``; the first is kept).
    An image width or height that is not a number in [1, 2**24] becomes NaN (no size), ids become int64 (exactly:
    see :func:`id_values`) and the flags bool."""
    import numpy as np

    n = len(table)
    keep = np.ones(n, dtype=bool)
    counts: Counter[str] = Counter()

    def drop(reason: str, bad: np.ndarray) -> None:
        bad = bad & keep
        counts[reason] += int(bad.sum())
        keep[bad] = False

    def values(name: str) -> np.ndarray:
        out: np.ndarray = table[name].to_numpy(np.float64, na_value=np.nan)
        return out

    ids = {name: id_values(table[name]) for name in IDS if name in table.columns}
    with np.errstate(invalid="ignore", over="ignore"):
        for _, good in ids.values():
            drop(MALFORMED_RECORD, ~good)
        given_flags = [c for c in FLAGS if c in table.columns]
        flags = {c: _flag(table[c], c == "iscrowd", c == "difficult", c == "label_refused") for c in given_flags}
        for _, good in flags.values():
            drop(MALFORMED_RECORD, ~good)
        if "area" in table.columns:
            area = values("area")
            drop(MALFORMED_RECORD, ~(np.isfinite(area) & (area >= 0)))
        x, y, w, h = (values(c) for c in ("x", "y", "w", "h"))
        drop(BBOX_INVALID, ~(np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & np.isfinite(h)))
        drop(BBOX_NONPOSITIVE, ~((w > 0) & (h > 0)))
        if given is not None:  # the box in input pixels, checked as the box is
            sides = [given[c] for c in ("w_in", "h_in", "w_in_hi", "h_in_hi") if c in given]
            drop(BBOX_INVALID, ~np.logical_and.reduce([np.isfinite(v) for v in sides]))
            drop(BBOX_NONPOSITIVE, ~np.logical_and.reduce([v > 0 for v in sides]))
        # the rows a reader would hold: the cross-record checks follow, in the COCO reader's order
        drop(BBOX_INVALID, (np.minimum(w, h) < MIN_BOX_SIDE) | (np.maximum(w, h) > MAX_IMAGE_SIDE))
        if given is not None:  # and the box in input pixels (an absurd scale_x: 1e300 or 1e-300)
            drop(BBOX_INVALID, np.logical_or.reduce([(v < MIN_BOX_SIDE) | (v > MAX_IMAGE_SIDE) for v in sides]))
        iw, ih = (_side(values(c)) for c in ("image_w", "image_h"))
        if need_size:
            drop(MISSING_IMAGE_SIZE, np.isnan(iw) | np.isnan(ih))
        drop(BBOX_OUTSIDE_IMAGE, (x >= iw) | (y >= ih) | (x + w <= 0) | (y + h <= 0))
        if "ann_id" in ids:  # the last check: a row repeats only a row that every other check keeps
            shard = table["shard"].to_numpy() if "shard" in table.columns else None
            drop(DUPLICATE_ID, _repeated(ids["ann_id"][0], keep, shard))
    columns = {c: flag for c, (flag, _) in flags.items()} | {c: v for c, (v, _) in ids.items()} | (given or {})
    out = table.assign(image_w=iw, image_h=ih, **columns)
    if not keep.all():
        out = out[keep]
    return out, {reason: counts[reason] for reason in sorted(counts) if counts[reason]}


def id_values(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """An id column as exact int64 values, and which rows hold an id: an integer from -2**63 to 2**63 - 1, as the
    COCO reader takes them (the box table holds ids as int64). Integer columns are read as integers, never through
    float64, which would merge ids above 2**53; a uint64 beyond 2**63 - 1, a float that is no integer (NaN,
    2.5) and a nullable column's <NA> are no id. Rows that are not ids hold 0."""
    import numpy as np

    if column.dtype.kind in "iu":  # numpy or nullable (Int64, UInt64: <NA> is no id, as NaN is not)
        na = column.isna().to_numpy(bool)
        if column.dtype.kind == "u":
            raw = column.to_numpy(np.uint64, na_value=0)
            good = ~na & (raw <= np.uint64(2**63 - 1))
            values = np.where(good, raw, np.uint64(0)).astype(np.int64)
        else:
            values, good = column.to_numpy(np.int64, na_value=0), ~na
    else:
        v = column.to_numpy(np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            good = np.isfinite(v) & (v == np.round(v)) & (v >= -_I64) & (v < _I64)
        values = np.where(good, v, 0.0).astype(np.int64)
    return values, good


def _repeated(ids: np.ndarray, read: np.ndarray, shard: np.ndarray | None = None) -> np.ndarray:
    """Which of the ``read`` rows repeat an id of an earlier ``read`` row (the first is kept, as the COCO reader
    keeps it; a row left out by another check takes no id). With ``shard`` (the input of each row, in a table of several
    inputs), ids are per input, as the readers check them: the same id in two inputs names two annotations."""
    import numpy as np

    rows = np.flatnonzero(read)
    if shard is None:
        _, first = np.unique(ids[rows], return_index=True)
    else:
        codes = np.unique(shard[rows].astype(str), return_inverse=True)[1].reshape(-1)
        pairs = np.stack([codes.astype(np.int64), ids[rows]], axis=1)
        _, first = np.unique(pairs, axis=0, return_index=True)
    out: np.ndarray = read.copy()
    out[rows[first]] = False
    return out


def usable_side(v: np.ndarray) -> np.ndarray:
    """Which image sides the readers take as sizes: numbers in [1, 2**24] (NaN, 0, 1e30 are none)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        out: np.ndarray = (v >= 1) & (v <= MAX_IMAGE_SIDE)
    return out


def _side(v: np.ndarray) -> np.ndarray:
    """Image sides as the readers take them: a number in [1, 2**24], else NaN (no size)."""
    import numpy as np

    return np.where(usable_side(v), v, np.nan)


def _flag(
    column: pd.Series, zero_or_one: bool, level: bool = False, bits: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A flag column as bool (``level``: as int8, the integer saturated to -128..127, as the box table holds VOC's
    ``difficult``), and which rows hold a valid flag: a bool, or a number that is 0 or 1 (``zero_or_one``, COCO's
    ``iscrowd``) or any integer (VOC's ``difficult``, non-zero set); NaN, fractions, strings and other objects are
    not flags. ``bits``: an integer from 0 to 3, as int8 (``label_refused``)."""
    import numpy as np
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if is_bool_dtype(column.dtype):
        value: np.ndarray = column.to_numpy(bool, na_value=False)
        return value.astype(np.int8) if level or bits else value, ~column.isna().to_numpy(bool)
    if is_numeric_dtype(column.dtype) and column.dtype.kind != "c":
        v = column.to_numpy(np.float64, na_value=np.nan)
    else:
        numbers = (bool, int, float, np.bool_, np.integer, np.floating)
        v = np.array([real(x) if isinstance(x, numbers) else np.nan for x in column], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        good = (v == 0) | (v == 1) if zero_or_one else np.isfinite(v) & (v == np.round(v))
    if column.dtype == object and not zero_or_one:  # a Python integer beyond float range is still an integer
        good |= np.array([isinstance(x, int | np.integer) and not isinstance(x, bool) for x in column], dtype=bool)
    if bits:
        good &= (v >= 0) & (v <= 3)
        return np.where(good, np.nan_to_num(v), 0).astype(np.int8), good
    if level:
        return np.where(good, np.clip(np.nan_to_num(v), -128, 127), 0).astype(np.int8), good
    return good & (v != 0), good
