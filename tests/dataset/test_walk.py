"""How the YOLO (and VOC) reader walks a dataset folder, checked against ultralytics' own listing: ``get_img_files``
(``glob.glob('<images>/**/*.*', recursive=True)``, which follows links to folders and lists no hidden name) and
``img2label_paths``. Links to folders are followed, each folder once; hidden names are counted as
``hidden_file``; a folder that cannot be read is one ``Error:`` line naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from scalematch.dataset import load

ROOT = Path(__file__).resolve().parents[2]
BOX = "0 0.5 0.5 0.2 0.2\n"


def _pair(images: Path, labels: Path, name: str, size: tuple[int, int]) -> None:
    """An image ``name.png`` of ``size`` in ``images`` and its label file in ``labels``."""
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    Image.new("L", size).save(images / f"{name}.png")
    (labels / f"{name}.txt").write_text(BOX)


def _linked_tree(root: Path) -> Path:
    """A dataset whose train split folders are links (with a subfolder and a hidden folder behind them), a val
    split with Jupyter checkpoints, hidden files and an image without labels, and a hidden folder of images."""
    store, ds = root / "store", root / "ds"
    _pair(store / "img_train", store / "lab_train", "a", (64, 48))
    _pair(store / "img_train" / "sub", store / "lab_train" / "sub", "c", (30, 20))
    _pair(store / "img_train" / ".hidden", store / "lab_train" / ".hidden", "y", (8, 8))  # 2 hidden files
    _pair(ds / "images" / "val", ds / "labels" / "val", "b", (32, 16))
    checkpoints = [ds / folder / "val" / ".ipynb_checkpoints" for folder in ("images", "labels")]
    _pair(checkpoints[0], checkpoints[1], "b-checkpoint", (5, 5))  # 2 hidden files
    _pair(ds / "images" / "val", ds / "labels" / "val", ".d", (6, 6))  # 2 hidden files
    Image.new("L", (10, 10)).save(ds / "images" / "val" / "e.png")  # no label file: an image without objects
    (ds / "images" / ".cache").mkdir()
    Image.new("L", (7, 7)).save(ds / "images" / ".cache" / "x.png")  # 1 hidden file
    (ds / "images" / "train").symlink_to(store / "img_train")
    (ds / "labels" / "train").symlink_to(store / "lab_train")
    return ds


def _hidden_split_tree(root: Path) -> Path:
    """The train split is a link to a hidden folder beside it: read as train (ultralytics lists it so)."""
    ds = root / "ds"
    _pair(ds / "images" / ".backup", ds / "labels" / ".backup", "a", (64, 48))
    (ds / "images" / "train").symlink_to(".backup")
    (ds / "labels" / "train").symlink_to(".backup")
    return ds


def _linked_images_split(root: Path) -> Path:
    """The val split's images are the train images through a link (``images/val -> train``), with labels of its
    own: ultralytics lists ``images/val/a.png`` and pairs it with ``labels/val/a.txt``."""
    ds = root / "ds"
    _pair(ds / "images" / "train", ds / "labels" / "train", "a", (64, 48))
    _pair(ds / "images" / "train", ds / "labels" / "train", "b", (32, 16))
    (ds / "labels" / "val").mkdir()
    (ds / "labels" / "val" / "a.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    (ds / "images" / "val").symlink_to("train")
    return ds


def _linked_labels_split(root: Path) -> Path:
    """The val split's labels are the train labels through a link (``labels/val -> train``), with images of its
    own (other sizes): ultralytics pairs ``images/val/a.png`` with ``labels/val/a.txt``, the train file."""
    ds = root / "ds"
    _pair(ds / "images" / "train", ds / "labels" / "train", "a", (64, 48))
    _pair(ds / "images" / "train", ds / "labels" / "train", "b", (32, 16))
    (ds / "images" / "val").mkdir()
    Image.new("L", (100, 20)).save(ds / "images" / "val" / "a.png")
    (ds / "labels" / "val").symlink_to("train")
    return ds


def _ultralytics(ds: Path) -> list[tuple[str, str, tuple[int, int]]]:
    """(label file relative to ``ds``, image name, image size) of each image ultralytics lists that has a label
    file, in the order of its list."""
    base = pytest.importorskip("ultralytics.data.base")
    utils = pytest.importorskip("ultralytics.data.utils")
    images = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), str(ds / "images"))
    pairs = []
    for image, label in zip(images, utils.img2label_paths(images), strict=True):
        if os.path.isfile(label):
            with Image.open(image) as im:
                pairs.append((Path(label).relative_to(ds).as_posix(), Path(image).name, im.size))
    return pairs


@pytest.mark.parametrize(
    ("tree", "hidden"),
    [(_linked_tree, 7), (_hidden_split_tree, 0), (_linked_images_split, 0), (_linked_labels_split, 0)],
)
def test_the_pairs_are_those_ultralytics_lists(tmp_path: Path, tree: object, hidden: int) -> None:
    ds = tree(tmp_path)  # type: ignore[operator]
    expected = _ultralytics(ds)
    result = load(ds, resize="none")
    table = result.table
    got = list(zip(table["label_file"].astype(str), table["file_name"].astype(str), strict=True))
    sizes = [(int(w), int(h)) for w, h in table[["image_w", "image_h"]].values.tolist()]
    assert sorted(zip(got, sizes, strict=True)) == sorted(((lab, img), size) for lab, img, size in expected)
    assert [lab for lab, _ in got] == sorted((lab for lab, _, _ in expected), key=lambda p: Path(p).parts)
    base = pytest.importorskip("ultralytics.data.base")
    listed = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), str(ds / "images"))
    assert result.images == len(listed)  # every image ultralytics lists, those without labels too
    assert result.excluded == ({"hidden_file": hidden} if hidden else {})


def test_the_linked_tree_is_what_the_test_means(tmp_path: Path) -> None:
    """The oracle's own view of the tree: the linked split and its subfolder are listed, nothing hidden is."""
    names = sorted(Path(p).name for p in _ultralytics_images(_linked_tree(tmp_path)))
    assert names == ["a.png", "b.png", "c.png", "e.png"]


