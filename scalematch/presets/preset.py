"""Detector presets: what a toolkit's detector does with an image before its loss sees the objects.

A preset is data (``configs/detectors/*.yaml``) naming the backbone and levels, the input geometry (resize and
padding with the toolkit's rounding), where the anchors or points sit, and the assigner with its thresholds.
Every field is a plain value so that a user can override it (:func:`override`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Literal

# Input geometry ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchvisionInput:
    """torchvision's GeneralizedRCNNTransform: scale = min(min_size / short, max_size / long), output size
    floor(side * scale), boxes scaled by new / old per axis in float32, then zero padding at the bottom and
    right to a multiple of ``size_divisible`` (one image per batch). ``fixed_size`` (width, height) stretches."""

    min_size: int
    max_size: int
    size_divisible: int = 32
    fixed_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class LetterboxInput:
    """YOLO letterbox: the long side to ``size`` (rounded up, as load_image does), then centred padding to a
    ``size`` x ``size`` square without scaling up. ``style`` picks whose label arithmetic: ``yolov5`` (padding
    by the float half-margin, boxes clipped to the square) or ``ultralytics`` (padding by the rounded left/top
    margin, as LetterBox pads the image)."""

    size: int
    style: Literal["yolov5", "ultralytics"] = "yolov5"


@dataclass(frozen=True)
class MMDetInput:
    """mmdetection's Resize(scale, keep_ratio=True): scale = min(long / max(w, h), short / min(w, h)), sides
    int(side * scale + 0.5), boxes times new / old per axis (float32) and clipped to the image; then
    DetDataPreprocessor's padding to a multiple of ``size_divisor`` (one image per batch)."""

    long: int
    short: int
    size_divisor: int = 32


InputSpec = TorchvisionInput | LetterboxInput | MMDetInput

# Anchors and points ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TorchvisionAnchors:
    """torchvision's AnchorGenerator: per level, sizes x aspect ratios (h / w), base boxes rounded to integers,
    centred at i * stride where stride = padded input // grid size (integer division)."""

    sizes: tuple[tuple[float, ...], ...]
    aspect_ratios: tuple[float, ...]

    def per_level(self) -> int:
        return len(self.sizes[0]) * len(self.aspect_ratios)


def cell_anchors(sizes: tuple[float, ...], ratios: tuple[float, ...]) -> tuple[Any, Any, Any, Any]:
    """torchvision's AnchorGenerator.generate_anchors for one level, per shape (ratio-major, as its cell anchors):
    x1, x2, y1, y2 of the zero-centred base box, in float32. h_ratio = sqrt(r), w_ratio = 1 / h_ratio, the box
    [-w, -h, w, h] / 2 rounded half to even: a width or height of 1 or less rounds to a zero-area box."""
    import numpy as np

    f32 = np.float32
    scales = np.asarray(sizes, dtype=f32)
    h_ratio = np.sqrt(np.asarray(ratios, dtype=f32))
    w_ratio = f32(1) / h_ratio
    ws = (w_ratio[:, None] * scales[None, :]).reshape(-1)
    hs = (h_ratio[:, None] * scales[None, :]).reshape(-1)
    return np.round(-ws / f32(2)), np.round(ws / f32(2)), np.round(-hs / f32(2)), np.round(hs / f32(2))


@dataclass(frozen=True)
class SSDBoxes:
    """torchvision's DefaultBoxGenerator: scales s_k (share of the input), aspect ratios per level, steps."""

    aspect_ratios: tuple[tuple[float, ...], ...]
    scales: tuple[float, ...]
    steps: tuple[int, ...]
    clip: bool = True

    def per_level(self) -> int:
        return 2 + 2 * len(self.aspect_ratios[0])


@dataclass(frozen=True)
class YoloAnchors:
    """YOLOv5 anchors (w, h) in input pixels per level, and the model strides that turn them into grid units.
    ``reversed`` records that the preset listed the levels the other way round and that they were flipped, as
    yolov5's model builder does (:func:`yolov5_reverses`): ``shapes`` are always the ones yolov5 trains. It only
    describes where they came from (left out of comparisons)."""

    shapes: tuple[tuple[tuple[float, float], ...], ...]
    strides: tuple[int, ...]
    reversed: bool = field(default=False, compare=False)

    def per_level(self) -> int:
        return len(self.shapes[0])


