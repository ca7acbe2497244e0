"""An integer of more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300 by default) in a YAML
input (a backbone config, a detector preset, a YOLO ``data.yaml``) is refused by its key's own check, in the words
that one of hundreds of digits gets: a ConfigError or DatasetError in the API, one ``Error:`` line on the command
line. It was PyYAML's bare ``ValueError: Exceeds the limit (4300 digits) for integer string conversion`` (review
round 31, F3), and a preset's ``min_size`` of 400 digits was an OverflowError (``math.isfinite`` of the int).
Written in hex, binary, octal or base 60, which PyYAML reads whole (the limit covers no power-of-two base, and base
60 is summed), such an integer reached the error line's ``repr()`` and raised there (review round 32, F2): it is
read as the first 600 digits of its value, as a decimal literal of it is."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from PIL import Image
from preset_files import preset_file
from typer.testing import CliRunner

import scalematch as sm
from scalematch._yaml import safe_load
from scalematch.errors import ConfigError, DatasetError

MARK = "LONGMARK"
CONVERTED = "7" * 400  # long, but within the limit: the words to match
BEYOND = ("7" * 4301, "7" * 100_000)

BACKBONE = "name: t\nnodes:\n  - {name: c1, type: conv, kernel: 3, stride: 2}\noutputs: {C1: c1}\n"
BACKBONES = {
    "kernel": BACKBONE.replace("kernel: 3", f"kernel: {MARK}"),
    "negative kernel": BACKBONE.replace("kernel: 3", f"kernel: -{MARK}"),
    "stride list": BACKBONE.replace("stride: 2", f"stride: [{MARK}, 1]"),
}
DATA_YAMLS = {
    "nc": f"names: [a]\nnc: {MARK}\n",
    "kpt_shape": f"names: [a]\nkpt_shape: [{MARK}, 3]\n",
    "names key": f"names:\n  0: a\n  ? {MARK}\n  : b\n",  # (an explicit key: an implicit one takes 1024 characters)
    "names key twice": f"names:\n  0: a\n  ? {MARK}\n  : b\n  ? {MARK}\n  : c\n",
}


WHOLE = 7 * 10**5000 + 123456789  # (arithmetic: no conversion limit)


def _sexagesimal(value: int) -> str:
    parts = []
    while value:
        value, part = divmod(value, 60)
        parts.append(str(part))
    return ":".join(reversed(parts))


FORMS: dict[str, Callable[[int], str]] = {
    "hex": lambda v: f"0x{v:x}",
    "binary": lambda v: f"0b{v:b}",
    "octal": lambda v: f"0{v:o}",  # (YAML 1.1: a leading 0)
    "base 60": _sexagesimal,
}


def _first_digits(value: int) -> str:
    """The first 600 digits of ``value``, the interpreter's limit lifted for the call."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)[:600]
    finally:
        sys.set_int_max_str_digits(limit)


def _error(read: Callable[[], object]) -> str:
    """The message ``read`` stops with (it must stop, with scalematch's own error)."""
    with pytest.raises((ConfigError, DatasetError)) as info:
        read()
    return str(info.value)


def _backbone(tmp_path: Path, text: str, literal: str) -> str:
    path = tmp_path / "bb.yaml"
    path.write_text(text.replace(MARK, literal), encoding="utf-8")
    return _error(lambda: sm.load_backbone(str(path)))


