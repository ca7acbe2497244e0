"""ONNX import of torch.chunk's pieces and of views to sizes computed from shapes: their shapes, which onnx's shape
inference leaves unknown, computed from the graph (a channel shuffle is followed), checked against the torch
importer."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest

onnx = pytest.importorskip("onnx", reason="the 'onnx' extra is not installed (pip install '.[onnx]')")
torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")

from scalematch.profile import profile  # noqa: E402
from scalematch.profile.importers.onnx import from_onnx, value_shapes, with_shapes  # noqa: E402
from scalematch.profile.importers.torch import from_torch  # noqa: E402

SIZE = (96, 64)  # (h, w)


def export(module: Any, opset: int, free_size: bool = False) -> Any:
    """torch.onnx.export with the TorchScript exporter (dynamo=False), its deprecation warning silenced; with
    ``free_size`` the input's height and width are symbolic (the channel shuffle's view then reads them)."""
    buffer = io.BytesIO()
    axes = {"x": {2: "h", 3: "w"}} if free_size else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (torch.zeros(1, 3, *SIZE),),
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=["x"],
            dynamic_axes=axes,
        )
    return onnx.load_from_string(buffer.getvalue())


@pytest.fixture(scope="module")
def shufflenet() -> Any:
    return torchvision.models.shufflenet_v2_x0_5(weights=None)


@pytest.mark.parametrize(("opset", "free_size"), [(17, False), (11, False), (17, True)])
def test_a_shufflenet_export_profiles_as_the_torch_module_does(shufflenet: Any, opset: int, free_size: bool) -> None:
    size = f"{SIZE[1]}x{SIZE[0]}" if free_size else None  # width first
    by_onnx = profile(from_onnx(export(shufflenet, opset, free_size), input_size=size), SIZE)
    by_torch = profile(from_torch(shufflenet, SIZE), SIZE)
    for tap in ("C1", "C2", "C3", "C4", "C5"):
        ours, theirs = by_onnx[tap], by_torch[tap]
        assert (ours.y, ours.x, ours.area, ours.size) == (theirs.y, theirs.x, theirs.area, theirs.size), tap
        assert ours.y is not None and ours.y.stride == 2 ** int(tap[1]) and ours.y.rf > 1, tap  # not two Nones


def test_the_chunk_pieces_get_their_shapes(shufflenet: Any) -> None:
    proto = export(shufflenet, 17)
    shapes = value_shapes(with_shapes(proto))
    slices = [n.output[0] for n in proto.graph.node if n.op_type == "Slice"]
    assert slices
    for name in slices:
        channels = shapes[name][1]
        assert None not in shapes[name] and channels is not None and 2 * channels in (48, 96, 192), name
