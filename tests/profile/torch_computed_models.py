# mypy: disable-error-code="no-any-return"
"""Small PyTorch modules whose arguments are computed from shapes in the traced graph, as real code writes them
(review round 16): dims (``a.dim() - 1``), kernels (``out.size()[2:]``), pads to a multiple, factors and sizes.
Each is named in the tests; the CLI tests import them as ``torch_computed_models:<Class>``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv(cin: int = 3, cout: int = 4, k: int = 3, s: int = 1, p: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, s, p)


class Computed(nn.Module):
    """A 3x3 convolution, then ``how`` written with an argument computed from a shape."""

    def __init__(self, how: str = "pad to a multiple of 8") -> None:
        super().__init__()
        self.how = how
        self.a = conv(s=2 if "factor" in how or "twice" in how else 1)
        self.b = conv(k=5, p=2)
        self.pool = nn.AvgPool2d(8, 8)
        self.w = nn.Parameter(torch.full((4, 4, 3, 3), 0.1))
        self.zero: Tensor
        self.register_buffer("zero", torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        how = self.how
        if how == "softmax along W":
            return F.softmax(a, dim=a.dim() - 1)
        if how == "softmax along C":
            return F.softmax(a, dim=a.dim() - 3)
        if how == "chunk along W":
            return a.chunk(2, dim=a.ndim - 1)[1]
        if how == "chunk along C":
            return a.chunk(2, dim=a.ndim - 3)[1]
        if how == "glu along H":
            return F.glu(a, a.dim() - 2)
        if how == "global pool by the map's size":  # kuangliu/pytorch-cifar's ResNet head
            return F.avg_pool2d(a, a.size()[2:])
        if how == "pad to a multiple of 8":  # Swin, UNet
            h, w = a.shape[-2:]
            return self.pool(F.pad(a, (0, (8 - w % 8) % 8, 0, (8 - h % 8) % 8)))
        if how == "adaptive pool to half":
            return F.adaptive_avg_pool2d(a, (a.shape[2] // 2, a.shape[3] // 2))
        if how == "pool by a computed kernel":
            return F.avg_pool2d(a, kernel_size=a.shape[-1] // 8)
        if how == "conv padded by a computed amount":
            return F.conv2d(a, self.w, padding=a.shape[1] // 4)
        if how == "mean along W":
            return a.mean(dim=a.dim() - 1, keepdim=True)
        if how == "cat along a computed dim":
            return torch.cat([a, self.b(x)], dim=a.ndim - 3)
        if how == "up-sampling by a computed factor":
            return F.interpolate(a, scale_factor=x.shape[-1] // a.shape[-1])
        if how == "up-sampling to twice the size":
            return F.interpolate(a, size=(a.shape[2] * 2, a.shape[3] * 2), mode="nearest")
        if how == "max with a buffer":
            return torch.max(a, self.zero)
        raise ValueError(how)


class PadToMultiple(Computed):
    """``Computed("pad to a multiple of 8")`` as a class the CLI can name."""


class AlongOneAxis(nn.Module):
    """A normalisation or a reduction along one axis, read back through a broadcast gate as code writes a softmax
    or a normalisation by hand."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.a = conv()
        self.b = conv(4)

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        how = self.how
        if how.startswith("normalize"):
            y = F.normalize(a, dim=int(how[-2]))
        elif how.startswith("amax"):
            y = a - a.amax(int(how[-2]), keepdim=True)
        elif how.startswith("logsumexp"):
            y = a - torch.logsumexp(a, dim=int(how[-2]), keepdim=True)
        elif how.startswith("var"):
            y = a / a.var(int(how[-2]), keepdim=True)
        elif how.startswith("median"):
            y = a - a.median(int(how[-2]), keepdim=True)[0]
        elif how.startswith("maxv"):  # the named tuple's .values (a getattr node), as [0] gives it
            y = a - torch.max(a, dim=int(how[-2]), keepdim=True).values
        elif how.startswith("minv"):
            y = a - a.min(int(how[-2]), keepdim=True).values
        elif how.startswith("data"):  # the map itself
            y = a.data
        elif how.startswith("vector_norm"):
            y = a / torch.linalg.vector_norm(a, dim=int(how[-2]), keepdim=True)
        else:
            raise ValueError(how)
        return self.b(y)


