"""Entry points for notebooks and the CLI: annotations in any form -> a detector's positives or a size rule's
recommendation, for one design (:func:`recommend`) or several (:func:`sweep`).

``annotations`` may be a path (COCO .json, VOC .xml or folder, YOLO labels; a ``str`` or an ``os.PathLike``), a
glob pattern or any iterable of them (read as one dataset, see :mod:`scalematch.dataset.shards`), as
:func:`~scalematch.dataset.loader.read_annotations` takes them; None (the bundled COCO sample), a
:class:`~scalematch.dataset.loader.LoadResult` or a pandas DataFrame with the box-table columns. Errors name the
parameters (``resize: ...``, ``rule=``); the CLI shows its flags instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Union

from scalematch import _args
from scalematch._args import check_progress
from scalematch._text import int_text
from scalematch.choices import Rule, values
from scalematch.dataset.loader import LoadResult, at_resize, from_frame, given_format, read_annotations
from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy
from scalematch.dataset.table import columns_watched
from scalematch.errors import ConfigError, OptionError, raw_text
from scalematch.match.assign import DEFAULT_MIN_IOU
from scalematch.match.design import Design, RuleSweep, design, ranked
from scalematch.match.detector import MAX_MIN_POSITIVES, DetectorResult, evaluate
from scalematch.match.early import Early, suits
from scalematch.match.recommend import check_anchors_per_level, check_options
from scalematch.match.rules import RuleParams
from scalematch.match.search import at_input, check_reachable, sweep_inputs, with_levels
from scalematch.presets import DEFAULT_PRESET, override
from scalematch.presets.load import checked, read_preset
from scalematch.presets.preset import Preset
from scalematch.profile.api import check_given
from scalematch.profile.graph import Graph

if TYPE_CHECKING:
    import pandas as pd

PathText = str | os.PathLike[str]
Annotations = Union[LoadResult, "pd.DataFrame", PathText, Iterable[PathText], None]
Progress = Callable[[int, int], None]
DEFAULT_MIN_CELLS = RuleParams().min_cells
DEFAULT_ERF_FACTOR = RuleParams().erf_factor
_ANNOTATIONS = f"{_args.PATHS}, a LoadResult or a pandas DataFrame"
_BACKBONES = "a backbone name or path, or a list of them"
_NECK = "a neck name or path, or 'none'"


def as_data(
    annotations: Annotations,
    resize: str | ResizePolicy | None = None,
    *,
    format: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Any = None,
    image_size: str | tuple[int, int] | None = None,
    split: str | None = None,
) -> LoadResult:
    """The boxes of ``annotations`` (path, glob or list of paths, None for the bundled sample, LoadResult or
    DataFrame) in input pixels after ``resize`` (default: a LoadResult's own policy, else
    :data:`DEFAULT_POLICY`); paths are read by ``workers`` processes or on the Dask cluster of ``client``, YOLO
    labels without an image file at ``image_size`` (width first, ``"640x480"`` or ``(640, 480)``), a VOC year
    folder's ImageSets/Main ``split`` only, as :func:`~scalematch.dataset.loader.read_annotations` does."""
    check_progress(progress)
    annotations = _annotations(annotations)
    if image_size is not None and not (annotations is None or isinstance(annotations, list)):
        raise OptionError(
            "image_size: applies to YOLO labels read from files; a LoadResult or a DataFrame brings its own sizes "
            "(image_w, image_h)"
        )
    if split is not None and not (annotations is None or isinstance(annotations, list)):
        raise OptionError(
            "split: applies to VOC year folders read from files; a LoadResult or a DataFrame holds the objects "
            "read already (give read_annotations(split=...) its split)"
        )
    if isinstance(annotations, LoadResult):
        return annotations if resize is None else at_resize(annotations, resize)
    if annotations is None or isinstance(annotations, list):
        return read_annotations(
            annotations, format, resize or DEFAULT_POLICY, strict=strict, split=split, image_size=image_size,
            progress=progress, workers=workers, client=client,
        )  # fmt: skip
    return from_frame(annotations, resize)


