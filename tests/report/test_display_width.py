"""Text tables measure their cells in terminal columns, not characters: a CJK character or an emoji takes two
columns, a combining mark none (``str.ljust`` counted ``汽车`` as 2 and ``cafe`` + U+0301 as 5, so every cell after
such a name started one or two columns off). The oracle below knows each character's width from the block it was
drawn from, not from :mod:`unicodedata`."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch._text import cut_columns, cut_head, cut_name, display_width, padded
from scalematch.report.style import printable
from scalematch.report.table import aligned

ASCII = string.ascii_letters + string.digits + "-_()/"  # (no dot: "..." marks a cut)
BLOCKS: dict[int, list[str]] = {
    1: [*ASCII, *(chr(c) for c in range(0xE0, 0x100) if c != 0xF7), *(chr(c) for c in range(0x410, 0x450))],
    2: [
        *(chr(c) for c in range(0x4E00, 0xA000, 7)),  # CJK unified ideographs
        *(chr(c) for c in range(0x3041, 0x3097)),  # hiragana
        *(chr(c) for c in range(0xAC00, 0xD7A4, 11)),  # Hangul syllables
        *(chr(c) for c in range(0xFF21, 0xFF3B)),  # fullwidth Latin capitals
        *(chr(c) for c in range(0x1F600, 0x1F650)),  # emoticons
        "🚗",
    ],
    0: [chr(c) for c in range(0x300, 0x370)],  # combining diacritical marks
}
WIDTH = {ch: w for w, chars in BLOCKS.items() for ch in chars}
ESCAPED = ["\u200b", "\n", "\x1b"]
"""Characters a table shows as their escapes (``\\u200b``, ``\\n``, ``\\x1b``): ASCII, a column each."""


def oracle(text: str) -> int:
    """The columns ``text`` (as a table prints it) takes: each character's width by the block it comes from."""
    return sum(1 if ch.isascii() else WIDTH[ch] for ch in text)


NAMES = st.text(st.sampled_from([*WIDTH, *ESCAPED]), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.lists(NAMES, min_size=k, max_size=k), min_size=1, max_size=6), st.integers(0, k)
        )
    )
)
def test_every_column_starts_at_the_same_place_on_each_line(table: tuple[list[list[str]], int]) -> None:
    rows, left = table
    lines = aligned(rows, left=left).split("\n")
    assert len(lines) == len(rows)
    starts, ends = [], []
    for line, row in zip(lines, rows, strict=True):
        cells = line.split()  # (the names hold no space: each run of spaces parts two cells)
        assert cells == [printable(c) for c in row]
        at, spans, rest = 0, [], line
        for cell in cells:
            gap = len(rest) - len(rest.lstrip(" "))
            start = at + gap
            spans.append((start, start + oracle(cell)))
            at = start + oracle(cell)
            rest = rest[gap + len(cell) :]
        starts.append([s for s, _ in spans])
        ends.append([e for _, e in spans])
    for j in range(len(rows[0])):
        edge = [s[j] for s in starts] if j < left else [e[j] for e in ends]
        assert len(set(edge)) == 1, (j, edge, lines)
        if j:
            widest = max(e[j - 1] for e in ends)
            assert min(s[j] for s in starts) >= widest + 2 or j >= left  # two spaces after the widest cell
    assert all(line == line.rstrip() for line in lines)


def test_the_width_of_the_names_of_the_example() -> None:
    assert [display_width(n) for n in ("汽车", "🚗 car", "cafe\u0301", "a\u200bb", "person")] == [4, 6, 4, 2, 6]
    assert display_width(printable("a\u200bb")) == 8  # (as a table shows it: a\u200bb)
    assert display_width("\u1100\u1161\u11a8") == 2  # decomposed Hangul: one syllable of two columns
    assert [padded("汽车", 6), padded("cafe\u0301", 6, right=True)] == ["汽车  ", "  cafe\u0301"]
    assert padded("汽车汽车", 6) == "汽车汽车"


def test_the_example_table() -> None:
    rows = [("name", "n"), ("汽车", "1"), ("🚗 car", "22"), ("cafe\u0301", "3"), ("a\u200bb", "4")]
    assert aligned(rows).split("\n") == [
        "name       n",
        "汽车       1",
        "🚗 car    22",
        "cafe\u0301       3",
        "a\\u200bb   4",
    ]


