"""VOC under the presets whose toolkits read VOC themselves, object by object against their own code: mmdetection's
XMLDataset (corners ``int(float(v)) - 1``, any non-zero ``difficult`` ignored, no COCO filter) with its Resize and
ATSSAssigner, and the VOC converter of ultralytics' ``VOC.yaml`` (``w = xmax - xmin``, only ``difficult`` 1 left
out) with yolov5's build_targets and ultralytics' TaskAlignedAssigner candidates. On the real VOC folder of the
tests and on a generated one with fractional corners, one-pixel boxes and ``difficult`` values 0, 1, 2, 07, -1."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from required import need

from scalematch.dataset import load
from scalematch.match.detector import evaluate
from scalematch.presets import load_preset

DATA = Path(__file__).parent.parent / "data"
CLASSES = ["cat", "dog", "person"]
DIFFICULT = ["0", "1", "2", "07", "-1", None]

pytestmark = pytest.mark.slow


def _generated(folder: Path, absent: bool = True) -> Path:
    """Four images of 12 objects; ``absent``: some without <difficult> (ultralytics' converter fails on those)."""
    rng = random.Random(7)
    folder.mkdir()
    for k, (w, h) in enumerate([(500, 375), (353, 500), (1000, 600), (640, 640)]):
        objects = []
        for j in range(12):
            x1 = rng.choice([rng.randint(1, w - 60), round(rng.uniform(1, w - 60), 1)])
            y1 = rng.choice([rng.randint(1, h - 60), round(rng.uniform(1, h - 60), 1)])
            side = 0 if j % 6 == 5 else rng.choice([rng.randint(3, 50), round(rng.uniform(3, 50), 2)])
            x2, y2 = x1 + side, y1 + (side if j % 4 else rng.randint(3, 50))
            d = DIFFICULT[j % len(DIFFICULT)] or (None if absent else "0")
            flag = "" if d is None else f"<difficult>{d}</difficult>"
            objects.append(
                f"<object><name>{CLASSES[j % 3]}</name>{flag}<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
                f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
            )
        (folder / f"img{k}.xml").write_text(
            f"<annotation><filename>img{k}.jpg</filename><size><width>{w}</width><height>{h}</height>"
            f"<depth>3</depth></size>{''.join(objects)}</annotation>",
            encoding="utf-8",
        )
    return folder


def _ours(folder: Path, detector: str) -> dict[tuple[str, int], list[int]]:
    preset = load_preset(detector)
    frame = evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1).to_frame("objects")
    levels = [c for c in frame.columns if c.startswith(("positives_P", "candidates_P"))]
    out = {}
    for name, row in zip(frame["annotation_id"], frame[levels].to_numpy().tolist(), strict=True):
        file, number = name.rsplit(":", 1)
        out[(Path(file).name, int(number))] = row
    return out


def _folders(tmp_path: Path, absent: bool = True) -> list[Path]:
    return [DATA / "voc_rbc" / "Annotations", _generated(tmp_path / "gen", absent)]


def test_atss_against_mmdetections_xmldataset(tmp_path: Path) -> None:
    need("mmdet")
    import mmdet_ref

    for folder in _folders(tmp_path):
        classes = sorted({c for c in CLASSES} | ({"rbc", "wbc", "platelets"} if "rbc" in str(folder) else set()))
        truth = mmdet_ref.atss_positives_voc(folder, classes)
        ours = _ours(folder, "atss")
        assert ours == truth
        assert len({sum(v) for v in truth.values()}) > 2  # the counts vary: the comparison proves something


@pytest.mark.parametrize("detector", ["yolov5", "yolov8"])
def test_yolo_against_ultralytics_voc_converter(detector: str, tmp_path: Path) -> None:
    need("ultralytics")
    import yolo_ref

    zeros = 0
    for n, folder in enumerate(_folders(tmp_path, absent=False)):
        classes = ["rbc", "wbc", "platelets"] if "rbc" in str(folder) else CLASSES
        items = yolo_ref.voc_labels(folder, classes, tmp_path / f"converted{n}")
        if detector == "yolov5":
            need("yolov5.utils.loss")
            truth = yolo_ref.yolov5_positives(items)
        else:
            truth = yolo_ref.ultralytics_candidates(items)
        ours = _ours(folder, detector)
        # The converter writes one line per object it keeps, in file order: ours in the same order per file. A
        # one-pixel VOC box (xmin == xmax) is a zero-wide label there: yolov5 matches it to no anchor, ultralytics
        # keeps it as a target (its assigner widens small sides), and so does the simulation.
        for item in items:
            file = item["ids"][0][0] if item["ids"] else None
            mine = [v for (f, _), v in sorted(ours.items()) if f == file]
            assert mine == [truth[i] for i in item["ids"]], file
            zeros += int((item["xywhn"][:, 2] * item["xywhn"][:, 3] == 0).sum())
        assert sum(len(i["ids"]) for i in items) == len(ours)
        assert len({sum(v) for v in truth.values()}) > 2
    assert zeros  # zero-wide labels are among those compared


