"""torchvision's own detectors, run in training mode on blank images, to read which anchors their assigners
make positive for every object. Written for the tests, independently of scalematch's simulation.

The backbone is a stub with ResNet-50's (or SSD300 VGG-16's) feature-map sizes: max-pools with the same
kernel, stride and padding as the real layers, one channel, so that torchvision's transform, anchor generator
and matcher run unchanged and cheaply. Boxes are prepared as torchvision's references/detection/coco_utils.py
does (float32 xywh -> xyxy, clamped to the image, crowd and empty boxes dropped).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from coco_file import images_with_annotations
from torch import nn
from torchvision.models.detection import FCOS, FasterRCNN, RetinaNet
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD


class ResNetStub(nn.Module):
    """ResNet-50 + FPN feature sizes: C2..C5 (stride 4..32), P6/P7 by 3x3/2 convs (RetinaNet, FCOS) or P6 by a
    1x1/2 max-pool (Faster R-CNN's LastLevelMaxPool)."""

    def __init__(self, levels: str, channels: int = 1) -> None:
        super().__init__()
        self.levels = levels
        self.out_channels = channels  # FCOS's head has GroupNorm(32): it needs 32 channels to build

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        c = x[:, :1]
        c1 = F.max_pool2d(c, 7, 2, 3)
        c2 = F.max_pool2d(c1, 3, 2, 1)
        c3 = F.max_pool2d(c2, 3, 2, 1)
        c4 = F.max_pool2d(c3, 3, 2, 1)
        c5 = F.max_pool2d(c4, 3, 2, 1)
        if self.levels == "p2-p6":
            return OrderedDict([("0", c2), ("1", c3), ("2", c4), ("3", c5), ("pool", F.max_pool2d(c5, 1, 2, 0))])
        p6 = F.max_pool2d(c5, 3, 2, 1)
        return OrderedDict([("0", c3), ("1", c4), ("2", c5), ("p6", p6), ("p7", F.max_pool2d(p6, 3, 2, 1))])


class SSDStub(nn.Module):
    """SSD300 VGG-16 feature sizes 38, 19, 10, 5, 3, 1 at 300 x 300."""

    def __init__(self) -> None:
        super().__init__()
        self.out_channels = [1] * 6

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        c = x[:, :1]
        for _ in range(2):  # conv1, conv2 blocks: 2x2/2 pools
            c = F.max_pool2d(c, 2, 2)
        c = F.max_pool2d(c, 2, 2, ceil_mode=True)  # pool3 (ceil mode) -> conv4_3 at 38
        s1 = c
        s2 = F.max_pool2d(F.max_pool2d(s1, 2, 2), 3, 1, 1)  # pool4 + pool5(3x3/1) -> fc7 at 19
        s3 = F.max_pool2d(s2, 3, 2, 1)
        s4 = F.max_pool2d(s3, 3, 2, 1)
        s5 = F.max_pool2d(s4, 3, 1, 0)
        s6 = F.max_pool2d(s5, 3, 1, 0)
        return OrderedDict((str(k), v) for k, v in enumerate([s1, s2, s3, s4, s5, s6]))


def coco_targets(path: Path) -> list[dict[str, Any]]:
    """Per image (in the file's order of images): size and the kept boxes with their annotation ids."""
    out = []
    for img, anns in images_with_annotations(path):
        w, h = img["width"], img["height"]
        objs = [a for a in anns if not a.get("iscrowd", 0)]
        boxes = torch.as_tensor([a["bbox"] for a in objs], dtype=torch.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        boxes[:, 0::2].clamp_(min=0, max=w)
        boxes[:, 1::2].clamp_(min=0, max=h)
        keep = (boxes[:, 3] > boxes[:, 1]) & (boxes[:, 2] > boxes[:, 0])
        ids = [a["id"] for a, k in zip(objs, keep.tolist(), strict=True) if k]
        out.append({"w": w, "h": h, "boxes": boxes[keep], "ids": ids, "all_ids": [a["id"] for a in objs]})
    return out


class _Record:
    def __init__(self, matcher: Any) -> None:
        self.matcher = matcher
        self.calls: list[torch.Tensor] = []

    def __call__(self, quality: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.matcher(quality)
        self.calls.append(out.clone())
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.matcher, name)


def _model(name: str, size: tuple[int, int] = (300, 300)) -> Any:
    if name == "retinanet":
        return RetinaNet(ResNetStub("p3-p7"), num_classes=2)
    if name == "fcos":
        return FCOS(ResNetStub("p3-p7", channels=32), num_classes=2)
    if name == "faster-rcnn":
        return FasterRCNN(ResNetStub("p2-p6"), num_classes=2)
    if name == "ssd300":
        gen = DefaultBoxGenerator(
            [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
            scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
            steps=[8, 16, 32, 64, 100, 300],
        )
        return SSD(SSDStub(), gen, size, num_classes=2, image_mean=[0.0] * 3, image_std=[1.0] * 3)  # size: (W, H)
    raise ValueError(name)


def positives(name: str, path: Path, size: tuple[int, int] = (300, 300)) -> dict[int, list[int]]:
    """Annotation id -> positives per level, as the toolkit's own assigner decides (crowd and dropped boxes
    absent); ``size``: SSD's fixed input (width, height)."""
    torch.manual_seed(0)
    model: Any = _model(name, size)
    model.train()
    out: dict[int, list[int]] = {}
    captured: dict[str, Any] = {}

    def capture(targets: Any, head_outputs: Any, anchors: Any, matched_idxs: Any, *rest: Any) -> dict[str, Any]:
        captured["matched"] = matched_idxs
        captured["anchors"] = anchors
        return {"loss": torch.zeros(())}

    if name != "faster-rcnn":
        # The head's outputs only feed the loss, which is replaced: skip its convolutions.
        model.head.forward = lambda features: {}
    for item in coco_targets(path):
        image = torch.zeros(3, item["h"], item["w"])
        target = {"boxes": item["boxes"], "labels": torch.ones(len(item["boxes"]), dtype=torch.int64)}
        with torch.no_grad():
            if name == "faster-rcnn":
                record = _Record(model.rpn.proposal_matcher)
                model.rpn.proposal_matcher = record
                images, targets = model.transform([image], [target])
                features = model.backbone(images.tensors)
                model.rpn(images, features, targets)
                model.rpn.proposal_matcher = record.matcher
                sizes = [f.shape[-2] * f.shape[-1] * 3 for f in features.values()]
                matched = record.calls[0] if record.calls else torch.full((sum(sizes),), -1)
            else:
                record = None
                if name in ("retinanet", "ssd300"):
                    record = _Record(model.proposal_matcher)
                    model.proposal_matcher = record
                if name == "ssd300":
                    model.compute_loss = capture
                else:
                    model.head.compute_loss = capture
                model([image], [target])
                if record is not None:
                    model.proposal_matcher = record.matcher
                    matched = record.calls[0] if record.calls else torch.full((0,), -1)
                else:
                    matched = captured.pop("matched", [None])[0]
                images, _ = model.transform([image], [target])
                feats = list(model.backbone(images.tensors).values())
                per = model.anchor_generator.num_anchors_per_location()
                sizes = [f.shape[-2] * f.shape[-1] * a for f, a in zip(feats, per, strict=True)]
                if matched is None:
                    matched = torch.full((sum(sizes),), -1)
        level = np.repeat(np.arange(len(sizes)), sizes)
        m = matched.numpy()
        for j, ann in enumerate(item["ids"]):
            hit = m == j
            out[ann] = np.bincount(level[hit], minlength=len(sizes)).tolist()
    return out
