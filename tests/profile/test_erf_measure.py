"""Measured ERF: equal to the analytic sigma on uniform linear networks; reported next to it otherwise."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
from torch import Tensor, nn  # noqa: E402

from scalematch.errors import ModelError, OptionError  # noqa: E402
from scalematch.profile import build, profile  # noqa: E402
from scalematch.profile.erf_measure import measure_erf  # noqa: E402
from scalematch.profile.importers.torch import from_torch  # noqa: E402


def uniform(conv: nn.Conv2d) -> nn.Conv2d:
    with torch.no_grad():
        conv.weight.fill_(1.0 / conv.weight[0].numel())
    return conv


class LinearNet(nn.Module):
    """No ReLU, uniform kernels, the residual add averaged: the analytic model, built independently here."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = uniform(nn.Conv2d(1, 1, 3, 2, 1, bias=False))
        self.a = uniform(nn.Conv2d(1, 1, 5, 1, 2, bias=False))
        self.b = uniform(nn.Conv2d(1, 1, 1, bias=False))
        self.dilated = uniform(nn.Conv2d(1, 1, 3, 1, 2, 2, bias=False))
        self.pool = nn.AvgPool2d(2, 2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = uniform(nn.Conv2d(1, 1, 3, 1, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        x = (self.a(x) + self.b(x)) / 2
        x = self.pool(self.dilated(x))
        out: Tensor = self.head(self.up(x))
        return out


def test_uniform_linear_network_measures_the_analytic_sigma() -> None:
    model = LinearNet()
    result = measure_erf(model, (96, 96), samples=3, weights="model")
    graph = from_torch(model, (96, 96))
    fm = profile(graph, (96, 96))[result.node]
    assert fm.geom is not None
    for a in (0, 1):
        assert result.sigma[a] == pytest.approx(result.analytic_sigma[a], abs=1e-6)
        variance = fm.geom[a].unit(result.unit[a])[2]  # the engine's exact variance of the same unit
        assert result.analytic_sigma[a] == pytest.approx(float(variance) ** 0.5, abs=1e-12)
    assert [side for _, side in result.squares] == sorted(side for _, side in result.squares)


@pytest.mark.parametrize(
    ("name", "neck", "tap"),
    [
        ("resnet18", None, "C3"),
        ("mobilenet_v1", None, "C4"),  # TF "same" padding
        ("vgg16-ssd", "ssd", "P6"),  # ceil-mode pool3, dilated fc6, valid 3x3s
        ("resnet50", "fpn", "P3"),  # nearest up-sampling: units of a period differ
        ("convnext_tiny", None, "C3"),
    ],
)
def test_uniform_weights_on_configs_equal_the_analytic_sigma(name: str, neck: str | None, tap: str) -> None:
    result = measure_erf(name, tap=tap, samples=1, neck=neck)
    assert result.weights == "uniform"
    assert result.sigma == pytest.approx(result.analytic_sigma, abs=1e-6)
    fm = profile(build(name, neck), result.input_size)[tap]
    assert fm.input_box(*result.unit) == result.box
    assert result.rf == (fm.y.rf, fm.x.rf)  # type: ignore[union-attr]


def test_random_weight_resnet_is_reported_next_to_the_analytic_erf() -> None:
    from torch_models import ResNet

    result = measure_erf(ResNet([2, 2, 2, 2], False), (576, 576), tap=None, samples=4, weights="random")
    assert result.tap == "layer4.1.relu_1"  # the module's output
    assert result.analytic_sigma == pytest.approx((38.52, 38.52), abs=0.01)
    for a in (0, 1):  # torch's default init, ReLUs after the adds: sigma near the uniform model's, inside the RF
        assert result.analytic_sigma[a] / 2 < result.sigma[a] < result.rf[a] / 4
    sides = dict(result.squares)
    assert sides[0.2] < sides[0.5] < sides[0.9] < sides[0.99] < result.rf[0]
    assert result.mass.sum() == pytest.approx(1.0)
    wider = measure_erf("resnet18", tap="C5", samples=4, weights="random")  # He init, ReLU after every conv
    assert wider.sigma[0] > 1.2 * wider.analytic_sigma[0]


def test_options_are_checked() -> None:
    with pytest.raises(OptionError, match="weights: model needs a PyTorch module"):
        measure_erf("resnet18", weights="model")
    with pytest.raises(OptionError, match=r"tap: 'C9' is not an output or node of resnet18 \(outputs: C1, C2"):
        measure_erf("resnet18", tap="C9")


def test_an_onnx_model_with_a_fixed_input_runs_at_that_size(tmp_path: Any) -> None:
    """It ran at the 64x64 default, a size the model cannot take (review round 11, F16); another size is refused
    (tests/cli/test_bad_inputs.py), a symbolic one still takes the default."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    def write(name: str, dims: list[Any]) -> str:
        weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 3, 3], [1.0] * 27)
        node = helper.make_node("Conv", ["x", "w"], ["y"], name="y", strides=[2, 2], pads=[1, 1, 1, 1])
        graph = helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            initializer=[weight],
        )
        path = tmp_path / f"{name}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        return str(path)

    assert measure_erf(write("fixed", [1, 3, 96, 40]), samples=1).input_size == (96, 40)
    assert measure_erf(write("symbolic", [1, 3, "h", "w"]), samples=1).input_size == (64, 64)
    from pathlib import Path

    fixed = Path(write("fixed", [1, 3, 96, 40]))  # a path object: the fixed size was read from str paths only
    assert measure_erf(fixed, samples=1).input_size == (96, 40)
    assert measure_erf(fixed, "40x96", samples=1).input_size == (96, 40)  # width first, as everywhere
    from scalematch.errors import GraphError
    from scalematch.profile.importers.onnx import from_onnx

    graph = from_onnx(fixed)  # a Graph ran at any size (review round 18 F9): it remembers the fixed one
    assert measure_erf(graph, samples=1).input_size == (96, 40)
    with pytest.raises(GraphError) as err:
        measure_erf(graph, "96x80", samples=1)
    assert str(err.value) == f"{fixed}: input 'x' has the fixed size 40x96 (WxH); expected that size or none, got 96x80"
    tall = write("tall", [1, 3, 96, "w"])  # the height fixed only: it ran at any height
    assert measure_erf(tall, samples=1).input_size == (96, 64)
    assert measure_erf(from_onnx(tall), "80x96", samples=1).input_size == (96, 80)
    for model in (tall, from_onnx(tall)):
        with pytest.raises((GraphError, ModelError)) as refused:
            measure_erf(model, "64x64", samples=1)
        assert str(refused.value) == (
            f"{tall}: input 'x' has the fixed height 96 (its width is free); expected a size of that height or "
            "none, got 64x64 (WxH)"
        )


def test_the_size_is_width_first() -> None:
    """``input_size`` was (h, w) where every other size of scalematch is WxH."""
    result = measure_erf("resnet18", (96, 64), tap="C3", samples=1)
    assert result.input_size == (64, 96)  # (y, x), as the result's pairs are
    assert measure_erf("resnet18", "96x64", tap="C3", samples=1).input_size == (64, 96)


def test_samples_run_in_batches_measure_what_one_batch_measures(monkeypatch: Any) -> None:
    """10,000 samples were one batch (4 GB for resnet18 at 64x64, review round 11 F24): they run BATCH at a time,
    drawing the same inputs and summing the same gradients as one batch would."""
    from scalematch.profile import erf_measure

    monkeypatch.setattr(erf_measure, "BATCH", 4)
    batched = measure_erf("resnet18", (64, 64), tap="C3", samples=10, weights="random")
    monkeypatch.setattr(erf_measure, "BATCH", 10)
    whole = measure_erf("resnet18", (64, 64), tap="C3", samples=10, weights="random")
    assert batched.sigma == pytest.approx(whole.sigma, rel=1e-6) and batched.squares == whole.squares
    assert abs(batched.mass - whole.mass).max() < 1e-9


def test_running_out_of_memory_is_one_error(monkeypatch: Any) -> None:
    """--size 4096 on resnet18 asks for 1.6 GB in one convolution: an allocation failure is one line, not the
    RuntimeError's traceback (review round 11, F24); other runtime errors still propagate."""
    import torch.nn.functional as F

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1644167168 bytes.")

    monkeypatch.setattr(F, "conv2d", refuse)
    with pytest.raises(ModelError) as err:
        measure_erf("resnet18", (96, 64), samples=1)
    assert str(err.value) == (
        "resnet18: measuring 'C5' on 96x64 (WxH) inputs ran out of memory (RuntimeError: DefaultCPUAllocator: can't "
        "allocate memory: you tried to allocate 1644167168 bytes.); try a smaller --size"
    )


def test_a_node_after_the_tap_does_not_decide_the_input_size(tmp_path: Any) -> None:
    """Node e (an unpadded 11 x 11 conv) needs more than a 40 x 40 input; it comes after C2 and plays no part in
    C2's map, which was refused all the same. The measurement equals that of the config without the nodes after C2,
    with random weights too (the same draws for the nodes kept)."""
    import numpy as np

    head = (
        "name: dil\nnodes:\n  - {name: a, type: conv, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: b, type: conv, kernel: 3, dilation: 7, padding: 7}\n"
    )
    whole, cut = tmp_path / "whole.yaml", tmp_path / "cut.yaml"
    whole.write_text(
        head + "  - {name: c, type: conv, kernel: 1, stride: 5}\n  - {name: e, type: conv, kernel: 11, stride: 4}\n"
        "outputs: {C2: b, C3: c, C4: e}\n",
        encoding="utf-8",
    )
    cut.write_text(head + "outputs: {C2: b}\n", encoding="utf-8")
    with pytest.raises(Exception, match="smaller than the kernel"):
        profile(build(str(whole)), (40, 40))
    for weights in ("uniform", "random"):
        got = measure_erf(str(whole), (40, 40), tap="C2", samples=2, weights=weights)
        want = measure_erf(str(cut), (40, 40), tap="C2", samples=2, weights=weights)
        assert (got.unit, got.sigma, got.box, got.squares) == (want.unit, want.sigma, want.box, want.squares)
        assert np.array_equal(got.mass, want.mass)


def test_a_batch_holds_as_many_samples_as_the_memory_bound_allows(monkeypatch: Any) -> None:
    """Batches of 256 samples at 1024x1024 asked for 25 GB on resnet50 (review round 42, B-F10): a batch holds as
    many samples as fit in MAX_ERF_BYTES by the estimate, and measures what one batch of all would."""
    import torch

    from scalematch.profile import erf_measure

    estimates: list[int] = []
    estimate, randn = erf_measure._graph_sample_bytes, torch.randn

    def recorded(*args: Any) -> int:
        estimates.append(estimate(*args))
        return estimates[-1]

    monkeypatch.setattr(erf_measure, "_graph_sample_bytes", recorded)
    whole = measure_erf("resnet18", (64, 64), tap="C3", samples=10, weights="random")
    drawn: list[int] = []

    def spied(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("requires_grad"):  # the inputs (not the random weights)
            drawn.append(args[0])
        return randn(*args, **kwargs)

    monkeypatch.setattr(torch, "randn", spied)
    monkeypatch.setattr(erf_measure, "MAX_ERF_BYTES", 3 * estimates[0] + 1)
    batched = measure_erf("resnet18", (64, 64), tap="C3", samples=10, weights="random")
    assert drawn == [3, 3, 3, 1]
    assert batched.squares == whole.squares and abs(batched.mass - whole.mass).max() < 1e-9


def test_a_network_whose_one_sample_would_exhaust_memory_is_refused_before_it_runs(tmp_path: Any) -> None:
    """3,000 convolutions measured at 1024x1024 held 24 GB and were killed (review round 42, B-F10): 40 unpadded
    3x3 layers at 4096x4096 hold 40 maps of about 4096^2 float64 values, three copies each (value, saved, gradient):
    some 15 GB, refused naming the file and the map before any tensor is made."""
    import torch

    config = tmp_path / "deep.yaml"
    nodes = "".join(f"  - {{name: c{k}, type: conv, kernel: 3}}\n" for k in range(40))
    config.write_text(f"nodes:\n{nodes}outputs: {{C1: c39}}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch, "randn", lambda *a, **k: pytest.fail("a tensor was drawn"))
        with pytest.raises(ModelError) as err:
            measure_erf(str(config), (4096, 4096), samples=1)
    expected = 3 * 8 * sum((4096 - 2 * k) ** 2 for k in range(1, 41)) + 2 * 8 * 9 * 4094**2
    assert str(err.value) == (
        f"{config}: measuring 'C1' on 4096x4096 (WxH) inputs would hold about {expected / (1 << 30):,.1f} GB of "
        "activations for one sample (40 layers); expected at most 8 GB, beyond which memory runs out: give a smaller "
        "--size"
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_of_nan_or_inf_are_one_error_not_a_traceback(value: float) -> None:
    """A diverged checkpoint (NaN or inf weights) ended in 'ValueError: cannot convert float NaN to integer' (review
    round 47, F4); random weights measure the same network."""
    conv = nn.Conv2d(3, 4, 3, stride=2)
    nn.init.constant_(conv.weight, value)
    with pytest.raises(ModelError) as err:
        measure_erf(nn.Sequential(conv), (64, 64), samples=1)
    assert str(err.value) == (
        "Sequential: the gradient of '0' is not finite (NaN or inf: from the module's weights or its own "
        "computation, or too large to sum); try weights=random"
    )
    assert measure_erf(nn.Sequential(conv), (64, 64), samples=1, weights="random").input_size == (64, 64)


def test_the_callers_random_state_is_left_as_it_was() -> None:
    """measure_erf seeded torch's global generator and left it so: a notebook's later random numbers changed
    (review round 47, F7). The draws after it are those without it; two measurements of one seed still agree."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = measure_erf(net, (32, 32), samples=2, weights="random", seed=7)
    assert torch.equal(torch.rand(3), expected) and torch.initial_seed() == 123
    again = measure_erf(net, (32, 32), samples=2, weights="random", seed=7)
    assert first.sigma == again.sigma


class _Locked(nn.Module):
    """A module holding a lock, as one keeping a logger or a file does: it cannot be copied."""

    def __init__(self) -> None:
        import threading

        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, 2, 1)
        self.lock = threading.Lock()

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.c(x)
        return out


class _OddGetattr(nn.Module):
    """A module whose ``__getattr__`` raises KeyError for a missing attribute (not AttributeError)."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, 2, 1)

    def __getattr__(self, name: str) -> Any:
        if name == "c":
            return super().__getattr__(name)
        raise KeyError(name)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.c(x)
        return out


@pytest.mark.parametrize(("module", "why"), [
    (_Locked, "TypeError: cannot pickle '_thread.lock' object"), (_OddGetattr, "KeyError: '__deepcopy__'"),
])  # fmt: skip
def test_a_module_that_cannot_be_copied_is_one_error(module: type[nn.Module], why: str) -> None:
    """erf measures a copy (its weights and dtype change): copy.deepcopy's TypeError, or the module's own KeyError
    for 'name', ended in a traceback (review round 48, G1 and G2); the module given is left as it was."""
    given = module()
    before = {k: v.clone() for k, v in given.state_dict().items()}
    with pytest.raises(ModelError) as err:
        measure_erf(given, (64, 64), samples=1, weights="uniform")
    assert str(err.value) == (
        f"{module.__name__}: the module cannot be copied ({why}), and erf measures a copy (its weights and dtype "
        "are changed); keep what cannot be copied out of the module's attributes"
    )
    assert all(torch.equal(before[k], v) for k, v in given.state_dict().items())


class _InPlace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        x.mul_(2)
        out: Tensor = self.c(x)
        return out


def test_a_meta_module_and_an_input_changed_in_place_are_named_not_sent_to_another_size() -> None:
    """Both ended in '... failed (RuntimeError: ...); try another input_size', which no size fixes (review round
    48, G3)."""
    meta = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, device="meta"))
    with pytest.raises(ModelError) as err:
        measure_erf(meta, (64, 64), samples=1, weights="uniform")
    assert str(err.value) == (
        "Sequential: the module holds parameters on the 'meta' device, which have a shape but no values; load its "
        "weights (or build it on the CPU) before measuring"
    )
    with pytest.raises(ModelError) as err:
        measure_erf(_InPlace(), (64, 64), samples=1)
    assert str(err.value) == (
        "_InPlace: measuring 'c': the module changes its input in place (x.mul_(...) on what forward is given), which "
        "autograd refuses on the measured input; write it out of place (x = x * ...)"
    )