def _ultralytics_images(ds: Path) -> list[str]:
    base = pytest.importorskip("ultralytics.data.base")
    listed: list[str] = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), str(ds / "images"))
    return listed


def test_link_loops_and_folders_reached_twice_are_read_once(tmp_path: Path) -> None:
    """``labels/train/up -> ..``, ``images/val/loop -> .`` and ``labels/all -> train`` are not read twice: each
    label file and image is read under its name without a link (glob would list the loop's files again on every
    turn, up to 40 deep); ``ds/labels/up -> ..`` (the dataset folder) too."""
    ds = tmp_path / "ds"
    _pair(ds / "images" / "train", ds / "labels" / "train", "a", (64, 48))
    _pair(ds / "images" / "val", ds / "labels" / "val", "b", (32, 16))
    (ds / "labels" / "train" / "up").symlink_to("..")
    (ds / "images" / "val" / "loop").symlink_to(".")
    (ds / "labels" / "all").symlink_to("train")
    (ds / "images" / "all").symlink_to("train")
    for given, files in (
        (ds, ["labels/train/a.txt", "labels/val/b.txt"]),
        (ds / "labels", ["train/a.txt", "val/b.txt"]),
    ):
        result = load(given, resize="none")
        assert result.table["label_file"].astype(str).tolist() == files
        assert result.table[["image_w", "image_h"]].values.tolist() == [[64.0, 48.0], [32.0, 16.0]]
        assert result.images == 2 and result.excluded == {}
    (ds / "labels" / "up").symlink_to("..")
    result = load(ds, resize="none")
    assert result.table["label_file"].astype(str).tolist() == ["labels/train/a.txt", "labels/val/b.txt"]
    assert result.images == 2 and result.excluded == {}


def test_workers_do_not_change_the_result(app: typer.Typer, tmp_path: Path) -> None:
    ds = _linked_tree(tmp_path)
    runs = [CliRunner().invoke(app, ["stats", "-q", "--json", "--workers", w, str(ds)]) for w in ("1", "2", "1")]
    assert all(run.exit_code == 0 for run in runs), [run.output for run in runs]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert json.loads(runs[0].stdout)["excluded"] == {"hidden_file": 7}


def _cli(prefix: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess[str]:
    code = "from scalematch.cli.main import app; app()"
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )


