"""``python -m scalematch`` and the ``scalematch`` command: a Ctrl-C while the command line is still being imported
ends the command as one afterwards does (exit 130, no traceback)."""

import sys


def run() -> None:
    try:
        from scalematch.cli.main import main
    except KeyboardInterrupt:
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
