"""Presets changed in Python (:func:`scalematch.presets.override`) are held to the checks of a preset YAML file:
one code path, the same message for the same value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from required import need

from scalematch.errors import ConfigError, OptionError
from scalematch.presets import builtin_presets, load_preset, override
from scalematch.presets.load import preset_data
from scalematch.presets.preset import TorchvisionAnchors


@pytest.mark.parametrize("name", sorted(builtin_presets()))
def test_every_builtin_reads_back_from_its_mapping(name: str, tmp_path: Path) -> None:
    """The mapping override() validates is the preset's YAML: written out and loaded, it gives the same preset."""
    import yaml

    preset = load_preset(name)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(preset_data(preset)), encoding="utf-8")
    assert load_preset(path) == replace(preset, path=str(path))
    assert override(preset) == preset


@pytest.mark.parametrize(
    ("changes", "key", "expected"),
    [
        ({"assigner.high": 5}, "assigner.high", "a number in (0, 1], got 5"),
        ({"assigner.low": -3}, "assigner.low", "a number in (0, 1], got -3"),
        ({"assigner.high": "0.6"}, "assigner.high",
         "a number in (0, 1], got '0.6' (text, not a number: write 0.6 without quotes)"),
        ({"levels": ["P3", "P3", "P4", "P5", "P6"]}, "levels", "each level once, got ['P3', 'P3', 'P4', 'P5', 'P6']"),
        ({"levels": ("P3", "P5", "P4", "P6", "P7")}, "levels",
         "levels in increasing stride order without a gap, as --levels takes them (e.g. [P3, P4, P5]), got "
         "['P3', 'P5', 'P4', 'P6', 'P7']"),
        ({"levels": ("P3", "P4")}, "anchors", "one entry per level (2), got 5"),
        ({"input.min_size": 10**9}, "input.min_size", "an integer in (0, 16384], got 1000000000"),
        ({"backbone": ""}, "backbone", "a non-empty string, got ''"),
    ],
)  # fmt: skip
def test_override_refuses_what_a_yaml_file_may_not_hold(
    changes: dict[str, object], key: str, expected: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        override(load_preset("retinanet"), **changes)
    assert str(caught.value) == f"override of preset retinanet: key '{key}': expected {expected}"


ONE_ATSS_ANCHOR = "one anchor per location for assigner atss (one ratio and one scale per level)"


@pytest.mark.parametrize(
    ("changes", "key", "shown"),
    [
        ({"anchors.ratios": (0.5, 1.0, 2.0)}, "anchors.ratios", "[0.5, 1.0, 2.0]"),
        ({"anchors.scales_per_octave": 2}, "anchors.scales_per_octave", "2"),
        ({"anchors.ratios": (0.5, 1.0), "anchors.scales_per_octave": 2}, "anchors.ratios", "[0.5, 1.0]"),
        ({"anchors": TorchvisionAnchors(((32.0,),) * 5, (0.5, 1.0))}, "anchors.aspect_ratios", "[0.5, 1.0]"),
        ({"anchors": TorchvisionAnchors(((32.0, 40.0),) * 5, (1.0,))}, "anchors.sizes",
         "[" + ", ".join(["[32.0, 40.0]"] * 5) + "]"),
    ],
)  # fmt: skip
def test_atss_is_refused_more_than_one_anchor_per_location(changes: dict[str, object], key: str, shown: str) -> None:
    """The ATSS simulation ranks one anchor per location (mmdetection's ATSSAssigner ranks each of them): several
    ratios, scales or sizes are refused, naming the key, for either anchor kind ATSS takes."""
    with pytest.raises(ConfigError) as caught:
        override(load_preset("atss"), **changes)
    assert str(caught.value) == f"override of preset atss: key '{key}': expected {ONE_ATSS_ANCHOR}, got {shown}"


def test_atss_with_one_anchor_of_another_shape_is_taken() -> None:
    changed = override(load_preset("atss"), **{"anchors.ratios": (2.0,), "anchors.octave_base_scale": 6})
    assert changed.anchors.per_level() == 1


def test_the_yaml_loader_gives_the_same_words(tmp_path: Path) -> None:
    text = builtin_presets()["retinanet"].read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("high: 0.5", "high: 5"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_preset(bad)
    assert str(caught.value) == f"{bad}: key 'assigner.high': expected a number in (0, 1], got 5"


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("anchor_t: 4.0", "anchor_t: 4.0e0", "assigner.anchor_t", "a number in (0, 1000], got '4.0e0'"),
        ("anchor_t: 4.0", "anchor_t: 4e0", "assigner.anchor_t", "a number in (0, 1000], got '4e0'"),
    ],
)  # fmt: skip
def test_a_yaml_11_exponent_is_named_as_text(tmp_path: Path, old: str, new: str, key: str, expected: str) -> None:
    """PyYAML (YAML 1.1) reads 4e0 and 4.0e0 as strings: the error said only "got '4.0e0'" of a value in range."""
    text = builtin_presets()["yolov5"].read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "y5.yaml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_preset(bad)
    shown = expected.rsplit("got ", 1)[1].strip("[]").split(", ")[-1]
    assert str(caught.value) == (
        f"{bad}: key '{key}': expected {expected} (YAML reads {shown} as text: an exponent needs a dot and a "
        "sign, as 4.0e+0, or write the number plainly, as 4.0)"
    )