# (folder made unreadable, inside the dataset; the arguments, ds standing for the dataset; the folder named)
UNREADABLE = [
    ("labels/val", ["stats", "ds"], "labels/val"),
    ("labels/val", ["stats", "--strict", "ds"], "labels/val"),
    ("labels/val", ["stats", "ds/labels"], "labels/val"),  # not labels/val/labels, which does not exist
    ("labels/val", ["recommend", "--detector", "yolov8", "ds"], "labels/val"),
    ("images/val", ["stats", "ds"], "images/val"),
    ("images/val", ["stats", "ds/labels/val"], "images/val"),
    ("images", ["stats", "ds/labels/val"], "images"),  # not images/val
    ("labels", ["stats", "ds"], "labels"),  # not labels/classes.txt, looked for in it
    ("labels/val/.ipynb_checkpoints", ["stats", "ds"], "labels/val/.ipynb_checkpoints"),  # hidden: not counted
    ("sub", ["stats", "--image-size", "100x100", "ds"], "sub"),  # a flat folder: not sub/labels
]


@pytest.mark.parametrize(("folder", "argv", "named"), UNREADABLE, ids=[f"{c[0]}-{' '.join(c[1])}" for c in UNREADABLE])
def test_an_unreadable_folder_is_an_error_naming_it(
    tmp_path: Path, unprivileged: tuple[str, ...], locked: list[Path], folder: str, argv: list[str], named: str
) -> None:
    ds = tmp_path / "ds"
    if folder == "sub":
        (ds / "sub").mkdir(parents=True)
        (ds / "a.txt").write_text(BOX)
        (ds / "sub" / "b.txt").write_text(BOX)
    else:
        for split in ("train", "val"):
            _pair(ds / "images" / split, ds / "labels" / split, "a", (64, 48))
        (ds / "labels" / "val" / ".ipynb_checkpoints").mkdir()
    (ds / folder).chmod(0)
    locked.append(ds / folder)
    run = _cli(unprivileged, *[str(tmp_path / a) if a.startswith("ds") else a for a in argv], "-q")
    assert (run.returncode, run.stdout, run.stderr) == (2, "", f"Error: {ds / named}: Permission denied\n")


