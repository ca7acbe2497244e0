"""A whole report: the figures, the HTML page and the JSON document, built in memory and written as one folder.

``build_report`` computes everything first; ``write_report`` then writes the files into a hidden temporary
folder beside the target and renames it into place, so a reader never sees a half-written report. An existing
report is only replaced with ``force``; a non-empty folder that holds no report.html (or a report.html that is no
file: a folder, a FIFO), or a file the report there did not write, is never replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scalematch._paths import kind
from scalematch._text import counted, cut_name, dumps
from scalematch.dataset.loader import LoadResult
from scalematch.errors import OptionError
from scalematch.match.design import Design
from scalematch.report.columns import UsableRows
from scalematch.report.html_report import Image, render_html
from scalematch.report.provenance import dataset_label, provenance
from scalematch.report.recommend_text import recommend_document
from scalematch.report.style import printable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.figure import Figure

REPORT_HTML = "report.html"
REPORT_JSON = "recommendation.json"
DPI = 100


@dataclass(frozen=True)
class ReportInput:
    """What a report is made of: the loaded data, the best design and (for a sweep) every design."""

    data: LoadResult
    best: Design
    designs: tuple[Design, ...] = ()
    command: str = "scalematch recommend"
    created: datetime | None = field(default=None)
    inputs: tuple[Path, ...] = ()
    """The files read, when there are several (their digests go into the provenance)."""

    @property
    def sweep(self) -> list[Design]:
        return list(self.designs) if len(self.designs) > 1 else []


CAPTIONS = {
    "overlay": (
        "Object sizes against the levels",
        "Bottom: how many objects have each longer side max(w, h) in input pixels (log2 axis, 8 bins per doubling), "
        "coloured by the level that takes them; grey: too small / too large for every level. Top: one lane per "
        "candidate level, finest first (* recommended). The coloured bar spans the longer sides of the objects the "
        "level is given; ◀ is its ERF limit, the rf rule's cut on the longer side (±k σ = k ERF diameters, with the "
        "ERF diameter 2σ and k the ERF factor), and ▶ its minimum size (min cells × stride), which the rule asks of "
        "√(w·h) and which the longer side then reaches too; so under the rf rule every object a level takes lies "
        "between its ▶ and ◀, and the too large ones lie beyond the ◀ of every level that resolves them (a thin "
        "object can be too small, on √(w·h), though its longer side passes the finest ▶). | marks the theoretical "
        "receptive field and ▼ the fitted anchors (longer side).",
    ),
    "profile": (
        "Spatial-scale profile of the backbone",
        "Union width (the exact number of input pixels a unit depends on) along the longest path, with the "
        "receptive field, the ERF diameter 2σ (±σ) and the stride (right axis); dotted verticals mark the named "
        "outputs.",
    ),
    "load": (
        "Load per level",
        "Objects per candidate level under the rule, with too small and too large; hatched levels are not "
        "recommended. Bar heights are the counts in the levels table.",
    ),
    "categories": (
        "Categories across levels",
        "Share of each category's objects per level (rows sum to 100%), for the most frequent categories.",
    ),
    "shapes": (
        "Object shapes and anchors",
        "Width against height of every object (hexagonal bins, log-log, grey shade: count), with the fitted "
        "anchors of the recommended levels (one colour and marker per level) and the toolkit defaults (hollow red "
        "squares); the dashed line is w = h.",
    ),
    "sweep": (
        "Design sweep",
        "Coverage of the recommended levels for every backbone and resize policy, written in each cell; the "
        "colour is on the miss rate 1 − coverage, log scale, so 90 %, 99 % and 99.9 % are equally far apart; the "
        "outline marks the best.",
    ),
}


def figures(inp: ReportInput) -> dict[str, Figure]:
    """Every figure of the report by key (see :data:`CAPTIONS`), in display order."""
    from scalematch.profile.api import build
    from scalematch.profile.engine import profile
    from scalematch.report.level_plot import category_figure, load_figure
    from scalematch.report.overlay_plot import overlay_figure
    from scalematch.report.profile_plot import profile_figure
    from scalematch.report.shape_plot import shape_figure
    from scalematch.report.sweep_plot import sweep_figure

    rec = inp.best.recommendation
    table = inp.data.table
    prof = profile(build(inp.best.backbone, inp.best.neck), allow_misaligned=True)
    out = {
        "overlay": overlay_figure(table, rec),
        "profile": profile_figure(prof),
        "load": load_figure(rec.full, rec.recommended_levels),
        "categories": category_figure(rec.full),
        "shapes": shape_figure(table, rec),
    }
    if inp.sweep:
        out["sweep"] = sweep_figure(inp.sweep)
    return out


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (no timestamp in the metadata, so the same figure gives the same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def build_report(inp: ReportInput) -> dict[str, bytes]:
    """File name -> content of every file of the report: report.html, one PNG per figure, recommendation.json."""
    images = [Image(key, *CAPTIONS[key], png_bytes(fig)) for key, fig in figures(inp).items()]
    designs = list(inp.designs) or [inp.best]
    document = recommend_document(inp.best, designs)
    table = inp.data.table
    objects = len(UsableRows(table))
    summary = {
        "dataset": dataset_label(inp.data.source, inp.inputs),
        "format": inp.data.format,
        "images": inp.data.images,
        "objects": objects,
        "crowd": len(table) - objects,
    }
    prov = provenance(inp.data.source, inp.command, inp.created, inp.inputs)
    html = render_html(inp.best, designs, summary, images, document, prov)
    files = {REPORT_HTML: html.encode("utf-8")}
    files.update({f"{image.key}.png": image.png for image in images})
    files[REPORT_JSON] = (dumps(document) + "\n").encode("utf-8")
    return files


def report_folder(source: str | Path, option: str = "--report") -> Path:
    """reports/<dataset name>/: the name of the annotation file without its suffix, or of the folder (for ``.`` or
    ``..``, the name of the folder they stand for); for the standard subfolders (VOC ``Annotations``, YOLO
    ``labels``, ``images``) the dataset root above them; for a YOLO split (``ds/labels/train``) or a Roboflow COCO
    file (``ds/train/_annotations.coco.json``) the dataset and the split (``ds-train``), so that datasets and their
    splits do not share a report folder."""
    path = Path(source)
    name = path.stem if path.is_file() or path.suffix.lower() in (".json", ".xml", ".txt") else path.name
    if path.is_dir() and name in ("", ".."):
        name = Path(os.path.realpath(path)).name
    real = Path(os.path.realpath(path))
    if path.is_dir() and name.lower() in ("annotations", "labels", "images"):
        split = real.parent.name.lower() in ("train", "valid", "val", "test")  # Roboflow: ds/train/labels
        name = f"{real.parent.parent.name}-{real.parent.name}" if split else real.parent.name
    elif path.is_dir() and real.parent.name.lower() in ("labels", "images"):  # a split: ds/labels/train -> ds-train
        name = f"{real.parent.parent.name}-{name}"
    elif path.is_file() and name.startswith("_annotations"):  # Roboflow: ds/train/_annotations.coco.json -> ds-train
        name = f"{real.parent.parent.name}-{real.parent.name}"
    if name in ("", ".", "..") or name.startswith("."):
        shown = path.name or name or str(path)
        raise OptionError(f"{option}: the dataset name {shown!r} gives no folder name; use --out DIR")
    return Path("reports") / name


def check_target(out: Path, force: bool, option: str = "--out", inputs: tuple[Path, ...] = ()) -> None:
    """Raise :class:`OptionError` unless ``out`` may receive a report (absent, empty, or a report and ``force``)
    and can be written (see :func:`scalematch.atomic.check_output`; it must not be or lie in one of the
    ``inputs``). A report that a killed ``--force`` run left set aside is first put back
    (:func:`scalematch.atomic.recover_folder`)."""
    from scalematch.atomic import check_output, follow, recover_folder, target_lock

    check_output(out, option, folder=True, inputs=inputs)
    path = follow(out)
    if path.parent.is_dir():  # another run writing there now: fail before the work, not after it
        with target_lock(path, option):
            recover_folder(path, is_report)
    _check_folder(path, force, option, out)


def is_report(folder: Path) -> bool:
    """Whether ``folder`` holds a report's page (a folder made again by something else after a killed ``--force``
    write does not: the report that write set aside is then kept, not removed)."""
    return (folder / REPORT_HTML).is_file()


def _figures_named(html: Path) -> set[str]:
    """The keys of the figures a report page shows (its ``<figure id="fig-KEY">``), among the keys a report of
    either kind writes: the PNGs that report wrote, and the only ones a replacement may remove."""
    import re

    try:
        text = html.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return set(re.findall(r'<figure id="fig-([a-z]+)">', text)) & _figure_keys()


def _figure_keys() -> set[str]:
    """The keys of the figures a report of either kind may write (``KEY.png``)."""
    from scalematch.report.detector_report import CAPTIONS as DETECTOR_CAPTIONS

    return {*CAPTIONS, *DETECTOR_CAPTIONS}


@contextlib.contextmanager
def hold_target(out: Path, force: bool, option: str = "--out", inputs: tuple[Path, ...] = ()) -> Iterator[None]:
    """:func:`check_target`, then keep the target's lock until the block ends (the whole run): a second run on
    the same target fails at once, before its work and before it writes any other output, instead of finding
    the first run's report after its work. SIGTERM and SIGHUP end the block like SIGINT, so the lock goes too."""
    from scalematch.atomic import check_output, follow, recover_folder, target_lock, terminate_raises

    check_output(out, option, folder=True, inputs=inputs)
    path = follow(out)
    if not path.parent.is_dir():  # nothing to lock yet: the report's write creates the folders
        _check_folder(path, force, option, out)
        yield
        return
    with terminate_raises(), target_lock(path, option):
        recover_folder(path, is_report)
        _check_folder(path, force, option, out)
        yield


