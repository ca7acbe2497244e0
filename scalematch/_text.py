"""Text that every output can hold: a name from the data or a path as given (a Latin-1 file name, which Python
reads as ``'caf\\udce9.json'``) may carry lone surrogates, which no output encoding accepts and strict JSON readers
(msgspec, serde_json) refuse."""

from __future__ import annotations

import json
import re
import reprlib
import unicodedata


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


_CUT_HEAD, _CUT_TAIL = 40, 20
"""The characters :func:`cut_name` keeps of a longer path or name: its first 40 and last 20."""


def cut_name(name: object) -> str:
    """A path or name as an error message shows it: whole up to :data:`NAME_LIMIT` characters, a longer one as its
    first 40 and last 20 characters around ``...`` (a 10,000-character ``--plot`` name would make a 10 KB line).
    Neither part parts a character from its combining marks (:func:`cut_head`): a head that would end before the
    mark of ``e`` + U+0301 ends before the ``e``, a tail that would start with the mark starts after it."""
    text = int_text(name) if type(name) is int else str(name)  # (str() of an int of 5,000 digits raises)
    if len(text) <= NAME_LIMIT:
        return text
    tail = _boundary(text, len(text) - _CUT_TAIL, forward=True)
    return f"{text[: _boundary(text, _CUT_HEAD, forward=False)]}...{text[tail:]}"


def cut_head(text: str, limit: int, end: str = "...") -> str:
    """``text`` whole up to ``limit`` characters, a longer one as its first characters and ``end``, in ``limit``
    characters at most. The cut never parts a character from the combining marks after it (U+0301 of ``e`` +
    U+0301, a vowel of decomposed Hangul): the head then ends before that character."""
    if len(text) <= limit:
        return text
    return text[: _boundary(text, max(limit - len(end), 0), forward=False)] + end


def char_width(ch: str) -> int:
    """The columns a terminal gives the character ``ch``, as the C library's ``wcwidth`` counts them, from
    Python's Unicode database (the one :func:`~scalematch.report.style.printable` decides by):

    - 2 for an East Asian wide or fullwidth character (``unicodedata.east_asian_width`` W or F: CJK ideographs,
      kana, Hangul syllables, fullwidth forms, the emoji drawn as emoji by default, ``汽``, ``🚗``);
    - 0 for a combining mark (categories Mn and Me: the acute of ``e`` + U+0301, a variation selector), a format
      character (Cf: U+200B ZERO WIDTH SPACE, U+200D ZERO WIDTH JOINER), a vowel or final consonant of decomposed
      Hangul (U+1160-U+11FF, U+D7B0-U+D7FF: drawn inside their syllable's two columns), and the characters text
      output never holds raw (control characters, line and paragraph separators, surrogates, private use and
      unassigned code points, which :func:`~scalematch.report.style.printable` shows as escapes);
    - 1 for every other, the East Asian ambiguous ones too (``°``, ``α``: two columns only in a terminal set up
      for CJK).

    Terminals differ on emoji sequences: an emoji with a skin tone counts as its two emoji (4), a text-style
    symbol followed by U+FE0F as the symbol alone (``❤`` + U+FE0F is 1)."""
    if " " <= ch <= "~":
        return 1
    if _hangul_vowel(ch):
        return 0
    kind = unicodedata.category(ch)
    if kind in ("Mn", "Me") or kind[0] == "C" or kind in ("Zl", "Zp"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal: the sum of its characters' :func:`char_width` (``汽车`` 4,
    ``🚗 car`` 6, ``cafe`` + U+0301 4). Text tables measure their cells with it, after their control characters
    are escaped."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(map(char_width, text))


