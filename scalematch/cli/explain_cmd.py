"""``scalematch explain``: parse, call the library, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalematch.cli.flags import hold_outputs
from scalematch.errors import OptionError


def explain(
    spec: Annotated[
        list[str],
        typer.Argument(
            metavar="SPEC...",
            help="Layers applied in order, one per argument: seed names (conv_3x3_stride_1, pooling_2x2_stride_2, "
            "...) or inline specs type:key=value,... (conv:k=3,s=2,d=2; maxpool:k=2,s=2; upsample:f=2). "
            "Or a single built-in backbone name or YAML config FILE.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the explain figure to FILE (.png, .svg or .pdf).")
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="With a backbone: the node (or output, e.g. C3) to explain; default: the last."
        ),
    ] = None,
    neck: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE",
            help="With a backbone: attach this neck, a built-in name (fpn, fpn-fcos, fpn-retinanet, pan, ssd) or a "
            "YAML FILE.",
        ),
    ] = None,
    unit: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="Output unit index (both axes); default: the first whose input region lies in the image."
        ),
    ] = None,
) -> None:
    """Draw and explain what the last layer does: the units one output unit reads and their input regions."""
    from scalematch import explain as run_explain
    from scalematch.profile.explain import MAX_UNIT
    from scalematch.report.explain_text import chain_title, explain_text
    from scalematch.report.style import figure_label, printable

    if unit is not None and not 0 <= unit <= MAX_UNIT:
        raise OptionError(f"--unit: expected a unit index from 0 to {MAX_UNIT}, got {unit}")
    if out is not None:
        from scalematch.report.save import check_figure_path

        check_figure_path(out, "--out", inputs=(*spec, neck))
        hold_outputs({"--out": out})
    result = run_explain(spec, node, unit, neck=neck)
    labels = dict(result.labels)
    text = explain_text(result, labels)
    if out is not None:  # written before the text is printed, as profile --plot: a reader that leaves early
        # (| head) does not stop the figure
        from scalematch.report.explain_plot import explain_figure
        from scalematch.report.save import save_figure

        title = (
            chain_title(list(labels.values()))
            if labels
            else f"{figure_label(result.profile.name)}: {figure_label(result.node.name)}"
        )
        save_figure(explain_figure(result, title=title), out, option="--out")
    typer.echo(text)
    if out is not None:
        typer.echo(f"\nwrote {printable(str(out))}")
