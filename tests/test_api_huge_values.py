"""An argument whose error message cannot quote it the usual way still gets one typed line (review round 32, F5):
an ``int`` of more digits than Python converts (``7 * 10**5000``: arithmetic makes one, no parsing) is shown as
``an integer of 5,001 digits`` (``repr()`` of it raised a bare ``ValueError: Exceeds the limit (4300 digits)``),
a value whose own ``__repr__`` raises or returns no text as ``an object of type X (its repr failed)``, an object
of a class whose ``__name__`` is empty as one of ``a class without a name``."""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import scalematch
from scalematch._args import shown
from scalematch._text import described
from scalematch.errors import OptionError, ScalematchError

sm: Any = scalematch  # the calls below pass wrong values on purpose

BIG = 7 * 10**5000
DIGITS = "an integer of 5,001 digits"


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> str:
    import json

    path = tmp_path_factory.mktemp("one") / "c.json"
    document = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 50], "area": 2000}],
        "categories": [{"id": 1, "name": "a"}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


PLACES: list[tuple[str, Callable[[str], object], str]] = [
    ("recommend coverage", lambda one: sm.recommend(one, rule="rf", coverage=BIG),
     f"coverage: expected a number within the range of a float, got {DIGITS}"),
    ("recommend min_positives", lambda one: sm.recommend(one, "retinanet", min_positives=BIG),
     f"min_positives: expected an integer from 1 to 10,000, got {DIGITS}"),
    ("recommend min_iou", lambda one: sm.recommend(one, "retinanet", min_iou=BIG),
     f"min_iou: expected a number within the range of a float, got {DIGITS}"),
    ("recommend workers", lambda one: sm.recommend(one, rule="rf", workers=BIG),
     f"workers: expected an integer from 1 to 1024, got {DIGITS}"),
    ("recommend anchors_per_level", lambda one: sm.recommend(one, rule="anchors", anchors_per_level=BIG),
     f"anchors_per_level: expected an integer from 1 to 64, got {DIGITS}"),
    ("read_annotations workers", lambda one: sm.read_annotations(one, workers=BIG),
     f"workers: expected an integer from 1 to 1024, got {DIGITS}"),
    ("read_annotations image_size", lambda one: sm.read_annotations(one, image_size=(BIG, 10)),
     "image_size: expected 'WIDTHxHEIGHT' or (width, height) with positive integers up to 16777216, got tuple "
     f"(<{DIGITS}>, 10)"),
    ("measure_erf input_size", lambda one: sm.measure_erf("resnet18", input_size=BIG),
     f"input_size: expected at most 16384 pixels per side, got {DIGITS}"),
    ("profile_model input_size", lambda one: sm.profile_model("resnet18", input_size=BIG),
     f"input_size: expected at most 16384 pixels per side, got {DIGITS}"),
    ("load_backbone", lambda one: sm.load_backbone(BIG),
     f"backbone: expected a backbone name or path (str), got {DIGITS}"),
    ("read_annotations path", lambda one: sm.read_annotations(BIG),
     f"path: expected a path (str or pathlib.Path), a glob pattern or a list of them, got {DIGITS}"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), PLACES, ids=[c[0] for c in PLACES])
def test_an_integer_too_long_to_show_is_one_option_error(
    one: str, case: str, call: Callable[[str], object], message: str
) -> None:
    with pytest.raises(OptionError) as caught:
        call(one)
    assert str(caught.value).replace("annotations:", "path:", 1) == message


def test_no_argument_of_any_public_function_fails_on_such_a_value(one: str, tmp_path: Path) -> None:
    """Every parameter of every public function, given a huge integer, a negative one, a pair holding one, a list
    holding one: a ScalematchError of one line (or a result), never the interpreter's ValueError."""
    import matplotlib.pyplot as plt

    data = sm.read_annotations(one)
    design = sm.recommend(data, rule="rf")
    figure = plt.figure()
    calls: dict[str, dict[str, object]] = {
        "read_annotations": {"path": one},
        "recommend": {"annotations": one, "detector": "retinanet"},
        "sweep": {"annotations": one, "rule": "rf"},
        "load_backbone": {"backbone": "resnet18"},
        "profile_model": {"backbone": "resnet18"},
        "measure_erf": {"model": "resnet18", "samples": 1, "input_size": 64},
        "load_preset": {"name": "retinanet"},
        "from_frame": {"table": data.to_frame()},
        "category_figure": {"result": design.recommendation.full},
        "shape_figure": {"table": data.to_frame(), "rec": design.recommendation},
        "save_figure": {"fig": figure, "path": str(tmp_path / "never.png")},
    }
    try:
        for name, base in calls.items():
            function = getattr(sm, name)
            for parameter in inspect.signature(function).parameters:
                for value in (BIG, -BIG, (BIG, 10), [BIG]):
                    try:
                        function(**{**base, parameter: value})
                    except ScalematchError as error:
                        assert len(str(error).splitlines()) == 1, (name, parameter)
                    plt.close("all")
    finally:
        plt.close(figure)
    assert not (tmp_path / "never.png").exists()


def test_a_value_whose_repr_fails_or_whose_class_has_no_name_is_named_by_its_type() -> None:
    def raising(self: object) -> str:
        raise ZeroDivisionError

    broken = types.new_class("Broken", exec_body=lambda ns: ns.update(__repr__=raising))()
    number = types.new_class("Number", exec_body=lambda ns: ns.update(__repr__=lambda self: 5))()
    nameless = types.new_class("")()
    cases = [
        (broken, "an object of type Broken (its repr failed)"),
        (number, "an object of type Number (its repr failed)"),
        (nameless, "an object of a class without a name"),
    ]
    for value, words in cases:
        with pytest.raises(OptionError) as caught:
            sm.recommend(coverage=value)
        assert str(caught.value) == f"coverage: expected a number, got {words}"
    assert described(broken, 40) == "an object of type Broken (its repr failed)"
    for value, words in [(BIG, DIGITS), (broken, "an object of type Broken (its repr failed)")]:
        with pytest.raises(OptionError) as caught:
            sm.Rule(value)  # (Enum's own error quoted the value with %r and raised)
        assert str(caught.value) == f"Rule: expected rf, fpn, fcos, anchors or yolo (in any case), got {words}"


def test_the_quoting_helpers_never_raise() -> None:
    from scalematch._text import cut_name, int_digits, int_text, safe_repr

    assert shown(BIG) == described(BIG, 40) == int_text(BIG) == DIGITS
    assert int_text(-BIG) == "a negative integer of 5,001 digits" and cut_name(BIG) == DIGITS
    assert safe_repr([BIG, 2]) == f"[<{DIGITS}>, 2]" and safe_repr({"k": BIG}) == f"{{'k': <{DIGITS}>}}"
    assert shown(10**4299) == "int 1" + "0" * 36 + "..."  # (converted: quoted as before)
    assert described(16**5000, 40) == "an integer of 6,021 digits"  # (a YAML 0x... of 5,000 digits)
    limit = sys.get_int_max_str_digits()
    for value in (10**limit - 1, 10**limit, 2**40000, 7 * 10**20000, 10**40000 - 1):
        count, exact = int_digits(value)
        assert exact and count == _count(value)


def _count(value: int) -> int:
    """The digits of ``value`` counted the slow way (with the interpreter's limit lifted for the call)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return len(str(abs(value)))
    finally:
        sys.set_int_max_str_digits(limit)
