"""YOLO image sizes: from the header only, with the EXIF orientation applied exactly as ultralytics' own
``exif_size`` does (checked against it), and without Pillow's decompression-bomb warning or error."""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scalematch.dataset import detect_format, load
from scalematch.dataset.formats import _image_size, yolo
from scalematch.errors import DatasetError


def _image(path: Path, fmt: str, size: tuple[int, int], orientation: int | None, **options: str) -> Path:
    exif = Image.Exif()
    if orientation is not None:
        exif[274] = orientation
    Image.new("RGB", size).save(path, format=fmt, exif=exif.tobytes(), **options)
    return path


FORMATS = [("JPEG", {}), ("PNG", {}), ("WEBP", {}), ("AVIF", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}),
           ("TIFF", {"compression": "tiff_adobe_deflate"}), ("TIFF", {"compression": "jpeg"})]  # fmt: skip


@pytest.mark.parametrize(("fmt", "options"), FORMATS, ids=[f"{f}-{o.get('compression', '')}" for f, o in FORMATS])
@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_orientation_as_ultralytics(tmp_path: Path, fmt: str, options: dict[str, str], orientation: int | None) -> None:
    """Pillow 13 reports a TIFF's size already oriented (a 40x20 TIFF with orientation 6 is 20x40) and ultralytics
    decodes WebP and TIFF with OpenCV to find it: the size must be the oriented one for every format, once."""
    utils = pytest.importorskip("ultralytics.data.utils")
    if orientation == 9 and options:
        pytest.skip("libtiff does not write an orientation outside 1-8")
    path = _image(tmp_path / f"a.{fmt.lower()}", fmt, (40, 20), orientation, **options)
    with Image.open(path) as im:
        expected = utils.exif_size(im)
    assert _image_size.header_size(path) == (float(expected[0]), float(expected[1]), "")
    assert expected == ((20, 40) if orientation in (5, 6, 7, 8) else (40, 20))  # the oracle did swap


