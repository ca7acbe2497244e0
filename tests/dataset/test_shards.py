"""Several annotation files read as one dataset: the statistics of shards equal those of the one file they were cut
from, field by field; any number of worker processes gives what one gives; image ids are per shard; categories
must agree; VOC roots are numbered by category name over all roots."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from shard_files import same, split_coco, without_source

from scalematch.dataset import read_shards, sample_path, summarize_file, summarize_files
from scalematch.dataset.loader import load, read_annotations
from scalematch.dataset.shards import _batches, _renamed, expand
from scalematch.errors import DatasetError, OptionError

DATA = Path(__file__).parents[1] / "data"
POLICIES = ["none", "shortest-edge:800,1333", "multi-scale:480-800,1333"]


@pytest.mark.parametrize("policy", POLICIES)
def test_shards_equal_the_whole_file(tmp_path: Path, policy: str) -> None:
    paths = split_coco(sample_path(), tmp_path, shards=7)
    whole = summarize_file(sample_path(), resize=policy)
    assert whole["annotations"] == 830 and whole["crowd"] == 9  # the sample, read whole
    for workers in (1, 2):
        got = summarize_files(paths, resize=policy, workers=workers)
        assert same(without_source(got), without_source(whole))
        assert got["source"] == " ".join(str(p) for p in paths)


@pytest.mark.parametrize("name", ["fce_lvis_val_100.json", "rbc_train.json", "coco_val2014_100.json"])
def test_random_splits(tmp_path: Path, name: str) -> None:
    """Images dealt at random into 2 to 9 shards (some may stay empty); an image's annotations go with it."""
    source = sample_path() if name == "coco_val2014_100.json" else DATA / name
    doc = json.loads(source.read_text(encoding="utf-8"))
    whole = summarize_file(source, resize="multi-scale:480-800,1333")
    for seed in range(3):
        rng = random.Random(seed)
        count = rng.randint(2, 9)
        shard_of = {image["id"]: rng.randrange(count) for image in doc["images"]}
        paths = []
        for k in range(count):
            part = {
                **doc,
                "images": [i for i in doc["images"] if shard_of[i["id"]] == k],
                "annotations": [a for a in doc["annotations"] if shard_of.get(a["image_id"], 0) == k],
            }
            paths.append(tmp_path / f"{seed}-{k}.json")
            paths[-1].write_text(json.dumps(part), encoding="utf-8")
        got = summarize_files(paths, resize="multi-scale:480-800,1333", workers=2)
        assert same(without_source(got), without_source(whole)), (seed, count)


def test_glob_is_sorted_and_named_as_given(tmp_path: Path) -> None:
    paths = split_coco(sample_path(), tmp_path / "shards", shards=3)
    pattern = str(tmp_path / "shards" / "*.json")
    assert expand(pattern) == tuple(sorted(paths))
    got = summarize_files(pattern)
    assert got["source"] == pattern
    assert same(without_source(got), without_source(summarize_file(sample_path())))