@settings(max_examples=300, deadline=None)
@given(NAMES.map(printable) | st.text(st.sampled_from([*WIDTH, *ESCAPED]), min_size=10, max_size=60).map(printable))
def test_a_cut_name_fits_its_columns_and_keeps_its_pieces_whole(shown: str) -> None:
    limit = 24
    cut = cut_columns(shown, limit)
    if oracle(shown) <= limit:
        assert cut == shown
        return
    head, tail = cut.split("...")
    assert shown.startswith(head) and shown.endswith(tail)
    assert oracle(cut) <= limit
    assert oracle(head) <= 14 and oracle(tail) <= 7
    if "\\" not in shown:  # (a part is then at most a wide character short of its share)
        assert oracle(cut) >= limit - 2
    # no part parts a letter from its combining mark, nor an escape in two
    assert len(head) == len(shown) or unicodedata.category(shown[len(head)]) != "Mn"
    assert not tail or unicodedata.category(tail[0]) != "Mn"
    assert _whole_escapes(shown, len(head)) and _whole_escapes(shown, len(shown) - len(tail))


def _whole_escapes(shown: str, at: int) -> bool:
    """Whether ``at`` is no index inside one of the escapes (or doubled backslashes) of ``shown``."""
    k = 0
    while k < len(shown):
        if shown[k] != "\\":
            k += 1
            continue
        size = {"x": 4, "u": 6, "U": 10}.get(shown[k + 1], 2)
        if k < at < k + size:
            return False
        k += size
    return True


def test_a_wide_name_is_cut_by_its_columns() -> None:
    long = "这是一个非常长的类别名称用于测试截断效果"
    assert cut_columns(long, 24) == "这是一个非常长...断效果"  # 14 + 3 + 6 columns
    assert cut_columns("e\u0301" * 30, 24) == "e\u0301" * 14 + "..." + "e\u0301" * 7
    assert cut_columns("a\\u200b" * 5, 24) == "a\\u200ba\\u200b...a\\u200b"  # (7 columns each: never \\u2)


def test_a_cut_for_a_message_parts_no_letter_from_its_mark() -> None:
    name = "e\u0301" * 200
    cut = cut_name(name)
    head, tail = cut.split("...")
    assert head == "e\u0301" * 20 and tail == "e\u0301" * 10
    odd = "x" + name  # (the 40th character is an e, the 41st its mark: the head ends before that e)
    assert cut_name(odd).split("...")[0] == "x" + "e\u0301" * 19
    assert cut_head("ab" + "e\u0301" * 10, 6) == "ab..."
    assert cut_head("abe\u0301", 6) == "abe\u0301"
    from scalematch.report.style import figure_label

    assert figure_label("x" * 38 + "e\u0301" * 3) == "x" * 38 + "…"  # (not x...xe…, the e without its acute)


def test_the_widths_are_the_c_librarys() -> None:
    """:func:`display_width` counts as the C library's ``wcwidth`` (glibc, in a UTF-8 locale) over the settled
    blocks: Latin, Cyrillic, combining marks, CJK, kana, Hangul (its decomposed jamo too), fullwidth forms,
    emoticons. (Blocks whose width changed between Unicode versions are left out: glibc and Python may not
    carry the same one.)"""
    import ctypes
    import ctypes.util
    import locale

    found = ctypes.util.find_library("c")
    if found is None or not hasattr(ctypes.CDLL(found), "wcwidth"):
        pytest.skip("no C library with wcwidth")
    libc = ctypes.CDLL(found)
    libc.wcwidth.argtypes = [ctypes.c_wchar]
    libc.wcwidth.restype = ctypes.c_int
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        try:
            locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
        except locale.Error:
            pytest.skip("no C.UTF-8 locale")
        blocks = [(0x20, 0x7F), (0xA1, 0x250), (0x300, 0x370), (0x400, 0x530), (0x1100, 0x1200), (0x3041, 0x3097)]
        blocks += [(0x30A1, 0x30FB), (0x4E00, 0xA000), (0xAC00, 0xD7A4), (0xFF01, 0xFF61), (0x1F600, 0x1F650)]
        chars = [chr(c) for a, b in blocks for c in range(a, b) if chr(c).isprintable()]
        differ = [ch for ch in chars if display_width(ch) != libc.wcwidth(ch)]
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert len(chars) > 30_000 and differ == []
