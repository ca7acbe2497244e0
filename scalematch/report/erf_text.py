"""The ``scalematch erf`` text (formatting only; the numbers come from the measurement, and the ``--json``
document is the measurement's own ``to_dict()``)."""

from __future__ import annotations

from scalematch._text import counted
from scalematch.profile.erf_document import shown_pair as _pair
from scalematch.profile.erf_measure import MeasuredErf


def erf_text(r: MeasuredErf) -> str:
    """A short report: the unit, RF, analytic and measured sigma, and the mass squares."""
    lines = [
        f"{r.model} {r.tap} ({r.node}): unit (x, y) {r.unit[1]},{r.unit[0]} of a "
        f"{r.input_size[1]}x{r.input_size[0]} (WxH) input, "
        f"{r.weights} weights, {counted(r.samples, 'sample')}",
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
