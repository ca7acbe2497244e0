"""``scalematch recommend``: parse, call the library, print."""

from __future__ import annotations

import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from scalematch.dataset.resize import DEFAULT_POLICY
from scalematch.errors import OptionError

MAX_MIN_POSITIVES = 10_000  # no default assigner gives one object more positives than this


class RuleChoice(str, Enum):
    rf = "rf"
    fpn = "fpn"
    fcos = "fcos"
    anchors = "anchors"
    yolo = "yolo"


class ToolkitChoice(str, Enum):
    mmdet = "mmdet"
    detectron2 = "detectron2"
    ultralytics = "ultralytics"


def report_folder(source: Path) -> Path:
    """reports/<dataset stem>/ for --report; a stem that is no folder name ('.', '..', empty) is an error."""
    stem = source.stem
    if stem in ("", ".", "..") or stem.startswith("."):
        raise OptionError(f"--report: the dataset name {source.name!r} gives no folder name; use --out DIR")
    return Path("reports") / stem


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def recommend(
    ctx: typer.Context,
    annotations: Annotated[
        Path | None, typer.Argument(help="COCO .json, VOC .xml / folder, or YOLO labels; default: bundled sample.")
    ] = None,
    detector: Annotated[
        str | None,
        typer.Option(
            help="Detector preset (faster-rcnn, retinanet, fcos, atss, ssd300, yolov5, yolov8) or a preset YAML: "
            "simulate its assigner on every object. The default unless --rule is given: retinanet."
        ),
    ] = None,
    backbone: Annotated[
        str | None,
        typer.Option(
            help="Backbone name or YAML path (default: the preset's, or resnet50); a comma list sweeps (--rule)."
        ),
    ] = None,
    neck: Annotated[
        str | None, typer.Option(help="Neck name or YAML path, or 'none' for the backbone's C2-C5 (default: fpn).")
    ] = None,
    levels: Annotated[str | None, typer.Option(help="Comma list of output names to match, e.g. C3,C4,C5.")] = None,
    resize: Annotated[
        str | None,
        typer.Option(
            help="Resize policy (none | shortest-edge:S,L | longest-edge:L | fixed:WxH | ...); policies separated "
            f"by ';' sweep. Default: the preset's input, or {DEFAULT_POLICY} with --rule. A detector takes its "
            "own kind: shortest-edge (torchvision, mmdet), longest-edge (YOLO letterbox), fixed (SSD)."
        ),
    ] = None,
    rule: Annotated[
        RuleChoice | None, typer.Option(help="Size rule instead of a detector's assigner (scalematch's heuristics).")
    ] = None,
    coverage: Annotated[
        float,
        typer.Option(help="Target share: of objects with --min-positives positives (detector), or assigned (rule)."),
    ] = 0.99,
    min_positives: Annotated[
        int, typer.Option(help="Detector: positives an object needs to count as covered (1 to 10,000).")
    ] = 1,
    min_iou: Annotated[
        float,
        typer.Option(help="Detector: IoU below which an anchor positive does not count (scalematch's floor)."),
    ] = 0.1,
    objects: Annotated[
        Path | None,
        typer.Option(
            "--objects", metavar="FILE.csv", help="Detector: write one row per object (positives, level, reason)."
        ),
    ] = None,
    anchors_per_level: Annotated[
        int | None, typer.Option(help="Fitted anchors per level (default: as many as the toolkit defaults).")
    ] = None,
    min_cells: Annotated[float, typer.Option(help="rf rule: smallest object size in strides.")] = 2.0,
    erf_factor: Annotated[float, typer.Option(help="rf rule: objects must fit in +-k ERF sigma.")] = 3.0,
    export: Annotated[
        tuple[ToolkitChoice, Path] | None,
        typer.Option(help="Write the recommendation as a toolkit's settings: mmdet|detectron2|ultralytics FILE."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document (stable schema).")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Write the report into DIR: report.html (self-contained), the figures as PNG and "
            "recommendation.json (the --json document).",
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Write the report into reports/<dataset-stem>/ (same as --out there).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report in the --out folder.")] = False,
    format: Annotated[str | None, typer.Option("--format", help="Override format detection: coco|voc|yolo.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Which feature levels, anchors, ranges and input size fit the objects of a dataset."""
    from dataclasses import replace

    from scalematch.cli.progress import progress_bar
    from scalematch.dataset import load, sample_path
    from scalematch.match.design import design, ranked
    from scalematch.match.recommend import check_options
    from scalematch.match.rules import Rule, RuleParams
    from scalematch.report.recommend_text import level_table, recommend_document, sentences, sweep_table

    params = replace(RuleParams(), min_cells=min_cells, erf_factor=erf_factor)
    check_options(params, coverage)
    if anchors_per_level is not None and anchors_per_level < 1:
        raise OptionError(f"--anchors-per-level: expected a positive integer, got {anchors_per_level}")
    source = annotations if annotations is not None else sample_path()
    # Every file or folder the run reads: no output may replace one of them.
    inputs = tuple(Path(p) for p in (source, detector, *(backbone or "").split(","), neck) if p and Path(p).exists())
    if report and out is not None:
        raise OptionError("--report and --out: --report writes into reports/<dataset>/; give one of them")
    if resize is not None and not all(p.strip() for p in resize.split(";")):
        raise OptionError(f"--resize: expected policies separated by ';', got an empty one in {resize!r}")
    if levels is not None and not _split(levels):
        raise OptionError(f"--levels: expected level names such as P3,P4,P5, got {levels!r}")
    named = _split(levels or "")
    twice = [name for i, name in enumerate(named) if name in named[:i]]
    if twice:
        raise OptionError(f"--levels: level '{twice[0]}' is named twice")
    if force and out is None and not report:
        raise OptionError("--force: replaces a report, so it needs --out DIR or --report")
    if rule is None:
        from scalematch.cli.detector_mode import run_detector

        if anchors_per_level is not None:
            raise OptionError("--anchors-per-level: applies with --rule; a detector preset fixes its own anchors")
        for name, value, default in (("--min-cells", min_cells, 2.0), ("--erf-factor", erf_factor, 3.0)):
            if value != default:
                raise OptionError(f"{name}: applies to --rule rf, not to a detector's assigner")
        if not 1 <= min_positives <= MAX_MIN_POSITIVES:
            raise OptionError(
                f"--min-positives: expected an integer from 1 to {MAX_MIN_POSITIVES:,}, got {min_positives}"
            )
        if not 0 <= min_iou < 1:
            raise OptionError(f"--min-iou: expected an IoU in [0, 1), got {min_iou}")
        if report and out is None:
            out = report_folder(source)
        if out is not None:
            from scalematch.report.bundle import check_target

            check_target(out, force)  # fail before the work, not after it
        if objects is not None:
            from scalematch.atomic import check_output

            check_output(objects, "--objects", inputs=inputs)
        if export is not None:
            from scalematch.atomic import check_output

            check_output(export[1], "--export", inputs=inputs)
        from scalematch.atomic import check_distinct

        check_distinct({"--objects": objects, "--export": export[1] if export else None}, ("--out", out), inputs)
        argv = ctx.meta.get("argv") or ["recommend"]
        run_detector(
            source, detector, backbone, neck, levels, resize, coverage, min_positives, min_iou, objects,
            (export[0].value, export[1]) if export else None, as_json,
            out, force, "scalematch " + shlex.join(argv), format, strict, quiet,
        )  # fmt: skip
        return
    if detector is not None:
        raise OptionError("--detector and --rule are two modes: give one")
    for name, value, default in (("--min-positives", min_positives, 1), ("--min-iou", min_iou, 0.1)):
        if value != default:
            raise OptionError(f"{name}: applies to a detector's assigner (drop --rule)")
    if rule is not RuleChoice.rf:
        for name, value, default in (("--min-cells", min_cells, 2.0), ("--erf-factor", erf_factor, 3.0)):
            if value != default:
                raise OptionError(f"{name}: applies to --rule rf, not to --rule {rule.value}")
    if objects is not None:
        raise OptionError("--objects: applies to a detector's assigner (drop --rule)")
    backbone = backbone or "resnet50"
    neck = neck or "fpn"
    resize = resize or DEFAULT_POLICY
    if report and out is None:
        out = report_folder(source)
    if out is not None:
        from scalematch.report.bundle import check_target

        check_target(out, force)  # fail before the work, not after it
    if export is not None:
        from scalematch.atomic import check_output

        check_output(export[1], "--export", inputs=inputs)
    from scalematch.atomic import check_distinct

    check_distinct({"--export": export[1] if export else None}, ("--out", out), inputs)
    backbones = _split(backbone)
    policies = [p.strip() for p in resize.split(";") if p.strip()]
    if not backbones or not policies:
        raise OptionError("--backbone/--resize: expected at least one name / policy")
    for option, items in (("--backbone", backbones), ("--resize", policies)):
        twice = [item for i, item in enumerate(items) if item in items[:i]]
        if twice:
            raise OptionError(f"{option}: {twice[0]!r} is named twice")
    chosen_neck = None if neck.lower() == "none" else neck
    designs = []
    loaded = {}
    for policy in policies:
        with progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress:
            data = load(source, format, policy, strict=strict, progress=progress)
        loaded[data.resize] = data
        for name in backbones:
            designs.append(
                design(
                    data,
                    name,
                    chosen_neck,
                    _split(levels) if levels else None,
                    Rule(rule.value),
                    params,
                    coverage,
                    anchors_per_level,
                )
            )
    best = ranked(designs)[0] if len(designs) > 1 else designs[0]
    rec = best.recommendation
    if export is not None:
        from scalematch.atomic import atomic_text
        from scalematch.report.export import EXPORTERS, Toolkit

        toolkit, path = export
        with atomic_text(path, "--export") as handle:
            handle.write(EXPORTERS[Toolkit(toolkit.value)](rec))
    written = None
    if out is not None:
        from scalematch.report.bundle import ReportInput, build_report, write_report

        argv = ctx.meta.get("argv") or ["recommend"]
        command = "scalematch " + shlex.join(argv)
        files = build_report(ReportInput(loaded[best.resize], best, tuple(designs), command))
        written = write_report(out, files, force)
    if as_json:
        typer.echo(json.dumps(recommend_document(best, designs), indent=2))
        if written is not None:
            typer.echo(f"wrote {written}", err=True)
        return
    if len(designs) > 1:
        typer.echo(sweep_table(ranked(designs)))
        typer.echo(f"\nBest: {best.backbone} at {best.resize}\n")
    where = f"{best.backbone}{' + ' + best.neck if best.neck else ''}"
    typer.echo(f"{source.name}: {rec.full.total} objects, {where}, resize {best.resize}, rule {rec.rule.value}")
    if best.excluded:
        typer.echo("excluded: " + ", ".join(f"{k} {v}" for k, v in best.excluded.items()))
    typer.echo("")
    typer.echo(level_table(rec.full))
    typer.echo("")
    for line in sentences(rec):
        typer.echo(line)
    if export is not None:
        typer.echo(f"\nwrote {export[1]} ({export[0].value})")
    if written is not None:
        typer.echo(f"\nwrote {written} (with {len(files) - 2} figures as PNG and recommendation.json)")
