"""Make every figure of docs/ by running the commands the pages show.

Run from anywhere: ``python docs/make_figures.py``. It reads every Markdown page under docs/, and runs (from the
repository root) each ``$ scalematch ...`` command of a ``console`` block and each ``python`` block that writes
under docs/figures/. The pages are the single source of the commands, so a figure can never be made in a way
the reader does not see.

``python docs/make_figures.py --update-outputs`` also rewrites the output shown under every command and after
every python block (``text`` block) from what they print now: review the diff, as with ``--update-goldens``.

The same parser is used by tests/docs/test_docs.py, which runs every block and compares the output.

Block conventions:

* ``console`` block: lines starting with ``$ scalematch`` are commands, the lines up to the next command are its
  output (stdout). If the last output line is ``...``, the output shown is its beginning only (abbreviated).
* ``python`` block: executed in a fresh namespace; a ``text`` block right after it is what it prints. On a page
  holding the line ``<!-- notebook -->`` the python blocks are a notebook's cells: run in order in one namespace.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
FIGURES = "docs/figures/"
ABBREVIATED = "..."
NOTEBOOK = "<!-- notebook -->"

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class Command:
    """One ``$ scalematch ...`` line and the output shown under it."""

    page: Path
    line: int
    command: str
    shown: str

    @property
    def args(self) -> list[str]:
        return shlex.split(self.command)[1:]

    @property
    def abbreviated(self) -> bool:
        return self.shown.rstrip("\n").endswith("\n" + ABBREVIATED) or self.shown.strip() == ABBREVIATED


@dataclass(frozen=True)
class Snippet:
    """One ``python`` block and the output shown after it (None when no ``text`` block follows)."""

    page: Path
    line: int
    code: str
    shown: str | None
    notebook: bool = False
    """A cell of a notebook page: it runs after the page's earlier cells, in their namespace."""


def pages() -> list[Path]:
    """Every Markdown page of docs/, in a stable order (the index first)."""
    return sorted(DOCS.rglob("*.md"), key=lambda p: (p.name != "index.md", str(p)))


def _blocks(text: str) -> Iterator[tuple[str, str, int, int, int]]:
    """``(language, body, line, start, end)`` of every fenced block (``start``/``end``: offsets in ``text``)."""
    for m in _FENCE.finditer(text):
        yield m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1, m.start(), m.end()


def _console(page: Path, body: str, line: int) -> list[Command]:
    """The commands of one console block whose body starts on the line after ``line``."""
    out = []
    current: list[str] | None = None
    start = 0
    for k, text in enumerate(body.splitlines()):
        if text.startswith("$ "):
            if current is not None:
                out.append(Command(page, start, current[0], "".join(x + "\n" for x in current[1:])))
            current, start = [text[2:]], line + 1 + k
        elif current is not None:
            current.append(text)
    if current is not None:
        out.append(Command(page, start, current[0], "".join(x + "\n" for x in current[1:])))
    return out


def commands(page: Path) -> list[Command]:
    """The console commands of a page."""
    text = page.read_text(encoding="utf-8")
    return [c for lang, body, line, _, _ in _blocks(text) if lang == "console" for c in _console(page, body, line)]


def snippets(page: Path) -> list[Snippet]:
    """The python blocks of a page, each with the ``text`` block that directly follows it (if any)."""
    text = page.read_text(encoding="utf-8")
    blocks = list(_blocks(text))
    out = []
    for k, (lang, body, line, _, end) in enumerate(blocks):
        if lang != "python":
            continue
        shown = None
        if k + 1 < len(blocks):
            nxt_lang, nxt_body, _, nxt_start, _ = blocks[k + 1]
            if nxt_lang == "text" and not text[end:nxt_start].strip():
                shown = nxt_body
        out.append(Snippet(page, line, body, shown, NOTEBOOK in text))
    return out


def run_command(cmd: Command) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a command, run in-process from the current directory."""
    from typer.testing import CliRunner

    from scalematch.cli.main import app

    result = CliRunner().invoke(app, cmd.args)
    return result.exit_code, result.stdout, result.stderr


def run_snippet(snippet: Snippet, namespace: dict[str, object] | None = None) -> str:
    """What a python block prints, executed from the current directory in ``namespace`` (default: a fresh one)."""
    buffer = io.StringIO()
    scope = namespace if namespace is not None else {"__name__": "__docs__"}
    with contextlib.redirect_stdout(buffer):
        exec(compile(snippet.code, f"{snippet.page}:{snippet.line}", "exec"), scope)
    return buffer.getvalue()


def run_notebook(page: Path) -> list[str]:
    """What each python block of a notebook page prints, the blocks run in order in one namespace."""
    namespace: dict[str, object] = {"__name__": "__docs__"}
    return [run_snippet(snippet, namespace) for snippet in snippets(page)]


def figures_made(page: Path) -> list[str]:
    """docs/figures/... paths written by the page's commands and python blocks."""
    found = [c.command for c in commands(page)] + [s.code for s in snippets(page)]
    return sorted({m for text in found for m in re.findall(r"docs/figures/[\w.-]+\.png", text)})


def _update(page: Path) -> None:
    """Rewrite the outputs shown on a page from what the commands and python blocks print now."""
    text = page.read_text(encoding="utf-8")
    pieces: list[str] = []
    last = 0
    blocks = list(_blocks(text))
    printed: dict[int, str] = {}
    namespace: dict[str, object] | None = {"__name__": "__docs__"} if NOTEBOOK in text else None
    for k, (lang, body, line, _, _) in enumerate(blocks):
        if lang == "python" and (namespace is not None or (k + 1 < len(blocks) and blocks[k + 1][0] == "text")):
            out = run_snippet(Snippet(page, line, body, None), namespace)
            if k + 1 < len(blocks) and blocks[k + 1][0] == "text":
                printed[k + 1] = out
    for k, (lang, body, line, start, end) in enumerate(blocks):
        if lang == "console":
            lines: list[str] = []
            for cmd in _console(page, body, line):
                code, stdout, stderr = run_command(cmd)
                if code != 0:
                    raise SystemExit(f"{page}:{cmd.line}: '{cmd.command}' failed: {stderr.strip()}")
                lines.append(f"$ {cmd.command}")
                got = stdout.rstrip("\n").splitlines()
                if cmd.abbreviated:
                    keep = len(cmd.shown.rstrip("\n").splitlines()) - 1
                    got = [*got[:keep], ABBREVIATED]
                lines += got
            new = "```console\n" + "".join(x + "\n" for x in lines) + "```"
        elif k in printed:
            new = "```text\n" + printed[k] + "```"
        else:
            continue
        pieces += [text[last:start], new]
        last = end
    pieces.append(text[last:])
    page.write_text("".join(pieces), encoding="utf-8")


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    if "--update-outputs" in argv:
        for page in pages():
            _update(page)
            print(f"updated {page.relative_to(ROOT)}")
    for page in pages():
        for cmd in commands(page):
            if FIGURES in cmd.command:
                code, _, stderr = run_command(cmd)
                if code != 0:
                    print(f"{page}:{cmd.line}: '{cmd.command}' failed: {stderr.strip()}", file=sys.stderr)
                    return 1
        cells = snippets(page)
        if any(s.notebook and FIGURES in s.code for s in cells):
            run_notebook(page)
        for snippet in cells:
            if FIGURES in snippet.code and not snippet.notebook:
                run_snippet(snippet)
        for made in figures_made(page):
            print(f"wrote {made}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
