"""data.yaml class names against ultralytics' own check_det_dataset: names given, or only ``nc`` (then
``class_0`` ... ``class_{nc-1}``), read the same; what it refuses, scalematch refuses in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from required import need

from scalematch.dataset import load
from scalematch.errors import DatasetError

YAMLS = ["nc: 3\n", "nc: '2'\n", "nc: 2.0\n", "names: [a, b]\n", "names: {0: a, 1: b}\nnc: 2\n", "names: [7, x]\n"]
REFUSED = [
    "nc: 2.5\n",
    "nc: null\n",
    "names: [a, b]\nnc: null\n",
    "names: [a, b]\nnc:\n",
    "path: .\n",
    "names: [a, b]\nnc: 3\n",
    "nc: 0\n",
    "nc: -2\n",
]


def _dataset(root: Path, yaml: str) -> Path:
    from PIL import Image

    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.new("RGB", (64, 48)).save(root / "images" / "x.jpg")
    (root / "labels" / "x.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images\nval: images\n{yaml}")
    return root


def _theirs(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[int, str] | str:
    import ultralytics.data.utils as data_utils
    from ultralytics.data.utils import check_det_dataset

    # It ends by fetching a font for its plots over the network (nothing to do with the names): not here.
    monkeypatch.setattr(data_utils, "check_font", lambda *_: None)
    try:
        names: dict[int, str] = check_det_dataset(str(root / "data.yaml"), autodownload=False)["names"]
    except (SyntaxError, KeyError) as exc:
        return type(exc).__name__
    return names


@pytest.mark.parametrize("yaml", YAMLS)
def test_names_as_ultralytics_reads_them(yaml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("ultralytics")
    root = _dataset(tmp_path / "d", yaml)
    theirs = _theirs(root, monkeypatch)
    assert isinstance(theirs, dict)
    assert load(root, resize="none").categories == theirs


@pytest.mark.parametrize("yaml", REFUSED)
def test_what_ultralytics_refuses_is_refused(yaml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("ultralytics")
    root = _dataset(tmp_path / "d", yaml)
    assert isinstance(_theirs(root, monkeypatch), str)
    with pytest.raises(DatasetError, match=r"data\.yaml: "):
        load(root, resize="none")


def test_a_huge_nc_without_names_is_refused_before_naming_every_class(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d", "nc: 99999999999\n")
    with pytest.raises(DatasetError, match=r"key 'nc': 99,999,999,999 classes without 'names'; expected at most"):
        load(root, resize="none")


@pytest.mark.parametrize("nc", [0, -2])
def test_nc_without_names_below_one_says_so(tmp_path: Path, nc: int) -> None:
    """It said "-2 classes, but 'names' has 0" of a file without a 'names' key."""
    root = _dataset(tmp_path / "d", f"nc: {nc}\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == (
        f"{root / 'data.yaml'}: key 'nc': expected a number of classes from 1 (without 'names', class_0 and on), "
        f"got {nc} (ultralytics refuses it too)"
    )


def test_more_class_names_than_the_bound_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000,000 names in a classes.txt took 3 GB and ended in a MemoryError (review round 42, A-F3): names beyond
    MAX_CLASSES (65,536, as for nc alone) are refused, in a data.yaml or a class list; at the bound they read."""
    from scalematch.dataset.formats import yolo

    monkeypatch.setattr(yolo, "MAX_CLASSES", 3)
    root = _dataset(tmp_path / "d", "names: [a, b, c, d]\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == f"{root / 'data.yaml'}: key 'names': 4 classes; expected at most 3"
    (root / "data.yaml").unlink()
    (root / "labels" / "classes.txt").write_text("a\nb\nc\nd\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == f"{root / 'labels' / 'classes.txt'}: names 4 classes; expected at most 3"
    (root / "labels" / "classes.txt").write_text("a\nb\nc\n")
    assert load(root, resize="none").table["category"].tolist() == ["b"]


def test_a_class_numbered_as_a_number_and_as_text_is_refused(tmp_path: Path) -> None:
    """``{0: cat, '0': dog}`` kept the last name without a word (review round 42, A-F12)."""
    root = _dataset(tmp_path / "d", "names: {0: cat, '0': dog, 1: b}\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == (
        f"{root / 'data.yaml'}: key 'names': class 0 is named twice (as 0 and '0'); give each class once"
    )


def test_two_dataset_descriptions_naming_other_classes_are_refused(tmp_path: Path) -> None:
    """data.yaml beside a data.yml naming other classes: the first named the classes without a word (review round 42,
    A-F9), as two class lists naming other classes are refused; naming the same classes, they read."""
    root = _dataset(tmp_path / "d", "names: [cat, dog]\n")
    (root / "data.yml").write_text("names: [dog, cat]\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == (
        f"{root / 'data.yml'}: names other classes than {root / 'data.yaml'} beside it; expected one dataset "
        "description, or both naming the same classes"
    )
    (root / "data.yml").write_text("names: {0: cat, 1: dog}\n")
    assert load(root, resize="none").table["category"].tolist() == ["dog"]
    (root / "data.yml").write_text("path: .\n")  # one that names no class does not block the one read (D-F13)
    assert load(root, resize="none").table["category"].tolist() == ["dog"]


def test_a_dataset_description_of_nc_alone_beside_one_naming_the_classes_compares_counts(tmp_path: Path) -> None:
    """A data.yml of ``nc: 2`` beside a data.yaml naming two classes was said to name other classes (review round 44):
    it counts them only, so it agrees; another count is refused as such."""
    root = _dataset(tmp_path / "d", "names: [cat, dog]\n")
    (root / "data.yml").write_text("nc: 2\n")
    assert load(root, resize="none").table["category"].tolist() == ["dog"]
    (root / "data.yml").write_text("nc: 3\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == (
        f"{root / 'data.yml'}: has 3 classes, {root / 'data.yaml'} beside it 2; expected one dataset description, or "
        "both of the same classes"
    )
    (root / "data.yaml").write_text("nc: 2\n")  # the other way round: the names come from the one naming them (C5)
    (root / "data.yml").write_text("names: [x, y]\n")
    assert load(root, resize="none").table["category"].tolist() == ["y"]


def test_a_labels_entry_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """A dataset whose 'labels' is a file was read as one without labels (review round 42, A-F8)."""
    root = _dataset(tmp_path / "d", "names: [cat, dog]\n")
    (root / "labels" / "x.txt").unlink()
    (root / "labels").rmdir()
    (root / "labels").write_text("1 0.5 0.5 0.2 0.2\n")
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none")
    assert str(caught.value) == (
        f"{root / 'labels'}: is not a folder (a file); a YOLO dataset's label files are in its labels folder, beside "
        "images"
    )


def test_a_label_file_beyond_the_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 140 MB label file of one polygon took 1.9 GB (review round 42, A-F6): one of more than MAX_LABEL_FILE bytes
    is refused naming it; one at the bound reads."""
    from scalematch.dataset.formats import yolo

    root = _dataset(tmp_path / "d", "names: [cat, dog]\n")
    size = (root / "labels" / "x.txt").stat().st_size
    monkeypatch.setattr(yolo, "MAX_LABEL_FILE", size)
    assert len(load(root, resize="none", workers=1).table) == 1
    monkeypatch.setattr(yolo, "MAX_LABEL_FILE", size - 1)
    with pytest.raises(DatasetError) as caught:
        load(root, resize="none", workers=1)
    assert str(caught.value) == (
        f"{root / 'labels' / 'x.txt'}: {size} bytes, more than the {size - 1} a label file may hold (read whole, it "
        "would take over ten times that in memory)"
    )
