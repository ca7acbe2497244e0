"""The HTML report and the report folder: self-contained, escaped, complete, written atomically."""

from __future__ import annotations

import base64
import hashlib
import html as html_text
import json
import re
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from scalematch.dataset import LoadResult, load, sample_path
from scalematch.errors import OptionError
from scalematch.match.design import Design, design
from scalematch.match.result import usable
from scalematch.match.rules import Rule
from scalematch.report.bundle import REPORT_HTML, ReportInput, build_report, write_report
from scalematch.report.html_report import render_html
from scalematch.report.provenance import provenance
from scalematch.report.recommend_text import recommend_document

DATA = Path(__file__).parent.parent / "data"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def files(coco: tuple[LoadResult, Design]) -> dict[str, bytes]:
    data, d = coco
    return build_report(ReportInput(data, d, (d,), command="scalematch recommend"))


def html_of(files: dict[str, bytes]) -> str:
    return files[REPORT_HTML].decode("utf-8")


def test_files_of_a_report(files: dict[str, bytes], coco: tuple[LoadResult, Design]) -> None:
    assert sorted(files) == sorted(["report.html", "recommendation.json", "overlay.png", "profile.png", "load.png",
                                    "categories.png", "shapes.png"])  # fmt: skip
    assert json.loads(files["recommendation.json"]) == recommend_document(coco[1], [coco[1]])


def test_self_contained(files: dict[str, bytes]) -> None:
    html = html_of(files)
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert len(sources) == 5
    embedded = [base64.b64decode(s.removeprefix("data:image/png;base64,")) for s in sources]
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    # the embedded images are exactly the PNG files written beside the page
    assert embedded == [files[f"{key}.png"] for key in ("overlay", "profile", "load", "categories", "shapes")]
    assert not re.search(r"(src|href)=\"(?!data:|#)", html)
    assert "<script" not in html and "<link" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the page itself forbids any other load


def test_summary_tables_and_provenance(files: dict[str, bytes], coco: tuple[LoadResult, Design]) -> None:
    html = html_of(files)
    rec = coco[1].recommendation
    assert "No run of levels reaches 99.0% under the rf rule; the best is P2-P5" in html
    for lv in rec.full.loads:
        assert re.search(rf"<td>{lv.level.name}( \*)?</td>(<td>[^<]*</td>){{5}}<td>{lv.count}</td>", html)
    assert "<td>person</td><td>250</td>" in html
    assert "9 crowd annotations" in html
    digest = hashlib.sha256(sample_path().read_bytes()).hexdigest()
    assert f"<code>{digest}</code>" in html
    assert "<code>scalematch recommend</code>" in html
    assert "coco_val2014_100.json (file)" in html
    assert re.search(r"<dt>Created</dt><dd>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00</dd>", html)


def test_category_table_counts_every_outcome(files: dict[str, bytes], coco: tuple[LoadResult, Design]) -> None:
    html = html_of(files)
    data, d = coco
    full = d.recommendation.full
    outcomes = ["too small", *(lv.name for lv in full.levels), "too large"]
    head = "".join(f"<th>{o}</th>" for o in outcomes)
    assert f"<th>category</th><th>objects</th>{head}<th>main outcome</th>" in html
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td>((?:<td>\d*</td>){7})<td>([^<]*)</td></tr>", html)
    assert full.per_category is not None
    assert len(rows) == len(full.per_category) == len(set(usable(data.table)["category"]))  # every category
    # brute force from the assignment: each category's objects per outcome
    cats = usable(data.table)["category"].astype(str).to_numpy()
    level = full.assignment.level
    index = {-1: 0, -2: len(outcomes) - 1, **{k: k + 1 for k in range(len(full.levels))}}
    for name, count, cells, main in rows:
        shown = [int(c) if c else 0 for c in re.findall(r"<td>(\d*)</td>", cells)]
        truth = [0] * len(outcomes)
        for lv in level[cats == name]:
            truth[index[int(lv)]] += 1
        assert shown == truth and sum(shown) == int(count), name
        best = max(range(len(outcomes)), key=lambda k: truth[k])
        assert main == f"{outcomes[best]} {100 * truth[best] / int(count):.0f}%"
    person = next(r for r in rows if r[0] == "person")
    assert person[3] == "too large 37%"  # 93 of 250: more than any level (P4 takes 66)


