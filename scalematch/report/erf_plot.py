"""The measured effective receptive field next to the analytic ERF and the receptive field."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scalematch._text import counted
from scalematch.profile.erf_measure import MeasuredErf
from scalematch.report.style import drawable, drawn, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def erf_figure(result: MeasuredErf) -> Figure:
    """Left: the measured gradient map (log scale) with the unit's RF box, the analytic ±σ/±2σ ellipses and the
    squares holding 50 % and 90 % of the mass. Right: the x marginal against the analytic Gaussian."""
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, Rectangle

    from scalematch import _args

    _args.expect(result, "result", MeasuredErf, "a measured ERF (scalematch.measure_erf('resnet18'))")
    with style():
        fig = drawn(Figure(figsize=(10, 4.4), layout="constrained"))
        left, right = fig.subplots(1, 2, width_ratios=(1, 1.3))
        mass = result.mass
        shown = np.log10(np.maximum(mass / mass.max(), 1e-4))
        image = left.imshow(shown, cmap="magma", vmin=-4, vmax=0, origin="upper")
        fig.colorbar(image, ax=left, shrink=0.8, label="log10 gradient (peak = 0)")
        (y0, y1), (x0, x1) = result.box
        left.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, ec="C0", lw=1.2))
        cy, cx = result.center
        for k, dash in ((1, "-"), (2, "--")):
            sy, sx = result.analytic_sigma
            left.add_patch(Ellipse((cx, cy), 2 * k * sx, 2 * k * sy, fill=False, ec="C2", ls=dash, lw=1.2))
        for fraction, side in result.squares:
            if fraction in (0.5, 0.9):
                half = side / 2
                left.add_patch(Rectangle((round(cx) - half, round(cy) - half), side, side, fill=False, ec="w", ls=":"))
        samples = counted(result.samples, "sample")
        left.set_title(f"{drawable(result.model)} {drawable(result.tap)}: measured ERF ({result.weights}, {samples})")
        left.set_xlim(-0.5, mass.shape[1] - 0.5)
        left.set_ylim(mass.shape[0] - 0.5, -0.5)
        marginal = mass.sum(axis=0)
        xs = np.arange(marginal.size)
        right.plot(xs, marginal, color="C3", lw=1.4, label=f"measured (σ = {result.sigma[1]:.1f})")
        sigma = result.analytic_sigma[1]
        gauss = np.exp(-0.5 * ((xs - cx) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
        right.plot(xs, gauss, color="C2", ls="--", lw=1.2, label=f"analytic ERF (σ = {sigma:.1f})")
        right.axvspan(x0, x1, color="C0", alpha=0.08, label=f"receptive field ({result.rf[1]} px)")
        right.set_xlabel("input x (pixels)")
        right.set_ylabel("share of gradient mass per column")
        right.legend(loc="upper right", fontsize=8, frameon=False)
        right.set_xlim(max(x0 - 10, 0), min(x1 + 10, marginal.size - 1))
    return fig
