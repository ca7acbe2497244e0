"""The recommendation as toolkit settings: mmdetection (Python dict text), detectron2 and ultralytics (YAML)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from scalematch._text import counted
from scalematch.choices import Toolkit as Toolkit
from scalematch.errors import OptionError
from scalematch.match.recommend import Recommendation
from scalematch.report.style import printable

YOLOV5_LEVELS = 3
"""The levels of a YOLOv5 head (P3-P5) that an ultralytics ``anchors:`` block is written for."""


SUFFIXES = {"mmdet": (".py",), "detectron2": (".yaml", ".yml"), "ultralytics": (".yaml", ".yml")}
"""The suffixes each toolkit reads an export by (mmengine's Config picks its parser from the suffix)."""


def check_export_suffix(toolkit: str, path: Path) -> None:
    """Raise the one-line :class:`OptionError` of an ``--export`` file whose suffix the toolkit would misread
    (mmdet's Python config named .yaml is parsed as YAML and fails). mmengine and detectron2's LazyConfig test the
    suffix as written (``.PY`` fails); ultralytics lowers it first."""
    wanted = SUFFIXES[toolkit]
    suffix = path.suffix.lower() if toolkit == "ultralytics" else path.suffix
    if suffix not in wanted:
        got = repr(path.suffix) if path.suffix else "no suffix"
        if path.suffix.lower() in wanted:
            got += f" ({toolkit} reads the suffix as written: give it in lower case)"
        raise OptionError(f"--export {path}: expected a file ending in {', '.join(wanted)} for {toolkit}, got {got}")


def _num(value: float) -> str:
    return f"{value:.1f}" if abs(value - round(value)) > 1e-9 else str(round(value))


def _px(value: float) -> str:
    """An anchor side or aspect ratio with 6 significant digits: a 0.04 px side or a 1:500 ratio is never
    written as 0, which no toolkit can build an anchor from."""
    return f"{value:.6g}"


def _repeats(rec: Recommendation, comment: str) -> list[str]:
    if not rec.anchors:
        return []
    shapes = [s for level in rec.anchors.recommended.shapes for s in level]
    if len(set(shapes)) == len(shapes):
        return []
    return [
        f"{comment} The boxes have {counted(len(set(shapes)), 'distinct shape')}: some anchors repeat so that every "
        f"level has {rec.anchors.per_level}."
    ]


def _header(rec: Recommendation, comment: str, fitted_at: str = "") -> list[str]:
    names = ", ".join(printable(name) for name in rec.recommended_levels)  # (a newline would end the comment)
    strides = ", ".join(_num(lv.stride) for lv in rec.chosen.levels)
    s = "" if len(rec.chosen.levels) == 1 else "s"
    lines = [
        f"{comment} scalematch recommendation (rule {rec.rule.value}): level{s} {names} (stride{s} {strides}),",
        f"{comment} coverage {rec.chosen.coverage:.1%} of {counted(rec.chosen.total, 'object')}.",
    ]
    if fitted_at:  # the sizes below are input pixels of this design: another resize changes them
        lines.append(f"{comment} Design: {printable(fitted_at)} (sizes in input pixels of that resize).")
    a = rec.anchors
    if rec.both_ends and a:
        how = "chosen on" if a.kept_default else "fitted to"
        lines.append(
            f"{comment} Multi-scale resize: the anchors are {how} its boxes at both ends (smallest and largest scale)."
        )
    if a and a.kept_default and a.default_bpr is not None:
        pooled = " (over the boxes of both ends pooled)" if rec.both_ends else ""
        lines.append(
            f"{comment} The toolkit's default anchors are kept: fitted ones reach BPR {a.fitted_bpr:.3f}{pooled}, not "
            f"above the defaults' {a.default_bpr:.3f} (yolov5's AutoAnchor replaces anchors only by a higher BPR)."
        )
    return lines


def mmdet(rec: Recommendation, fitted_at: str = "") -> str:
    """mmdetection config fragment: anchor generator with the fitted (w, h) per level and FCOS regress ranges."""
    strides = [round(lv.stride) for lv in rec.chosen.levels]
    lines = _header(rec, "#", fitted_at)
    if rec.anchors:
        sizes = ",\n            ".join(
            "[" + ", ".join(f"({_px(w)}, {_px(h)})" for w, h in level) + "]" for level in rec.anchors.recommended.shapes
        )
        lines += [
            *_repeats(rec, "#"),
            f"# {'Default' if rec.anchors.kept_default else 'Fitted'} anchors (w, h) in input pixels; "
            "YOLOAnchorGenerator takes explicit shapes per level.",
            "anchor_generator = dict(",
            "    type='YOLOAnchorGenerator',",
            f"    strides={strides},",
            "    base_sizes=[",
            f"            {sizes}])",
        ]
    ranges = ", ".join(
        f"({-1 if lo == 0 else _num(lo)}, {'1e8' if math.isinf(hi) else _num(hi)})" for lo, hi in rec.ranges
    )
    comma = "," if len(rec.ranges) == 1 else ""  # a tuple of pairs, also for one level
    at = " at the smallest scale" if rec.both_ends else ""
    lines += [
        f"# FCOS-style regress ranges on max(l, t, r, b){at}, one per level.",
        f"regress_ranges = ({ranges}{comma})",
    ]
    return "\n".join(lines) + "\n"


def detectron2(rec: Recommendation, fitted_at: str = "") -> str:
    """detectron2 YAML: per-level anchor sizes and aspect ratios (h / w) of the fitted anchors.

    detectron2 crosses every size with every ratio of a level, so the set holds the fitted shapes and more.
    """
    lines = _header(rec, "#", fitted_at)
    n = rec.anchors.per_level if rec.anchors else 0
    crossed = f" ({n} sizes x {n} ratios = {n * n} anchors per location)" if n > 1 else ""
    lines.append(
        f"# detectron2 crosses sizes and ratios per level{crossed}: the fitted (w, h) shapes are among the anchors."
    )
    lines += _repeats(rec, "#")
    lines.append("MODEL:")
    lines.append("  ANCHOR_GENERATOR:")
    if rec.anchors:
        # one size and one ratio per fitted shape, in order (repeats kept): every level then holds the same
        # number of anchors (per_level squared), as detectron2's heads require
        sizes = [[math.sqrt(w * h) for w, h in level] for level in rec.anchors.recommended.shapes]
        ratios = [[h / w for w, h in level] for level in rec.anchors.recommended.shapes]
        lines.append("    SIZES: [" + ", ".join("[" + ", ".join(_px(s) for s in lv) + "]" for lv in sizes) + "]")
        lines.append(
            "    ASPECT_RATIOS: [" + ", ".join("[" + ", ".join(_px(r) for r in lv) + "]" for lv in ratios) + "]"
        )
    names = [detectron2_feature(name) for name in rec.recommended_levels]
    beyond = [lv for lv in rec.recommended_levels if not _d2_outputs(lv)]
    if beyond:  # (a res1: detectron2's stem holds its max-pool, stride 4, the input of res2)
        raise OptionError(
            f"--export detectron2: the level {beyond[0]} has no detectron2 counterpart (its ResNet gives res2-res5, "
            "its FPN p2-p7); give --levels among C2-C5 or P2-P7"
        )
    kinds = {name.rstrip("0123456789") for name in names} & {"res", "p"}
    if len(kinds) > 1:  # an FPN backbone's outputs are its p<k> only: RPN would find no res<k> among them
        raise OptionError(
            f"--export detectron2: the levels {', '.join(rec.recommended_levels)} mix the backbone's stages (C) "
            "and the neck's levels (P), but detectron2's RPN reads the outputs of one backbone (res<k> of a "
            "ResNet, or p<k> of its FPN); give --levels of one kind"
        )
    # quoted: a model's name may hold ': ', '#', a newline or read as another type (on, null, 1e3) in YAML
    features = ", ".join(json.dumps(name) for name in names)
    lines += ["  RPN:", f"    IN_FEATURES: [{features}]"]
    return "\n".join(lines) + "\n"


def _d2_outputs(level: str) -> bool:
    """Whether a detectron2 backbone outputs ``level``: its ResNet's res2-res5 for C2-C5, its FPN's p2-p7 for P2-P7;
    a name of another form (a custom backbone's) is taken as given."""
    found = re.fullmatch(r"([CP])(\d+)", level)
    return found is None or 2 <= int(found[2]) <= (5 if found[1] == "C" else 7)


def detectron2_feature(level: str) -> str:
    """detectron2's name of a level: ``res<k>`` for a backbone stage ``C<k>`` (its ResNet's outputs), ``p<k>`` for
    an FPN level ``P<k>``; a name of another form (a custom backbone's) as given."""
    found = re.fullmatch(r"([CP])(\d+)", level)
    if found is None:
        return level
    return ("res" if found[1] == "C" else "p") + found[2]


def ultralytics(rec: Recommendation, fitted_at: str = "") -> str:
    """ultralytics (YOLOv5-style) model YAML ``anchors:`` block: one row of w,h pairs per level, for a
    recommendation of three levels (a YOLOv5 head's); another number is an :class:`OptionError`."""
    levels = rec.recommended_levels
    if len(levels) != YOLOV5_LEVELS or not rec.anchors:
        raise OptionError(
            f"--export ultralytics: writes the anchors of a three-level YOLOv5 head; the recommendation has "
            f"{len(levels)} level{'s' if len(levels) != 1 else ''} ({', '.join(levels)}), so the block would build "
            "no such head (--export mmdet or detectron2 take any number)"
        )
    lines = _header(rec, "#", fitted_at)
    lines += _repeats(rec, "#")
    lines.append("anchors:")
    for lv, level in zip(rec.chosen.levels, rec.anchors.recommended.shapes, strict=True):
        pairs = ", ".join(f"{_px(w)},{_px(h)}" for w, h in level)  # yolov5 takes float anchors
        lines.append(f"  - [{pairs}]  # {printable(lv.name)}/{_num(lv.stride)}")
    return "\n".join(lines) + "\n"


EXPORTERS = {Toolkit.MMDET: mmdet, Toolkit.DETECTRON2: detectron2, Toolkit.ULTRALYTICS: ultralytics}