@pytest.mark.parametrize(
    ("rule", "levels", "shown"),
    [
        (Rule.RF, None, "rf (min cells 2, ERF factor 3: the longer side within ±3σ)"),
        (Rule.FPN, None, "fpn (canonical size 224 px at level 4)"),
        (Rule.FCOS, ["P3", "P4", "P5", "P6"], "fcos (ranges on max(w, h)/2: (0, 64], (64, 128], (128, 256], (256, ∞])"),
        (Rule.ANCHORS, None, "anchors (IoU ≥ 0.5 with the RetinaNet default anchors)"),
        (Rule.YOLO, ["P3", "P4", "P5"], "yolo (ratio &lt; 4 with the YOLOv5 default anchors)"),
    ],
)
def test_summary_shows_the_parameters_of_the_rule_used(
    coco: tuple[LoadResult, Design], rule: Rule, levels: list[str] | None, shown: str
) -> None:
    data = coco[0]
    d = design(data, "resnet50", "fpn", level_names=levels, rule=rule)
    prov = provenance(sample_path(), "scalematch recommend", None)
    summary = {"dataset": "x.json", "format": "coco", "images": 100, "objects": 830, "crowd": 0}
    html = render_html(d, [d], summary, [], recommend_document(d, [d]), prov)
    facts = html.split('<h2 id="summary">', 1)[1].split("</dl>", 1)[0]
    assert f"<dt>Rule</dt><dd>{shown}</dd>" in facts
    if rule is not Rule.RF:
        assert "min cells" not in facts and "ERF factor" not in facts


def test_dataset_strings_are_escaped(tmp_path: Path) -> None:
    doc = json.loads((DATA / "rbc_valid.json").read_text())
    doc["categories"][1]["name"] = EVIL
    doc["annotations"][0]["bbox"][2] = -3  # one bad record, reported by reason
    path = tmp_path / "<b>cells&.json"
    path.write_text(json.dumps(doc))
    data = load(path)
    d = design(data, "resnet50", "fpn")
    html = html_of(build_report(ReportInput(data, d, (d,), command=f"scalematch recommend '{path}'")))
    assert EVIL not in html and "<b>cells" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;cells&amp;.json" in html
    assert "<tr><td><code>bbox_nonpositive</code></td><td>1</td></tr>" in html


def test_sweep_adds_a_figure_and_a_table(coco: tuple[LoadResult, Design]) -> None:
    data, d = coco
    other = design(data, "resnet18", "fpn")
    files = build_report(ReportInput(data, d, (d, other)))
    assert "sweep.png" in files
    html = html_of(files)
    assert "Design sweep" in html and "<td>resnet18</td>" in html
    assert [r["backbone"] for r in json.loads(files["recommendation.json"])["sweep"]] == ["resnet18", "resnet50"]


def test_write_replaces_only_with_force(tmp_path: Path, files: dict[str, bytes]) -> None:
    out = tmp_path / "reports" / "coco"
    assert write_report(out, files) == out / REPORT_HTML
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    with pytest.raises(OptionError) as told:
        write_report(out, {REPORT_HTML: b"new"})
    assert str(told.value) == f"out {out}: a report is already there; pass force=True to replace it"  # Python's
    for not_a_flag in ("no", "False", 0, 1, None):  # never taken by its truth value
        with pytest.raises(OptionError, match=r"^force: expected True or False, got "):
            write_report(out, {REPORT_HTML: b"new"}, force=not_a_flag)  # type: ignore[arg-type]
    assert (out / REPORT_HTML).read_bytes() == files[REPORT_HTML]
    with pytest.raises(OptionError, match="pass force=True"):  # numpy's bools are bools
        write_report(out, {REPORT_HTML: b"newer"}, force=np.False_)  # type: ignore[arg-type]
    assert (out / REPORT_HTML).read_bytes() == files[REPORT_HTML]
    write_report(out, {REPORT_HTML: b"new"}, force=np.True_)  # type: ignore[arg-type]
    assert [p.name for p in out.iterdir()] == [REPORT_HTML]  # the old files went with the old report
    assert [p.name for p in out.parent.iterdir()] == ["coco"]  # no temporary folder left beside


def test_write_never_replaces_a_folder_that_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OptionError, match=r"holds other files and no report\.html; choose a new folder"):
        write_report(tmp_path, {REPORT_HTML: b"x"}, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    (tmp_path / REPORT_HTML).mkdir()  # a folder named as the page, which a report never writes
    with pytest.raises(OptionError) as told:
        write_report(tmp_path, {REPORT_HTML: b"x"}, force=True)
    assert str(told.value) == f"out {tmp_path}: its report.html is a folder, not a report's page; choose a new folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", REPORT_HTML]


