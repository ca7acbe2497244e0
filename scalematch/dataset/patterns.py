"""Glob patterns of input paths, expanded as :func:`glob.glob` expands them (``recursive=True``), except that
``**`` searches each real folder once: a link to a folder is followed only into a folder not searched before, so
a link loop (``g/sub/loop -> g``) ends at once instead of descending 40 levels, and every file under a ``**`` is
matched once, under its shortest path without links when it has one (``**/**`` is ``**``)."""

from __future__ import annotations

import fnmatch
import glob
import os
from collections import deque
from collections.abc import Iterable, Iterator

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


def matched_by(path: str | os.PathLike[str], patterns: Iterable[object], folder: bool = False) -> str | None:
    """The first of ``patterns`` (the inputs given: a pattern is one that :func:`scalematch.dataset.shards.expand`
    expands, ``*``, ``?`` or ``[`` in a name that does not exist as written) that matches ``path``, a file (or a
    ``folder``) that need not exist yet, as :func:`matches` would on a later run; None when none does. An output
    written there would be read as an input the next time the same command runs."""
    targets = [_parts(os.fspath(path)), _parts(os.path.realpath(path))]
    for pattern in patterns:
        text = os.fspath(pattern) if isinstance(pattern, str | os.PathLike) else None
        if text is None or _MAGIC.isdisjoint(text) or os.path.lexists(text):
            continue
        forms = [_parts(text), _real_head(text)]  # as written, and its folders before the first wildcard resolved
        if any(_match(form, target, folder) for form in forms for target in targets):
            return str(text)
        if _in_matched_folder(text, path, folder):
            return str(text)
    return None


def _in_matched_folder(pattern: str, path: str | os.PathLike[str], folder: bool) -> bool:
    """Whether ``path`` lies, links resolved, in a folder the folder part of ``pattern`` matches now, under a name
    its last part matches: a link below the first wildcard (``sh/*/*.json`` with ``sh/b`` a link to ``data``
    reads ``data/new.json``) is seen only by expanding the folders, as a later run will."""
    head, tail = os.path.split(pattern)
    name = os.path.basename(os.path.abspath(path))
    if not tail or tail == "**" or _MAGIC.isdisjoint(head) or not _match([tail], [name], folder):
        return False
    real = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    base, last = os.path.split(head)
    if last != "**":
        return any(os.path.isdir(d) and os.path.realpath(d) == real for d in matches(head))
    # a final ** reaches every folder below its base, links followed, and folders still to be made below them
    # (sh/b/rep for sh/**/*.json): walked once here, where matches(head) would walk them again
    bases = [b for b in (matches(base) if not _MAGIC.isdisjoint(base) else [base]) if not b or os.path.isdir(b)]
    for place in (f for b in bases for f in _folders(b)):  # every folder the ** reaches, links followed
        rel = os.path.relpath(real, os.path.realpath(place or os.curdir))
        parts = [] if rel == os.curdir else rel.split(os.sep)
        if parts[:1] != [os.pardir] and not any(p.startswith(".") for p in parts):  # ** enters no hidden folder
            return True
    return False


def _parts(path: str) -> list[str]:
    return [p for p in os.path.abspath(path).split(os.sep) if p]


def _real_head(pattern: str) -> list[str]:
    """The parts of ``pattern`` with the folders before its first wildcard resolved (``link/*.json`` for a link
    ``link`` to ``data``: ``/.../data/*.json``), so that an output is matched whatever name its folder is given."""
    parts = _parts(pattern)
    first = next((k for k, part in enumerate(parts) if not _MAGIC.isdisjoint(part)), len(parts))
    head = os.path.realpath(os.sep + os.sep.join(parts[:first]))
    return [p for p in head.split(os.sep) if p] + parts[first:]


def _match(pattern: list[str], path: list[str], folder: bool) -> bool:
    """Whether the parts of a pattern match the parts of a path: ``**`` any number of parts, none hidden (as the
    last part, none only for a folder: glob's ``a/**`` gives ``a/``, never a file ``a``), any other part one part
    (a hidden name only by a part that starts with '.' or has no wildcard)."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        for k in range(len(path) + 1):  # the parts the ** takes
            if k and path[k - 1][0] == ".":
                return False
            if (not rest and k == len(path) and (k or folder)) or (rest and _match(rest, path[k:], folder)):
                return True
        return False
    if not path or (path[0][0] == "." and head[0] != "." and not _MAGIC.isdisjoint(head)):
        return False
    return fnmatch.fnmatchcase(path[0], head) and _match(rest, path[1:], folder)