def test_a_huge_header_is_read_without_the_bomb_check(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    Image.new("L", (1, 1)).save(root / "images" / "a.png")
    data = bytearray((root / "images" / "a.png").read_bytes())
    import struct
    import zlib

    data[16:24] = struct.pack(">II", 300_000, 200_000)  # IHDR width, height: 6e10 pixels
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    (root / "images" / "a.png").write_bytes(bytes(data))
    with pytest.raises(Image.DecompressionBombError), Image.open(root / "images" / "a.png"):
        pass  # what Pillow does on its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = load(root, resize="none").table
    assert table[["image_w", "image_h", "w", "h"]].values.tolist() == [[300000.0, 200000.0, 150000.0, 100000.0]]
    assert Image.MAX_IMAGE_PIXELS is not None  # the check is back on for everyone else


def test_an_unreadable_label_file_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == "a.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(DatasetError, match=rf"^{tmp_path}/a.txt: cannot read \(Permission denied\)$"):
        load(tmp_path / "a.txt", resize="none", image_size=(10, 10))


def test_images_are_found_as_ultralytics_lists_them(tmp_path: Path) -> None:
    """ultralytics lists an image by its suffix in any case (``a.Jpg``) among its IMG_FORMATS (``.avif`` too) and
    reads its labels from ``img2label_paths``; each label's image and size are those (``exif_size``). An image
    Pillow cannot read is found, and its objects say so rather than that there is no image."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    files = {"a.Jpg": "JPEG", "b.avif": "AVIF", "c.JPEG": "JPEG", "d.webp": "WEBP", "e.TIFF": "TIFF", "f.Png": "PNG",
             "g.jp2": "JPEG2000", "h.mpo": "MPO"}  # fmt: skip
    for k, (name, fmt) in enumerate(files.items()):
        _image(root / "images" / name, fmt, (30 + k, 20 + 2 * k), 6 if fmt in ("JPEG", "TIFF") else None)
    (root / "images" / "i.heic").write_bytes(b"\0\0\0\x18ftypheic" + bytes(40))  # no plugin reads it here
    (root / "images" / "j.gif").write_bytes(b"GIF89a")  # not among IMG_FORMATS: no image of label j
    for image in sorted((root / "images").iterdir()):
        (root / "labels" / f"{image.stem}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    theirs = {}
    for image in sorted((root / "images").iterdir()):
        if image.name.rpartition(".")[-1].lower() in utils.IMG_FORMATS:
            label = Path(utils.img2label_paths([str(image)])[0])
            try:
                with Image.open(image) as im:
                    theirs[label.name] = (image.name, *map(float, utils.exif_size(im)))
            except Exception:
                theirs[label.name] = (image.name, None, None)
    assert len(theirs) == 9 and theirs["i.txt"][1] is None and "j.txt" not in theirs
    result = load(root, resize="none")
    rows = result.table[["label_file", "file_name", "image_w", "image_h"]].astype(object).values.tolist()
    ours = {Path(label).name: (name, w, h) for label, name, w, h in rows}
    assert ours == {label: found for label, found in theirs.items() if found[1] is not None}
    assert result.excluded == {"missing_image_size": 2}  # i.heic (unreadable) and j (no image)
    with pytest.raises(DatasetError) as refused:
        load(root / "labels" / "i.txt", resize="none", strict=True)
    assert str(refused.value) == (
        f"{root}/labels/i.txt: line 1: the image i.heic gives no size (its header is not one Pillow reads, or the "
        "size is outside [1, 2**24]); pass image_size=WxH [missing_image_size]"
    )


@pytest.mark.parametrize(
    "layout",
    [
        ("train/images/a.jpg", "train/labels/a.txt", "valid/images/b.png", "valid/labels/b.txt", "README.dataset.txt"),
        ("obj_train_data/a.jpg", "obj_train_data/a.txt", "obj_train_data/c.png", "train.txt", "obj.names"),
        ("images/x/a.jpg", "labels/x/a.txt", "images/b.jpg", "labels/b.txt", "labels/c.txt"),
        ("a.jpg", "a.txt", "b.txt", "c.png", "README.txt"),
        ("train/images/a.jpg", "train/labels/a.txt", "test/images/b.png", "test/labels/b.txt", "test/labels/c.txt"),
    ],
    ids=["roboflow", "cvat", "split-folders", "beside", "export-root-alone"],
)
def test_labels_pair_with_images_as_img2label_paths_pairs_them(tmp_path: Path, layout: tuple[str, ...]) -> None:
    """Each label file read is the one ultralytics' ``img2label_paths`` gives for its image (the last ``images``
    component made ``labels``, else the label beside the image); README files, CVAT's image list and obj.names
    are no label files."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    for rel in layout:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith((".jpg", ".png")):
            Image.new("RGB", (30, 20)).save(root / rel)
        else:
            (root / rel).write_text("0 0.5 0.5 0.5 0.5\n" if Path(rel).name[0] in "abc" else "car\n")
    images = [p for p in root.rglob("*.*") if p.suffix[1:] in utils.IMG_FORMATS]
    theirs = {}
    for image in images:
        label = Path(utils.img2label_paths([str(image)])[0])
        if label.is_file():
            theirs[label.relative_to(root).as_posix()] = image.name
    result = load(root, resize="none", image_size=(7, 7))
    pairs = result.table[["label_file", "file_name", "image_w"]].astype(object).values.tolist()
    assert {label: name for label, name, w in pairs if w == 30.0} == theirs
    orphans = {label for label, _, w in pairs if w == 7.0}  # labels of no image: read, measured at image_size
    assert orphans == {rel for rel in layout if rel.endswith(".txt") and Path(rel).name[0] in "abc"} - set(theirs)
    assert result.images == len(images) + len(orphans)


