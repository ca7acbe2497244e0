"""The ``scalematch profile`` table and JSON document (formatting only; the numbers come from the engine)."""

from __future__ import annotations

import textwrap
from fractions import Fraction
from typing import Any

from scalematch.profile.engine import FeatureMap, Profile
from scalematch.profile.layers import describe, type_name
from scalematch.profile.summary import AxisSummary
from scalematch.report.table import aligned

PROFILE_SCHEMA_VERSION = 1


def _num(value: Fraction | int | float) -> int | float:
    """Integers stay integers; fractions become floats."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _pair(fm: FeatureMap, field: str, digits: int | None = None) -> list[int | float] | None:
    if fm.y is None or fm.x is None:
        return None
    values = [_num(getattr(axis, field)) for axis in (fm.y, fm.x)]
    return [round(v, digits) for v in values] if digits is not None else values


def profile_json(profile: Profile, neck: str | None = None) -> dict[str, Any]:
    """The documented ``--json`` document (see docs/reference/profile.md, "--json")."""
    return {
        "backbone": profile.name.split("+")[0],
        "neck": neck,
        "input_size": list(profile.input_size) if profile.input_size else None,
        "feature_maps": [
            {
                "name": fm.name,
                "type": type_name(fm.layer),
                "stride": _pair(fm, "stride"),
                "rf": _pair(fm, "rf"),
                "padding": _pair(fm, "padding"),
                "center": _pair(fm, "center"),
                "spatial_scale": _pair(fm, "union"),
                "spatial_scale_area": fm.area,
                "overlap": _pair(fm, "overlap", 6),
                "erf_sigma": _pair(fm, "erf_sigma", 4),
                "size": list(fm.size) if fm.size else None,
                "tap": fm.tap is not None,
                "output": fm.tap,
            }
            for fm in profile.feature_maps
        ],
        "warnings": list(profile.warnings),
    }


def _cell(fm: FeatureMap, get: str, fmt: str = "{}") -> str:
    if fm.y is None or fm.x is None:
        return "-"

    def one(axis: AxisSummary) -> str:
        value = getattr(axis, get)
        return fmt.format(_num(value)) if not isinstance(value, Fraction) or value.denominator == 1 else f"{value}"

    y, x = one(fm.y), one(fm.x)
    return y if y == x else f"{y}x{x}"


COLUMNS = ("name", "out", "type", "layer", "stride", "rf", "pad", "scale", "overlap", "erf_sigma", "size")


def profile_rows(profile: Profile, outputs_only: bool = False) -> list[tuple[str, ...]]:
    """One row of strings per feature map (the table body)."""
    rows: list[tuple[str, ...]] = []
    for fm in profile.feature_maps:
        if outputs_only and fm.tap is None:
            continue
        rows.append(
            (
                fm.name,
                fm.tap or "",
                type_name(fm.layer),
                describe(fm.layer),
                _cell(fm, "stride"),
                _cell(fm, "rf"),
                _cell(fm, "padding"),
                _cell(fm, "union"),
                _cell(fm, "overlap", "{:.3f}"),
                _cell(fm, "erf_sigma", "{:.1f}"),
                f"{fm.size[0]}x{fm.size[1]}" if fm.size else "-",
            )
        )
    return rows


def profile_table(profile: Profile, outputs_only: bool = False) -> str:
    """The aligned plain-text table printed by ``scalematch profile``."""
    rows = [COLUMNS, *profile_rows(profile, outputs_only)]
    lines = aligned(rows, left=4).split("\n")
    size = f", input {profile.input_size[0]}x{profile.input_size[1]}" if profile.input_size else ""
    head = [f"{profile.name}: {len(profile.feature_maps)} feature maps{size}"]
    if profile.convention:
        head += [
            textwrap.fill(line, 110, initial_indent="  ", subsequent_indent="  ")
            for line in profile.convention.splitlines()
        ]
    tail = [f"warning: {w}" for w in profile.warnings]
    return "\n".join([*head, "", *lines, *(["", *tail] if tail else [])])