class Shrunk(nn.Module):
    """A Hardshrink module (element-wise, so it keeps the geometry), unknown to the importer."""

    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Hardshrink()

    def forward(self, x: Tensor) -> Tensor:
        return self.p(x)


class Shifted(nn.Module):
    """A map shifted down by item assignment, which torch.fx cannot trace."""

    def __init__(self) -> None:
        super().__init__()
        self.a = conv()

    def forward(self, x: Tensor) -> Tensor:
        a = self.a(x)
        b = a.clone()
        b[:, :, 4:] = a[:, :, :-4]
        return b


class QuarterKernel(Computed):
    """``Computed("pool by a computed kernel")`` (a kernel of an eighth of the width) as a class the CLI can name."""

    def __init__(self) -> None:
        super().__init__("pool by a computed kernel")


class PositionGrid(nn.Module):
    """A stride-4 stem plus a learned position embedding of a 56x56 grid: it runs on 224x224 inputs only."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 4, 4)
        self.pos = nn.Parameter(torch.zeros(1, 4, 56, 56))

    def forward(self, x: Tensor) -> Tensor:
        return self.stem(x) + self.pos


class PaddedPyramid(nn.Module):
    """C3, C4 and C5 at strides 8, 16 and 32 after a pad to a multiple of 32 (Swin, UNet); ``pad=False``: none."""

    def __init__(self, pad: bool = True) -> None:
        super().__init__()
        self.pad = pad
        self.stem = nn.Conv2d(3, 4, 3, 4, 1)
        self.c3, self.c4, self.c5 = (nn.Conv2d(4, 4, 3, 2, 1) for _ in range(3))

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        if self.pad:
            h, w = x.shape[-2:]
            x = F.pad(x, (0, (32 - w % 32) % 32, 0, (32 - h % 32) % 32))
        c3 = self.c3(self.stem(x))
        c4 = self.c4(c3)
        return {"C3": c3, "C4": c4, "C5": self.c5(c4)}


class Pyramid(PaddedPyramid):
    def __init__(self) -> None:
        super().__init__(pad=False)


class OneSide(nn.Module):
    """Square-input code (review round 18 F2): a "global" pool whose kernel is read from one side of the map, or
    an up-sampling to a skip map's size read from one side; ``how`` names the argument. Each equals the map's
    own size (or the skip's) at a square input only, except the forms that read each axis from its own side."""

    def __init__(self, how: str = "pool by the width") -> None:
        super().__init__()
        self.how = how
        self.a, self.b, self.c = conv(4, 4, s=2), conv(4, 4, s=2), conv(4, 4)
        self.stem = conv()

    def forward(self, x: Tensor) -> Tensor:
        y = self.a(self.stem(x))
        z = self.b(y)
        how = self.how
        if how == "pool by the width":
            return F.avg_pool2d(z, z.size(3))
        if how == "pool by the height":
            return F.avg_pool2d(z, z.shape[2])
        if how == "pool by the sides swapped":
            return F.avg_pool2d(z, (z.size(3), z.size(2)))
        if how == "pool by each side":
            return F.avg_pool2d(z, (z.size(2), z.size(3)))
        if how == "pool by the unpacked size":
            h, w = z.shape[-2:]
            return F.avg_pool2d(z, (h, w))
        if how == "up to the skip's width":
            return self.c(F.interpolate(z, size=y.shape[-1]))
        if how == "up to the skip's height twice":
            return self.c(F.interpolate(z, size=(y.size(2), y.size(2))))
        if how == "up to the skip's sides swapped":
            return self.c(F.interpolate(z, size=(y.size(-1), y.size(-2))))
        if how == "up to the skip's size":
            return self.c(F.interpolate(z, size=(y.size(2), y.size(3))))
        if how == "up to the input's width":
            return F.interpolate(z, size=x.shape[-1])
        raise ValueError(how)


class UpToWidth(OneSide):
    """``OneSide("up to the skip's width")`` as a class the CLI can name."""

    def __init__(self) -> None:
        super().__init__("up to the skip's width")


class UpByAThousand(nn.Module):
    """A convolution, then nearest up-sampling by 1000: a map too large at any useful input size."""

    def __init__(self) -> None:
        super().__init__()
        self.a = conv()

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(self.a(x), scale_factor=1000)
