"""``stats`` and ``recommend`` on several inputs or a quoted glob, with --workers and --dask: the same numbers as
the one file the shards were cut from, the same output for any number of workers, one-line errors."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scalematch.dataset import sample_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset"))
from shard_files import split_coco, without_source


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_stats_json_of_shards_equals_the_whole_file(app: typer.Typer, tmp_path: Path) -> None:
    split_coco(sample_path(), tmp_path / "shards", shards=6)
    pattern = str(tmp_path / "shards" / "*.json")
    code, out, err = run(app, "stats", pattern, "--json", "--workers", "2")
    assert code == 0, err
    whole = json.loads(run(app, "stats", str(sample_path()), "--json")[1])
    got = json.loads(out)
    assert got["source"] == pattern
    for key, value in without_source(whole).items():  # field by field, exactly (JSON floats round-trip)
        assert got[key] == value, key
    assert list(got) == list(whole)


@pytest.mark.parametrize("extra", [["--json"], ["--by-category"], ["--resize", "multi-scale:480-800,1333", "--json"]])
def test_workers_give_the_same_output(app: typer.Typer, tmp_path: Path, extra: list[str]) -> None:
    paths = [str(p) for p in split_coco(sample_path(), tmp_path, shards=5)]
    outputs = {w: run(app, "stats", *paths, *extra, "--workers", w) for w in ("1", "2", "3")}
    assert outputs["1"][0] == 0
    assert outputs["1"] == outputs["2"] == outputs["3"]


def test_csv_of_shards(app: typer.Typer, tmp_path: Path) -> None:
    paths = [str(p) for p in split_coco(sample_path(), tmp_path / "shards", shards=3)]
    table = tmp_path / "boxes.csv"
    code, _, err = run(app, "stats", *paths, "--csv", str(table), "--workers", "2", "--json")
    assert code == 0, err
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 839  # every kept annotation of the sample, crowd ones included
    assert {r["shard"] for r in rows} == set(paths[:3])  # the fourth shard is empty
    assert len({(r["shard"], r["shard_image_id"]) for r in rows}) == len({r["image_id"] for r in rows}) == 100


def test_recommend_on_shards(app: typer.Typer, tmp_path: Path) -> None:
    split_coco(sample_path(), tmp_path / "shards", shards=4)
    pattern = str(tmp_path / "shards" / "*.json")
    code, out, err = run(app, "recommend", pattern, "--workers", "2")
    assert code == 0, err
    whole = run(app, "recommend", str(sample_path()))[1]
    first, *rest = out.splitlines()
    assert first == f"{pattern} (5 files): 830 objects"
    assert rest == whole.splitlines()[1:]
    document = json.loads(run(app, "recommend", pattern, "--json")[1])
    assert document["source"] == pattern  # the inputs as given, not every file they name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{d}/*.xml"], "{d}/*.xml: no file or folder matches this pattern"),
        (["{d}/part-000.json", "{d}/*.json"], "{d}/part-000.json: named twice among the inputs ({d}/part-000.json, "
         "{d}/part-000.json from {d}/*.json); give each once"),
        (["{d}/*.json", "--workers", "0"], "--workers: expected an integer from 1 to 1024, got 0"),
        (["{d}/*.json", "--workers", "1025"], "--workers: expected an integer from 1 to 1024, got 1025"),
        (["{d}/*.json", "--workers", "2", "--dask", "tcp://127.0.0.1:1"],
         "--workers and --dask: the Dask cluster runs the work; give one of them"),
    ],
)  # fmt: skip
def test_errors(app: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    split_coco(sample_path(), tmp_path, shards=2, empty=False)
    for command in ("stats", "recommend"):
        code, out, err = run(app, command, *(a.format(d=tmp_path) for a in args))
        assert (code, out, err) == (2, "", f"Error: {message.format(d=tmp_path)}\n")


def test_a_hard_link_is_the_same_file(app: typer.Typer, tmp_path: Path) -> None:
    """A hard link names the same file (device and inode) under another name: its annotations would be counted
    twice, as through a symbolic link."""
    first, _ = split_coco(sample_path(), tmp_path, shards=2, empty=False)
    os.link(first, tmp_path / "again.json")
    os.symlink(first, tmp_path / "sub.json")
    again, sub = tmp_path / "again.json", tmp_path / "sub.json"
    for args, message in [
        ([first, again], f"{again}: named twice among the inputs ({first}, {again}); give each once"),
        ([again, sub], f"{sub}: named twice among the inputs ({again}, {sub}); give each once"),
    ]:
        for command in ("stats", "recommend"):
            assert run(app, command, *map(str, args)) == (2, "", f"Error: {message}\n")


def test_report_needs_one_dataset(app: typer.Typer, tmp_path: Path) -> None:
    split_coco(sample_path(), tmp_path, shards=2, empty=False)
    code, _, err = run(app, "recommend", str(tmp_path / "*.json"), "--report")
    assert (code, err) == (2, "Error: --report: names the report after one dataset file or folder; for several use "
                              "--out DIR\n")  # fmt: skip


def test_dask_without_the_extra(app: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails as if not installed
    code, _, err = run(app, "stats", "--dask", "tcp://127.0.0.1:8786")
    assert (code, err) == (
        2,
        "Error: --dask: needs the 'distributed' package, which is not installed; install scalematch[dask] "
        "(pip install 'scalematch[dask]')\n",
    )


def test_objects_of_shards_name_their_input(app: typer.Typer, tmp_path: Path) -> None:
    """--objects of several inputs: each row's shard and shard_image_id lead back to its annotation in that file."""
    paths = [str(p) for p in split_coco(sample_path(), tmp_path / "shards", shards=2, empty=False)]
    objects = tmp_path / "objects.csv"
    code, _, err = run(app, "recommend", *paths, "-q", "--detector", "retinanet", "--objects", str(objects))
    assert code == 0, err
    with objects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["shard", "image_id", "shard_image_id", "annotation_id"]
    images = {p: {a["id"]: a["image_id"] for a in json.loads(Path(p).read_text())["annotations"]} for p in paths}
    assert {r["shard"] for r in rows} == set(paths) and len(rows) == 830
    for r in rows:
        assert images[r["shard"]][int(r["annotation_id"])] == int(r["shard_image_id"])