def _annotations(annotations: Annotations) -> LoadResult | pd.DataFrame | list[str] | None:
    """``annotations`` with its paths as a list of texts, as :func:`read_annotations` takes them (one path, a glob
    or any iterable of them, read here once: every resize policy of a sweep reads the same inputs); None, a
    LoadResult and a DataFrame as they are. Another type is an :class:`OptionError` naming the parameter."""
    if annotations is None or isinstance(annotations, LoadResult):
        return annotations
    if _args.is_frame(annotations):
        return annotations
    return _args.given_paths(annotations, "annotations", _ANNOTATIONS)


def _names(value: str | Sequence[str] | None, param: str, sep: str = ",") -> list[str]:
    """A list of names from ``'a,b'`` or ``['a', 'b']``; empty or repeated names are errors naming ``param``."""
    if value is None:
        return []
    items = [p.strip() for p in value.split(sep)] if isinstance(value, str) else [str(p).strip() for p in value]
    if param == "levels" and not any(items):
        raise OptionError(f"levels: expected level names such as P3,P4,P5, got {value!r}")
    if not items:  # an empty list or tuple: never the default, as an empty name is not
        what = "policy" if sep == ";" else "name"
        raise OptionError(f"{param}: expected at least one {what}, got an empty {type(value).__name__}")
    if not all(items):
        what = "policies" if sep == ";" else "names"
        raise OptionError(f"{param}: expected {what} separated by '{sep}', got an empty one in {value!r}")
    keys = [_policy_key(item) for item in items] if sep == ";" else items
    twice = [key for i, key in enumerate(keys) if key in keys[:i]]
    if twice:
        what = "level " if param == "levels" else ""
        raise OptionError(f"{param}: {what}{twice[0]!r} is named twice")
    return items


def _backbones(value: str | Sequence[str]) -> list[str]:
    """The backbones ``value`` names: a text is a list split at ',' (``'resnet18,resnet50'``) unless it is the
    path of an existing file, which is taken whole (``'b_a,b.yaml'``), as a path object or a list of one is."""
    if isinstance(value, str) and "," in value and os.path.isfile(value):
        return [value]
    return _names(value, "backbone")


def _commas(value: object) -> str:
    """What an error about several backbones, or about one of them, adds when they came from a text cut at ','
    (``'b_a,b.yaml'``): that ',' separates backbones and that no file has the whole name; nothing otherwise."""
    if not isinstance(value, str) or "," not in value:
        return ""
    return f" (',' separates backbones in {value!r}, and no file has that whole name)"


def _policy_key(text: str) -> str:
    """A resize policy in its one spelling (``NONE``, ``fixed:300X300``, ``shortest-edge:0800,1333`` are ``none``,
    ``fixed:300x300``, ``shortest-edge:800,1333``), so that a repeat is found however it is written; a policy that
    does not parse is left as written (its own error comes when it is used)."""
    from scalematch.dataset.resize import parse_policy

    try:
        return str(parse_policy(text))
    except OptionError:
        return text


def _rule(rule: Rule | str | None) -> Rule | None:
    if rule is None or isinstance(rule, Rule):
        return rule
    if not isinstance(rule, str):  # (str() of a Series or an array is a table over lines)
        raise OptionError(f"rule: expected {values(Rule)}, got {_args.shown(rule)}")
    try:
        return Rule(rule.lower())
    except ValueError:
        raise OptionError(f"rule: expected {values(Rule)}, got {rule!r}") from None


