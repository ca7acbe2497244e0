"""VOC ``difficult`` objects under each toolkit: mmdetection's XMLDataset flags them ``ignore_flag=1`` and its
assigners never see them; yolov5's and ultralytics' VOC converters leave them out of the labels; torchvision has
no VOC pipeline and keeps them. Where ignored, the others' positives are those of the file without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

OBJECT = (
    "<object><name>person</name><difficult>{d}</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>"
    "<ymax>{y2}</ymax></bndbox></object>"
)
BOXES = [(101, 101, 180, 200), (111, 106, 190, 205), (300, 200, 340, 260), (305, 190, 350, 262)]


def _voc(folder: Path, difficult: list[bool | None]) -> Path:
    """One image with the boxes of BOXES, difficult or not (None: the box left out)."""
    folder.mkdir()
    objects = "".join(
        OBJECT.format(d=int(d), x1=x1, y1=y1, x2=x2, y2=y2)
        for d, (x1, y1, x2, y2) in zip(difficult, BOXES, strict=True)
        if d is not None
    )
    (folder / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>640</width><height>480</height><depth>3</depth></size>"
        f"{objects}</annotation>",
        encoding="utf-8",
    )
    return folder


def _positives(path: Path, detector: str) -> dict[str, int]:
    preset = load_preset(detector)
    result = evaluate(load(path, resize=preset.resize_policy()), preset, workers=1)
    frame = result.to_frame("objects")
    return dict(zip(frame["annotation_id"].str.split(":").str[-1], frame["positives"].tolist(), strict=True))


@pytest.mark.parametrize("detector", ["atss", "yolov5", "yolov8"])
def test_toolkits_that_ignore_difficult_objects_see_only_the_others(detector: str, tmp_path: Path) -> None:
    both = _voc(tmp_path / "both", [False, True, False, True])
    preset = load_preset(detector)
    result = evaluate(load(both, resize=preset.resize_policy()), preset, workers=1)
    assert result.ignored == 2 and result.summary.objects == 2
    assert result.to_dict()["ignored_difficult"] == 2
    # The same file with the difficult objects marked easy: all four are matched.
    easy = _positives(_voc(tmp_path / "easy", [False, False, False, False]), detector)
    assert set(easy) == {"1", "2", "3", "4"}
    ours = _positives(both, detector)
    assert set(ours) == {"1", "3"}
    alone = _voc(tmp_path / "alone", [False, None, False, None])
    assert _positives(alone, detector) == {"1": ours["1"], "2": ours["3"]}


def test_atss_positives_change_when_the_difficult_object_competes(tmp_path: Path) -> None:
    """The case of the review: with the difficult box counted as an object, the easy one loses positives to it;
    both as mmdetection's own XMLDataset and ATSSAssigner decide."""
    need("mmdet")
    import mmdet_ref

    easy_dir = _voc(tmp_path / "easy", [False, False, False, False])
    both_dir = _voc(tmp_path / "both", [False, True, False, True])
    easy, ignored = _positives(easy_dir, "atss"), _positives(both_dir, "atss")
    truth_easy = mmdet_ref.atss_positives_voc(easy_dir, ["person"])
    truth_ignored = mmdet_ref.atss_positives_voc(both_dir, ["person"])
    assert easy == {str(k): sum(v) for (_, k), v in truth_easy.items()}
    assert ignored == {str(k): sum(v) for (_, k), v in truth_ignored.items()}
    assert easy["1"] < ignored["1"]


def test_torchvision_presets_keep_difficult_objects(tmp_path: Path) -> None:
    both = _voc(tmp_path / "both", [False, True, False, True])
    preset = load_preset("retinanet")
    result = evaluate(load(both, resize=preset.resize_policy()), preset, workers=1)
    assert result.ignored == 0 and result.summary.objects == 4
    assert "ignored_difficult" not in result.to_dict()


def test_the_report_says_the_difficult_objects_are_ignored_not_crowd(tmp_path: Path) -> None:
    import json

    from scalematch.report.detector_report import build_detector_report

    both = _voc(tmp_path / "both", [False, True, False, True])
    preset = load_preset("atss")
    result = evaluate(load(both, resize=preset.resize_policy()), preset, workers=1)
    assert result.data is not None
    files = build_detector_report(result, result.data, "scalematch recommend both --detector atss")
    html = files["report.html"].decode("utf-8")
    assert "2 VOC difficult objects are not matched: mmdetection 3.3's pipeline ignores them." in html
    assert "crowd annotations" not in html
    assert json.loads(files["recommendation.json"])["ignored_difficult"] == 2


def test_a_file_of_difficult_objects_only_is_refused_with_the_reason(tmp_path: Path) -> None:
    from scalematch.errors import DatasetError

    folder = _voc(tmp_path / "hard", [True, True, None, None])
    preset = load_preset("atss")
    with pytest.raises(DatasetError) as caught:
        evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1)
    assert str(caught.value) == (
        f"{folder}: no usable object to match (every record is excluded or difficult: 2 difficult (mmdetection "
        "3.3 ignores difficult objects), none excluded)"
    )
