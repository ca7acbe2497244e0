"""``scalematch erf``: measure a feature map's effective receptive field with torch; parse, call, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalematch._text import dumps
from scalematch.choices import Weights
from scalematch.cli.flags import SIZE_HELP, AllowMisaligned, Passthrough, hold_outputs, size_from
from scalematch.report.style import printable


def erf(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="Built-in backbone, YAML config FILE, .onnx FILE or PyTorch 'package.module:attribute'.",
            show_default=False,
        ),
    ],
    neck: Annotated[
        str | None, typer.Option(metavar="NAME|FILE", help="Neck (for configs): a built-in name or a YAML FILE.")
    ] = None,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--size",
            metavar="WxH",
            help=f"Input size, {SIZE_HELP}; default: the RF plus four strides, rounded up to 32.",
        ),
    ] = None,
    legacy_input_size: Annotated[
        str | None,
        typer.Option("--input-size", metavar="HxW", hidden=True, help="Deprecated: height first; use --size WxH."),
    ] = None,
    tap: Annotated[
        str | None, typer.Option(metavar="NAME", help="Feature map: an output name (C5, P3) or a node name.")
    ] = None,
    samples: Annotated[
        int, typer.Option(metavar="N", help="Random inputs to average the gradient over (1 to 10,000).")
    ] = 8,
    weights: Annotated[
        Weights | None,
        typer.Option(help="Network weights; model: a torch module's own (default: model for torch, else uniform)."),
    ] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed (inputs and random weights), 0 to 2^32-1.")] = 0,
    allow_misaligned: AllowMisaligned = False,
    passthrough: Passthrough = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the ERF figure to FILE (.png, .svg or .pdf).")
    ] = None,
) -> None:
    """Measured effective receptive field (input gradient of a centre unit) next to the analytic ERF and RF."""
    from scalematch.profile.engine import misaligned_flag
    from scalematch.profile.erf_measure import measure_erf
    from scalematch.report.erf_text import erf_text

    if plot is not None:
        from scalematch.profile.api import module_files
        from scalematch.report.save import check_figure_path

        sources = tuple(str(f) for f in module_files(model))  # a torch module's source is an input too
        check_figure_path(plot, "--plot", inputs=(model, neck, *sources))
        hold_outputs({"--plot": plot})
    with misaligned_flag("--allow-misaligned"):  # (the errors name the flag, not the Python argument)
        result = measure_erf(
            model, size_from(input_size, legacy_input_size), tap, samples, weights.value if weights else None, neck,
            seed, allow_misaligned, () if passthrough is None else passthrough,
        )  # fmt: skip
    if plot is not None:
        from scalematch.report.erf_plot import erf_figure
        from scalematch.report.save import save_figure

        save_figure(erf_figure(result), plot, option="--plot")
    typer.echo(dumps(result.to_dict()) if as_json else erf_text(result))
    if plot is not None and not as_json:
        typer.echo(f"\nwrote {printable(str(plot))}")
    for warning in result.warnings:
        typer.echo(f"warning: {printable(warning)}", err=True)