def resolve_preset(
    detector: PathText | Preset | None = None,
    *,
    backbone: PathText | None = None,
    neck: PathText | None = None,
    levels: str | Sequence[str] | None = None,
    resize: str | Sequence[str] | None = None,
) -> Preset:
    """The detector preset (default: retinanet) with ``backbone``, ``neck`` ('none' for no neck), ``levels`` and,
    when one is given, the ``resize`` policy applied; every policy is checked against the preset's kind."""
    detector, named, neck = _networks(detector, backbone, neck)
    check_given(detector, "detector", "a preset name or a preset YAML file")
    check_given(neck, "neck", _NECK)
    if isinstance(detector, Preset):  # one built in Python meets the checks of a preset file
        preset = checked(detector, f"preset {detector.name}")
    else:
        preset = read_preset(detector or DEFAULT_PRESET, "detector")
    changes: dict[str, object] = {}
    if named:
        names = _backbones(named)
        if len(names) > 1:
            raise OptionError(
                f"backbone: a detector preset takes one backbone{_commas(named)}; several are swept with rule="
            )
        changes["backbone"] = names[0]
    if neck:
        changes["neck"] = None if neck.lower() == "none" else neck
    if changes:
        preset = _overridden(preset, changes)
    if levels is not None:
        preset = with_levels(preset, tuple(_names(levels, "levels")))
    policies = _names(resize, "resize", ";")
    if len(policies) == 1:
        preset = at_input(preset, policies[0])
    for policy in policies:
        at_input(preset, policy)  # every policy must suit the preset: fail before the work
    return preset


def _networks(
    detector: object, backbone: object, neck: object
) -> tuple[str | Preset | None, str | list[str] | None, str | None]:
    """``detector``, ``backbone`` and ``neck`` with their paths as text (``os.fspath``): a path is taken wherever a
    name is, as a ``str`` or an ``os.PathLike``. A backbone path object is a list of one (its name is never cut at
    commas, as a text list is). Another type is an :class:`OptionError` naming the parameter."""
    if not isinstance(detector, Preset):
        detector = _args.path_or_name(detector, "detector", "a preset name, a preset YAML path or a Preset", True)
    if isinstance(backbone, os.PathLike):
        backbone = [_args.path_or_name(backbone, "backbone", _BACKBONES)]
    elif isinstance(backbone, list | tuple):
        backbone = [_args.path_or_name(item, "backbone", _BACKBONES) for item in backbone]
    elif backbone is not None and not isinstance(backbone, str):
        raise OptionError(f"backbone: expected {_BACKBONES}, got {_args.shown(backbone)}")
    else:
        _args.path_or_name(backbone, "backbone", _BACKBONES, optional=True)  # a NUL byte in its text
    return detector, backbone, _args.path_or_name(neck, "neck", _NECK, optional=True)


def _overridden(preset: Preset, changes: dict[str, object]) -> Preset:
    """``preset`` with another backbone or neck; an error names the option (``neck: ...``), and a network that
    does not give the preset's levels says so and what to do."""
    try:
        return override(preset, **changes)
    except (OptionError, ConfigError) as exc:
        message = raw_text(exc).removeprefix(f"override of preset {preset.name}: ")
        option = "neck" if "neck" in changes else "backbone"
        if message.startswith(("neck: ", "backbone: ")):
            raise OptionError(message) from None
        if message.startswith("key 'levels': expected outputs of "):
            outputs = message.removeprefix("key 'levels': expected outputs of ").rsplit(", got ", 1)[0]
            raise OptionError(
                f"{option}: preset {preset.name}'s levels {', '.join(preset.levels)} are not outputs of {outputs}; "
                "keep a network that gives them, or write a preset file with levels among those (see "
                "docs/reference/recommend.md, Presets)"
            ) from None
        raise


