"""The command as a process among others: stdout closed, gone (a pipe whose reader left) or pointed at by an
output option, ``PYTHONWARNINGS=error``, an unknown ``MPLBACKEND``, no arguments at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scalematch" / "data" / "coco_val2014_100.json"


def _run(args: list[str], env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m scalematch ARGS`` from the repository root (so that this checkout's package is imported)."""
    return subprocess.run(
        [sys.executable, "-m", "scalematch", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        text=True,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_closed_stdout_is_an_error_not_a_silent_success() -> None:
    for args in (["stats", "-q"], ["stats", "-q", "--json"], ["--version"]):
        done = _run(args, stdout=subprocess.DEVNULL, pass_fds=(), preexec_fn=lambda: os.close(1))
        assert (done.returncode, done.stderr) == (2, "Error: stdout is closed; nowhere to print the output\n")


def test_a_reader_that_left_ends_the_run_silently_and_keeps_the_files(tmp_path: Path) -> None:
    """``| head -1``: exit 141 (128 + SIGPIPE, as a shell shows a tool stopped by it), nothing on stderr, and the
    report and --objects written before the printing stay complete."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line
    try:
        done = _run(
            ["recommend", "-q", "--objects", str(tmp_path / "o.csv"), "--out", str(tmp_path / "rep")], stdout=write
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
    assert len((tmp_path / "o.csv").read_text().splitlines()) == 831  # a header and the 830 objects
    assert (tmp_path / "rep" / "report.html").stat().st_size > 0


@pytest.mark.parametrize("command", [["profile", "resnet18", "--plot"], ["explain", "resnet18", "--out"]])
def test_a_figure_is_written_before_the_text_a_reader_may_not_take(tmp_path: Path, command: list[str]) -> None:
    """explain printed before it saved its figure: a reader gone (``| true``) left no figure, exit 141, where
    profile --plot wrote it (review round 43, F-F2)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = _run([*command, str(tmp_path / "f.png")], stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stdout_full_is_one_error_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = _run(["stats", "-q"], stdout=full)
    assert (done.returncode, done.stderr) == (2, "Error: stdout: No space left on device\n")


@pytest.mark.parametrize("args", [["stats", "-q", "no_such_file.json"], ["stats", "--no-such-option"]])
def test_the_exit_code_does_not_depend_on_stderr(args: list[str]) -> None:
    """stderr full (``2>/dev/full``) or closed (``2>&-``): the Error line is lost, the exit code is still 2."""
    with open(os.devnull, "w") as null:
        assert _run(args, stdout=null).returncode == 2  # the same error with stderr open
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "scalematch", *args], cwd=ROOT, stderr=full,
                                  stdout=subprocess.DEVNULL)  # fmt: skip
        assert done.returncode == 2
    done = subprocess.run([sys.executable, "-m", "scalematch", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, preexec_fn=lambda: os.close(2))  # fmt: skip
    assert done.returncode == 2


def test_warnings_as_errors_do_not_break_the_start() -> None:
    done = _run(["stats", "-q", "--json"], env={"PYTHONWARNINGS": "error"}, stdout=subprocess.PIPE)
    assert (done.returncode, done.stderr) == (0, "")
    assert '"annotations": 830' in done.stdout


def test_figures_are_drawn_whatever_mplbackend_says(tmp_path: Path) -> None:
    done = _run(["profile", "resnet18", "--plot", str(tmp_path / "p.png")], env={"MPLBACKEND": "no_such_backend"},
                stdout=subprocess.DEVNULL)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")


def test_no_arguments_prints_the_help_and_no_empty_error() -> None:
    done = _run([], stdout=subprocess.PIPE)
    assert done.returncode == 2
    assert "Usage: scalematch [OPTIONS] COMMAND" in done.stdout
    assert "Error" not in done.stderr + done.stdout


def test_outputs_naming_stdout_are_refused_before_the_work(tmp_path: Path) -> None:
    """Never a rename over what stdout points to: a file (the printed text would go to an unlinked inode) or a
    pipe (refused up front, as /dev/null is, not after the work with a false 'no space left')."""
    printed = tmp_path / "printed.txt"
    with printed.open("w") as handle:
        done = _run(["stats", "-q", "--csv", "/dev/stdout"], stdout=handle)
    assert (done.returncode, done.stderr) == (
        2, "Error: --csv /dev/stdout: is where the standard output goes (a rename would replace it); choose another "
        "file\n")  # fmt: skip
    assert printed.exists() and printed.read_text() == ""
    for name, kind in (("/dev/stdout", "a FIFO"), ("/proc/self/fd/1", "a FIFO"), ("/dev/null", "a character device")):
        if not os.path.exists(name):
            continue
        done = _run(["recommend", "-q", "--objects", name], stdout=subprocess.PIPE)  # stdout: a pipe (a FIFO)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"Error: --objects {name}: exists and is {kind}, not a regular file; a write would " \
            "replace it\n"  # fmt: skip


def test_a_reader_that_left_partway_through_a_large_output_gives_141(tmp_path: Path) -> None:
    """``| head -c 10`` on an output far larger than a pipe holds (64 KiB): the reader leaves while the one large
    write is under way. The run still exits 141 with nothing on stderr, not 0 (a partial write must not pass)."""
    import json

    n = 3000  # categories: the --json document holds a table row for each, about 1 MB in all
    images = [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}]
    anns = [{"id": k, "image_id": 1, "category_id": k, "bbox": [1, 1, 20, 20], "area": 400, "iscrowd": 0}
            for k in range(1, n + 1)]  # fmt: skip
    cats = [{"id": k, "name": f"category {k}"} for k in range(1, n + 1)]
    path = tmp_path / "cats.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    for args in (["stats", "-q", "--json", str(path)], ["stats", "-q", "--by-category", str(path)]):
        process = subprocess.Popen(
            [sys.executable, "-m", "scalematch", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert process.stdout is not None and process.stderr is not None
        head = process.stdout.read(10)
        process.stdout.close()  # the reader leaves
        stderr = process.stderr.read()
        assert (process.wait(), stderr, len(head)) == (141, b"", 10)


def test_the_command_ends_without_the_interpreter_teardown_and_keeps_its_output_and_exit_code() -> None:
    """The console command leaves with os._exit once its output is flushed (the teardown only frees memory): an
    exit handler registered before it never runs, while stdout holds the whole output (written with no newline at
    its end too) and the exit code is the command's."""
    script = (
        "import atexit, sys; atexit.register(lambda: print('TEARDOWN', file=sys.stderr)); "
        "sys.argv[0] = 'scalematch'; from scalematch.cli.main import main; main()"
    )
    expected = _run(["stats", "-q", "--json"], stdout=subprocess.PIPE).stdout
    for args, code in ((["stats", "-q", "--json"], 0), (["stats", "-q", str(ROOT / "missing.json")], 2)):
        done = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=ROOT, text=True, capture_output=True, check=False
        )
        assert done.returncode == code
        assert "TEARDOWN" not in done.stderr
        if code == 0:
            assert done.stdout == expected and expected.rstrip().endswith("}")
        else:
            assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1
