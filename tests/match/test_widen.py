"""Levels the design search adds (P2, P7): their grids and anchors are what the toolkits build for those levels,
and the presets whose heads cannot take them get none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from required import need

from scalematch.match import geometry
from scalematch.match.assign._grid import anchor_levels
from scalematch.match.widen import widen
from scalematch.presets import load_preset
from scalematch.presets.preset import TorchvisionAnchors, TorchvisionInput
from scalematch.profile.api import build
from scalematch.profile.engine import feature_sizes

H, W = 320, 416  # a padded input (multiples of 32) small enough to run ResNet-50 quickly


def _need(module: str) -> None:
    need(module)


@pytest.mark.parametrize(("name", "added"), [("retinanet", ("P2",)), ("fcos", ("P2",)), ("faster-rcnn", ("P7",))])
def test_added_levels_are_torchvisions_maps_and_anchors(name: str, added: tuple[str, ...]) -> None:
    """torchvision's own ResNet-50 FPN with C2 returned (RetinaNet, FCOS: P6 and P7 by LastLevelP6P7) or with a
    second 1x1/2 max-pool after LastLevelMaxPool's P6 (Faster R-CNN, as mmdetection's FPN makes extra levels) has
    the widened graph's maps, and torchvision's AnchorGenerator with the widened sizes puts every anchor where the
    simulation does."""
    _need("torchvision")
    import torch
    import torch.nn.functional as F
    from torchvision.models import resnet50
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.models.detection.image_list import ImageList
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

    preset = load_preset(name)
    wide = widen(preset, build(preset.backbone, preset.neck))
    assert wide.added == added
    assert wide.preset.levels == ("P2", "P3", "P4", "P5", "P6", "P7")
    extra = LastLevelMaxPool() if name == "faster-rcnn" else LastLevelP6P7(256, 256)
    body = _resnet_fpn_extractor(resnet50(), 5, returned_layers=[1, 2, 3, 4], extra_blocks=extra).eval()
    with torch.no_grad():
        feats = list(body(torch.zeros(1, 3, H, W)).values())
    if name == "faster-rcnn":
        feats.append(F.max_pool2d(feats[-1], 1, 2, 0))
    sizes = feature_sizes(wide.graph, (H, W))
    assert [tuple(f.shape[-2:]) for f in feats] == [sizes[lv] for lv in wide.preset.levels]

    gen = wide.preset.anchors
    assert isinstance(gen, TorchvisionAnchors)
    first, last = preset.anchors.sizes[0], preset.anchors.sizes[-1]  # type: ignore[union-attr]
    assert gen.sizes[0] == (tuple(s / 2 for s in first) if "P2" in added else first)
    assert gen.sizes[-1] == (tuple(s * 2 for s in last) if "P7" in added else last)
    reference = AnchorGenerator(tuple(gen.sizes), (tuple(gen.aspect_ratios),) * len(gen.sizes))
    expected = reference(ImageList(torch.zeros(1, 3, H, W), [(H, W)]), feats)[0].numpy()

    small = replace(wide.preset, input=TorchvisionInput(min_size=H, max_size=W))
    imgs = geometry.images(small, np.array([float(W)]), np.array([float(H)]))
    assert (imgs.input_h[0], imgs.input_w[0]) == (H, W)
    grids = geometry.grids(small, wide.graph, imgs)
    ours = []
    for lv in anchor_levels(gen, grids, imgs):
        rows, cols, shapes = int(lv.grid.rows[0]), int(lv.grid.cols[0]), lv.shapes
        iy, ix, a = (v.reshape(-1) for v in np.meshgrid(np.arange(rows), np.arange(cols), np.arange(shapes),
                                                        indexing="ij"))  # fmt: skip
        image = np.zeros(len(a), np.int64)
        x1, x2 = lv.xs(image, ix, a)
        y1, y2 = lv.ys(image, iy, a)
        ours.append(np.stack([x1, y1, x2, y2], axis=1))
    assert np.array_equal(np.concatenate(ours), expected)


def test_atss_p2_is_mmdetections_fpn_and_generator() -> None:
    """mmdetection's own FPN with start_level 0 (ATSS: extra convs on the output, 6 outputs) makes the widened
    graph's maps, and its AnchorGenerator with stride 4 added has one anchor of 32 px per location there."""
    _need("mmdet")
    import sys
    import types
    from pathlib import Path

    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    import mmdet_ref

    generator_cls = mmdet_ref._load()["AnchorGenerator"]
    import mmdet

    name = "mmdet.models.necks"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(Path(mmdet.__file__).parent / "models" / "necks")]
        sys.modules[name] = package
    from mmdet.models.necks.fpn import FPN

    preset = load_preset("atss")
    wide = widen(preset, build(preset.backbone, preset.neck))
    assert wide.added == ("P2",)
    sizes = feature_sizes(wide.graph, (H, W))
    fpn = FPN([256, 512, 1024, 2048], 8, num_outs=6, start_level=0, add_extra_convs="on_output").eval()
    inputs = [torch.zeros(1, c, *sizes[f"C{k}"]) for c, k in zip((256, 512, 1024, 2048), (2, 3, 4, 5), strict=True)]
    with torch.no_grad():
        outs = fpn(inputs)
    assert [tuple(o.shape[-2:]) for o in outs] == [sizes[lv] for lv in wide.preset.levels]
    gen = wide.preset.anchors
    reference = generator_cls(strides=list(gen.strides), ratios=[1.0], octave_base_scale=8, scales_per_octave=1)  # type: ignore[union-attr]
    priors = reference.grid_priors([sizes[lv] for lv in wide.preset.levels], device="cpu")
    assert priors[0][0].tolist() == [-16.0, -16.0, 16.0, 16.0]  # P2: 8 x stride 4, centred at 0
    assert [len(p) for p in priors] == [sizes[lv][0] * sizes[lv][1] for lv in wide.preset.levels]


@pytest.mark.parametrize("name", ["ssd300", "yolov5", "yolov8"])
def test_heads_with_their_own_levels_get_none(name: str) -> None:
    preset = load_preset(name)
    wide = widen(preset, build(preset.backbone, preset.neck))
    assert wide.added == () and wide.preset == preset