def test_table_of_shards(tmp_path: Path) -> None:
    paths = split_coco(sample_path(), tmp_path, shards=4)
    one = read_annotations(paths, resize="none", workers=1)
    two = read_annotations(paths, resize="none", workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    whole = load(sample_path(), resize="none")
    assert (one.images, one.excluded, one.categories) == (whole.images, whole.excluded, whole.categories)
    # the same rows as the whole file (by annotation id), each with its shard and its file's image id
    table = one.table.sort_values("ann_id").reset_index(drop=True)
    reference = whole.table.sort_values("ann_id").reset_index(drop=True)
    for column in ("ann_id", "x", "y", "w", "h", "area", "category_id", "w_in", "size_in"):
        assert np.array_equal(table[column].to_numpy(), reference[column].to_numpy()), column
    assert np.array_equal(table["shard_image_id"].to_numpy(), reference["image_id"].to_numpy())
    doc = json.loads(sample_path().read_text(encoding="utf-8"))
    shard_of = {image["id"]: k for k, p in enumerate(paths) for image in json.loads(p.read_text())["images"]}
    assert table["shard"].astype(str).tolist() == [str(paths[shard_of[i]]) for i in table["shard_image_id"]]
    assert len(doc["images"]) == one.images
    # image_id names one image over all shards
    pairs = table[["shard", "shard_image_id", "image_id"]].drop_duplicates()
    assert pairs["image_id"].is_unique and len(pairs) == table["shard_image_id"].nunique()
    assert same(without_source(one.to_dict()), without_source(summarize_files(paths, resize="none")))


def test_image_ids_are_per_shard(tmp_path: Path) -> None:
    """Two shards holding the same image ids (as per-image JSON exports that all number their image 1) are
    different images: the counts double, objects per image stay as they are."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        path.write_bytes(sample_path().read_bytes())
    single = summarize_file(sample_path(), resize="none")
    double = summarize_files([a, b], resize="none")
    assert double["images"] == 2 * single["images"] == 200
    assert double["annotations"] == 2 * single["annotations"]
    assert double["objects_per_image"] == single["objects_per_image"]
    one = load(sample_path(), resize="none").table
    values = one["size_in"].to_numpy()[~one["iscrowd"].to_numpy()]
    expected = np.quantile(np.concatenate([values, values]), [0.05, 0.25, 0.5, 0.75, 0.95])
    assert [double["size_in"][k] for k in ("q05", "q25", "q50", "q75", "q95")] == expected.tolist()
    table = read_shards([a, b], resize="none").table
    assert table["image_id"].nunique() == 2 * one["image_id"].nunique()


def test_conflicting_category_names(tmp_path: Path) -> None:
    paths = split_coco(sample_path(), tmp_path, shards=2, empty=False)
    doc = json.loads(paths[1].read_text())
    doc["categories"][0]["name"] = "human"
    paths[1].write_text(json.dumps(doc))
    expected = (
        f"{paths[1]}: category 1 is named 'human', but 'person' in {paths[0]}; the inputs must agree on their "
        "categories"
    )
    for read in (summarize_files, read_shards):
        with pytest.raises(DatasetError) as caught:
            read(paths, workers=1)
        assert str(caught.value) == expected


def test_categories_join_by_id(tmp_path: Path) -> None:
    """Shards may each list only some categories: the dataset has their union."""
    paths = split_coco(sample_path(), tmp_path, shards=2, empty=False)
    doc = json.loads(paths[0].read_text())
    used = {a["category_id"] for a in doc["annotations"]}
    doc["categories"] = [c for c in doc["categories"] if c["id"] in used]
    paths[0].write_text(json.dumps(doc))
    assert same(without_source(summarize_files(paths)), without_source(summarize_file(sample_path())))


def test_strict_names_the_first_bad_record_in_input_order(tmp_path: Path) -> None:
    paths = split_coco(sample_path(), tmp_path, shards=5, empty=False)
    for k in (2, 4):
        doc = json.loads(paths[k].read_text())
        doc["annotations"][0]["bbox"] = "no"
        paths[k].write_text(json.dumps(doc))
    first_id = json.loads(paths[2].read_text())["annotations"][0]["id"]
    for workers in (1, 2):
        with pytest.raises(DatasetError) as caught:
            summarize_files(paths, strict=True, workers=workers)
        assert str(caught.value).startswith(f"{paths[2]}: annotation id {first_id} (annotations[0]): ")
    counted = summarize_files(paths, workers=2)["excluded"]
    assert counted == {"bbox_invalid": 2}


def _voc(folder: Path, name: str, objects: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{5 + i}</xmin><ymin>7</ymin><xmax>{40 + 3 * i}</xmax>"
        f"<ymax>{30 + i}</ymax></bndbox></object>"
        for i, n in enumerate(objects)
    )
    (folder / name).write_text(
        f"<annotation><filename>{name}.jpg</filename><size><width>100</width><height>80</height></size>{body}"
        "</annotation>"
    )


def test_voc_roots_numbered_by_name(tmp_path: Path) -> None:
    """Two VOC folders whose categories come in different orders read as the one folder holding all their files."""
    files = {
        "a": {"a1.xml": ["cat", "dog"], "a2.xml": ["dog"]},
        "b": {"b1.xml": ["bird", "dog"], "b2.xml": ["cat", "bird", "bird"]},
    }
    for root, content in files.items():
        for name, objects in content.items():
            _voc(tmp_path / root, name, objects)
            _voc(tmp_path / "all", name, objects)
    roots = [tmp_path / "a", tmp_path / "b"]
    whole = load(tmp_path / "all", resize="none")
    assert whole.categories == {1: "cat", 2: "dog", 3: "bird"}
    got = summarize_files(roots, resize="none", workers=2)
    assert same(without_source(got), without_source(summarize_file(tmp_path / "all", resize="none")))
    table = read_shards(roots, resize="none", workers=2)
    assert table.categories == whole.categories
    assert table.table["category_id"].tolist() == whole.table["category_id"].tolist() == [1, 2, 2, 3, 2, 1, 3, 3]
    assert table.table["category"].astype(str).tolist() == whole.table["category"].astype(str).tolist()


def test_input_errors(tmp_path: Path) -> None:
    paths = split_coco(sample_path(), tmp_path, shards=2, empty=False)
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (str(tmp_path / "*.xml"), {}, f"{tmp_path / '*.xml'}: no file or folder matches this pattern"),
        (
            [paths[0], str(tmp_path / "*.json")],
            {},
            f"{paths[0]}: named twice among the inputs ({paths[0]}, {paths[0]} from {tmp_path / '*.json'}); give "
            "each once",
        ),
        (
            [paths[0], Path(__file__).parents[1] / "data" / "voc_rbc"],
            {},
            f"{Path(__file__).parents[1] / 'data' / 'voc_rbc'}: read as voc, but {paths[0]} as coco; all inputs "
            "must be of one format",
        ),
        (paths, {"workers": 0}, "workers: expected an integer from 1 to 1024, got 0"),
        (paths, {"workers": 1025}, "workers: expected an integer from 1 to 1024, got 1025"),
        (paths, {"client": "tcp://x:1"}, "client: expected a distributed.Client, got str"),
        ([], {}, "annotations: expected at least one file or folder, got none"),
    ]
    for inputs, options, message in cases:
        with pytest.raises((DatasetError, OptionError)) as caught:
            summarize_files(inputs, **options)
        assert str(caught.value) == message


def test_literal_name_with_glob_characters(tmp_path: Path) -> None:
    """A file whose name holds '[' is read as named, not taken for a pattern."""
    path = tmp_path / "val[1].json"
    path.write_bytes(sample_path().read_bytes())
    assert expand(str(path)) == (path,)
    assert same(without_source(summarize_files(str(path))), without_source(summarize_file(sample_path())))


@pytest.mark.parametrize("ids", [(1, 2, 3), (70000, 3, 65535), (-2, 0, 9)])
def test_category_ids_of_any_size(tmp_path: Path, ids: tuple[int, int, int]) -> None:
    """Per-category statistics for category ids within 16 bits and beyond (large, negative), counted by hand."""
    rng = random.Random(sum(ids))
    chosen = [rng.choice(ids) for _ in range(40)]
    doc = {
        "images": [{"id": i, "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in range(1, 5)],
        "annotations": [
            {"id": k, "image_id": 1 + k % 4, "category_id": c, "bbox": [1.0, 2.0, 3.0 + k, 4.0 + 2 * k],
             "area": 5.0 * k, "iscrowd": 0}
            for k, c in enumerate(chosen, 1)
        ],
        "categories": [{"id": c, "name": f"c{c}"} for c in ids],
    }  # fmt: skip
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    got = summarize_files([path], resize="none")
    for entry in got["per_category"]:
        sides = [(3.0 + k) * (4.0 + 2 * k) for k, c in enumerate(chosen, 1) if c == entry["id"]]
        assert entry["annotations"] == len(sides)
        assert entry["size_in"]["max"] == (math.sqrt(max(sides)) if sides else None)
    assert [e["id"] for e in got["per_category"]] == sorted(ids)


def test_yolo_trees(tmp_path: Path) -> None:
    """Two YOLO dataset folders (the real RBC sample, its labels split over two copies) read as the one folder."""
    import shutil

    whole = DATA / "yolo_rbc"
    labels = sorted((whole / "labels" / "test").glob("*.txt"))
    roots = [tmp_path / "a", tmp_path / "b"]
    for root, chosen in zip(roots, (labels[:1], labels[1:]), strict=True):
        shutil.copytree(whole, root)
        for label in labels:
            if label not in chosen:
                (root / "labels" / "test" / label.name).unlink()
                (root / "images" / "test" / label.with_suffix(".png").name).unlink()
    got = summarize_files(roots, workers=2)
    expected = summarize_file(whole)
    assert expected["annotations"] > 0 and got["images"] == 3
    assert same(without_source(got), without_source(expected))
    doc = (roots[1] / "data.yaml").read_text()
    (roots[1] / "data.yaml").write_text(doc.replace("wbc", "white"))
    with pytest.raises(DatasetError, match=r"category 1 is named 'white', but 'wbc' in "):
        summarize_files(roots)


def test_a_voc_file_reached_under_two_names_is_refused(tmp_path: Path) -> None:
    """A symlink (or a hard link) to an XML file that is read under its own name too would count its objects twice:
    inside one folder (the error names both names, the first in reading order first) and across two inputs."""
    import os
    import shutil

    voc = tmp_path / "v1"
    shutil.copytree(DATA / "voc_rbc" / "Annotations", voc)
    first = sorted(voc.glob("*.xml"))[0]
    other = tmp_path / "vlink"
    other.mkdir()
    os.symlink(first, other / "a_link.xml")
    for read in (read_shards, summarize_files):
        with pytest.raises(OptionError) as info:
            read([voc, other], resize="none", workers=1)
        assert str(info.value) == (
            f"{other / 'a_link.xml'}: named twice among the inputs: {voc} reads it too as {first}, so its annotations "
            "would be counted twice; give it once"
        )
    os.link(first, other / "hard.xml")  # a hard link is the same file too
    (other / "a_link.xml").unlink()
    with pytest.raises(OptionError, match=r"hard.xml: named twice among the inputs: .* reads it too as "):
        summarize_files([voc, other], resize="none", workers=1)
    os.symlink(first.name, voc / "zz_same.xml")
    for reader in (load, summarize_file):
        with pytest.raises(DatasetError) as err:
            reader(voc, resize="none")
        assert str(err.value) == (
            f"{voc / 'zz_same.xml'}: the same file as {first} (reached under two names through a link), so its "
            "objects would be counted twice; remove one of them"
        )


def test_an_input_inside_a_folder_input_is_named_twice(tmp_path: Path) -> None:
    """A folder and a file or folder it reads, both given, would count the same annotations twice: refused, naming
    both, in either order."""
    import shutil

    voc = tmp_path / "voc"
    shutil.copytree(DATA / "voc_rbc" / "Annotations", voc)
    yolo = tmp_path / "yolo"
    shutil.copytree(DATA / "yolo_rbc", yolo)
    label = yolo / "labels" / "test" / "image-80.txt"
    xml = voc / "image-80.xml"
    refused = [
        ([voc, xml], xml, voc),
        ([xml, voc], xml, voc),
        ([yolo, yolo / "labels" / "test"], yolo / "labels" / "test", yolo),
        ([label, yolo], label, yolo),
        ([yolo / "labels", label], label, yolo / "labels"),
        ([yolo / "labels", yolo], yolo, yolo / "labels"),  # both read labels/
        ([voc, voc / "sub"], voc / "sub", voc),  # a VOC folder reads its subfolders
    ]
    (voc / "sub").mkdir()
    shutil.copy(xml, voc / "sub" / "image-80.xml")
    for inputs, inner, outer in refused:
        for read in (read_shards, summarize_files):
            with pytest.raises(OptionError) as info:
                read(inputs, resize="none", workers=1)
            assert str(info.value) == (
                f"{inner}: named twice among the inputs: {outer} reads it too, so its annotations would be counted "
                "twice; give one of them"
            )


def test_a_yolo_input_without_names_is_told_how_to_join_a_named_one(tmp_path: Path) -> None:
    """Classes without names are named by their number; joined with an input that names them, the error says
    which input lacks the names and where they go."""
    for name, named in (("a", True), ("b", False)):
        root = tmp_path / name
        (root / "images").mkdir(parents=True)
        (root / "labels").mkdir()
        (root / "images" / "x.jpg").write_bytes(_JPEG)
        (root / "labels" / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        if named:
            (root / "data.yaml").write_text("names: [person]\n")
    where = "in a data.yaml or classes.txt"
    hint = f"({tmp_path / 'b'} names its classes by number: give it the names of the other, {where})"
    for read in (summarize_files, read_shards):
        with pytest.raises(DatasetError) as caught:
            read([tmp_path / "a", tmp_path / "b"], workers=1)
        assert str(caught.value) == (
            f"{tmp_path / 'b'}: category 0 has no name, but is named 'person' in {tmp_path / 'a'}; the inputs must "
            f"agree on their categories {hint}"
        )
        with pytest.raises(DatasetError) as caught:
            read([tmp_path / "b", tmp_path / "a"], workers=1)
        assert str(caught.value) == (
            f"{tmp_path / 'a'}: category 0 is named 'person', but has no name in {tmp_path / 'b'}; the inputs must "
            f"agree on their categories {hint}"
        )


def test_a_yolo_class_named_by_its_number_is_a_name(tmp_path: Path) -> None:
    """A data.yaml that names class 0 '0' gives it a name: joined with one naming it 'person', no input is told it
    names its classes by number."""
    for name, names in (("a", "[person]"), ("b", "['0']")):
        root = tmp_path / name
        (root / "images").mkdir(parents=True)
        (root / "labels").mkdir()
        (root / "images" / "x.jpg").write_bytes(_JPEG)
        (root / "labels" / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        (root / "data.yaml").write_text(f"names: {names}\n")
    with pytest.raises(DatasetError) as caught:
        summarize_files([tmp_path / "a", tmp_path / "b"], workers=1)
    assert str(caught.value) == (
        f"{tmp_path / 'b'}: category 0 is named '0', but 'person' in {tmp_path / 'a'}; the inputs must agree on "
        "their categories"
    )


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG")
    return out.getvalue()


_JPEG = _jpeg()


def test_a_table_of_several_inputs_given_back_keeps_ids_per_input(tmp_path: Path) -> None:
    """Each input numbers its annotations from 1 (as per-image exports do): the table of both, given back as a
    DataFrame, checks ids per input (its ``shard`` column), as the readers did, so no object is lost; a repeat
    inside one input is still a duplicate."""
    from scalematch.dataset.loader import from_frame

    paths = split_coco(sample_path(), tmp_path, shards=2, empty=False)
    for path in paths:
        doc = json.loads(path.read_text())
        for k, ann in enumerate(doc["annotations"], 1):
            ann["id"] = k
        path.write_text(json.dumps(doc))
    read = read_annotations(paths, resize="none", workers=1)
    again = from_frame(read.to_frame())
    assert len(again.table) == len(read.table) == len(load(sample_path(), resize="none").table)
    assert not again.excluded
    indexed = from_frame(read.to_frame().set_index(["shard", "ann_id"]))  # the table's natural key as its index
    assert len(indexed.table) == len(read.table) and not indexed.excluded
    table = read.to_frame()
    twice = pd.concat([table, table.iloc[[0]]], ignore_index=True)  # one row repeated within its input
    assert from_frame(twice).excluded == {"duplicate_id": 1}


@pytest.mark.parametrize("count", [2, 16, 40])
def test_batches_of_similar_size(count: int) -> None:
    """Inputs of about equal size, as many as batches asked for, go one to a batch (a worker's share is not two
    of them while another's is one); every input once, in order; a folder (size 0) alone; at most 64 per batch."""
    rng = random.Random(count)
    sizes = [rng.randint(95, 100) for _ in range(count)]
    names = [f"part-{k}" for k in range(count)]
    assert [b for b, _ in _batches(names, sizes, count)] == [[n] for n in names]
    sizes = [rng.choice([0, 1, 2, 500, 5000]) for _ in range(300)]
    names = [f"in-{k}" for k in range(300)]
    batches = _batches(names, sizes, count)
    assert [n for b, _ in batches for n in b] == names
    assert all(1 <= len(b) <= 64 for b, _ in batches)
    by_name = dict(zip(names, sizes, strict=True))
    assert all(size == sum(by_name[n] for n in b) for b, size in batches)
    assert all(len(b) == 1 for b, _ in batches if any(by_name[n] == 0 for n in b))
    assert all(len(b) == 1 for b, _ in batches if any(by_name[n] >= sum(sizes) / count for n in b))


def test_nested_voc_objects_of_several_inputs_follow_their_images(tmp_path: Path) -> None:
    """The VOC objects nested in another element (``LoadResult.nested``, matched by the YOLO presets only) of
    several inputs are joined as the table is: image ids numbered over all inputs, an image with nested objects
    only among them; the same as one folder holding every file (nothing nested lost or counted twice)."""
    from scalematch.match.detector import with_nested
    from scalematch.presets import load_preset

    def obj(name: str, x: int, inner: str = "") -> str:
        box = f"<xmin>{x}</xmin><ymin>10</ymin><xmax>{x + 20}</xmax><ymax>30</ymax>"
        return f"<object><name>{name}</name><difficult>0</difficult><bndbox>{box}</bndbox>{inner}</object>"

    size = "<size><width>100</width><height>80</height><depth>3</depth></size>"
    files = {
        "a/a1.xml": obj("dog", 10, "<part>" + obj("cat", 40) + "</part>"),
        "a/a2.xml": obj("cat", 5),
        "b/b1.xml": "<group>" + obj("dog", 50) + "</group>",  # nested objects only
        "b/b2.xml": obj("dog", 30, obj("dog", 60)),
    }
    for name, objects in files.items():
        for where in (tmp_path / name, tmp_path / "all" / Path(name).name):
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text(f"<annotation><filename>{where.stem}.jpg</filename>{size}{objects}</annotation>")
    yolo = load_preset("yolov8")
    both = with_nested(read_annotations([tmp_path / "a", tmp_path / "b"], resize="none", workers=1), yolo).table
    one = with_nested(load(tmp_path / "all", resize="none"), yolo).table
    columns = ["image_id", "category", "x", "label_index"]
    assert (
        both[columns].sort_values(columns).to_numpy().tolist() == one[columns].sort_values(columns).to_numpy().tolist()
    )
    assert len(both) == 6 and int(both["image_id"].nunique()) == 4
    assert len(read_annotations([tmp_path / "a", tmp_path / "b"], resize="none", workers=1).table) == 3


def test_a_cluster_error_is_renamed_when_the_name_holds_a_newline() -> None:
    """A worker's error names the input by its absolute name; it is replaced by the name given, found in the
    message as raised (its text escapes the newline: review round 25, F5)."""
    error = _renamed(DatasetError("/data/a\nb.json: not valid JSON"), {"/data/a\nb.json": "a\nb.json"})
    assert type(error) is DatasetError
    assert str(error) == "a\\nb.json: not valid JSON"
