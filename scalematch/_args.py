"""Argument types checked at the door of the public functions: a wrong type is an :class:`OptionError` naming the
parameter (``coverage: expected a number, got str '0.9'``), never a TypeError or AttributeError from deep inside."""

from __future__ import annotations

import numbers
import os

from scalematch.errors import OptionError


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


def path_or_name(value: object, param: str, expected: str, optional: bool = False) -> None:
    """A name or a path: ``str`` or ``os.PathLike`` (a ``pathlib.Path``)."""
    expect(value, param, (str, os.PathLike), expected, optional)


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
