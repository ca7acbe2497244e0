"""The ``scalematch erf`` text and JSON (formatting only; the numbers come from the measurement)."""

from __future__ import annotations

from typing import Any

from scalematch.profile.erf_measure import MeasuredErf


def _pair(values: tuple[float, float] | tuple[int, int], digits: int = 1) -> str:
    """A per-axis (y, x) pair shown width first, as every size in scalematch's output: ``x`` or ``x x y``."""
    y, x = values
    return f"{x:.{digits}f}" if x == y else f"{x:.{digits}f} x {y:.{digits}f} (WxH)"


def erf_text(r: MeasuredErf) -> str:
    """A short report: the unit, RF, analytic and measured sigma, and the mass squares."""
    lines = [
        f"{r.model} {r.tap} ({r.node}): unit (x, y) {r.unit[1]},{r.unit[0]} of a "
        f"{r.input_size[1]}x{r.input_size[0]} (WxH) input, "
        f"{r.weights} weights, {r.samples} samples",
        f"receptive field    {_pair(r.rf, 0)} px",
        f"analytic ERF sigma {_pair(r.analytic_sigma)} px (uniform linear model)",
        f"measured ERF sigma {_pair(r.sigma)} px",
        "centred square holding " + ", ".join(f"{f:.0%}: {side} px" for f, side in r.squares),
    ]
    if r.clipped:
        (y0, y1), (x0, x1) = r.box
        lines.append(
            f"note: the unit's receptive field (columns {x0}..{x1}, rows {y0}..{y1}) reaches past the "
            f"{r.input_size[1]}x{r.input_size[0]} (WxH) input, so the border cuts the measured ERF; "
            "use a larger --size (the default holds the whole field)"
        )
    return "\n".join(lines)


def erf_json(r: MeasuredErf) -> dict[str, Any]:
    """The numbers as a JSON document (pairs are [y, x])."""
    return {
        "model": r.model,
        "tap": r.tap,
        "node": r.node,
        "input_size": list(r.input_size),
        "unit": list(r.unit),
        "weights": r.weights,
        "samples": r.samples,
        "rf": list(r.rf),
        "analytic_sigma": [round(v, 4) for v in r.analytic_sigma],
        "sigma": [round(v, 4) for v in r.sigma],
        "center": [round(v, 3) for v in r.center],
        "squares": {f"{f:g}": side for f, side in r.squares},
        "clipped": r.clipped,
    }
