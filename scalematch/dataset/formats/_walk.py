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
        key = _identity(here)
        if key in seen:
            continue
        seen.add(key)
        for entry in _entries(here):
            inside = (*rel, entry.name)
            found.append((inside, entry, hidden))
            if descend(entry.name) and _is_dir(entry):
                order += 1
                below = hidden or entry.name.startswith(".")
                heapq.heappush(pending, (below, linked or entry.is_symlink(), order, entry.path, inside))
    found.sort(key=lambda f: f[0])
    return found


def _identity(folder: str) -> tuple[int, int]:
    """The device and inode of ``folder`` (links followed); an error naming it when it cannot be reached."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        raise DatasetError(f"{folder}: {exc.strerror or exc}") from None
    return info.st_dev, info.st_ino


def _entries(folder: str) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` sorted by name; an error naming it when it cannot be listed."""
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(f"{folder}: {exc.strerror or exc}") from None


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


Named = tuple[tuple[str, ...], os.DirEntry[str], bool, bool]
"""An entry of :func:`walk_names`: as :data:`Found`, and whether a link to a folder, inside the folder listed, is
on its path."""

MAX_NAMES = 64
"""The most names under which :func:`walk_names` lists one folder."""


def walk_names(folder: Path) -> list[Named]:
    """Every entry of ``folder`` and of its subfolders under every name, as ``glob.glob`` with ``**`` lists them:
    a folder reached through a link (``labels/val -> train``) is listed under that name too, but a link to a
    folder above it (a loop: ``labels/train/up -> ..``) is not followed, so a loop is read once and ends at once.
    Sorted by path inside ``folder``. A folder reached under more than :data:`MAX_NAMES` names (links between
    sibling folders multiply them) is a :class:`DatasetError` naming it."""
    found: list[Named] = []
    names: dict[tuple[int, int], int] = {}
    pending: list[tuple[str, tuple[str, ...], bool, bool, tuple[tuple[int, int], ...]]] = [
        (os.fspath(folder), (), False, False, ())
    ]
    while pending:
        here, rel, hidden, linked, above = pending.pop()
        key = _identity(here)
        if key in above:
            continue
        names[key] = names.get(key, 0) + 1
        if names[key] > MAX_NAMES:
            raise DatasetError(
                f"{here}: reached through links under more than {MAX_NAMES} names; expected a tree whose links "
                "do not multiply its folders"
            )
        for entry in _entries(here):
            inside = (*rel, entry.name)
            found.append((inside, entry, hidden, linked))
            if _is_dir(entry):
                below = hidden or entry.name.startswith(".")
                pending.append((entry.path, inside, below, linked or entry.is_symlink(), (*above, key)))
    found.sort(key=lambda f: f[0])
    return found
