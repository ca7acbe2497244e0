"""reports/example/ is the current report of the bundled sample (regenerate: python reports/make_example.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scalematch.dataset import load, sample_path
from scalematch.match.design import design
from scalematch.report.recommend_text import recommend_document

EXAMPLE = Path(__file__).resolve().parents[2] / "reports" / "example"


def test_example_is_current() -> None:
    d = design(load(sample_path()), "resnet50", "fpn")
    assert json.loads((EXAMPLE / "recommendation.json").read_text()) == recommend_document(d, [d]), (
        "reports/example is stale: run python reports/make_example.py"
    )
    html = (EXAMPLE / "report.html").read_text(encoding="utf-8")
    shown = html.replace('<span class="opt">', "").replace("</span>", "")  # the option names kept whole on a line
    assert "<code>scalematch recommend --quiet --rule rf --out reports/example --force</code>" in shown
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 5
    names = sorted(p.name for p in EXAMPLE.iterdir())
    assert names == ["categories.png", "load.png", "overlay.png", "profile.png", "recommendation.json",
                     "report.html", "shapes.png"]  # fmt: skip


def test_report_page_shows_the_overlay_and_links_the_report() -> None:
    page = (EXAMPLE.parents[1] / "docs" / "reference" / "report.md").read_text(encoding="utf-8")
    assert "](../../reports/example/overlay.png)" in page
    assert "](../../reports/example/report.html)" in page
    assert "How to read the overlay" in page


def test_readme_shows_the_detector_example() -> None:
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "](reports/detector-example/positives.png)" in readme
    assert "](reports/detector-example/report.html)" in readme


def test_detector_example_is_current() -> None:
    from scalematch.match.detector import evaluate
    from scalematch.presets import load_preset
    from scalematch.report.positives_text import document

    preset = load_preset("retinanet")
    result = evaluate(load(sample_path(), resize=preset.resize_policy()), preset)
    folder = EXAMPLE.parent / "detector-example"
    stored = json.loads((folder / "recommendation.json").read_text())
    data = load(sample_path(), resize=preset.resize_policy())
    expected = document(preset, result.summary, 0.99, str(sample_path()), result.search, data.excluded)
    assert stored == json.loads(json.dumps(expected)) | {"source": stored["source"]}, (
        "reports/detector-example is stale: run python reports/make_example.py"
    )
    html = (folder / "report.html").read_text(encoding="utf-8")
    shown = html.replace('<span class="opt">', "").replace("</span>", "")  # the option names kept whole on a line
    assert "<code>scalematch recommend --quiet --out reports/detector-example --force</code>" in shown
    assert sorted(p.name for p in folder.iterdir()) == [
        "positives.png",
        "profile.png",
        "recommendation.json",
        "report.html",
    ]
