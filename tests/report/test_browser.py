"""The report in a real browser (headless Chromium): every image decodes and the page is not blank.

Marked ``browser``; skipped when no Chromium is installed, unless SCALEMATCH_REQUIRE_BROWSER=1 (set by
.ci/run, which installs Debian's ``chromium``) turns the skip into a failure.

The page forbids scripts (its Content-Security-Policy), so the image check runs on a copy with a probe script
added and the policy widened by exactly ``script-src 'unsafe-inline'``; Chromium's ``--dump-dom`` returns the
DOM after the load event, where the probe has written every image's ``naturalWidth``. The screenshot is taken
of the unmodified page.

Printed (``--print-to-pdf``), every row of the long table is on paper, whole and on one page, no heading is left at
the foot of a page and the JSON is printed open: the PDF's text, page after page, is read with poppler's
``pdftotext`` (Debian's ``poppler-utils``, installed by .ci/run) or, when it is importable, pypdf.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from scalematch.dataset import load, sample_path
from scalematch.match.design import design
from scalematch.report.bundle import ReportInput, build_report, write_report

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
         "--disable-extensions", "--virtual-time-budget=15000"]  # fmt: skip
PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(Array.from(document.images, (im) => [im.complete, im.naturalWidth]));
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("SCALEMATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("no chromium on PATH, and SCALEMATCH_REQUIRE_BROWSER=1")
        pytest.skip("no chromium on PATH")
    return found


def run_chromium(tmp: Path, *args: str) -> str:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"  # a fresh user-data-dir for every start
    done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    return done.stdout


def pdf_text(pdf: Path) -> str:
    """The text of ``pdf``, its pages separated by form feeds, its ligatures (the "ffi" of "traffic") spelled out."""
    tool = shutil.which("pdftotext")
    if tool is not None:
        done = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
        return unicodedata.normalize("NFKC", done.stdout)
    try:
        from pypdf import PdfReader  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        if os.environ.get("SCALEMATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("neither pdftotext nor pypdf, and SCALEMATCH_REQUIRE_BROWSER=1")
        pytest.skip("neither pdftotext nor pypdf to read the printed report")
    return unicodedata.normalize("NFKC", "\f".join(page.extract_text() for page in PdfReader(pdf).pages))


def probe_widths(tmp: Path, html: str) -> list[list[object]]:
    """``[complete, naturalWidth]`` of every image of ``html`` after the page has loaded."""
    probed = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    probed = probed.replace("</body>", PROBE + "\n</body>", 1)
    page = tmp / "probed.html"
    page.write_text(probed, encoding="utf-8")
    dom = run_chromium(tmp, "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    widths: list[list[object]] = json.loads(found.group(1))
    return widths


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = load(sample_path())
    d = design(data, "resnet50", "fpn")
    out = tmp_path_factory.mktemp("browser") / "report"
    return write_report(out, build_report(ReportInput(data, d, (d,))))


def test_every_image_loads(report: Path, tmp_path: Path) -> None:
    html = report.read_text(encoding="utf-8")
    widths = probe_widths(tmp_path, html)
    assert len(widths) == html.count("<img ") == 5
    assert all(complete and isinstance(w, int) and w > 0 for complete, w in widths), widths


def test_a_broken_image_is_caught(report: Path, tmp_path: Path) -> None:
    """The check can fail: one image with a corrupt data URI has naturalWidth 0."""
    html = report.read_text(encoding="utf-8")
    broken = re.sub(r'src="data:image/png;base64,[^"]{40}', 'src="data:image/png;base64,AAAA', html, count=1)
    widths = probe_widths(tmp_path, broken)
    assert [w for _, w in widths].count(0) == 1


def test_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, "--window-size=1200,2400", "--hide-scrollbars", f"--screenshot={shot}", report.as_uri())
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1200, 2400)
        gray = rgb.convert("L")
        ink = sum(gray.histogram()[:200]) / (rgb.size[0] * rgb.size[1])  # share of clearly non-white pixels
        colors = rgb.getcolors(maxcolors=1 << 20)
        assert ink > 0.05, f"only {ink:.1%} of the screenshot is drawn"
        assert colors is not None and len(colors) > 100  # text and figures, not a flat page
        assert max(ImageStat.Stat(rgb).stddev) > 20


TALL_ROWS = "<style>@media print { td { padding-top: 1.5rem; padding-bottom: 1.5rem; } }</style>\n</head>"


def row_pattern(cells: list[str]) -> re.Pattern[str]:
    """A printed line holding exactly ``cells``, in order, apart from the spacing between words."""
    words = [re.escape(word) for cell in cells for word in cell.split()]
    return re.compile(r"^\s*" + r"\s+".join(words) + r"\s*$")


@pytest.mark.parametrize("tall", [False, True], ids=["rows", "tall-rows"])
@pytest.mark.parametrize("mode", [[], ["--rule", "rf"]], ids=["detector", "rule"])
def test_printed_report_keeps_every_category_row_whole(mode: list[str], tall: bool, tmp_path: Path) -> None:
    """On screen a long table is a scroll box; on paper (print, "Save as PDF") every row is printed once, whole,
    on one page under the table's header; no page ends with a heading, the "Categories" heading is on the page
    where its table starts, and the collapsed JSON is printed open. With ``tall`` the rows are made so tall (a
    print-only padding added to the copy printed) that a page break would almost surely fall inside one if rows
    could be split."""
    from typer.testing import CliRunner

    from scalematch.cli.main import app

    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["recommend", "-q", "--out", str(out), *mode])
    assert result.exit_code == 0, result.output
    page = out / "report.html"
    source = page.read_text(encoding="utf-8")
    if tall:
        page = tmp_path / "tall.html"
        page.write_text(source.replace("</head>", TALL_ROWS, 1), encoding="utf-8")
    section = source.split('<h2 id="categories">', 1)[1].split("<h2", 1)[0].split("<tbody>", 1)[1]
    rows = [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", tr)] for tr in re.findall(r"<tr>(.*?)</tr>", section)
    ]
    assert len(rows) > 40  # more rows than the scroll box shows on screen
    pdf = tmp_path / "report.pdf"
    run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    pages = [p.splitlines() for p in pdf_text(pdf).split("\f")]
    header = re.compile(r"^\s*category\s+objects\s")
    for cells in rows:
        starts = re.compile(rf"^\s*{re.escape(cells[0])}(\s|$)")
        found = [(n, line) for n, lines in enumerate(pages) for line in lines if starts.search(line)]
        assert len(found) == 1, f"row {cells[0]!r} printed {len(found)} times: {found}"  # a cut row: twice
        n, line = found[0]
        assert row_pattern(cells).search(line), f"row {cells} printed as {line!r}"
        assert any(header.search(line) for line in pages[n]), f"row {cells[0]!r}: page {n + 1} has no header"
    headings = {html.unescape(h) for h in re.findall(r"<h2 id=\"[\w-]+\">(.*?)</h2>", source)}
    ends = [[line.strip() for line in lines if line.strip()][-1:] for lines in pages]
    assert not [end for end in ends if end and end[0] in headings], "a page ends with a heading"
    heading = [n for n, lines in enumerate(pages) if any(line.strip() == "Categories" for line in lines)]
    assert len(heading) == 1
    assert any(row_pattern(rows[0]).search(line) for line in pages[heading[0]]), "the heading is alone"
    document = json.loads((out / "recommendation.json").read_text(encoding="utf-8"))
    printed = "\n".join("\n".join(lines) for lines in pages)
    assert all(f'"{key}":' in printed for key in document), "the JSON is not printed"


def test_printed_command_keeps_option_names_whole(report: Path, tmp_path: Path) -> None:
    """A browser may break a line after a hyphen: the provenance's ``--out`` was printed as ``-`` at the end of a
    line and ``-out`` at the start of the next; and a path longer than the line ran off the page. Commands of 40
    lengths, some putting ``--out`` at the edge of the line, some with a path wider than the page, are printed in
    the report's Provenance: every one is on paper, its ``--out`` on one line."""
    from scalematch.report.html_report import command_line

    page = report.read_text(encoding="utf-8")
    commands = [f"scalematch recommend /data/{'a' * k}/ann.json --out rep" for k in range(40, 120, 2)]
    lines = "".join(f"<dt>Command</dt><dd><code>{command_line(c)}</code></dd>\n" for c in commands)
    printed = tmp_path / "commands.html"
    printed.write_text(re.sub(r"<dt>Command</dt><dd>.*?</dd>\n", lambda _: lines, page, count=1), encoding="utf-8")
    pdf = tmp_path / "commands.pdf"
    run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", printed.as_uri())
    text = pdf_text(pdf)
    assert text.count("--out rep") + len(re.findall(r"--out\s*\n\s*rep\b", text)) == len(commands), text
    assert not re.search(r"-\s*\n\s*-?out\b", text)
