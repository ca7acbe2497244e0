"""``scalematch --help`` start-up time against a bare two-command typer app with default settings.

Run: ``python benchmarks/cli_startup.py [--runs 30]``. Writes the "startup" section of benchmarks/RESULTS.md.
Target: at most 1.3x the bare app (heavy imports are lazy).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import PYTHON, compiled, interleaved_medians, machine, write_section

BARE_APP = """
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    print(name)


@app.command()
def bye(name: str) -> None:
    print(name)


app()
"""


def main() -> None:
    compiled()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    entry = shutil.which("scalematch") or str(Path(PYTHON).with_name("scalematch"))
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        medians = interleaved_medians(
            {"scalematch": [entry, "--help"], "bare typer": [PYTHON, str(bare), "--help"]}, args.runs
        )
    ratio = medians["scalematch"] / medians["bare typer"]
    body = (
        "## CLI start-up (`scalematch --help`)\n\n"
        f"Command: `python benchmarks/cli_startup.py --runs {args.runs}` ({machine()}; "
        "medians of interleaved runs).\n\n"
        "| command | median wall time |\n|---|---|\n"
        f"| `scalematch --help` | {medians['scalematch'] * 1000:.0f} ms |\n"
        f"| bare two-command typer app `--help` | {medians['bare typer'] * 1000:.0f} ms |\n\n"
        f"Ratio: **{ratio:.2f}x** (target <= 1.3x).\n"
    )
    write_section("startup", body)
    print(body)


if __name__ == "__main__":
    main()
