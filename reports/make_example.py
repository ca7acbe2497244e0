"""Regenerate the example reports of the bundled sample: reports/detector-example/ (the default, RetinaNet's
assigner simulated) and reports/example/ (the rf size rule on ResNet-50 + FPN).

Run from anywhere: ``python reports/make_example.py``. Equivalent to
``scalematch recommend --quiet --out reports/detector-example --force`` and
``scalematch recommend --quiet --rule rf --out reports/example --force`` in the repository root (those command
lines are what the reports' provenance shows).
"""

from __future__ import annotations

import os
from pathlib import Path

from scalematch.cli.main import app

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.chdir(ROOT)
    for args in (["--out", "reports/detector-example"], ["--rule", "rf", "--out", "reports/example"]):
        try:
            app(["recommend", "--quiet", *args, "--force"])
        except SystemExit as done:  # typer ends every command with SystemExit
            if done.code:
                raise


if __name__ == "__main__":
    main()
