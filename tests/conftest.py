"""Shared pytest options and CLI fixtures.

scalematch/cli/main.py imports ``profile_cmd``, written on another branch. Until that module is present here,
a stand-in with the two command functions is registered so that the real ``main.app`` (and its error handling)
can be imported and tested; once the real module exists it is used and the stand-in is never created.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest
import typer

if importlib.util.find_spec("scalematch.cli.profile_cmd") is None:  # pragma: no cover - depends on the branch
    _stub = types.ModuleType("scalematch.cli.profile_cmd")

    def _profile() -> None:
        """Stand-in."""

    def _backbones() -> None:
        """Stand-in."""

    _stub.profile = _profile  # type: ignore[attr-defined]
    _stub.backbones = _backbones  # type: ignore[attr-defined]
    sys.modules["scalematch.cli.profile_cmd"] = _stub


@pytest.fixture()
def app() -> typer.Typer:
    from scalematch.cli.main import app as real_app

    return real_app


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")
