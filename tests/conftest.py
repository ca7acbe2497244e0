"""Shared test options (``--update-goldens`` rewrites golden files instead of comparing) and fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``golden(name, text)``: compare ``text`` with tests/golden/<name> (or rewrite it with --update-goldens)."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden {path}; run pytest --update-goldens"
        assert text == path.read_text(encoding="utf-8")

    return check


@pytest.fixture()
def app() -> typer.Typer:
    """The real ``scalematch`` typer app (with its error handling)."""
    from scalematch.cli.main import app as real_app

    return real_app


NOCAP = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


@pytest.fixture
def unprivileged(tmp_path: Path) -> tuple[str, ...]:
    """The command prefix under which permission bits hold: none when this process obeys them; as root, setpriv
    without the capabilities that override them; else the test is skipped."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0)
    try:
        try:
            os.listdir(probe)
        except PermissionError:
            return ()
        if shutil.which(NOCAP[0]):
            run = subprocess.run([*NOCAP, sys.executable, "-c", f"import os; os.listdir({str(probe)!r})"], check=False)
            if run.returncode != 0:
                return NOCAP
        pytest.skip("this process reads a folder of mode 000 (root) and setpriv cannot drop that")
    finally:
        probe.chmod(0o755)


@pytest.fixture
def locked() -> Iterator[list[Path]]:
    """Files and folders a test makes unreadable, made readable again afterwards (so tmp_path can be removed)."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)
