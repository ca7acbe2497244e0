"""Text that every output can hold: a name from the data or a path as given (a Latin-1 file name, which Python
reads as ``'caf\\udce9.json'``) may carry lone surrogates, which no output encoding accepts and strict JSON readers
(msgspec, serde_json) refuse."""

from __future__ import annotations

import json
import reprlib


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
    text = int_text(name) if type(name) is int else str(name)  # (str() of an int of 5,000 digits raises)
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


_EXACT_BITS = 1_000_000
"""The integers whose digits :func:`int_digits` counts exactly (up to about 301,000 digits: one power of 10 computed,
a quarter of a second at most); a longer one is counted from its length in bits."""


def int_digits(value: int) -> tuple[int, bool]:
    """The number of decimal digits of ``abs(value)`` and whether that count is exact, without ``str()`` (which
    refuses an integer of more digits than ``sys.get_int_max_str_digits()``, 4,300 by default: one that a YAML
    ``0x...`` or plain arithmetic, ``7 * 10**5000``, makes without a conversion). The count comes from the length in
    bits (one digit per log2(10) bits, within one), checked against a power of 10 up to :data:`_EXACT_BITS` bits."""
    bits = abs(value).bit_length()
    if bits <= 1:
        return 1, True
    estimate = int((bits - 1) * 0.30102999566398120) + 1  # log10(2): 2^(bits-1) <= |value| < 2^bits
    if bits > _EXACT_BITS:
        return estimate, False
    if abs(value) >= 10**estimate:
        return estimate + 1, True
    return estimate, True


def converts(value: int) -> bool:
    """Whether ``str(value)`` works: Python converts an integer of at most ``sys.get_int_max_str_digits()`` digits
    (4,300 by default; 0 is no limit)."""
    import sys

    limit = sys.get_int_max_str_digits()
    return not limit or abs(value).bit_length() <= 3 * limit or int_digits(value)[0] <= limit


def int_text(value: int) -> str:
    """An integer as a message shows it: its digits (``str(value)``), or, when it has more digits than Python
    converts, ``an integer of 5,001 digits`` (``about`` them beyond :data:`_EXACT_BITS` bits)."""
    if converts(value):
        return str(value)
    count, exact = int_digits(value)
    sign = "a negative" if value < 0 else "an"
    return f"{sign} integer of {'' if exact else 'about '}{count:,} digits"


def safe_repr(value: object) -> str | None:
    """``repr(value)`` for an error message, or None when it cannot be had: the value's own ``__repr__`` raises
    or returns no text. An integer too long for ``str()`` is shown as :func:`int_text` says; inside a list, tuple,
    set or dict (whose ``repr`` would raise for it) as ``<an integer of 5,001 digits>``, the rest of the container
    as :mod:`reprlib` shows it."""
    if isinstance(value, int) and not isinstance(value, bool) and not converts(value):
        return int_text(value)
    try:
        text = repr(value)
    except Exception:  # ValueError of an integer inside, ZeroDivisionError, TypeError (no text), RecursionError
        if not isinstance(value, list | tuple | set | frozenset | dict):
            return None
        return _Fallback().repr(value)
    return text if isinstance(text, str) else None


class _Fallback(reprlib.Repr):
    """reprlib's bounded repr, with an integer too long for ``str()`` as ``<an integer of N digits>`` and any other
    item whose repr fails as reprlib shows it (``<R instance at 0x...>``)."""

    def repr_int(self, x: int, level: int) -> str:
        return f"<{int_text(x)}>" if not converts(x) else super().repr_int(x, level)


def described(value: object, limit: int) -> str:
    """``value`` as an error message quotes it: its :func:`safe_repr` cut to ``limit`` characters with a final
    ``...``; ``an object of type X (its repr failed)`` when it has none."""
    text = safe_repr(value)
    if text is None:
        return f"an object of {type_words(value)} (its repr failed)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_words(value: object) -> str:
    """``type X`` for the type of ``value``, as messages name it; ``a class without a name`` for a class whose
    ``__name__`` is empty, and the name quoted (``type 'a\\nb'``) when it is not printable."""
    name = type(value).__name__
    if not name:
        return "a class without a name"
    return f"type {name}" if name.isprintable() else f"type {name!r}"
