"""``scalematch recommend``: parse, call the library (:func:`scalematch.match.api.sweep`), print."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from click.core import ParameterSource

from scalematch._text import counted, dumps
from scalematch.choices import Format, Rule, Toolkit
from scalematch.cli.flags import (
    check_beside,
    check_beside_sources,
    check_unmatched,
    dask_option,
    hold_outputs,
    image_size_option,
    split_option,
    workers_option,
)
from scalematch.dataset.resize import DEFAULT_POLICY
from scalematch.errors import OptionError
from scalematch.report.style import printable

DETECTORS = "atss, faster-rcnn, fcos, retinanet, ssd300, yolov5, yolov8"
NECKS = "fpn, fpn-fcos, fpn-retinanet, pan, ssd"


def recommend(
    ctx: typer.Context,
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
    detector: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE",
            help=f"Detector preset ({DETECTORS}) or a preset YAML FILE: simulate its assigner on every object. The "
            "default unless --rule is given: retinanet.",
        ),
    ] = None,
    backbone: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE",
            help="Backbone name or YAML FILE (default: the preset's, or resnet50); with --rule a comma list sweeps.",
        ),
    ] = None,
    neck: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|FILE",
            help=f"Neck: a built-in name ({NECKS}), a YAML FILE, or 'none' for the backbone's C2-C5 (default: the "
            "preset's, or fpn).",
        ),
    ] = None,
    levels: Annotated[
        str | None, typer.Option(metavar="LIST", help="Comma list of output names to match, e.g. C3,C4,C5.")
    ] = None,
    resize: Annotated[
        str | None,
        typer.Option(
            metavar="POLICY",
            help="Resize policy: none, shortest-edge:S,L, longest-edge:L, fixed:WxH (width first) or "
            "multi-scale:S1-S2,L; policies separated by ';' sweep. Default: the preset's input, or "
            f"{DEFAULT_POLICY} with --rule. A detector takes its own kind: shortest-edge (torchvision, mmdet), "
            "longest-edge (YOLO letterbox), fixed (SSD).",
        ),
    ] = None,
    rule: Annotated[
        Rule | None, typer.Option(help="Size rule instead of a detector's assigner (scalematch's heuristics).")
    ] = None,
    coverage: Annotated[
        float,
        typer.Option(
            metavar="SHARE",
            help="Target share: of objects with --min-positives positives (detector), or assigned (rule).",
        ),
    ] = 0.99,
    min_positives: Annotated[
        int, typer.Option(metavar="N", help="Detector: positives an object needs to count as covered (1 to 10,000).")
    ] = 1,
    min_iou: Annotated[
        float,
        typer.Option(
            metavar="IOU", help="Detector: IoU below which an anchor positive does not count (scalematch's floor)."
        ),
    ] = 0.1,
    objects: Annotated[
        Path | None,
        typer.Option(
            "--objects", metavar="FILE", help="Detector: write one row per object (positives, level, reason) as CSV."
        ),
    ] = None,
    anchors_per_level: Annotated[
        int | None,
        typer.Option(metavar="N", help="Rule: fitted anchors per level (default: as many as the toolkit defaults)."),
    ] = None,
    min_cells: Annotated[float, typer.Option(metavar="CELLS", help="rf rule: smallest object size in strides.")] = 2.0,
    erf_factor: Annotated[float, typer.Option(metavar="K", help="rf rule: objects must fit in +-K ERF sigma.")] = 3.0,
    export: Annotated[
        tuple[Toolkit, Path] | None,
        typer.Option(
            metavar="TOOLKIT FILE",
            help="Write the recommendation as a toolkit's settings to FILE; TOOLKIT is mmdet, detectron2 or "
            "ultralytics.",
        ),
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
        bool,
        typer.Option(
            "--report",
            help="Write the report into reports/NAME/, NAME being the dataset's (a VOC or YOLO root folder's name "
            "for its Annotations or labels folder).",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report (--out or --report).")] = False,
    format: Annotated[Format | None, typer.Option("--format", help="Override format detection.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
    split: Annotated[str | None, split_option()] = None,
    image_size: Annotated[str | None, image_size_option()] = None,
    workers: Annotated[int | None, workers_option("reading the inputs and simulating the assigner")] = None,
    dask: Annotated[str | None, dask_option()] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar (results, warnings and errors are still printed).")
    ] = False,
) -> None:
    """Which feature levels, anchors, ranges and input size fit the objects of a dataset."""
    from contextlib import nullcontext

    from scalematch.atomic import check_distinct, check_output
    from scalematch.cli.progress import progress_bar, search_status
    from scalematch.dataset import sample_path
    from scalematch.dataset.loader import parse_image_size, read_paths
    from scalematch.dataset.shards import check_workers, connect, expand
    from scalematch.match.api import resolve_preset, sweep
    from scalematch.match.detector import DetectorResult
    from scalematch.report.bundle import hold_target, report_folder
    from scalematch.report.export import check_export_suffix
    from scalematch.report.provenance import dataset_label

    given = annotations or [sample_path()]
    check_workers(workers)
    if workers is not None and dask is not None:
        raise OptionError("--workers and --dask: the Dask cluster runs the work; give one of them")
    paths = expand(given)
    size = parse_image_size(image_size) if image_size is not None else None
    source = paths[0]
    label = dataset_label(" ".join(str(p) for p in given) if len(paths) > 1 else source, paths)
    # Every file or folder the run reads: no output may replace one of them.
    models = (detector, backbone, *(backbone or "").split(","), neck, *_preset_files(detector))
    from scalematch.profile.api import module_files

    sources = tuple(f for name in (*(backbone or "").split(","), neck) for f in module_files(name or None))
    inputs = (
        *(p for path in paths for p in read_paths(path, format.value if format else None)),
        *(Path(p) for p in models if p and Path(p).exists()),
        *sources,  # a torch module's source files
    )
    if report and out is not None:
        raise OptionError("--report and --out: --report writes into reports/<dataset>/; give one of them")
    if force and out is None and not report:
        raise OptionError("--force: replaces a report, so it needs --out DIR or --report")
    if rule is not None and objects is not None:
        raise OptionError("--objects: applies to a detector's assigner (drop --rule)")
    where = "--report" if report else "--out"
    if report and len(paths) > 1:
        raise OptionError("--report: names the report after one dataset file or folder; for several use --out DIR")
    if report:
        out = report_folder(source)
    check_unmatched(given, {"--objects": objects, "--export": export[1] if export else None}, (where, out))
    check_beside(paths, {"--objects": objects, "--export": export[1] if export else None})
    check_beside_sources(sources, {"--export": export[1] if export else None})
    if out is not None:
        # fail before the work, not after it; the lock, held to the end of the command, stops a second run on
        # the same folder at once, before it writes its --objects or --export
        ctx.with_resource(hold_target(out, force, where, inputs))
    for option, path in (("--objects", objects), ("--export", export[1] if export else None)):
        if path is not None:
            check_output(path, option, inputs=inputs)
    check_distinct({"--objects": objects, "--export": export[1] if export else None}, (where, out), inputs)
    hold_outputs({"--objects": objects, "--export": export[1] if export else None})
    if rule is not None and export is not None and export[0].value == "ultralytics" and levels is not None:
        from scalematch.report.export import YOLOV5_LEVELS

        if len(levels.split(",")) < YOLOV5_LEVELS:  # the recommendation is a run of these levels: fewer than three
            raise OptionError(
                f"--export ultralytics: writes the anchors of a three-level YOLOv5 head; --levels {levels} offers "
                "fewer (--export mmdet or detectron2 take any number)"
            )
    if rule is None and export is not None:
        from scalematch.report.detector_export import check

        # an export that cannot be written fails before any work or other output
        check(resolve_preset(detector, backbone=backbone, neck=neck, levels=levels, resize=resize), export[0].value)

    if export is not None:
        check_export_suffix(export[0].value, export[1])

    def typed(name: str) -> bool:  # an option of one mode typed in the other is refused, whatever its value
        return ctx.get_parameter_source(name) is not ParameterSource.DEFAULT

    with (
        connect(dask) if dask is not None else nullcontext() as client,
        progress_bar(enabled=not quiet and sys.stderr.isatty()) as progress,
        search_status(enabled=not quiet and sys.stderr.isatty()),
    ):
        result = sweep(
            list(given) if len(paths) > 1 else source, detector,  # several: named as given
            rule=rule, backbone=backbone, neck=neck, levels=levels, resize=resize,
            coverage=coverage, min_positives=min_positives if typed("min_positives") else None,
            min_iou=min_iou if typed("min_iou") else None, anchors_per_level=anchors_per_level,
            min_cells=min_cells if typed("min_cells") else None,
            erf_factor=erf_factor if typed("erf_factor") else None,
            format=format.value if format else None, strict=strict, split=split, image_size=size, progress=progress,
            workers=workers, client=client,
        )  # fmt: skip
    command = "scalematch " + shlex.join(ctx.meta.get("argv") or ["recommend"])
    if isinstance(result, DetectorResult):
        from scalematch.cli.detector_mode import show_detector

        show_detector(result, label, objects, export, as_json, out, where, force, command, paths)
        return
    from scalematch.report.recommend_text import level_table, sentences, sweep_table

    designs = list(result.designs)
    best = result.best
    rec = best.recommendation
    text = files = None  # every output made before any is written (as in detector mode)
    if export is not None:
        from scalematch.report.export import EXPORTERS

        at = f"{best.backbone}{' + ' + best.neck if best.neck else ''} at resize {best.resize}"
        text = EXPORTERS[export[0]](rec, at)  # a recommendation the toolkit cannot take is refused before a write
    if out is not None:
        from scalematch.report.bundle import ReportInput, build_report

        assert best.data is not None
        files = build_report(ReportInput(best.data, best, tuple(designs), command, inputs=paths))
    if export is not None and text is not None:
        from scalematch.atomic import atomic_text

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
    if len(designs) > 1:
        typer.echo(sweep_table(designs))
        typer.echo(f"\nBest: {best.backbone} at {best.resize}\n")
    shown = f"{best.backbone}{' + ' + best.neck if best.neck else ''}"
    count = counted(rec.full.total, "object")
    ends = " (both ends judged)" if rec.both_ends else ""
    typer.echo(f"{printable(label)}: {count}, {shown}, resize {best.resize}{ends}, rule {rec.rule.value}")
    if best.excluded:
        typer.echo("excluded: " + ", ".join(f"{k} {v}" for k, v in best.excluded.items()))
    typer.echo("")
    typer.echo(level_table(rec.full))
    typer.echo("")
    for line in sentences(rec):
        typer.echo(line)
    if export is not None:
        typer.echo(f"\nwrote {printable(str(export[1]))} ({export[0].value})")
    if written is not None and files is not None:
        typer.echo("\n" + wrote_line(written, files))


def _preset_files(detector: str | None) -> list[str]:
    """The backbone and neck a preset YAML file names (read too, so never an output), as the preset has them."""
    if not detector or not Path(detector).is_file():
        return []
    from scalematch.presets.load import read_preset

    preset = read_preset(detector, "detector")
    return [name for name in (preset.backbone, preset.neck) if name]