def sweep(
    annotations: Annotations = None,
    detector: PathText | Preset | None = None,
    *,
    rule: Rule | str | None = None,
    backbone: PathText | Sequence[PathText] | None = None,
    neck: PathText | None = None,
    levels: str | Sequence[str] | None = None,
    resize: str | Sequence[str] | None = None,
    coverage: float = 0.99,
    min_positives: int | None = None,
    min_iou: float | None = None,
    anchors_per_level: int | None = None,
    min_cells: float | None = None,
    erf_factor: float | None = None,
    format: str | None = None,
    strict: bool = False,
    split: str | None = None,
    image_size: str | tuple[int, int] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Any = None,
) -> DetectorResult | RuleSweep:
    """Recommend for every combination of ``backbone`` (rule mode) and ``resize`` policy, best first.

    Detector mode (the default; ``detector`` names a preset or a preset YAML): each resize policy is simulated
    and the best one kept; the result is a :class:`DetectorResult` whose ``sweep`` ranks the policies. Rule
    mode (``rule`` is one of rf, fpn, fcos, anchors, yolo): one :class:`Design` per backbone and policy,
    returned ranked as a :class:`RuleSweep`. ``backbone`` and ``levels`` take lists or comma lists, ``resize``
    a list or a ';' list. ``coverage`` is the target share of objects (with ``min_positives`` positives of IoU
    >= ``min_iou`` for a detector; assigned to a level for a rule). ``min_positives`` (default 1) and ``min_iou``
    (default :data:`DEFAULT_MIN_IOU`) apply to a detector, ``min_cells`` and ``erf_factor`` to rule rf: given in
    another mode, whatever their value, they are an error. Paths are read by ``workers`` processes (default: one
    per core) or on the Dask cluster of ``client`` (a ``distributed.Client``); ``image_size`` is the image size
    of YOLO labels without an image file and ``split`` the ImageSets/Main split of a VOC year folder, as for
    :func:`~scalematch.dataset.loader.read_annotations`.
    """
    detector, backbone, neck = _networks(detector, backbone, neck)
    coverage, min_positives, min_iou, anchors_per_level, min_cells, erf_factor = _check_types(
        levels, resize, coverage, min_positives, min_iou, anchors_per_level, min_cells, erf_factor, format, strict,
        workers, client,
    )  # fmt: skip
    annotations = _annotations(annotations)
    chosen = _rule(rule)
    check_given(detector, "detector", "a preset name or a preset YAML file")
    check_given(neck, "neck", _NECK)
    rf = RuleParams(
        min_cells=DEFAULT_MIN_CELLS if min_cells is None else min_cells,
        erf_factor=DEFAULT_ERF_FACTOR if erf_factor is None else erf_factor,
    )
    check_options(rf, coverage)
    check_anchors_per_level(anchors_per_level)
    level_names = _names(levels, "levels") if levels is not None else None
    policies = _names(resize, "resize", ";")
    if chosen is None:
        return _detector(
            annotations, detector, backbone, neck, level_names, policies, coverage, min_positives, min_iou,
            anchors_per_level, min_cells, erf_factor, format, strict, progress, workers, client, image_size, split,
        )  # fmt: skip
    if detector is not None:
        raise OptionError("detector= and rule= are two modes: give one")
    for name, given in (("min_positives", min_positives), ("min_iou", min_iou)):
        if given is not None:
            raise OptionError(f"{name}: applies to a detector's assigner (drop rule=)")
    if chosen is not Rule.RF:
        for name, given in (("min_cells", min_cells), ("erf_factor", erf_factor)):
            if given is not None:
                raise OptionError(f"{name}: applies to rule=rf, not to rule={chosen.value}")
    backbones = _backbones(backbone) if backbone is not None else ["resnet50"]
    chosen_neck = None if (neck or "fpn").lower() == "none" else (neck or "fpn")
    params = replace(RuleParams(), min_cells=rf.min_cells, erf_factor=rf.erf_factor)
    designs: list[Design] = []
    runs: list[str | None] = [*policies] or [None]
    for policy in runs:
        data = as_data(
            annotations, policy, format=format, strict=strict, progress=progress, workers=workers, client=client,
            image_size=image_size, split=split,
        )  # fmt: skip
        for name in backbones:
            try:
                designs.append(design(
                    data, name, chosen_neck, level_names, chosen, params, coverage, anchors_per_level, strict=strict
                ))  # fmt: skip
            except ConfigError as exc:
                raise _unfound(exc, name, backbone if len(backbones) > 1 else None) from None
    return RuleSweep(tuple(ranked(designs)) if len(designs) > 1 else tuple(designs))


