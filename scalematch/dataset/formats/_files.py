"""Reading the small text files around annotations (label files, data.yaml, classes.txt, split lists)."""

from __future__ import annotations

from pathlib import Path

from scalematch.errors import DatasetError


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark is dropped, as ultralytics does); an unreadable
    file or invalid UTF-8 is a :class:`DatasetError` ``<file>: ...``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise DatasetError(f"{path}: not valid UTF-8: invalid byte 0x{bad:02x} at byte {exc.start}") from None
