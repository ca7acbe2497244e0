"""Argument types checked at the door of the public functions: a wrong type is an :class:`OptionError` naming the
parameter (``coverage: expected a number, got str '0.9'``), never a TypeError or AttributeError from deep inside."""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Literal, TypeGuard, overload

from scalematch.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd


def shown(value: object) -> str:
    """``value`` as an error message shows it: its type and a short repr."""
    text = repr(value)
    if "\n" in text:  # a table or an array: its type says enough
        return f"a {type(value).__name__}"
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def shown_path(value: object) -> str:
    """``value``, given where a path was expected, as an error message shows it: a document already read (a dict,
    as ``json.load`` gives it) or an open file is named as such, with what to give instead."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return f"a {type(value).__name__} (a document already read, as json.load gives it); give the file's path"
    if callable(getattr(value, "read", None)):
        name = getattr(value, "name", None)
        return f"an open file; give its path{f' ({name!r})' if isinstance(name, str) else ''}"
    return shown(value)


def expect(value: object, param: str, kinds: type | tuple[type, ...], expected: str, optional: bool = False) -> None:
    """An :class:`OptionError` unless ``value`` is one of ``kinds`` (or None when ``optional``); bool is no number."""
    if value is None and optional:
        return
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")
    if not isinstance(value, kinds):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")


def check_progress(progress: object) -> None:
    """``progress``: None or a function progress(done, total)."""
    if progress is not None and not callable(progress):
        raise OptionError(f"progress: expected a function progress(done, total), got {shown(progress)}")


def number(value: object, param: str, optional: bool = False) -> None:
    """A real number (int, float, numpy number; not bool, not text)."""
    expect(value, param, numbers.Real, "a number", optional)


def integer(value: object, param: str, optional: bool = False) -> None:
    """An integer (int or numpy integer; not bool, not a float)."""
    expect(value, param, numbers.Integral, "an integer", optional)


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
    return text


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
    if isinstance(value, bytes | bytearray | Mapping) or callable(getattr(value, "read", None)):
        raise OptionError(f"{param}: expected {expected}, got {shown_path(value)}")
    if not isinstance(value, Iterable):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")
    out = []
    for item in value:
        text = _fspath(item)
        if text is None:
            raise OptionError(f"{param}: expected {expected}, got {shown(item)} in the list")
        if not text:
            raise OptionError(f"{param}: expected a path, got an empty value in the list")
        out.append(text)
    return out


def is_frame(value: object) -> TypeGuard[pd.DataFrame]:
    """Whether ``value`` is a pandas DataFrame (a subclass too), without importing pandas: a DataFrame exists only
    once pandas is imported."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


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


def names(value: object, param: str, expected: str) -> None:
    """None, a text list (``'a,b'``) or a list or tuple of texts."""
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise OptionError(f"{param}: expected {expected}, got {shown(value)}")
