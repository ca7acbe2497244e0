"""``recommend --split NAME`` reads a VOC year folder's ImageSets/Main split as ``stats --split`` does (the same
objects, the same refusals, from one option definition), and ``scalematch.recommend(split=...)`` as
``read_annotations(split=...)``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalematch
from scalematch.cli.main import app
from scalematch.dataset import sample_path
from scalematch.errors import OptionError
from scalematch.match.design import Design, RuleSweep
from scalematch.match.detector import DetectorResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset"))
from test_roundtrip import write_voc, write_yolo


def run(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def devkit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VOC2012 year folder whose split 'train' lists its first four images only (val lists them all)."""
    root = write_voc(tmp_path_factory.mktemp("voc") / "VOC2012")
    stems = (root / "ImageSets" / "Main" / "val.txt").read_text().split()
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(stems[:4]) + "\n")
    return root


def objects_in(root: Path, split: str) -> int:
    """Objects of the split's images, counted in the XML files with plain text search."""
    stems = (root / "ImageSets" / "Main" / f"{split}.txt").read_text().split()
    return sum((root / "Annotations" / f"{s}.xml").read_text().count("<object>") for s in stems)


@pytest.mark.parametrize("split", ["train", "val"])
def test_recommend_split_reads_the_objects_stats_split_reads(devkit: Path, split: str) -> None:
    stats = json.loads(run("stats", str(devkit), "--split", split, "--json", "-q")[0])
    want = objects_in(devkit, split)
    assert stats["annotations"] == want
    rule = json.loads(run("recommend", str(devkit), "--split", split, "--rule", "rf", "--json", "-q")[0])
    assert rule["objects"] == want
    detector = json.loads(run("recommend", str(devkit), "--split", split, "--json", "-q")[0])
    assert detector["positives"]["objects"] == want
    text = run("recommend", str(devkit), "--split", split, "--rule", "fcos", "-q")[0]
    assert text.startswith(f"VOC2012: {want} objects,")


def test_the_train_split_is_a_part(devkit: Path) -> None:
    assert 0 < objects_in(devkit, "train") < objects_in(devkit, "val")


def test_api_recommend_takes_split_as_read_annotations(devkit: Path) -> None:
    want = len(scalematch.read_annotations(devkit, split="train").table)
    design = scalematch.recommend(devkit, rule="rf", split="train")
    assert isinstance(design, Design)
    assert design.recommendation.full.total == want == objects_in(devkit, "train")
    result = scalematch.recommend(devkit, "retinanet", split="train")
    assert isinstance(result, DetectorResult)
    assert result.summary.objects == want
    swept = scalematch.sweep(devkit, rule="rf", split="train", resize=["none", "longest-edge:640"])
    assert isinstance(swept, RuleSweep)
    assert all(d.recommendation.full.total == want for d in swept.designs)


def test_api_refuses_split_for_boxes_read_already(devkit: Path) -> None:
    data = scalematch.read_annotations(devkit, split="train")
    for given in (data, data.table):
        with pytest.raises(OptionError, match=r"^split: applies to VOC year folders read from files"):
            scalematch.recommend(given, rule="rf", split="train")


def error_of(*args: str) -> str:
    return run(*args, code=2)[1].strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(sample_path())], f"Error: --split: applies to VOC year folders only; {sample_path()} is read as coco"),
        (["{yolo}"], "Error: --split: applies to VOC year folders only; {yolo} is read as yolo"),
        (["{xml}"], "Error: {xml}: --split needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/)"),
        # the VOCdevkit folder above the year folder, and its Annotations folder: the folder to give is named
        (
            ["{root}"],
            "Error: {root}: --split needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/); "
            "{root} holds VOC2012: give one",
        ),
        (
            ["{ann}"],
            "Error: {ann}: --split needs a VOCdevkit year folder (with Annotations/ and ImageSets/Main/); "
            "give its year folder {year}",
        ),
    ],
)
def test_recommend_refuses_split_where_stats_does(devkit: Path, tmp_path: Path, args: list[str], message: str) -> None:
    yolo = write_yolo(tmp_path / "ds")
    xml = next((devkit / "Annotations").iterdir())
    names = {"yolo": yolo, "xml": xml, "root": devkit.parent, "ann": devkit / "Annotations", "year": devkit}
    args = [a.format(**names) for a in args]
    message = message.format(**names)
    assert error_of("stats", *args, "--split", "val") == message
    assert error_of("recommend", *args, "--split", "val") == message
    assert error_of("recommend", *args, "--split", "val", "--rule", "rf") == message


@pytest.mark.parametrize("value", ["", " "])
def test_empty_split_is_refused_alike(devkit: Path, value: str) -> None:
    message = f"Error: --split: expected a split name such as train or val, got an empty value ({value!r})"
    assert error_of("stats", str(devkit), "--split", value) == message
    assert error_of("recommend", str(devkit), "--split", value) == message


def test_one_option_definition_serves_both_commands() -> None:
    import click
    import typer.main

    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)

    def split_of(name: str) -> tuple[object, ...]:
        (option,) = [p for p in group.commands[name].params if p.name == "split"]
        assert isinstance(option, click.Option)
        return option.opts, option.metavar, option.help, option.default

    assert split_of("recommend") == split_of("stats")