def _check_folder(out: Path, force: bool, option: str = "--out", given: Path | None = None) -> None:
    """Refuse a folder ``out`` a report may not replace; errors name it as ``given`` (a link as the user gave it)."""
    shown = cut_name(given if given is not None else out)
    if not out.exists():
        return
    if not out.is_dir():
        raise OptionError(f"{option} {shown}: expected a folder, got a file")
    if not any(out.iterdir()):
        return
    page = kind(out / REPORT_HTML)  # None for a regular file
    if page == "missing":
        raise OptionError(f"{option} {shown}: the folder holds other files and no {REPORT_HTML}; choose a new folder")
    if page is not None:  # a folder (holding files of its own), a FIFO, a dangling link: no page a report wrote
        raise OptionError(f"{option} {shown}: its {REPORT_HTML} is {page}, not a report's page; choose a new folder")
    shows = _figures_named(out / REPORT_HTML)
    ours = {REPORT_HTML, REPORT_JSON, *(f"{key}.png" for key in shows)}
    foreign = sorted((p for p in out.iterdir() if not (p.is_file() and p.name in ours)), key=lambda p: p.name)
    others = [p.name for p in foreign]
    figures = all(p.is_file() and p.suffix == ".png" and p.stem in _figure_keys() for p in foreign)
    if others and not shows and figures:  # the page was edited, re-saved or replaced: it is not ours
        raise OptionError(
            f"{option} {shown}: its {REPORT_HTML} shows none of the figures beside it ({', '.join(others[:3])}), "
            "as an edited or replaced page does; choose a new folder"
        )
    if others:
        raise OptionError(
            f"{option} {shown}: the folder holds files that are not part of a report "
            f"({', '.join(others[:3])}); choose a new folder"
        )
    if not force:
        how = "--force" if option.startswith("--") else "force=True"  # the command line's option, or Python's
        raise OptionError(f"{option} {shown}: a report is already there; pass {how} to replace it")


