"""Optional packages the suite compares against: skipped when missing, unless CI says they must be there."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def need(module: str, variable: str = "SCALEMATCH_REQUIRE_TOOLKITS", missing: str = "") -> ModuleType:
    """``module`` imported; when it does not import, the test fails if the environment ``variable`` is 1 (CI
    installs the extra and sets it) and is skipped otherwise (saying ``missing``)."""
    try:
        return importlib.import_module(module)
    except Exception as exc:  # yolov5 can fail on import for reasons other than absence
        if os.environ.get(variable) == "1":
            pytest.fail(f"{module} does not import ({exc}), and {variable}=1")
        pytest.skip(missing or f"{module} is not installed")