@pytest.mark.parametrize(
    ("args", "option", "what", "kind"),
    [
        (["stats", "sh/*.json", "--csv", "sh/new.json"], "--csv sh/new.json", "it", "file"),
        (["stats", "sh/*.json", "--csv", "sh/*.json"], "--csv sh/*.json", "it", "file"),
        (["recommend", "sh/*.json", "--objects", "sh/o.json"], "--objects sh/o.json", "it", "file"),
        (["recommend", "sh/*.json", "--export", "mmdet", "sh/e.json"], "--export sh/e.json", "it", "file"),
        (["recommend", "sh/*", "--out", "sh/rep"], "--out sh/rep", "it", "folder"),
        (["recommend", "**/*.json", "--out", "rep"], "--out rep", "its recommendation.json", "folder"),
    ],
)
def test_an_output_an_input_pattern_matches_is_refused_before_the_work(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], option: str, what: str,
    kind: str,
) -> None:  # fmt: skip
    """``stats 'sh/*.json' --csv sh/new.json`` wrote a CSV the next run read as a COCO file (and failed on it);
    an output the input pattern matches is refused naming both, nothing written (review round 42, C-F1)."""
    monkeypatch.chdir(tmp_path)
    split_coco(sample_path(), tmp_path / "sh", shards=2)
    before = sorted(p.name for p in (tmp_path / "sh").iterdir())
    code, out, err = run(app, *args)
    pattern = args[1]
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {option}: the input pattern '{pattern}' matches {what}, so a later run would read it as an input; "
        f"choose another {kind}\n"
    )
    assert sorted(p.name for p in (tmp_path / "sh").iterdir()) == before and not (tmp_path / "rep").exists()
    code, _, err = run(app, "stats", "sh/*.json", "--csv", "counts.csv")  # outside the pattern: written
    assert code == 0 and (tmp_path / "counts.csv").is_file(), err
