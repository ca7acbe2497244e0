"""Listing a folder with its subfolders as :func:`glob.glob` with ``**`` descends: links to folders are followed,
but each real folder (by device and inode) is listed once, so a link loop ends at once. A folder that cannot be
listed is a :class:`DatasetError` naming it (glob and ``Path.rglob`` skip it without a word)."""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable
from pathlib import Path

from scalematch.errors import DatasetError

Found = tuple[tuple[str, ...], os.DirEntry[str], bool]
"""An entry: its path inside the folder listed (a tuple of names), the entry, and whether a folder above it,
inside the folder listed, is hidden (its name starts with '.')."""


def walk(folder: Path, descend: Callable[[str], bool] = lambda name: True) -> list[Found]:
    """Every entry of ``folder`` and of its subfolders (those whose name ``descend`` accepts; links to folders
    too), sorted by their path inside ``folder``. A folder reached under several names is listed under one: the
    first, breadth first, of the names with no hidden folder, then of those with no link, so ``labels/train``
    rather than ``labels/.backup`` or a link ``labels/all -> train``; its other names are entries, not listed."""
    found: list[Found] = []
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[bool, bool, int, str, tuple[str, ...]]] = [(False, False, 0, os.fspath(folder), ())]
    order = 0
    while pending:
        hidden, linked, _, here, rel = heapq.heappop(pending)
        try:
            info = os.stat(here)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise DatasetError(f"{here}: {exc.strerror or exc}") from None
        for entry in entries:
            inside = (*rel, entry.name)
            found.append((inside, entry, hidden))
            if descend(entry.name) and _is_dir(entry):
                order += 1
                below = hidden or entry.name.startswith(".")
                heapq.heappush(pending, (below, linked or entry.is_symlink(), order, entry.path, inside))
    found.sort(key=lambda f: f[0])
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a folder, a link followed; a dangling link or a link loop is none."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def links_in(folder: Path) -> list[Path]:
    """The symbolic links met in ``folder`` and its subfolders (links to folders followed, each folder once):
    what an output may reach the folder's files through without lying under the folder's own path."""
    return [Path(entry.path) for _, entry, _ in walk(folder) if entry.is_symlink()]
