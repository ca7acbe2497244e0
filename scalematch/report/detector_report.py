"""The report of ``recommend --detector --out DIR``: the positives figure, the backbone's profile, the tables of
the summary, and the JSON document, as one self-contained HTML page plus its files."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from scalematch._text import dumps
from scalematch.dataset.loader import LoadResult
from scalematch.match.detector import DetectorResult, absent_note, repeated_note, toolkit_table
from scalematch.report.html_report import Image, Preformatted, render
from scalematch.report.positives_text import REASON_WORDS, describe, search_lines, sentences
from scalematch.report.provenance import dataset_label, provenance
from scalematch.report.style import shown_name

CAPTIONS = {
    "positives": (
        "Positives per object",
        "One point per object: its size √(w·h) in input pixels (the box the assigner sees, log2 axis) against its "
        "positives (log scale of positives + 1, points jittered vertically so equal counts stay visible), "
        "coloured by the level holding most of them; grey crosses: no positive. The black steps are the median "
        "per size bucket (<16, 16-32, ... >256 px). For an upper-bound preset the points are candidate counts.",
    ),
    "profile": (
        "Spatial-scale profile of the backbone",
        "Union width (the exact number of input pixels a unit depends on) along the longest path, with the "
        "receptive field, the ERF diameter 2σ (±σ) and the stride (right axis); dotted verticals mark the named "
        "outputs. Context for the levels table: scalematch's receptive-field view, not a toolkit fact.",
    ),
}


def category_rows(result: DetectorResult) -> list[dict[str, str]]:
    """Every category, most frequent first (ties by name), with its objects, those meeting the target's test
    (count and share), those without a positive and the median positives: which categories lose their
    positives."""
    frame = result.to_frame("categories").sort_index(kind="stable")
    frame = frame.sort_values("objects", ascending=False, kind="stable")
    if frame.empty or list(frame.index) == [""]:
        return []
    return [
        {
            "name": shown_name(str(name)),  # (a backslash doubled; the page's filter leaves it)
            "objects": str(int(row["objects"])),
            "meeting": f"{int(row['meeting'])} ({100 * row['share_meeting']:.1f}%)",
            "none": str(int(row["no_positive"])),
            "median": f"{row['median_positives']:g}",
        }
        for name, row in frame.iterrows()
    ]


def build_detector_report(
    result: DetectorResult,
    data: LoadResult,
    command: str,
    created: datetime | None = None,
    inputs: tuple[Path, ...] = (),
) -> dict[str, bytes]:
    """File name -> content: report.html, positives.png, profile.png, recommendation.json (``inputs``: the files
    read, when there are several, for the provenance)."""
    from scalematch.match.widen import level_graph
    from scalematch.profile.engine import profile
    from scalematch.report.bundle import REPORT_HTML, REPORT_JSON, png_bytes
    from scalematch.report.positives_plot import positives_figure
    from scalematch.report.profile_plot import profile_figure

    preset = result.preset
    prof = profile(level_graph(preset), allow_misaligned=True)
    figures = {"positives": positives_figure(result.simulation), "profile": profile_figure(prof)}
    images = [Image(key, *CAPTIONS[key], png_bytes(fig)) for key, fig in figures.items()]
    doc = replace(result, source=str(data.source), excluded=dict(data.excluded)).to_dict()
    objects = result.summary.objects
    rows = len(data.table) if result.repeated is None else len(toolkit_table(data, preset))  # (as it reads them)
    summary = {
        "dataset": dataset_label(data.source, inputs),
        "format": data.format,
        "images": data.images,
        "objects": objects,
        "crowd": rows - objects - result.ignored,
        "difficult": result.ignored,
    }
    html = render(
        "detector_report.html.j2",
        summary=summary,
        preset=preset,
        target=result.target,
        meets=result.meets_target,
        positives=result.summary,
        description=describe(preset),
        sentences=sentences(preset, result.summary, result.target),
        search=search_lines(result.search) if result.search is not None else [],
        categories=category_rows(result),
        images=images,
        reason_words=REASON_WORDS,
        excluded=sorted(data.excluded.items()),
        repeated=None if result.repeated is None else repeated_note(preset, result.repeated),
        left_out=None if result.left_out is None else result.left_out.note(preset),
        absent=absent_note(preset, result.absent),
        prov=provenance(data.source, command, created, inputs),
        document=Preformatted(dumps(doc)),
    )
    files = {REPORT_HTML: html.encode("utf-8")}
    files.update({f"{image.key}.png": image.png for image in images})
    files[REPORT_JSON] = (dumps(doc) + "\n").encode("utf-8")
    return files
