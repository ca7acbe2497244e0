"""Plain-text rendering of :func:`scalematch.dataset.stats.summarize` output (apart from the computation)."""

from __future__ import annotations

from typing import Any

from scalematch._text import cut_columns, padded
from scalematch.report.style import printable as _printable
from scalematch.report.style import shown_name

_Q = ("min", "q05", "q25", "q50", "q75", "q95", "max")
_NAME_COLUMNS = 24
"""The terminal columns of the per-category table's name column; a wider name is cut
(:func:`~scalematch._text.cut_columns`)."""


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
        f"{_printable(str(s['source']))} ({s['format']}), resize {s['resize']}",
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
        lines.append("per category" + " " * _NAME_COLUMNS + "n    small   medium    large  size_in q50")
        for c in s["per_category"]:
            cs = c["size_classes"]
            name = padded(cut_columns(shown_name(c["name"]), _NAME_COLUMNS), _NAME_COLUMNS)
            lines.append(
                f"  {c['id']:>5} {name} {c['annotations']:>6} {cs['small']:>8} "
                f"{cs['medium']:>8} {cs['large']:>8} {_num(c['size_in']['q50']):>12}"
            )
    return "\n".join(lines)
