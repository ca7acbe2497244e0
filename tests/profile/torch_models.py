# mypy: disable-error-code="no-any-return"
"""Independent PyTorch builds of the built-in backbones and necks, written from the source architectures.

Each class follows the layout of its source (torchvision, TF-slim, ultralytics, mmdetection) with small
channel widths (geometry does not depend on widths). Nothing here reads the YAML configs: the tests import
these modules with torch.fx and compare the numbers with the configs'. ``TAPS`` maps each config's outputs
to the module paths of the build.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

W = 8  # channel width of every layer (geometry does not depend on it)


def conv(k: int, s: int = 1, p: int = 0, d: int = 1, groups: int = 1, cin: int = W, cout: int = W) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, s, p, d, groups=groups, bias=False)


def cbr(k: int, s: int = 1, p: int = 0, groups: int = 1, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    return nn.Sequential(conv(k, s, p, groups=groups), nn.BatchNorm2d(W), act())


# -- ResNets (torchvision v1.5, Caffe, ResNeXt) ------------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv(3, stride, 1), nn.BatchNorm2d(W)
        self.conv2, self.bn2 = conv(3, 1, 1), nn.BatchNorm2d(W)
        self.relu = nn.ReLU()
        self.downsample = nn.Sequential(conv(1, stride), nn.BatchNorm2d(W)) if stride != 1 else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    def __init__(self, stride: int, proj: bool, stride_on_1x1: bool = False, groups: int = 1) -> None:
        super().__init__()
        s1, s2 = (stride, 1) if stride_on_1x1 else (1, stride)
        self.conv1, self.bn1 = conv(1, s1), nn.BatchNorm2d(W)
        self.conv2, self.bn2 = conv(3, s2, 1, groups=groups), nn.BatchNorm2d(W)
        self.conv3, self.bn3 = conv(1), nn.BatchNorm2d(W)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = nn.Sequential(conv(1, stride), nn.BatchNorm2d(W)) if proj else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, layers: list[int], bottleneck: bool, stride_on_1x1: bool = False, groups: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, W, 7, 2, 3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(W), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages = []
        for i, n in enumerate(layers):
            stride = 1 if i == 0 else 2
            blocks: list[nn.Module] = []
            for b in range(n):
                s = stride if b == 0 else 1
                if bottleneck:
                    blocks.append(Bottleneck(s, b == 0, stride_on_1x1, groups))
                else:
                    blocks.append(BasicBlock(s))
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


RESNET_TAPS = {"C1": "conv1", "C2": "layer1", "C3": "layer2", "C4": "layer3", "C5": "layer4"}


# -- TF-slim resnet_v1_50 -------------------------------------------------------------------------------------
class SlimUnit(nn.Module):
    def __init__(self, stride: int, proj: bool) -> None:
        super().__init__()
        self.conv1 = conv(1)
        self.conv2 = conv(3, stride, 1)  # conv2d_same: stride 1 "SAME" is padding 1; stride 2 pads 1, 1
        self.conv3 = conv(1)
        self.shortcut = conv(1) if proj else nn.MaxPool2d(1, stride)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.conv3(F.relu(self.conv2(F.relu(self.conv1(x))))) + self.shortcut(x))


class SlimResNet50(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, W, 7, 2, 3)
        self.pool1 = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(3, 2))  # "SAME" on an even input
        for b, n in enumerate((3, 4, 6, 3), start=1):
            units: OrderedDict[str, nn.Module] = OrderedDict(
                (f"unit_{u}", SlimUnit(2 if (u == n and b < 4) else 1, u == 1)) for u in range(1, n + 1)
            )
            setattr(self, f"block{b}", nn.Sequential(units))

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.conv1(x))
        for b in range(1, 5):
            x = getattr(self, f"block{b}")(x)
        return x


SLIM_TAPS = {
    "C1": "conv1",
    "C2": "block1.unit_2",
    "C3": "block2.unit_3",
    "C4": "block3.unit_5",
    "C5": "block4",
}


# -- seed list -------------------------------------------------------------------------------------------------
def seed_resnet50() -> tuple[nn.Module, dict[str, str]]:
    layers: list[nn.Module] = [nn.Conv2d(3, W, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    taps = {"conv1": "0", "maxpool": "1"}
    for stage, n in zip(("C2", "C3", "C4", "C5"), (3, 4, 6, 3), strict=True):
        for b in range(n):
            layers += [conv(1, 2 if (b == 0 and stage != "C2") else 1), conv(3, 1, 1), conv(1)]
        taps[stage] = str(len(layers) - 1)
    return nn.Sequential(*layers), taps


# -- VGG-16 and SSD300 -------------------------------------------------------------------------------------------
def vgg_layers(ssd: bool) -> OrderedDict[str, nn.Module]:
    out: OrderedDict[str, nn.Module] = OrderedDict()
    cin = 3
    for block, n in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, n + 1):
            out[f"conv{block}_{i}"] = nn.Conv2d(cin, W, 3, 1, 1)
            out[f"relu{block}_{i}"] = nn.ReLU(inplace=True)
            cin = W
        if ssd and block == 5:
            out["pool5"] = nn.MaxPool2d(3, 1, 1)
        else:
            out[f"pool{block}"] = nn.MaxPool2d(2, 2, ceil_mode=ssd and block == 3)
    if ssd:
        out["fc6"] = conv(3, 1, 6, 6)
        out["relu6"] = nn.ReLU(inplace=True)
        out["fc7"] = conv(1)
        out["relu7"] = nn.ReLU(inplace=True)
    return out


class L2Norm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(W))

    def forward(self, x: Tensor) -> Tensor:
        return self.weight[None, :, None, None] * x / x.pow(2).sum(1, keepdim=True).sqrt()


class SSD300(nn.Module):
    """mmdetection SSDVGG + SSDNeck for 300x300: conv4_3 (L2-normalised), fc7, conv8_2 ... conv11_2."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(vgg_layers(ssd=True))
        self.l2norm = L2Norm()
        self.extra = nn.ModuleList(
            [nn.Sequential(conv(1), nn.ReLU(), conv(3, s, p), nn.ReLU()) for s, p in ((2, 1), (2, 1), (1, 0), (1, 0))]
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        outs = []
        for name, layer in self.features.named_children():
            x = layer(x)
            if name == "relu4_3":
                outs.append(self.l2norm(x))
        outs.append(x)
        for layer in self.extra:
            x = layer(x)
            outs.append(x)
        return outs


# -- MobileNets and EfficientNet ----------------------------------------------------------------------------------
class SlimMobileNetV1(nn.Module):
    """TF-slim mobilenet_v1: "SAME" padding: stride-2 3x3 convs pad (0, 1) on even inputs, stride 1 pads 1."""

    def __init__(self) -> None:
        super().__init__()
        strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
        self.Conv2d_0 = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, W, 3, 2), nn.ReLU6())
        for i, s in enumerate(strides, start=1):
            pad: nn.Module = nn.ZeroPad2d((0, 1, 0, 1)) if s == 2 else nn.ZeroPad2d(1)
            layer = nn.Sequential(
                OrderedDict(
                    [
                        ("pad", pad),
                        ("depthwise", conv(3, s, groups=W)),
                        ("relu_dw", nn.ReLU6()),
                        ("pointwise", conv(1)),
                        ("relu_pw", nn.ReLU6()),
                    ]
                )
            )
            setattr(self, f"Conv2d_{i}", layer)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.children():
            x = layer(x)
        return x


