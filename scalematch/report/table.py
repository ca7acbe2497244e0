"""Aligned plain-text tables, the one formatter every printed table uses."""

from __future__ import annotations

from collections.abc import Sequence

from scalematch._text import display_width, padded


def aligned(rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Rows of cells in columns two spaces apart: the first ``left`` columns left-aligned, the rest
    right-aligned (numbers); trailing spaces removed. A cell's control characters (a level or node name from a
    config) are shown as escapes (:func:`~scalematch.report.style.printable`), and cells are measured in the
    columns a terminal gives their characters (:func:`~scalematch._text.display_width`: a CJK character or an
    emoji takes two, a combining mark none), so that every column starts at the same place on each line."""
    from scalematch.report.style import printable

    rows = [[printable(c) for c in r] for r in rows]
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(padded(c, w, right=i >= left) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
        for r in rows
    )