def test_failed_write_keeps_the_old_report(tmp_path: Path) -> None:
    out = tmp_path / "r"
    write_report(out, {REPORT_HTML: b"old"})
    with pytest.raises(OptionError, match=rf"^out {out}: File name too long$"):  # fails after report.html
        write_report(out, {REPORT_HTML: b"new", "x" * 300 + ".png": b"x"}, force=True)
    assert (out / REPORT_HTML).read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_a_folders_digest_covers_the_files_behind_folder_links(tmp_path: Path) -> None:
    """The input digest of a VOC or YOLO folder hashes what the readers read: a split behind a link counts, once
    however many names reach it, and editing a file behind the link changes the digest."""
    from scalematch.report.provenance import sha256_of

    store = tmp_path / "store"
    store.mkdir()
    (store / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    ds = tmp_path / "ds"
    (ds / "labels").mkdir(parents=True)
    (ds / "labels" / "val.txt").write_text("x")
    (ds / "labels" / "train").symlink_to(store)
    expected = hashlib.sha256(b"labels/train/a.txt\0" + (store / "a.txt").read_bytes() + b"labels/val.txt\0x")
    assert sha256_of(ds) == expected.hexdigest()
    (store / "a.txt").write_text("1 0.5 0.5 0.1 0.1\n")
    assert sha256_of(ds) != expected.hexdigest()


def test_a_file_the_digest_cannot_read_is_named(tmp_path: Path) -> None:
    """A file of the dataset folder that cannot be read (here /proc/self/mem, which gives EIO at offset 0, as a
    failing disk would) ends the report in one line naming it, not an unnamed 'Input/output error'."""
    from scalematch.errors import DatasetError
    from scalematch.report.provenance import sha256_of

    ds = tmp_path / "ds"
    (ds / "images").mkdir(parents=True)
    (ds / "images" / "junk.bin").symlink_to("/proc/self/mem")
    with pytest.raises(DatasetError) as error:
        sha256_of(ds)
    assert str(error.value) == (
        f"{ds}/images/junk.bin: cannot be read for the report's input digest, which covers every file of the dataset "
        f"(Input/output error); make it readable or move it out of {ds}"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({REPORT_HTML: b"x", "../escaped.html": b"x"},
         "files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got str "
         "'../escaped.html'"),
        ({REPORT_HTML: b"x", "{abs}": b"x"}, None),
        ({REPORT_HTML: b"x", "a\\b.png": b"x"},
         "files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got str 'a\\\\b.png'"),
        ({REPORT_HTML: b"x", "..": b"x"},
         "files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got str '..'"),
        ({REPORT_HTML: b"x", 5: b"x"},
         "files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got int 5"),
        ({REPORT_HTML: "<html>"},
         "files: expected bytes as the content of 'report.html', got str '<html>' (encode text first: "
         "text.encode('utf-8'))"),
        ({REPORT_HTML: None}, "files: expected bytes as the content of 'report.html', got NoneType None"),
        ({}, "files: expected a report.html among the files (the folder is a report, and only a report folder is "
             "replaced later), got no file"),
        ({"page.html": b"x"}, "files: expected a report.html among the files (the folder is a report, and only a "
                              "report folder is replaced later), got 'page.html'"),
    ],
)  # fmt: skip
def test_write_report_writes_only_a_report_inside_its_folder(tmp_path: Path, files: Any, message: str | None) -> None:
    """File names that leave the folder, content that is no bytes and a folder without its page are refused
    before anything is written; report.html, the path returned, is always written (review round 18, F11)."""
    target = tmp_path / "deep" / "out"
    if "{abs}" in files:  # an absolute path (shown cut to 40 characters)
        files = {REPORT_HTML: b"x", str(tmp_path / "abs.html"): b"x"}
        message = "files: expected plain file names inside the folder (no '/' or '\\', not '.' or '..'), got str '/"
    assert message is not None
    with pytest.raises(OptionError) as caught:
        write_report(target, files)
    assert str(caught.value).startswith(message) if message.endswith("'/") else str(caught.value) == message
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the folder
    written = write_report(target, cast(Any, {REPORT_HTML: b"<html>", "a.png": bytearray(b"png")}))
    assert written == target / REPORT_HTML and written.read_bytes() == b"<html>"
    assert sorted(p.name for p in target.iterdir()) == ["a.png", REPORT_HTML]


def test_command_line_keeps_option_names_whole_and_the_text_as_given() -> None:
    from scalematch.report.html_report import command_line

    shown = command_line("scalematch recommend 'a <b>.json' --out x-y -q --resize=1,2 -- -n")
    assert str(shown) == (
        'scalematch recommend &#39;a &lt;b&gt;.json&#39; <span class="opt">--out</span> x-y '
        '<span class="opt">-q</span> <span class="opt">--resize</span>=1,2 -- <span class="opt">-n</span>'
    )
    assert html_text.unescape(re.sub(r"</?span[^>]*>", "", str(shown))) == (
        "scalematch recommend 'a <b>.json' --out x-y -q --resize=1,2 -- -n"
    )