V1_TAPS = {"C1": "Conv2d_1", "C2": "Conv2d_3", "C3": "Conv2d_5", "C4": "Conv2d_11", "C5": "Conv2d_13"}


class SqueezeExcitation(nn.Module):
    def __init__(self, gate: type[nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(W, 4, 1), nn.Conv2d(4, W, 1)
        self.act, self.gate = nn.ReLU(), gate()

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(self.fc2(self.act(self.fc1(self.avgpool(x)))))


class InvertedResidual(nn.Module):
    def __init__(self, k: int, stride: int, expand: bool, residual: bool, se: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [cbr(1)] if expand else []
        layers.append(cbr(k, stride, (k - 1) // 2, groups=W))
        if se:
            layers.append(SqueezeExcitation(nn.Hardsigmoid))
        layers += [conv(1), nn.BatchNorm2d(W)]
        self.block = nn.Sequential(*layers)
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x) if self.residual else self.block(x)


def mobilenet_v2() -> nn.Module:
    blocks: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, W, 3, 2, 1), nn.ReLU6())]
    for t, n, s in ((1, 1, 1), (6, 2, 2), (6, 3, 2), (6, 4, 2), (6, 3, 1), (6, 3, 2), (6, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            blocks.append(InvertedResidual(3, stride, t != 1, stride == 1 and i > 0))
    blocks.append(cbr(1))
    return nn.Sequential(OrderedDict([("features", nn.Sequential(*blocks))]))


V2_TAPS = {"C1": "features.1", "C2": "features.3", "C3": "features.6", "C4": "features.13", "C5": "features.18"}

V3_LARGE = [  # kernel, expand (input != expanded width), SE, stride, residual (torchvision's table)
    (3, False, False, 1, True),
    (3, True, False, 2, False),
    (3, True, False, 1, True),
    (5, True, True, 2, False),
    (5, True, True, 1, True),
    (5, True, True, 1, True),
    (3, True, False, 2, False),
    (3, True, False, 1, True),
    (3, True, False, 1, True),
    (3, True, False, 1, True),
    (3, True, True, 1, False),
    (3, True, True, 1, True),
    (5, True, True, 2, False),
    (5, True, True, 1, True),
    (5, True, True, 1, True),
]


def mobilenet_v3_large() -> nn.Module:
    blocks: list[nn.Module] = [cbr(3, 2, 1, act=nn.Hardswish)]
    blocks += [InvertedResidual(k, s, e, r, se) for k, e, se, s, r in V3_LARGE]
    blocks.append(cbr(1, act=nn.Hardswish))
    return nn.Sequential(OrderedDict([("features", nn.Sequential(*blocks))]))


V3_TAPS = {"C1": "features.1", "C2": "features.3", "C3": "features.6", "C4": "features.12", "C5": "features.16"}


class MBConv(nn.Module):
    def __init__(self, k: int, stride: int, expand: bool, residual: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [cbr(1, act=nn.SiLU)] if expand else []
        layers += [cbr(k, stride, (k - 1) // 2, groups=W, act=nn.SiLU), SqueezeExcitation(), conv(1)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.Dropout(0.2)  # torchvision: StochasticDepth, identity in eval
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return self.stochastic_depth(out) + x if self.residual else out


def efficientnet_b0() -> nn.Module:
    stages: list[nn.Module] = [cbr(3, 2, 1, act=nn.SiLU)]
    for e, k, s, n in (
        (1, 3, 1, 1),
        (6, 3, 2, 2),
        (6, 5, 2, 2),
        (6, 3, 2, 3),
        (6, 5, 1, 3),
        (6, 5, 2, 4),
        (6, 3, 1, 1),
    ):
        stages.append(nn.Sequential(*[MBConv(k, s if i == 0 else 1, e != 1, i > 0) for i in range(n)]))
    stages.append(cbr(1, act=nn.SiLU))
    return nn.Sequential(OrderedDict([("features", nn.Sequential(*stages))]))


EFF_TAPS = {"C1": "features.1", "C2": "features.2", "C3": "features.3", "C4": "features.5", "C5": "features.8"}


# -- YOLO backbones -------------------------------------------------------------------------------------------
class YoloConv(nn.Module):
    def __init__(self, k: int = 1, s: int = 1, p: int | None = None, cin: int = W) -> None:
        super().__init__()
        self.conv = conv(k, s, k // 2 if p is None else p, cin=cin)
        self.bn, self.act = nn.BatchNorm2d(W), nn.SiLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class YoloBottleneck(nn.Module):
    def __init__(self, shortcut: bool) -> None:
        super().__init__()
        self.cv1, self.cv2 = YoloConv(1), YoloConv(3)
        self.add = shortcut

    def forward(self, x: Tensor) -> Tensor:
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C3(nn.Module):
    def __init__(self, n: int, shortcut: bool = True, cin: int = W) -> None:
        super().__init__()
        self.cv1, self.cv2, self.cv3 = YoloConv(1, cin=cin), YoloConv(1, cin=cin), YoloConv(1, cin=2 * W)
        self.m = nn.Sequential(*(YoloBottleneck(shortcut) for _ in range(n)))

    def forward(self, x: Tensor) -> Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cv1, self.cv2 = YoloConv(1), YoloConv(1, cin=4 * W)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    def forward(self, xs: list[Tensor]) -> Tensor:
        return torch.cat(xs, 1)


class YoloV5s(nn.Module):
    """yolov5s.yaml: the backbone (model.0 ... model.9) and, with ``head``, the PAN (model.10 ... model.23)."""

    def __init__(self, head: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [YoloConv(6, 2, 2), YoloConv(3, 2), C3(1), YoloConv(3, 2), C3(2)]
        layers += [YoloConv(3, 2), C3(3), YoloConv(3, 2), C3(1), SPPF()]
        self.froms: list[int | tuple[int, int]] = [-1] * 10
        if head:
            up = nn.Upsample(None, 2, "nearest")
            c3 = [C3(1, False, 2 * W) for _ in range(4)]
            layers += [YoloConv(1), up, Concat(), c3[0], YoloConv(1), nn.Upsample(None, 2, "nearest")]
            layers += [Concat(), c3[1], YoloConv(3, 2), Concat(), c3[2], YoloConv(3, 2), Concat(), c3[3]]
            self.froms += [-1, -1, (-1, 6), -1, -1, -1, (-1, 4), -1, -1, (-1, 14), -1, -1, (-1, 10), -1]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> list[Tensor]:
        saved: list[Tensor] = []
        for layer, src in zip(self.model, self.froms, strict=True):
            x = layer([x, saved[src[1]]]) if isinstance(src, tuple) else layer(x)
            saved.append(x)
        return [saved[i] for i in ((17, 20, 23) if len(saved) > 10 else (9,))]


YOLO_TAPS = {"C1": "model.0", "C2": "model.2", "C3": "model.4", "C4": "model.6", "C5": "model.9"}
PAN_TAPS = {"P3": "model.17", "P4": "model.20", "P5": "model.23"}


class DarkRes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = cbr(1, act=nn.LeakyReLU), cbr(3, 1, 1, act=nn.LeakyReLU)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.conv1(x))


class Darknet53(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, W, 3, 1, 1), nn.LeakyReLU())
        for i, n in enumerate((1, 2, 8, 8, 4), start=1):
            stage: OrderedDict[str, nn.Module] = OrderedDict([("conv", cbr(3, 2, 1, act=nn.LeakyReLU))])
            stage.update((f"res{j}", DarkRes()) for j in range(n))
            setattr(self, f"conv_res_block{i}", nn.Sequential(stage))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.children():
            x = layer(x)
        return x


DARKNET_TAPS = {f"C{i}": f"conv_res_block{i}" for i in range(1, 6)}


# -- ConvNeXt-T, RegNetX-400MF -------------------------------------------------------------------------------
class CNBlock(nn.Module):
    """torchvision's CNBlock: depthwise 7x7, then channels-last LayerNorm / Linear / GELU / Linear, layer scale."""

    def __init__(self) -> None:
        super().__init__()
        self.dwconv = conv(7, 1, 3, groups=W)
        self.norm = nn.LayerNorm(W)
        self.pwconv1, self.act, self.pwconv2 = nn.Linear(W, 4 * W), nn.GELU(), nn.Linear(4 * W, W)
        self.layer_scale = nn.Parameter(torch.full((W, 1, 1), 1e-6))

    def forward(self, x: Tensor) -> Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y)))).permute(0, 3, 1, 2)
        return self.layer_scale * y + x


def convnext_tiny() -> nn.Module:
    stages: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, W, 4, 4), nn.GroupNorm(1, W))]
    for i, n in enumerate((3, 3, 9, 3)):
        if i:
            stages.append(nn.Sequential(nn.GroupNorm(1, W), nn.Conv2d(W, W, 2, 2)))
        stages.append(nn.Sequential(*(CNBlock() for _ in range(n))))
    return nn.Sequential(OrderedDict([("features", nn.Sequential(*stages))]))