def _dataset(tmp_path: Path, text: str, literal: str) -> str:
    folder = tmp_path / "y"
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    Image.new("RGB", (64, 48)).save(folder / "images" / "a.jpg")
    (folder / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (folder / "data.yaml").write_text(text.replace(MARK, literal), encoding="utf-8")
    return _error(lambda: sm.read_annotations(folder))


@pytest.mark.parametrize("case", list(BACKBONES))
def test_backbone(tmp_path: Path, case: str) -> None:
    expected = _backbone(tmp_path, BACKBONES[case], CONVERTED)
    for literal in BEYOND:
        assert _backbone(tmp_path, BACKBONES[case], literal) == expected


@pytest.mark.parametrize("key", ["input.min_size", "anchors.strides", "anchors.aspect_ratios"])
def test_preset(tmp_path: Path, key: str) -> None:
    def read(literal: str) -> str:
        path = tmp_path / "p.yaml"
        value: object = MARK if key == "input.min_size" else [MARK] if key == "anchors.strides" else [0.5, MARK]
        text = preset_file(tmp_path, "retinanet", **{key: value}).read_text(encoding="utf-8")
        path.write_text(text.replace(MARK, literal), encoding="utf-8")
        return _error(lambda: sm.load_preset(path))

    expected = read(CONVERTED)  # (a min_size of 400 digits was an OverflowError)
    assert f"key '{key}'" in expected and "7" * 37 + "..." in expected and "7" * 60 not in expected
    for literal in BEYOND:
        assert read(literal) == expected


@pytest.mark.parametrize("case", list(DATA_YAMLS))
def test_data_yaml(tmp_path: Path, case: str) -> None:
    expected = _dataset(tmp_path, DATA_YAMLS[case], CONVERTED)
    for literal in BEYOND:
        assert _dataset(tmp_path, DATA_YAMLS[case], literal) == expected


@pytest.mark.parametrize("form", list(FORMS))
def test_other_bases_are_read_as_the_first_digits_of_their_value(tmp_path: Path, form: str) -> None:
    literal, decimal = FORMS[form](WHOLE), _first_digits(WHOLE)
    for case, text in BACKBONES.items():
        assert _backbone(tmp_path, text, literal) == _backbone(tmp_path, text, decimal), case
    for case, text in DATA_YAMLS.items():
        assert _dataset(tmp_path, text, literal) == _dataset(tmp_path, text, decimal), case

    def preset(literal: str) -> str:
        path = tmp_path / "p.yaml"
        text = preset_file(tmp_path, "retinanet", **{"input.min_size": MARK}).read_text(encoding="utf-8")
        path.write_text(text.replace(MARK, literal), encoding="utf-8")
        return _error(lambda: sm.load_preset(path))

    assert preset(literal) == preset(decimal) and decimal[:37] in preset(literal)


def test_one_line_on_the_command_line(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = preset_file(tmp_path, "retinanet", **{"input.min_size": MARK}).read_text(encoding="utf-8")
    for literal in (BEYOND[0], *(form(WHOLE) for form in FORMS.values())):
        (tmp_path / "bb.yaml").write_text(BACKBONES["kernel"].replace(MARK, literal), encoding="utf-8")
        (tmp_path / "p.yaml").write_text(text.replace(MARK, literal), encoding="utf-8")
        _dataset(tmp_path, DATA_YAMLS["nc"], literal)
        runs = {
            "bb.yaml": ["profile", "bb.yaml"],
            "p.yaml": ["recommend", str(sm.sample_path()), "-q", "--detector", "p.yaml"],
            "y/data.yaml": ["stats", "y", "-q"],
        }
        for name, argv in runs.items():
            result = CliRunner().invoke(app, argv)
            assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
            assert result.output.startswith(f"Error: {name}: ") and len(result.output) < 250, result.output


def test_the_interpreter_limit_is_kept() -> None:
    limit = sys.get_int_max_str_digits()
    text = f"a: {BEYOND[0]}\nb: -7_{BEYOND[0]}\nc: 0x{'f' * 5000}\nd: 12\ne: 0x{'f' * 3000}\n"  # (base 16: no limit)
    first = int(_first_digits(16**5000 - 1))
    assert safe_load(text) == {"a": int("7" * 600), "b": -int("7" * 600), "c": first, "d": 12, "e": 16**3000 - 1}
    assert sys.get_int_max_str_digits() == limit
    longest = safe_load(f"-0x{'f' * 300_000}")  # (beyond the bits whose digits are counted: the leading bits)
    assert longest < 0 and len(str(-longest)) == 600
