"""``scalematch stats``: object-size statistics of an annotation file or folder, in network-input pixels."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from scalematch.cli.progress import progress_bar
from scalematch.dataset.resize import DEFAULT_POLICY
from scalematch.dataset.table import MAX_IMAGE_SIDE
from scalematch.errors import OptionError


class FormatChoice(str, Enum):
    coco = "coco"
    voc = "voc"
    yolo = "yolo"


def stats(
    path: Annotated[
        Path | None,
        typer.Argument(help="COCO .json, VOC .xml / folder, or YOLO labels; default: bundled sample."),
    ] = None,
    format: Annotated[FormatChoice | None, typer.Option("--format", help="Override format detection.")] = None,
    resize: Annotated[
        str,
        typer.Option("--resize", help="none | shortest-edge:S,L | longest-edge:L | fixed:WxH | multi-scale:S1-S2,L"),
    ] = DEFAULT_POLICY,
    by_category: Annotated[bool, typer.Option("--by-category", help="Add a table per category.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON (stable schema).")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write the box table to this CSV file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
    split: Annotated[str | None, typer.Option("--split", help="VOC ImageSets/Main split name.")] = None,
    image_size: Annotated[
        str | None, typer.Option("--image-size", help="WxH for YOLO labels without an image file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Count objects and measure their sizes as the network sees them (after the resize policy)."""
    from scalematch.atomic import atomic_text
    from scalematch.dataset import load, sample_path, summarize, summarize_file
    from scalematch.dataset.stats_text import render

    if csv is not None:
        from scalematch.atomic import check_output

        check_output(csv, "--csv", inputs=(path if path is not None else sample_path(),))
    source = path if path is not None else sample_path()
    options: dict[str, Any] = {"strict": strict, "split": split, "image_size": _image_size(image_size)}
    with progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress:
        if csv is None:  # no box table needed
            summary = summarize_file(source, format.value if format else None, resize, progress=progress, **options)
        else:
            result = load(source, format.value if format else None, resize, progress=progress, **options)
    if csv is not None:
        summary = summarize(result)
        with atomic_text(csv, "--csv") as handle:
            result.table.to_csv(handle, index=False)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(render(summary, by_category=by_category))


def _image_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) == 2 and all(p.isdigit() and 0 < int(p) <= MAX_IMAGE_SIDE for p in parts):
        return int(parts[0]), int(parts[1])
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise OptionError(
        f"--image-size: expected WIDTHxHEIGHT with positive integers (e.g. 640x480) up to {MAX_IMAGE_SIDE}, "
        f"got {shown!r}"
    )
