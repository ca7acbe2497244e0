"""Regenerate reports/example/: the report of the bundled sample (ResNet-50 + FPN, default settings).

Run from anywhere: ``python reports/make_example.py``. Equivalent to
``scalematch recommend --quiet --out reports/example --force`` in the repository root (that command line is
what the report's provenance shows).
"""

from __future__ import annotations

import os
from pathlib import Path

from scalematch.cli.main import app

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.chdir(ROOT)
    app(["recommend", "--quiet", "--rule", "rf", "--out", "reports/example", "--force"])


if __name__ == "__main__":
    main()
