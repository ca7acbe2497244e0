"""``recommend --detector --export``: the recommended design (the preset, or the search's choice) as the settings of
a toolkit that builds the same detector: an mmdetection config inheriting the toolkit's own, a detectron2 YAML
fragment, or a YOLOv5 ``anchors:`` block. The search's changes are written where the toolkit has the setting
(levels added or dropped through the FPN's start, end and number of outputs; anchor scale; fitted aspect ratios;
ATSS's top-k); a design the toolkit cannot express is a one-line error (FCOS has no counterpart here, detectron2's
Faster R-CNN FPN makes no P7)."""

from __future__ import annotations

import json
import re

from scalematch.errors import OptionError
from scalematch.match.search import Trial
from scalematch.presets.preset import (
    ATSSAssign,
    MaxIoU,
    MMDetAnchors,
    MMDetInput,
    Points,
    Preset,
    TorchvisionAnchors,
    TorchvisionInput,
    YoloAnchors,
    YOLOv5Assign,
)
from scalematch.report.style import printable

MMDET_BASES = {
    "retinanet": "mmdet::retinanet/retinanet_r50_fpn_1x_coco.py",
    "faster-rcnn": "mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py",
    "atss": "mmdet::atss/atss_r50_fpn_1x_coco.py",
}
"""mmdetection's configs of the same detectors (ResNet-50 + FPN, 1x schedule)."""

DETECTRON2_HEADS = {"retinanet": "RETINANET", "faster-rcnn": "RPN"}

_FPN_LEVEL = re.compile(r"P[2-9]")
"""The FPN outputs both toolkits name (P2-P7; detectron2's p2-p7)."""


def _header(design: Trial, toolkit: str, run: Preset | None, target: float) -> list[str]:
    """The comment lines that name the design: the preset as it ran (``run``: with what --levels, --backbone,
    --neck or --resize changed, as the text's verdict names it), then what the design search changed; the share as
    the text's verdict prints it against ``target``."""
    from scalematch.report.positives_text import as_set, shares

    p = design.preset  # names escaped: a newline in a preset's name must not end the comment
    ran = f"{printable(p.name)} {as_set(run or p)}"
    changed = f"; the search's design: {design.changes}" if design.varied else ""
    return [
        f"# scalematch recommend --detector {_given(run or p)} --export {toolkit}: {ran}{changed}",
        f"# ({shares(design.share, target)[0]} of objects met the target's test in the simulation of "
        f"{printable(p.toolkit)}'s assigner;",
        f"# {design.cost:,.0f} {p.head_units} per image)",
    ]


def _input_size(design: Trial) -> tuple[int, int]:
    """The design's input as (long side, short side)."""
    spec = design.preset.input
    if isinstance(spec, TorchvisionInput):
        return spec.max_size, spec.min_size
    if isinstance(spec, MMDetInput):
        return spec.long, spec.short
    return spec.size, spec.size


def check(preset: Preset, toolkit: str) -> None:
    """Raise the one-line :class:`OptionError` of an export that cannot be written, before any work."""
    gen = preset.anchors
    if toolkit == "mmdet":
        if preset.name not in MMDET_BASES:
            raise OptionError(
                f"--export mmdet: detector {preset.name} has no mmdetection counterpart here "
                f"(exports: {', '.join(MMDET_BASES)})"
            )
        _check_inherited(preset, toolkit)
        if not isinstance(gen, MMDetAnchors):  # mmdetection's own generator settings are written as they are
            anchor_scale(preset)
    elif toolkit == "detectron2":
        if preset.name not in DETECTRON2_HEADS or not isinstance(gen, TorchvisionAnchors):
            raise OptionError(
                f"--export detectron2: detector {preset.name} has no detectron2 counterpart here "
                f"(exports: {', '.join(DETECTRON2_HEADS)})"
            )
        _check_inherited(preset, toolkit)
        spec, assign = preset.input, preset.assigner
        if isinstance(spec, TorchvisionInput) and spec.fixed_size is not None:
            _refuse(preset, toolkit, f"input fixed_size {spec.fixed_size[0]}x{spec.fixed_size[1]}",
                    "its ResizeShortestEdge keeps the aspect ratio")  # fmt: skip
        if isinstance(spec, TorchvisionInput) and spec.size_divisible != 32:
            _refuse(preset, toolkit, f"input size_divisible {spec.size_divisible}", "its FPN pads to 32")
        if isinstance(assign, MaxIoU) and not assign.low_quality:
            _refuse(preset, toolkit, "assigner low_quality false", "its Matcher always allows low-quality matches")
    elif isinstance(gen, Points):
        raise OptionError(
            f"--export ultralytics: detector {preset.name} is anchor-free: its assigner has no anchors or ranges to set"
        )
    elif not isinstance(gen, YoloAnchors) or len(gen.shapes) != 3:
        raise OptionError(
            f"--export ultralytics: writes the anchors of a three-level YOLOv5 head; {preset.name} with levels "
            f"{', '.join(preset.levels)} is not one"
        )