def yolov5_reverses(shapes: tuple[tuple[tuple[float, float], ...], ...], strides: tuple[int, ...]) -> bool:
    """True when yolov5's Model flips these anchors' level order as it builds the Detect head (utils/autoanchor.py,
    check_anchor_order): the mean anchor area (w x h in float32, per level) changes from the first level to the
    last with the other sign than the stride does (a change of zero flips nothing)."""
    import numpy as np

    area = np.array(shapes, np.float32).prod(-1).mean(-1, dtype=np.float32)
    da, ds = area[-1] - area[0], strides[-1] - strides[0]
    return bool(da != 0 and np.sign(da) != np.sign(ds))


@dataclass(frozen=True)
class Points:
    """Anchor-free points at (i + offset) * stride."""

    strides: tuple[int, ...]
    offset: float = 0.5

    def per_level(self) -> int:
        return 1


@dataclass(frozen=True)
class MMDetAnchors:
    """mmdetection's AnchorGenerator: per level, octave_base_scale x stride x 2^(i / scales_per_octave) for each
    ratio (h / w), centred at i * stride (center_offset 0), unrounded, with the nominal strides."""

    strides: tuple[int, ...]
    ratios: tuple[float, ...] = (1.0,)
    octave_base_scale: float = 8.0
    scales_per_octave: int = 1

    def per_level(self) -> int:
        return len(self.ratios) * self.scales_per_octave


Generator = TorchvisionAnchors | SSDBoxes | YoloAnchors | Points | MMDetAnchors

# Assigners -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaxIoU:
    """torchvision's Matcher: positive when the best IoU over objects is >= ``high``; with ``low_quality`` each
    object's best anchors (ties included) become positives of the object *they* overlap most."""

    high: float
    low: float
    low_quality: bool = True


@dataclass(frozen=True)
class SSDMatch:
    """torchvision's SSDMatcher: best-IoU matches at ``threshold``, then each object's best box forced to it."""

    threshold: float = 0.5


@dataclass(frozen=True)
class FCOSAssign:
    """torchvision's FCOS: point inside the box, within ``center_sampling_radius`` x anchor size of its centre,
    max(l, t, r, b) in (4 s, 8 s) (open at the ends), the smallest box when several qualify."""

    center_sampling_radius: float = 1.5


@dataclass(frozen=True)
class YOLOv5Assign:
    """YOLOv5's build_targets: every anchor with max(w/a_w, a_w/w, h/a_h, a_h/h) < ``anchor_t``, in the centre
    cell and the two neighbouring cells nearest to the centre."""

    anchor_t: float = 4.0


@dataclass(frozen=True)
class TALAssign:
    """ultralytics' TaskAlignedAssigner: candidates are points inside the box, a box side shorter than
    ``min_side`` widened to it about the centre (ultralytics 8.4: the second stride); at most ``topk`` become
    positive (which ones depends on the predictions, so the count is an upper bound)."""

    topk: int = 10
    min_side: float = 16.0


@dataclass(frozen=True)
class ATSSAssign:
    """mmdetection's ATSSAssigner: per level the ``topk`` anchors nearest to the object's centre, positive when
    their IoU is >= mean + std of those candidates' IoUs and their centre lies inside the box (by more than
    0.01); an anchor positive for several objects goes to the one it overlaps most."""

    topk: int = 9


Assigner = MaxIoU | SSDMatch | FCOSAssign | YOLOv5Assign | TALAssign | ATSSAssign

