"""A name from the data is shown with its control characters as escapes and a literal backslash doubled, so that
two names never look the same (review round 32, F6): the category ``a<newline>b`` is ``a\\nb``, the category
``a\\nb`` (a backslash and an ``n``, as in a pasted Windows path or a regex) is ``a\\\\nb``, in the text table, the
HTML reports and the category figures. Paths are shown with their backslashes as typed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from typer.testing import CliRunner

import scalematch as sm

NAMES = ["a\nb", "a\\nb", "\x1b[0m", "\\x1b[0m"]
SHOWN = ["a\\nb", "a\\\\nb", "\\x1b[0m", "\\\\x1b[0m"]


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "c.json"
    categories = [{"id": k + 1, "name": name} for k, name in enumerate(NAMES)]
    annotations = [
        {"id": k + 1, "image_id": 1, "category_id": k + 1, "bbox": [10 + 5 * k, 10, 40 + 9 * k, 50], "area": 2000}
        for k in range(len(NAMES))
    ]
    image = {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}
    path.write_text(json.dumps({"images": [image], "annotations": annotations, "categories": categories}))
    return path


def test_the_helpers_show_each_name_one_way() -> None:
    from scalematch.report.style import figure_label, printable, shown_name

    assert [shown_name(n) for n in NAMES] == SHOWN
    assert [printable(shown_name(n)) for n in NAMES] == [figure_label(shown_name(n)) for n in NAMES] == SHOWN
    assert printable("C:\\data\\a.json") == "C:\\data\\a.json"  # (a path: its backslashes as typed)


def test_the_text_table_and_the_html_reports_tell_the_names_apart(app: typer.Typer, tmp_path: Path) -> None:
    data = _dataset(tmp_path)
    stats = CliRunner().invoke(app, ["stats", "-q", "--by-category", str(data)])
    assert stats.exit_code == 0, stats.output
    rows = [line.split()[1] for line in stats.stdout.splitlines() if re.match(r"\s+\d+ ", line)]
    assert rows == SHOWN
    for mode in (["--rule", "rf"], ["--detector", "retinanet"]):
        out = tmp_path / mode[1]
        result = CliRunner().invoke(app, ["recommend", "-q", str(data), *mode, "--out", str(out)])
        assert result.exit_code == 0, result.output
        html = (out / "report.html").read_text(encoding="utf-8")
        assert sorted(re.findall(r"<td>([^<]*(?:nb|0m))</td>", html)) == sorted(SHOWN), mode


def test_the_figures_tell_the_names_apart(tmp_path: Path) -> None:
    """The category figure; the overlay figure split by category labels its groups the same way."""
    import matplotlib.pyplot as plt

    design = sm.recommend(str(_dataset(tmp_path)), rule="rf")
    assert isinstance(design, sm.Design)
    assert design.data is not None
    table = design.data.to_frame()
    figures = [
        sm.category_figure(design.recommendation.full),
        sm.overlay_figure(table, design.recommendation, split="category"),
    ]
    try:
        for figure in figures:
            texts = [t.get_text() for ax in figure.axes for t in [*ax.get_yticklabels(), *ax.get_xticklabels()]]
            legends = [ax.get_legend() for ax in figure.axes]
            texts += [t.get_text() for legend in legends if legend is not None for t in legend.get_texts()]
            drawn = {text.rsplit(" (", 1)[0] for text in texts}
            assert set(SHOWN) <= drawn, texts
    finally:
        for figure in figures:
            plt.close(figure)
