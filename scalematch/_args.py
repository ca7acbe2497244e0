"""Argument types checked at the door of the public functions: a wrong type is an :class:`OptionError` naming the
parameter (``coverage: expected a number, got str '0.9'``), never a TypeError or AttributeError from deep inside."""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Literal, TypeGuard, overload

from scalematch._text import converts, cut_head, int_text, safe_repr, type_words
from scalematch.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd


def shown(value: object) -> str:
    """``value`` as an error message shows it: its type and a short repr. A table or an array (see
    :func:`_is_array`), or a value whose repr spans lines, is shown by its type alone, in words that need no article
    chosen by the name (``an object of type Series``: not 'a ndarray', 'an Unicorn'). Showing it never raises: an
    integer of more digits than Python converts is ``an integer of 5,001 digits``, a value whose repr fails is
    ``an object of type X (its repr failed)``, an object of a class whose name is empty is named so."""
    if isinstance(value, int) and not isinstance(value, bool) and not converts(value):
        return int_text(value)
    if not type(value).__name__:
        return f"an object of {type_words(value)}"
    text = safe_repr(value)
    if text is None:
        return f"an object of {type_words(value)} (its repr failed)"
    if _is_array(value) or "\n" in text:
        return f"an object of {type_words(value)}"
    return f"{type_words(value).removeprefix('type ')} {cut_head(text, 40)}"


def _is_array(value: object) -> bool:
    """Whether ``value`` is an array or a table of one axis or more: a ``shape`` tuple that is not empty and a
    ``dtype`` (numpy, pandas, torch) or ``dtypes`` (a DataFrame). A 0-d array or a numpy scalar (shape ``()``)
    stands for one value, which is shown."""
    try:
        shape = getattr(value, "shape", None)
        typed = hasattr(value, "dtype") or hasattr(value, "dtypes")
    except Exception:  # a property that raises: not an array
        return False
    return typed and isinstance(shape, tuple) and len(shape) > 0


JSON_VALUES = (str, int, float, bool, list, dict, type(None))
"""The types of the values of a document ``json.load`` gives."""


