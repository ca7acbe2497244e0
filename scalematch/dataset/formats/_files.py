"""Reading the small text files around annotations (label files, data.yaml, classes.txt, split lists)."""

from __future__ import annotations

from pathlib import Path

from scalematch._paths import kind as kind
from scalematch._paths import problem as _problem
from scalematch.errors import DatasetError


def is_present(path: Path) -> bool:
    """Whether an optional side file is there: False when nothing is at ``path``; True for a regular file; a
    :class:`DatasetError` ``<file>: is not a regular file (...)`` for anything else (a folder, a FIFO, a device,
    a dangling symlink, a symlink loop)."""
    what = kind(path)
    if what is not None and what != "missing":
        raise DatasetError(_problem(path, what))
    return what is None


def check_regular(path: Path) -> None:
    """A :class:`DatasetError` ``<file>: ...`` unless ``path`` is a regular file (checked before it is opened)."""
    what = kind(path)
    if what is not None:
        raise DatasetError(_problem(path, what))


def read_bytes(path: Path, limit: tuple[int, str] | None = None) -> bytes:
    """The bytes of the regular file ``path``; anything else, or an unreadable file, is a :class:`DatasetError`, and
    so is a file of more than ``limit`` bytes, when given with what the file is (read whole, it would take many
    times its size in memory)."""
    check_regular(path)
    try:
        if limit is not None and path.stat().st_size > limit[0]:
            raise DatasetError(
                f"{path}: {path.stat().st_size:,} bytes, more than the {limit[0]:,} {limit[1]} may hold (read whole, "
                "it would take over ten times that in memory)"
            )
        return path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark is dropped, as ultralytics does); a path that is not a
    regular file, an unreadable file or invalid UTF-8 is a :class:`DatasetError` ``<file>: ...``."""
    return decode_text(path, read_bytes(path))


def decode_text(path: Path, data: bytes) -> str:
    """``data``, the bytes of ``path``, as :func:`read_text` gives them."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise DatasetError(f"{path}: not valid UTF-8: invalid byte 0x{bad:02x} at byte {exc.start}") from None


def is_decimal(text: str) -> bool:
    """Whether ``text``, which ``float()`` accepted, is a plain ASCII decimal literal as C's ``strtod`` and every
    annotation tool write it: Python's ``float`` also takes digit-group underscores (``1_0``) and non-ASCII digits
    (fullwidth ``１０``, Arabic-Indic ``١٠``), which other readers take for other numbers or refuse."""
    return text.isascii() and "_" not in text
