"""``scalematch recommend --out DIR`` / ``--report``: the files, the refusal without --force, the JSON equality."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app

FILES = ["categories.png", "load.png", "overlay.png", "profile.png", "recommendation.json", "report.html",
         "shapes.png"]  # fmt: skip


def test_the_wrote_line_counts_the_figures_in_both_modes(tmp_path: Path) -> None:
    """Detector mode and rule mode word the line alike, with the number of PNGs written beside report.html."""
    for mode, out in (([], tmp_path / "detector"), (["--rule", "rf"], tmp_path / "rule")):
        result = CliRunner().invoke(app, ["recommend", "-q", *mode, "--out", str(out)])
        assert result.exit_code == 0, result.output
        pngs = len(list(out.glob("*.png")))
        assert pngs == (2 if not mode else 5)
        assert result.stdout.splitlines()[-1] == (
            f"wrote {out}/report.html (with {pngs} figures as PNG and recommendation.json)"
        )


def test_out_writes_the_report_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    first = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == f"wrote {out}/report.html (with 5 figures as PNG and recommendation.json)"
    assert sorted(p.name for p in out.iterdir()) == FILES
    html = (out / "report.html").read_text()
    shown = html.replace('<span class="opt">', "").replace("</span>", "")  # the option names kept whole on a line
    assert f"<code>scalematch recommend -q --rule rf --out {out}</code>" in shown
    before = (out / "report.html").read_bytes()

    again = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out)])
    assert again.exit_code == 2
    assert again.stderr == f"Error: --out {out}: a report is already there; pass --force to replace it\n"
    assert (out / "report.html").read_bytes() == before

    forced = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(out), "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout) == json.loads((out / "recommendation.json").read_text())
    assert forced.stderr == f"wrote {out}/report.html\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_flag_uses_reports_dataset_stem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--report"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "reports" / "coco_val2014_100").iterdir()) == FILES
    again = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--report"])
    assert again.exit_code == 2
    assert again.stderr == (
        "Error: --report reports/coco_val2014_100: a report is already there; pass --force to replace it\n"
    )


def test_report_folder_is_named_after_the_dataset_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scalematch.errors import OptionError
    from scalematch.report.bundle import report_folder

    voc = tmp_path / "VOC2007"
    (voc / "Annotations").mkdir(parents=True)
    (tmp_path / "coco" / "labels").mkdir(parents=True)
    (tmp_path / "instances_val2017.json").write_text("{}")
    assert report_folder(voc / "Annotations") == Path("reports/VOC2007")
    assert report_folder(voc) == Path("reports/VOC2007")
    assert report_folder(tmp_path / "coco" / "labels") == Path("reports/coco")
    assert report_folder(tmp_path / "instances_val2017.json") == Path("reports/instances_val2017")
    with pytest.raises(OptionError, match=r"^--report: the dataset name '..json' gives no folder name; use --out DIR$"):
        report_folder(Path("..json"))
    (tmp_path / "coco" / "labels" / "train").mkdir()
    assert report_folder(tmp_path / "coco" / "labels" / "train" / "..") == Path("reports/coco")  # (labels: its root)
    # a split and a Roboflow COCO file: every dataset's labels/train was reports/train, every Roboflow export's
    # reports/_annotations.coco (review round 43, E-F3)
    assert report_folder(tmp_path / "coco" / "labels" / "train") == Path("reports/coco-train")
    (tmp_path / "rf" / "valid").mkdir(parents=True)
    (tmp_path / "rf" / "valid" / "_annotations.coco.json").write_text("{}")
    assert report_folder(tmp_path / "rf" / "valid" / "_annotations.coco.json") == Path("reports/rf-valid")
    (tmp_path / "ry" / "train" / "labels").mkdir(parents=True)  # a Roboflow YOLO split (round 44, G-F2)
    assert report_folder(tmp_path / "ry" / "train" / "labels") == Path("reports/ry-train")
    monkeypatch.chdir(tmp_path / "coco")
    assert report_folder(".") == Path("reports/coco")  # (not '': the folder it stands for)
    monkeypatch.chdir(tmp_path / "coco" / "labels")
    assert report_folder(Path(".")) == report_folder("..") == Path("reports/coco")
    with pytest.raises(OptionError, match=r"^--report: the dataset name '/' gives no folder name; use --out DIR$"):
        report_folder(Path("/"))


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.html"
    target.write_text("x")
    result = CliRunner().invoke(app, ["recommend", "-q", "--rule", "rf", "--out", str(target), "--force"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: --out {target}: expected a folder, got a file\n"


def test_a_report_html_that_is_no_file_is_named(tmp_path: Path) -> None:
    """Review B-F10: a folder whose report.html is a folder (or a FIFO, or a link to nothing) was refused as 'the
    folder holds other files and no report.html'. The line says what report.html is, in rule and detector mode,
    with --force or not, before the dataset is read (this one is not even JSON), and the folder stays as it was."""
    page = tmp_path / "rep" / "report.html"
    page.mkdir(parents=True)
    (page / "notes.txt").write_text("mine")
    bad = tmp_path / "bad.json"
    bad.write_text("not JSON")
    for argv in (["--detector", "retinanet"], ["--rule", "rf"], ["--detector", "retinanet", "--force"]):
        result = CliRunner().invoke(app, ["recommend", "-q", str(bad), *argv, "--out", str(tmp_path / "rep")])
        assert (result.exit_code, result.stderr) == (
            2,
            f"Error: --out {tmp_path / 'rep'}: its report.html is a folder, not a report's page; choose a new folder\n",
        ), argv
    assert [p.name for p in (tmp_path / "rep").iterdir()] == ["report.html"]
    assert (page / "notes.txt").read_text() == "mine"
    for name, make, what in (
        ("fifo", os.mkfifo, "a FIFO"),
        ("link", lambda p: p.symlink_to("gone"), "a dangling symlink"),
    ):
        (tmp_path / name).mkdir()
        make(tmp_path / name / "report.html")
        result = CliRunner().invoke(app, ["recommend", "-q", str(bad), "--force", "--out", str(tmp_path / name)])
        assert result.stderr == (
            f"Error: --out {tmp_path / name}: its report.html is {what}, not a report's page; choose a new folder\n"
        )


def _coco_named(path: Path, names: list[str]) -> Path:
    images = [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}]
    per = 3
    annotations = [
        {"id": k + 1, "image_id": 1, "category_id": k % len(names) + 1, "bbox": [10 + k * 30, 10, 20 + k, 30]}
        for k in range(per * len(names))
    ]
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(names)]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


@pytest.mark.parametrize("mode", [["--rule", "rf"], []], ids=["rule", "detector"])
def test_html_shows_line_breaks_and_tabs_of_names_as_escapes(tmp_path: Path, mode: list[str]) -> None:
    """A newline, a carriage return or a tab in a name is shown as ``\\n`` / ``\\r`` / ``\\t`` in the report, as
    in the text tables and the figures (written raw, a browser shows 'a\\nb' as 'a b'): the categories table of
    both modes, and the dataset's name in the title, the summary and the provenance."""
    data = _coco_named(tmp_path / "d\tx\ny.json", ["a\nb", "a b", "c\td", "e\rf"])
    out = tmp_path / "rep"
    result = CliRunner().invoke(app, ["recommend", "-q", *mode, str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    table = html.split('id="categories"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td>", table, re.S)
    assert rows == ["a\\nb", "a b", "c\\td", "e\\rf"]
    body = re.sub(r"<pre>.*?</pre>|<style>.*?</style>", "", html, flags=re.S)
    assert "\t" not in body and "\r" not in body
    assert re.findall(r"[^>\n]\n[^<\n]", body) == []  # no line break inside a text
    assert html.count("d\\tx\\ny.json") >= 3  # the title, the heading, the summary, the provenance
    document = json.loads(html_unescape(html.split("<pre>")[1].split("</pre>")[0]))
    assert json.loads((out / "recommendation.json").read_text()) == document  # the JSON keeps its own escapes


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.mark.parametrize("mode", [["--rule", "rf"], []], ids=["rule", "detector"])
def test_names_in_any_script_leave_stderr_empty(tmp_path: Path, mode: list[str]) -> None:
    """Category names in Japanese, Chinese and with an emoji: the report's figures draw them without a missing
    glyph (each character in an installed font that has it, or as its escape), so nothing reaches stderr; the
    page keeps the names as they are."""
    import warnings

    names = ["日本語の名前", "自行车", "🚗 car", "person"]
    data = _coco_named(tmp_path / "cjk.json", names)
    out = tmp_path / "rep"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = CliRunner().invoke(app, ["recommend", "-q", *mode, str(data), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert [str(w.message) for w in seen if "Glyph" in str(w.message)] == []
    assert result.stderr == f"wrote {out}/report.html\n"
    assert json.loads(result.stdout) == json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(f"<tr><td>{name}</td>" in html for name in names)  # the page shows them as written


def test_level_names_in_any_script_leave_stderr_empty(tmp_path: Path) -> None:
    """Levels named by a config in Chinese, Japanese and with a control character: every figure of the report
    (overlay lanes and legend, load bars, category columns, shapes) draws them with no missing glyph, the control
    character as an escape."""
    import warnings

    config = tmp_path / "net.yaml"
    config.write_text(
        'name: "网络"\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 4}\n'
        "  - {name: b, type: conv, kernel: 3, stride: 2}\n  - {name: c, type: conv, kernel: 3, stride: 2}\n"
        'outputs: {"层\\x1b1": a, "層2": b, "C3": c}\n',
        encoding="utf-8",
    )
    data = _coco_named(tmp_path / "d.json", ["cat", "dog"])
    out = tmp_path / "rep"
    argv = ["recommend", "-q", "--rule", "rf", str(data), "--backbone", str(config), "--neck", "none"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = CliRunner().invoke(app, [*argv, "--levels", "层\x1b1,層2,C3", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert [str(w.message) for w in seen if "Glyph" in str(w.message)] == []
    assert result.stderr == f"wrote {out}/report.html\n"


def test_level_names_with_control_characters_reach_no_terminal_raw(tmp_path: Path) -> None:
    """A config's level named with an escape character: the text output (its levels table, its sentences) shows
    it as ``\\x1b``, as the other names of the data are shown."""
    config = tmp_path / "net.yaml"
    config.write_text(
        "nodes:\n  - {name: a, type: conv, kernel: 3, stride: 4}\n"
        "  - {name: b, type: conv, kernel: 3, stride: 2}\n  - {name: c, type: conv, kernel: 3, stride: 2}\n"
        'outputs: {"P\\x1b1": a, "P2": b, "P3": c}\n',
        encoding="utf-8",
    )
    data = _coco_named(tmp_path / "d.json", ["cat", "dog"])
    argv = ["recommend", "-q", "--rule", "rf", str(data), "--backbone", str(config), "--neck", "none"]
    result = CliRunner().invoke(app, [*argv, "--levels", "P\x1b1,P2,P3"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "P\\x1b1" in result.stdout  # in the levels table, whose rows name every level


def _named(html_path: Path) -> tuple[str, str, str]:
    """The page title, the Summary's Dataset and the Provenance's Input of a report, as a browser shows them."""
    import html

    page = html_path.read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    rows = [re.search(rf"<dt>{key}</dt><dd>(.*?)</dd>", page, re.S) for key in ("Dataset", "Input")]
    assert title is not None and all(rows)
    return tuple(html.unescape(re.sub("<[^>]+>", "", m.group(1))).strip() for m in (title, *rows))  # type: ignore[return-value,union-attr]


def _two_shards(folder: Path) -> None:
    from scalematch.dataset import sample_path

    coco = json.loads(sample_path().read_text())
    folder.mkdir()
    for k in (0, 1):
        images = coco["images"][k::2]
        ids = {i["id"] for i in images}
        part = {**coco, "images": images, "annotations": [a for a in coco["annotations"] if a["image_id"] in ids]}
        (folder / f"p{k}.json").write_text(json.dumps(part))


@pytest.mark.parametrize("mode", [["--rule", "fpn"], ["--detector", "retinanet"]], ids=["rule", "detector"])
def test_a_report_of_several_inputs_names_them_as_the_text_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: list[str]
) -> None:
    """The page of several inputs (a list or a glob) was named after the last one's base name (p1.json, *.json),
    as if it held the whole dataset, and counted them as "2 inputs" where the text output says "2 files"."""
    monkeypatch.chdir(tmp_path)
    _two_shards(tmp_path / "shards")
    for given, named in (
        (["shards/p0.json", "shards/p1.json"], "shards/p0.json shards/p1.json (2 files)"),
        (["shards/*.json"], "shards/*.json (2 files)"),
    ):
        out = tmp_path / f"rep{len(given)}"
        result = CliRunner().invoke(app, ["recommend", "-q", *given, *mode, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{named}: 830 objects")
        assert _named(out / "report.html") == (
            f"scalematch report: {named}",
            f"{named} (coco, 100 images, 830 objects matched)",
            named,
        )


def test_the_current_folder_is_named_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``recommend .`` named the dataset '' (``: 6 objects``, an empty page title and Dataset), and ``--report``
    refused it quoting that empty name; ``.`` is named as typed, as ``stats`` and the JSON's source name it, and
    --report names the folder it stands for (here refused: the report would lie in the input folder)."""
    from PIL import Image

    data = tmp_path / "ds"
    (data / "images").mkdir(parents=True)
    (data / "labels").mkdir()
    for i in range(3):
        Image.new("RGB", (640, 480)).save(data / "images" / f"im{i}.jpg")
        (data / "labels" / f"im{i}.txt").write_text("0 0.5 0.5 0.2 0.3\n1 0.3 0.3 0.1 0.1\n")
    monkeypatch.chdir(data)
    for mode, line in ((["--rule", "fpn"], ".: 6 objects, resnet50 + fpn"), ([], ".: 6 objects\n")):
        result = CliRunner().invoke(app, ["recommend", "-q", ".", *mode, "--out", str(tmp_path / "rep"), "--force"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(line)
        assert _named(tmp_path / "rep" / "report.html") == (
            "scalematch report: .",
            ". (yolo, 3 images, 6 objects matched)",
            ". (folder)",
        )
    refused = CliRunner().invoke(app, ["recommend", "-q", ".", "--report"])
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: --report reports/ds: lies in the input folder .; choose a folder outside it\n",
    )
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["recommend", "-q", "ds/labels/..", "--rule", "fpn", "--report"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("ds/labels/..: 6 objects")
    assert _named(tmp_path / "reports" / "ds" / "report.html")[0] == "scalematch report: ds/labels/.."


def test_dataset_label_names_one_input_by_its_base_name_and_several_by_their_count(tmp_path: Path) -> None:
    from scalematch.report.provenance import dataset_label

    assert dataset_label("data/ann.json") == "ann.json"
    assert dataset_label(Path("data/VOC2007/")) == "VOC2007"
    no_base_name = [".", "./", "..", "../..", "/", "a/.."]
    assert [dataset_label(p) for p in no_base_name] == no_base_name  # as typed
    files = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.xml"]
    for file in files:
        file.write_text("{}")
    folders = [tmp_path / "voc_a", tmp_path / "voc_b"]
    for folder in folders:
        folder.mkdir()
    assert dataset_label("shards/*.json", (files[0], files[1])) == "shards/*.json (2 files)"
    assert dataset_label("voc_a voc_b", (*folders,)) == "voc_a voc_b (2 folders)"  # (not "2 files")
    assert dataset_label("c.xml voc_*", (files[2], *folders)) == "c.xml voc_* (3 inputs)"
