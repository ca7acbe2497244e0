"""Resize policies, format detection, the load API's contracts."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalematch.dataset import load, parse_policy
from scalematch.dataset.resize import Fixed, LongestEdge, MultiScale, NoResize, ShortestEdge, scales
from scalematch.errors import DatasetError, OptionError

DATA = Path(__file__).parent.parent / "data"


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("none", NoResize()),
        ("shortest-edge:800,1333", ShortestEdge(800, 1333)),
        (" Longest-Edge:640 ", LongestEdge(640)),
        ("fixed:300x200", Fixed(300, 200)),
        ("multi-scale:640-800,1333", MultiScale(640, 800, 1333)),
    ],
)
def test_parse_policy(text: str, policy: object) -> None:
    parsed = parse_policy(text)
    assert parsed == policy
    assert parse_policy(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "shortest-edge:800", "fixed:300", "fixed:0x3", "multi-scale:800-640,1333", "x"])
def test_parse_policy_refuses(text: str) -> None:
    with pytest.raises(OptionError, match=r"^resize: expected one of none, shortest-edge:S,L, .* got "):
        parse_policy(text)


def test_scales_by_hand() -> None:
    w = np.array([640.0, 2000.0, 480.0])
    h = np.array([480.0, 500.0, 640.0])
    sx, sy = scales(ShortestEdge(800, 1333), w, h)
    assert sx.tolist() == [800 / 480, 1333 / 2000, 800 / 480] and sy.tolist() == sx.tolist()
    sx, _ = scales(LongestEdge(640), w, h)
    assert sx.tolist() == [1.0, 640 / 2000, 1.0]
    sx, sy = scales(Fixed(300, 300), w, h)
    assert sx.tolist() == [300 / 640, 300 / 2000, 300 / 480] and sy.tolist() == [
        300 / 480,
        300 / 500,
        300 / 640,
    ]
    lo, _ = scales(MultiScale(640, 800, 1333), w, h)
    hi, _ = scales(MultiScale(640, 800, 1333), w, h, high=True)
    assert lo.tolist() == [640 / 480, 1333 / 2000, 640 / 480] and hi.tolist() == [
        800 / 480,
        1333 / 2000,
        800 / 480,
    ]


@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 2000), st.integers(1, 4000))
def test_shortest_edge_keeps_both_limits(w: int, h: int, short: int, long: int) -> None:
    s, _ = scales(ShortestEdge(short, long), np.array([float(w)]), np.array([float(h)]))
    new_short, new_long = min(w, h) * s[0], max(w, h) * s[0]
    assert new_short <= short * (1 + 1e-12) and new_long <= long * (1 + 1e-12)
    assert np.isclose(new_short, short) or np.isclose(new_long, long)


def test_inputs_are_not_modified(tmp_path: Path) -> None:
    before = hashlib.sha256((DATA / "rbc_valid.json").read_bytes()).hexdigest()
    load(DATA / "rbc_valid.json", resize="fixed:300x300")
    assert hashlib.sha256((DATA / "rbc_valid.json").read_bytes()).hexdigest() == before


def test_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    load(DATA / "fce_lvis_val_100.json", progress=lambda done, total: seen.append((done, total)))
    size = (DATA / "fce_lvis_val_100.json").stat().st_size
    assert seen and seen[-1] == (size, size)


def test_detection_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"cannot tell the annotation format of this folder"):
        load(tmp_path / "empty")
    with pytest.raises(OptionError, match=r"^format: expected one of coco, voc, yolo, got 'csv'$"):
        load(DATA / "rbc_valid.json", format="csv")


def test_a_vocdevkit_root_is_detected_as_voc(tmp_path: Path) -> None:
    """VOCdevkit/VOC2007/Annotations: the root is VOC as its year folder is (--format voc reads it alike)."""
    xml = (
        "<annotation><filename>a.jpg</filename><size><width>64</width><height>48</height></size><object><name>dog"
        "</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object></annotation>"
    )
    ann = tmp_path / "VOCdevkit" / "VOC2007" / "Annotations"
    ann.mkdir(parents=True)
    (ann / "a.xml").write_text(xml)
    found = load(tmp_path / "VOCdevkit", resize="none")
    assert found.format == "voc"
    assert found.table[["x", "y", "w", "h"]].values.tolist() == [[1.0, 2.0, 19.0, 28.0]]  # xmin - 1, xmax - xmin + 1
    assert found.table.equals(load(tmp_path / "VOCdevkit", format="voc", resize="none").table)


def test_library_imports_stay_light_and_one_way() -> None:
    code = (
        "import sys, scalematch.dataset, scalematch.dataset.loader, scalematch.dataset.stats;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pandas', 'numpy', 'matplotlib', 'typer')"
        " or m.startswith(('scalematch.profile', 'scalematch.match', 'scalematch.report'))];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
