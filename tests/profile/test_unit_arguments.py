"""The arguments of ``Profile.input_box`` / ``Profile.unit_pixels`` / ``FeatureMap.input_box``, checked at the door.

A numpy integer index is taken as the ``int`` it stands for: with an ``np.int8`` the geometry used to be computed in
int8 arithmetic, which wraps silently (resnet18 C5 unit (3, 3) at 224x224 read rows 0..126 instead of 0..223), an
``np.uint8`` raised OverflowError and an ``np.int64`` gave numpy scalars back. Any other key or index is one
OptionError naming the argument (review round 25, F1 and F2).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalematch as sm
from scalematch.errors import OptionError
from scalematch.profile.engine import Profile

MODELS = (("resnet18", "224x224"), ("resnet18", None), ("mobilenet_v2", "320x256"), ("vgg16-ssd", "300x300"))
DTYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.uint64)


@cache
def _profile(name: str, size: str | None) -> Profile:
    profile: Profile = sm.profile_model(name, input_size=size)
    return profile


def _only_ints(value: Any) -> bool:
    """Whether every number in ``value`` (nested tuples, or None) is a plain ``int``."""
    if value is None:
        return True
    if isinstance(value, tuple):
        return all(_only_ints(v) for v in value)
    return type(value) is int


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    data=st.data(),
    dtype=st.sampled_from(DTYPES),
)
def test_numpy_integer_indices_give_what_the_ints_give(model: tuple[str, str | None], data: Any, dtype: Any) -> None:
    prof = _profile(*model)
    key = data.draw(st.sampled_from(sorted(prof.taps)), "key")
    fm = prof[key]
    info = np.iinfo(dtype)
    h, w = fm.size if fm.size is not None else (64, 64)
    lo, past = (0, -1) if prof.input_size is not None else (-2, 2)  # a sized map's units are its own only
    i = data.draw(st.integers(max(int(info.min), lo), min(int(info.max), h + past)), "i")
    j = data.draw(st.integers(max(int(info.min), lo), min(int(info.max), w + past)), "j")
    for method in (prof.input_box, prof.unit_pixels):
        want, got = method(key, i, j), method(key, dtype(i), dtype(j))
        assert got == want
        assert _only_ints(got), got
    clip = (dtype(min(h * 8, int(info.max))), dtype(min(w * 8, int(info.max))))
    got_box = fm.input_box(dtype(i), dtype(j), clip)
    assert got_box == fm.input_box(i, j, (int(clip[0]), int(clip[1])))
    assert _only_ints(got_box), got_box


def test_the_int8_box_no_longer_wraps() -> None:
    prof = _profile("resnet18", "224x224")
    assert prof.input_box("C5", np.int8(3), np.int8(3)) == ((0, 223), (0, 223))
    assert prof.input_box("C3", np.int8(20), np.int8(20)) == ((111, 209), (111, 209))
    assert prof.input_box("C5", np.uint8(3), np.uint8(3)) == ((0, 223), (0, 223))


_KEY = "key: expected the name of an output or node (str), got "
_UNKNOWN = " is not an output or node of resnet18 (outputs: C1, C2, C3, C4, C5)"


@pytest.mark.parametrize("size", ["224x224", None])
@pytest.mark.parametrize("method", ["input_box", "unit_pixels"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("P9", 0, 0), "key: 'P9'" + _UNKNOWN),
        (("c5", 0, 0), "key: 'c5'" + _UNKNOWN),
        (("a\nb", 0, 0), "key: 'a\\nb'" + _UNKNOWN),
        ((None, 0, 0), _KEY + "NoneType None"),
        ((np.array([1, 2]), 0, 0), _KEY + "an object of type ndarray"),
        ((5, 0, 0), _KEY + "int 5"),
        (("C5", 3.0, 3), "i: expected an integer, got float 3.0"),
        (("C5", "1", 0), "i: expected an integer, got str '1'"),
        (("C5", 0, "x"), "j: expected an integer, got str 'x'"),
        (("C5", True, False), "i: expected an integer, got bool True"),
        (("C5", 0, np.True_), "j: expected an integer, got bool np.True_"),
        (("C5", np.float64(2), 0), "i: expected an integer, got float64 np.float64(2.0)"),
        (("C5", None, 0), "i: expected an integer, got NoneType None"),
    ],
)
def test_a_wrong_key_or_index_is_one_option_error(size: str | None, method: str, args: tuple[Any, ...],
                                                  message: str) -> None:  # fmt: skip
    prof = _profile("resnet18", size)
    with pytest.raises(OptionError) as caught:
        getattr(prof, method)(*args)
    assert str(caught.value) == message


@pytest.mark.parametrize("method", ["input_box", "unit_pixels"])
@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ((7, 0), "i: unit 7 is outside the 7 rows of 'C5' (0 to 6)"),
        ((-1, 0), "i: unit -1 is outside the 7 rows of 'C5' (0 to 6)"),
        ((0, 100), "j: unit 100 is outside the 7 columns of 'C5' (0 to 6)"),
    ],
)
def test_a_unit_outside_the_map_is_an_option_error(method: str, unit: tuple[int, int], message: str) -> None:
    """resnet18 at 224 x 224 has 7 x 7 units on C5: another unit was read as one that reads no pixel (None, or
    empty runs), as if it existed."""
    prof = _profile("resnet18", "224x224")
    assert prof["C5"].size == (7, 7)
    with pytest.raises(OptionError) as caught:
        getattr(prof, method)("C5", *unit)
    assert str(caught.value) == message
    assert prof.input_box("C5", 6, 6) == ((0, 223), (0, 223))


def test_without_an_input_size_every_unit_is_one_of_the_periodic_map() -> None:
    prof = _profile("resnet18", None)
    assert prof.input_box("C5", 7, -1) == prof["C5"].input_box(7, -1)


_CLIP = "clip_to: expected an image size (h, w) of two integers, or None, got "


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.0, 0), "i: expected an integer, got float 1.0"),
        ((0, 0, (224, 224.0)), "clip_to: expected an integer, got float 224.0"),
        ((0, 0, (0, 224)), "clip_to: expected an integer from 1, got 0"),
        ((0, 0, 224), _CLIP + "int 224"),
        ((0, 0, (224, 224, 3)), _CLIP + "tuple (224, 224, 3)"),
    ],
)
def test_the_feature_maps_input_box_checks_its_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(OptionError) as caught:
        _profile("resnet18", None)["C5"].input_box(*args)
    assert str(caught.value) == message


def test_getitem_takes_names_only() -> None:
    """``profile[None]`` named the first node without a tap (the input's first layer)."""
    prof = _profile("resnet18", None)
    assert prof["C5"].tap == "C5"
    for key in (None, 5, "P9"):
        with pytest.raises(KeyError):
            prof[key]  # type: ignore[index]
