"""``scalematch erf``: measure a feature map's effective receptive field with torch; parse, call, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def erf(
    model: Annotated[
        str,
        typer.Argument(help="Built-in backbone, YAML config, .onnx file or PyTorch 'package.module:attribute'."),
    ],
    neck: Annotated[str | None, typer.Option(help="Neck (for configs): a built-in name or a YAML path.")] = None,
    input_size: Annotated[
        str | None,
        typer.Option("--input-size", help="Input size H[xW]; default: the RF plus four strides, rounded up to 32."),
    ] = None,
    tap: Annotated[str | None, typer.Option(help="Feature map: an output name (C5, P3) or a node name.")] = None,
    samples: Annotated[int, typer.Option(help="Random inputs to average the gradient over.")] = 8,
    weights: Annotated[
        str | None,
        typer.Option(help="uniform | random | model (torch modules only); default: model for torch, else uniform."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (inputs and random weights).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the ERF figure to this PNG (or SVG/PDF).")] = None,
) -> None:
    """Measured effective receptive field (input gradient of a centre unit) next to the analytic ERF and RF."""
    from scalematch.profile.api import parse_input_size
    from scalematch.profile.erf_measure import measure_erf
    from scalematch.report.erf_text import erf_json, erf_text

    if plot is not None:
        from scalematch.report.save import check_figure_path

        check_figure_path(plot, inputs=(model, neck))
    result = measure_erf(model, parse_input_size(input_size), tap, samples, weights, neck, seed)  # type: ignore[arg-type]
    if plot is not None:
        from scalematch.report.erf_plot import erf_figure
        from scalematch.report.save import save_figure

        save_figure(erf_figure(result), plot)
    typer.echo(json.dumps(erf_json(result), indent=2) if as_json else erf_text(result))
    if plot is not None and not as_json:
        typer.echo(f"\nwrote {plot}")
