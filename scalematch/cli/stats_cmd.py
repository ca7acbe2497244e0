"""``scalematch stats``: object-size statistics of an annotation file or folder, in network-input pixels."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from scalematch._text import counted, dumps
from scalematch.choices import Format
from scalematch.cli.flags import (
    check_beside,
    check_unmatched,
    dask_option,
    hold_outputs,
    image_size_option,
    split_option,
    workers_option,
)
from scalematch.cli.progress import progress_bar
from scalematch.dataset.resize import DEFAULT_POLICY
from scalematch.errors import OptionError
from scalematch.report.style import printable


def stats(
    annotations: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="ANNOTATIONS...",
            readable=False,  # the reader says why it cannot read a path, naming it as every other input error does
            help="COCO .json FILE, VOC .xml FILE or DIR, or YOLO labels (a .txt FILE or a DIR); several, or a quoted "
            "glob such as 'shards/*.json', are read as one dataset. Default: the bundled COCO sample.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[Format | None, typer.Option("--format", help="Override format detection.")] = None,
    resize: Annotated[
        str,
        typer.Option(
            "--resize",
            metavar="POLICY",
            help="Resize policy: none, shortest-edge:S,L, longest-edge:L, fixed:WxH (width first) or "
            "multi-scale:S1-S2,L.",
        ),
    ] = DEFAULT_POLICY,
    by_category: Annotated[
        bool,
        typer.Option("--by-category", help="Add a table per category to the text (the --json document always has it)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON (stable schema).")] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write the box table to FILE as CSV.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
    split: Annotated[str | None, split_option()] = None,
    image_size: Annotated[str | None, image_size_option()] = None,
    workers: Annotated[int | None, workers_option("reading the inputs and VOC files")] = None,
    dask: Annotated[str | None, dask_option()] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar (results, warnings and errors are still printed).")
    ] = False,
) -> None:
    """Count objects and measure their sizes as the network sees them (after the resize policy)."""
    from contextlib import nullcontext

    from scalematch.atomic import atomic_csv
    from scalematch.dataset import read_shards, sample_path, summarize_files
    from scalematch.dataset.loader import parse_image_size, read_paths
    from scalematch.dataset.shards import check_workers, connect, expand
    from scalematch.report.stats_text import render

    given = annotations or [sample_path()]
    check_workers(workers)
    if workers is not None and dask is not None:
        raise OptionError("--workers and --dask: the Dask cluster runs the work; give one of them")
    paths = expand(given)
    fmt = format.value if format else None
    if csv is not None:
        from scalematch.atomic import check_output

        check_output(csv, "--csv", inputs=tuple(p for path in paths for p in read_paths(path, fmt)))
        check_unmatched(given, {"--csv": csv})
        check_beside(paths, {"--csv": csv})
        hold_outputs({"--csv": csv})
    size = parse_image_size(image_size) if image_size is not None else None
    source = " ".join(str(p) for p in given)
    with (
        connect(dask) if dask is not None else nullcontext() as client,
        progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress,
    ):
        options: dict[str, Any] = {"strict": strict, "split": split, "image_size": size, "progress": progress}
        options |= {"workers": workers, "client": client, "source": source}
        if csv is None:  # no box table needed
            summary = summarize_files(paths, fmt, resize, **options)
        else:
            result = read_shards(paths, fmt, resize, **options)
            summary = result.to_dict()
    wrote = None
    if csv is not None:
        frame = result.to_frame()
        atomic_csv(frame, csv, "--csv")
        wrote = f"wrote {printable(str(csv))} ({counted(len(frame), 'row')})"
    if as_json:
        typer.echo(dumps(summary))
        if wrote is not None:
            typer.echo(wrote, err=True)
    else:
        typer.echo(render(summary, by_category=by_category))
        if wrote is not None:
            typer.echo(f"\n{wrote}")