@pytest.mark.parametrize(
    ("under", "layout"),
    [
        ("ds", ("images/train/images/a.jpg", "labels/train/images/a.txt", "images/train/b.jpg", "labels/train/b.txt")),
        ("images/ds", ("obj_train_data/a.jpg", "obj_train_data/a.txt", "obj_val_data/b.jpg", "obj_val_data/b.txt")),
        ("images/ds", ("images/a.jpg", "labels/a.txt", "images/x/b.jpg", "labels/x/b.txt")),
        ("images/ds", ("train/images/a.jpg", "train/labels/a.txt", "train/images/images/b.png", "train/labels/b.txt")),
    ],
    ids=["images-inside-a-split", "cvat-under-images", "dataset-under-images", "roboflow-inner-images"],
)
def test_pairs_follow_img2label_paths_with_another_images_component(
    tmp_path: Path, under: str, layout: tuple[str, ...]
) -> None:
    """ultralytics' ``img2label_paths`` makes the last ``images`` component of the image's absolute path
    ``labels``: an image with another ``images`` component below (``images/train/images/a.jpg``) or above
    (``~/images/ds/obj_train_data/a.jpg``) the one scalematch pairs by has no label file for ultralytics (an image
    without objects), whatever ``.txt`` sits where scalematch would look."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / under
    for rel in layout:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith((".jpg", ".png")):
            Image.new("RGB", (30, 20)).save(root / rel)
        else:
            (root / rel).write_text("0 0.5 0.5 0.5 0.5\n")
    images = [p for p in root.rglob("*.*") if p.suffix[1:] in utils.IMG_FORMATS]
    theirs = {}
    for image in images:
        label = Path(utils.img2label_paths([str(image)])[0])
        assert yolo.img2label(image) == str(label)
        if label.is_file():
            theirs[label.relative_to(root).as_posix()] = image.name
    result = load(root, resize="none", image_size=(7, 7))
    pairs = result.table[["label_file", "file_name", "image_w"]].astype(object).values.tolist()
    assert {label: name for label, name, w in pairs if w == 30.0} == theirs
    orphans = {label for label, _, w in pairs if w == 7.0}
    assert orphans == {rel for rel in layout if rel.endswith(".txt")} - set(theirs)
    assert result.images == len(images) + len(orphans)


def _images_folder(root: Path) -> None:
    for name, size in (("a.jpg", (30, 20)), ("b.png", (40, 10))):
        (root / "images" / "train").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(root / "images" / "train" / name)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "train" / "b.txt").write_text("1 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/train\nnames: [cat, dog]\n")


@pytest.mark.parametrize("given", ["images/train", "images"])
@pytest.mark.parametrize("fmt", [None, "yolo"])
def test_an_images_folder_given_reads_the_labels_img2label_paths_gives(
    tmp_path: Path, given: str, fmt: str | None
) -> None:
    """The images folder data.yaml names (``train: images/train``) is read as ultralytics reads it: each image
    with the label file ``img2label_paths`` gives it, found as YOLO; the same objects and names as its labels
    folder gives."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    _images_folder(root)
    (root / "images" / "train" / "c.jpg").write_bytes((root / "images" / "train" / "a.jpg").read_bytes())
    images = sorted((root / given).rglob("*.*"))
    theirs = sorted(
        (image.name, Path(label).read_text().count("\n"))
        for image, label in zip(images, utils.img2label_paths([str(i) for i in images]), strict=True)
        if Path(label).is_file()
    )
    assert detect_format(root / given) == "yolo"
    result = load(root / given, format=fmt, resize="none")
    assert sorted(Counter(result.table["file_name"].astype(str)).items()) == theirs == [("a.jpg", 1), ("b.png", 2)]
    assert result.images == 3 and result.categories == {0: "cat", 1: "dog"}
    same = load(root / given.replace("images", "labels"), resize="none")
    assert same.table.drop(columns="label_file").equals(result.table.drop(columns="label_file"))


