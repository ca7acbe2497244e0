"""mmdetection's own ATSS code (3.3), run on COCO files for the tests, independently of scalematch's simulation.

mmcv's compiled operators do not install here (mmcv-lite has none), and mmdet imports them from its package
``__init__`` files: the loader below registers the needed package folders without running those files and
stands in an empty module for ``mmcv.ops`` (nothing used here calls it). Everything that decides the result is
mmdet's own: CocoDataset.parse_data_info (which boxes are kept), the Resize transform (image size and boxes),
AnchorGenerator.grid_priors and ATSSAssigner.assign. The feature-map sizes come from max-pools with ResNet-50's
and FPN's kernels, strides and paddings at the padded input (DetDataPreprocessor pads to 32).
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


class _Empty(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def _load() -> dict[str, Any]:
    for name in ("mmcv.ops", "mmcv.ops.roi_align", "mmcv.ops.nms", "mmcv.ops.point_sample"):
        if name not in sys.modules:
            stub = _Empty(name)
            stub.__path__ = []
            sys.modules[name] = stub
    import mmdet

    root = Path(mmdet.__file__).parent
    for name in (
        "mmdet.models",
        "mmdet.models.task_modules",
        "mmdet.models.task_modules.assigners",
        "mmdet.models.task_modules.prior_generators",
        "mmdet.datasets",
        "mmdet.datasets.transforms",
    ):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(root.joinpath(*name.split(".")[1:]))]
            sys.modules[name] = package
    from mmdet.datasets.coco import CocoDataset
    from mmdet.datasets.transforms.transforms import Resize
    from mmdet.models.task_modules.assigners import iou2d_calculator  # noqa: F401  (registers BboxOverlaps2D)
    from mmdet.models.task_modules.assigners.atss_assigner import ATSSAssigner
    from mmdet.models.task_modules.prior_generators.anchor_generator import AnchorGenerator
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData

    return {
        "CocoDataset": CocoDataset,
        "Resize": Resize,
        "ATSSAssigner": ATSSAssigner,
        "AnchorGenerator": AnchorGenerator,
        "HorizontalBoxes": HorizontalBoxes,
        "InstanceData": InstanceData,
    }


def _levels(h: int, w: int) -> list[tuple[int, int]]:
    x = torch.zeros(1, 1, h, w)
    c1 = F.max_pool2d(x, 7, 2, 3)
    c2 = F.max_pool2d(c1, 3, 2, 1)
    c3 = F.max_pool2d(c2, 3, 2, 1)
    c4 = F.max_pool2d(c3, 3, 2, 1)
    c5 = F.max_pool2d(c4, 3, 2, 1)
    p6 = F.max_pool2d(c5, 3, 2, 1)
    p7 = F.max_pool2d(p6, 3, 2, 1)
    return [tuple(t.shape[-2:]) for t in (c3, c4, c5, p6, p7)]  # type: ignore[misc]


def atss_positives(path: Path) -> dict[int, list[int]]:
    """Annotation id -> positives per level (P3-P7) from mmdet's ATSSAssigner(topk=9)."""
    mm = _load()
    data = json.loads(path.read_text())
    cat_ids = [c["id"] for c in data["categories"]]
    fake = types.SimpleNamespace(
        data_prefix={"img": ""},
        return_classes=False,
        cat_ids=cat_ids,
        cat2label={c: i for i, c in enumerate(cat_ids)},
        seg_map_suffix=".png",
    )
    anns: dict[int, list[dict[str, Any]]] = {}
    for a in data["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    out: dict[int, list[int]] = {}
    for img in data["images"]:
        raw = anns.get(img["id"], [])
        info = mm["CocoDataset"].parse_data_info(
            fake, {"raw_img_info": {**img, "img_id": img["id"]}, "raw_ann_info": raw}
        )
        kept = [
            (inst, a) for inst, a in zip(info["instances"], _kept(raw, img), strict=True) if not inst["ignore_flag"]
        ]
        if kept:
            boxes = [inst["bbox"] for inst, _ in kept]
            out |= _assign(mm, img["width"], img["height"], boxes, [a["id"] for _, a in kept])
    return out


def atss_positives_voc(folder: Path, classes: list[str], images: bool = False) -> dict[tuple[str, int], list[int]]:
    """(XML file name, object number from 1) -> positives per level (P3-P7), for every ``*.xml`` in ``folder``
    read by mmdet's own XMLDataset.parse_data_info (VOC's minus one, difficult objects flagged ignore).
    ``images``: ``folder`` is a year folder's ``Annotations/``, and a file without ``<size>`` takes the size of its
    image ``JPEGImages/<stem>.jpg`` beside it (as XMLDataset.load_data_list names it)."""
    import functools

    mm = _load()
    from mmdet.datasets.xml_style import XMLDataset

    fake = types.SimpleNamespace(
        sub_data_root=str(folder.parent if images else folder), backend_args=None, _metainfo={"classes": classes},
        cat2label={c: i for i, c in enumerate(classes)}, bbox_min_size=None, test_mode=False,
    )  # fmt: skip
    fake._parse_instance_info = functools.partial(XMLDataset._parse_instance_info, fake)
    out: dict[tuple[str, int], list[int]] = {}
    for xml in sorted(folder.glob("*.xml")):
        image = f"JPEGImages/{xml.stem}.jpg" if images else ""
        info = XMLDataset.parse_data_info(fake, {"img_id": xml.stem, "file_name": image, "xml_path": str(xml)})
        kept = [(k, inst) for k, inst in enumerate(info["instances"], 1) if not inst["ignore_flag"]]
        if kept:
            boxes = [inst["bbox"] for _, inst in kept]
            ids = [(xml.name, k) for k, _ in kept]
            out |= _assign(mm, info["width"], info["height"], boxes, ids)
    return out


def _assign(mm: dict[str, Any], width: int, height: int, boxes: list[Any], ids: list[Any]) -> dict[Any, list[int]]:
    """Positives per level of each box (xyxy in original pixels) of one image: mmdet's Resize((1333, 800)),
    padding to 32, AnchorGenerator and ATSSAssigner(topk=9)."""
    resize = mm["Resize"](scale=(1333, 800), keep_ratio=True)
    anchors = mm["AnchorGenerator"](
        strides=[8, 16, 32, 64, 128], ratios=[1.0], octave_base_scale=8, scales_per_octave=1
    )
    assigner = mm["ATSSAssigner"](topk=9)
    results = {
        "img": np.zeros((height, width, 3), np.uint8),
        "gt_bboxes": mm["HorizontalBoxes"](np.array(boxes, dtype=np.float32).reshape(-1, 4)),
    }
    results = resize(results)
    h, w = results["img_shape"]
    pad_h, pad_w = -(-h // 32) * 32, -(-w // 32) * 32
    sizes = _levels(pad_h, pad_w)
    priors = anchors.grid_priors(sizes, device="cpu")
    gt = mm["InstanceData"](bboxes=results["gt_bboxes"].tensor, labels=torch.zeros(len(ids), dtype=torch.long))
    result = assigner.assign(mm["InstanceData"](priors=torch.cat(priors)), [len(p) for p in priors], gt)
    level = np.repeat(np.arange(len(priors)), [len(p) for p in priors])
    assigned = result.gt_inds.numpy()
    return {a: np.bincount(level[assigned == j + 1], minlength=len(priors)).tolist() for j, a in enumerate(ids)}


def _kept(raw: list[dict[str, Any]], img: dict[str, Any]) -> list[dict[str, Any]]:
    """The annotations parse_data_info turns into instances, in its order (it skips the same ones)."""
    out = []
    for a in raw:
        x1, y1, w, h = a["bbox"]
        inter_w = max(0, min(x1 + w, img["width"]) - max(x1, 0))
        inter_h = max(0, min(y1 + h, img["height"]) - max(y1, 0))
        if a.get("ignore", False) or inter_w * inter_h == 0 or a["area"] <= 0 or w < 1 or h < 1:
            continue
        out.append(a)
    return out