def write_report(
    out: str | os.PathLike[str], files: dict[str, bytes], force: bool = False, option: str = "out"
) -> Path:
    """Write ``files`` (file name -> bytes, as :func:`build_report` makes them) as the folder ``out`` (a ``str`` or
    an ``os.PathLike``) atomically (:func:`scalematch.atomic.write_folder`: a temporary folder beside it, swapped
    in with one rename; a killed run never leaves ``out`` without a complete report). An existing report is
    replaced only with ``force`` (True or False: a text such as ``"no"`` is an :class:`OptionError`, never taken
    by its truth value); a symbolic link ``out`` is followed. ``files`` must hold the page, report.html, and its
    names must be plain file names inside the folder (:func:`check_files`). ``option`` names ``out`` in messages
    (the command line gives its option, ``--out``). Returns the path of report.html."""
    from scalematch._args import expect, flag, given_path
    from scalematch.atomic import write_folder

    force = flag(force, "force")
    expect(option, "option", str, "the name of the output in messages, such as out or --out")
    out = Path(given_path(out, "out", "a folder path (str or pathlib.Path)"))
    check_files(files)
    write_folder(out, files, lambda path: _check_folder(path, force, option, out), option=option, ours=is_report)
    return out / REPORT_HTML


def wrote_line(written: Path, files: dict[str, bytes]) -> str:
    """The line saying what a report folder holds: ``wrote DIR/report.html (with 2 figures as PNG and
    recommendation.json)``, the figures counted, in rule and detector mode alike."""
    figures = counted(sum(name.endswith(".png") for name in files), "figure")
    return f"wrote {printable(str(written))} (with {figures} as PNG and {REPORT_JSON})"


def check_files(files: object) -> None:
    """An :class:`OptionError` naming ``files`` unless it maps plain file names to bytes and holds report.html: a
    name is text that stays inside the folder (no ``/`` or ``\\``, not ``.`` or ``..``, no NUL byte: the folder is
    swapped in whole, never written beside), and a content is ``bytes`` or ``bytearray`` (text is encoded by the
    caller, ``text.encode('utf-8')``). A folder without report.html is no report: it could not be replaced
    later."""
    from collections.abc import Mapping

    from scalematch._args import shown

    if not isinstance(files, Mapping):
        raise OptionError(f"files: expected a dict of file name -> bytes (build_report makes one), got {shown(files)}")
    for name, content in files.items():
        if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\\0"):
            raise OptionError(
                f"files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got "
                f"{shown(name)}"
            )
        if not isinstance(content, bytes | bytearray):
            hint = " (encode text first: text.encode('utf-8'))" if isinstance(content, str) else ""
            raise OptionError(f"files: expected bytes as the content of {name!r}, got {shown(content)}{hint}")
    if REPORT_HTML not in files:
        raise OptionError(
            f"files: expected a {REPORT_HTML} among the files (the folder is a report, and only a report folder is "
            f"replaced later), got {', '.join(map(repr, list(files)[:3])) or 'no file'}"
        )
