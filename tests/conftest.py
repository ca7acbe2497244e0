"""Shared test options (``--update-goldens`` rewrites golden files instead of comparing) and fixtures."""

from __future__ import annotations

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