def _given(preset: Preset) -> str:
    """The preset as ``--detector`` takes it: a built-in's name, else the file it was read from (escaped)."""
    from scalematch.presets.load import builtin_presets

    builtin = str(builtin_presets().get(preset.name, "")) == preset.path
    return printable(preset.name if builtin or not preset.path else preset.path)


def _refuse(preset: Preset, toolkit: str, what: str, why: str) -> None:
    raise OptionError(f"--export {toolkit}: detector {_given(preset)}: the design's {what} cannot be written ({why})")


def _check_inherited(preset: Preset, toolkit: str) -> None:
    """Refuse a design whose backbone, neck, levels, head, input kind or assigner kind differ from what the
    exported file inherits from the toolkit's own config (ResNet-50 + FPN with P<k> levels): the file would
    describe another detector than the one simulated."""
    from scalematch.presets import load_preset
    from scalematch.presets.load import preset_data

    base = load_preset(preset.name)
    mine, ref = preset_data(preset), preset_data(base)
    if toolkit == "mmdet":
        why = f"the config inherits {MMDET_BASES[preset.name]}, on {base.backbone} + FPN"
    else:
        why = f"the fragment sets detectron2's {preset.name} on {base.backbone} + FPN"
    if preset.backbone != base.backbone:
        _refuse(preset, toolkit, f"backbone {printable(preset.backbone)}", why)
    if preset.neck != base.neck:
        _refuse(preset, toolkit, f"neck {printable(preset.neck or 'none')}", why)
    odd = [lv for lv in preset.levels if not _FPN_LEVEL.fullmatch(lv)]
    if odd:
        _refuse(preset, toolkit, f"level {printable(odd[0])}", f"{why}, whose levels are P2-P7")
    kinds = (("head", "head"), ("input kind", "input"), ("anchors kind", "anchors"), ("assigner kind", "assigner"))
    for what, key in kinds:
        given, wanted = (d[key]["kind"] if key != "head" else d[key] for d in (mine, ref))
        if given != wanted:
            _refuse(preset, toolkit, f"{what} {given}", f"{why}, whose {what} is {wanted}")


def anchor_scale(preset: Preset) -> float:
    """How much larger the preset's torchvision anchor sizes are than the built-in preset's of the same name at
    the same levels: one factor for all, the only change to the sizes the export writes (it scales the inherited
    ``octave_base_scale`` or ``scales``). A level the built-in preset does not have (an added P2 or P7) is
    compared with its nearest level, halved or doubled per level."""
    from scalematch.presets import load_preset

    base = load_preset(preset.name)
    gen, ref = preset.anchors, base.anchors
    pairs: list[tuple[float, float]] = []
    if isinstance(gen, TorchvisionAnchors) and isinstance(ref, TorchvisionAnchors):
        numbers = [int(lv[1:]) for lv in base.levels]
        for level, mine in zip(preset.levels, gen.sizes, strict=False):
            k = int(level[1:])
            near = min(range(len(numbers)), key=lambda j: abs(numbers[j] - k))
            factor = 2.0 ** (k - numbers[near])
            pairs += [(m, t * factor) for m, t in zip(mine, ref.sizes[near], strict=False)]
        if any(len(s) != len(ref.sizes[0]) for s in gen.sizes):
            pairs.append((0.0, 1.0))
    factors = {round(m / t, 6) for m, t in pairs}
    if len(factors) != 1:
        raise OptionError(
            f"--export mmdet: the anchor sizes of {preset.path or preset.name} are not {preset.name}'s scaled "
            f"by one factor, the only change to the sizes this export writes (it scales the octave_base_scale or "
            f"scales of {MMDET_BASES[preset.name]})"
        )
    return factors.pop()