def test_an_unreadable_folder_is_a_dataset_error(
    tmp_path: Path, unprivileged: tuple[str, ...], locked: list[Path]
) -> None:
    ds = tmp_path / "ds"
    _pair(ds / "images" / "val", ds / "labels" / "val", "a", (64, 48))
    (ds / "labels" / "val").chmod(0)
    locked.append(ds / "labels" / "val")
    code = (
        "import sys\nfrom scalematch.dataset import load\nfrom scalematch.errors import DatasetError\n"
        f"try:\n    load({str(ds)!r})\nexcept DatasetError as exc:\n    print(exc)\n"
    )
    run = subprocess.run(
        [*unprivileged, sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, f"{ds / 'labels' / 'val'}: Permission denied\n", "")


VOC = (
    "<annotation><filename>{name}.jpg</filename><size><width>100</width><height>80</height></size>"
    "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>"
    "</annotation>"
)


def test_a_voc_folder_reached_twice_is_read_under_its_name_without_a_link(tmp_path: Path) -> None:
    """The VOC reader walks as the YOLO one: ``voc/b -> a`` and ``voc/a/up -> ..`` are not read again, and the
    name of ``a``'s files is ``a/...`` whatever order the folder lists its entries in."""
    voc = tmp_path / "voc"
    (voc / "a").mkdir(parents=True)
    (voc / "a" / "t.xml").write_text(VOC.format(name="t"))
    (voc / "s.xml").write_text(VOC.format(name="s"))
    (voc / "b").symlink_to("a")
    (voc / "a" / "up").symlink_to("..")
    result = load(voc, resize="none")
    assert result.table["label_file"].astype(str).tolist() == ["a/t.xml", "s.xml"]


def test_an_unreadable_voc_folder_is_the_same_error(
    tmp_path: Path, unprivileged: tuple[str, ...], locked: list[Path]
) -> None:
    voc = tmp_path / "voc"
    (voc / "sub").mkdir(parents=True)
    (voc / "a.xml").write_text(VOC.format(name="a"))
    (voc / "sub").chmod(0)
    locked.append(voc / "sub")
    run = _cli(unprivileged, "stats", str(voc), "-q")
    assert (run.returncode, run.stdout, run.stderr) == (2, "", f"Error: {voc / 'sub'}: Permission denied\n")
    code = (
        "from scalematch.dataset import load\nfrom scalematch.errors import DatasetError\n"
        f"try:\n    load({str(voc)!r})\nexcept DatasetError as exc:\n    print(exc)\n"
    )
    api = subprocess.run([*unprivileged, sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert (api.returncode, api.stdout, api.stderr) == (0, f"{voc / 'sub'}: Permission denied\n", "")


def _reaching_tree(root: Path) -> Path:
    """``y1`` whose val split folders are links to another dataset, ``real``, and one of whose train label files
    is a link to a file elsewhere; and ``voc2`` with a link to another VOC folder."""
    _pair(root / "y1" / "images" / "train", root / "y1" / "labels" / "train", "a", (64, 48))
    _pair(root / "real" / "images", root / "real" / "labels", "b", (32, 16))
    (root / "y1" / "images" / "val").symlink_to(root / "real" / "images")
    (root / "y1" / "labels" / "val").symlink_to(root / "real" / "labels")
    (root / "ext").mkdir()
    (root / "ext" / "c.txt").write_text(BOX)
    Image.new("L", (20, 20)).save(root / "y1" / "images" / "train" / "c.png")
    (root / "y1" / "labels" / "train" / "c.txt").symlink_to(root / "ext" / "c.txt")
    xml = "<annotation><size><width>9</width><height>9</height></size><object><name>a</name><bndbox><xmin>1</xmin>"
    xml += "<ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"
    for folder in ("voc2", "vocreal"):
        (root / folder).mkdir()
        (root / folder / f"{folder}.xml").write_text(xml)
    (root / "voc2" / "linked").symlink_to(root / "vocreal")
    (root / "ext" / "v.lnk").symlink_to(root / "vocreal" / "vocreal.xml")  # a link of another suffix to a VOC file
    return root


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats", "{r}/y1", "{r}/y1/labels/val"],
         "{r}/y1/labels/val/b.txt: named twice among the inputs: {r}/y1 reads it too, so its annotations would be "
         "counted twice; give it once"),
        (["stats", "{r}/y1", "{r}/real"],
         "{r}/real/labels/b.txt: named twice among the inputs: {r}/y1 reads it too as {r}/y1/labels/val/b.txt, so its "
         "annotations would be counted twice; give it once"),
        (["stats", "{r}/y1", "--csv", "{r}/real/labels/b.txt"],
         "--csv {r}/real/labels/b.txt: lies in the input folder {r}/y1/labels/val; choose a file outside it"),
        (["stats", "{r}/y1", "--csv", "{r}/ext/c.txt"],
         "--csv {r}/ext/c.txt: is the input {r}/y1/labels/train/c.txt; choose another file"),
        (["recommend", "{r}/y1", "--detector", "yolov8", "--out", "{r}/real/images/rep"],
         "--out {r}/real/images/rep: lies in the input folder {r}/y1/images/val; choose a folder outside it"),
        (["stats", "{r}/voc2", "--csv", "{r}/vocreal/vocreal.xml"],
         "--csv {r}/vocreal/vocreal.xml: lies in the input folder {r}/voc2/linked; choose a file outside it"),
        # a label file given through a link: the folder of the file it names is read as a dataset too (round 44)
        (["stats", "{r}/y1/labels/train/c.txt", "--csv", "{r}/ext/new.txt"],
         "--csv {r}/ext/new.txt: lies beside or below the label file {r}/y1/labels/train/c.txt given, where a read of "
         "its folder (with its subfolders) would take it as one; choose another place or suffix"),
        # and one named with another suffix, read with --format voc: its file's suffix counts (round 46, C10)
        (["stats", "{r}/ext/v.lnk", "--format", "voc", "--csv", "{r}/vocreal/n.xml"],
         "--csv {r}/vocreal/n.xml: lies beside or below the annotation file {r}/ext/v.lnk given, where a read of its "
         "folder (with its subfolders) would take it as one; choose another place or suffix"),
    ],
)  # fmt: skip
def test_what_an_input_reaches_through_links_is_never_read_twice_or_written(
    app: typer.Typer, tmp_path: Path, argv: list[str], message: str
) -> None:
    root = _reaching_tree(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, ["-q" if a == "-q" else a.format(r=root) for a in [argv[0], "-q", *argv[1:]]])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message.format(r=root)}\n"
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_sibling_folders_linked_both_ways_are_read_without_end(tmp_path: Path) -> None:
    """``labels/a/b -> ../b`` and ``labels/b/a -> ../a`` make no loop back to a folder above, but each reaches the
    other: every name is read (a/b/x.txt is b/x.txt under another name, paired with images/a/b/x.png), and a
    link back up stops."""
    ds = tmp_path / "ds"
    _pair(ds / "images" / "a", ds / "labels" / "a", "x", (64, 48))
    _pair(ds / "images" / "b", ds / "labels" / "b", "y", (32, 16))
    for folder in ("images", "labels"):
        (ds / folder / "a" / "b").symlink_to("../b")
        (ds / folder / "b" / "a").symlink_to("../a")
    expected = _ultralytics_pairs_without_loops(ds)
    result = load(ds, resize="none")
    assert result.table["label_file"].astype(str).tolist() == expected
    assert result.images == 2 and result.excluded == {}