@pytest.mark.parametrize("detector", ["yolov5", "yolov8"])
def test_an_object_outside_its_image_makes_the_toolkit_refuse_the_file(detector: str, tmp_path: Path) -> None:
    """An object wholly outside its image is left out of the table (``bbox_outside_image``), but the VOC converter
    writes its label: out of bounds, ``verify_image_label`` refuses the whole file, so the toolkit trains on none of
    the image's objects; a difficult one is not written and refuses nothing."""
    need("ultralytics")
    import yolo_ref
    from PIL import Image

    extra = [("150", "200", "0"), ("100.3", "120", "0"), ("-40", "-10", "0"), ("150", "200", "1"), None]
    folder = tmp_path / "voc"
    folder.mkdir()
    for k, box in enumerate(extra):
        objects = ["<object><name>dog</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>10</ymin>"
                   "<xmax>60</xmax><ymax>50</ymax></bndbox></object>"]  # fmt: skip
        if box:
            objects.append(f"<object><name>cat</name><difficult>{box[2]}</difficult><bndbox><xmin>{box[0]}</xmin>"
                           f"<ymin>20</ymin><xmax>{box[1]}</xmax><ymax>40</ymax></bndbox></object>")  # fmt: skip
        size = "<size><width>100</width><height>80</height><depth>3</depth></size>"
        xml = f"<annotation><filename>i{k}.jpg</filename>{size}{''.join(objects)}</annotation>"
        (folder / f"i{k}.xml").write_text(xml)
    out = tmp_path / "converted"
    yolo_ref.voc_labels(folder, CLASSES, out)
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    theirs = {}
    for k in range(len(extra)):
        image = tmp_path / f"i{k}.jpg"
        Image.new("RGB", (100, 80)).save(image)
        args: tuple[object, ...] = (str(image), str(out / f"i{k}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, len(CLASSES), 0, 0, False)
        theirs[f"i{k}.xml"] = bool(verify(args)[-2])
    preset = load_preset(detector)
    frame = evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1).to_frame("objects")
    dropped = {str(a).rsplit(":", 1)[0]: r == "dropped_by_pipeline"
               for a, r in zip(frame["annotation_id"], frame["no_positive_reason"], strict=True)}  # fmt: skip
    assert dropped == theirs
    assert 0 < sum(theirs.values()) < len(theirs)


@pytest.mark.parametrize("detector", ["yolov5", "yolov8"])
def test_nested_objects_are_read_as_the_yolo_converter_reads_them(detector: str, tmp_path: Path) -> None:
    """An ``<object>`` nested in another element: the converter of ``VOC.yaml`` walks ``root.iter('object')`` and
    writes it. In bounds, the toolkit trains on it (positives compared object by object); out of bounds (partly or
    wholly outside), ``verify_image_label`` refuses the file; difficult, it is not written. The other presets and
    the table leave it out (mmdetection's and detectron2's ``findall('object')``)."""
    need("ultralytics")
    import yolo_ref
    from PIL import Image

    def obj(name: str, box: tuple[int, int, int, int], inner: str = "", difficult: int = 0) -> str:
        corners = "".join(f"<{k}>{v}</{k}>" for k, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
        return (
            f"<object><name>{name}</name><difficult>{difficult}</difficult><bndbox>{corners}</bndbox>{inner}</object>"
        )

    dog = (10, 10, 60, 50)
    files = [
        obj("dog", dog, "<part>" + obj("cat", (30, 20, 90, 70)) + "</part>"),  # in bounds: trained on
        obj("dog", dog, "<part>" + obj("cat", (95, 20, 130, 40)) + "</part>"),  # partly outside: refused
        obj("dog", dog, "<part>" + obj("cat", (150, 20, 190, 40)) + "</part>"),  # wholly outside: refused
        obj("dog", dog, "<part>" + obj("cat", (150, 20, 190, 40), difficult=1) + "</part>"),  # not written
        obj("dog", dog) + "<group>" + obj("cat", (20, 30, 45, 75)) + "</group>",  # under <annotation>, in bounds
        obj("dog", dog) + obj("cat", (60, 10, 80, 30)),  # (a nested object's class must be the dataset's)
    ]
    folder = tmp_path / "voc"
    folder.mkdir()
    size = "<size><width>100</width><height>80</height><depth>3</depth></size>"
    for k, objects in enumerate(files):
        (folder / f"i{k}.xml").write_text(f"<annotation><filename>i{k}.jpg</filename>{size}{objects}</annotation>")
    out = tmp_path / "converted"
    items = yolo_ref.voc_labels(folder, CLASSES, out)
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
        truth = yolo_ref.ultralytics_candidates(items)
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
        need("yolov5.utils.loss")
        truth = yolo_ref.yolov5_positives(items)
    refused = {}
    for k in range(len(files)):
        image = tmp_path / f"i{k}.jpg"
        Image.new("RGB", (100, 80)).save(image)
        args: tuple[object, ...] = (str(image), str(out / f"i{k}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, len(CLASSES), 0, 0, False)
        refused[f"i{k}.xml"] = bool(verify(args)[-2])
    assert list(refused.values()) == [False, True, True, False, False, False]
    preset = load_preset(detector)
    frame = evaluate(load(folder, resize=preset.resize_policy()), preset, workers=1).to_frame("objects")
    levels = [c for c in frame.columns if c.startswith(("positives_P", "candidates_P"))]
    ours: dict[str, list[list[int]]] = {}
    dropped: dict[str, set[bool]] = {}
    for name, reason, row in zip(
        frame["annotation_id"], frame["no_positive_reason"], frame[levels].to_numpy().tolist(), strict=True
    ):
        file = Path(name.rsplit(":", 1)[0]).name
        ours.setdefault(file, []).append(row)
        dropped.setdefault(file, set()).add(reason == "dropped_by_pipeline")
    for item in items:  # the converter's lines in file order (nested objects after the others here)
        file = item["ids"][0][0]
        if refused[file]:
            assert dropped[file] == {True}, file
        else:
            assert ours[file] == [truth[i] for i in item["ids"]], file
    assert [len(v) for v in ours.values()] == [2, 2, 1, 1, 2, 2]  # the wholly outside one is no row
    table = load(folder).table  # the table (and every other preset) leaves the nested objects out
    assert len(table) == len(files) + 1
    atss = evaluate(load(folder, resize=load_preset("atss").resize_policy()), load_preset("atss"), workers=1)
    assert atss.summary.objects == len(files) + 1


@pytest.mark.parametrize("detector", ["yolov5", "yolov8"])
def test_an_object_the_reader_leaves_out_but_the_converter_writes_refuses_its_file(
    detector: str, tmp_path: Path
) -> None:
    """An object our reader leaves out for a problem of its own (``bbox_nonpositive``, ``unparsable_number``) that
    the VOC converter writes all the same (``float()`` of the corners, a negative width as it comes): its file is
    refused when that label is, exactly as ``verify_image_label`` decides. An unreadable ``<truncated>`` (read by
    neither) leaves nothing out, and its object refuses its file the same way."""
    need("ultralytics")
    import yolo_ref
    from PIL import Image

    def obj(xmin: str, xmax: str, difficult: str = "0", truncated: str = "0", name: str = "cat") -> str:
        box = f"<xmin>{xmin}</xmin><ymin>20</ymin><xmax>{xmax}</xmax><ymax>40</ymax>"
        return (f"<object><name>{name}</name><truncated>{truncated}</truncated><difficult>{difficult}</difficult>"
                f"<bndbox>{box}</bndbox></object>")  # fmt: skip

    extra = [
        obj("60", "50"),  # xmax < xmin: a negative width, refused by both
        obj("60", "59.5"),  # w -0.005: within ultralytics' tolerance for a centre, never for a width
        obj("1_0", "60"),  # float() reads 10: in bounds, kept
        obj("1_0", "13_0"),  # 10 to 130 of 100: refused
        obj("10", "inf"),  # refused by both
        obj("10", "130", truncated="abc"),  # <truncated> is read by neither: a row, and its file refused
        obj("10", "60", truncated="abc"),  # in bounds: a row, its file kept
        obj("60", "50", difficult="1"),  # difficult: not written
        obj("60", "50", name=""),  # no name: not written
    ]
    folder = tmp_path / "voc"
    folder.mkdir()
    size = "<size><width>100</width><height>80</height><depth>3</depth></size>"
    dog = obj("10", "60", name="dog")
    for k, other in enumerate(extra):
        (folder / f"i{k}.xml").write_text(f"<annotation><filename>i{k}.jpg</filename>{size}{dog}{other}</annotation>")
    out = tmp_path / "converted"
    yolo_ref.voc_labels(folder, CLASSES, out)
    if detector == "yolov8":
        verify = need("ultralytics.data.utils").verify_image_label
    else:
        verify = need("yolov5.utils.dataloaders").verify_image_label
    theirs = {}
    for k in range(len(extra)):
        image = tmp_path / f"i{k}.jpg"
        Image.new("RGB", (100, 80)).save(image)
        args: tuple[object, ...] = (str(image), str(out / f"i{k}.txt"), "")
        if detector == "yolov8":
            args = (*args, False, len(CLASSES), 0, 0, False)
        theirs[f"i{k}.xml"] = bool(verify(args)[-2])
    preset = load_preset(detector)
    data = load(folder, resize=preset.resize_policy())
    assert len(data.table) == len(extra) + 2  # only the dog of each file is read, and the two truncated="abc"
    frame = evaluate(data, preset, workers=1).to_frame("objects")
    dropped = {str(a).rsplit(":", 1)[0]: r == "dropped_by_pipeline"
               for a, r in zip(frame["annotation_id"], frame["no_positive_reason"], strict=True)}  # fmt: skip
    assert dropped == theirs
    assert 0 < sum(theirs.values()) < len(theirs)