def _ratios(preset: Preset) -> tuple[float, ...] | None:
    """The torchvision anchor aspect ratios (h / w) when they differ from the built-in preset's, else None."""
    from scalematch.presets import load_preset

    gen, ref = preset.anchors, load_preset(preset.name).anchors
    if isinstance(gen, TorchvisionAnchors) and isinstance(ref, TorchvisionAnchors):
        return None if gen.aspect_ratios == ref.aspect_ratios else tuple(gen.aspect_ratios)
    return None


def _stride(level: str) -> int:
    """The stride mmdetection's FPN gives a level named Pk: 2^k."""
    return int(2 ** int(level[1:]))


def mmdet(design: Trial, run: Preset | None = None, target: float = 1.0) -> str:
    """A config file inheriting mmdetection's own config of the detector, with the anchors, levels and input
    size of the design set in place."""
    p = design.preset
    check(p, "mmdet")
    base = MMDET_BASES[p.name]
    long, short = _input_size(design)
    n = len(p.levels)
    strides = [_stride(level) for level in p.levels]
    gen = p.anchors
    a = 1.0 if isinstance(gen, MMDetAnchors) else anchor_scale(p)
    ratios = _ratios(p)
    extra = f", ratios={list(ratios)}" if ratios else ""
    assign = p.assigner
    iou = ""  # the simulated Max-IoU thresholds, as mmdetection's MaxIoUAssigner takes them
    if isinstance(assign, MaxIoU):
        iou = f"assigner=dict(pos_iou_thr={assign.high:g}, neg_iou_thr={assign.low:g}"
        # torchvision's low-quality matches have no IoU floor (mmdetection's RPN sets min_pos_iou=0.3)
        iou += ", min_pos_iou=0)" if assign.low_quality else ", match_low_quality=False)"
    if p.name == "retinanet":
        head = f"bbox_head=dict(anchor_generator=dict(octave_base_scale={4 * a:g}, strides={strides}{extra})),"
        head += f"\n    train_cfg=dict({iou})"
    elif p.name == "atss":
        assert isinstance(gen, MMDetAnchors)  # _check_inherited: the anchors kind of mmdetection's ATSS config
        settings = (  # mmdetection's AnchorGenerator's own keys, as the preset gives them
            f"octave_base_scale={_exact(gen.octave_base_scale)}, scales_per_octave={gen.scales_per_octave}, "
            f"ratios={[float(r) for r in gen.ratios]}, strides={list(gen.strides)}"
        )
        head = f"bbox_head=dict(anchor_generator=dict({settings}))"
        if isinstance(p.assigner, ATSSAssign) and p.assigner.topk != 9:
            head += f",\n    train_cfg=dict(assigner=dict(topk={p.assigner.topk}))"
    else:
        roi = [s for s in (4, 8, 16, 32) if s in strides]
        head = (
            f"rpn_head=dict(anchor_generator=dict(scales=[{8 * a:g}], strides={strides}{extra})),\n"
            f"    roi_head=dict(bbox_roi_extractor=dict(featmap_strides={roi})),\n"
            f"    train_cfg=dict(rpn=dict({iou}))"
        )
    spec = p.input
    divisor = spec.size_divisible if isinstance(spec, TorchvisionInput) else getattr(spec, "size_divisor", 32)
    if divisor != 32:
        head += f",\n    data_preprocessor=dict(pad_size_divisor={divisor})"
    # FPN on ResNet's C2-C5 (inputs 0-3): start_level picks the first, end_level a last one before C5.
    first, last = int(p.levels[0][1:]), int(p.levels[-1][1:])
    neck = f"num_outs={n}, start_level={first - 2}" + (f", end_level={last - 2}" if last < 5 else "")
    resize = f"dict(type='Resize', scale=({long}, {short}), keep_ratio=True)"
    if isinstance(spec, TorchvisionInput) and spec.fixed_size is not None:  # (w, h), as torchvision's fixed_size
        resize = f"dict(type='Resize', scale=({spec.fixed_size[0]}, {spec.fixed_size[1]}), keep_ratio=False)"
    lines = [
        *_header(design, "mmdet", run, target),
        f"_base_ = '{base}'",
        "",
        f"model = dict(\n    neck=dict({neck}),\n    {head})",
        "",
        "train_pipeline = [",
        "    dict(type='LoadImageFromFile'),",
        "    dict(type='LoadAnnotations', with_bbox=True),",
        f"    {resize},",
        "    dict(type='RandomFlip', prob=0.5),",
        "    dict(type='PackDetInputs'),",
        "]",
        "test_pipeline = [",
        "    dict(type='LoadImageFromFile'),",
        f"    {resize},",
        "    dict(type='LoadAnnotations', with_bbox=True),",
        "    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),",
        "]",
        "train_dataloader = dict(dataset=dict(pipeline=train_pipeline))",
        "val_dataloader = dict(dataset=dict(pipeline=test_pipeline))",
        "test_dataloader = val_dataloader",
        "",
    ]
    return "\n".join(lines)


