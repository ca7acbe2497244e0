"""The ``erf --json`` document, the measured ERF as a DataFrame and its one-line summary (plain data from the
measurement's numbers; :class:`~scalematch.profile.erf_measure.MeasuredErf` serves them as ``to_dict()``,
``to_frame()`` and ``repr``, and the command prints the same document).

Pairs in the document are per axis, ``[y, x]``; the DataFrame names them ``_h`` (y, height) and ``_w`` (x, width),
as the profile's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalematch._text import counted

if TYPE_CHECKING:
    import pandas as pd

    from scalematch.profile.erf_measure import MeasuredErf

PAIRS = ("input_size", "unit", "rf", "analytic_sigma", "sigma", "center")


def erf_json(r: MeasuredErf) -> dict[str, Any]:
    """The numbers as a JSON document (pairs are [y, x]): the ``scalematch erf --json`` document."""
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


def erf_frame(r: MeasuredErf) -> pd.DataFrame:
    """One row (``pd.concat`` of several measurements gives one row each): model, tap, node, weights, samples,
    each per-axis number of the document as ``<name>_h`` and ``<name>_w``, the side of each mass square as
    ``square_<share>`` (``square_0.5``) and clipped."""
    import pandas as pd

    document = erf_json(r)
    row: dict[str, Any] = {key: document[key] for key in ("model", "tap", "node", "weights", "samples")}
    for key in PAIRS:
        row[f"{key}_h"], row[f"{key}_w"] = document[key]
    row.update({f"square_{share}": side for share, side in document["squares"].items()})
    row["clipped"] = document["clipped"]
    frame: pd.DataFrame = pd.DataFrame([row])
    return frame


def shown_pair(values: tuple[float, float] | tuple[int, int], digits: int = 1) -> str:
    """A per-axis (y, x) pair shown width first, as every size in scalematch's output: ``x`` or ``x x y (WxH)``."""
    y, x = values
    return f"{x:.{digits}f}" if x == y else f"{x:.{digits}f} x {y:.{digits}f} (WxH)"


def erf_repr(r: MeasuredErf) -> str:
    """One line: the model, the tap, the measured and analytic sigma, the RF and how it was measured."""
    clipped = ", clipped by the input's border" if r.clipped else ""
    return (
        f"<MeasuredErf {r.model} {r.tap}: sigma {shown_pair(r.sigma)} px (analytic {shown_pair(r.analytic_sigma)}), "
        f"rf {shown_pair(r.rf, 0)} px, {r.input_size[1]}x{r.input_size[0]} (WxH) input, {r.weights} weights, "
        f"{counted(r.samples, 'sample')}{clipped}>"
    )
