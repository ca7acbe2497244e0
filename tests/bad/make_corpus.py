"""Writes the bad-input corpus of tests/bad/ (run by hand: python tests/bad/make_corpus.py).

One small file or folder per case; tests/cli/test_bad_inputs.py runs each through the CLI. Kept as a script so
the binary cases (image headers, invalid UTF-8) can be read and regenerated.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BIG = "9" * 400  # an integer literal with 400 digits: overflows a float
FLAGS = ("9" * 30, "-0", "+7", "0" * 30, "")  # VOC <difficult> as int() reads them: set, unset, set, unset, unset
IMG = {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}
ANN = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "area": 1200, "iscrowd": 0}
CAT = {"id": 1, "name": "cat"}


def coco(name: str, text: str) -> None:
    (HERE / f"{name}.json").write_text(text, encoding="utf-8")


def coco_doc(images: list[object], anns: list[object], cats: list[object]) -> str:
    return json.dumps({"images": images, "annotations": anns, "categories": cats})


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def link(path: Path, target: str) -> None:
    """A symbolic link at ``path`` to ``target`` (relative to the link's folder, so the copy a test makes works)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height``, with one tiny (wrong-sized) IDAT: only the header counts."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


def gif(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="GIF")
    return out.getvalue()


def jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[274] = orientation
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def onnx_model(
    name: str, node: Any, initializers: list[Any], shape: tuple[int, ...] = (1, 3, 64, 64), more: tuple[Any, ...] = ()
) -> None:
    """A one-node ONNX model reading an input ``x`` (1x3x64x64 unless ``shape`` says otherwise) and writing ``y``
    (``more`` nodes follow the first)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([node, *more], "g", [x], [y], initializer=initializers)
    domains = sorted({n.domain for n in (node, *more) if n.domain})
    opsets = [helper.make_opsetid("", 17), *(helper.make_opsetid(d, 1) for d in domains)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="make_corpus")
    model.ir_version = 8
    write(HERE / f"{name}.onnx", model.SerializeToString())


def onnx_conv(
    name: str, weight: str = "w", shape: tuple[int, ...] = (1, 3, 64, 64), more: tuple[Any, ...] = (), **attributes: Any
) -> None:
    """A model of one Conv ``y`` (``attributes`` as given) on ``x``, its weight the initializer ``w``."""
    from onnx import TensorProto, helper

    w = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [1.0, 1.0, 1.0])
    onnx_model(name, helper.make_node("Conv", ["x", weight], ["y"], name="y", **attributes), [w], shape, more)


def onnx_resize(name: str, factor: float) -> None:
    from onnx import TensorProto, helper

    scales = helper.make_tensor("s", TensorProto.FLOAT, [4], [1.0, 1.0, factor, factor])
    onnx_model(name, helper.make_node("Resize", ["x", "", "s"], ["y"], name="y", mode="nearest"), [scales])


def main() -> None:
    for old in HERE.iterdir():
        if old.name not in ("make_corpus.py", "README.md"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    one = coco_doc([IMG], [ANN, {**ANN, "id": 2}], [CAT])
    coco("coco_huge_int_width", one.replace('"width": 640', f'"width": {BIG}'))
    second = '"id": 2, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40]'
    coco("coco_huge_int_bbox", one.replace(second, second.replace("30", BIG)))
    coco("coco_huge_int_area", one.replace('"id": 2, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], '
                                           '"area": 1200', f'"id": 2, "image_id": 1, "category_id": 1, '
                                           f'"bbox": [10, 20, 30, 40], "area": {BIG}'))  # fmt: skip
    coco("coco_huge_int_id", one.replace('"id": 2,', f'"id": {BIG},'))
    coco("coco_id_u64", one.replace('"id": 2,', f'"id": {2**64 - 1},'))  # fits uint64, not int64
    below = coco_doc([IMG, {**IMG, "id": -(2**63) - 1, "file_name": "b.jpg"}], [ANN], [CAT])  # an image below int64
    coco("coco_image_id_below_i64", below)
    coco("coco_absurd_width", one.replace('"width": 640', '"width": 1e30'))
    coco("coco_box_outside", coco_doc([IMG], [ANN, {**ANN, "id": 2, "bbox": [1e5, 20, 30, 40]},
                                              {**ANN, "id": 3, "bbox": [-50, 20, 30, 40]},
                                              {**ANN, "id": 4, "bbox": [630, 470, 300, 300]}], [CAT]))  # fmt: skip
    coco("coco_math_name", coco_doc([IMG], [ANN], [{"id": 1, "name": "$\\frac{a$"}]))
    coco("coco_surrogate_name", coco_doc([IMG], [ANN], [{"id": 1, "name": "a\ud800b"}]))
    coco("coco_control_name", coco_doc([IMG], [ANN], [{"id": 1, "name": "a\x1b[2Jb\nc"}]))
    coco("coco_empty", coco_doc([IMG], [], [CAT]))
    no_box = {k: v for k, v in ANN.items() if k != "bbox"}
    coco("coco_bad_polygon", coco_doc([IMG], [ANN, {**no_box, "id": 2, "segmentation": [["a", "b"]]},
                                              {**no_box, "id": 3, "segmentation": [[1, 2, 3]]}], [CAT]))  # fmt: skip
    coco("coco_far_polygon", coco_doc([IMG], [ANN, {**no_box, "id": 2, "segmentation": [[10, 10, 1e9, 10, 60, 70]]},
                                              {**no_box, "id": 3, "segmentation": [[10, 10, -1e9, 10, 60, 70]]},
                                              {**no_box, "id": 4, "segmentation": [[1, 2, 3, 4]]}],
                                       [CAT]))  # fmt: skip
    good_rle = {"size": [480, 640], "counts": [100, 50, 480 * 640 - 150]}  # 50 pixels of the first column
    coco("coco_bad_rle", coco_doc([IMG], [ANN, {**no_box, "id": 2, "segmentation": good_rle},
                                          {**no_box, "id": 3, "segmentation": {"size": [480, 640], "counts": "zz"}},
                                          {**no_box, "id": 4, "segmentation": {"size": [480, 640], "counts": [1, 9]}},
                                          {**no_box, "id": 5, "segmentation": {"size": [10**6, 10**6],
                                                                               "counts": [10**12]}}],
                                   [CAT]))  # fmt: skip
    coco("coco_absurd_box", coco_doc([IMG], [ANN, {**ANN, "id": 2, "bbox": [0, 0, 1e200, 1e200]},
                                             {**ANN, "id": 3, "bbox": [0, 0, 1e-300, 1e-300]}], [CAT]))  # fmt: skip
    coco("coco_unknown_image", coco_doc([IMG], [ANN, ANN, {**ANN, "id": 2, "image_id": 7}], [CAT]))
    write(
        HERE / "coco_latin1_info.json",
        b'{"info": {"description": "caf\xe9"}, ' + coco_doc([IMG], [ANN], [CAT])[1:].encode(),
    )
    polygon = {"id": 2, "image_id": 7, "category_id": 1, "segmentation": [[10, 10, 50, 10, 50, 50]]}
    sizeless = {"id": 3, "file_name": "c.jpg"}
    coco("coco_segmentation_only", coco_doc([IMG, sizeless], [ANN, polygon, {**polygon, "id": 3, "image_id": 3}],
                                            [CAT]))  # fmt: skip
    many = [round(v, 1) for k in range(50_001) for v in (100 + 50 * math.cos(k / 8e3), 100 + 50 * math.sin(k / 8e3))]
    coco("coco_polygon_many_points", coco_doc([IMG], [{**polygon, "image_id": 1, "segmentation": [many]}], [CAT]))
    # a 5,000-vertex zig-zag across a 20000x20000 tile: few points, but 10^8 pixels of edges (SIGSEGV in pycocotools)
    tile = {"id": 4, "file_name": "tile.jpg", "width": 20_000, "height": 20_000}
    zigzag = [v for k in range(5_000) for v in ((k % 2) * 19_999, 4 * k)]
    coco("coco_long_polygon", coco_doc([IMG, tile], [ANN, {**polygon, "image_id": 4, "segmentation": [zigzag]}],
                                       [CAT]))  # fmt: skip
    coco("coco_segmentation_sizeless", coco_doc([sizeless], [{**polygon, "id": 3, "image_id": 3}], [CAT]))
    coco("coco_all_excluded", coco_doc([IMG], [{**ANN, "bbox": [1, 2, 0, 4]}], [CAT]))
    coco("coco_all_ignored", coco_doc([IMG], [{**ANN, "ignore": 1}], [CAT]))  # mmdetection: ignore_flag, no target
    # 1344x0 under retinanet's resize; a box 2 px high, as torchvision's reference keeps no image of 1 px boxes only
    thin = {"id": 2, "file_name": "thin.jpg", "width": 1 << 24, "height": 2}
    coco("coco_thin_image", coco_doc([IMG, thin], [ANN, {**ANN, "id": 2, "image_id": 2, "bbox": [0, 0, 1000, 2]}],
                                     [CAT]))  # fmt: skip
    repeated = coco_doc([IMG], [ANN], [CAT])
    coco("coco_repeated_key", repeated[:-1] + ', "annotations": []}')  # json.load would keep this empty list
    coco("coco_area_iscrowd", coco_doc([IMG], [ANN, {**ANN, "id": 2, "iscrowd": 0.0}, {**ANN, "id": 3, "iscrowd": 1.0},
                                               {**ANN, "id": 4, "iscrowd": 0.5}, {**ANN, "id": 5, "area": -5},
                                               {**ANN, "id": 6, "area": -0.0}], [CAT]))  # fmt: skip

    voc = (
        "<annotation><filename>a.jpg</filename><size><width>{w}</width><height>100</height></size>{objects}"
        "</annotation>"
    )
    box = (
        "<object><name>{n}</name><bndbox><xmin>{x0}</xmin><ymin>1</ymin><xmax>{x1}</xmax><ymax>9</ymax></bndbox>"
        "</object>"
    )
    good = box.format(n="dog", x0=1, x1=9)
    write(HERE / "voc_no_bndbox.xml", voc.format(w=100, objects=good + "<object><name>dog</name></object>"))
    write(HERE / "voc_partial_bndbox.xml", voc.format(w=100, objects=good + "<object><name>dog</name><bndbox>"
                                                      "<xmin>1</xmin><ymin>1</ymin></bndbox></object>"))  # fmt: skip
    write(HERE / "voc_xmax_below_xmin.xml", voc.format(w=100, objects=good + box.format(n="dog", x0=5, x1=4.5)))
    flagged = good.replace("</name>", "</name><difficult>yes</difficult>") + good.replace(
        "</name>", "</name><truncated>1</truncated>"
    )
    write(HERE / "voc_bad_flag.xml", voc.format(w=100, objects=good + flagged))
    write(HERE / "voc_huge_numbers.xml", voc.format(w=BIG, objects=good + box.format(n="dog", x0=1, x1=BIG)))
    write(HERE / "voc_split_not_utf8" / "Annotations" / "a.xml", voc.format(w=100, objects=good))
    write(HERE / "voc_split_not_utf8" / "ImageSets" / "Main" / "val.txt", b"a\n\xff\xfe\n")

    labels = "\ufeff0 0.5 0.5 0.2 0.2\n"  # a byte-order mark, as ultralytics accepts
    labels += "-1 0.5 0.5 0.2 0.2\n"  # negative class
    labels += f"{BIG} 0.5 0.5 0.2 0.2\n"  # class beyond 64 bits
    labels += "2.0 0.5 0.5 0.2 0.2\n"  # an integral float class: class 2
    labels += "1 1.5 0.5 0.2 0.2\n"  # centre outside [0, 1]
    labels += "1 0.5 0.5 1.02 0.2\n"  # wider than the image beyond the 1 % tolerance
    labels += "1 -0.005 0.5 0.2 0.2\n"  # within the tolerance: kept
    labels += f"1 0.{BIG} 0.5 0.2 0.2\n"  # a long but fine decimal: kept
    labels += f"1 {BIG} 0.5 0.2 0.2\n"  # overflows: not a finite number
    write(HERE / "yolo_ranges" / "labels" / "a.txt", labels)
    write(HERE / "yolo_ranges" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_ranges" / "data.yaml", "names: [a, b, c]\n")
    write(HERE / "yolo_yaml_not_utf8" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_not_utf8" / "data.yaml", b"names: [caf\xe9]\n")
    write(HERE / "yolo_yaml_shape" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_shape" / "data.yaml", "- just\n- a list\n")
    write(HERE / "yolo_yaml_huge_class" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_huge_class" / "data.yaml", "names: {0: a, 99999999999999999999999: b}\n")
    write(HERE / "voc_unknown_encoding.xml", '<?xml version="1.0" encoding="x-nosuch"?><annotation/>')
    laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    laughs += "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
    write(HERE / "yolo_yaml_laughs" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_laughs" / "data.yaml", laughs + "names: [cat, *a8]\n")  # 10**9 'lol' if expanded
    write(HERE / "yolo_yaml_nested" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_nested" / "data.yaml", "names: [cat, [dog, cow]]\n")
    write(HERE / "yolo_yaml_bool_key" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_yaml_bool_key" / "data.yaml", "names: {0: dog, true: cat}\n")  # true is no class 1
    write(HERE / "yolo_classes_empty" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_classes_empty" / "labels" / "classes.txt", "\n\n")
    write(HERE / "config_laughs.yaml", "name: x\ndescription:\n" + "".join(f"  - {line.split(': ', 1)[1]}\n"
          for line in laughs.splitlines()) + "layers: [*a8]\n")  # fmt: skip
    write(HERE / "yolo_classes_not_utf8" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_classes_not_utf8" / "labels" / "classes.txt", b"\xff\n")
    write(HERE / "yolo_label_not_utf8" / "labels" / "a.txt", b"0 0.5 0.5 0.2 0.2\n\xc3\x28\n")
    write(HERE / "yolo_bomb" / "labels" / "a.txt", "0 0.5 0.5 0.001 0.001\n")
    write(HERE / "yolo_bomb" / "images" / "a.png", png_header(200_000, 100_000))
    write(HERE / "yolo_exif" / "labels" / "a.txt", "0 0.5 0.5 0.5 0.25\n")
    write(HERE / "yolo_exif" / "images" / "a.jpg", jpeg_with_orientation(40, 20, 6))
    write(HERE / "yolo_split" / "labels" / "train" / "a.txt", "0 0.5 0.5 0.5 0.5\n")
    polygons = "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n"  # a square: the box 0.3 0.3 0.4 0.4
    polygons += "1 0.5 0.5 0.25 0.25\n"  # a box line in a polygon file
    polygons += "1 0.1 0.1 0.5 0.1 0.5\n"  # 5 coordinates
    polygons += "1 0.2 0.2\n"  # one point: an empty box
    polygons += "1 0.1 0.1 1.5 0.1 0.5 0.5\n"  # beyond the image
    write(HERE / "yolo_polygons" / "labels" / "a.txt", polygons)
    write(HERE / "yolo_polygons" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_polygons" / "data.yaml", "names: [a, b]\n")
    write(HERE / "yolo_pose" / "labels" / "a.txt", "1 0.5 0.5 0.25 0.5 0.4 0.4 2 0.6 0.6 1\n")
    write(HERE / "yolo_pose" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_pose" / "data.yaml", "names: [a, b]\nkpt_shape: [2, 3]\n")
    write(HERE / "yolo_two_images" / "labels" / "a.txt", "0 0.5 0.5 0.5 0.5\n")
    write(HERE / "yolo_two_images" / "images" / "a.png", png_header(64, 48))  # a.bmp and a.png: both read with a.txt
    write(HERE / "yolo_two_images" / "images" / "a.bmp", png_header(32, 32))
    write(HERE / "yolo_two_images" / "images" / "c.png", png_header(64, 48))  # no label file: no objects
    write(HERE / "yolo_two_images" / "images" / "b.png" / "README", "a folder named like an image")
    write(HERE / "yolo_pose_shape" / "labels" / "a.txt", "1 0.5 0.5 0.25 0.5\n")
    write(HERE / "yolo_pose_shape" / "data.yaml", "names: [a, b]\nkpt_shape: 17\n")
    write(HERE / "yolo_split" / "images" / "train" / "a.png", png_header(64, 48))

    two = good + box.format(n="cat", x0=2, x1=8)
    write(HERE / "voc_split_dup" / "Annotations" / "a.xml", voc.format(w=100, objects=two))
    write(HERE / "voc_split_dup" / "Annotations" / "b.xml", voc.format(w=100, objects=good))
    write(HERE / "voc_split_dup" / "ImageSets" / "Main" / "val.txt", "a\nb\na 1\n")  # a again, with a flag
    write(HERE / "voc_split_empty" / "Annotations" / "a.xml", voc.format(w=100, objects=good))
    write(HERE / "voc_split_empty" / "ImageSets" / "Main" / "val.txt", "\n  \n")
    write(HERE / "voc_empty" / "Annotations" / "README", "no annotation files yet\n")
    xmins = [box.format(n="dog", x0=x0, x1=9) for x0 in ("1_0", "\uff11", "\u0661", " 1\n")]
    write(HERE / "voc_numbers.xml", voc.format(w=100, objects=good + "".join(xmins)))  # the last is kept
    write(HERE / "voc_size_digits.xml", voc.format(w="\uff11\uff10\uff10", objects=good))
    write(HERE / "voc_folder" / "1.xml", voc.format(w=100, objects=good))
    part = "<part><name>hand</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>3</xmax><ymax>3</ymax></bndbox>{}</part>"
    nested = good.replace("</object>", part.format(box.format(n="ring", x0=2, x1=3)) + "</object>")
    write(HERE / "voc_nested_object.xml", voc.format(w=100, objects=nested))  # mmdetection reads 1 object
    write(HERE / "voc_nested_object_dtd.xml", "<!DOCTYPE annotation>" + voc.format(w=100, objects=nested))
    write(HERE / "voc_subfolders" / "a.xml", voc.format(w=100, objects=good))  # read with its subfolders
    write(HERE / "voc_subfolders" / "sub" / "b.xml", voc.format(w=100, objects=good + good))
    write(HERE / "voc_subfolders" / "sub" / "deeper" / "c.XML", voc.format(w=100, objects=good))
    flags = "".join(good.replace("</name>", f"</name><difficult>{t}</difficult>") for t in FLAGS)
    write(HERE / "voc_long_flags.xml", voc.format(w=100, objects=flags))
    write(HERE / "yolo_classes_image" / "labels" / "classes.txt", "0 0.5 0.5 0.2 0.2\n")  # the label of an image
    write(HERE / "yolo_classes_image" / "labels" / "b.txt", "1 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_classes_image" / "images" / "classes.png", png_header(64, 48))
    write(HERE / "yolo_classes_image" / "images" / "b.png", png_header(64, 48))
    write(HERE / "yolo_classes_deep" / "labels" / "classes.txt", "cat\ndog\n")  # a class list: no image of it
    write(HERE / "yolo_classes_deep" / "labels" / "train" / "classes.txt", "1 0.5 0.5 0.2 0.2\n")  # a label file
    write(HERE / "yolo_classes_deep" / "images" / "train" / "classes.png", png_header(64, 48))
    write(HERE / "yolo_upper_txt" / "labels" / "a.TXT", "0 0.5 0.5 0.2 0.2\n")  # ultralytics opens a.txt only
    write(HERE / "yolo_upper_txt" / "labels" / "b.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_upper_txt" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_upper_txt" / "images" / "b.png", png_header(64, 48))
    yamls = (
        ("nc", "nc: 5\nnames: [cat, dog]\n"),
        ("repeated_key", "names: [cat]\nnames: [dog]\n"),
        ("gap", "names:\n  0: a\n  5: b\n"),
        ("no_names", "names: []\n"),
        ("no_names_map", "names: {}\n"),
    )
    for name, yaml_text in yamls:
        write(HERE / f"yolo_yaml_{name}" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
        write(HERE / f"yolo_yaml_{name}" / "data.yaml", yaml_text)
    write(HERE / "voc_upper" / "A.XML", voc.format(w=100, objects=good))
    write(HERE / "voc_upper" / "b.Xml", voc.format(w=100, objects=good + good))
    write(HERE / "voc_resource_fork" / "Annotations" / "a.xml", voc.format(w=100, objects=good))
    # an AppleDouble header: magic, version, filler, two entries (Finder info at 0x32, resource fork at 0xee2)
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + struct.pack(
        ">IIIIII", 9, 0x32, 0xEB0, 2, 0xEE2, 0x11E
    )
    write(HERE / "voc_resource_fork" / "Annotations" / "._a.xml", apple_double)
    write(HERE / "yolo_resource_fork" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_resource_fork" / "labels" / "._a.txt", apple_double)
    write(HERE / "yolo_resource_fork" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_resource_fork" / "images" / "._a.png", apple_double)  # no image, though named like one
    # an image both YOLO toolkits drop as corrupt: a GIF named a.jpg (its format, whatever its suffix)
    write(HERE / "yolo_corrupt_image" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_corrupt_image" / "labels" / "b.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_corrupt_image" / "images" / "a.jpg", gif(64, 48))
    write(HERE / "yolo_corrupt_image" / "images" / "b.png", png_header(64, 48))
    # Jupyter's checkpoints and other hidden names, which ultralytics' glob never lists: 2 label files, 3 images
    for folder in ("labels", "images"):
        suffix = ".txt" if folder == "labels" else ".png"
        data = "0 0.5 0.5 0.2 0.2\n" if folder == "labels" else png_header(64, 48)
        write(HERE / "yolo_hidden" / folder / "train" / f"a{suffix}", data)
        write(HERE / "yolo_hidden" / folder / "train" / ".ipynb_checkpoints" / f"a-checkpoint{suffix}", data)
        write(HERE / "yolo_hidden" / folder / "train" / f".b{suffix}", data)
    write(HERE / "yolo_hidden" / "images" / ".cache" / "c.jpg", png_header(64, 48))
    write(HERE / "yolo_hidden" / "images" / "train" / ".ipynb_checkpoints" / "._a.png", apple_double)  # a fork
    # split folders that are links, as ultralytics' glob follows them, and a link loop (read once)
    write(HERE / "yolo_linked" / "store" / "labels_train" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_linked" / "store" / "images_train" / "a.png", png_header(64, 48))
    write(HERE / "yolo_linked" / "store" / "images_val" / "b.png", png_header(32, 32))
    write(HERE / "yolo_linked" / "labels" / "val" / "b.txt", "0 0.5 0.5 0.2 0.2\n")
    link(HERE / "yolo_linked" / "labels" / "train", "../store/labels_train")
    link(HERE / "yolo_linked" / "images" / "train", "../store/images_train")
    link(HERE / "yolo_linked" / "images" / "val", "../store/images_val")
    link(HERE / "yolo_linked" / "labels" / "val" / "loop", ".")
    write(HERE / "voc_folder" / "2.xml", voc.format(w=100, objects=good + box.format(n="dog", x0=200, x1=300)))

    numbers = "0 0.5 0.5 0.2 0_3\n0_0 0.5 0.5 0.2 0.2\n\uff10 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 \u0660.2\n"
    write(HERE / "yolo_numbers" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n" + numbers + "0\xa00.5 0.5 0.3 0.2\n")
    write(HERE / "yolo_numbers" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_cross" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    b = "0 0.5 0.5 0.2 0.2\n\n0 0.5 0.5 1e-30 0.2\n"  # a side of 1e-30 (1e-300 is 0 as float32: bbox_nonpositive)
    write(HERE / "yolo_cross" / "labels" / "b.txt", b)
    repeats = "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n0 0.50000001 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n"  # 2 labels
    write(HERE / "yolo_duplicates" / "labels" / "a.txt", repeats)
    write(HERE / "yolo_duplicates" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_suffixes" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_suffixes" / "labels" / "b.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_suffixes" / "images" / "a.Jpg", png_header(64, 48))  # the suffix in any case, as ultralytics
    write(HERE / "yolo_suffixes" / "images" / "b.heic", b"\0\0\0\x18ftypheic" + bytes(40))  # no header Pillow reads
    write(HERE / "yolo_suffixes" / "images" / "c.AVIF", png_header(64, 48))  # no label file: no objects
    for split in ("train", "valid", "test"):  # a Roboflow export root: split folders, README files, data.yaml
        write(HERE / "yolo_roboflow" / split / "labels" / "a_jpg.rf.1.txt", "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n")
        write(HERE / "yolo_roboflow" / split / "images" / "a_jpg.rf.1.jpg", png_header(64, 48))
    write(
        HERE / "yolo_roboflow" / "data.yaml",
        "train: ../train/images\nval: ../valid/images\nnc: 2\nnames: [ball, player]\n",
    )
    write(HERE / "yolo_roboflow" / "README.dataset.txt", "# Ball > 2023-01-01\nhttps://universe.roboflow.com/w/p\n")
    write(HERE / "yolo_roboflow" / "README.roboflow.txt", "\nThis dataset was exported via roboflow.com\n")
    # CVAT's YOLO 1.1: images beside their labels in obj_train_data, an image list and darknet's obj.names
    write(HERE / "yolo_cvat" / "obj_train_data" / "f0.txt", "0 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_cvat" / "obj_train_data" / "f0.png", png_header(64, 48))
    write(HERE / "yolo_cvat" / "obj_train_data" / "f1.png", png_header(64, 48))  # no objects: no label file
    write(HERE / "yolo_cvat" / "train.txt", "data/obj_train_data/f0.png\ndata/obj_train_data/f1.png\n")
    write(HERE / "yolo_cvat" / "obj.names", "car\n")
    write(HERE / "yolo_cvat" / "obj.data", "classes = 1\ntrain = data/train.txt\nnames = data/obj.names\n")
    write(HERE / "yolo_labelstudio" / "classes.txt", "Car\nPerson\n")  # Label Studio: beside labels/ and images/
    write(HERE / "yolo_labelstudio" / "notes.json", '{"categories": [{"id": 0, "name": "Car"}]}\n')
    write(HERE / "yolo_labelstudio" / "labels" / "3f2a1b-photo.txt", "1 0.5 0.5 0.1 0.2\n")
    write(HERE / "yolo_labelstudio" / "images" / "3f2a1b-photo.jpg", png_header(64, 48))
    write(HERE / "yolo_classes_blank" / "labels" / "a.txt", "1 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_classes_blank" / "labels" / "classes.txt", "cat\n\ndog\n")
    write(HERE / "yolo_classes_trailing" / "labels" / "a.txt", "1 0.5 0.5 0.2 0.2\n")
    write(HERE / "yolo_classes_trailing" / "labels" / "classes.txt", "cat\r\ndog\r\n\r\n\n")
    write(HERE / "yolo_classes_trailing" / "images" / "a.png", png_header(64, 48))
    write(HERE / "yolo_empty" / "labels" / "classes.txt", "cat\n")
    write(HERE / "yolo_empty" / "images" / "a.png", png_header(64, 48))
    for split in ("train", "val"):
        write(HERE / "yolo_splits" / "labels" / split / "a.txt", "0 0.5 0.5 0.5 0.5\n")
        write(HERE / "yolo_splits" / "images" / split / "a.png", png_header(64, 48))

    write(HERE / "config_huge_kernel.yaml", "name: huge\nlayers: ['conv:k=1000000000']\n")
    write(HERE / "config_huge_stride.yaml", "name: huge\nlayers: [conv_3x3_stride_1, 'conv:k=3,s=999999999']\n")
    write(HERE / "config_huge_dilation.yaml", "name: huge\nlayers: ['conv:k=3,d=1048576']\n")
    write(HERE / "config_gappy_chain.yaml", "name: t\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 1024}\n"
          "  - {name: b, type: conv, kernel: 1024, stride: 1024, dilation: 1024}\n"
          "  - {name: c, type: conv, kernel: 1024, dilation: 1024}\noutputs: {C1: c}\n")  # fmt: skip
    write(HERE / "config_deep_chain.yaml", "name: deep\nlayers:\n" + "  - 'conv:k=3,s=2'\n" * 17)
    write(HERE / "config_name_list.yaml", "name: [a, b]\nlayers: [conv_3x3_stride_1]\n")
    write(HERE / "config_output_blank.yaml", "name: t\nlayers: [conv_3x3_stride_1]\noutputs: {'': L1}\n")
    write(HERE / "config_output_number.yaml", "name: t\nlayers: [conv_3x3_stride_1]\noutputs: {3: L1}\n")
    write(HERE / "config_convention_list.yaml", "name: t\nconvention: [a]\nlayers: [conv_3x3_stride_1]\n")
    write(HERE / "config_python_tag.yaml", 'name: t\nnodes: !!python/object/apply:os.system ["echo hi"]\n')
    write(HERE / "config_python_name.yaml", "name: !!python/name:os.system\nlayers: [conv_3x3_stride_1]\n")
    write(HERE / "config_neck.yaml", "name: n\nkind: neck\ninputs: [C5]\nlayers: [conv_3x3_stride_1]\n")
    write(HERE / "config_backbone.yaml", "name: b\nlayers: [conv_3x3_stride_1]\n")
    write(HERE / "config_control_names.yaml", 'name: "net\\x07"\nnodes:\n  - {name: "a\\x1b[2Jb\\rc", type: conv, '
          'kernel: 3, stride: 2}\n  - {name: "d\\x07", type: conv, kernel: 3}\n'
          'outputs: {"C\\x1b1": "d\\x07"}\n')  # fmt: skip
    write(HERE / "config_outpad.yaml", "name: t\nnodes:\n  - {name: a, type: deconv, kernel: 3, stride: 2, "
          "output_padding: 5}\noutputs: {C1: a}\n")  # fmt: skip
    upsample = "  - {{name: u{k}, type: upsample, scale: 1024}}\n"
    write(HERE / "config_upsample.yaml", "name: t\nnodes:\n  - {name: u0, type: conv, kernel: 3}\n"
          + upsample.format(k=1) + "outputs: {C1: u1}\n")  # fmt: skip
    write(HERE / "config_upsample_twice.yaml", "name: t\nnodes:\n  - {name: u0, type: conv, kernel: 3}\n"
          + upsample.format(k=1) + upsample.format(k=2) + "outputs: {C1: u2}\n")  # fmt: skip
    write(HERE / "config_upsample_size_like.yaml", "name: t\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 2, "
          "padding: 1}\n  - {name: c, type: conv, kernel: 3, stride: 4, padding: 1}\n  - {name: u, type: upsample, "
          "scale: 2, size_like: a, input: c}\noutputs: {P3: u}\n")  # fmt: skip
    write(HERE / "config_nodes_and_layers.yaml", "name: t\nlayers: [conv_7x7_stride_2]\nnodes:\n  - {name: a, "
          "type: conv, kernel: 3}\n")  # fmt: skip
    use = "name: t\ntemplates:\n  b: {nodes: [{name: c, type: conv, kernel: 3, input: $input}]}\nnodes:\n"
    write(HERE / "config_use_inputs.yaml", use + "  - {name: y, type: conv, kernel: 5, stride: 4}\n"
          "  - {name: x, type: conv, kernel: 1, input: image}\n  - {name: s, use: b, inputs: [y]}\n")  # fmt: skip
    write(HERE / "config_use_type.yaml", use + "  - {name: s, use: b, type: maxpool}\n")
    write(HERE / "config_neck_reuses_c5.yaml", "name: nk\nkind: neck\ninputs: [C5]\nnodes:\n  - {name: x, type: conv, "
          "kernel: 3, stride: 2, padding: 1, input: C5}\noutputs: {C5: x}\n")  # fmt: skip
    write(HERE / "config_neck_misnamed.yaml", "name: nk\nkind: neck\ninputs: [C5]\nnodes:\n  - {name: x, type: conv, "
          "kernel: 1, input: C5}\n  - {name: y, type: conv, kernel: 3, stride: 2, padding: 1}\n"
          "outputs: {P6: x, P5: y}\n")  # fmt: skip
    write(HERE / "config_nested_repeat.yaml", "name: t\ntemplates:\n  c:\n    nodes:\n      - {name: x, type: relu}\n"
          "  b:\n    nodes:\n      - {name: y, use: c, repeat: 10000}\nnodes:\n  - {name: s, use: b, repeat: 10000}\n"
          "outputs: {C1: s}\n")  # fmt: skip
    write(HERE / "config_outputs_twice.yaml", "name: t\nnodes:\n  - {name: a, type: conv, kernel: 3}\n"
          "outputs: {C1: a, C2: a}\n")  # fmt: skip
    write(HERE / "config_strides_differ.yaml", "name: t\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 2}\n"
          "  - {name: b, type: conv, kernel: 3, input: image}\n  - {name: c, type: add, inputs: [a, b]}\n"
          "outputs: {C1: c}\n")  # fmt: skip
    preset = (
        "name: retinanet\ntitle: t\ntoolkit: torchvision 0.29\nsource: s\nbackbone: resnet50\nneck: fpn-retinanet\n"
        "levels: LEVELS\ninput: {kind: torchvision, min_size: 800, max_size: 1333}\n"
        "anchors: {kind: torchvision, sizes: SIZES, aspect_ratios: RATIOS}\n"
        "assigner: {kind: max-iou, high: 0.5, low: 0.4, low_quality: LOW}\n"
    )
    fields = {"SIZES": "[[32], [64], [128], [256], [512]]", "RATIOS": "[0.5, 1.0, 2.0]", "LOW": "true",
              "LEVELS": "[P3, P4, P5, P6, P7]"}  # fmt: skip

    def detector(name: str, **changes: str) -> None:
        text = preset
        for key, value in {**fields, **changes}.items():
            text = text.replace(key, value)
        write(HERE / f"{name}.yaml", text)

    detector("detector_low_quality_maybe", LOW="maybe")
    detector("detector_neck_backbone", **{"neck: fpn-retinanet": "neck: config_backbone.yaml"})
    detector("detector_backbone_neck", **{"backbone: resnet50": "backbone: config_neck.yaml"})
    detector("detector_blank_level", **{"[P3, P4,": '[P3, " ",'})
    detector("detector_many_ratios", RATIOS="[" + ", ".join(["1.0"] * 65) + "]")
    detector("detector_many_anchors", SIZES="[" + ", ".join(["[" + ", ".join(["32"] * 9) + "]"] * 5) + "]",
             RATIOS="[" + ", ".join(["1.0"] * 8) + "]")  # fmt: skip
    detector("detector_levels_order", LEVELS="[P3, P5, P4, P6, P7]")
    detector("detector_levels_gap", LEVELS="[P3, P4, P6, P7, P8]")
    detector("detector_no_neck", **{"neck: fpn-retinanet": "neck: null"})
    ssd = (HERE.parents[1] / "configs" / "detectors" / "ssd300.yaml").read_text(encoding="utf-8")
    write(HERE / "detector_ssd_not_fixed.yaml", ssd.replace(", fixed_size: [300, 300]", ""))
    fpn = (HERE.parents[1] / "configs" / "necks" / "fpn-retinanet.yaml").read_text(encoding="utf-8")
    write(HERE / "neck_fpn_copy.yaml", fpn)
    detector("detector_neck_file", **{"neck: fpn-retinanet": "neck: neck_fpn_copy.yaml"})
    onnx_conv("onnx_huge_kernel", kernel_shape=[10**9, 10**9], strides=[1, 1])
    onnx_conv("onnx_stride_zero", kernel_shape=[3, 3], strides=[0, 0])
    onnx_conv("onnx_negative_pads", kernel_shape=[3, 3], pads=[-5, -5, -5, -5])
    onnx_resize("onnx_huge_resize", 1e6)
    from onnx import helper

    onnx_conv("onnx_cycle", "w", more=(helper.make_node("Add", ["y", "z"], ["z"], name="z"),), kernel_shape=[1, 1])
    onnx_conv("onnx_custom_domain", kernel_shape=[1, 1], domain="com.custom")
    onnx_conv("onnx_two_producers", more=(helper.make_node("Relu", ["y"], ["y"], name="relu"),), kernel_shape=[1, 1])
    onnx_conv("onnx_strides3", kernel_shape=[1, 1], strides=[1, 1, 1])
    onnx_conv("onnx_dilations1", kernel_shape=[1, 1], dilations=[2])
    onnx_conv("onnx_pads_string", kernel_shape=[1, 1], pads="1111")  # bytes 0x31, once read as padding 49
    onnx_conv("onnx_group_float", kernel_shape=[1, 1], group=1.7)
    onnx_conv("onnx_rank3", shape=(1, 3, 64), kernel_shape=[1, 1])
    onnx_conv("onnx_zero_input", shape=(1, 3, 0, 0), kernel_shape=[1, 1])
    onnx_conv("onnx_negative_input", shape=(1, 3, -5, 64), kernel_shape=[1, 1])
    onnx_conv("onnx_conv_groups", kernel_shape=[1, 1], group=3)
    onnx_model("onnx_shape_only", helper.make_node("Shape", ["x"], ["y"], name="y"), [])
    onnx_conv("onnx_missing_weight", "w_missing", kernel_shape=[1, 1])
    onnx_conv("onnx_fixed_w32_h64", shape=(1, 3, 64, 32), kernel_shape=[1, 1])
    write(HERE / "onnx_empty.onnx", b"")


if __name__ == "__main__":
    main()