def _unfound(exc: ConfigError, name: str, given: object) -> ConfigError:
    """``exc``, raised for the backbone ``name`` of the text list ``given`` (None: a backbone given alone), with
    :func:`_commas`'s words when ``name`` is neither a built-in backbone nor an existing path, so the error says
    that the comma cut the text."""
    from scalematch.profile.importers.config import builtin

    note = _commas(given)
    if not note or name in builtin("backbones") or os.path.exists(name):
        return exc
    return type(exc)(f"{raw_text(exc)}{note}")


def _check_types(
    levels: object,
    resize: object,
    coverage: object,
    min_positives: object,
    min_iou: object,
    anchors_per_level: object,
    min_cells: object,
    erf_factor: object,
    format: object,
    strict: object,
    workers: object,
    client: object,
) -> tuple[float, int | None, float | None, int | None, float | None, float | None]:
    """The parameters of :func:`sweep` and :func:`recommend` have the documented types (an OptionError naming the
    parameter otherwise, before any work, whether the annotations are read here or were read already; the
    networks are checked by :func:`_networks`). Returns the numbers
    (``coverage``, ``min_positives``, ``min_iou``, ``anchors_per_level``, ``min_cells``, ``erf_factor``) as the
    plain floats and ints they stand for (a Fraction, a numpy number): results hold them, and their JSON."""
    from scalematch.dataset.shards import check_workers

    _args.names(levels, "levels", "level names ('P3,P4' or a list)")
    _args.names(resize, "resize", "a resize policy ('shortest-edge:800,1333'), or a list of them", sep=";")
    share = _args.number(coverage, "coverage")
    positives = _args.integer(min_positives, "min_positives", optional=True)
    anchors = _args.integer(anchors_per_level, "anchors_per_level", optional=True)
    iou, cells, factor = (
        _args.number(value, name, optional=True)
        for name, value in (("min_iou", min_iou), ("min_cells", min_cells), ("erf_factor", erf_factor))
    )
    given_format(format)
    _args.flag(strict, "strict")
    check_workers(workers, client)
    return share, positives, iou, anchors, cells, factor


def _detector(
    annotations: Annotations,
    detector: str | Preset | None,
    backbone: str | Sequence[str] | None,
    neck: str | None,
    level_names: list[str] | None,
    policies: list[str],
    coverage: float,
    min_positives: int | None,
    min_iou: float | None,
    anchors_per_level: int | None,
    min_cells: float | None,
    erf_factor: float | None,
    format: str | None,
    strict: bool,
    progress: Progress | None,
    workers: int | None = None,
    client: Any = None,
    image_size: str | tuple[int, int] | None = None,
    split: str | None = None,
) -> DetectorResult:
    if anchors_per_level is not None:
        raise OptionError("anchors_per_level: applies with rule=; a detector preset fixes its own anchors")
    for name, given in (("min_cells", min_cells), ("erf_factor", erf_factor)):
        if given is not None:
            raise OptionError(f"{name}: applies to rule=rf, not to a detector's assigner")
    floor_given = min_iou is not None
    min_positives = 1 if min_positives is None else min_positives
    min_iou = DEFAULT_MIN_IOU if min_iou is None else min_iou
    if not 1 <= min_positives <= MAX_MIN_POSITIVES:
        expected = f"an integer from 1 to {MAX_MIN_POSITIVES:,}"
        raise OptionError(f"min_positives: expected {expected}, got {int_text(min_positives)}")
    if not 0 <= min_iou < 1:
        raise OptionError(f"min_iou: expected an IoU in [0, 1), got {min_iou}")
    names = _backbones(backbone) if backbone is not None else []
    if len(names) > 1:
        raise OptionError(
            f"backbone: a detector preset takes one backbone{_commas(backbone)}; several are swept with rule="
        )
    preset = resolve_preset(
        detector, backbone=names[0] if names else None, neck=neck, levels=level_names, resize=policies or None
    )
    check_reachable(preset, min_positives)
    if floor_given and min_iou != DEFAULT_MIN_IOU and not preset.scores_iou:  # the default is a no-op there
        raise OptionError(
            f"min_iou: applies to anchor assigners (an IoU per positive); {preset.name} assigns points or "
            "anchor shapes without an IoU"
        )
    _check_image_ids(annotations)
    from scalematch.dataset.formats.coco import PARALLEL_MIN
    from scalematch.pool import meanwhile

    built: list[Graph] = []
    large = _file_bytes(annotations) >= PARALLEL_MIN  # read in worker processes when it is one COCO file
    early = _early(preset, annotations, built, large, len(policies) > 1 or client is not None, min_iou, workers)
    with meanwhile(_preload(preset, large, built)), columns_watched(early.start) if early else nullcontext():
        data = as_data(
            annotations, preset.resize_policy(), format=format, strict=strict, progress=progress, workers=workers,
            client=client, image_size=image_size, split=split,
        )  # fmt: skip
    graph = _check_inputs(data, preset, policies, built[0] if built else None)
    found = None
    if len(policies) > 1:
        from scalematch.match.detector import repeated_ids, toolkit_rows
        from scalematch.match.training_set import training_images

        repeated_ids(data, preset)  # a toolkit that refuses the file does so before the search, as evaluate would
        trained = training_images(data, preset)[0]  # (the images the toolkit trains on, whatever the size)
        found = sweep_inputs(toolkit_rows(trained, preset)[0], preset, policies, coverage, min_positives, min_iou)
        preset = found.ranked[0][1].preset
    result = evaluate(
        data, preset, coverage, min_positives, min_iou, strict=strict, workers=workers, graph=graph, early=early,
        read_here=annotations is None or isinstance(annotations, list),
    )  # fmt: skip
    return replace(result, sweep=found)


