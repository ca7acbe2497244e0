"""``python -m scalematch``: the same command as ``scalematch``."""

from scalematch.cli.main import app

if __name__ == "__main__":
    app(prog_name="scalematch")