def test_a_config_number_read_as_text_is_named_so(tmp_path: Path) -> None:
    from scalematch.profile.api import build

    config = tmp_path / "e.yaml"
    config.write_text("nodes:\n  - {name: a, type: conv, kernel: 3, stride: 1e0}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build(str(config))
    assert str(caught.value).endswith(
        "'stride' must be a positive integer or [h, w], got '1e0' (YAML reads '1e0' as text: write the integer "
        "plainly, as 1)"
    )


def test_override_still_names_unknown_fields_and_keeps_good_changes() -> None:
    retinanet = load_preset("retinanet")
    with pytest.raises(OptionError, match="no field 'nope'"):
        override(retinanet, nope=1)
    changed = override(retinanet, **{"assigner.high": 0.6, "assigner.low": 0.5})
    assert (changed.assigner.high, changed.assigner.low) == (0.6, 0.5)  # type: ignore[union-attr]
    assert changed.path == retinanet.path


def test_relative_network_paths_are_taken_from_the_preset_s_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preset's backbone and neck files are found next to it from any current folder; names, torch specs and
    absolute paths are kept as written."""
    import yaml

    from scalematch.profile.importers.config import config_dir

    folder = tmp_path / "presets"
    (folder / "nets").mkdir(parents=True)
    (folder / "nets" / "bb.yaml").write_bytes((config_dir() / "backbones" / "resnet18.yaml").read_bytes())
    (folder / "nk.yaml").write_bytes((config_dir() / "necks" / "fpn-retinanet.yaml").read_bytes())
    data = preset_data(load_preset("retinanet"))
    (folder / "mine.yaml").write_text(yaml.safe_dump({**data, "backbone": "nets/bb.yaml", "neck": "nk.yaml"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    preset = load_preset(Path("..") / "presets" / "mine.yaml")
    assert (preset.backbone, preset.neck) == (str(Path("../presets/nets/bb.yaml")), str(Path("../presets/nk.yaml")))
    absolute = str(folder / "nk.yaml")
    for backbone, neck in (("resnet18", "fpn-retinanet"), ("torchvision.models:resnet18", absolute)):
        (folder / "other.yaml").write_text(yaml.safe_dump({**data, "backbone": backbone, "neck": neck}))
        assert (load_preset(folder / "other.yaml").backbone, load_preset(folder / "other.yaml").neck) == (
            backbone, neck)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "integer", "note"),
    [
        ("9e0", True, " (YAML reads '9e0' as text: write the integer plainly, as 9)"),
        (["1", "-2e0"], True, " (text, not a number: write 1 without quotes)"),
        ("-2e0", True, " (YAML reads '-2e0' as text: write the integer plainly, as -2)"),
        ("2.5e0", True, " (YAML reads '2.5e0' as text: this key takes an integer)"),
        ("9e300", True, " (YAML reads '9e300' as text: this key takes an integer)"),  # not 301 digits
        ("2.5", True, " (text, not a number, and this key takes an integer)"),
        ("9e0", False, " (YAML reads '9e0' as text: an exponent needs a dot and a sign, as 4.0e+0, or write the "
                       "number plainly, as 4.0)"),
        ("9.0", False, " (text, not a number: write 9.0 without quotes)"),
        ("nan", True, ""),
        (9.0, True, ""),
    ],
)  # fmt: skip
def test_the_note_on_a_number_read_as_text_tells_what_the_key_takes(value: object, integer: bool, note: str) -> None:
    from scalematch._yaml import text_number_note

    assert text_number_note(value, integer) == note


SWEEP_SIZES = (0.51, 0.9, 1.0, 1.0000001, 1.01, 1.4, 1.5, 2.0, 2.5, 3.0, 16.0, 32.0, 512.0)
SWEEP_RATIOS = (0.0011, 0.002, 0.004, 0.01, 0.25, 0.5, 1.0, 2.0, 4.0, 100.0, 250.0, 500.0, 1000.0)


def test_cell_anchors_are_torchvision_s() -> None:
    """scalematch's base anchors are torchvision's AnchorGenerator cell anchors, bit for bit, over a sweep of sizes
    and aspect ratios that round to boxes of zero, one and more pixels."""
    import numpy as np

    from scalematch.presets.preset import cell_anchors

    anchor_utils = need("torchvision.models.detection.anchor_utils")
    torch = need("torch")
    generator = anchor_utils.AnchorGenerator(sizes=(SWEEP_SIZES,), aspect_ratios=(SWEEP_RATIOS,))
    expected = generator.generate_anchors(SWEEP_SIZES, SWEEP_RATIOS, dtype=torch.float32).numpy()
    x1, x2, y1, y2 = cell_anchors(SWEEP_SIZES, SWEEP_RATIOS)
    assert np.stack([x1, y1, x2, y2], axis=1).tobytes() == expected.tobytes()


@pytest.mark.parametrize("ratio", SWEEP_RATIOS)
def test_a_size_torchvision_rounds_to_a_zero_area_anchor_is_refused(ratio: float) -> None:
    """A size and ratio whose base anchor torchvision rounds to zero width or height (IoU 0 with every object; its
    Matcher then gives an image's every anchor to one object) is refused, naming the key; every other passes."""
    anchor_utils = need("torchvision.models.detection.anchor_utils")
    torch = need("torch")
    retinanet = load_preset("retinanet")
    for size in SWEEP_SIZES:
        box = anchor_utils.AnchorGenerator.generate_anchors(None, (size,), (ratio,), dtype=torch.float32)[0]
        flat = bool(box[2] <= box[0] or box[3] <= box[1])
        changes = {"anchors.sizes": [[size]] * 5, "anchors.aspect_ratios": [ratio]}
        if not flat:
            anchors = override(retinanet, **changes).anchors
            assert isinstance(anchors, TorchvisionAnchors) and anchors.sizes == ((size,),) * 5
            continue
        with pytest.raises(ConfigError, match=r"^override of preset retinanet: key 'anchors\.(sizes|aspect_ratios)'"):
            override(retinanet, **changes)


def test_the_zero_area_anchor_message(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "configs/detectors/retinanet.yaml").read_text(encoding="utf-8")
    path = tmp_path / "ret.yaml"
    wide = text.replace("aspect_ratios: [0.5, 1.0, 2.0]", "aspect_ratios: [0.5, 1.0, 1000]")
    path.write_text(wide.replace("[32, 40, 50]", "[16, 40, 50]"), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_preset(path)
    assert str(caught.value) == (
        f"{path}: key 'anchors.aspect_ratios': size 16 at aspect ratio 1000 (level P3) is an anchor of zero width "
        "in torchvision: its AnchorGenerator rounds the corners -+0.253 to 0 and 0, a box with IoU 0 with every "
        "object; expected sizes and aspect ratios whose anchors are over 1 px wide and high"
    )
    path.write_text(text.replace("[32, 40, 50]", "[1, 40, 50]"), "utf-8")
    with pytest.raises(ConfigError, match=r"key 'anchors\.sizes': size 1 at aspect ratio 0\.5 \(level P3\) .* height"):
        load_preset(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty (0 bytes)"),
        ("# a comment only\n\n", "expected a mapping at the top level, got an empty document (blank lines, comments or "
         "null only)"),
        ("null\n", "expected a mapping at the top level, got an empty document (blank lines, comments or null only)"),
        ("- retinanet\n", "expected a mapping at the top level, got list"),
    ],
)  # fmt: skip
def test_an_empty_preset_file_is_named_so(tmp_path: Path, text: str, expected: str) -> None:
    """A 0-byte preset file, or one of comments only, is named for what it is, as a config is (not 'NoneType')."""
    empty = tmp_path / "p.yaml"
    empty.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_preset(empty)
    assert str(caught.value) == f"{empty}: {expected}"