@pytest.mark.parametrize("beside", [False, True])
def test_an_images_folder_without_its_labels_folder_is_refused_naming_it(tmp_path: Path, beside: bool) -> None:
    """An images folder whose labels folder (the path with the last ``images`` made ``labels``) is missing is
    refused naming it: ultralytics would read every image as one without objects, ``.txt`` beside them or not."""
    root = tmp_path / "images" / "proj"
    root.mkdir(parents=True)
    Image.new("RGB", (30, 20)).save(root / "a.jpg")
    if beside:
        (root / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    with pytest.raises(DatasetError) as refused:
        load(root, format="yolo" if not beside else None, resize="none")
    assert str(refused.value).startswith(
        f"{root}: a folder of images, whose labels ultralytics reads from {tmp_path / 'labels' / 'proj'} "
    )
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("splits", [("train",), ("train", "valid")])
def test_a_classes_txt_beside_the_split_folders_names_the_classes(tmp_path: Path, splits: tuple[str, ...]) -> None:
    """The dataset folder of an export root is the root, with one split folder as with several."""
    (tmp_path / "classes.txt").write_text("Car\nPerson\n")
    for split in splits:
        (tmp_path / split / "labels").mkdir(parents=True)
        (tmp_path / split / "images").mkdir()
        (tmp_path / split / "labels" / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
        Image.new("RGB", (30, 20)).save(tmp_path / split / "images" / "a.jpg")
    result = load(tmp_path, resize="none")
    assert result.categories == {0: "Car", 1: "Person"}
    assert result.table["category"].astype(str).tolist() == ["Person"] * len(splits)


@pytest.mark.parametrize("labels", ["Labels", "LABELS"])
def test_a_labels_folder_in_another_case_is_refused_naming_it(tmp_path: Path, labels: str) -> None:
    """ultralytics looks for ``labels/x.txt`` (case-sensitive): beside ``images/``, a ``Labels`` folder would give
    it the images without their labels, and read as a plain folder it pairs nothing (its label files were counted
    as images of their own, without a size). One line names the folder and the name YOLO looks for."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    for k in range(3):
        (root / "images" / "train").mkdir(parents=True, exist_ok=True)
        (root / labels / "train").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48)).save(root / "images" / "train" / f"im{k}.jpg")
        (root / labels / "train" / f"im{k}.txt").write_text("0 0.5 0.5 0.25 0.25\n")
    (root / "data.yaml").write_text("names: [cat]\n")
    theirs = utils.img2label_paths([str(root / "images" / "train" / "im0.jpg")])
    assert not Path(theirs[0]).is_file()  # ultralytics finds no label file for the image
    for given, strict in (
        (root, False),
        (root, True),
        (root / labels / "train", False),
        (root / labels / "train" / "im0.txt", False),
    ):
        with pytest.raises(DatasetError) as refused:
            load(given, resize="none", strict=strict)
        assert str(refused.value) == (
            f"{root / labels}: YOLO looks for the labels of images/ in a folder named 'labels', in lower case "
            "(ultralytics pairs images/x.jpg with labels/x.txt, case-sensitive); rename it to 'labels'"
        )


def test_two_images_of_one_name_each_get_the_labels_as_in_ultralytics(tmp_path: Path) -> None:
    """``im0.jpg`` and ``im0.png`` beside each other: ultralytics lists both (``get_img_files``) and gives each the
    labels of ``im0.txt`` (``img2label_paths``), read at each image's own size (``verify_image_label``); so does
    the reader, object by object, with nothing excluded."""
    from types import SimpleNamespace

    base = pytest.importorskip("ultralytics.data.base")
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.new("RGB", (64, 48)).save(root / "images" / "train" / "im0.jpg")
    Image.new("RGB", (1000, 10)).save(root / "images" / "train" / "im0.png")
    Image.new("RGB", (30, 20)).save(root / "images" / "train" / "im1.jpg")
    for name in ("im0", "im1"):
        (root / "labels" / "train" / f"{name}.txt").write_text("0 0.5 0.5 0.25 0.25\n1 0.3 0.3 0.2 0.4\n")
    (root / "data.yaml").write_text("names: [cat, dog]\n")
    images = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), str(root / "images"))
    theirs = []
    for image, label in zip(images, utils.img2label_paths(images), strict=True):
        _, lb, (h, w), *_ = utils.verify_image_label((image, label, "", False, 2, 0, 0, False))
        for cls, cx, cy, bw, bh in lb.tolist():
            box = (cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h
            theirs.append((Path(image).name, Path(label).relative_to(root).as_posix(), int(cls), *box))
    assert len(theirs) == 6
    result = load(root, resize="none")
    table = result.table
    ours = list(zip(table["file_name"].astype(str), table["label_file"].astype(str), table["category_id"],
                    table["x"], table["y"], table["w"], table["h"], strict=True))  # fmt: skip
    assert len(ours) == len(theirs)
    for mine, other in zip(sorted(ours), sorted(theirs), strict=True):
        assert mine[:3] == other[:3]
        assert mine[3:] == pytest.approx(other[3:], rel=1e-6)
    assert result.images == 3 and result.excluded == {}
    with (root / "labels" / "train" / "im0.txt").open("a") as f:
        f.write("0 0.5 0.5 0 0.1\n")  # excluded once for each image it is read with
    assert load(root, resize="none").excluded == {"bbox_nonpositive": 2}
    with pytest.raises(DatasetError, match=r"labels/train/im0.txt: line 3 \(with im0.jpg\): expected w and h > 0"):
        load(root, resize="none", strict=True)


NO_IMAGES = ["dangling", "loop", "fifo", "folder", "empty"]


def _no_image(path: Path, kind: str) -> None:
    """Put at ``path`` an entry named as an image that holds no image."""
    if kind == "dangling":
        path.symlink_to(path.parent / "absent-target.jpg")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"")


def _yolo_tree(root: Path) -> None:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for name in ("b", "c"):
        Image.new("RGB", (64, 48)).save(root / "images" / f"{name}.jpg")
        (root / "labels" / f"{name}.txt").write_text("0 0.5 0.5 0.2 0.3\n")


@pytest.mark.parametrize("kind", NO_IMAGES)
def test_an_image_name_holding_no_image_is_counted_once(tmp_path: Path, kind: str) -> None:
    """ultralytics lists every entry of an image's name (glob), and drops each of these kinds as corrupt, with its
    labels (a FIFO would block its ``Image.open``). Whatever the kind, a label file is one image, whose objects
    are ``missing_image_size`` saying why; the entry is never counted as an image of its own. Without a label
    file, an entry that is not a regular file is no image, and an empty file, found, is one without objects (its
    header is not read), as any image without a label file is."""
    utils = pytest.importorskip("ultralytics.data.utils")
    import glob

    root = tmp_path / "ds"
    _yolo_tree(root)
    _no_image(root / "images" / "a.jpg", kind)
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.3\n1 0.3 0.3 0.1 0.1\n")
    _no_image(root / "images" / "z.jpg", kind)  # no label file
    listed = glob.glob(str(Path(glob.escape(str(root / "images"))) / "**" / "*.*"), recursive=True)
    theirs = sorted(Path(x).name for x in listed if x.rpartition(".")[-1].lower() in utils.IMG_FORMATS)
    assert theirs == ["a.jpg", "b.jpg", "c.jpg", "z.jpg"]  # listed whatever they are
    if kind != "fifo":
        for name in ("a.jpg", "z.jpg"):
            with pytest.raises(Exception):  # noqa: B017 (verify_image_label drops it as corrupt on any error)
                utils.check_image(str(root / "images" / name))
    result = load(root, resize="none")
    background = 1 if kind == "empty" else 0
    assert (result.images, result.to_dict()["images_without_objects"]) == (3 + background, 1 + background)
    assert result.excluded == {"missing_image_size": 2} and len(result.table) == 2
    why = "the image a.jpg is empty (0 bytes), so it gives no size" if kind == "empty" else "no image found"
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(root))}/labels/a.txt: line 1: {re.escape(why)}\b"):
        load(root / "labels" / "a.txt", resize="none", strict=True)


def test_a_link_to_a_folder_named_as_an_image_is_a_folder_read_as_glob_reads_it(tmp_path: Path) -> None:
    """``images/a.jpg -> /elsewhere`` (a folder holding ``sub/x.png``) is no image, but glob lists the image under
    it: the label of ``a.jpg`` has no image, and ``a.jpg/sub/x.png`` is one without objects: two images, each
    once."""
    utils = pytest.importorskip("ultralytics.data.utils")
    import glob

    root = tmp_path / "ds"
    _yolo_tree(root)
    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(tmp_path / "elsewhere" / "sub" / "x.png")
    (root / "images" / "a.jpg").symlink_to(tmp_path / "elsewhere")
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.3\n")
    listed = glob.glob(str(Path(glob.escape(str(root / "images"))) / "**" / "*.*"), recursive=True)
    theirs = sorted(Path(x).relative_to(root / "images").as_posix() for x in listed)
    assert [x for x in theirs if x.rpartition(".")[-1].lower() in utils.IMG_FORMATS] == [
        "a.jpg", "a.jpg/sub/x.png", "b.jpg", "c.jpg"
    ]  # fmt: skip
    result = load(root, resize="none")
    assert (result.images, result.to_dict()["images_without_objects"]) == (4, 2)
    assert result.excluded == {"missing_image_size": 1}


def test_an_image_that_cannot_be_read_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An image the user may not read (``chmod 000``) gives no size, and the message says why: not its header."""
    import builtins

    root = tmp_path / "ds"
    _yolo_tree(root)
    real = builtins.open

    def denied(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, Path)) and Path(file).name == "b.jpg":
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    result = load(root, resize="none")
    assert result.excluded == {"missing_image_size": 1} and result.images == 2
    with pytest.raises(DatasetError) as refused:
        load(root, resize="none", strict=True)
    assert str(refused.value) == (
        f"{root}: labels/b.txt: line 1: the image b.jpg cannot be read (Permission denied), so it gives no size; "
        "pass image_size=WxH [missing_image_size]"
    )


def _labelimg(root: Path, lists: dict[str, str]) -> None:
    """Two splits, a.jpg (class 0) and b.jpg (class 1), with class lists at the paths ``lists`` names."""
    for split, name, cls in (("train", "a", 0), ("val", "b", 1)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        Image.new("RGB", (30, 20)).save(root / "images" / split / f"{name}.jpg")
        (root / "labels" / split / f"{name}.txt").write_text(f"{cls} 0.5 0.5 0.5 0.5\n")
    for rel, text in lists.items():
        (root / rel).write_text(text)


@pytest.mark.parametrize("given", ["", "labels", "labels/train"])
def test_labelimg_class_lists_in_each_split_are_no_label_files(tmp_path: Path, given: str) -> None:
    """labelImg writes ``classes.txt`` into each folder it saves labels to: with no image named ``classes``
    ultralytics never opens it (``img2label_paths`` of no image gives it), so it is the class list at any depth,
    never a label file: no phantom image, no malformed record, ``--strict`` reads on."""
    utils = pytest.importorskip("ultralytics.data.utils")
    root = tmp_path / "ds"
    _labelimg(root, {"labels/train/classes.txt": "cat\ndog\n", "labels/val/classes.txt": "cat\ndog\n"})
    images = [str(p) for p in root.rglob("*.jpg")]
    assert not any(label.endswith("classes.txt") for label in utils.img2label_paths(images))
    result = load(root / given, resize="none", strict=True)
    assert result.excluded == {} and result.categories == {0: "cat", 1: "dog"}
    assert result.images == (1 if given.endswith("train") else 2)
    assert sorted(result.table["file_name"].astype(str)) == (
        ["a.jpg"] if given.endswith("train") else ["a.jpg", "b.jpg"]
    )


def test_class_lists_that_differ_are_refused_naming_both(tmp_path: Path) -> None:
    """Two class lists of one dataset naming other classes: which one names them would be a guess."""
    root = tmp_path / "ds"
    _labelimg(root, {"labels/train/classes.txt": "cat\ndog\n", "labels/val/classes.txt": "cat\nbird\n"})
    with pytest.raises(DatasetError) as refused:
        load(root, resize="none")
    assert str(refused.value) == (
        f"{root}/labels/val/classes.txt: names other classes than {root}/labels/train/classes.txt (class 1: 'bird' "
        "against 'dog'); expected one class list, or all naming the same classes, or a data.yaml naming the classes"
    )


def test_a_classes_txt_and_an_obj_names_that_differ_are_refused_naming_both(tmp_path: Path) -> None:
    """classes.txt beside a darknet obj.names naming other classes: classes.txt named them without a word (review
    round 44); naming the same classes, they read."""
    root = tmp_path / "ds"
    _labelimg(root, {"labels/classes.txt": "cat\ndog\n"})
    (root / "labels" / "obj.names").write_text("dog\ncat\n")
    with pytest.raises(DatasetError) as refused:
        load(root / "labels", resize="none")
    assert str(refused.value) == (
        f"{root}/labels/obj.names: names other classes than {root}/labels/classes.txt (class 0: 'dog' against 'cat'); "
        "expected one class list, or all naming the same classes, or a data.yaml naming the classes"
    )
    (root / "labels" / "obj.names").write_text("cat\ndog\n")
    assert sorted(load(root / "labels", resize="none").table["category"]) == ["cat", "dog"]


@pytest.mark.parametrize("given", ["", "labels", "labels/train", "labels/train/a.txt"])
def test_a_classes_txt_at_the_top_of_labels_names_the_classes_from_a_split(tmp_path: Path, given: str) -> None:
    """``ds/labels/classes.txt`` names the classes whichever level of the dataset is given, as data.yaml is
    searched up to two levels above."""
    root = tmp_path / "ds"
    _labelimg(root, {"labels/classes.txt": "cat\ndog\n"})
    result = load(root / given, resize="none", strict=True)
    assert result.categories == {0: "cat", 1: "dog"}
