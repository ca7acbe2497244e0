"""YOLO labels as the COCO converters write them: each number as ``'%g'`` formats it (six significant digits,
rounded from the exact binary value, halves to even), which the YOLO dataloaders read back. ultralytics'
``convert_coco`` (and JSON2YOLO, the yolov5 users' converter) write ``("%g " * n) % row``, so the label a YOLO toolkit
trains on is the float32 of that text, not of the number the converter computed: ``0.03828125`` is written
``0.0382812``, which moves a box edge off an anchor centre it sat on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_DIGITS = 6
_EXACT_POWERS = 22  # 10**k is a float64 exactly for |k| <= 22


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