def _preload(preset: Preset, large: bool, built: list[Graph]) -> Callable[[], None]:
    """What the simulation needs after the read, to do while the reader's worker processes decode
    (:func:`~scalematch.pool.meanwhile`; nothing runs when the read forks none): ``preset``'s level graph,
    appended to ``built`` (an error is left for the code that builds it again), and its levels' profile
    (:func:`~scalematch.match.detector.preset_levels`); pandas, for the box table; and for a max-IoU preset on
    ``large`` annotation files (the reader's parallel size or more), the compiled assigner (which
    :func:`~scalematch.match.assign._compiled.prepare` would load for that many objects; both assigners give the
    same result)."""

    def load() -> None:
        from scalematch.match.detector import preset_levels
        from scalematch.match.widen import level_graph

        built.append(level_graph(preset))
        preset_levels(preset, built[0])
        import pandas  # noqa: F401

        from scalematch.match.assign import _compiled
        from scalematch.presets.preset import MaxIoU, SSDMatch

        if isinstance(preset.assigner, MaxIoU | SSDMatch) and large:
            _compiled.prepare(None)

    return load


def _early(
    preset: Preset, annotations: Annotations, built: list[Graph], large: bool, swept: bool, min_iou: float,
    workers: int | None,
) -> Early | None:  # fmt: skip
    """The simulation to start on the reader's columns (:mod:`scalematch.match.early`) when it can run there: a
    compiled max-IoU preset at one input size, on one ``large`` COCO file (the reader decodes it in worker
    processes: its graph and kernel are then loaded meanwhile, :func:`_preload`); None otherwise."""
    if swept or not large or not suits(preset) or (isinstance(annotations, list | tuple) and len(annotations) != 1):
        return None
    return Early(preset, lambda: built[0] if built else None, min_iou, workers)


def _file_bytes(annotations: Annotations) -> int:
    """The bytes of the regular files among ``annotations`` given as a path or a list or tuple of them (0 for
    anything else: a folder, a glob, a table)."""
    import stat

    if isinstance(annotations, str | os.PathLike):
        items: list[Any] = [annotations]
    elif isinstance(annotations, list | tuple):
        items = list(annotations)
    else:
        return 0
    total = 0
    for item in items:
        try:
            found = os.stat(item)
        except (OSError, TypeError, ValueError):
            continue
        if stat.S_ISREG(found.st_mode):
            total += found.st_size
    return total


