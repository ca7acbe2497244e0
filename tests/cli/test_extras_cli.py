"""A missing extra (onnx, torch) is a one-line error naming the extra to install, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalematch.cli.main import app


def test_onnx_model_without_onnx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails as if it were not installed
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not read")
    result = CliRunner().invoke(app, ["profile", str(model)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {model}: needs the 'onnx' package, which is not installed; install scalematch[onnx] "
        "(pip install 'scalematch[onnx]')\n"
    )


def test_torch_module_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(app, ["profile", "torchvision.models:resnet18"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: torchvision.models:resnet18: needs the 'torch' package, which is not installed; install "
        "scalematch[torch] (pip install 'scalematch[torch]')\n"
    )


def test_channels_option(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch", reason="the 'torch' extra is not installed (pip install '.[torch]')")
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "profile"))
    ok = CliRunner().invoke(app, ["profile", "test_torch_import:TinyTResNet", "--channels", "3", "--outputs-only"])
    assert ok.exit_code == 0, ok.output
    assert "imported from PyTorch module 'test_torch_import:TinyTResNet' by torch.fx tracing at 224x224" in ok.stdout
    bad = CliRunner().invoke(app, ["profile", "resnet50", "--channels", "3"])
    assert bad.stderr == "Error: --channels: applies to torch models, not to 'resnet50'\n"
    # 100,000 channels allocated a 20 GB input before the model ran (review round 42, B-F11); 20 digits reached
    # torch as an overflow
    for value in ("1025", "99999999999999999999"):
        bad = CliRunner().invoke(app, ["profile", "test_torch_import:TinyTResNet", "--channels", value])
        assert (bad.exit_code, bad.stdout) == (2, "")
        assert bad.stderr == (
            "Error: --channels: expected at most 1024 input channels (the model is run once on an input of that "
            f"many; images have 1 to a few hundred), got {value}\n"
        )


def test_erf_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(app, ["erf", "resnet18"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: measuring the ERF: needs the 'torch' package, which is not installed; install scalematch[torch] "
        "(pip install 'scalematch[torch]')\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "0", "resnet18"], "--samples: expected a whole number from 1 to 10000, got 0"),
        (["--seed", "-1", "resnet18"], "--seed: expected a whole number from 0 to 2^32 - 1, got -1"),
        (
            ["--seed", "4294967296", "resnet18"],
            "--seed: expected a whole number from 0 to 2^32 - 1, got 4294967296",
        ),  # the numbers of seed 0 in torch
        (["--tap", "C9", "resnet18"], "--tap: 'C9' is not an output or node of resnet18 (outputs: C1, C2, C3, C4, C5)"),
        (["no_such_backbone"], "unknown backbone 'no_such_backbone'; expected a YAML or .onnx path, a torch "),
    ],
)
def test_erf_options_and_the_model_are_checked_before_torch_is_needed(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    """A user who installs torch after the first error must not meet a second one the first run could have named."""
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(app, ["erf", *argv])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1 and "torch" not in result.stderr.replace("a torch 'module", "")


def test_an_installed_torch_that_does_not_import_is_said_so_with_its_cause(tmp_path: Path) -> None:
    """A torch that is installed but whose import fails (a missing CUDA library, an ABI mismatch, an address-space
    limit) is reported with its cause, not as 'not installed; pip install' (review round 25, F11)."""
    import os
    import subprocess

    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ImportError('libcudnn.so.9: cannot open shared object file: No such file or directory')\n"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(repo)])}
    run = subprocess.run(
        [sys.executable, "-m", "scalematch", "erf", "resnet18", "--size", "64x64", "--samples", "1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stderr == (
        "Error: measuring the ERF: needs the 'torch' package, which is installed but does not import: ImportError: "
        "libcudnn.so.9: cannot open shared object file: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "needs the 'smfake_pkg' package, which is not installed; install scalematch[x] (pip install "
               "'scalematch[x]')"),
        ("import smfake_missing_dependency\n", "needs the 'smfake_pkg' package, which is installed but does not "
         "import: ModuleNotFoundError: No module named 'smfake_missing_dependency'"),
        ("raise OSError('libx.so: failed to map segment from shared object\\nmore')\n", "needs the 'smfake_pkg' "
         "package, which is installed but does not import: OSError: libx.so: failed to map segment from shared "
         "object"),
        ("raise RuntimeError('x' * 500)\n", "needs the 'smfake_pkg' package, which is installed but does not "
         "import: RuntimeError: " + "x" * 197 + "..."),
    ],
)  # fmt: skip
def test_require_tells_a_missing_package_from_one_that_fails_to_import(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str | None, message: str
) -> None:
    from scalematch.errors import MissingExtraError
    from scalematch.extras import require

    if source is not None:
        (tmp_path / "smfake_pkg").mkdir()
        (tmp_path / "smfake_pkg" / "__init__.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "smfake_pkg", raising=False)
    with pytest.raises(MissingExtraError) as caught:
        require("smfake_pkg", "x", "a model")
    assert str(caught.value) == f"a model: {message}"
    with pytest.raises(MissingExtraError, match="which is not installed"):
        require("smfake_pkg.sub" if source is None else "smfake_absent.sub", "x", "a model")
