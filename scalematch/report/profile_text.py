"""The ``scalematch profile`` table and JSON document (formatting only; the numbers come from the engine)."""

from __future__ import annotations

import textwrap
from fractions import Fraction

from scalematch._text import counted, cut_runs
from scalematch.profile.document import PROFILE_SCHEMA_VERSION as PROFILE_SCHEMA_VERSION
from scalematch.profile.document import number as _num
from scalematch.profile.document import profile_json as profile_json
from scalematch.profile.engine import FeatureMap, Profile
from scalematch.profile.layers import describe, type_name
from scalematch.profile.summary import AxisSummary
from scalematch.report.style import printable
from scalematch.report.table import aligned


def _cell(fm: FeatureMap, get: str, fmt: str = "{}") -> str:
    if fm.y is None or fm.x is None:
        return "-"

    def one(axis: AxisSummary) -> str:
        value = getattr(axis, get)
        return fmt.format(_num(value)) if not isinstance(value, Fraction) or value.denominator == 1 else f"{value}"

    y, x = one(fm.y), one(fm.x)
    return y if y == x else f"{x}x{y}"  # width first, as every size in scalematch


COLUMNS = ("name", "out", "type", "layer", "stride", "rf", "pad", "scale", "overlap", "erf_sigma", "size")


def profile_rows(profile: Profile, outputs_only: bool = False) -> list[tuple[str, ...]]:
    """One row of strings per feature map (the table body); names from a config or a model are
    :func:`~scalematch.report.style.printable` (a control character shows as its escape)."""
    rows: list[tuple[str, ...]] = []
    for fm in profile.feature_maps:
        if outputs_only and fm.tap is None:
            continue
        rows.append(
            (
                printable(fm.name),
                printable(fm.tap or ""),
                printable(type_name(fm.layer)),
                printable(describe(fm.layer)),
                _cell(fm, "stride"),
                _cell(fm, "rf"),
                _cell(fm, "padding"),
                _cell(fm, "union"),
                _cell(fm, "overlap", "{:.3f}"),
                _cell(fm, "erf_sigma", "{:.1f}"),
                f"{fm.size[1]}x{fm.size[0]}" if fm.size else "-",
            )
        )
    return rows


def profile_table(profile: Profile, outputs_only: bool = False) -> str:
    """The aligned plain-text table printed by ``scalematch profile``."""
    rows = [COLUMNS, *profile_rows(profile, outputs_only)]
    lines = aligned(rows, left=4).split("\n")
    size = f", input {profile.input_size[1]}x{profile.input_size[0]} (WxH)" if profile.input_size else ""
    head = [f"{printable(profile.name)}: {counted(len(profile.feature_maps), 'feature map')}{size}"]
    if profile.convention:
        head += [
            textwrap.fill(cut_runs(printable(line)), 110, initial_indent="  ", subsequent_indent="  ")
            for line in profile.convention.splitlines()
        ]
    tail = [f"warning: {printable(w)}" for w in profile.warnings]
    return "\n".join([*head, "", *lines, *(["", *tail] if tail else [])])