# The preset ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """One detector with its toolkit's defaults."""

    name: str
    title: str
    toolkit: str
    source: str
    backbone: str
    neck: str | None
    levels: tuple[str, ...]
    input: InputSpec
    anchors: Generator
    assigner: Assigner
    head: Literal["one-stage", "two-stage"] = "one-stage"
    path: str = ""

    def resize_policy(self) -> str:
        """The dataset resize policy closest to this preset's input (for the box table's input-pixel columns;
        the simulation itself follows the toolkit's rounding)."""
        spec = self.input
        if isinstance(spec, LetterboxInput):
            return f"longest-edge:{spec.size}"
        if isinstance(spec, MMDetInput):
            return f"shortest-edge:{spec.short},{spec.long}"
        if spec.fixed_size is not None:
            return f"fixed:{spec.fixed_size[0]}x{spec.fixed_size[1]}"
        return f"shortest-edge:{spec.min_size},{spec.max_size}"

    @property
    def upper_bound(self) -> bool:
        """True when the simulated count is an upper bound rather than the toolkit's exact decision."""
        return isinstance(self.assigner, TALAssign)

    @property
    def anchor_free(self) -> bool:
        """True when the head scores points rather than anchors: torchvision's FCOS (one anchor per location, of
        which only the centre and size are used) and ultralytics' YOLOv8 (points at the cell centres)."""
        return isinstance(self.assigner, FCOSAssign | TALAssign)

    @property
    def head_units(self) -> str:
        """What the head scores at each location, in words: ``points`` for an :attr:`anchor_free` head, else
        ``anchors`` (the search's cost, ``anchors_per_image``, counts them)."""
        return "points" if self.anchor_free else "anchors"

    @property
    def scores_iou(self) -> bool:
        """True when positives are anchors with an IoU to their object (a quality floor applies to them)."""
        return isinstance(self.assigner, MaxIoU | SSDMatch | ATSSAssign)


DESCRIPTIVE = ("title", "toolkit", "source", "path")
"""The fields of a :class:`Preset` that only describe it (its title, the toolkit and sources it follows, the file it
was read from): printed, never read by the simulation."""


def override(preset: Preset, **changes: object) -> Preset:
    """A copy of ``preset`` with top-level fields replaced; dotted names go one level down:
    ``override(p, **{"assigner.high": 0.6, "assigner.low": 0.5})``. The result is held to the checks of a preset
    YAML file (a :class:`~scalematch.errors.ConfigError` naming the key, e.g. ``assigner.high`` above 1)."""
    import os

    from scalematch import _args
    from scalematch.errors import OptionError

    _args.expect(preset, "preset", Preset, "a Preset (scalematch.load_preset('retinanet'))")
    top: dict[str, object] = {}
    nested: dict[str, dict[str, object]] = {}
    names = {f.name for f in fields(preset)}
    for key, value in changes.items():
        head, _, rest = key.partition(".")
        if head not in names:
            raise OptionError(f"preset {preset.name}: no field '{head}'; expected one of {', '.join(sorted(names))}")
        value = _args.plain(value)  # a numpy number or a Fraction as the int or float it stands for
        if key in ("backbone", "neck") and isinstance(value, str | os.PathLike):  # a path as its text, no NUL in it
            value = _args.path_or_name(value, f"preset {preset.name}: {key}", f"a {key} name or path")
        part = getattr(preset, head)
        if rest:
            nested.setdefault(head, {})[rest] = value
        elif is_dataclass(part) and (not is_dataclass(value) or isinstance(value, type)):
            raise OptionError(
                f"preset {preset.name}: {head}: expected a {type(part).__name__} (or its fields, as "
                f"'{head}.{fields(part)[0].name}'), got {_args.shown(value)}"
            )
        else:
            top[head] = value
    for head, values in nested.items():
        part = getattr(preset, head)
        inner = {f.name for f in fields(part)}
        unknown = [k for k in values if k not in inner]
        if unknown:
            raise OptionError(
                f"preset {preset.name}: {head} has no field '{unknown[0]}'; expected one of {', '.join(sorted(inner))}"
            )
        if isinstance(part, YoloAnchors) and "shapes" in values:  # new shapes: the file's order says nothing of them
            values = {**values, "reversed": False}
        top[head] = replace(part, **values)
    swapped = [
        f"backbone {top['backbone']}" if key == "backbone" else f"neck {top['neck']}" if top["neck"] else "no neck"
        for key in ("backbone", "neck")
        if key in top and top[key] != getattr(preset, key)
    ]
    if swapped and "title" not in top:  # the title names the preset's own backbone: say what runs instead
        top["title"] = f"{preset.title} with {' and '.join(swapped)} (overridden)"
    from scalematch.presets.load import checked

    return checked(replace(preset, **top), f"override of preset {preset.name}")  # type: ignore[arg-type]
