"""Text that every output can hold: a name from the data or a path as given (a Latin-1 file name, which Python
reads as ``'caf\\udce9.json'``) may carry lone surrogates, which no output encoding accepts and strict JSON readers
(msgspec, serde_json) refuse."""

from __future__ import annotations

import json


def text_of(value: str) -> str:
    """A name from the data or a path as printable text: lone surrogates (JSON ``"\\ud800"``, or the escapes of the
    bytes of a file name that is not UTF-8), which no output encoding accepts, become U+FFFD."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def valid(document: object) -> object:
    """``document`` (dicts, lists and tuples of JSON values) with every text in it, keys too, as :func:`text_of`
    makes it."""
    if isinstance(document, str):
        return text_of(document)
    if isinstance(document, dict):
        return {valid(k) if isinstance(k, str) else k: valid(v) for k, v in document.items()}
    if isinstance(document, list | tuple):
        return [valid(v) for v in document]
    return document


def dumps(document: object) -> str:
    """``document`` as the JSON text every ``--json`` output and report file writes (indented by 2): valid Unicode,
    each lone surrogate of a name or path as U+FFFD."""
    return json.dumps(valid(document), indent=2)


NAME_LIMIT = 255
"""The longest path or name an error message shows whole (the longest file name a file system holds)."""


def cut_name(name: object, limit: int = NAME_LIMIT) -> str:
    """A path or name as an error message shows it: whole up to ``limit`` (:data:`NAME_LIMIT`) characters, a longer
    one as its first 40 and last 20 characters around ``...`` (a 10,000-character ``--plot`` name would make a 10 KB
    line); for a ``limit`` below 63, its first two thirds and last third of ``limit - 3`` characters around ``...``
    (a text table's column: names that differ at their end stay apart)."""
    text = str(name)
    if len(text) <= limit:
        return text
    keep = min(limit, 63) - 3
    head = keep * 2 // 3
    return f"{text[:head]}...{text[len(text) - (keep - head) :]}"


def cut_words(text: str) -> str:
    """An error line with every value or name it quotes whole at more than :data:`NAME_LIMIT` characters (a
    5,000-digit ``--levels P9...``, a 10,000-character file name) shown as :func:`cut_name` shows it, its first 40
    and last 20 characters around ``...``: a text in single quotes (``'a b ...'``, after a space or a bracket and
    before a space or a punctuation mark) and any run of characters without a space. The line stays short and
    shows where it was cut."""
    import re

    quoted = rf"(?<![^\s(\[])'([^'\n]{{{NAME_LIMIT + 1},}})'(?![^\s:;,.)\]])"
    text = re.sub(quoted, lambda m: f"'{cut_name(m.group(1))}'", text)
    return re.sub(rf"\S{{{NAME_LIMIT + 1},}}", lambda m: cut_name(m.group()), text)


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n word`` in the plural unless ``n`` is 1 (``1 object``, ``2 objects``); the plural is ``word`` with an
    ``s`` unless given (``counted(n, 'category', 'categories')``)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
