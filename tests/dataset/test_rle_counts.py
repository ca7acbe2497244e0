"""COCO's compressed RLE strings, decoded by the reader's own check, against masks encoded by pycocotools."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scalematch.dataset.formats.coco import _compressed_counts


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), fill=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_runs_rebuild_the_mask_pycocotools_encoded(h: int, w: int, fill: float, seed: int) -> None:
    from pycocotools import mask as mask_utils

    mask = (np.random.default_rng(seed).random((h, w)) < fill).astype(np.uint8)
    counts = mask_utils.encode(np.asfortranarray(mask))["counts"].decode()
    runs = _compressed_counts(counts)
    assert runs is not None and sum(runs) == h * w
    flat = np.zeros(h * w, np.uint8)
    start, value = 0, 0
    for n in runs:  # runs alternate 0 and 1, column by column (Fortran order)
        flat[start : start + n] = value
        start, value = start + n, 1 - value
    assert (mask == flat.reshape(w, h).T).all()


def test_strings_that_are_no_encoding() -> None:
    assert _compressed_counts("zz") is None  # 'z' is beyond the 64 symbols
    assert _compressed_counts("P0") == [0] and _compressed_counts("0P") is None  # "P" continues a number


def test_a_number_beyond_any_image_is_no_encoding() -> None:
    """A run of continuation characters grew one number without end, in time quadratic in its length (1.6 M
    characters: 36 s, review round 42 A-F11): a number of more than 60 bits (a run beyond any image's 2^48 pixels,
    past pycocotools' 64-bit reading) is no encoding; a run of 54 bits still decodes."""
    assert _compressed_counts("o" * 12 + "0") is None and _compressed_counts("o" * 400_000 + "0") is None
    run = 2**54 - 1  # eleven characters of five bits, the last one's sign bit clear
    text = "".join(chr(48 + ((run >> (5 * k)) & 0x1F) + (0x20 if k < 10 else 0)) for k in range(11))
    assert _compressed_counts(text) == [run]