def detectron2(design: Trial, run: Preset | None = None, target: float = 1.0) -> str:
    """A detectron2 YAML fragment: the anchor sizes per level (the same count on every level, as detectron2's
    heads require), the aspect ratios, the head's input features and the input size."""
    p = design.preset
    check(p, "detectron2")
    key = DETECTRON2_HEADS[p.name]
    gen = p.anchors
    assert isinstance(gen, TorchvisionAnchors)
    if key == "RPN" and "P7" in p.levels:
        raise OptionError(
            "--export detectron2: detectron2's FPN for Faster R-CNN (LastLevelMaxPool) makes P6 only; "
            f"the design adds P7 ({design.changes})"
        )
    long, short = _input_size(design)
    sizes = [[round(s, 2) for s in level] for level in gen.sizes]
    assign = p.assigner
    iou = [f"    IOU_THRESHOLDS: [{assign.low:g}, {assign.high:g}]"] if isinstance(assign, MaxIoU) else []
    features = [lv.lower() for lv in p.levels]
    backbone = []
    if key == "RETINANET" and "P2" in p.levels:  # the FPN reads res2 too (P6 and P7 still come from res5)
        res = ["res2", "res3", "res4", "res5"]
        backbone = [
            "  RESNETS:",
            f"    OUT_FEATURES: {json.dumps(res)}",
            "  FPN:",
            f"    IN_FEATURES: {json.dumps(res)}",
        ]
    lines = [
        *_header(design, "detectron2", run, target),
        "MODEL:",
        "  ANCHOR_GENERATOR:",
        f"    SIZES: {json.dumps(sizes)}",
        f"    ASPECT_RATIOS: {json.dumps([list(gen.aspect_ratios)])}",
        *backbone,
        f"  {key}:",
        f"    IN_FEATURES: {json.dumps(features)}",
        *iou,
        "INPUT:",
        f"  MIN_SIZE_TRAIN: [{short}]",
        f"  MAX_SIZE_TRAIN: {long}",
        f"  MIN_SIZE_TEST: {short}",
        f"  MAX_SIZE_TEST: {long}",
        "",
    ]
    return "\n".join(lines)


def ultralytics(design: Trial, run: Preset | None = None, target: float = 1.0) -> str:
    """The ``anchors:`` block of a three-level YOLOv5 model yaml (and the image size to train at)."""
    p = design.preset
    check(p, "ultralytics")
    gen = p.anchors
    assert isinstance(gen, YoloAnchors)
    size, _ = _input_size(design)
    rows = ["anchors:"]
    for level, (name, stride) in zip(gen.shapes, zip(p.levels, gen.strides, strict=True), strict=True):
        values = ", ".join(f"{_exact(w)},{_exact(h)}" for w, h in level)  # yolov5 takes float anchors
        rows.append(f"  - [{values}]  # {name}/{stride}")
    train = f"# train with imgsz={size}"
    if isinstance(p.assigner, YOLOv5Assign):  # a training hyperparameter: the model yaml cannot hold it
        threshold = _exact(p.assigner.anchor_t)
        train += f" and anchor_t: {threshold} in the hyperparameters (hyp.yaml; yolov5's default is 4.0)"
    if gen.reversed:  # the order yolov5 trains, which its check_anchor_order leaves as it is
        train += "\n# anchors.shapes of the preset reversed, as yolov5's check_anchor_order does at build"
    return "\n".join([*_header(design, "ultralytics", run, target), train, *rows, ""])


EXPORTERS = {"mmdet": mmdet, "detectron2": detectron2, "ultralytics": ultralytics}


def _exact(value: float) -> str:
    """``value`` written short (``4``, ``2.5``) when that reads back as the same float, else in full (``2.0000004``):
    what the simulation used, never rounded to another number."""
    short = f"{value:g}"
    return short if float(short) == float(value) else repr(float(value))
