"""``python -m scalematch``: the same command as ``scalematch``."""

from scalematch.cli.main import main

if __name__ == "__main__":
    main()
