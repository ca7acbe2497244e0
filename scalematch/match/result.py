"""Summaries of an assignment: per-level load, too small / too large, coverage, per-category spread."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from scalematch.dataset.table import category_labels
from scalematch.errors import DatasetError, OptionError
from scalematch.match.levels import Level
from scalematch.match.rules import TOO_LARGE, TOO_SMALL, Assignment, Rule, RuleParams, assign_both

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from scalematch.dataset.loader import LoadResult

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LevelLoad:
    """The objects one level takes: count, share of all usable objects, and their size_in range."""

    level: Level
    count: int
    fraction: float
    size_min: float | None
    size_max: float | None


@dataclass(frozen=True)
class MatchResult:
    """Assignment of ``total`` objects to ``levels`` under ``rule``."""

    rule: Rule
    levels: tuple[Level, ...]
    loads: tuple[LevelLoad, ...]
    total: int
    too_small: int
    too_large: int
    assignment: Assignment = field(repr=False, compare=False)
    per_category: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def assigned(self) -> int:
        return self.total - self.too_small - self.too_large

    @property
    def coverage(self) -> float:
        """Share of usable objects assigned to a level."""
        return self.assigned / self.total if self.total else 0.0

    @property
    def too_small_fraction(self) -> float:
        return self.too_small / self.total if self.total else 0.0

    @property
    def too_large_fraction(self) -> float:
        return self.too_large / self.total if self.total else 0.0


def usable(table: pd.DataFrame, include_crowd: bool = False) -> pd.DataFrame:
    """The rows that are matched: non-crowd objects (crowd ones too with ``include_crowd``)."""
    crowd = crowd_rows(table)
    if include_crowd or crowd is None or not crowd.any():
        return table
    return rows_at(table, ~crowd)


def crowd_rows(table: pd.DataFrame) -> npt.NDArray[np.bool_] | None:
    """Per row of ``table``: whether it is a crowd (None without an ``iscrowd`` column); an :class:`OptionError`
    for a table without the input-pixel columns that matching reads."""
    missing = [c for c in ("w_in", "h_in") if c not in table.columns]
    if missing:
        raise OptionError(f"the box table has no {', '.join(missing)} column; apply a resize policy first")
    if "iscrowd" not in table.columns:
        return None
    crowd: npt.NDArray[np.bool_] = table["iscrowd"].to_numpy().astype(bool)
    return crowd


@dataclass(frozen=True, eq=False)
class Selected:
    """The rows of ``table`` at ``positions`` (every row: None), taken only when :attr:`frame` is first read: a
    simulation reads a few columns of them (:meth:`column`), a per-object output all of them. On train2017 the
    table's 25 columns take ~0.2 s to copy."""

    table: pd.DataFrame
    positions: npt.NDArray[np.intp] | None = None

    def __len__(self) -> int:
        return len(self.table) if self.positions is None else len(self.positions)

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as ``table[mask]`` gives them (index and dtypes kept)."""
        if self.positions is None:
            return self.table
        kept: pd.DataFrame = self.table.take(self.positions)
        return kept

    def column(self, name: str) -> npt.NDArray[Any]:
        """Column ``name`` of the rows, as a numpy array."""
        values: npt.NDArray[Any] = self.table[name].to_numpy()
        return values if self.positions is None else values.take(self.positions)

    @property
    def columns(self) -> pd.Index:
        return self.table.columns


def rows_at(table: pd.DataFrame, mask: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """The rows of ``table`` where ``mask`` is true, as ``table[mask]`` gives them (index and dtypes kept), taken by
    position: several times faster than a boolean mask on a wide table."""
    import numpy as np

    kept: pd.DataFrame = table.take(np.flatnonzero(mask))
    return kept


def summarize(
    rule: Rule,
    levels: tuple[Level, ...],
    assignment: Assignment,
    size_in: Array,
    categories: pd.Series | npt.NDArray[np.object_] | None = None,
) -> MatchResult:
    """A :class:`MatchResult` from an assignment (``size_in`` per object; ``categories``, each object's category
    label as :func:`~scalematch.dataset.table.category_labels` gives it, for the spread)."""
    import numpy as np

    level = assignment.level
    total = len(level)
    loads = []
    for k, lv in enumerate(levels):
        sizes = size_in[level == k]
        loads.append(
            LevelLoad(
                lv,
                int(sizes.size),
                sizes.size / total if total else 0.0,
                float(sizes.min()) if sizes.size else None,
                float(sizes.max()) if sizes.size else None,
            )
        )
    per_category = None
    if categories is not None:
        import pandas as pd

        names = np.array([lv.name for lv in levels] + ["too large", "too small"], dtype=object)
        labels = pd.Categorical(names[level], categories=[*names])
        per_category = pd.crosstab(np.asarray(categories), labels, dropna=False)
        per_category.index.name = "category"
        per_category.columns.name = "level"
    return MatchResult(
        rule,
        levels,
        tuple(loads),
        total,
        int(np.count_nonzero(level == TOO_SMALL)),
        int(np.count_nonzero(level == TOO_LARGE)),
        assignment,
        per_category,
    )


def match(
    table: pd.DataFrame,
    levels: tuple[Level, ...],
    rule: Rule = Rule.RF,
    params: RuleParams | None = None,
    include_crowd: bool = False,
) -> MatchResult:
    """Assign every usable object of a box table (columns ``w_in``, ``h_in``) to ``levels`` under ``rule``; a
    table of a multi-scale policy (``w_in_hi``, ``h_in_hi`` too) is judged at both ends, as
    :func:`~scalematch.match.recommend.recommend` judges it (:func:`~scalematch.match.rules.assign_both`)."""
    import numpy as np

    rows = usable(table, include_crowd)
    w = rows["w_in"].to_numpy(dtype=np.float64)
    h = rows["h_in"].to_numpy(dtype=np.float64)
    categories = category_labels(rows)
    found = assign_both(rule, w, h, levels, params, largest_sizes(rows))
    return summarize(rule, levels, found, np.sqrt(w * h), categories)


def largest_sizes(table: pd.DataFrame) -> tuple[Array, Array] | None:
    """``w_in_hi``, ``h_in_hi``: the boxes at a multi-scale policy's largest scale, when ``table`` has them."""
    import numpy as np

    if not {"w_in_hi", "h_in_hi"} <= set(table.columns):
        return None
    return table["w_in_hi"].to_numpy(dtype=np.float64), table["h_in_hi"].to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class Quantiles:
    """Min, 5/25/50/75/95 % quantiles and max of one per-object quantity (NaN when there are no objects)."""

    min: float
    q05: float
    q25: float
    q50: float
    q75: float
    q95: float
    max: float

    @classmethod
    def of(cls, values: Array) -> Quantiles:
        import numpy as np

        qs = np.quantile(values, [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]) if values.size else [float("nan")] * 7
        return cls(*(round(float(v), 6) for v in qs))


