"""``scalematch recommend`` with a detector preset: parse, call the library, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from scalematch.errors import OptionError


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def run_detector(
    source: Path,
    detector: str | None,
    backbone: str | None,
    neck: str | None,
    levels: str | None,
    resize: str | None,
    target: float,
    min_positives: int,
    min_iou: float,
    objects: Path | None,
    export: tuple[str, Path] | None,
    as_json: bool,
    out: Path | None,
    force: bool,
    command: str,
    format: str | None,
    strict: bool,
    quiet: bool,
) -> None:
    from scalematch.atomic import atomic_text
    from scalematch.cli.progress import progress_bar
    from scalematch.dataset import load
    from scalematch.match.detector import evaluate
    from scalematch.match.positives import objects_frame
    from scalematch.match.result import usable
    from scalematch.match.search import at_input, sweep_inputs, with_levels
    from scalematch.presets import DEFAULT_PRESET, load_preset, override
    from scalematch.report.positives_text import (
        describe,
        document,
        search_lines,
        sentences,
        sweep_document,
        sweep_table,
        tables,
    )

    preset = load_preset(DEFAULT_PRESET if detector is None else detector)
    changes: dict[str, object] = {}
    if backbone:
        changes["backbone"] = backbone
    if neck:
        changes["neck"] = None if neck.lower() == "none" else neck
    if changes:
        preset = override(preset, **changes)
    if levels is not None:
        preset = with_levels(preset, _split(levels))
    if export is not None:
        from scalematch.report.detector_export import check

        check(preset, export[0])  # an export that cannot be written fails before any work or other output
    policies = [p.strip() for p in (resize or "").split(";") if p.strip()]
    twice = [p for i, p in enumerate(policies) if p in policies[:i]]
    if twice:
        raise OptionError(f"--resize: {twice[0]!r} is named twice")
    if len(policies) == 1:
        preset = at_input(preset, policies[0])
    for policy in policies:
        at_input(preset, policy)  # every policy must suit the preset: fail before the work
    with progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress:
        data = load(source, format, preset.resize_policy(), strict=strict, progress=progress)
    sweep = None
    if len(policies) > 1:
        sweep = sweep_inputs(usable(data.table), preset, policies, target, min_positives, min_iou)
        preset = sweep.ranked[0][1].preset
    result = evaluate(data, preset, target, min_positives, min_iou)
    if objects is not None:
        with atomic_text(objects, "--objects") as handle:
            objects_frame(result.simulation).to_csv(handle, index=False)
    if export is not None:
        from scalematch.match.search import Trial
        from scalematch.report.detector_export import EXPORTERS

        design = (
            result.search.chosen
            if result.search is not None
            else Trial(preset, 1.0, 1.0, 0, result.summary.share_meeting, result.simulation.anchors_per_image)
        )
        text = EXPORTERS[export[0]](design)
        with atomic_text(export[1]) as handle:
            handle.write(text)
    written = None
    if out is not None:
        from scalematch.report.bundle import write_report
        from scalematch.report.detector_report import build_detector_report

        written = write_report(out, build_detector_report(result, data, command), force)
    if as_json:
        doc = document(preset, result.summary, target, str(source), result.search, data.excluded)
        if sweep is not None:
            doc["sweep"] = sweep_document(sweep)
        typer.echo(json.dumps(doc, indent=2))
        if written is not None:
            typer.echo(f"wrote {written}", err=True)
        return
    if sweep is not None:
        typer.echo(sweep_table(sweep))
        typer.echo(f"\nBest: {sweep.ranked[0][0]}\n")
    typer.echo(f"{source.name}: {result.summary.objects} objects")
    for line in describe(preset):
        typer.echo(line)
    if data.excluded:
        typer.echo("excluded: " + ", ".join(f"{k} {v}" for k, v in data.excluded.items()))
    typer.echo("")
    typer.echo(tables(result.summary))
    typer.echo("")
    for line in sentences(preset, result.summary, target):
        typer.echo(line)
    if result.search is not None:
        typer.echo("")
        for line in search_lines(result.search):
            typer.echo(line)
    if objects is not None:
        typer.echo(f"\nwrote {objects} ({result.summary.objects} objects)")
    if export is not None:
        typer.echo(f"\nwrote {export[1]} ({export[0]})")
    if written is not None:
        typer.echo(f"\nwrote {written} (with the figures as PNG and recommendation.json)")
