"""An image's width and height from its file header, as ultralytics' ``exif_size`` and OpenCV's decoding give them
(EXIF orientations 5-8 swap them), without decoding its pixels: the YOLO reader's image sizes, and those of a VOC
file without ``<size>``, which mmdetection takes from the image."""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from scalematch.dataset.table import image_side

T = TypeVar("T")


def header_size(image: Path | None) -> tuple[float, float, str]:
    """(width, height, why not) from the image header with the EXIF orientation applied: NaN and NaN with why
    there is no size (no image; a file that cannot be read, such as ``Permission denied``; an empty file; a header
    Pillow cannot read or a size outside [1, 2**24]), or the size and ''."""
    w, h, why, _ = checked_size(image, None)
    return w, h, why


def checked_size(
    image: Path | None, inspect: Callable[[Any, BinaryIO, Path], T] | None
) -> tuple[float, float, str, T | None]:
    """:func:`header_size`, and what ``inspect(im, file, image)`` says of the opened image (None when it is not
    called: no inspection, or no size read), called once the header is read, with the file still open."""
    nan = math.nan
    if image is None:
        return nan, nan, "no image found to read the size from", None
    from PIL import Image

    header = f"the image {image.name} gives no size (its header is not one Pillow reads, or the size is outside "
    header += "[1, 2**24])"
    seen: T | None = None
    try:
        with open(image, "rb") as file:  # opened here: an error of the file's own is not one of its header
            if os.fstat(file.fileno()).st_size == 0:
                return nan, nan, f"the image {image.name} is empty (0 bytes), so it gives no size", None
            with Image.open(file) as im:
                w, h = _stored_size(im)
                if _orientation(im) in (5, 6, 7, 8):  # transposed or rotated by 90 degrees: ultralytics' exif_size
                    w, h = h, w
                if inspect is not None:
                    try:
                        seen = inspect(im, file, image)
                    except OSError:  # the file's own error, as a header's
                        raise
                    except Exception as exc:  # not the header's: an error of the inspection itself
                        raise _Raised(exc) from exc
    except _Raised as raised:  # raised as it came, not taken for a header Pillow cannot read
        raise raised.error from None
    except OSError as exc:  # Pillow's own (UnidentifiedImageError, 'truncated') carry no errno; the system's do
        if exc.errno is None:
            return nan, nan, header, None
        return nan, nan, f"the image {image.name} cannot be read ({exc.strerror or exc}), so it gives no size", None
    except Exception:  # any other header Pillow cannot read means: no size from this image
        return nan, nan, header, None
    width, height = image_side(w), image_side(h)
    if not (math.isfinite(width) and math.isfinite(height)):
        return width, height, header, None
    return width, height, "", seen


class _Raised(Exception):
    """An error of :func:`checked_size`'s ``inspect``, carried past the handler of unreadable headers."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _stored_size(im: Any) -> tuple[int, int]:
    """(width, height) as the file stores the pixels, before any orientation. Pillow 13 reports a TIFF's size with
    its EXIF orientation already applied (older versions report the stored size), so a TIFF's is taken from its
    ImageWidth and ImageLength tags (256, 257)."""
    w, h = im.size
    if im.format == "TIFF":
        tw, th = im.tag_v2.get(256), im.tag_v2.get(257)
        if type(tw) is int and type(th) is int:
            return tw, th
    return w, h


def _orientation(im: Any) -> object:
    """The EXIF orientation tag from the header. A PNG's eXIf chunk is read only when it comes before the pixel
    data: Pillow would decode the whole image to look for one after it (ultralytics does; a header claiming
    200000 x 100000 pixels would then take 20 GB)."""
    if im.format == "PNG" and "exif" not in im.info:
        return None
    try:
        exif = im.tag_v2 if im.format == "TIFF" else im.getexif()
        return exif.get(274)
    except Exception:  # a malformed EXIF block is no orientation, as in ultralytics
        return None


@contextlib.contextmanager
def no_bomb_check() -> Iterator[None]:
    """Pillow's decompression-bomb check (a warning, or an error for huge sizes) is for decoding pixels; only
    headers are read here, so it is off while reading, and so are Pillow's warnings about odd headers."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"PIL\.")  # odd headers or EXIF: the size is all we read
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = limit
