"""Read detector presets from YAML (built in under ``configs/detectors/`` or given by path)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from scalematch._paths import kind as path_kind
from scalematch._paths import problem
from scalematch._yaml import key_words as _key
from scalematch.errors import ConfigError, ModelError, OptionError, ScalematchError, raw_text
from scalematch.presets.preset import (
    Assigner,
    ATSSAssign,
    FCOSAssign,
    Generator,
    InputSpec,
    LetterboxInput,
    MaxIoU,
    MMDetAnchors,
    MMDetInput,
    Points,
    Preset,
    SSDBoxes,
    SSDMatch,
    TALAssign,
    TorchvisionAnchors,
    TorchvisionInput,
    YoloAnchors,
    YOLOv5Assign,
    yolov5_reverses,
)
from scalematch.profile.importers.config import config_dir

DEFAULT_PRESET = "retinanet"
KEYS = ("name", "title", "toolkit", "source", "backbone", "neck", "levels", "input", "anchors", "assigner", "head")
SECTION_KEYS: dict[tuple[str, object], tuple[str, ...]] = {
    ("input", "torchvision"): ("kind", "min_size", "max_size", "size_divisible", "fixed_size"),
    ("input", "letterbox"): ("kind", "size", "style"),
    ("input", "mmdet"): ("kind", "scale", "size_divisor"),
    ("anchors", "torchvision"): ("kind", "sizes", "aspect_ratios"),
    ("anchors", "ssd"): ("kind", "aspect_ratios", "scales", "steps", "clip"),
    ("anchors", "yolov5"): ("kind", "shapes", "strides"),
    ("anchors", "points"): ("kind", "strides", "offset"),
    ("anchors", "mmdet"): ("kind", "strides", "ratios", "octave_base_scale", "scales_per_octave"),
    ("assigner", "max-iou"): ("kind", "high", "low", "low_quality"),
    ("assigner", "ssd"): ("kind", "threshold"),
    ("assigner", "fcos"): ("kind", "center_sampling_radius"),
    ("assigner", "yolov5"): ("kind", "anchor_t"),
    ("assigner", "tal"): ("kind", "topk", "min_side"),
    ("assigner", "atss"): ("kind", "topk"),
}
"""The keys of each kind of section (an unknown kind is reported by the section's own reader)."""
MAX_PIXELS = 16384.0
"""Bound of every size, stride and step in a preset (as of --input-size): larger ones would exhaust memory."""
MAX_LIST = 64
"""Most entries of one list in a preset (levels, sizes or ratios of a level, scales): the built-ins have at most 6."""
MAX_ANCHORS = 64
"""Most anchors per location on a level (sizes x ratios, ratios x scales per octave, ...): the built-ins have at
most 9; every anchor is matched against every object on every cell."""


def builtin_presets() -> dict[str, Path]:
    """Built-in presets, name -> path, sorted by name."""
    return {p.stem: p for p in sorted((config_dir() / "detectors").glob("*.yaml"))}


def load_preset(name: str | os.PathLike[str]) -> Preset:
    """A built-in preset by name, or a preset YAML file by path (a ``str`` or an ``os.PathLike``)."""
    return read_preset(name, "name")


def read_preset(name: object, param: str) -> Preset:
    """:func:`load_preset`, its errors naming the parameter ``param`` (``detector`` for recommend())."""
    import yaml

    from scalematch import _args

    name = _args.path_or_name(name, param, "a preset name or a preset YAML path (str or pathlib.Path)")
    known = builtin_presets()
    if not str(name).strip():
        raise ConfigError(f"{param}: expected a preset name or file, got an empty name; built-in: {', '.join(known)}")
    path = known.get(str(name)) or Path(name)
    what = path_kind(path)
    if what not in (None, "missing"):
        raise ConfigError(problem(path, what))
    if what is not None and ("/" in str(name) or str(name).lower().endswith((".yaml", ".yml"))):
        raise ConfigError(f"{name}: no such preset file")
    if what is not None:
        raise ConfigError(f"{param}: unknown detector '{name}'; expected a file or one of: {', '.join(known)}")
    from scalematch._yaml import RepeatedKey, TooLarge, UnsupportedTag, kind_of_document, safe_load, syntax_error

    try:
        text = path.read_text(encoding="utf-8")
        if not text:
            raise ConfigError(f"{path}: the file is empty (0 bytes)")
        data = safe_load(text, unique_keys=True)
    except (yaml.YAMLError, UnsupportedTag) as exc:
        raise ConfigError(syntax_error(path, exc)) from None
    except (OSError, UnicodeDecodeError, TooLarge, RepeatedKey) as exc:
        raise ConfigError(
            f"{path}: cannot read the preset: {(str(exc) or type(exc).__name__).splitlines()[0]}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {kind_of_document(data)}")
    for key in ("backbone", "neck"):
        data[key] = from_folder(data.get(key), path.parent)
    return _Reader(str(path), data).preset()


def from_folder(value: object, folder: Path) -> object:
    """A preset's ``backbone`` or ``neck`` that is a relative path (a name ending in .yaml, .yml or .onnx, or
    with a '/') taken from the preset file's ``folder``; anything else (a built-in name, a torch
    ``module:attribute``, an absolute path, a value of the wrong type) as it is."""
    from scalematch.profile.api import _MODULE_SPEC

    if not isinstance(value, str) or Path(value).is_absolute() or _MODULE_SPEC.match(value):
        return value
    if not (value.lower().endswith((".yaml", ".yml", ".onnx")) or "/" in value):
        return value
    return str(folder / value)


def backbone_refusal(preset: Preset, exc: ScalematchError) -> ScalematchError:
    """``exc``, an imported backbone's refusal when ``preset`` is used (an ONNX file or a torch module is read
    then, not with the preset: :meth:`_Reader.check_network`), naming the preset file and its key when that file
    names the backbone, as a YAML backbone's error does: ``my.yaml: backbone: m.onnx: not an ONNX model (...)``
    (a :class:`ModelError`), ``my.yaml: backbone: 'm:Net' reads the input's size ...`` (an :class:`OptionError`
    naming ``backbone``, which no option gave), ``my.yaml: backbone: neck 'fpn' reads C3, ..., but backbone 'Net'
    has no C3, ...`` (its outputs do not fit the neck). ``exc`` as it is for a backbone given otherwise (``--backbone``,
    :func:`~scalematch.presets.override`, a ``Preset`` changed in Python) or another error."""
    text = raw_text(exc)
    blamed = isinstance(exc, ModelError) or (isinstance(exc, OptionError) and text.startswith("backbone: "))
    # an imported backbone whose outputs are not the neck's inputs (config.attach: "neck 'fpn' reads C3, ...")
    blamed = blamed or (isinstance(exc, ConfigError) and text.startswith("neck '") and " but backbone '" in text)
    if not blamed or not preset.path:
        return exc
    try:
        named = read_preset(preset.path, "detector").backbone == preset.backbone
    except ScalematchError:  # the file changed or went away since: it names nothing now
        named = False
    if not named:
        return exc
    return ConfigError(f"{preset.path}: {'' if isinstance(exc, OptionError) else 'backbone: '}{text}")


_KIND_OF: dict[type, str] = {
    TorchvisionInput: "torchvision", LetterboxInput: "letterbox", MMDetInput: "mmdet",
    TorchvisionAnchors: "torchvision", SSDBoxes: "ssd", YoloAnchors: "yolov5", Points: "points", MMDetAnchors: "mmdet",
    MaxIoU: "max-iou", SSDMatch: "ssd", FCOSAssign: "fcos", YOLOv5Assign: "yolov5", TALAssign: "tal",
    ATSSAssign: "atss",
}  # fmt: skip
"""The ``kind`` each section's dataclass is written as in a preset YAML."""


def kind_of(part: object) -> str:
    """The ``kind`` a preset section (input, anchors, assigner) is written as in a preset YAML."""
    return _KIND_OF.get(type(part), type(part).__name__)


def preset_data(preset: Preset) -> dict[str, Any]:
    """``preset`` as the mapping its YAML file holds (tuples as lists), which :func:`load_preset` reads back."""
    from dataclasses import fields

    def plain(value: object) -> object:
        return [plain(v) for v in value] if isinstance(value, tuple | list) else value

    def section(part: object) -> dict[str, object]:
        data: dict[str, object] = {"kind": _KIND_OF.get(type(part), repr(part))}
        if isinstance(part, MMDetInput):
            return {**data, "scale": [part.long, part.short], "size_divisor": part.size_divisor}
        for f in fields(part):  # type: ignore[arg-type]
            if not f.compare:  # a note on where the values came from, no key of the file
                continue
            value = getattr(part, f.name)
            if value is not None:
                data[f.name] = plain(value)
        return data

    data: dict[str, Any] = {
        key: plain(getattr(preset, key)) for key in KEYS if key not in ("input", "anchors", "assigner")
    }
    data.update(input=section(preset.input), anchors=section(preset.anchors), assigner=section(preset.assigner))
    return data


_ANCHORS_FOR: dict[str, tuple[type, ...]] = {
    "torchvision": (MaxIoU, SSDMatch, FCOSAssign, ATSSAssign), "ssd": (MaxIoU, SSDMatch), "yolov5": (YOLOv5Assign,),
    "points": (TALAssign,), "mmdet": (ATSSAssign,),
}  # fmt: skip
"""The assigners each anchor kind works with (the pairs the simulation implements)."""


def yolo_train_size(spec: LetterboxInput, anchors: Generator) -> int:
    """The size a YOLO toolkit trains at when asked for ``spec.size``: the grid size gs = max(32, largest stride),
    the size rounded up to a multiple of gs and at least 2 gs (yolov5 train.py: check_img_size(imgsz, gs,
    floor=gs * 2)) or gs (ultralytics' trainer: check_imgsz(imgsz, stride=gs, floor=gs))."""
    strides = anchors.strides if isinstance(anchors, YoloAnchors | Points | MMDetAnchors) else (32,)
    gs = max(32, *strides)
    return max(-(-spec.size // gs) * gs, gs * (2 if spec.style == "yolov5" else 1))


def letterbox_expected(spec: LetterboxInput, anchors: Generator) -> str:
    """What a YOLO preset's letterbox size must be, with the size the toolkit would train at instead."""
    strides = anchors.strides if isinstance(anchors, YoloAnchors | Points | MMDetAnchors) else (32,)
    gs = max(32, *strides)
    check = "yolov5's check_img_size" if spec.style == "yolov5" else "ultralytics' check_imgsz"
    floor = 2 * gs if spec.style == "yolov5" else gs
    return f"a multiple of {gs}, at least {floor} ({check} would train at {yolo_train_size(spec, anchors)} instead)"


def checked(preset: Preset, where: str) -> Preset:
    """``preset`` read back through the checks of a preset YAML (one code path for files and
    :func:`~scalematch.presets.override`); errors name ``where`` and the key."""
    from dataclasses import replace

    out = replace(_Reader(where, preset_data(preset)).preset(), path=preset.path)
    gen, was = out.anchors, preset.anchors
    if isinstance(gen, YoloAnchors) and isinstance(was, YoloAnchors) and was.reversed and gen.shapes == was.shapes:
        out = replace(out, anchors=replace(gen, reversed=True))  # flipped when the preset was read: still say so
    return out


def _several_anchors(gen: Generator) -> tuple[str, object]:
    """The key of ``gen`` that gives a location more than one anchor, and its value as the YAML file gives it."""
    if isinstance(gen, MMDetAnchors):
        if len(gen.ratios) > 1:
            return "anchors.ratios", list(gen.ratios)
        return "anchors.scales_per_octave", gen.scales_per_octave
    if isinstance(gen, TorchvisionAnchors) and len(gen.aspect_ratios) > 1:
        return "anchors.aspect_ratios", list(gen.aspect_ratios)
    if isinstance(gen, TorchvisionAnchors):
        return "anchors.sizes", [list(level) for level in gen.sizes]
    return "anchors", gen.per_level()


def _shown(value: object) -> str:
    """``repr(value)``, an integer of more than 40 characters (hundreds of digits) cut to its first 37 and ``...``,
    in a list too: the error line shows where the number starts, not the end that a cut of the whole line would."""
    from scalematch._text import described

    if type(value) is int:
        return described(value, 40)
    if type(value) is list:
        return f"[{', '.join(map(_shown, value))}]"
    return described(value, 1 << 20)  # (never raising, as repr() would for an integer of more digits than Python shows)


class _Reader:
    """Typed access to a preset mapping; every error names the file and the key."""

    def __init__(self, where: str, data: dict[str, Any]) -> None:
        self.where = where
        self.data = data

    def fail(self, key: str, expected: str, got: object, integer: bool = False) -> ConfigError:
        """The error for key ``key``; ``integer``: the key takes integers (what the note on a number read as text
        tells to write)."""
        from scalematch._yaml import text_number_note

        note = text_number_note(got, integer)
        return ConfigError(f"{self.where}: key '{key}': expected {expected}, got {_shown(got)}{note}")

    def get(self, key: str, default: object = ...) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is ...:
                    raise ConfigError(f"{self.where}: missing key '{key}'")
                return default
            node = node[part]
        return node

    def text(self, key: str, default: object = ...) -> str:
        v = self.get(key, default)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(key, "a non-empty string", v)
        return v.strip()

    def number(self, key: str, default: object = ..., integer: bool = False, hi: float = MAX_PIXELS) -> float:
        v = self.get(key, default)
        ok = type(v) is int or (type(v) is float and not integer)
        if not ok or not 0 < v <= hi:  # (hi is finite: NaN and inf fail; an int of 400 digits, which isfinite
            # cannot take (OverflowError), is compared exactly)
            kind = "an integer" if integer else "a number"
            raise self.fail(key, f"{kind} in (0, {hi:g}]", v, integer)
        return float(v)

    def numbers(
        self,
        key: str,
        value: object = ...,
        depth: int = 1,
        length: int | None = None,
        lo: float = 0.0,
        hi: float = MAX_PIXELS,
        integer: bool = False,
    ) -> tuple[Any, ...]:
        """A (nested) list of numbers in (lo, hi]; ``length`` fixes the length of the innermost lists."""
        v = self.get(key) if value is ... else value
        if not isinstance(v, list) or not v:
            raise self.fail(key, f"a non-empty list{' of lists' * (depth - 1)}", v, integer)
        if len(v) > MAX_LIST:
            raise ConfigError(f"{self.where}: key '{key}': expected a list of at most {MAX_LIST} entries, got {len(v)}")
        if depth > 1:
            return tuple(self.numbers(key, item, depth - 1, length, lo, hi, integer) for item in v)
        if length is not None and len(v) != length:
            raise self.fail(key, f"lists of {length} numbers", v, integer)
        allowed = (int,) if integer else (int, float)
        if not all(type(x) in allowed and lo < x <= hi for x in v):  # (as in number: no isfinite)
            kind = "integers" if integer else "numbers"
            raise self.fail(key, f"a list of {kind} in ({lo:g}, {hi:g}]", v, integer)
        return tuple(float(x) for x in v)

    def flag(self, key: str, default: bool) -> bool:
        v = self.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(key, "true or false (a YAML boolean)", v)
        return v

    def kind(self, key: str, choices: tuple[str, ...]) -> str:
        v = self.get(key + ".kind")
        if v not in choices:
            raise self.fail(key + ".kind", "one of " + ", ".join(choices), v)
        return str(v)

    def check_keys(self) -> None:
        """Unknown keys are typos that would silently keep a default: refuse them."""
        from scalematch._yaml import ultralytics_model

        other = ultralytics_model(self.data, self.where)
        if other is not None:
            raise ConfigError(other)
        unknown = sorted(set(self.data) - set(KEYS), key=str)  # (a null or a number is a key too)
        if {"nodes", "layers"} & set(unknown) and not {"anchors", "assigner"} & set(self.data):
            raise ConfigError(
                f"{self.where}: a backbone or neck config (nodes or layers), not a detector preset (levels, input, "
                "anchors, assigner); give it as --backbone or --neck, or name it in a preset's backbone: or neck:"
            )
        if unknown:
            raise ConfigError(f"{self.where}: key {_key(unknown[0])}: not a preset key; expected {', '.join(KEYS)}")
        for section in ("input", "anchors", "assigner"):
            part = self.data.get(section)
            if not isinstance(part, dict):
                continue
            kind = part.get("kind")  # (a list or a mapping is no kind: its own check names it)
            allowed = SECTION_KEYS.get((section, kind)) if isinstance(kind, str) else None
            extra = sorted(set(part) - set(allowed or part), key=str)
            if extra:
                raise self.fail(
                    f"{section}.{extra[0]}",
                    f"no such key for kind {part.get('kind')!r}; expected {', '.join(allowed or ())}",
                    part[extra[0]],
                )

    def preset(self) -> Preset:
        self.check_keys()
        levels = self.get("levels")
        if not isinstance(levels, list) or not levels or not all(isinstance(x, str) and x.strip() for x in levels):
            raise self.fail("levels", "a non-empty list of level names, none of them blank", levels)
        if len(levels) > MAX_LIST:
            raise ConfigError(
                f"{self.where}: key 'levels': expected a list of at most {MAX_LIST} entries, got {len(levels)}"
            )
        if len(set(levels)) != len(levels):
            raise self.fail("levels", "each level once", levels)
        # P<k> (or C<k>) is the level of stride 2^k: the numbers must count up by one (names of another form,
        # which say nothing of their stride, are taken in the order given)
        named = [m for m in (re.fullmatch(r"([A-Za-z]+)(\d{1,3})", name) for name in levels) if m]
        numbers = [int(m[2]) for m in named]
        if len(named) == len(levels) and len({m[1] for m in named}) > 1:
            raise self.fail(
                "levels", "levels of one kind: all from the neck (P3, P4, ...) or all from the backbone (C3, C4, ...)",
                levels,
            )  # fmt: skip
        if len(numbers) == len(levels) and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            raise self.fail(
                "levels", "levels in increasing stride order without a gap, as --levels takes them (e.g. [P3, P4, P5])",
                levels,
            )  # fmt: skip
        neck = self.get("neck", None)
        if neck == "none":  # as --neck none says it: the backbone's own maps
            neck = None
        head = self.get("head", "one-stage")
        if head not in ("one-stage", "two-stage"):
            raise self.fail("head", "one-stage or two-stage", head)
        preset = Preset(
            name=self.text("name"),
            title=self.text("title"),
            toolkit=self.text("toolkit"),
            source=self.text("source"),
            backbone=self.text("backbone"),
            neck=None if neck is None else self.text("neck"),
            levels=tuple(levels),
            input=self.input(),
            anchors=self.anchors(tuple(levels)),
            assigner=self.assigner(),
            head=head,
            path=self.where,
        )
        self.check_pairing(preset)
        self.check_network(preset.backbone, preset.neck, preset.levels)
        return preset

    def check_pairing(self, preset: Preset) -> None:
        """The assigner works with some anchor kinds only (and yolov5's with a letterbox input), and the YOLO
        toolkits train only at a letterbox size they accept: refuse the rest, naming the key that does not fit."""
        assigner = _KIND_OF[type(preset.assigner)]
        fits = [kind for kind, rules in _ANCHORS_FOR.items() if type(preset.assigner) in rules]
        anchors = _KIND_OF[type(preset.anchors)]
        if anchors not in fits:
            raise self.fail("anchors.kind", f"{' or '.join(fits)} for assigner {assigner}", anchors)
        if isinstance(preset.assigner, FCOSAssign) and preset.anchors.per_level() != 1:
            # torchvision's FCOS: anchor_generator.num_anchors_per_location()[0] should be 1
            raise self.fail(
                "anchors", "one anchor per location for assigner fcos (one size and ratio per level)",
                preset.anchors.per_level(),
            )  # fmt: skip
        if isinstance(preset.assigner, ATSSAssign) and preset.anchors.per_level() != 1:
            # mmdetection's ATSSAssigner ranks every anchor of a location; the simulation takes one per location
            key, value = _several_anchors(preset.anchors)
            raise self.fail(key, "one anchor per location for assigner atss (one ratio and one scale per level)", value)
        spec = preset.input
        if isinstance(preset.anchors, SSDBoxes) and not (isinstance(spec, TorchvisionInput) and spec.fixed_size):
            # torchvision's SSD resizes every image to transform.fixed_size: its boxes are shares of that size
            wanted = "a [width, height] for anchors.kind ssd (torchvision's SSD input)"
            raise self.fail("input.fixed_size", wanted, None)
        if isinstance(preset.assigner, YOLOv5Assign) and not isinstance(spec, LetterboxInput):
            raise self.fail(
                "input.kind", "letterbox for assigner yolov5 (build_targets reads the letterboxed label)",
                _KIND_OF[type(spec)],
            )  # fmt: skip
        if isinstance(preset.assigner, YOLOv5Assign) and isinstance(spec, LetterboxInput) and spec.style != "yolov5":
            # build_targets reads yolov5's normalised labels; ultralytics' letterbox feeds TAL, not this assigner
            wanted = "yolov5 for assigner yolov5 (its build_targets reads yolov5's normalised labels)"
            raise self.fail("input.style", wanted, spec.style)
        if isinstance(spec, LetterboxInput) and isinstance(preset.assigner, YOLOv5Assign | TALAssign):
            rounded = yolo_train_size(spec, preset.anchors)
            if rounded != spec.size:
                raise self.fail("input.size", letterbox_expected(spec, preset.anchors), spec.size)

    def check_network(self, backbone: str, neck: str | None, levels: tuple[str, ...]) -> None:
        """The backbone and neck are read now (built-in names and YAML files; imported models, ONNX and torch,
        are read when they are used), so that their errors, and a level that is none of their outputs, name this
        preset and the key as well as the file."""
        from scalematch.profile.api import is_imported
        from scalematch.profile.importers.config import attach, load

        if is_imported(backbone):
            return
        key = "backbone"
        try:
            config = load(backbone, "backbones")
            graph = config.graph
            if neck is not None:
                key = "neck"
                graph = attach(config, load(neck, "necks"))
                graph.ordered()
        except ScalematchError as exc:
            raise ConfigError(f"{self.where}: {key}: {exc}") from None
        outputs = [name for name, _ in graph.taps]
        missing = [name for name in levels if name not in outputs]
        if missing:
            network = f"{backbone} + {neck}" if neck is not None else f"{backbone} (no neck)"
            raise self.fail("levels", f"outputs of {network}: {', '.join(outputs)}", list(levels))

    def input(self) -> InputSpec:
        kind = self.kind("input", ("torchvision", "letterbox", "mmdet"))
        if kind == "mmdet":
            long, short = (int(v) for v in self.numbers("input.scale", length=2, integer=True))
            return MMDetInput(
                max(long, short), min(long, short), int(self.number("input.size_divisor", 32, integer=True))
            )
        if kind == "letterbox":
            style = self.get("input.style", "yolov5")
            if style not in ("yolov5", "ultralytics"):
                raise self.fail("input.style", "yolov5 or ultralytics", style)
            return LetterboxInput(int(self.number("input.size", integer=True)), style)
        fixed = self.get("input.fixed_size", None)
        if fixed is not None:
            fw, fh = self.numbers("input.fixed_size", length=2, integer=True)
            fixed = (int(fw), int(fh))
        min_size = int(self.number("input.min_size", integer=True))
        max_size = int(self.number("input.max_size", integer=True))
        if min_size > max_size:
            raise self.fail("input.min_size", f"at most input.max_size ({max_size})", min_size)
        return TorchvisionInput(
            min_size,
            max_size,
            int(self.number("input.size_divisible", 32, integer=True)),
            fixed,
        )

    def anchors(self, levels: tuple[str, ...]) -> Generator:
        n_levels = len(levels)
        kind = self.kind("anchors", ("torchvision", "ssd", "yolov5", "points", "mmdet"))
        gen: Generator
        sizes: tuple[Any, ...]
        if kind == "mmdet":
            strides = tuple(int(s) for s in self.numbers("anchors.strides", integer=True, hi=4096))
            gen = MMDetAnchors(
                strides,
                self.numbers("anchors.ratios", lo=1e-3, hi=1e3),
                self.number("anchors.octave_base_scale", 8.0, hi=1000),
                int(self.number("anchors.scales_per_octave", 1, integer=True, hi=MAX_ANCHORS)),
            )
            sizes = strides
            per = {1}
        elif kind == "torchvision":
            sizes = self.numbers("anchors.sizes", depth=2, lo=0.5)
            gen = TorchvisionAnchors(sizes, self.numbers("anchors.aspect_ratios", lo=1e-3, hi=1e3))
            per = {len(s) for s in sizes}
        elif kind == "ssd":
            ratios = self.numbers("anchors.aspect_ratios", depth=2, lo=1e-3, hi=1e3)
            steps = tuple(int(s) for s in self.numbers("anchors.steps", integer=True, hi=4096))
            scales = self.numbers("anchors.scales", hi=10)
            if len(scales) != n_levels + 1 or len(steps) != n_levels:
                raise self.fail("anchors.scales", f"{n_levels + 1} scales and {n_levels} steps", scales)
            gen = SSDBoxes(ratios, scales, steps, self.flag("anchors.clip", True))
            sizes = ratios
            per = {1}
        elif kind == "yolov5":
            shapes = self.numbers("anchors.shapes", depth=3, length=2, lo=0.5)
            strides = tuple(int(s) for s in self.numbers("anchors.strides", integer=True, hi=4096))
            sizes = shapes
            per = {len(s) for s in shapes}
            flip = len(per) == 1 and len(strides) == len(shapes) and yolov5_reverses(shapes, strides)
            gen = YoloAnchors(shapes[::-1] if flip else shapes, strides, reversed=flip)
        else:
            strides = tuple(int(s) for s in self.numbers("anchors.strides", integer=True, hi=4096))
            offset = self.get("anchors.offset", 0.5)
            if type(offset) not in (int, float) or not 0 <= offset < 1:
                raise self.fail("anchors.offset", "a number in [0, 1)", offset)
            gen = Points(strides, float(offset))
            sizes = strides
            per = {1}
        if len(sizes) != n_levels:
            raise self.fail("anchors", f"one entry per level ({n_levels})", len(sizes))
        if len(per) != 1:
            raise self.fail("anchors", "the same number of anchors on every level (one head serves all)", sizes)
        if gen.per_level() > MAX_ANCHORS:
            raise self.fail("anchors", f"at most {MAX_ANCHORS} anchors per location", gen.per_level())
        if isinstance(gen, YoloAnchors | Points | MMDetAnchors) and len(gen.strides) != n_levels:
            raise self.fail("anchors.strides", f"one stride per level ({n_levels})", gen.strides)
        if isinstance(gen, TorchvisionAnchors):
            self.check_cell_anchors(gen, levels)
        return gen

    def check_cell_anchors(self, gen: TorchvisionAnchors, levels: tuple[str, ...]) -> None:
        """Refuse a size and aspect ratio whose base anchor torchvision's AnchorGenerator rounds to a box of zero
        width or height: its IoU with every object is 0, and where no anchor of an image overlaps an object,
        torchvision's Matcher (low-quality matches) hands every anchor of the image to the object it overlaps
        most, the image's first object for those overlapping none, which is no design to simulate."""
        from scalematch.presets.preset import cell_anchors

        for k, sizes in enumerate(gen.sizes):
            x1, x2, y1, y2 = cell_anchors(sizes, gen.aspect_ratios)
            flat = [a for a in range(len(x1)) if x2[a] <= x1[a] or y2[a] <= y1[a]]
            if not flat:
                continue
            a = flat[0]
            size, ratio = sizes[a % len(sizes)], gen.aspect_ratios[a // len(sizes)]
            side, lo, hi = ("width", x1[a], x2[a]) if x2[a] <= x1[a] else ("height", y1[a], y2[a])
            x1, x2, y1, y2 = cell_anchors((size,), (1.0,))
            key = "anchors.aspect_ratios" if x2[0] > x1[0] and y2[0] > y1[0] else "anchors.sizes"
            extent = size / math.sqrt(ratio) if side == "width" else size * math.sqrt(ratio)
            raise ConfigError(
                f"{self.where}: key '{key}': size {size:g} at aspect ratio {ratio:g} (level {levels[k]}) is an "
                f"anchor of zero {side} in torchvision: its AnchorGenerator rounds the corners -+{extent / 2:.3g} "
                f"to {lo + 0.0:g} and {hi:g}, a box with IoU 0 with every object; expected sizes and aspect ratios "
                f"whose anchors are over 1 px wide and high"
            )

    def assigner(self) -> Assigner:
        kind = self.kind("assigner", ("max-iou", "ssd", "fcos", "yolov5", "tal", "atss"))
        if kind == "atss":
            return ATSSAssign(int(self.number("assigner.topk", 9, integer=True, hi=1000)))
        if kind == "max-iou":
            high, low = self.number("assigner.high", hi=1), self.number("assigner.low", hi=1)
            if not low <= high <= 1:
                raise self.fail("assigner.low", f"low <= high <= 1 (high is {high})", low)
            return MaxIoU(high, low, self.flag("assigner.low_quality", True))
        if kind == "ssd":
            return SSDMatch(self.number("assigner.threshold", 0.5, hi=1))
        if kind == "fcos":
            return FCOSAssign(self.number("assigner.center_sampling_radius", 1.5, hi=100))
        if kind == "yolov5":
            anchor_t = self.number("assigner.anchor_t", 4.0, hi=1000)
            if anchor_t <= 1:
                raise self.fail("assigner.anchor_t", "a ratio above 1 (no anchor matches otherwise)", anchor_t)
            return YOLOv5Assign(anchor_t)
        return TALAssign(
            int(self.number("assigner.topk", 10, integer=True, hi=1000)), self.number("assigner.min_side", 16)
        )
