"""Resize policies: how a detector maps an image's original pixels to its input pixels.

Written as CLI strings and parsed once, at the boundary, by :func:`parse_policy`:

- ``none``: input = original pixels.
- ``shortest-edge:S,L``: keep the aspect ratio; scale the short side to S unless the long side would exceed L
  (mmdetection's and detectron2's default ``800,1333``; scale = min(S / short, L / long)). The default here.
- ``longest-edge:L``: keep the aspect ratio; scale the long side to L (YOLO letterbox; the padding adds no
  pixels to objects).
- ``fixed:WxH``: stretch to width W and height H (SSD ``300x300``); x and y scale differ.
- ``multi-scale:S1-S2,L``: shortest edge drawn from S1..S2 with long side <= L; both ends are reported.

Scales are exact floats (no rounding of the resized image to whole pixels).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalematch.errors import OptionError

if TYPE_CHECKING:
    import numpy as np

VALID_FORMS = "none, shortest-edge:S,L, longest-edge:L, fixed:WxH, multi-scale:S1-S2,L (e.g. shortest-edge:800,1333)"


@dataclass(frozen=True)
class NoResize:
    def __str__(self) -> str:
        return "none"


@dataclass(frozen=True)
class ShortestEdge:
    short: int
    max_long: int

    def __str__(self) -> str:
        return f"shortest-edge:{self.short},{self.max_long}"


@dataclass(frozen=True)
class LongestEdge:
    long: int

    def __str__(self) -> str:
        return f"longest-edge:{self.long}"


@dataclass(frozen=True)
class Fixed:
    width: int
    height: int

    def __str__(self) -> str:
        return f"fixed:{self.width}x{self.height}"


@dataclass(frozen=True)
class MultiScale:
    short_min: int
    short_max: int
    max_long: int

    def __str__(self) -> str:
        return f"multi-scale:{self.short_min}-{self.short_max},{self.max_long}"


ResizePolicy = NoResize | ShortestEdge | LongestEdge | Fixed | MultiScale
DEFAULT_POLICY = "shortest-edge:800,1333"
OWN_SCALES = "the table's own scales"
"""How results name the resize of a box table given back with its own scales (``scale_x``, ``scale_y``) and no
policy (:func:`scalematch.dataset.loader.from_frame` without ``resize``); their ``resize`` is None."""
MAX_SIZE = 16384  # the largest size a policy may name (pixels), as --input-size

_FORMS: tuple[tuple[re.Pattern[str], type], ...] = (
    (re.compile(r"none"), NoResize),
    (re.compile(r"shortest-edge:([0-9]+),([0-9]+)"), ShortestEdge),
    (re.compile(r"longest-edge:([0-9]+)"), LongestEdge),
    (re.compile(r"fixed:([0-9]+)x([0-9]+)"), Fixed),
    (re.compile(r"multi-scale:([0-9]+)-([0-9]+),([0-9]+)"), MultiScale),
)


def parse_policy(text: str | ResizePolicy, option: str = "resize") -> ResizePolicy:
    """Parse a policy string; raise :class:`OptionError` naming ``option`` and the valid forms."""
    if not isinstance(text, str):
        if isinstance(text, NoResize | ShortestEdge | LongestEdge | Fixed | MultiScale):
            return text
        from scalematch._args import shown as described

        raise OptionError(f"{option}: expected a policy such as 'shortest-edge:800,1333' (text), got {described(text)}")
    spec = text.strip().lower()
    for pattern, cls in _FORMS:
        m = pattern.fullmatch(spec)
        if m is None:
            continue
        if any(len(g) > 6 for g in m.groups()):
            break
        numbers = [int(g) for g in m.groups()]
        if any(not 0 < n <= MAX_SIZE for n in numbers):
            break
        if cls is MultiScale and numbers[0] > numbers[1]:
            break
        if cls in (ShortestEdge, MultiScale) and numbers[-2] > numbers[-1]:
            raise OptionError(
                f"{option}: {text!r}: the short side ({numbers[-2]}) exceeds the long side's limit ({numbers[-1]}), "
                "so the short-side target can never be reached; give S <= L (e.g. shortest-edge:800,1333)"
            )
        policy: ResizePolicy = cls(*numbers)
        return policy
    shown = text if len(text) <= 80 else text[:77] + "..."
    raise OptionError(f"{option}: expected one of {VALID_FORMS} with positive integers up to {MAX_SIZE}, got {shown!r}")


def policy_text(resize: str | None) -> str:
    """A result's ``resize`` as a name: the policy (``shortest-edge:800,1333``), or :data:`OWN_SCALES` for None (the
    ``at`` of ``<Design resnet50 at ...>``, a table's cell)."""
    return OWN_SCALES if resize is None else resize


