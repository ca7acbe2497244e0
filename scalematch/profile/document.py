"""The ``profile --json`` document and the profile as a DataFrame (plain data from the engine's numbers); the
same for an :class:`~scalematch.profile.explain.Explanation`.

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

    from scalematch.profile.explain import Explanation
    from scalematch.profile.runs import Runs

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


def _runs(runs: Runs) -> list[list[int]]:
    return [[start, stop] for start, stop in runs]


def explain_json(exp: Explanation) -> dict[str, Any]:
    """The explanation as plain data: pairs per axis ``[y, x]``, pixel sets as half-open runs ``[start, stop]``
    (input pixels), ``area`` the exact 2-D count and ``erf_mean`` / ``erf_sigma`` as floats."""
    labels = dict(exp.labels)
    node = exp.node
    return {
        "network": exp.profile.name,
        "node": node.name,
        "layer": labels.get(node.name, f"{type_name(node.layer)} {describe(node.layer)}".strip()),
        "unit": list(exp.unit),
        "inputs": list(node.inputs),
        "reads": [
            {
                "source": r.source,
                "unit": list(r.unit),
                "rows": _runs(r.rows),
                "cols": _runs(r.cols),
                "pixels": r.pixels,
            }
            for r in exp.regions
        ],
        "union": {"rows": _runs(exp.union.rows), "cols": _runs(exp.union.cols), "pixels": exp.union.pixels},
        "area": exp.area,
        "product_exact": exp.product_exact,
        "erf_mean": [float(v) for v in exp.erf_mean],
        "erf_sigma": [round(v, 4) for v in exp.erf_sigma],
        "chain": list(exp.chain),
    }


def explain_frame(exp: Explanation) -> pd.DataFrame:
    """One row per unit read: ``source``, ``unit_h`` and ``unit_w`` (its row and column in that map), ``pixels``
    (its input pixels), the inclusive box ``y_min``, ``y_max``, ``x_min``, ``x_max``, and its exact ``rows`` and
    ``cols`` as tuples of half-open runs (a unit read at the edge that reads the padding only has no box: None)."""
    import pandas as pd

    columns = ["source", "unit_h", "unit_w", "pixels", "y_min", "y_max", "x_min", "x_max", "rows", "cols"]
    rows = []
    for r in exp.regions:
        box = (r.rows[0][0], r.rows[-1][1] - 1, r.cols[0][0], r.cols[-1][1] - 1) if r.pixels else (None,) * 4
        rows.append((r.source, r.unit[0], r.unit[1], r.pixels, *box, r.rows, r.cols))
    out: pd.DataFrame = pd.DataFrame(rows, columns=columns)
    return out
