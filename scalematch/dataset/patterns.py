"""Glob patterns of input paths, expanded as :func:`glob.glob` expands them (``recursive=True``), except that
``**`` searches each real folder once: a link to a folder is followed only into a folder not searched before, so
a link loop (``g/sub/loop -> g``) ends at once instead of descending 40 levels, and every file under a ``**`` is
matched once, under its shortest path without links when it has one (``**/**`` is ``**``)."""

from __future__ import annotations

import glob
import os
from collections import deque
from collections.abc import Iterator

_MAGIC = frozenset("*?[")


def matches(pattern: str) -> list[str]:
    """The paths ``pattern`` matches, unsorted and each once; hidden names (a leading '.') are matched only by a
    pattern part that starts with '.', and ``**`` descends into no hidden folder (as :func:`glob.glob`)."""
    parts = (pattern.replace(os.altsep, os.sep) if os.altsep else pattern).split(os.sep)
    parts = [p for k, p in enumerate(parts) if not (p == "**" and k and parts[k - 1] == "**")]  # **/** is **
    if "**" not in parts:
        return glob.glob(pattern)
    at = parts.index("**")
    head = os.sep.join(parts[:at]) or (os.sep if pattern.startswith(os.sep) else "")
    rest = os.sep.join(parts[at + 1 :])
    if _MAGIC.isdisjoint(head):
        bases = [head] if not head or os.path.isdir(head) else []
    else:
        bases = [base for base in glob.glob(head) if os.path.isdir(base)]
    found: dict[str, None] = {}
    for base in bases:
        for folder in _folders(base):
            if rest:
                found.update(dict.fromkeys(matches(os.path.join(glob.escape(folder), rest))))
                continue
            if folder:
                found[os.path.join(folder, "") if folder == base else folder] = None  # glob's 'g/' for 'g/**'
            found.update(dict.fromkeys(glob.glob(os.path.join(glob.escape(folder), "*"))))
    return list(found)


def _folders(base: str) -> Iterator[str]:
    """``base`` ('' for the current folder) and its folders below, hidden ones left out, each real folder once:
    the folders reached without a link first (breadth first), then those only a link reaches."""
    seen: set[str] = set()
    plain: deque[str] = deque([base])
    linked: deque[str] = deque()
    while plain or linked:
        folder = plain.popleft() if plain else linked.popleft()
        real = os.path.realpath(folder or os.curdir)
        if real in seen:
            continue
        seen.add(real)
        yield folder
        try:
            with os.scandir(folder or os.curdir) as entries:
                children = sorted((e.name, e.is_symlink()) for e in entries if e.name[0] != "." and _is_dir(e))
        except OSError:  # unreadable: glob.glob skips it too
            continue
        for name, link in children:
            (linked if link else plain).append(os.path.join(folder, name))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