def shown_path(value: object) -> str:
    """``value``, given where a path was expected, as an error message shows it: a document already read (a dict,
    as ``json.load`` gives it) or an open file is named as such, with what to give instead; a mapping of other
    values (a model's ``state_dict()``: tensors) is named as a mapping of them."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        kind = "a dict" if type(value) is dict else f"a mapping of type {type(value).__name__}"
        other = next((v for v in value.values() if not isinstance(v, JSON_VALUES)), None)
        if other is None:
            return f"{kind} (a document already read, as json.load gives it); give the file's path"
        return f"{kind} holding {type(other).__name__} values, as a state_dict does (weights, no layer graph)"
    if callable(getattr(value, "read", None)):
        name = getattr(value, "name", None)
        return f"an open file; give its path{f' ({name!r})' if isinstance(name, str) else ''}"
    if isinstance(value, memoryview):
        return f"a memoryview ({shown(value.tobytes())}); give the path as text"
    if type(value).__name__ == "LoadResult" and type(value).__module__ == "scalematch.dataset.loader":
        return "a LoadResult (annotations already read: recommend() and sweep() take it as it is)"
    return shown(value)


def expect(value: object, param: str, kinds: type | tuple[type, ...], expected: str, optional: bool = False) -> None:
    """An :class:`OptionError` unless ``value`` is one of ``kinds`` (or None when ``optional``); bool is no number."""
    if value is None and optional:
        return
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")
    if not isinstance(value, kinds):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")


def flag(value: object, param: str) -> bool:
    """True or False: a ``bool`` or a numpy bool (``np.True_``, as comparisons of arrays give), returned as the bool
    it stands for; anything else (text such as ``"no"``, 0 or 1, None) is an :class:`OptionError`, never taken by
    its truth value."""
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return bool(value)
    raise OptionError(f"{param}: expected True or False, got {shown(value)}")


def check_progress(progress: object) -> None:
    """``progress``: None or a function progress(done, total)."""
    if progress is not None and not callable(progress):
        raise OptionError(f"progress: expected a function progress(done, total), got {shown(progress)}")


@overload
def number(value: object, param: str, optional: Literal[False] = False) -> float: ...
@overload
def number(value: object, param: str, optional: bool) -> float | None: ...
def number(value: object, param: str, optional: bool = False) -> float | None:
    """A real number of Python's number tower (:class:`numbers.Real`: int, float, ``fractions.Fraction``, numpy
    numbers; not bool, not text, not ``decimal.Decimal``, which Python keeps out of the tower), returned as the
    float it stands for, so that results, their ``repr`` and their JSON hold plain floats; None when it is None and
    ``optional``."""
    if value is not None and not isinstance(value, numbers.Real) and type(value).__module__ == "decimal":
        raise OptionError(f"{param}: expected a number, got {shown(value)}; give float(value)")
    expect(value, param, numbers.Real, "a number", optional)
    if value is None:
        return None
    assert isinstance(value, numbers.Real)
    try:
        return float(value) + 0.0  # -0.0 + 0.0 is 0.0: a zero is shown and stored as 0
    except OverflowError:  # an int or a Fraction beyond the floats
        raise OptionError(f"{param}: expected a number within the range of a float, got {shown(value)}") from None


@overload
def integer(value: object, param: str, optional: Literal[False] = False) -> int: ...
@overload
def integer(value: object, param: str, optional: bool) -> int | None: ...
def integer(value: object, param: str, optional: bool = False) -> int | None:
    """An integer (:class:`numbers.Integral`: int, numpy integers; not bool, not a float, not a Fraction, even a
    whole one), returned as the int it stands for; None when it is None and ``optional``."""
    expect(value, param, numbers.Integral, "an integer", optional)
    if value is None:
        return None
    assert isinstance(value, numbers.Integral)
    return int(value)


def at_least(value: object, param: str, low: int, high: int | None = None) -> int:
    """An :func:`integer` from ``low`` (to ``high``, when one is given), as the int it stands for."""
    whole = integer(value, param)
    if whole < low or (high is not None and whole > high):
        upto = f" to {high:,}" if high is not None else ""
        raise OptionError(f"{param}: expected an integer from {low}{upto}, got {int_text(whole)}")
    return whole


def plain(value: object) -> object:
    """``value`` as :func:`number` or :func:`integer` takes it when it is a number of another type than int and
    float (a numpy number, a Fraction: the int or float it stands for); anything else, bool included, as it is,
    for the check that follows to judge."""
    if isinstance(value, bool) or type(value) in (int, float) or not isinstance(value, numbers.Real):
        return value  # (numpy's float64 is a float subclass: it is converted too)
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        return float(value) + 0.0  # -0.0 + 0.0 is 0.0: a zero is shown and stored as 0
    except OverflowError:
        return value


@overload
def path_or_name(value: object, param: str, expected: str, optional: Literal[False] = False) -> str: ...
@overload
def path_or_name(value: object, param: str, expected: str, optional: bool) -> str | None: ...
def path_or_name(value: object, param: str, expected: str, optional: bool = False) -> str | None:
    """A name or a path: ``str`` or ``os.PathLike`` (a ``pathlib.Path``, or the path object of another library),
    returned as its text (:func:`os.fspath`, so that messages and results name the path, never the object's
    repr); None when it is None and ``optional``."""
    if value is None and optional:
        return None
    text = _fspath(value)
    if text is None:
        raise OptionError(f"{param}: expected {expected}, got {shown_path(value)}")
    no_nul(text, param)
    return text


def no_nul(text: str, param: str, where: str = "") -> None:
    """An :class:`OptionError` naming ``param`` when ``text``, a path or a name, holds a NUL byte or a lone
    surrogate that is not the escape of a byte of a file name (``'a\\ud800.json'``; ``os.fsdecode`` makes a byte
    that is not UTF-8 one of ``'\\udc80'``-``'\\udcff'``, which is taken): no file name can hold either, and the
    operating system would refuse it later with a bare ValueError or UnicodeEncodeError."""
    if "\0" in text:
        raise OptionError(f"{param}: expected a path or name without NUL bytes, got {shown(text)}{where}")
    if not text.isascii():
        try:
            os.fsencode(text)
        except UnicodeError:
            raise OptionError(
                f"{param}: expected a path or name without lone surrogates, got {shown(text)}{where}"
            ) from None


PATH = "a path (str or pathlib.Path)"
PATHS = f"{PATH}, a glob pattern or a list of them"


def given_path(value: object, param: str, expected: str = PATH) -> str:
    """One path to read or write, as its text (see :func:`path_or_name`). An empty one is refused as the command
    line refuses it: the empty path would read as ``.``, the current folder."""
    text = path_or_name(value, param, expected)
    if not text:
        raise OptionError(f"{param}: expected a path, got an empty value")
    return text


def given_paths(value: object, param: str, expected: str = PATHS) -> list[str]:
    """Inputs given as one path (or glob pattern) or as any iterable of them (a list, a tuple, a set, a
    generator: read once, here), as their texts in the order given; each item as :func:`given_path` takes it. A
    document already read (a dict from ``json.load``), an open file, bytes and a DataFrame are iterable, but
    over keys, lines, numbers or column names: they are refused for what they are."""
    from collections.abc import Iterable, Mapping

    if isinstance(value, str | os.PathLike):
        return [given_path(value, param, expected)]
    if is_frame(value):  # iterable over its column names, which are no paths
        raise OptionError(f"{param}: expected {expected}, got a DataFrame (from_frame(table) makes a LoadResult of "
                          "a box table)")  # fmt: skip
    if isinstance(value, bytes | bytearray | memoryview | Mapping) or callable(getattr(value, "read", None)):
        raise OptionError(f"{param}: expected {expected}, got {shown_path(value)}")
    if not isinstance(value, Iterable) or getattr(value, "ndim", None) == 0:  # a 0-d array cannot be iterated
        raise OptionError(f"{param}: expected {expected}, got {shown_path(value)}")
    series = _is_series(value)
    out = []
    for item in value:
        text = _fspath(item)
        if text is None and series:  # a column of a table, not a list of paths
            raise OptionError(f"{param}: expected {expected}, got a pandas Series holding {shown(item)}")
        if text is None:
            raise OptionError(f"{param}: expected {expected}, got {shown(item)} in the list")
        if not text:
            raise OptionError(f"{param}: expected a path, got an empty value in the list")
        no_nul(text, param, " in the list")
        out.append(text)
    return out


def is_frame(value: object) -> TypeGuard[pd.DataFrame]:
    """Whether ``value`` is a pandas DataFrame (a subclass too), without importing pandas: a DataFrame exists only
    once pandas is imported."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _is_series(value: object) -> bool:
    """Whether ``value`` is a pandas Series, without importing pandas (see :func:`is_frame`)."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.Series)


def _fspath(value: object) -> str | None:
    """``os.fspath(value)`` for a ``str`` or an ``os.PathLike`` whose path is text; None for anything else (a
    path object whose path is bytes too: every path scalematch shows and writes is text)."""
    if not isinstance(value, str | os.PathLike):
        return None
    try:
        text = os.fspath(value)
    except TypeError:  # a __fspath__ that gives neither str nor bytes
        return None
    return text if isinstance(text, str) else None


def choice(value: object, param: str, choices: tuple[str, ...]) -> None:
    """One of the texts ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise OptionError(f"{param}: expected one of {', '.join(choices)}, got {shown(value)}")


def names(value: object, param: str, expected: str, sep: str = ",") -> tuple[str, ...]:
    """None, a text list (``'a,b'``, split on ``sep``) or a list or tuple of texts; returned as the names, each
    stripped (none for None). Anything else (a number, a bool, bytes, a dict, a list holding a number) is an
    :class:`OptionError`, never iterated."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(sep))
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")
    return tuple(v.strip() for v in value)


def axes(value: object, param: str = "ax") -> None:
    """None (a figure function draws a new figure) or a matplotlib Axes to draw on, with Cartesian x and y axes
    (projection ``'rectilinear'``, as ``add_subplot()`` gives, in a Figure or a SubFigure): the figures set log
    scales and place text in x-y data coordinates, which a polar, 3-D or map projection does not have. matplotlib
    is imported only when one is given."""
    if value is None:
        return
    from matplotlib.axes import Axes

    expect(value, param, Axes, "a matplotlib Axes (or None: a new figure)")
    projection = getattr(value, "name", None)
    if projection != "rectilinear":
        raise OptionError(
            f"{param}: expected a matplotlib Axes with Cartesian x and y axes (or None: a new figure), "
            f"got {type(value).__name__} (projection {safe_repr(projection) or 'unnamed'})"
        )