def _ultralytics_pairs_without_loops(ds: Path) -> list[str]:
    """The label files of the distinct (label file, image) pairs ultralytics lists, by the first name in path
    order: glob follows the links to its depth limit, giving the same pairs again under longer names."""
    base = pytest.importorskip("ultralytics.data.base")
    utils = pytest.importorskip("ultralytics.data.utils")
    images = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), str(ds / "images"))
    seen: dict[tuple[int, int], str] = {}
    for image, label in sorted(zip(images, utils.img2label_paths(images), strict=True), key=lambda p: len(p[1])):
        if os.path.isfile(label):
            key = (os.stat(label).st_ino, os.stat(image).st_ino)
            seen.setdefault(key, Path(label).relative_to(ds).as_posix())
    return sorted(seen.values())


def test_links_that_multiply_the_names_of_a_folder_are_an_error(tmp_path: Path) -> None:
    """Six sibling folders each linked from the five others make no loop back up, but give each folder more than
    64 names (glob would list their files under each): one error naming a folder, at once."""
    from scalematch.errors import DatasetError

    labels = tmp_path / "ds" / "labels"
    names = "abcdef"
    for name in names:
        (labels / name).mkdir(parents=True)
        (labels / name / f"{name}.txt").write_text(BOX)
    for name in names:
        for other in names.replace(name, ""):
            (labels / name / other).symlink_to(f"../{other}")
    with pytest.raises(DatasetError, match=rf"^{labels}/\S+: reached through links under more than 64 names; "):
        load(tmp_path / "ds", resize="none", image_size=(10, 10))


def _linked_splits(root: Path) -> None:
    """One split, ``real/{images,labels}/train`` (2 images, 3 objects), reached through links: ``labtrain`` to its
    labels, ``imgtrain`` to its images; and ``ds2`` whose ``images`` is a link to a shared store without an
    ``images`` component (``store/pics``), its labels in ``ds2/labels``."""
    for name, size, lines in (("a", (64, 48), "0 0.5 0.5 0.2 0.2\n0 0.3 0.3 0.1 0.1\n"), ("b", (32, 16), BOX)):
        for images, labels in ((root / "real/images/train", root / "real/labels/train"),
                               (root / "store/pics/train", root / "ds2/labels/train")):  # fmt: skip
            images.mkdir(parents=True, exist_ok=True)
            labels.mkdir(parents=True, exist_ok=True)
            Image.new("L", size).save(images / f"{name}.jpg")
            (labels / f"{name}.txt").write_text(lines)
    (root / "labtrain").symlink_to("real/labels/train")
    (root / "imgtrain").symlink_to("real/images/train")
    (root / "ds2" / "images").symlink_to("../store/pics")


def _trained_on(root: Path, folder: str) -> list[tuple[str, int, int, str]]:
    """(image name, image size, label line) of every object ultralytics trains on with a data.yaml whose
    ``train:`` names ``folder``: ``check_det_dataset``'s resolved path, ``get_img_files`` and ``img2label_paths``."""
    base = pytest.importorskip("ultralytics.data.base")
    utils = pytest.importorskip("ultralytics.data.utils")
    cfg = root / f"data_{folder.replace('/', '_')}.yaml"
    cfg.write_text(f"path: {root}\ntrain: {folder}\nval: {folder}\nnames: {{0: cat}}\n")
    train = utils.check_det_dataset(str(cfg), autodownload=False)["train"]
    images = base.BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), train)
    objects = []
    for image, label in zip(images, utils.img2label_paths(images), strict=True):
        if os.path.isfile(label):
            with Image.open(image) as im:
                objects += [(Path(image).name, *im.size, line) for line in Path(label).read_text().splitlines()]
    return sorted(objects)