CONVNEXT_TAPS = {"C2": "features.1", "C3": "features.3", "C4": "features.5", "C5": "features.7"}


class ResBottleneckBlock(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(conv(1, stride), nn.BatchNorm2d(W)) if stride != 1 else None
        self.f = nn.Sequential(OrderedDict([("a", cbr(1)), ("b", cbr(3, stride, 1, groups=W // 4)), ("c", conv(1))]))
        self.activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        shortcut = self.proj(x) if self.proj is not None else x
        return self.activation(shortcut + self.f(x))


class RegNetX400MF(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = cbr(3, 2, 1)
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        for i, n in enumerate((1, 2, 7, 12), start=1):
            stages[f"block{i}"] = nn.Sequential(
                OrderedDict((f"block{i}-{j}", ResBottleneckBlock(2 if j == 0 else 1)) for j in range(n))
            )
        self.trunk_output = nn.Sequential(stages)

    def forward(self, x: Tensor) -> Tensor:
        return self.trunk_output(self.stem(x))


REGNET_TAPS = {"C1": "stem", **{f"C{i + 1}": f"trunk_output.block{i}" for i in range(1, 5)}}


# -- necks on a ResNet-50 ------------------------------------------------------------------------------------
class ResNetFPN(nn.Module):
    """torchvision-style ResNet-50 + FPN. ``extra``: 'pool' (P6 = max-pool 1/2 on P5, Faster R-CNN),
    'c5' (RetinaNet: P6 = 3x3/2 on C5) or 'p5' (FCOS: on P5); P7 = 3x3/2 on ReLU(P6)."""

    def __init__(self, extra: str) -> None:
        super().__init__()
        self.body = ResNet([3, 4, 6, 3], bottleneck=True)
        self.first = 2 if extra == "pool" else 3
        self.lateral = nn.ModuleList([conv(1) for _ in range(self.first, 6)])
        self.output = nn.ModuleList([conv(3, 1, 1) for _ in range(self.first, 6)])
        self.extra = extra
        self.p6: nn.Module | None = conv(3, 2, 1) if extra != "pool" else None
        self.p7: nn.Module | None = conv(3, 2, 1) if extra != "pool" else None

    def forward(self, x: Tensor) -> list[Tensor]:
        b = self.body
        x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        cs = []
        for layer in (b.layer1, b.layer2, b.layer3, b.layer4):
            x = layer(x)
            cs.append(x)
        cs = cs[self.first - 2 :]
        inner = self.lateral[-1](cs[-1])
        outs = [self.output[-1](inner)]
        for k in range(len(cs) - 2, -1, -1):
            lateral = self.lateral[k](cs[k])
            inner = lateral + F.interpolate(inner, size=lateral.shape[-2:], mode="nearest")
            outs.insert(0, self.output[k](inner))
        if self.p6 is None or self.p7 is None:
            outs.append(F.max_pool2d(outs[-1], 1, 2, 0))
        else:
            p6 = self.p6(cs[-1] if self.extra == "c5" else outs[-1])
            outs += [p6, self.p7(F.relu(p6))]
        return outs


def resnet_fpn_taps(extra: str) -> dict[str, str]:
    first = 2 if extra == "pool" else 3
    taps = {f"P{k}": f"output.{k - first}" for k in range(first, 6)}
    taps |= {"P6": "max_pool2d"} if extra == "pool" else {"P6": "p6", "P7": "p7"}
    return taps


BACKBONES: dict[str, Callable[[], tuple[nn.Module, dict[str, str]]]] = {
    "resnet18": lambda: (ResNet([2, 2, 2, 2], False), RESNET_TAPS),
    "resnet34": lambda: (ResNet([3, 4, 6, 3], False), RESNET_TAPS),
    "resnet50": lambda: (ResNet([3, 4, 6, 3], True), RESNET_TAPS),
    "resnet101": lambda: (ResNet([3, 4, 23, 3], True), RESNET_TAPS),
    "resnet152": lambda: (ResNet([3, 8, 36, 3], True), RESNET_TAPS),
    "resnet50-caffe": lambda: (ResNet([3, 4, 6, 3], True, stride_on_1x1=True), RESNET_TAPS),
    "resnext50_32x4d": lambda: (ResNet([3, 4, 6, 3], True, groups=W), RESNET_TAPS),
    "resnet50-tfslim": lambda: (SlimResNet50(), SLIM_TAPS),
    "seed-resnet50": seed_resnet50,
    "vgg16": lambda: (
        nn.Sequential(vgg_layers(ssd=False)),
        {"C1": "conv2_2", "C2": "conv3_3", "C3": "conv4_3", "C4": "conv5_3", "C5": "pool5"},
    ),
    "vgg16-ssd": lambda: (
        nn.Sequential(vgg_layers(ssd=True)),
        {"C1": "conv2_2", "C2": "conv3_3", "C3": "conv4_3", "C4": "fc7"},
    ),
    "mobilenet_v1": lambda: (SlimMobileNetV1(), V1_TAPS),
    "mobilenet_v2": lambda: (mobilenet_v2(), V2_TAPS),
    "mobilenet_v3_large": lambda: (mobilenet_v3_large(), V3_TAPS),
    "efficientnet_b0": lambda: (efficientnet_b0(), EFF_TAPS),
    "cspdarknet": lambda: (YoloV5s(), YOLO_TAPS),
    "darknet53": lambda: (Darknet53(), DARKNET_TAPS),
    "convnext_tiny": lambda: (convnext_tiny(), CONVNEXT_TAPS),
    "regnetx_400mf": lambda: (RegNetX400MF(), REGNET_TAPS),
}
"""Built-in backbone name -> (an independent torch build, config output -> module path)."""

NECKS: dict[tuple[str, str], Callable[[], tuple[nn.Module, dict[str, str]]]] = {
    ("resnet50", "fpn"): lambda: (ResNetFPN("pool"), resnet_fpn_taps("pool")),
    ("resnet50", "fpn-retinanet"): lambda: (ResNetFPN("c5"), resnet_fpn_taps("c5")),
    ("resnet50", "fpn-fcos"): lambda: (ResNetFPN("p5"), resnet_fpn_taps("p5")),
    ("cspdarknet", "pan"): lambda: (YoloV5s(head=True), PAN_TAPS),
    ("vgg16-ssd", "ssd"): lambda: (SSD300(), {f"P{k}": "" for k in range(3, 9)}),
}
"""(backbone, neck) -> (a torch build of both, neck output -> module path; '' = the k-th returned map)."""
