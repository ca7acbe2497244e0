"""The ``profile --json`` document and the profile as a DataFrame (plain data from the engine's numbers).

Pairs in the document are per axis, ``[y, x]`` (the documented, stable schema); the DataFrame names them
``_h`` (y, height) and ``_w`` (x, width).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scalematch.profile.engine import FeatureMap, Profile
from scalematch.profile.layers import describe, type_name

if TYPE_CHECKING:
    import pandas as pd

PROFILE_SCHEMA_VERSION = 1


def number(value: Fraction | int | float) -> int | float:
    """Integers stay integers; fractions become floats."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _pair(fm: FeatureMap, field: str, digits: int | None = None) -> list[int | float] | None:
    if fm.y is None or fm.x is None:
        return None
    values = [number(getattr(axis, field)) for axis in (fm.y, fm.x)]
    return [round(v, digits) for v in values] if digits is not None else values


def profile_json(profile: Profile, neck: str | None = None) -> dict[str, Any]:
    """The documented ``--json`` document (see README, "profile --json"); ``neck`` defaults to the profile's."""
    return {
        "backbone": profile.name.split("+")[0],
        "neck": neck if neck is not None else profile.neck,
        "input_size": list(profile.input_size) if profile.input_size else None,
        "feature_maps": [
            {
                "name": fm.name,
                "type": type_name(fm.layer),
                "layer": describe(fm.layer),
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


PAIRS = ("stride", "rf", "padding", "center", "spatial_scale", "overlap", "erf_sigma")


def profile_frame(profile: Profile) -> pd.DataFrame:
    """One row per feature map: name, output, type, each per-axis quantity as ``<name>_h`` and ``<name>_w``,
    spatial_scale_area, and the map's height and width (None where the map depends on the whole input)."""
    import pandas as pd

    rows = []
    for fm in profile_json(profile)["feature_maps"]:
        row: dict[str, Any] = {"name": fm["name"], "output": fm["output"], "type": fm["type"]}
        for key in PAIRS:
            pair = fm[key] or (None, None)
            row[f"{key}_h"], row[f"{key}_w"] = pair
        row["spatial_scale_area"] = fm["spatial_scale_area"]
        row["height"], row["width"] = fm["size"] or (None, None)
        rows.append(row)
    out: pd.DataFrame = pd.DataFrame(rows)
    return out
