"""YOLO labels as the converters write them, and which label files the YOLO toolkits refuse.

The COCO converters write each number as ``'%g'`` formats it (six significant digits, rounded from the exact binary
value, halves to even), which the YOLO dataloaders read back: ultralytics' ``convert_coco`` (and JSON2YOLO, the
yolov5 users' converter) write ``("%g " * n) % row``, so the label a YOLO toolkit trains on is the float32 of that
text, not of the number the converter computed: ``0.03828125`` is written ``0.0382812``, which moves a box edge off
an anchor centre it sat on. The VOC converters (``data/VOC.yaml`` of both) write ``str(value)``, the number itself.

``verify_image_label`` refuses a whole label file as corrupt when one of its labels is out of bounds: ultralytics
when a value is above 1.01 or below -0.01 (its 1 % tolerance, compared in float32), yolov5 when one is above 1 or
below 0. :func:`refusals` gives, per label, which of them refuse its file (:data:`ULTRALYTICS`, :data:`YOLOV5`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_DIGITS = 6
_EXACT_POWERS = 22  # 10**k is a float64 exactly for |k| <= 22
ULTRALYTICS = 1
"""The bit of :func:`refusals` (and of the box table's ``label_refused``) for ultralytics' ``verify_image_label``."""
YOLOV5 = 2
"""The bit for yolov5's ``verify_image_label``."""
BOTH = ULTRALYTICS | YOLOV5
TOLERANCE = 0.01  # ultralytics' verify_image_label: coordinates may leave [0, 1] by 1 %

if TYPE_CHECKING:
    F32 = npt.NDArray[np.float32]
    Label = tuple[F32, F32, F32, F32]


def toolkit_bit(style: str) -> int:
    """The bit of the toolkit whose pipeline a letterbox style (``ultralytics`` or ``yolov5``) follows."""
    return ULTRALYTICS if style == "ultralytics" else YOLOV5


def converted(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], w: npt.NDArray[np.float64], h: npt.NDArray[np.float64],
    image_w: npt.NDArray[np.float64], image_h: npt.NDArray[np.float64], text: bool,
) -> Label:  # fmt: skip
    """The labels (centre x, centre y, w, h normalised, float32) a converter writes for boxes ``x y w h`` (top-left
    corner and size, original pixels, as the converter takes them) of images ``image_w`` x ``image_h``: the centre
    and size over the image's size in float64; with ``text``, as ``'%g'`` writes them (the COCO converters)."""
    import numpy as np

    label = ((x + w / 2) / image_w, (y + h / 2) / image_h, w / image_w, h / image_h)
    if text:
        label = tuple(as_written(v) for v in label)  # type: ignore[assignment]
    cx, cy, bw, bh = (v.astype(np.float32) for v in label)
    return cx, cy, bw, bh


def refusals(label: Label) -> npt.NDArray[np.int8]:
    """Per label, the toolkits whose ``verify_image_label`` refuses its file (bits :data:`ULTRALYTICS`,
    :data:`YOLOV5`; 0: both read it). A NaN (a COCO ``bbox`` holding ``null``) is refused by both."""
    import numpy as np

    f32 = np.float32
    out = np.zeros(len(label[0]), dtype=np.int8)
    for k, v in enumerate(label):
        out |= np.where((v > f32(1 + TOLERANCE)) | (v < f32(-TOLERANCE)), ULTRALYTICS, 0).astype(np.int8)
        if k >= 2:  # ultralytics lets a value below 0 by its tolerance pass only when no width or height is
            out |= np.where(v < f32(0), ULTRALYTICS, 0).astype(np.int8)
        out |= np.where((v > f32(1)) | (v < f32(0)), YOLOV5, 0).astype(np.int8)
        out |= np.where(np.isnan(v), BOTH, 0).astype(np.int8)  # no comparison holds: both asserts fail
    return out


def as_written(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each value as ``float('%g' % value)``: the value of its six significant digits, correctly rounded to float64.

    Vectorised: the digits are ``rint(|v| * 10**k)``, exact unless ``|v| * 10**k`` (rounded once) lies within 1e-6
    of a half, where the rounding could go either way (a tie, or a product rounded onto one side), or unless k is
    out of the exact powers of ten or the decimal exponent came out one off; those few values are formatted one by
    one. The value is then the digits divided (or multiplied) by an exact power of ten, one correctly rounded
    operation, as parsing the text gives. Zeros, infinities and NaN stay as they are."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    out: npt.NDArray[np.float64] = v.copy()
    at = np.flatnonzero(np.isfinite(v) & (v != 0))
    if not len(at):
        return out
    a = np.abs(v[at])
    with np.errstate(divide="ignore"):
        k = (_DIGITS - 1) - np.floor(np.log10(a)).astype(np.int64)
    usable = np.abs(k) <= _EXACT_POWERS
    k = np.where(usable, k, 0)
    power = 10.0 ** np.abs(k).astype(np.float64)
    up = k >= 0
    scaled = np.where(up, a * power, a / power)
    digits = np.rint(scaled)
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    bad = ~usable | near_half | (digits < 10 ** (_DIGITS - 1)) | (digits >= 10**_DIGITS)
    value = np.where(up, digits / power, digits * power)
    out[at] = np.copysign(value, v[at])
    for i in at[bad].tolist():
        out[i] = float(f"{float(v[i]):g}")  # (as '%g' % value)
    return out
