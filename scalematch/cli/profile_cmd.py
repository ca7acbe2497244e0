"""``scalematch profile`` and ``scalematch backbones``: parse, call the library, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalematch._text import display_width, dumps, padded
from scalematch.cli.flags import SIZE_HELP, AllowMisaligned, Passthrough, hold_outputs, size_from
from scalematch.errors import OptionError
from scalematch.report.style import printable


def profile(
    backbone: Annotated[
        str,
        typer.Argument(
            metavar="BACKBONE",
            help="Built-in backbone name (see 'scalematch backbones'), a YAML config FILE, an .onnx FILE, or a "
            "PyTorch module as 'package.module:attribute'.",
            show_default=False,
        ),
    ],
    neck: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE", help="Neck: a built-in name (fpn, fpn-fcos, fpn-retinanet, pan, ssd) or a YAML FILE."
        ),
    ] = None,
    input_size: Annotated[
        str | None,
        typer.Option("--size", metavar="WxH", help=f"Input size, {SIZE_HELP}: feature sizes and exact 'same' padding."),
    ] = None,
    legacy_input_size: Annotated[
        str | None,
        typer.Option("--input-size", metavar="HxW", hidden=True, help="Deprecated: height first; use --size WxH."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document instead of the table.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the spatial-scale profile figure to FILE (.png, .svg or .pdf)."),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Log-scale pixel axis in --plot.")] = False,
    outputs_only: Annotated[
        bool, typer.Option("--outputs-only", help="List only the named outputs (C2..C5, P3..).")
    ] = False,
    allow_misaligned: AllowMisaligned = False,
    taps: Annotated[
        str | None,
        typer.Option(
            metavar="LIST",
            help="ONNX/torch models: the feature maps to mark as outputs, 'a,b' or 'C3=a,C4=b' (ONNX value names, "
            "torch module paths); default: the model's outputs.",
        ),
    ] = None,
    passthrough: Passthrough = None,
    channels: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="torch models: the input's channels, 1 to 1024 (default: found by running the model: the first "
            "convolution's input channels, else 3, else 1).",
        ),
    ] = None,
) -> None:
    """Stride, receptive field, padding, spatial scale, overlap and ERF of every feature map of a backbone."""
    from scalematch.profile.api import profile_model
    from scalematch.profile.engine import misaligned_flag
    from scalematch.report.profile_text import profile_table

    if log and plot is None:
        raise OptionError("--log: sets the scale of the --plot figure, so it needs --plot FILE")
    if plot is not None:
        from scalematch.profile.api import module_files
        from scalematch.report.save import check_figure_path

        sources = tuple(str(f) for f in module_files(backbone))  # a torch module's source is an input too
        check_figure_path(plot, "--plot", inputs=(backbone, neck, *sources))
        hold_outputs({"--plot": plot})
    with misaligned_flag("--allow-misaligned"):  # (the errors name the flag, not the Python argument)
        result = profile_model(
            backbone, neck, input_size=size_from(input_size, legacy_input_size), taps=taps,
            passthrough=() if passthrough is None else passthrough, channels=channels,
            allow_misaligned=allow_misaligned,
        )  # fmt: skip
    if plot is not None:
        from scalematch.report.profile_plot import profile_figure
        from scalematch.report.save import save_figure

        save_figure(profile_figure(result, log=log), plot, option="--plot")
    if as_json:
        typer.echo(dumps(result.to_dict()))
    else:
        typer.echo(profile_table(result, outputs_only))
        if plot is not None:
            typer.echo(f"\nwrote {printable(str(plot))}")
    for warning in result.warnings if as_json else ():
        typer.echo(f"warning: {warning}", err=True)


def backbones(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of the table.")] = False,
) -> None:
    """List the built-in backbones and necks with their named outputs and conventions."""
    from scalematch.profile.api import catalogue

    entries = catalogue()
    if as_json:
        typer.echo(dumps(entries))
        return
    width = max(display_width(e["name"]) for e in entries)
    for e in entries:
        outs = ", ".join(e["outputs"])
        typer.echo(f"{padded(e['name'], width)}  {e['kind']:<8}  {outs}")
        if e["title"]:
            typer.echo(f"{'':{width}}  {e['title']}")