def padded(text: str, width: int, right: bool = False) -> str:
    """``text`` with spaces after it (before it: ``right``) up to ``width`` :func:`display_width` columns; a
    wider text is left as it is. ``str.ljust`` counts characters, which misaligns a column of ``汽车`` (2
    characters, 4 columns) and ``cafe`` + U+0301 (5 characters, 4 columns)."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill


_UNIT = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|.)|.", re.DOTALL)
"""A piece of shown text that a cut keeps whole: one character, or a backslash escape as ``ascii()`` writes it
(``\\x1b``, ``\\u200b``, ``\\U0001f697``, ``\\n``) or a doubled backslash (``\\\\``)."""


def cut_columns(text: str, limit: int) -> str:
    """``text`` (shown text: its control characters escaped) whole when it takes at most ``limit`` columns
    (:func:`display_width`), a wider one as its first two thirds and last third of ``limit - 3`` columns around
    ``...``, so that names that differ at their end stay apart in a text table's column. The cut keeps a wide
    character's two columns together (a part one column short of its share is padded by the table), a
    character with its combining marks (neither part starts with a dangling mark) and an escape whole
    (``\\u200b`` is never cut to ``\\u2``)."""
    if display_width(text) <= limit:
        return text
    keep = max(limit - 3, 0)
    head_room = keep * 2 // 3
    tail_room = keep - head_room
    pieces = _clusters(text)
    head: list[str] = []
    for piece in pieces:
        head_room -= display_width(piece)
        if head_room < 0:
            break
        head.append(piece)
    tail: list[str] = []
    for piece in reversed(pieces[len(head) :]):
        tail_room -= display_width(piece)
        if tail_room < 0:
            break
        tail.append(piece)
    return "".join(head) + "..." + "".join(reversed(tail))


def _clusters(text: str) -> list[str]:
    """``text`` in the pieces a cut keeps whole: each :data:`_UNIT` with the combining marks after it."""
    starts = [m.start() for m in _UNIT.finditer(text) if m.end() - m.start() > 1 or not _attaches(m.group())]
    if not starts or starts[0]:
        starts.insert(0, 0)  # (marks at the start, with no character before them, are a piece of their own)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _attaches(ch: str) -> bool:
    """Whether ``ch`` belongs with the character before it: a combining mark (Mn, Mc, Me) or a vowel or final
    consonant of decomposed Hangul."""
    return unicodedata.category(ch)[0] == "M" or _hangul_vowel(ch)


def _hangul_vowel(ch: str) -> bool:
    return "\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff"


def _boundary(text: str, at: int, forward: bool) -> int:
    """The index nearest ``at`` (forward or back) where ``text`` can be cut without parting a character from the
    marks that :func:`_attaches` to it: ``at`` itself unless ``text[at]`` is such a mark; back, the index of the
    character the mark belongs to (so that a head ends before it); forward, the first index after the marks."""
    step = 1 if forward else -1
    while 0 < at < len(text) and _attaches(text[at]):
        at += step
    return at


def cut_words(text: str) -> str:
    """An error line with every value or name it quotes whole at more than :data:`NAME_LIMIT` characters (a
    5,000-digit ``--levels P9...``, a 10,000-character file name) shown as :func:`cut_name` shows it, its first 40
    and last 20 characters around ``...``: a text in single quotes (``'a b ...'``, after a space or a bracket and
    before a space or a punctuation mark) and any run of characters without a space. The line stays short and
    shows where it was cut."""
    quoted = rf"(?<![^\s(\[])'([^'\n]{{{NAME_LIMIT + 1},}})'(?![^\s:;,.)\]])"
    return cut_runs(re.sub(quoted, lambda m: f"'{cut_name(m.group(1))}'", text))


_RUN = re.compile(rf"\S{{{NAME_LIMIT + 1},}}")
"""A run of more than :data:`NAME_LIMIT` characters without a space."""


def cut_runs(text: str) -> str:
    """``text`` with every run of more than :data:`NAME_LIMIT` characters without a space shown as
    :func:`cut_name` shows it (its first 40 and last 20 characters around ``...``); shorter runs and the spaces
    stay as they are. Text from a config or the data goes through it before ``textwrap`` wraps it: ``textwrap``
    takes time quadratic in the length of its longest word (a word of 5,000,000 characters in a config's
    ``convention`` took 6 seconds to wrap, one twice as long four times that). Given
    :func:`~scalematch.report.style.printable` text, whose only space is the ASCII one (a tab, a no-break space
    are shown as escapes), a run is what ``textwrap`` takes for one word."""
    return _RUN.sub(lambda m: cut_name(m.group()), text)


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


KEPT_DIGITS = 600
"""The digits kept of an integer literal longer than Python converts (:func:`first_digits`): fewer than the smallest
limit Python takes (640), more than a double's 309."""


def first_digits(literal: str) -> int:
    """A decimal integer literal (digits after an optional ``+`` or ``-``) of more digits than Python converts, as
    the integer of its first :data:`KEPT_DIGITS` digits and its sign: still beyond a double, 64 bits and any range a
    value is checked against, so every check treats it as one of hundreds of digits (without changing the
    interpreter's limit), and its repr starts as the literal does."""
    digits = literal.lstrip("+-")
    return (-1 if literal.startswith("-") else 1) * int(digits[:KEPT_DIGITS])


def safe_repr(value: object) -> str | None:
    """``repr(value)`` for an error message, or None when it cannot be had: the value's own ``__repr__`` raises
    or returns no text. An integer too long for ``str()`` is shown as :func:`int_text` says; inside a list, tuple,
    set or dict (whose ``repr`` would raise for it) as ``<an integer of 5,001 digits>``, the rest of the container
    as :mod:`reprlib` shows it."""
    try:
        text = repr(value)
    except Exception:  # ValueError of a long integer (or one inside), ZeroDivisionError, TypeError (no text)...
        if isinstance(value, int) and not converts(value):
            return int_text(value)
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
    return cut_head(text, limit)


def type_words(value: object) -> str:
    """``type X`` for the type of ``value``, as messages name it; ``a class without a name`` for a class whose
    ``__name__`` is empty, and the name quoted (``type 'a\\nb'``) when it is not printable."""
    name = type(value).__name__
    if not name:
        return "a class without a name"
    return f"type {name}" if name.isprintable() else f"type {name!r}"