def resize_words(resize: str | None) -> str:
    """A result's ``resize`` in a list of facts: ``resize`` and the policy (``resize shortest-edge:800,1333``), or
    :data:`OWN_SCALES` for None."""
    return OWN_SCALES if resize is None else f"resize {resize}"


def needs_image_size(policy: ResizePolicy) -> bool:
    return not isinstance(policy, NoResize)


def scales(
    policy: ResizePolicy, image_w: np.ndarray, image_h: np.ndarray, high: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (scale_x, scale_y) for images of the given original sizes (arrays of equal length).

    ``high`` selects the largest input size of a multi-scale policy (otherwise the smallest).
    """
    import numpy as np

    if isinstance(policy, NoResize):
        one = np.ones(len(image_w))
        return one, one
    short = np.minimum(image_w, image_h)
    long = np.maximum(image_w, image_h)
    if isinstance(policy, ShortestEdge | MultiScale):
        target = policy.short if isinstance(policy, ShortestEdge) else (policy.short_max if high else policy.short_min)
        s = np.minimum(target / short, policy.max_long / long)
        return s, s
    if isinstance(policy, LongestEdge):
        s = policy.long / long
        return s, s
    return policy.width / image_w, policy.height / image_h


def apply(table: pd.DataFrame, policy: ResizePolicy) -> pd.DataFrame:
    """Add the input-pixel columns (see :mod:`scalematch.dataset.table`) to a copy of ``table``."""
    import pandas as pd

    columns = input_columns(
        policy, table["image_w"].to_numpy(), table["image_h"].to_numpy(), table["w"].to_numpy(), table["h"].to_numpy()
    )
    # One new frame of the table's columns (shared until written, as pandas' copy-on-write keeps them) and the new
    # arrays, which nothing else holds: setting them one by one would copy each (~0.1 s on train2017). A policy
    # with one scale for both axes gives the same array twice: the frame gets its own for each column.
    if columns["scale_x"] is columns["scale_y"]:
        columns["scale_y"] = columns["scale_y"].copy()
    given = {name: columns.pop(name) if name in columns else table[name] for name in table.columns}
    out: pd.DataFrame = pd.DataFrame(given | columns, index=table.index, copy=False)  # a given column keeps its place
    out.attrs = dict(table.attrs)
    return out


def input_columns(
    policy: ResizePolicy,
    image_w: np.ndarray,
    image_h: np.ndarray,
    w: np.ndarray,
    h: np.ndarray,
    names: Collection[str] | None = None,
    image: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The input-pixel columns of boxes ``w`` x ``h`` on images ``image_w`` x ``image_h`` (original pixels),
    in table order; only ``names`` when given. With ``image`` (per box, an index into ``image_w`` and
    ``image_h``), the sizes are per image and the scales are computed once per image. A box with a side of 0, a
    negative or a NaN one (the records of repeated annotation ids that the box table leaves out, see
    :attr:`scalematch.dataset.loader.LoadResult.repeats`) gets NaN or infinite columns, without numpy's warnings."""
    import numpy as np

    out: dict[str, np.ndarray] = {}
    ends = (False, True) if isinstance(policy, MultiScale) else (False,)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for high in ends:
            sx, sy = scales(policy, image_w, image_h, high)
            if image is not None:
                sx, sy = (sx[image], sy[image]) if sx is not sy else (sx[image],) * 2
            w_in = w * sx
            h_in = h * sy
            suffix = "_hi" if high else ""
            if not high:
                out["scale_x"] = sx
                out["scale_y"] = sy
            if names is None or "scale" + suffix in names:
                out["scale" + suffix] = np.sqrt(sx * sy)
            out["w_in" + suffix] = w_in
            out["h_in" + suffix] = h_in
            if names is None or "size_in" + suffix in names:
                out["size_in" + suffix] = np.sqrt(w_in * h_in)
            if names is None or "max_side_in" + suffix in names:
                out["max_side_in" + suffix] = np.maximum(w_in, h_in)
        if names is None or "aspect" in names:
            out["aspect"] = w / h
    return out if names is None else {k: v for k, v in out.items() if k in names}


if TYPE_CHECKING:
    import pandas as pd