@dataclass(frozen=True)
class AnchorDetail:
    """The ``anchors`` rule: the best shape IoU per object and the share at or above ``iou_positive``."""

    best_iou: Quantiles
    share_iou_positive: float
    iou_positive: float


@dataclass(frozen=True)
class YoloDetail:
    """The ``yolo`` rule: the best possible recall (share with a ratio below ``threshold``) and the best ratios."""

    bpr: float
    best_ratio: Quantiles
    threshold: float


@dataclass(frozen=True)
class FpnDetail:
    """The ``fpn`` rule: per level, the objects it would take with the toolkits' clamping to the end levels."""

    clamped_counts: dict[str, int]


RuleDetail = AnchorDetail | YoloDetail | FpnDetail
"""What a rule reports beyond the level counts (the rf and fcos rules report nothing more)."""


def detail_dict(detail: RuleDetail | None) -> dict[str, object]:
    """The ``rule_detail`` object of the ``--json`` document (``{}`` for a rule without detail)."""
    return {} if detail is None else asdict(detail)


def rule_detail(result: MatchResult, params: RuleParams | None = None) -> RuleDetail | None:
    """Rule-specific figures of a match: the best-IoU distribution (anchors), BPR (yolo), the per-level counts
    the toolkits' clamping would give (fpn); None for the other rules."""
    import numpy as np

    p = params or RuleParams()
    detail = result.assignment.detail
    if result.rule is Rule.ANCHORS and "best_iou" in detail:
        iou = detail["best_iou"]
        share = round(float(np.mean(iou >= p.iou_positive)), 6) if iou.size else 0.0
        return AnchorDetail(Quantiles.of(iou), share, p.iou_positive)
    if result.rule is Rule.YOLO and "best_ratio" in detail:
        ratio = detail["best_ratio"]
        bpr = round(float(np.mean(ratio < p.yolo_threshold)), 6) if ratio.size else 0.0
        return YoloDetail(bpr, Quantiles.of(ratio), p.yolo_threshold)
    if result.rule is Rule.FPN and "clamped" in detail:
        clamped = detail["clamped"].astype(np.int64)
        return FpnDetail({lv.name: int(np.count_nonzero(clamped == k)) for k, lv in enumerate(result.levels)})
    return None


