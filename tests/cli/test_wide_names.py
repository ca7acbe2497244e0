"""Names from the data with CJK characters, emoji (two terminal columns each), combining marks and zero-width
characters (none) keep the text tables' columns aligned: the cells are padded to the columns a terminal gives
them, not to their count of characters, and a name cut to its column is cut by its columns."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

LONG = "这是一个非常长的类别名称用于测试截断效果"  # (40 columns: cut to 24)
NAMES = ["汽车", "🚗 car", "cafe\u0301", "a\u200bb", "person", LONG, "e\u0301" * 30]


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "wide.json"
    categories = [{"id": k + 1, "name": name} for k, name in enumerate(NAMES)]
    annotations = [
        {"id": k + 1, "image_id": 1, "category_id": k + 1, "bbox": [10, 10, 20 + 9 * k, 30 + 7 * k], "area": 2000}
        for k in range(len(NAMES))
    ]
    image = {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}
    path.write_text(json.dumps({"images": [image], "annotations": annotations, "categories": categories}))
    return path


def test_the_category_table_keeps_its_columns(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["stats", "-q", "--by-category", str(_dataset(tmp_path))])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-len(NAMES) - 1 :] == [
        "per category                          n    small   medium    large  size_in q50",
        "      1 汽车                          1        0        1        0         40.8",
        "      2 🚗 car                        1        0        1        0         54.6",
        "      3 cafe\u0301                          1        0        1        0         68.2",
        "      4 a\\u200bb                      1        0        1        0         81.6",
        "      5 person                        1        0        1        0         95.0",
        "      6 这是一个非常长...断效果       1        0        1        0        108.3",
        "      7 " + "e\u0301" * 14 + "..." + "e\u0301" * 7 + "      1        0        1        0        121.7",
    ]


def test_the_category_table_widens_a_column_for_a_long_id(app: typer.Typer, tmp_path: Path) -> None:
    """The head's column names end where their numbers do, and an id of more than 5 digits widens its column."""
    path = tmp_path / "ids.json"
    categories = [{"id": 7, "name": "汽车"}, {"id": 12345678, "name": "car"}]
    annotations = [
        {"id": k + 1, "image_id": 1, "category_id": c["id"], "bbox": [10, 10, 40, 30], "area": 1200}
        for k, c in enumerate(categories)
    ]
    image = {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}
    path.write_text(json.dumps({"images": [image], "annotations": annotations, "categories": categories}))
    result = CliRunner().invoke(app, ["stats", "-q", "--by-category", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        "per category                             n    small   medium    large  size_in q50",
        "         7 汽车                          1        0        1        0         57.7",
        "  12345678 car                           1        0        1        0         57.7",
    ]


def test_the_profile_table_keeps_its_columns(app: typer.Typer, tmp_path: Path) -> None:
    """Node and output names from a config (every table goes through the one formatter)."""
    config = tmp_path / "wide.yaml"
    nodes = "\n".join(
        f'  - {{name: "{name}", type: conv, kernel: 3, stride: 2, padding: 1}}'
        for name in ("汽车", "cafe\\u0301", "🚗 car", "a\\u200bb")
    )
    config.write_text(f'name: wide\nnodes:\n{nodes}\noutputs: {{汽: 汽车, C4: "a\\u200bb"}}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["profile", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2:] == [
        "name      out  type  layer  stride  rf  pad  scale  overlap  erf_sigma  size",
        "汽车      汽   conv  k3 s2       2   3    1      3    0.333        0.8     -",
        "cafe\u0301           conv  k3 s2       4   7    3      7    0.429        1.8     -",
        "🚗 car         conv  k3 s2       8  15    7     15    0.467        3.7     -",
        "a\\u200bb  C4   conv  k3 s2      16  31   15     31    0.484        7.5     -",
    ]
