"""YOLOv5's and ultralytics' own target code, run on COCO boxes as their data pipelines prepare them. Written for
the tests, independently of scalematch's simulation.

Labels are made as the COCO-to-YOLO converters make them (crowd and empty boxes skipped; centre and size
normalised by the image, written with '%g' and read back as float32), each image is loaded as both dataloaders
load it (long side to 640, rounded up) and letterboxed by the toolkit's own function.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from coco_file import images_with_annotations


def yolo_labels(path: Path) -> list[dict[str, Any]]:
    out = []
    for img, anns in images_with_annotations(path):
        w, h = img["width"], img["height"]
        rows, ids = [], []
        for a in anns:
            if a.get("iscrowd", 0):
                continue
            box = np.array(a["bbox"], dtype=np.float64)
            box[:2] += box[2:] / 2
            box[[0, 2]] /= w
            box[[1, 3]] /= h
            if box[2] <= 0 or box[3] <= 0:
                continue
            rows.append(box)
            ids.append(a["id"])
        text = [[float("%g" % v) for v in row] for row in rows]  # noqa: UP031 (the converter writes '%g', read back)
        out.append({"w": w, "h": h, "xywhn": np.array(text, dtype=np.float32).reshape(-1, 4), "ids": ids})
    return out


def voc_labels(folder: Path, classes: list[str], out: Path) -> list[dict[str, Any]]:
    """The labels ultralytics' own VOC converter writes for every ``*.xml`` in ``folder`` (``convert_label``, taken
    from the installed ``cfg/datasets/VOC.yaml`` and run as it is), read back as the dataloader reads a label file
    (float32). ``ids``: (XML file name, line number from 1)."""
    import ast
    import xml.etree.ElementTree as ET

    import ultralytics
    import yaml

    spec = yaml.safe_load((Path(ultralytics.__file__).parent / "cfg" / "datasets" / "VOC.yaml").read_text())
    module = ast.parse(spec["download"])
    convert: list[ast.stmt] = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "convert_label"]
    scope: dict[str, Any] = {"ET": ET, "yaml": {"names": dict(enumerate(classes))}}
    exec(compile(ast.Module(body=convert, type_ignores=[]), "VOC.yaml", "exec"), scope)
    (out / "VOC2007" / "Annotations").mkdir(parents=True)
    items = []
    for xml in sorted(folder.glob("*.xml")):
        (out / "VOC2007" / "Annotations" / xml.name).write_bytes(xml.read_bytes())
        label = out / f"{xml.stem}.txt"
        scope["convert_label"](out, label, "2007", xml.stem)
        rows = np.loadtxt(label, ndmin=2, dtype=np.float32).reshape(-1, 5)
        size = ET.parse(xml).getroot().find("size")
        assert size is not None
        w, h = (int(size.findtext(k) or 0) for k in ("width", "height"))
        ids = [(xml.name, k) for k in range(1, len(rows) + 1)]
        items.append({"w": w, "h": h, "xywhn": rows[:, 1:].copy(), "ids": ids})
    return items


def _loaded(w0: int, h0: int, size: int, cap: bool) -> tuple[int, int]:
    r = size / max(h0, w0)
    if r == 1:
        return w0, h0
    w, h = math.ceil(w0 * r), math.ceil(h0 * r)
    return (min(w, size), min(h, size)) if cap else (w, h)


def yolov5_positives(path: Path | list[dict[str, Any]], size: int = 640) -> dict[Any, list[int]]:
    """Annotation id -> positives per level (P3, P4, P5) from yolov5's ComputeLoss.build_targets, training at
    ``size`` (a size check_img_size keeps)."""
    import yaml
    import yolov5
    from yolov5.models.yolo import Model
    from yolov5.utils.augmentations import letterbox
    from yolov5.utils.general import xywhn2xyxy, xyxy2xywhn
    from yolov5.utils.loss import ComputeLoss

    root = Path(yolov5.__file__).parent
    model = Model(str(root / "models" / "yolov5s.yaml"))
    model.hyp = yaml.safe_load((root / "data" / "hyps" / "hyp.scratch-low.yaml").read_text())
    loss = ComputeLoss(model)
    out: dict[Any, list[int]] = {}
    for item in yolo_labels(path) if isinstance(path, Path) else path:
        w1, h1 = _loaded(item["w"], item["h"], size, cap=False)
        img, ratio, pad = letterbox(np.zeros((h1, w1, 3), np.uint8), size, auto=False, scaleup=False)
        xyxy = xywhn2xyxy(item["xywhn"], ratio[0] * w1, ratio[1] * h1, padw=pad[0], padh=pad[1])
        xywhn = xyxy2xywhn(xyxy, w=img.shape[1], h=img.shape[0], clip=True, eps=1e-3)
        n = len(item["ids"])
        targets = torch.zeros(n, 6)
        targets[:, 1] = torch.arange(n)
        targets[:, 2:] = torch.from_numpy(xywhn)
        p = [torch.zeros(1, 3, size // s, size // s, 85) for s in (8, 16, 32)]
        tcls, _, _, _ = loss.build_targets(p, targets)
        for j, ann in enumerate(item["ids"]):
            out[ann] = [int((c == j).sum()) for c in tcls]
    return out


def ultralytics_candidates(path: Path | list[dict[str, Any]]) -> dict[Any, list[int]]:
    """Annotation id -> candidate points per level (P3, P4, P5) from ultralytics' TaskAlignedAssigner
    (select_candidates_in_gts), on boxes letterboxed by its LetterBox and normalised as its Format does."""
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils import ops, tal
    from ultralytics.utils.instance import Instances

    xywh2xyxy: Any = ops.xywh2xyxy
    make_anchors: Any = tal.make_anchors

    strides = [8, 16, 32]
    assigner: Any = tal.TaskAlignedAssigner(topk=10, num_classes=80, alpha=0.5, beta=6.0, stride=strides)
    feats = [torch.zeros(1, 1, 640 // s, 640 // s) for s in strides]
    points, stride_tensor = make_anchors(feats, torch.tensor(strides, dtype=torch.float32), 0.5)
    points = points * stride_tensor
    level = np.repeat(np.arange(3), [(640 // s) ** 2 for s in strides])
    out: dict[Any, list[int]] = {}
    for item in yolo_labels(path) if isinstance(path, Path) else path:
        if not item["ids"]:
            continue
        w1, h1 = _loaded(item["w"], item["h"], 640, cap=True)
        inst = Instances(bboxes=item["xywhn"].copy(), bbox_format="xywh", normalized=True)
        labels: Any = {
            "img": np.zeros((h1, w1, 3), np.uint8),
            "instances": inst,
            "cls": np.zeros((len(item["ids"]), 1)),
        }
        labels = LetterBox(new_shape=(640, 640), scaleup=False)(labels=labels)
        inst = labels["instances"]
        inst.convert_bbox("xywh")
        inst.normalize(640, 640)
        gt = xywh2xyxy(torch.from_numpy(inst.bboxes) * 640)[None]
        mask = assigner.select_candidates_in_gts(points, gt, torch.ones(1, gt.shape[1], 1))[0].numpy()
        for j, ann in enumerate(item["ids"]):
            out[ann] = np.bincount(level[mask[j]], minlength=3).tolist()
    return out
