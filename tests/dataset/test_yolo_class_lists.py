"""YOLO class names that must not depend on how the dataset is given: labelImg's ``labels/<split>/classes.txt``
is a class list, never a label file, also through a glob of label files or given alone; a nested split
(``labels/train/batch1``) finds its dataset's data.yaml as the dataset folder does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from scalematch.dataset.loader import read_annotations
from scalematch.errors import DatasetError


def _labelimg(root: Path) -> Path:
    """A dataset with labelImg's ``classes.txt`` in each split's labels folder (no image named ``classes``)."""
    ds = root / "ds"
    for split, name, line in (("train", "a", "1 0.5 0.5 0.2 0.2\n"), ("val", "b", "0 0.5 0.5 0.2 0.2\n")):
        (ds / "images" / split).mkdir(parents=True)
        (ds / "labels" / split).mkdir(parents=True)
        Image.new("RGB", (64, 48)).save(ds / "images" / split / f"{name}.jpg")
        (ds / "labels" / split / f"{name}.txt").write_text(line)
        (ds / "labels" / split / "classes.txt").write_text("cat\ndog\n")
    return ds


@pytest.mark.parametrize(
    ("pattern", "folder", "objects"),
    [("ds/labels/val/*.txt", "ds/labels/val", 1), ("ds/labels/**/*.txt", "ds/labels", 2)],
)
def test_a_class_list_matched_by_a_glob_is_no_label_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str, folder: str, objects: int
) -> None:
    """The glob reads what its folder reads: the class lists name the classes and are no image, no record."""
    _labelimg(tmp_path)
    monkeypatch.chdir(tmp_path)
    for strict in (False, True):
        by_glob = read_annotations(pattern, resize="none", strict=strict)
        by_folder = read_annotations(folder, resize="none", strict=strict)
        assert (by_glob.images, len(by_glob.table), by_glob.excluded) == (objects, objects, {})
        assert by_glob.categories == by_folder.categories == {0: "cat", 1: "dog"}
        assert sorted(by_glob.table["category"]) == sorted(by_folder.table["category"])


def test_a_classes_txt_that_an_image_pairs_with_is_a_label_file_through_a_glob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``images/val/classes.png`` ultralytics reads ``labels/val/classes.txt`` as its labels: so does a glob."""
    ds = _labelimg(tmp_path)
    (ds / "labels" / "val" / "classes.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    (ds / "labels" / "train" / "classes.txt").unlink()
    Image.new("RGB", (32, 32)).save(ds / "images" / "val" / "classes.png")
    monkeypatch.chdir(tmp_path)
    result = read_annotations("ds/labels/val/*.txt", resize="none")
    assert (result.images, len(result.table), result.excluded) == (2, 2, {})


def test_a_class_list_given_alone_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given alone, or as all a pattern matches, a class list is refused in one line: it holds no label."""
    _labelimg(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as given:
        read_annotations("ds/labels/val/classes.txt", resize="none")
    assert str(given.value) == (
        "ds/labels/val/classes.txt: a class list (no image named 'classes' pairs with it, so ultralytics never reads "
        "it as labels), not a label file; give its labels folder (ds/labels/val), which names the classes from it"
    )
    with pytest.raises(DatasetError) as matched:
        read_annotations("ds/labels/*/classes.txt", resize="none")
    assert str(matched.value) == (
        "ds/labels/*/classes.txt: matches YOLO class lists only (classes.txt that no image pairs with), no label "
        "file; give the label files or their folder"
    )


@pytest.mark.parametrize(
    "given", ["y", "y/labels", "y/labels/train", "y/labels/train/batch1", "y/images/train/batch1",
              "y/labels/train/batch1/a.txt", "y/images/train"],
)  # fmt: skip
def test_a_nested_split_finds_the_data_yaml_of_its_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """``y/data.yaml`` names the classes of ``y/labels/train/batch1`` at every level it is given at, as
    ``y/labels/classes.txt`` does."""
    y = tmp_path / "y"
    (y / "images" / "train" / "batch1").mkdir(parents=True)
    (y / "labels" / "train" / "batch1").mkdir(parents=True)
    Image.new("RGB", (64, 48)).save(y / "images" / "train" / "batch1" / "a.jpg")
    (y / "labels" / "train" / "batch1" / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    (y / "data.yaml").write_text("train: images/train\nval: images/train\nnames: [cat, dog]\n")
    monkeypatch.chdir(tmp_path)
    result = read_annotations(given, resize="none")
    assert result.categories == {0: "cat", 1: "dog"}
    assert result.table["category"].tolist() == ["dog"]
    assert os.path.isfile(y / "data.yaml")
