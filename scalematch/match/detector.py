"""A detector preset matched against a dataset: the assigner simulation, its summary and the levels' profile."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scalematch._text import counted, cut_name, int_text
from scalematch.dataset.loader import LoadResult, as_load_result
from scalematch.dataset.table import DUPLICATE_ID, IMAGE_TOO_SMALL, RepeatedIds
from scalematch.errors import DatasetError, OptionError
from scalematch.match import geometry
from scalematch.match.assign import DEFAULT_MIN_IOU, DROPPED, Running, Simulation
from scalematch.match.early import Early
from scalematch.match.levels import Level, levels_from_profile
from scalematch.match.positives import PositivesSummary, summarize
from scalematch.match.recommend import check_coverage
from scalematch.match.result import Selected, crowd_rows, nothing_usable, rows_at, small_image_text
from scalematch.match.search import Search, Sweep, check_reachable, search
from scalematch.match.training_set import LeftOutImages, training_images
from scalematch.match.widen import level_graph
from scalematch.presets.preset import LetterboxInput, MMDetInput, Preset
from scalematch.profile.engine import profile
from scalematch.profile.graph import Graph

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd


MAX_MIN_POSITIVES = 10_000  # no default assigner gives one object more positives than this


@dataclass(frozen=True)
class DetectorResult:
    """What ``recommend --detector`` reports: the preset, per-object positives and their summary."""

    preset: Preset
    simulation: Simulation = field(repr=False)
    summary: PositivesSummary
    levels: tuple[Level, ...]
    target: float
    search: Search | None = None
    """The design search, run when the preset misses the target."""
    source: str = ""
    excluded: dict[str, int] = field(default_factory=dict)
    """Records left out of the box table, by reason."""
    sweep: Sweep | None = None
    """The input sizes tried, best first, when several were given (the preset is then the best one's)."""
    data: LoadResult | None = field(default=None, repr=False, compare=False)
    """The boxes matched (for figures and per-object tables)."""
    ignored: int = 0
    """VOC ``difficult`` objects left out because the preset's toolkit ignores them (:func:`toolkit_rows`)."""
    repeated: RepeatedIds | None = None
    """COCO annotation ids that repeat, whose records the simulation takes otherwise than the toolkit
    (:func:`repeated_ids`); None when none repeats."""
    left_out: LeftOutImages | None = None
    """The images holding objects that the preset's toolkit leaves out of its training set, and their objects
    (:func:`~scalematch.match.training_set.training_images`): not simulated; None when there are none."""
    absent: dict[str, int] = field(default_factory=dict)
    """COCO: the records without a key the preset's toolkit reads with ``[key]`` (and stops on), by key
    (:func:`absent_note`)."""

    @property
    def meets_target(self) -> bool:
        return self.summary.share_meeting >= self.target

    def __repr__(self) -> str:
        verdict = "meets" if self.meets_target else "misses"
        return (
            f"<DetectorResult {self.preset.name} ({self.preset.toolkit}): {100 * self.summary.share_meeting:.1f}% of "
            f"{counted(self.summary.objects, 'object')} {'has' if self.summary.objects == 1 else 'have'} "
            f"{self.summary.min_positives}+ positives, {verdict} the target "
            f"{100 * self.target:g}%>"
        )

    def to_dict(self) -> dict[str, object]:
        """The ``scalematch recommend --detector ... --json`` document."""
        from scalematch.match.documents import document, sweep_document

        doc = document(self.preset, self.summary, self.target, self.source, self.search, self.excluded)
        if self.sweep is not None:
            doc["sweep"] = sweep_document(self.sweep)
        if self.ignored:
            doc["ignored_difficult"] = self.ignored
        if self.repeated is not None:
            doc["repeated_annotation_ids"] = repeated_document(self.preset, self.repeated)
        if self.left_out is not None:
            doc["images_left_out"] = self.left_out.to_dict(self.preset)
        note = absent_note(self.preset, self.absent)
        if note is not None:
            doc["records_without_key"] = {"counts": dict(self.absent), "note": note}
        return doc

    def to_frame(self, kind: str = "levels") -> pd.DataFrame:
        """A pandas DataFrame: ``levels`` (positives per level), ``sizes`` (per object size bucket),
        ``categories`` (per category id, labelled as :func:`~scalematch.dataset.table.category_labels` does) or
        ``objects`` (one row per object, as ``--objects FILE.csv``)."""
        import pandas as pd

        from scalematch import _args
        from scalematch.match.positives import objects_frame

        _args.choice(kind, "kind", ("levels", "sizes", "categories", "objects"))
        if kind == "objects":
            return objects_frame(self.simulation)
        if kind == "categories":
            from scalematch.dataset.table import category_labels

            objects = objects_frame(self.simulation)
            labels = category_labels(self.simulation.table)  # one row per category id, named as everywhere
            objects["category"] = objects["category"] if labels is None else labels
            objects["meeting"] = self.simulation.quality >= self.summary.min_positives
            grouped = objects.groupby("category", sort=True)
            frame = pd.DataFrame(
                {
                    "objects": grouped.size(),
                    "meeting": grouped["meeting"].sum().astype(int),
                    "no_positive": grouped["positives"].apply(lambda p: int((p == 0).sum())),
                    "median_positives": grouped["positives"].median(),
                }
            )
            frame["share_meeting"] = frame["meeting"] / frame["objects"]
            ordered: pd.DataFrame = frame.sort_values("objects", ascending=False)
            return ordered
        positives: dict[str, Any] = self.summary.to_dict()
        table: pd.DataFrame = pd.DataFrame(positives["levels" if kind == "levels" else "by_size"])
        return table


def evaluate(
    data: LoadResult | pd.DataFrame,
    preset: Preset,
    target: float = 0.99,
    min_positives: int = 1,
    min_iou: float = DEFAULT_MIN_IOU,
    *,
    strict: bool = False,
    workers: int | None = None,
    graph: Graph | None = None,
    early: Early | None = None,
    read_here: bool = False,
) -> DetectorResult:
    """Simulate ``preset``'s assigner on every non-crowd object of ``data`` (but VOC ``difficult`` ones where the
    toolkit ignores them, :func:`ignores_difficult`) and summarise it (in ``workers``
    processes; default: every core).

    ``target`` is the share of objects that should have at least ``min_positives`` positives, counting for IoU
    assigners only those with IoU >= ``min_iou``. ``data`` is a :class:`LoadResult` or a DataFrame with the
    box-table columns. The images the toolkit leaves out of its training set (mmdetection's ``filter_cfg``,
    torchvision's reference's filter; :func:`~scalematch.match.training_set.training_images`) are not simulated,
    and the result counts them (``left_out``). The objects of an image that becomes too small an input for the
    network under the preset's resize are left out, counted as ``image_too_small`` (with ``strict``, the first is
    an error). ``graph``: the preset's level graph when the caller has it already (built from the preset's files
    otherwise). ``early``: a simulation started while ``data`` was read (:mod:`scalematch.match.early`), used when
    it ran on these rows. ``read_here``: ``data`` was read from files by the caller just now, so no one edited its
    boxes in place (the comparison of its input-pixel columns with its sizes,
    :func:`~scalematch.dataset.loader.as_load_result`, is skipped).
    """
    from scalematch import _args
    from scalematch.dataset.shards import check_workers

    _args.expect(preset, "preset", Preset, "a Preset (scalematch.load_preset('retinanet'))")
    target = _args.number(target, "target")  # a Fraction or a numpy number as the float it stands for
    min_positives = _args.integer(min_positives, "min_positives")
    min_iou = _args.number(min_iou, "min_iou")
    strict = _args.flag(strict, "strict")
    if workers is not None:
        check_workers(workers)
    data = data if read_here and isinstance(data, LoadResult) else as_load_result(data)
    check_coverage(target)
    if not 1 <= min_positives <= MAX_MIN_POSITIVES:
        expected = f"an integer from 1 to {MAX_MIN_POSITIVES:,}"
        raise OptionError(f"min_positives: expected {expected}, got {int_text(min_positives)}")
    if not 0 <= min_iou < 1:
        raise OptionError(f"min_iou: expected an IoU in [0, 1), got {min_iou}")
    check_reachable(preset, min_positives)
    repeated = repeated_ids(data, preset)
    graph = level_graph(preset) if graph is None else graph
    data, left_out = training_images(data, preset)
    if left_out is not None and not len(data.table):
        raise DatasetError(f"{data.source}: no usable object to match ({left_out.note(preset)})")
    data = without_small_images(with_nested(data, preset), preset, graph, strict)
    check_density(data, preset)
    rows, ignored = toolkit_selection(data, preset)
    if not len(rows):
        raise _nothing_to_match(data, preset, ignored, left_out.note(preset) if left_out is not None else "")
    sim = early.take(preset, rows, min_iou, workers) if early is not None else None
    if sim is None:
        sim = Running(preset, rows.frame, graph, min_iou, workers).result(rows)
    if sim.count(DROPPED) == len(rows):  # (an 'ignore' record under mmdetection, a refused YOLO label, ...)
        raise DatasetError(
            f"{data.source}: no usable object to match: {preset.toolkit}'s data pipeline drops "
            f"{'the only object' if len(rows) == 1 else f'all {len(rows):,} objects'} ({DROPPED}, see "
            "docs/reference/recommend.md)"
        )
    levels = preset_levels(preset, graph)
    summary = summarize(sim, levels, min_positives)
    found = None if summary.share_meeting >= target else search(rows.frame, preset, target, min_positives, min_iou)
    return DetectorResult(
        preset, sim, summary, levels, target, found, data.source, dict(data.excluded), data=data, ignored=ignored,
        repeated=repeated, left_out=left_out,
        absent={k: n for k, n in data.absent.items() if k in required_keys(preset)},
    )  # fmt: skip


_levels: list[tuple[Graph, tuple[str, ...], tuple[Level, ...]]] = []
"""The last graph :func:`preset_levels` profiled, the level names asked for, and its levels."""


def preset_levels(preset: Preset, graph: Graph) -> tuple[Level, ...]:
    """The profile of ``preset``'s levels in ``graph`` (its level graph). The last one is kept: the CLI has it
    computed while the reader's workers decode (``scalematch.match.api._preload``), and :func:`evaluate` then
    takes it instead of profiling the graph again (the same graph object, the same level names)."""
    names = tuple(preset.levels)
    for known, asked, levels in _levels:
        if known is graph and asked == names:
            return levels
    levels = levels_from_profile(profile(graph), list(names))
    _levels[:] = [(graph, names, levels)]
    return levels


def repeated_ids(data: LoadResult, preset: Preset) -> RepeatedIds | None:
    """The COCO annotation ids of ``data`` that repeat (:class:`RepeatedIds`), checked against ``preset``'s
    toolkit. mmdetection's CocoDataset collects the ids of the records of the file's images and stops when one
    repeats (``Annotation ids ... are not unique``), whatever the records hold, and so does this (a
    :class:`DatasetError` naming the file and the id); otherwise it reads, as torchvision's CocoDetection does, the
    record pycocotools' index keeps for the id (its last) at each place the id is listed; ultralytics'
    ``convert_coco`` writes every record. The simulation reads them so (:func:`with_repeats`), and the result says
    so (:func:`repeated_note`)."""
    repeated = data.repeated
    if repeated is None:
        return None
    if isinstance(preset.input, MMDetInput) and repeated.listed is not None:
        ann_id, file = repeated.listed
        raise DatasetError(
            f"{file}: annotation id {ann_id} appears more than once among the records of the file's images, and "
            f"{preset.toolkit}'s CocoDataset stops on a repeated annotation id ({preset.name} cannot be "
            f"simulated); give each annotation its own id [{DUPLICATE_ID}]"
        )
    return repeated


def required_keys(preset: Preset) -> tuple[str, ...]:
    """The COCO keys that ``preset``'s toolkit reads of every record it keeps with ``[key]``, stopping on a record
    without one (``KeyError``), among those the readers fill in (:attr:`LoadResult.absent`): mmdetection's
    CocoDataset ``ann['bbox']`` and ``ann['area']``; torchvision's detection reference ``obj['iscrowd']`` (its
    crowd filter) and ``obj['bbox']``; ultralytics' ``convert_coco`` ``ann['bbox']``."""
    if isinstance(preset.input, MMDetInput):
        return ("bbox", "area")
    if isinstance(preset.input, LetterboxInput):
        return ("bbox",)
    return ("bbox", "iscrowd")


def absent_note(preset: Preset, absent: dict[str, int]) -> str | None:
    """The ``note:`` that records lack keys ``preset``'s toolkit stops on (``absent``, :func:`required_keys`),
    which the preset simulates all the same (the box of the mask, ``iscrowd`` 0, ``area`` w * h); None without."""
    found = [(key, absent[key]) for key in required_keys(preset) if absent.get(key)]
    if not found:
        return None
    if isinstance(preset.input, MMDetInput):
        reader = "mmdetection's CocoDataset"
    elif isinstance(preset.input, LetterboxInput):
        reader = "ultralytics' convert_coco"
    else:
        reader = "torchvision's detection reference"
    taken = {"bbox": "the mask's box", "iscrowd": "not a crowd", "area": "area w·h"}
    counts = ", ".join(f"{counted(n, 'annotation record')} without '{key}'" for key, n in found)
    how = ", ".join(taken[key] for key, _ in found)
    return f"{counts}: {reader} stops on such a record (KeyError); simulated all the same ({how})"


def repeated_document(preset: Preset, repeated: RepeatedIds) -> dict[str, object]:
    """The JSON's ``repeated_annotation_ids``: how many records, the first id, its file and the note."""
    note = repeated_note(preset, repeated)
    return {"records": repeated.count, "first": repeated.first, "file": repeated.file, "note": note}


def repeated_note(preset: Preset, repeated: RepeatedIds) -> str:
    """How the records of repeated annotation ids are simulated under ``preset`` (:func:`with_repeats`)."""
    if isinstance(preset.input, LetterboxInput):
        toolkit = "every record of an image of the file, as ultralytics' convert_coco writes them"
    else:
        reader = "mmdetection's CocoDataset" if isinstance(preset.input, MMDetInput) else "torchvision's CocoDetection"
        toolkit = (
            "the last record of an id, whatever it holds, at every place the id is listed in an image of the file, "
            f"as {reader} reads them (pycocotools' index), then the toolkit's own checks of that record"
        )
    verb = "repeats" if repeated.count == 1 else "repeat"
    return (
        f"{counted(repeated.count, 'annotation record')} {verb} an earlier record's id (the first: annotation id "
        f"{repeated.first} in {cut_name(repeated.file)}): simulated as {toolkit}"
    )


def ignores_difficult(preset: Preset) -> bool:
    """True when ``preset``'s toolkit ignores VOC ``difficult`` objects: mmdetection's XMLDataset gives them
    ``ignore_flag=1`` and PackDetInputs moves them to ``ignored_instances``, which its assigners never see; the VOC
    converters of yolov5 and ultralytics (``data/VOC.yaml``) leave them out of the YOLO labels. torchvision has no
    VOC training pipeline of its own (VOCDetection hands over the XML as it is): its presets keep them."""
    return isinstance(preset.input, MMDetInput | LetterboxInput)


def toolkit_rows(data: LoadResult, preset: Preset) -> tuple[pd.DataFrame, int]:
    """The rows of ``data``'s table that ``preset``'s toolkit trains on, and how many difficult ones were left out:
    non-crowd objects, without the VOC ``difficult`` ones where the toolkit ignores them (:func:`ignores_difficult`;
    mmdetection: any non-zero value, the YOLO converters: exactly 1). A VOC box is given as that toolkit reads the
    XML (:func:`_voc_boxes`). A COCO box under a YOLO preset is the label the converter writes (column
    ``label_text``, see :mod:`scalematch.dataset.yolo_labels`); a table that names its label files came from them.
    Boxes read from YOLO label files under the ultralytics preset are its labels after ``verify_image_label``'s
    duplicate removal (column ``label_unique``): the reader removed the lines it removes (``duplicate_label``; in a
    polygon file by class and points, so two polygons of one box but other points both stay). The records of
    repeated COCO annotation ids are read as the toolkit reads them (:func:`toolkit_table`)."""
    selected, ignored = toolkit_selection(data, preset)
    return selected.frame, ignored


def toolkit_selection(data: LoadResult, preset: Preset) -> tuple[Selected, int]:
    """:func:`toolkit_rows` as rows of a table not taken yet (:class:`~scalematch.match.result.Selected`)."""
    import numpy as np

    table = toolkit_table(data, preset)
    crowd = crowd_rows(table)
    keep = None if crowd is None else ~crowd
    ignored = 0
    if ignores_difficult(preset) and "difficult" in table.columns:
        value = table["difficult"].to_numpy()
        difficult = value == 1 if isinstance(preset.input, LetterboxInput) else value != 0
        if keep is not None:
            difficult &= keep
        if difficult.any():
            keep, ignored = ~difficult if keep is None else keep & ~difficult, int(difficult.sum())
    selected = Selected(table, None if keep is None or keep.all() else np.flatnonzero(keep))
    rows = None
    if data.format == "voc" and ignores_difficult(preset):
        rows = _voc_boxes(selected.frame, preset)
    if data.format == "coco" and isinstance(preset.input, LetterboxInput) and "label_file" not in table.columns:
        rows = selected.frame.assign(label_text=True)
    if data.format == "yolo" and isinstance(preset.input, LetterboxInput) and preset.input.style == "ultralytics":
        rows = selected.frame.assign(label_unique=True)  # the reader removed ultralytics' duplicates (duplicate_label)
    return (selected if rows is None else Selected(rows)), ignored


def toolkit_table(data: LoadResult, preset: Preset) -> pd.DataFrame:
    """``data``'s table (with the VOC objects only the YOLO converters read, :func:`with_nested`) with the records
    of repeated COCO annotation ids as ``preset``'s toolkit reads them (:func:`with_repeats`), crowds included."""
    table = with_nested(data, preset).table
    repeats, resize = data.repeats, data.resize  # (records repeated only in files read, which have a policy)
    if repeats is not None and len(repeats) and resize is not None:
        table = with_repeats(table, repeats, preset, resize, data.source, tuple(data.categories))
    return table


def with_repeats(
    table: pd.DataFrame, repeats: pd.DataFrame, preset: Preset, resize: str, source: str = "",
    categories: tuple[int, ...] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """``table`` with the records of repeated annotation ids (``repeats``, see :attr:`LoadResult.repeats`) as
    ``preset``'s toolkit reads them, in the file's order (ids are per input, as in the table). ultralytics'
    ``convert_coco`` (the YOLO presets) writes every record of an image of the file: those that only
    ``duplicate_id`` leaves out join the table (the others, the checks leave out as they leave out any record).
    torchvision's CocoDetection and mmdetection's CocoDataset list each record of an image of the file in its image
    (pycocotools' ``imgToAnns``) but take it by id (``anns[id]``): every such place gets the last record of the id,
    whatever it holds (another image's, one a check of ours leaves out): its box, area, crowd and ignore flags and
    category, in the place's image; the toolkit's own checks follow (torchvision: crowds and boxes empty once
    clamped to the image are dropped; mmdetection: those of its CocoDataset, and a category the file does not list
    is dropped, flagged ``ignore``). A place whose last record scalematch's own type checks refuse (a ``bbox``
    that is not four numbers, a ``category_id`` that is no integer, an ``iscrowd`` not 0 or 1, an ``area`` that is
    no number) is a :class:`DatasetError`: the toolkit stops on some such records and reads others its own way.
    ``categories``: the file's category ids (default: those of ``table``); ``source`` names the file."""
    import numpy as np

    from scalematch.dataset.loader import resized
    from scalematch.dataset.table import REPEAT_COLUMNS, file_order, stacked

    n = len(table)
    if isinstance(preset.input, LetterboxInput):
        repeats = rows_at(repeats, repeats["only_repeat"].to_numpy(bool))
    order = file_order(np.arange(n), repeats["before"].to_numpy(np.int64))
    listed_categories = table["category_id"].to_numpy(np.int64) if categories is None else np.array(categories)
    known = np.isin(repeats["category_id"].to_numpy(np.int64), listed_categories)
    listed = table.assign(listed=True, readable=True, problem="", known=True)
    parts = [listed, repeats.drop(columns=["before", "only_repeat"]).assign(known=known)]
    joined = stacked(parts, ("file_name", "category", "shard"))
    both: pd.DataFrame = joined.take(order).reset_index(drop=True)
    if not isinstance(preset.input, LetterboxInput):
        key = both["ann_id"].to_numpy(np.int64)[:, None]
        if "shard" in both.columns:
            key = np.c_[both["shard"].cat.codes.to_numpy(np.int64), key]
        inverse = np.unique(key, axis=0, return_inverse=True)[1].reshape(-1)
        last = np.zeros(int(inverse.max()) + 1, dtype=np.int64)
        np.maximum.at(last, inverse, np.arange(len(both)))
        record = both.take(last[inverse]).reset_index(drop=True)
        places = both["listed"].to_numpy(bool)
        unreadable = places & ~record["readable"].to_numpy(bool)
        if unreadable.any():
            raise _unreadable(both, record, int(np.argmax(unreadable)), preset, source)
        for column in ("category_id", "category", "x", "y", "w", "h", "area", "iscrowd", "ignore", "known"):
            both[column] = record[column]
        if isinstance(preset.input, MMDetInput):  # CocoDataset: a category not among its classes is dropped
            both["ignore"] = both["ignore"].to_numpy(bool) | ~both["known"].to_numpy(bool)
        both = rows_at(both, places)
    else:
        both = rows_at(both, both["listed"].to_numpy(bool))
    out = both.drop(columns=[c for c in (*REPEAT_COLUMNS, "known") if c in both.columns])
    return resized(out.reset_index(drop=True), resize)


def _nothing_to_match(data: LoadResult, preset: Preset, ignored: int, left_out: str) -> DatasetError:
    """:func:`nothing_usable` for ``data`` under ``preset``, its crowds counted as the toolkit reads the records:
    a place of a repeated annotation id gets the id's last record (:func:`with_repeats`), which can be a crowd
    where the file's record there is none; the line then says so, and names the objects the training set left
    out (``left_out``: their note), which the counts of what is left do not hold."""
    import numpy as np

    if data.repeats is None or isinstance(preset.input, LetterboxInput):
        return nothing_usable(data, "match", ignored, preset.toolkit, left_out=left_out)
    table = toolkit_table(data, preset)
    ids = table["ann_id"].to_numpy(np.int64)
    crowd = table["iscrowd"].to_numpy(bool) & np.isin(ids, data.repeats["ann_id"].to_numpy(np.int64))
    if not crowd.any():
        return nothing_usable(data, "match", ignored, preset.toolkit, left_out=left_out)
    k = int(np.argmax(crowd))
    same = ids == ids[k]
    if "shard" in table.columns:
        same &= table["shard"].to_numpy() == table["shard"].iloc[k]
    reader = "mmdetection's CocoDataset" if isinstance(preset.input, MMDetInput) else "torchvision's CocoDetection"
    read_as = (
        f"{reader} reads annotation id {ids[k]} at {counted(int(same.sum()), 'place')} as the id's last record, a crowd"
    )
    return nothing_usable(data, "match", ignored, preset.toolkit, table, read_as, left_out)


def _unreadable(both: pd.DataFrame, record: pd.DataFrame, k: int, preset: Preset, source: str) -> DatasetError:
    """The error for place ``k`` of ``both``, whose last record (``record``) scalematch's own type checks of a
    record refuse (:data:`~scalematch.dataset.table.REPEAT_COLUMNS` ``readable``): a toolkit stops on some such
    records (a ``bbox`` of text) and reads others its own way (``true`` in a box as 1, an ``iscrowd`` of ``'0'``
    as a crowd), which the simulation does not follow."""
    shard = both["shard"].iloc[k] if "shard" in both.columns else source
    image = both["shard_image_id"].iloc[k] if "shard_image_id" in both.columns else both["image_id"].iloc[k]
    reader = "mmdetection's CocoDataset" if isinstance(preset.input, MMDetInput) else "torchvision's CocoDetection"
    return DatasetError(
        f"{shard}: annotation id {both['ann_id'].iloc[k]} is listed in image {image}, where {reader} reads the "
        f"last record of the id, and scalematch's own type checks refuse that record ({record['problem'].iloc[k]}: "
        f"the toolkit stops there or reads it its own way; {preset.name} cannot be simulated); give each annotation "
        f"its own id [{DUPLICATE_ID}]"
    )


def with_nested(data: LoadResult, preset: Preset) -> LoadResult:
    """``data`` with, under a YOLO preset, the VOC objects nested in another element among its objects (the
    converters of ``data/VOC.yaml`` walk ``root.iter('object')``; the other toolkits read the ``<object>`` children
    of ``<annotation>`` only, see :attr:`LoadResult.nested`)."""
    if data.nested is None or not isinstance(preset.input, LetterboxInput):
        return data
    from scalematch.dataset.table import stacked

    table = stacked([data.table, data.nested], ("file_name", "category", "shard", "label_file"))
    return replace(data, table=table, nested=None)


def _voc_boxes(rows: pd.DataFrame, preset: Preset) -> pd.DataFrame:
    """VOC boxes (the table's ``x = xmin - 1``, ``w = xmax - xmin + 1``) as the toolkit's own VOC pipeline reads
    them. mmdetection's XMLDataset: corners ``int(float(v)) - 1``, so ``w = int(xmax) - int(xmin)``, and no COCO
    filter (no minimum side, area or overlap with the image): every box goes to Resize (column ``voc``, read by
    :func:`scalematch.match.geometry.objects`). The yolov5 and ultralytics converters (``data/VOC.yaml``):
    centre ``(xmin + xmax) / 2 - 1`` and ``w = xmax - xmin``, one pixel less than the table's."""
    import numpy as np

    out: pd.DataFrame = rows.copy()
    x, y, w, h = (rows[c].to_numpy(np.float64) for c in ("x", "y", "w", "h"))
    if isinstance(preset.input, MMDetInput):
        x1, y1 = np.trunc(x + 1) - 1, np.trunc(y + 1) - 1
        out["x"], out["y"] = x1, y1
        out["w"], out["h"] = np.trunc(x + w) - 1 - x1, np.trunc(y + h) - 1 - y1
        out["voc"] = True
    else:
        out["w"], out["h"] = w - 1, h - 1
    return out


def without_small_images(data: LoadResult, preset: Preset, graph: Graph, strict: bool = False) -> LoadResult:
    """``data`` without the objects of images that become too small an input for ``graph`` under ``preset``'s
    resize (torchvision and mmdetection stop on such an image), counted as ``image_too_small``. Every image too
    small, or the first one under ``strict``, is a :class:`DatasetError` naming the file and the image."""
    data = _without_unsized(data, preset, strict)
    if data.repeats is not None:  # the toolkit stops on such an image: no place there (its records still count)
        import numpy as np

        listed = data.repeats["listed"].to_numpy(bool)
        small = np.zeros(len(listed), dtype=bool)
        small[listed] = small_images(preset, graph, rows_at(data.repeats, listed))[0]
        if small.any():
            data = replace(data, repeats=data.repeats.assign(listed=listed & ~small))
    small, first = small_images(preset, graph, data.table)
    if not small.any():
        return data
    if strict or small.all():
        every = "every image becomes too small an input for the network; the first: " if small.all() else ""
        raise DatasetError(f"{data.source}: {every}{first}{'' if small.all() else f' [{IMAGE_TOO_SMALL}]'}")
    excluded = Counter(data.excluded)
    excluded[IMAGE_TOO_SMALL] += int(small.sum())
    return replace(data, table=rows_at(data.table, ~small), excluded={k: excluded[k] for k in sorted(excluded)})


MAX_OBJECTS_PER_IMAGE = 10_000
"""The most objects of one image a max-IoU assigner is simulated for: its work grows with the square of an image's
overlapping objects (one image of 20,000 boxes took 4 minutes, 200,000 hours), as the toolkits' own matchers hold
an objects x anchors IoU matrix (20,000 x 180,000 anchors: 14 GB)."""


def check_density(data: LoadResult, preset: Preset) -> None:
    """A :class:`DatasetError` naming the image when one holds more than :data:`MAX_OBJECTS_PER_IMAGE` objects and
    the preset's assigner is max-IoU (RetinaNet, Faster R-CNN); the other assigners take each object on its own."""
    from scalematch.presets.preset import MaxIoU

    table = data.table
    if not isinstance(preset.assigner, MaxIoU) or len(table) <= MAX_OBJECTS_PER_IMAGE:
        return
    keys = ["shard", "image_id"] if "shard" in table.columns else ["image_id"]
    sizes = table.groupby(keys, sort=False, observed=True).size()
    if int(sizes.max()) <= MAX_OBJECTS_PER_IMAGE:
        return
    key = sizes.idxmax()
    image = key[-1] if isinstance(key, tuple) else key
    raise DatasetError(
        f"{data.source}: image {image} holds {int(sizes.max()):,} objects; {preset.name}'s max-IoU assigner is "
        f"simulated for at most {MAX_OBJECTS_PER_IMAGE:,} in one image (its work grows with the square of an "
        "image's overlapping objects, as the toolkit's own objects x anchors IoU matrix does); leave such images out"
    )


def _without_unsized(data: LoadResult, preset: Preset, strict: bool) -> LoadResult:
    """``data`` without the objects of images of no usable size (no number from 1 to 2^24: a table that brought its
    own scales to :func:`~scalematch.dataset.from_frame` with a NaN, 0 or 1e30 ``image_w``), counted as
    ``missing_image_size``: the detector's resize needs every image's size. Under ``strict``, the first is a
    :class:`DatasetError`."""
    import numpy as np

    from scalematch.dataset.frame import usable_side
    from scalematch.dataset.table import MISSING_IMAGE_SIZE

    w = data.table["image_w"].to_numpy(np.float64, na_value=np.nan)
    h = data.table["image_h"].to_numpy(np.float64, na_value=np.nan)
    unsized = ~(usable_side(w) & usable_side(h))
    if not unsized.any():
        return data
    if strict:
        k = int(np.flatnonzero(unsized)[0])
        raise DatasetError(
            f"{data.source}: image {data.table['image_id'].iloc[k]} has no usable width/height ({w[k]:g}x{h[k]:g}) "
            f"and {preset.name}'s resize needs it [{MISSING_IMAGE_SIZE}]"
        )
    excluded = Counter(data.excluded)
    excluded[MISSING_IMAGE_SIZE] += int(unsized.sum())
    return replace(data, table=rows_at(data.table, ~unsized), excluded={k: excluded[k] for k in sorted(excluded)})


def small_images(preset: Preset, graph: Graph, table: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], str]:
    """Per row of ``table``: whether its image becomes too small an input for ``graph`` under ``preset``'s resize;
    and the first such image in table order described (``image 7 (a.jpg, 16777216x1 px) becomes a 1344x0 input
    under retinanet's resize, too small for resnet50: ...``), or ''."""
    import numpy as np

    if not len(table):
        return np.zeros(0, dtype=bool), ""
    ids = table["image_id"].to_numpy()
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    w0 = table["image_w"].to_numpy(np.float64, na_value=np.nan)[first]
    h0 = table["image_h"].to_numpy(np.float64, na_value=np.nan)[first]
    from scalematch.dataset.frame import usable_side

    sized = usable_side(w0) & usable_side(h0)  # (the others: see _without_unsized)
    w0, h0 = np.where(sized, w0, 1 << 10), np.where(sized, h0, 1 << 10)
    rows: npt.NDArray[np.bool_] = (geometry.too_small(preset, graph, w0, h0) & sized)[inverse]
    if not rows.any():
        return rows, ""
    k = int(np.flatnonzero(rows)[0])
    i = inverse[k]
    try:
        geometry.grids(preset, graph, geometry.images(preset, w0[i : i + 1], h0[i : i + 1]))
    except geometry.TooSmall as exc:
        where = f"{preset.name}'s resize"
        return rows, small_image_text(table, k, (exc.width, exc.height), where, preset.backbone, exc.reason, exc.fit)
    raise AssertionError("too_small and grids disagree")  # pragma: no cover
