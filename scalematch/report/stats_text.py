"""Plain-text rendering of :func:`scalematch.dataset.stats.summarize` output (apart from the computation)."""

from __future__ import annotations

from typing import Any

from scalematch._text import cut_columns, padded
from scalematch.dataset.resize import resize_words
from scalematch.report.style import NAME_COLUMNS as _NAME_COLUMNS
from scalematch.report.style import printable as _printable
from scalematch.report.style import shown_name

_Q = ("min", "q05", "q25", "q50", "q75", "q95", "max")
_COUNTS = (("n", 6), ("small", 8), ("medium", 8), ("large", 8), ("size_in q50", 12))
"""The per-category table's columns after the name, right-aligned, with their least widths."""


def _num(v: float | int | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def _qrow(label: str, q: dict[str, Any]) -> str:
    return f"  {label:<12}" + "".join(f"{_num(q[k]):>9}" for k in _Q)


def render(s: dict[str, Any], by_category: bool = False) -> str:
    """A human-readable report of the statistics ``s``."""
    excluded = ", ".join(f"{k} {v}" for k, v in s["excluded"].items()) or "none"
    sc = s["size_classes"]
    n = s["annotations"]

    def pct(k: str) -> str:
        return f"{sc[k]} ({100 * sc[k] / n:.1f}%)" if n else "0"

    opi = s["objects_per_image"]
    lines = [
        f"{_printable(str(s['source']))} ({s['format']}), {resize_words(s['resize'])}",
        f"images {s['images']} ({s['images_without_objects']} without objects), annotations {n}, "
        f"crowd {s['crowd']}, categories {s['categories']}",
        f"excluded: {excluded}",
        f"COCO size classes (annotation area): small {pct('small')}, medium {pct('medium')}, large {pct('large')}",
        f"objects per image: mean {_num(opi['mean'])}, median {_num(opi['q50'])}, max {_num(opi['max'])}",
        f"boxes below 8 input px (sqrt(w_in*h_in)): {s['size_in_below_8']}",
        "input pixels" + " " * 6 + "".join(f"{k:>9}" for k in _Q),
        _qrow("size_in", s["size_in"]),
    ]
    if "size_in_hi" in s:
        lines.append(_qrow("size_in_hi", s["size_in_hi"]))
    lines += [_qrow("w_in", s["w_in"]), _qrow("h_in", s["h_in"]), _qrow("aspect w/h", s["aspect"])]
    if by_category:
        lines += _category_lines(s["per_category"])
    return "\n".join(lines)


def _category_lines(per_category: list[dict[str, Any]]) -> list[str]:
    """The per-category table: its head, then a line per category (id, name, counts, median ``size_in``), each
    column as wide as its widest cell (an id of more than 5 digits, a count of more than 6, widens its column
    instead of shifting its line)."""
    rows = [
        (
            str(c["id"]),
            padded(cut_columns(shown_name(c["name"]), _NAME_COLUMNS), _NAME_COLUMNS),
            *(str(v) for v in (c["annotations"], *(c["size_classes"][k] for k in ("small", "medium", "large")))),
            _num(c["size_in"]["q50"]),
        )
        for c in per_category
    ]
    ids = max([5, *(len(r[0]) for r in rows)])
    widths = [max([least, *(len(r[k]) for r in rows)]) for k, (_, least) in enumerate(_COUNTS, start=2)]
    head = "per category".ljust(2 + ids + 1 + _NAME_COLUMNS)
    lines = [head + "".join(f" {h:>{w}}" for (h, _), w in zip(_COUNTS, widths, strict=True))]
    for r in rows:
        lines.append(f"  {r[0]:>{ids}} {r[1]}" + "".join(f" {v:>{w}}" for v, w in zip(r[2:], widths, strict=True)))
    return lines
