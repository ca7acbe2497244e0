"""A long value or name in an error line is shown cut, the one way paths are (:func:`scalematch._text.cut_name`):
a text of more than 255 characters takes 63, its first 40 and last 20 characters around ``...``. So every line
below stays under :data:`LINE_BOUND` characters, however long the value (review round 28, F5: a 5,000-digit
``--levels``, ``--format`` or layer spec, or a 10,000-character COCO file name, was repeated whole)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import scalematch as sm
from scalematch.cli.main import app
from scalematch.errors import ConfigError, OptionError, ScalematchError
from scalematch.profile.importers.config import from_layers

LINE_BOUND = 320
"""The longest error line of the cases below: the message's own words (the explain line lists the seed layers)
plus 63 characters for the cut value."""
LONG = "9" * 5000
NAME = "y" * 10000
SPACED = "ab " * 1700


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    one = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}
    document = {"images": [{"id": 1, "file_name": NAME + ".jpg"}], "annotations": [one],
                "categories": [{"id": 1, "name": NAME}]}  # fmt: skip
    (tmp_path / "long.json").write_text(json.dumps(document))
    two = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64}],
        "annotations": [one, {"id": 2, "image_id": 1, "category_id": 2, "bbox": [1, 1, 9, 9]}],
        "categories": [{"id": 1, "name": NAME}, {"id": 2, "name": NAME + "z"}],
    }
    (tmp_path / "long2.json").write_text(json.dumps(two))
    return tmp_path


CASES = [
    (["recommend", "-q", "long2.json", "--levels", f"P{LONG}"],
     "Error: --levels: detector retinanet has levels P3, P4, P5, P6, P7; got 'P999"),
    (["stats", "long2.json", "--format", f"c{LONG}"], "Error: --format: 'c999"),
    (["explain", f"conv_k3_s{LONG}"], "Error: layer 1 'conv_k3_s999"),
    (["explain", f"conv:k=3,s{LONG}"], "Error: layer 1 'conv:k=3,s999"),
    (["stats", "--strict", "long.json"], "Error: long.json: annotation id 1: image 1 (yyy"),
    (["recommend", "-q", "long2.json", "--coverage", LONG], "Error: --coverage 999999999999...: a number of 5000"),
    (["recommend", "-q", "long2.json", "--rule", SPACED], "Error: --rule: 'ab ab "),
    (["stats", SPACED], "Error: ab ab "),
    (["profile", "resnet50", "--size", LONG], "Error: --size: expected at most 16384 pixels per side, got '999"),
    (["stats", "long2.json", "--image-size", f"{LONG}x1"], "Error: --image-size: expected WIDTHxHEIGHT"),
    (["explain", f"conv:k={LONG}"], "Error: layer 1 'conv:k=999"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "start"),
    CASES,
    ids=[
        "levels",
        "format",
        "explain seed",
        "explain spec",
        "strict",
        "coverage",
        "rule spaced",
        "path spaced",
        "size",
        "image size",
        "spec number",
    ],
)
def test_a_long_value_in_an_error_line_is_shown_cut(files: Path, argv: list[str], start: str) -> None:
    result = CliRunner().invoke(app, argv)
    line = result.stderr.rstrip("\n")
    assert result.exit_code == 2 and "\n" not in line and line.startswith(start), line[:200]
    assert len(line) <= LINE_BOUND and "..." in line
    assert "9" * 41 not in line and "y" * 41 not in line and "ab " * 20 not in line


def test_a_number_of_thousands_of_digits_is_one_error_not_a_traceback() -> None:
    """int() refuses more than 4,300 digits with a bare ValueError: a size or a layer value that long was a
    traceback (profile --size, --image-size, an explain spec's k=); so was a spec value with two signs."""
    with pytest.raises(OptionError, match=r"^input_size: expected at most 16384 pixels per side, got '9{37}\.\.\.'$"):
        sm.profile_model("resnet50", input_size=LONG)
    with pytest.raises(OptionError, match=r"^image_size: expected WIDTHxHEIGHT"):
        sm.read_annotations(None, image_size=f"{LONG}x1")
    for spec, message in (
        (f"conv:k={LONG}", f"'kernel' must be at most 1024 (larger layers would exhaust memory), got {'9' * 40}..."),
        (f"conv:p=-{LONG}", f"'padding' must be a non-negative integer, got -{'9' * 39}..."),
        ("conv:k=--5", "'kernel' must be a positive integer or [h, w], got '--5'"),
    ):
        with pytest.raises(ConfigError) as caught:
            from_layers([spec])
        assert message in str(caught.value) and len(str(caught.value)) < LINE_BOUND


def test_the_category_table_shows_a_cut_name_cut(files: Path) -> None:
    """`stats --by-category` cuts a name to its 24 characters with '...' in it, keeping its head and its end, so
    that two names that differ after character 24 print apart (both printed as the same 24 'y's before)."""
    result = CliRunner().invoke(app, ["stats", "-q", "--by-category", "long2.json"])
    rows = result.stdout.splitlines()[-2:]
    assert rows[0].startswith(f"      1 {'y' * 14}...{'y' * 7} ")
    assert rows[1].startswith(f"      2 {'y' * 14}...{'y' * 6}z ")


def test_the_api_shows_a_long_value_cut_too(files: Path) -> None:
    boxes = sm.read_annotations("long2.json")
    with pytest.raises(OptionError) as caught:
        sm.recommend(boxes, levels=f"P{LONG}")
    assert str(caught.value) == (
        f"levels: detector retinanet has levels P3, P4, P5, P6, P7; got 'P{'9' * 39}...{'9' * 20}'"
    )
    with pytest.raises(ScalematchError) as strict:
        sm.read_annotations("long.json", strict=True)
    assert f"image 1 ({'y' * 40}...{'y' * 16}.jpg)" in str(strict.value)


@pytest.mark.parametrize("kind", [OptionError, ConfigError])
def test_every_error_shows_a_long_word_cut(kind: Any) -> None:
    """The net under every message: a run of more than 255 characters without a space, whoever quoted it, is
    shown as cut_name shows it; a shorter one stays whole."""
    assert str(kind(f"a: got '{LONG}' and 'b'")) == f"a: got '{'9' * 40}...{'9' * 20}' and 'b'"
    assert str(kind(f"a: got {LONG}")) == f"a: got {'9' * 40}...{'9' * 20}"
    whole = "x" * 255
    assert str(kind(f"a: {whole}")) == f"a: {whole}"
    spaced = "ab " * 100  # a quoted text with spaces: cut within its quotes
    assert str(kind(f"a: got {spaced!r}, b")) == f"a: got '{spaced[:40]}...{spaced[-20:]}', b"
    words = " ".join(["word"] * 100)  # the message's own words between two quoted names stay whole
    assert str(kind(f"a 'x' {words} 'y'")) == f"a 'x' {words} 'y'"


def test_profile_prints_a_long_word_of_its_convention_cut(tmp_path: Path) -> None:
    """Review B-F4: a config's convention holding one word of 2,000,000 characters was wrapped whole (textwrap is
    quadratic in a word's length: seconds for this one, minutes for longer ones). The word is printed cut, as
    cut_name shows it, and so is a run that only the escapes of its tabs join into one word."""
    word = "x" * 2_000_000
    tabbed = "\t".join(["y" * 200] * 10)  # ten 200-character runs, one 2,018-character word once printable
    config = {
        "name": "big",
        "convention": f"a {word} b\n{tabbed}",
        "nodes": [{"name": "c1", "type": "conv", "kernel": 3, "stride": 2}],
        "outputs": {"C1": "c1"},
    }
    path = tmp_path / "big.yaml"
    path.write_text(json.dumps(config))  # (JSON is YAML)
    result = CliRunner().invoke(app, ["profile", str(path)])
    assert result.exit_code == 0, result.output[:300]
    lines = result.stdout.splitlines()
    assert lines[1:3] == [f"  a {'x' * 40}...{'x' * 20} b", f"  {'y' * 40}...{'y' * 20}"]
    assert len(result.stdout) < 1000


def test_an_explain_title_shows_a_long_word_cut() -> None:
    from scalematch.report.explain_text import chain_title

    assert chain_title(["conv_k3", "z" * 10_000]) == f"conv_k3 → {'z' * 40}...{'z' * 20}"
