"""``scalematch --help`` stays cheap: the heavy libraries are imported lazily (timed in benchmarks/)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("matplotlib", "seaborn", "pandas", "numpy", "yaml", "pycocotools", "torch", "onnx", "jinja2", "numba")


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys, json\n"
        "from scalematch.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_profile_core_imports_no_plotting() -> None:
    code = (
        "import sys; import scalematch.profile\n"
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'pandas', 'typer'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