def small_image_text(
    table: pd.DataFrame, row: int, input_size: tuple[int, int], resize: str, network: str, problem: str, fit: str
) -> str:
    """The image of row ``row`` (by position) of ``table`` described as too small (or, with ``fit`` "too large", too
    large) an input for ``network``, which it becomes at ``input_size`` (w, h) under ``resize``; ``problem`` is the
    network's error at that size, of which the last part is kept: ``image 7 (a.jpg, 16777216x1 px) becomes a 1344x0
    input under retinanet's resize, too small for resnet50: ...``. Detector and rule mode alike."""
    image = table["image_id"].iloc[row]
    name = str(table["file_name"].iloc[row]) if "file_name" in table.columns else ""
    name = "" if name == str(image) else name  # COCO images without a file name are named by their id
    w0, h0 = float(table["image_w"].iloc[row]), float(table["image_h"].iloc[row])
    return (
        f"image {image} ({name + ', ' if name else ''}{w0:.10g}x{h0:.10g} px) becomes a {input_size[0]}x"
        f"{input_size[1]} input under {resize}, {fit} for {network}: {problem.rsplit(': ', 1)[-1]}"
    )


def nothing_usable(
    data: LoadResult, verb: str, difficult: int = 0, toolkit: str = "", table: pd.DataFrame | None = None,
    read_as: str = "", left_out: str = "",
) -> DatasetError:  # fmt: skip
    """The error for ``data`` left with no object to ``verb`` (``match``, ``recommend for``), with the reason: the
    annotations hold none, or every record is excluded (by reason), crowd or ``difficult`` (the number of VOC
    difficult objects that ``toolkit`` ignores), each with its count: ``every record is excluded or crowd: 2
    crowd, none excluded``. ``table``: the objects as the toolkit reads them, crowds counted there (default:
    ``data.table``); ``read_as``: why some are crowds there that are not in the file's records (a repeated id
    whose last record is a crowd), said after the counts; ``left_out``: the objects the toolkit's training set
    leaves out (:meth:`~scalematch.match.training_set.LeftOut.note`), said last. One class, :class:`DatasetError`,
    for detector and rule mode alike."""
    from scalematch.dataset.table import excluded_text

    if not len(data.table) and not sum(data.excluded.values()):
        return DatasetError(f"{data.source}: no usable object to {verb} (the annotations hold no object)")
    table = data.table if table is None else table
    crowd = int(table["iscrowd"].to_numpy().astype(bool).sum()) if "iscrowd" in table.columns else 0
    kinds, counts = ["excluded"], []
    if crowd:
        kinds.append("read as a crowd" if read_as else "crowd")
        counts.append(f"{crowd} crowd")
    if left_out:
        kinds.append("left out of the training set")
    if difficult:
        kinds.append("difficult")
        counts.append(f"{difficult} difficult ({toolkit} ignores difficult objects)")
    text = excluded_text(data.excluded, data.format)
    if counts:
        counts.append("none excluded" if not sum(data.excluded.values()) else f"excluded: {text}")
    else:
        counts.append(text)
    lead = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    why = f"; {read_as}" if read_as and crowd else ""
    why += f"; {left_out}" if left_out else ""
    return DatasetError(f"{data.source}: no usable object to {verb} (every record is {lead}: {', '.join(counts)}{why})")
