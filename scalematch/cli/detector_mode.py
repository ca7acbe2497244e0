"""``scalematch recommend`` with a detector preset: write the requested files and print the result."""

from __future__ import annotations

from pathlib import Path

import typer

from scalematch._text import counted, dumps
from scalematch.choices import Toolkit
from scalematch.match.detector import DetectorResult
from scalematch.report.style import printable


def show_detector(
    result: DetectorResult,
    label: str,
    objects: Path | None,
    export: tuple[Toolkit, Path] | None,
    as_json: bool,
    out: Path | None,
    where: str,
    force: bool,
    command: str,
    inputs: tuple[Path, ...] = (),
) -> None:
    """Write ``--objects``, ``--export`` and the report (into ``out``, named ``where`` in errors, ``inputs`` the
    files read), then print (the dataset named ``label``)."""
    from scalematch.atomic import atomic_csv, atomic_text
    from scalematch.report.positives_text import describe, search_lines, sentences, sweep_table, tables

    preset = result.preset
    # every output is made before any is written: one that cannot be made (an export the toolkit cannot express)
    # leaves the others as they were
    text = None
    if export is not None:
        from scalematch.match.search import Trial
        from scalematch.report.detector_export import EXPORTERS

        design = (
            result.search.chosen
            if result.search is not None
            else Trial(preset, 1.0, 1.0, 0, result.summary.share_meeting, result.simulation.anchors_per_image)
        )
        text = EXPORTERS[export[0].value](design, preset, result.target)
    files = None
    if out is not None:
        from scalematch.report.detector_report import build_detector_report

        assert result.data is not None
        files = build_detector_report(result, result.data, command, inputs=inputs)
    if objects is not None:
        atomic_csv(result.to_frame("objects"), objects, "--objects")
    if export is not None and text is not None:
        with atomic_text(export[1], "--export") as handle:
            handle.write(text)
    written = None
    if out is not None and files is not None:
        from scalematch.report.bundle import write_report, wrote_line

        written = write_report(out, files, force, where)
    if as_json:
        typer.echo(dumps(result.to_dict()))
        if written is not None:
            typer.echo(f"wrote {printable(str(written))}", err=True)
        return
    if result.sweep is not None:
        typer.echo(sweep_table(result.sweep))
        typer.echo(f"\nBest: {result.sweep.ranked[0][0]}\n")
    typer.echo(f"{printable(label)}: {counted(result.summary.objects, 'object')}")
    for line in describe(preset):
        typer.echo(line)
    if result.excluded:
        typer.echo("excluded: " + ", ".join(f"{k} {v}" for k, v in result.excluded.items()))
    if result.repeated is not None:
        from scalematch.match.detector import repeated_note

        typer.echo(f"note: {printable(repeated_note(preset, result.repeated))}")
    if result.left_out is not None:
        typer.echo(f"note: {result.left_out.note(preset)}")
    if result.absent:
        from scalematch.match.detector import absent_note

        typer.echo(f"note: {absent_note(preset, result.absent)}")
    if result.ignored:
        typer.echo(
            f"ignored: difficult {result.ignored} (as {preset.toolkit}'s pipeline ignores VOC difficult objects)"
        )
    typer.echo("")
    typer.echo(tables(result.summary))
    typer.echo("")
    for line in sentences(preset, result.summary, result.target):
        typer.echo(line)
    if result.search is not None:
        typer.echo("")
        for line in search_lines(result.search):
            typer.echo(line)
    if objects is not None:
        typer.echo(f"\nwrote {printable(str(objects))} ({counted(result.summary.objects, 'object')})")
    if export is not None:
        typer.echo(f"\nwrote {printable(str(export[1]))} ({export[0].value})")
    if written is not None and files is not None:
        typer.echo("\n" + wrote_line(written, files))
