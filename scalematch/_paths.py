"""What is at a path, named before anything opens it (a FIFO would block the reader, a device never end), in the
words every reader uses: the dataset readers and the config and preset loaders."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from scalematch._text import cut_name

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
    except ValueError:  # a NUL byte in a path read from a file (an ONNX model's external data location)
        return "unreadable (its name holds a NUL byte)"
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def problem(path: Path, what: str) -> str:
    """The words for what :func:`kind` found at ``path`` (the regular file it is not): ``<path>: ...``, a path
    longer than 255 characters shown cut (:func:`~scalematch._text.cut_name`)."""
    shown = cut_name(path)
    if what == "missing":
        return f"{shown}: no such file"
    if what.startswith("unreadable"):
        return f"{shown}: cannot read{what.removeprefix('unreadable')}"
    return f"{shown}: is not a regular file ({what})"


def importable_here() -> None:
    """Let a user's module in the current folder be imported by name (``mynet:Net``), as ``python -m scalematch``
    does (its ``sys.path`` starts with the current folder) and the ``scalematch`` command did not: the folder is
    added at the end of the search path, so it never shadows an installed package."""
    import sys

    here = os.getcwd()
    if "" not in sys.path and here not in sys.path:
        sys.path.append(here)