def _check_image_ids(annotations: Annotations) -> None:
    """A DataFrame given to a detector must say which rows share an image: the assigner makes the objects of one
    image compete, so a table without ``image_id`` would silently read as one image per object."""
    if type(annotations).__name__ != "DataFrame":  # pandas is imported only when a DataFrame is given
        return
    import pandas as pd

    from scalematch.dataset.loader import has_image_ids

    if isinstance(annotations, pd.DataFrame) and not has_image_ids(annotations):
        raise OptionError(
            "annotations: the DataFrame has no image_id column or index level; a detector's assigner makes the "
            "objects of one image compete, so it needs to know which rows share an image (image_id = "
            "range(len(table)) makes every row an image of its own)"
        )


def _check_inputs(data: LoadResult, preset: Preset, policies: list[str], graph: Graph | None = None) -> Graph:
    """A resize policy given as an option that makes every image too small an input for the network is an
    :class:`OptionError` naming it (the preset's own resize doing so is an error naming the file, in evaluate).
    Returns the preset's level graph (the same for every input policy; ``graph`` when built already)."""
    from scalematch.match.detector import small_images
    from scalematch.match.widen import level_graph

    graph = level_graph(preset) if graph is None else graph
    for policy in policies:
        small, first = small_images(at_input(preset, policy), graph, data.table)
        if len(small) and small.all():
            raise OptionError(
                f"resize: {policy!r} makes every image of {data.source} too small an input for the network; the "
                f"first: {first}"
            )
    return graph


def recommend(
    annotations: Annotations = None,
    detector: PathText | Preset | None = None,
    *,
    rule: Rule | str | None = None,
    backbone: PathText | Sequence[PathText] | None = None,
    neck: PathText | None = None,
    levels: str | Sequence[str] | None = None,
    resize: str | Sequence[str] | None = None,
    coverage: float = 0.99,
    min_positives: int | None = None,
    min_iou: float | None = None,
    anchors_per_level: int | None = None,
    min_cells: float | None = None,
    erf_factor: float | None = None,
    format: str | None = None,
    strict: bool = False,
    split: str | None = None,
    image_size: str | tuple[int, int] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Any = None,
) -> DetectorResult | Design:
    """What ``scalematch recommend`` computes, for one design.

    Detector mode (the default: ``detector`` names a preset such as 'retinanet', 'fcos' or 'yolov8', or a preset
    YAML) simulates the preset's assigner on every object and returns a :class:`DetectorResult`. Rule mode
    (``rule`` = rf, fpn, fcos, anchors or yolo: scalematch's size rules) returns a :class:`Design` with the
    recommended levels, anchors, ranges and input-size advice. See :func:`sweep` for the parameters; here
    ``backbone`` and ``resize`` are one name and one policy each, in both modes: several (a comma list of
    backbones, a ';' list of policies, or a list or tuple of more than one) are an :class:`OptionError` pointing to
    :func:`sweep`, never a sweep whose best design comes back alone. A list or tuple of one is taken as that one
    name or policy (``backbone=["resnet18"]`` is ``backbone="resnet18"``), as :func:`sweep` takes it.
    """
    for param, value, sep in (("backbone", backbone, ","), ("resize", resize, ";")):
        several = len(value) > 1 if isinstance(value, list | tuple) else False
        if isinstance(value, str):
            several = len(_backbones(value) if param == "backbone" else _names(value, param, sep)) > 1
        if several:
            commas = _commas(value) if param == "backbone" else ""
            raise OptionError(f"{param}: recommend() takes one{commas}; sweep() takes several")
    result = sweep(
        annotations, detector, rule=rule, backbone=backbone, neck=neck, levels=levels, resize=resize,
        coverage=coverage, min_positives=min_positives, min_iou=min_iou, anchors_per_level=anchors_per_level,
        min_cells=min_cells, erf_factor=erf_factor, format=format, strict=strict, split=split,
        image_size=image_size, progress=progress, workers=workers, client=client,
    )  # fmt: skip
    return result.best if isinstance(result, RuleSweep) else result
