"""Reading the small text files around annotations (label files, data.yaml, classes.txt, split lists)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from scalematch.errors import DatasetError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def kind(path: Path) -> str | None:
    """What is at ``path``, symlinks followed: None for a regular file, else ``"missing"``, ``"a folder"``,
    ``"a FIFO"``, ``"a socket"``, ``"a character device"``, ``"a block device"``, ``"a symlink loop"``,
    ``"a dangling symlink"`` or ``"unreadable (<reason>)"``. Only the file's status is read, never the file:
    opening a FIFO would wait for a writer forever."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return "a dangling symlink" if os.path.islink(path) else "missing"
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _problem(path: Path, what: str) -> str:
    if what == "missing":
        return f"{path}: no such file"
    if what.startswith("unreadable"):
        return f"{path}: cannot read{what.removeprefix('unreadable')}"
    return f"{path}: is not a regular file ({what})"


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


def read_bytes(path: Path) -> bytes:
    """The bytes of the regular file ``path``; anything else, or an unreadable file, is a :class:`DatasetError`."""
    check_regular(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark is dropped, as ultralytics does); a path that is not a
    regular file, an unreadable file or invalid UTF-8 is a :class:`DatasetError` ``<file>: ...``."""
    data = read_bytes(path)
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
