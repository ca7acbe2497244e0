"""``scalematch profile`` / ``backbones`` output: golden files, each checked against invariants too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from scalematch.cli.main import app
from scalematch.profile import catalogue


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_table_resnet50_outputs(golden: Callable[[str, str], None]) -> None:
    text = run("profile", "resnet50", "--outputs-only")
    golden("profile_resnet50_outputs.txt", text)
    rows = [line.split() for line in text.splitlines() if line.startswith(("conv1 ", "layer"))]
    # invariant: name, output, type, ... rf column matches the reference numbers
    assert [(r[1], r[-6]) for r in rows] == [
        ("C1", "7"),
        ("C2", "35"),
        ("C3", "91"),
        ("C4", "267"),
        ("C5", "427"),
    ]


def test_json_resnet50_fpn(golden: Callable[[str, str], None]) -> None:
    text = run("profile", "resnet50", "--neck", "fpn", "--size", "1333x800", "--json")
    golden("profile_resnet50_fpn_800x1333.json", text)
    doc = json.loads(text)
    assert doc["backbone"] == "resnet50" and doc["neck"] == "fpn" and doc["input_size"] == [800, 1333]  # [y, x]
    maps = doc["feature_maps"]
    assert [m["output"] for m in maps if m["tap"]] == [
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
        "P2",
        "P3",
        "P4",
        "P5",
        "P6",
    ]
    for m in maps:
        assert set(m) == {
            "name",
            "type",
            "layer",
            "stride",
            "rf",
            "padding",
            "center",
            "spatial_scale",
            "spatial_scale_area",
            "overlap",
            "erf_sigma",
            "size",
            "tap",
            "output",
        }
        for a in (0, 1):
            assert m["spatial_scale"][a] <= m["rf"][a]
            assert 0 <= m["overlap"][a] <= 1
            assert 0 < m["erf_sigma"][a] < m["rf"][a] / 2
        assert m["spatial_scale_area"] <= m["spatial_scale"][0] * m["spatial_scale"][1]
    levels = {m["output"]: m for m in maps if m["tap"]}
    for k in range(2, 7):
        p = levels[f"P{k}"]
        assert p["stride"] == [2**k, 2**k]
        assert p["size"] == [-(-800 // 2**k), -(-1333 // 2**k)]  # every level is ceil(input / stride) here
        assert p["rf"][0] >= levels["C5"]["rf"][0]  # top-down path: every P level sees C5
    for m in maps:  # a period-1 map: centre of unit 0 = (rf - 1) / 2 - padding
        if m["name"].startswith(("conv1", "layer")):
            assert m["center"][0] == (m["rf"][0] - 1) / 2 - m["padding"][0] == 0


def test_backbones_json_lists_every_config() -> None:
    doc = json.loads(run("backbones", "--json"))
    names = {e["name"] for e in doc}
    configs = Path(__file__).resolve().parents[2] / "configs"
    assert names == {p.stem for kind in ("backbones", "necks") for p in (configs / kind).glob("*.yaml")}
    required = {
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50-caffe",
        "vgg16",
        "mobilenet_v2",
        "resnext50_32x4d",
        "vgg16-ssd",
        "mobilenet_v1",
        "mobilenet_v3_large",
        "efficientnet_b0",
        "cspdarknet",
        "darknet53",
        "convnext_tiny",
        "regnetx_400mf",
        "fpn",
        "fpn-retinanet",
        "fpn-fcos",
        "pan",
        "ssd",
    }
    assert required <= names
    assert sum(e["kind"] == "backbone" for e in doc) >= 15
    for e in doc:
        if e["name"] == "vgg16-ssd":  # SSD's VGG stays at stride 16 after conv5_3 (pool5 is 3x3/1): no C5
            assert e["outputs"] == ["C1", "C2", "C3", "C4"]
        elif e["kind"] == "backbone" and e["name"] != "seed-resnet50":
            assert e["outputs"][-4:] == ["C2", "C3", "C4", "C5"], e["name"]
        assert e["convention"], f"{e['name']} must say which source convention it follows"
    assert doc == catalogue()


def ydata(line: Any) -> list[float]:
    return [float(v) for v in line.get_ydata()]


def test_plot_draws_the_profile(tmp_path: Path) -> None:
    from scalematch.profile import build, profile
    from scalematch.report.profile_plot import main_path, profile_figure

    p = profile(build("resnet50"))
    fig = profile_figure(p)
    ax = fig.axes[0]
    union, rf, erf = ax.lines[:3]
    path = main_path(p)
    assert ydata(union) == [1] + [fm.x.union for _, fm in path if fm.x]
    assert ydata(rf) == [1] + [fm.x.rf for _, fm in path if fm.x]
    assert ydata(erf) == [0.0] + [2 * fm.x.erf_sigma for _, fm in path if fm.x]
    assert max(ydata(union)) == 427
    assert sorted(t.get_text() for t in ax.texts) == ["C1", "C2", "C3", "C4", "C5"]
    assert fig.axes[1].get_yscale() == "log"  # the stride axis
    out = tmp_path / "p.png"
    run("profile", "resnet50", "--plot", str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [f.name for f in tmp_path.iterdir()] == ["p.png"]  # no temporary file left behind


def test_sizes_are_width_first_and_the_old_height_first_option_warns() -> None:
    new = CliRunner().invoke(app, ["profile", "resnet50", "--size", "1333x800", "--json"])
    old = CliRunner().invoke(app, ["profile", "resnet50", "--input-size", "800x1333", "--json"])
    assert new.exit_code == old.exit_code == 0
    assert new.stdout == old.stdout
    assert new.stderr == ""
    assert old.stderr == (
        "warning: --input-size is deprecated: it reads height first (HxW); use --size 1333x800 (width first)\n"
    )
    conv1 = json.loads(new.stdout)["feature_maps"][0]
    assert conv1["size"] == [400, 667]  # the JSON pairs are [y, x]: 800 / 2 rows, ceil(1333 / 2) columns
    table = run("profile", "resnet50", "--size", "1333x800", "--outputs-only")
    assert "resnet50: 70 feature maps, input 1333x800 (WxH)" in table
    c5 = next(line.split() for line in table.splitlines() if line.startswith("layer4.2.add"))
    assert c5[-1] == "42x25"  # width 1333 / 32 rounded up, height 800 / 32
    both = CliRunner().invoke(app, ["profile", "resnet50", "--size", "1333x800", "--input-size", "800x1333"])
    assert both.stderr == "Error: --size and --input-size: give the size once, as --size WxH (width first)\n"


def test_a_neck_without_convention_adds_no_empty_neck_line(tmp_path: Path) -> None:
    """The header printed ``Neck:`` with nothing after it for a neck config without ``convention`` (review round 11,
    F17); a neck's convention still follows the backbone's."""
    neck = tmp_path / "nk.yaml"
    text = "name: nk\nkind: neck\ninputs: [C5]\nnodes:\n  - {name: x, type: conv, kernel: 1, input: C5}\n"
    text += "outputs: {P5: x}\n"
    neck.write_text(text)
    header = run("profile", "resnet50", "--neck", str(neck)).split("\n\n")[0].splitlines()
    assert header[0] == "resnet50+nk: 71 feature maps"
    assert not any(line.strip().startswith("Neck:") for line in header)
    neck.write_text(text.replace("kind: neck\n", "kind: neck\nconvention: one 1x1 conv on C5\n"))
    header = run("profile", "resnet50", "--neck", str(neck)).split("\n\n")[0].splitlines()
    assert header[-1] == "  Neck: one 1x1 conv on C5"


def test_the_layer_column_shows_groups_and_a_transposed_convs_dilation_and_output_padding(tmp_path: Path) -> None:
    path = tmp_path / "layers.yaml"
    path.write_text(
        "nodes:\n"
        "  - {name: c1, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: dw, type: dwconv, kernel: 5, padding: 2, groups: 4}\n"
        "  - {name: up, type: deconv, kernel: 3, stride: 3, dilation: 2, padding: 0, output_padding: 1}\n"
        "  - {name: cv, type: conv, kernel: 3, stride: 1, dilation: 2, padding: 2}\n"
    )
    rows = {line.split()[0]: line.split()[1:] for line in run("profile", str(path)).splitlines()[3:] if line}
    assert rows["dw"][:4] == ["conv", "k5", "s1", "g4"]
    assert rows["up"][:6] == ["deconv", "k3", "s3", "d2", "op1", "(transposed)"]
    maps = json.loads(run("profile", str(path), "--json"))["feature_maps"]
    assert [(m["type"], m["layer"]) for m in maps] == [
        ("conv", "k3 s2"),
        ("conv", "k5 s1 g4"),
        ("deconv", "k3 s3 d2 op1 (transposed)"),
        ("conv", "k3 s1 d2"),
    ]
