"""The input a detector's loss sees: every image resized and padded as the toolkit does, every object as the
toolkit's data pipeline hands it over (float32, in input pixels), and every level's grid at that input size.

Per-axis values are named ``_w`` / ``_h`` (x / y). Arrays are numpy; float32 where the toolkit computes in
float32, so that comparisons at thresholds and ties come out as they do there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from scalematch.errors import GraphError, OptionError
from scalematch.presets.preset import LetterboxInput, MMDetInput, Preset, TorchvisionInput
from scalematch.profile.engine import MapTooLarge, sizes_or_problem
from scalematch.profile.graph import Graph, fixed_problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    F32 = npt.NDArray[np.float32]
    I64 = npt.NDArray[np.int64]
    Bool = npt.NDArray[np.bool_]


class TooSmall(Exception):
    """An image whose network input is too small for the network (``index`` among the images, input size)."""

    def __init__(self, index: int, width: int, height: int, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.index, self.width, self.height, self.reason = index, width, height, reason
        self.fit = "too large" if too_large else "too small"  # a feature map over the engine's bound: too large


class FixedInput(OptionError):
    """A network whose model fixes its input size (an ONNX model without dynamic axes) given another input size: an
    error where the preset's own resize gives it; a design the search skips where the search's input scale does."""


@dataclass(frozen=True)
class Images:
    """Per image k: original size, size after the resize, and the padded input the network reads."""

    orig_w: npt.NDArray[np.float64]
    orig_h: npt.NDArray[np.float64]
    new_w: I64
    new_h: I64
    input_w: I64
    input_h: I64


@dataclass(frozen=True)
class Objects:
    """Per object (rows of the usable table, grouped by image in file order): the image index, the box as the
    toolkit's pipeline gives it to the assigner (float32 ``xyxy`` in input pixels) and whether the pipeline
    keeps it (torchvision's references drop boxes that are empty after clamping them to the image)."""

    image: I64
    x1: F32
    y1: F32
    x2: F32
    y2: F32
    kept: Bool
    norm: tuple[F32, F32, F32, F32] | None = None
    """YOLOv5: the label as build_targets reads it (centre x, centre y, w, h normalised to the input)."""


@dataclass(frozen=True)
class Grid:
    """One level on every image: grid size and the stride the toolkit uses on it (per image)."""

    name: str
    rows: I64
    cols: I64
    stride_h: npt.NDArray[np.float64]
    stride_w: npt.NDArray[np.float64]


def torchvision_sizes(
    spec: TorchvisionInput, w0: npt.NDArray[np.float64], h0: npt.NDArray[np.float64]
) -> tuple[I64, I64]:
    """Image size after GeneralizedRCNNTransform's resize: floor(side * scale) with the scale in double."""
    import numpy as np

    if spec.fixed_size is not None:
        return np.full(len(w0), spec.fixed_size[0], np.int64), np.full(len(w0), spec.fixed_size[1], np.int64)
    scale = np.minimum(spec.min_size / np.minimum(w0, h0), spec.max_size / np.maximum(w0, h0))
    return np.floor(w0 * scale).astype(np.int64), np.floor(h0 * scale).astype(np.int64)


def letterbox_sizes(spec: LetterboxInput, w0: npt.NDArray[np.float64], h0: npt.NDArray[np.float64]) -> tuple[I64, I64]:
    """YOLO load_image: the long side to ``size``, each side rounded up (ultralytics: and at most ``size``)."""
    import numpy as np

    r = spec.size / np.maximum(w0, h0)
    same = r == 1
    w1 = np.where(same, w0, np.ceil(w0 * r))
    h1 = np.where(same, h0, np.ceil(h0 * r))
    if spec.style == "ultralytics":
        w1, h1 = np.where(same, w1, np.minimum(w1, spec.size)), np.where(same, h1, np.minimum(h1, spec.size))
    return w1.astype(np.int64), h1.astype(np.int64)


def images(preset: Preset, w0: npt.NDArray[np.float64], h0: npt.NDArray[np.float64]) -> Images:
    """Resized and padded sizes of images of original size ``w0`` x ``h0``."""
    import numpy as np

    spec = preset.input
    if isinstance(spec, TorchvisionInput | MMDetInput):
        if isinstance(spec, TorchvisionInput):
            new_w, new_h = torchvision_sizes(spec, w0, h0)
            d = spec.size_divisible
        else:  # mmcv.rescale_size: int(side * scale + 0.5)
            scale = np.minimum(spec.long / np.maximum(w0, h0), spec.short / np.minimum(w0, h0))
            new_w, new_h = (np.floor(v * scale + 0.5).astype(np.int64) for v in (w0, h0))
            d = spec.size_divisor
        return Images(w0, h0, new_w, new_h, -(-new_w // d) * d, -(-new_h // d) * d)
    new_w, new_h = letterbox_sizes(spec, w0, h0)
    square = np.full(len(w0), spec.size, np.int64)
    return Images(w0, h0, new_w, new_h, square, square)


BOX_COLUMNS = (
    "x", "y", "w", "h", "area", "ignore", "voc", "category_id", "label_refused", "label_text", "label_unique",
)  # fmt: skip
"""The columns :func:`objects` reads (``area``, ``ignore``, ``voc``, ``category_id``, ``label_refused``,
``label_text`` and ``label_unique`` where the input policy needs them; ``voc``: the box was read by mmdetection's
XMLDataset, which keeps every box, ``label_text``: the YOLO label is a COCO converter's text (see
:mod:`scalematch.dataset.yolo_labels`), and ``label_unique``: the labels are those left after the toolkit's duplicate
removal (no identical objects are removed again), all set by :func:`scalematch.match.detector.toolkit_rows`;
``label_refused``: the YOLO toolkits refuse the object's label file, see the box table's columns in
:mod:`scalematch.dataset.table`)."""


def objects(preset: Preset, table: pd.DataFrame, image: I64, imgs: Images) -> Objects:
    """The boxes of ``table`` (columns x, y, w, h in original pixels) as the toolkit's pipeline hands them over."""
    import numpy as np

    f32 = np.float32
    x = table["x"].to_numpy(np.float64)
    y = table["y"].to_numpy(np.float64)
    w = table["w"].to_numpy(np.float64)
    h = table["h"].to_numpy(np.float64)
    take = np.take  # per image values, computed once per image and taken per object (faster than indexing)
    if isinstance(preset.input, TorchvisionInput):
        # references/detection/coco_utils.py: float32 xywh -> xyxy, clamped to the image, empty boxes dropped;
        # then transform.resize_boxes: times float32(new) / float32(old) per axis.
        w0, h0 = imgs.orig_w.astype(f32), imgs.orig_h.astype(f32)
        x1, y1 = x.astype(f32), y.astype(f32)
        x2, y2 = x1 + w.astype(f32), y1 + h.astype(f32)
        x1, x2 = (np.clip(v, f32(0), take(w0, image)) for v in (x1, x2))
        y1, y2 = (np.clip(v, f32(0), take(h0, image)) for v in (y1, y2))
        kept = (x2 > x1) & (y2 > y1)
        rw = take(imgs.new_w.astype(f32) / w0, image)
        rh = take(imgs.new_h.astype(f32) / h0, image)
        ax1, ay1, ax2, ay2 = (np.asarray(v, dtype=f32) for v in (x1 * rw, y1 * rh, x2 * rw, y2 * rh))
        return Objects(image, ax1, ay1, ax2, ay2, kept)
    if isinstance(preset.input, MMDetInput):
        skip = table["ignore"].to_numpy(bool) if "ignore" in table.columns else np.zeros(len(x), dtype=bool)
        objs = _mmdet_objects(x, y, w, h, table["area"].to_numpy(np.float64), skip, image, imgs)
        if "voc" in table.columns:  # XMLDataset: no CocoDataset filter
            objs = replace(objs, kept=objs.kept | table["voc"].to_numpy(bool))
        return objs
    unique = "label_unique" in table.columns  # (set for every row or none)
    category = table["category_id"].to_numpy() if "category_id" in table.columns and not unique else None
    text = "label_text" in table.columns  # (set for every row or none)
    objs = _letterbox_objects(preset.input, x, y, w, h, image, imgs, category, text)
    if "label_refused" in table.columns:  # verify_image_label refuses the whole file of such an object
        from scalematch.dataset.yolo_labels import toolkit_bit

        bit = toolkit_bit(preset.input.style)
        objs = replace(objs, kept=objs.kept & ((table["label_refused"].to_numpy(np.int8) & bit) == 0))
    return objs


def _mmdet_objects(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    h: npt.NDArray[np.float64],
    area: npt.NDArray[np.float64],
    ignore: npt.NDArray[np.bool_],
    image: I64,
    imgs: Images,
) -> Objects:
    """mmdetection's CocoDataset.parse_data_info (a record whose ``ignore`` is true, a box outside the image, with
    area <= 0 or a side under 1 px is dropped; xyxy computed in double, stored as float32), then Resize: times
    float32(new / old) per axis and clipped to the resized image."""
    import numpy as np

    f32 = np.float32
    take = np.take  # per image values, computed once per image and taken per object (faster than indexing)
    w0, h0 = take(imgs.orig_w, image), take(imgs.orig_h, image)
    inter_w = np.maximum(0, np.minimum(x + w, w0) - np.maximum(x, 0))
    inter_h = np.maximum(0, np.minimum(y + h, h0) - np.maximum(y, 0))
    kept = ~ignore & (inter_w * inter_h != 0) & ~(area <= 0) & (w >= 1) & (h >= 1)
    sw = take((imgs.new_w / imgs.orig_w).astype(f32), image)
    sh = take((imgs.new_h / imgs.orig_h).astype(f32), image)
    new_w, new_h = take(imgs.new_w.astype(f32), image), take(imgs.new_h.astype(f32), image)
    x1 = np.clip(x.astype(f32) * sw, f32(0), new_w)
    x2 = np.clip((x + w).astype(f32) * sw, f32(0), new_w)
    y1 = np.clip(y.astype(f32) * sh, f32(0), new_h)
    y2 = np.clip((y + h).astype(f32) * sh, f32(0), new_h)
    return Objects(image, x1, y1, x2, y2, kept)


def _letterbox_objects(
    spec: LetterboxInput,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    h: npt.NDArray[np.float64],
    image: I64,
    imgs: Images,
    category: npt.NDArray[np.int64] | None = None,
    text: bool = False,
) -> Objects:
    """YOLO: the label normalised to the original image (as COCO-to-YOLO converters compute it; with ``text``, as
    they write it, ``'%g'``; read as float32) carried into the letterboxed square. yolov5 (dataloaders.py):
    xywhn2xyxy with the float half-margin, then xyxy2xywhn clipped to size - 1e-3, which build_targets reads.
    ultralytics (LetterBox._update_labels): xyxy times the loaded size, times the letterbox ratio, plus the rounded
    left/top margin."""
    import numpy as np

    from scalematch.dataset.yolo_labels import converted

    f32 = np.float32
    take = np.take  # per image values, computed once per image and taken per object (faster than indexing)
    w0, h0 = take(imgs.orig_w, image), take(imgs.orig_h, image)
    xc, yc, wn, hn = converted(x, y, w, h, w0, h0, text)
    # a COCO converter writes the class category_id - 1: below 0 for a category 0, which both toolkits refuse
    negative = category < 1 if text and category is not None else None
    usable = _label_image_kept(spec, (xc, yc, wn, hn), image, imgs, negative)
    if category is not None:
        usable &= _first_label(image, category, (xc, yc, wn, hn))
    s = float(spec.size)
    w1_i, h1_i = imgs.new_w.astype(np.float64), imgs.new_h.astype(np.float64)
    r_i = np.minimum(np.minimum(s / h1_i, s / w1_i), 1.0)
    dw_i = (s - np.maximum(np.round(w1_i * r_i), 1)) / 2
    dh_i = (s - np.maximum(np.round(h1_i * r_i), 1)) / 2
    half = f32(2)
    if spec.style == "ultralytics":
        # Instances: xywh -> xyxy, times the loaded size, times the ratio, plus the margin; Format: back to xywh
        # normalised by the square; v8DetectionLoss: times the square, xywh -> xyxy.
        left, top = take(np.round(dw_i - 0.1).astype(f32), image), take(np.round(dh_i - 0.1).astype(f32), image)
        rr = take(r_i.astype(f32), image)
        w1, h1 = take(w1_i.astype(f32), image), take(h1_i.astype(f32), image)
        x1 = (xc - wn / half) * w1 * rr + left
        x2 = (xc + wn / half) * w1 * rr + left
        y1 = (yc - hn / half) * h1 * rr + top
        y2 = (yc + hn / half) * h1 * rr + top
        size, inv = f32(s), f32(1 / s)
        cx, cy = (x1 + x2) / half * inv * size, (y1 + y2) / half * inv * size
        bw, bh = (x2 - x1) * inv * size / half, (y2 - y1) * inv * size / half
        x1, x2, y1, y2 = cx - bw, cx + bw, cy - bh, cy + bh
        # No box is dropped for its size (LetterBox and Format keep every label; only mosaic removes empty ones):
        # the loss masks a target whose xyxy sum to 0 or less (mask_gt), and the assigner widens small sides.
        return Objects(image, x1, y1, x2, y2, (((x1 + y1) + x2) + y2 > 0) & usable)
    sw, sh = take((r_i * w1_i).astype(f32), image), take((r_i * h1_i).astype(f32), image)
    padw, padh = take(dw_i.astype(f32), image), take(dh_i.astype(f32), image)
    x1 = sw * (xc - wn / half) + padw
    y1 = sh * (yc - hn / half) + padh
    x2 = sw * (xc + wn / half) + padw
    y2 = sh * (yc + hn / half) + padh
    top_edge = f32(s - 1e-3)
    x1, y1, x2, y2 = (np.clip(v, f32(0), top_edge) for v in (x1, y1, x2, y2))
    size = f32(s)
    norm = (((x1 + x2) / half) / size, ((y1 + y2) / half) / size, (x2 - x1) / size, (y2 - y1) / size)
    return Objects(image, x1, y1, x2, y2, (x2 > x1) & (y2 > y1) & usable, norm)


def _first_label(
    image: I64, category: npt.NDArray[np.int64], label: tuple[F32, F32, F32, F32]
) -> npt.NDArray[np.bool_]:
    """Per object, whether its label is not a repeat of an earlier one of its image: the converters write one row
    per distinct (class, label) of an image (ultralytics' ``convert_coco``) and ``verify_image_label`` removes
    duplicate rows (ultralytics and yolov5), so the toolkit trains on one of identical objects."""
    import numpy as np

    # A 64-bit fingerprint of each row finds the few rows that may repeat another (one integer sort instead of a
    # six-key lexsort of every row); those are then compared exactly (-0.0 and 0.0 are one value, as in numpy).
    u64 = np.uint64
    fingerprint = image.astype(np.int64).view(u64) * u64(0x9E3779B97F4A7C15)
    for v in (category.astype(np.int64).view(u64), *((x + np.float32(0)).view(np.uint32).astype(u64) for x in label)):
        fingerprint = (fingerprint ^ v) * u64(0xBF58476D1CE4E5B9)
    ranked = np.argsort(fingerprint, kind="stable")
    again = fingerprint[ranked][1:] == fingerprint[ranked][:-1]
    first = np.ones(len(image), dtype=bool)
    if not again.any():
        return first
    maybe = np.zeros(len(image), dtype=bool)
    maybe[ranked[1:][again]] = maybe[ranked[:-1][again]] = True
    rows = np.flatnonzero(maybe)  # ascending: file order kept
    first[rows] = _first_exact(image[rows], category[rows], tuple(v[rows] for v in label))  # type: ignore[arg-type]
    return first


def _first_exact(
    image: I64, category: npt.NDArray[np.int64], label: tuple[F32, F32, F32, F32]
) -> npt.NDArray[np.bool_]:
    """:func:`_first_label` by sorting every row on all its values."""
    import numpy as np

    order = np.lexsort((*label[::-1], category, image))  # stable: the first of equal rows comes first
    same = np.ones(max(len(order) - 1, 0), dtype=bool)
    for v in (image, category, *label):
        ranked = v[order]
        same &= ranked[1:] == ranked[:-1]
    first = np.ones(len(image), dtype=bool)
    first[order[1:][same]] = False
    return first


def _label_image_kept(
    spec: LetterboxInput,
    label: tuple[F32, F32, F32, F32],
    image: I64,
    imgs: Images,
    negative: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """Per object, whether the toolkit trains on its image: its ``verify_image_label`` drops an image as corrupt
    when one of its labels (``label``: centre x, centre y, w, h normalised, float32) is out of bounds (see
    :func:`scalematch.dataset.yolo_labels.refusals`), or when the image is under 10 pixels on a side (ultralytics'
    ``check_image`` and yolov5 both assert ``shape > 9``, on the size ``exif_size`` gives: the table's image size,
    which for YOLO input is that, and for COCO and VOC input the size the file gives, taken for the image's), or
    over twice Pillow's ``Image.MAX_IMAGE_PIXELS`` (``Image.open`` raises its DecompressionBombError: 178,956,970
    pixels by default), or when a label's class is ``negative`` (both refuse it)."""
    import numpy as np
    from PIL import Image

    from scalematch.dataset.yolo_labels import refusals, toolkit_bit

    out = (refusals(label) & toolkit_bit(spec.style)) != 0
    if negative is not None:
        out |= negative
    corrupt = ~((imgs.orig_w > 9) & (imgs.orig_h > 9))  # "image size (h, w) <10 pixels"
    bound = Image.MAX_IMAGE_PIXELS  # (None: the check is off in this process, as in the toolkit's)
    if bound:  # Image.open: max(1, w) * max(1, h) > 2 * MAX_IMAGE_PIXELS is a DecompressionBombError
        corrupt |= np.maximum(imgs.orig_w, 1) * np.maximum(imgs.orig_h, 1) > 2 * bound
    corrupt[image[out]] = True
    kept: npt.NDArray[np.bool_] = ~corrupt[image]
    return kept


def grids(preset: Preset, graph: Graph, imgs: Images) -> tuple[Grid, ...]:
    """Every level's grid on every image, from the profile engine's feature sizes at the padded input size.

    torchvision's anchor generator uses stride = padded input // grid size (integer division, so P7 on an
    800-pixel side is 114, not 128); the SSD, YOLO and point generators use the preset's nominal strides.
    """
    import numpy as np

    from scalematch.presets.preset import MMDetAnchors, Points, SSDBoxes, TorchvisionAnchors, YoloAnchors

    distinct, inverse = distinct_sizes(imgs.input_h, imgs.input_w)
    per_size = []
    for k, (hp, wp) in enumerate(distinct):
        fixed = fixed_problem(graph.source or graph.name, graph.fixed_input, (int(hp), int(wp)))
        if fixed is not None:  # an ONNX model that runs at one height or width only
            first = int(np.flatnonzero(inverse == k)[0])
            raise FixedInput(
                f"{fixed}: under {preset.name}'s resize an image of {imgs.orig_w[first]:g}x"
                f"{imgs.orig_h[first]:g} px becomes that input; simulate a model exported with a free height and "
                "width (dynamic axes)"
            )
        found = sizes_or_problem(graph, (int(hp), int(wp)))
        if isinstance(found, GraphError):
            first = int(np.flatnonzero(inverse == k)[0])
            raise TooSmall(first, int(wp), int(hp), str(found), isinstance(found, MapTooLarge))
        missing = [lv for lv in preset.levels if lv not in found]
        if missing:
            raise OptionError(
                f"detector {preset.name}: level '{missing[0]}' is not an output of {preset.backbone}"
                f"{' + ' + preset.neck if preset.neck else ''}; expected one of {', '.join(found)}"
            )
        per_size.append([found[lv] for lv in preset.levels])
    table = np.array(per_size, dtype=np.int64).reshape(len(distinct), len(preset.levels), 2)
    out = []
    gen = preset.anchors
    for k, name in enumerate(preset.levels):
        rows = table[inverse, k, 0]
        cols = table[inverse, k, 1]
        if isinstance(gen, TorchvisionAnchors):
            sh = (imgs.input_h // rows).astype(np.float64)
            sw = (imgs.input_w // cols).astype(np.float64)
        elif isinstance(gen, SSDBoxes):
            sh = sw = np.full(len(rows), float(gen.steps[k]))
        else:
            assert isinstance(gen, YoloAnchors | Points | MMDetAnchors)
            sh = sw = np.full(len(rows), float(gen.strides[k]))
        out.append(Grid(name, rows, cols, sh, sw))
    return tuple(out)


def distinct_sizes(height: I64, width: I64) -> tuple[I64, I64]:
    """The distinct (height, width) pairs in ascending order (by height, then width) as an (n, 2) array, and per
    image the index of its pair: ``np.unique`` of the stacked pairs along axis 0, found from one integer per pair
    where the sizes allow (much faster)."""
    import numpy as np

    span = int(width.max()) + 1 if len(width) else 1
    if len(height) and (int(min(height.min(), width.min())) < 0 or int(height.max()) >= (1 << 62) // span):
        pairs, inverse = np.unique(np.stack([height, width], axis=1), axis=0, return_inverse=True)
        return pairs, inverse.reshape(-1)
    keys, inverse = np.unique(height * span + width, return_inverse=True)
    return np.stack([keys // span, keys % span], axis=1), inverse.reshape(-1)


def too_small(preset: Preset, graph: Graph, w0: npt.NDArray[np.float64], h0: npt.NDArray[np.float64]) -> Bool:
    """Per image of original size ``w0`` x ``h0``: whether its padded input after ``preset``'s resize is too small
    for the network of ``graph`` (an input of 0 rows or columns, or fewer than its layers need), which
    :func:`grids` refuses with :class:`TooSmall`."""
    import numpy as np

    imgs = images(preset, w0, h0)
    distinct, inverse = distinct_sizes(imgs.input_h, imgs.input_w)
    bad = np.zeros(len(distinct), dtype=bool)
    for k, (hp, wp) in enumerate(distinct):
        bad[k] = isinstance(sizes_or_problem(graph, (int(hp), int(wp))), GraphError)
    small: Bool = bad[inverse]
    return small


def check_strides(preset: Preset, graph: Graph) -> None:
    """Refuse a preset whose levels' strides in ``graph`` decrease along its ``levels`` (the toolkits list and
    match their levels fine to coarse; a neck's ``P<k>`` outputs are held to the same order when it is read,
    :func:`~scalematch.profile.level_order.first_decrease`), or whose ``anchors.strides`` (YOLO anchors, points,
    mmdetection anchors) differ from those strides: yolov5 and ultralytics take the stride from the model itself,
    and an mmdetection config whose strides are not the network's places its anchors off the feature map. A
    :class:`~scalematch.errors.ConfigError` naming the preset file, the key and the levels. Levels that ``graph``
    does not make are left to :func:`grids`."""
    from fractions import Fraction

    from scalematch.errors import ConfigError
    from scalematch.presets.preset import MMDetAnchors, Points, YoloAnchors
    from scalematch.profile.level_order import first_decrease, stride_text, tap_strides

    network = tap_strides(graph, preset.levels)
    where = preset.path or "preset " + preset.name
    net = f"{preset.backbone}{' + ' + preset.neck if preset.neck else ''}"
    alone = "" if preset.neck else " (no neck)"
    known = [name for name in preset.levels if name in network]
    listed = ", ".join(stride_text(network[n]) for n in known)
    found = first_decrease(preset.levels, network)
    if found is not None:
        a, b = found
        raise ConfigError(
            f"{where}: key 'levels': {', '.join(known)} have strides {listed} in {net}{alone}: {b} (stride "
            f"{stride_text(network[b])}) comes after {a} (stride {stride_text(network[a])}); expected levels in "
            "increasing stride order, as the toolkits list and match them"
        )
    gen = preset.anchors
    if not isinstance(gen, YoloAnchors | Points | MMDetAnchors):
        return
    for name, stride in zip(preset.levels, gen.strides, strict=True):
        if name in network and network[name] != (Fraction(stride), Fraction(stride)):
            raise ConfigError(
                f"{where}: key 'anchors.strides': level {name} has stride {stride_text(network[name])} in {net}, "
                f"but the preset places its grid at stride {stride}; expected the network's strides [{listed}] (the "
                "toolkits take them from the model)"
            )