def _read_objects(given: Path) -> list[tuple[str, int, int, str]]:
    """(image name, image size, label line) of every object scalematch reads from ``given``."""
    result = load(given, resize="none")
    objects = []
    table = result.table
    columns = ("file_name", "image_w", "image_h", "label_file", "label_index")
    rows = zip(*(table[column].tolist() for column in columns), strict=True)
    for name, width, height, label_file, index in rows:
        label = (given if given.is_dir() else given.parent) / str(label_file)
        if not label.is_file():  # an images folder given: label files are named relative to its labels folder
            real = Path(os.path.realpath(given))
            label = real.parents[1] / "labels" / real.name / str(label_file)
        line = label.read_text().splitlines()[int(index) - 1]
        objects.append((str(name), int(width), int(height), line))
    return sorted(objects)


@pytest.mark.parametrize(
    ("given", "folder"),
    [("labtrain", "imgtrain"), ("imgtrain", "imgtrain"), ("labtrain", "real/images/train"),
     ("real/labels/train", "imgtrain"), ("real", "real/images")],
)  # fmt: skip
def test_folders_reached_through_links_read_what_ultralytics_resolves(tmp_path: Path, given: str, folder: str) -> None:
    """ultralytics resolves the folder data.yaml names (``(path / data[k]).resolve()``) before ``img2label_paths``:
    a split reached through a link to its labels or its images reads the objects ultralytics trains on, object by
    object (each an image, its size and its label line)."""
    _linked_splits(tmp_path)
    expected = _trained_on(tmp_path, folder)
    assert len(expected) == 3
    assert _read_objects(tmp_path / given) == expected


@pytest.mark.parametrize("given", ["ds2", "ds2/labels", "ds2/labels/train", "ds2/images", "ds2/images/train"])
def test_images_linked_where_ultralytics_finds_no_labels_are_refused(tmp_path: Path, given: str) -> None:
    """``ds2/images -> ../store/pics``: ultralytics resolves ``images/train`` to ``store/pics/train``, which has no
    ``images`` component, and looks for each image's labels beside it: it trains on no object of ``ds2/labels``.
    Reading them as pairs would measure objects ultralytics never sees: one error naming the linked folder."""
    from scalematch.errors import DatasetError

    _linked_splits(tmp_path)
    for folder in ("images", "images/train"):
        assert _trained_on(tmp_path / "ds2", folder) == []
    linked = "ds2/images" + ("/train" if given.endswith("train") else "")
    with pytest.raises(DatasetError, match=rf"^{tmp_path / linked}: a link to {tmp_path / 'store/pics'}"):
        load(tmp_path / given, resize="none")


def test_a_linked_images_folder_is_found_as_yolo(app: typer.Typer, tmp_path: Path) -> None:
    """``imgtrain -> real/images/train`` is an images folder, as its real path is: found as YOLO without
    ``--format``, and the CLI reads the 3 objects ultralytics trains on."""
    _linked_splits(tmp_path)
    for given in ("imgtrain", "labtrain"):
        result = CliRunner().invoke(app, ["stats", "-q", "--json", str(tmp_path / given)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["annotations"] == 3


def test_a_split_linked_to_another_is_read_as_the_folder_data_yaml_names(tmp_path: Path) -> None:
    """``images/val -> train`` with its own ``labels/val``: ``ds/images/val`` stands for ``val: images/val``,
    which ultralytics resolves to ``images/train`` and pairs with ``labels/train`` (its objects, object by object);
    ``ds/labels/val`` is refused, as ultralytics never reads those labels with ``images/val``."""
    from scalematch.errors import DatasetError

    ds = _linked_images_split(tmp_path)
    expected = _trained_on(ds, "images/val")
    assert len(expected) == 2
    assert _read_objects(ds / "images" / "val") == expected
    with pytest.raises(DatasetError, match=rf"^{ds / 'images' / 'val'}: a link to {ds / 'images' / 'train'}; "):
        load(ds / "labels" / "val", resize="none")
