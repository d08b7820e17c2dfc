"""Lessons that run, step and check themselves: what the lessons in `lessons/` and `minigan lesson` share.

A lesson is a Python script in jupytext's percent format: a line ``# %% [markdown]`` starts a cell
of text (markdown, written as comment lines), a line ``# %%`` a cell of code:

    # %% [markdown]
    # # Lesson 9: the title, the line `minigan lesson` lists
    # What the next cell shows, and why.

    # %%
    opts = lessons.options("09_name", seed=0)
    print(...)

The same file runs four ways: top to bottom (``python lessons/09_name.py --fast``), a cell at a
time in VS Code, as a notebook through jupytext, and step by step in a terminal
(``minigan lesson 9``, which is `step_through`). `options` gives the lesson its settings in all
four, from the command line where there is one and from environment variables where there is not.
"""
from __future__ import annotations

import argparse
import builtins
import dataclasses
import importlib
import json
import os
import pathlib
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .backend import keep_freed_memory

# --- a lesson's settings --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Options:
    """How a lesson runs: ``fast`` shrinks its data and steps, ``seed`` seeds its random numbers,
    ``out`` is the folder its figures go to."""

    fast: bool
    seed: int
    out: pathlib.Path

    def figure(self, name: str) -> pathlib.Path:
        """The path to save the figure ``name`` (e.g. "samples.png") to, its folder made."""
        self.out.mkdir(parents=True, exist_ok=True)
        return self.out / name

    def run_folder(self, name: str) -> str:
        """The folder for the lesson's training run ``name``, beside its figures, without the checkpoint
        (last.npz) an earlier pass of the lesson left there: a lesson starts afresh each time, and a
        trainer rightly refuses to write over a run it was not asked to resume."""
        folder = self.out / name
        (folder / "last.npz").unlink(missing_ok=True)
        return str(folder)

    def save(self, fig: Any, name: str, dpi: int = 110) -> pathlib.Path:
        """Lay out the matplotlib figure ``fig``, save it as ``name`` in the lesson's figure folder,
        close it (a lesson draws many: open ones hold memory) and `show` it; returns its path."""
        import matplotlib.pyplot as plt

        fig.tight_layout()
        path = self.figure(name)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        show(path)
        return path


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, or VS Code running cells)."""
    return "ipykernel" in sys.modules


def options(name: str, seed: int = 0) -> Options:
    """The settings of lesson ``name`` (e.g. "06_mode_collapse"), whose default seed is ``seed``.

    Read from the command line (``--fast``, ``--seed N``, ``--out DIR``), else from the environment
    (``MINIGAN_FAST=1``, ``MINIGAN_SEED=N``: what a notebook, which has no command line, can set).
    Figures go to ``lesson_figures/<name>/`` under the current directory unless ``--out`` says.
    Outside a notebook, matplotlib draws with its Agg backend, to files only, and malloc keeps freed
    memory for reuse (`backend.keep_freed_memory`).
    """
    parser = argparse.ArgumentParser(prog=f"python lessons/{name}.py", allow_abbrev=False,
                                     description="Run the lesson top to bottom.")
    parser.add_argument("--fast", action="store_true", default=os.environ.get("MINIGAN_FAST", "0") not in ("", "0"),
                        help="less data and fewer steps, for a quick run (env MINIGAN_FAST=1)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("MINIGAN_SEED", seed)),
                        help="seed of the lesson's random numbers (env MINIGAN_SEED; default: %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("lesson_figures", name),
                        help="folder for the figures (default: %(default)s)")
    if in_notebook():  # sys.argv is the kernel's own (its connection file): read only what is ours
        args, _ = parser.parse_known_args()
    else:  # a script: the process is the lesson's own, and its allocator may be tuned for training
        args = parser.parse_args()
        import matplotlib

        matplotlib.use("Agg")
        keep_freed_memory()
    return Options(fast=args.fast, seed=args.seed, out=args.out)


def show(path: str | os.PathLike[str]) -> None:
    """Say where a saved figure is; in a notebook, also draw it under the cell."""
    print(f"Figure: {path}")
    if in_notebook():  # IPython is there whenever a kernel is, and only then: imported by name
        display = importlib.import_module("IPython.display")
        display.display(display.Image(filename=os.fspath(path)))


# --- reading a lesson -----------------------------------------------------------------------------

# the line that starts a cell: "# %%" (code) or "# %% [markdown]" (text), then jupytext's optional
# metadata, space-separated key=JSON pairs: "# %% nbgrader={"grade": true, ...}"
MARKER = re.compile(r"# %%(?P<markdown> \[markdown\])?(?:\s+(?P<options>\S.*?))?\s*$")
METADATA_KEY = re.compile(r"\s*([A-Za-z_][\w.-]*)=")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell of a lesson: ``kind`` "markdown" or "code", its ``source`` (markdown without the
    comment signs), the ``line`` of the file its source starts on, and the ``metadata`` its marker
    line gives (what a notebook made by jupytext keeps as the cell's metadata; nbgrader's lives there)."""

    kind: str
    source: str
    line: int
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


def cell_metadata(options: str) -> dict[str, Any]:
    """The metadata written after a cell's marker, as jupytext writes it: ``key=JSON`` pairs apart by
    spaces (``nbgrader={"grade": false} tags=["x"]``). Anything else is a ValueError: jupytext would
    read it as a cell title, and a marker that says more than it means is better caught than run."""
    metadata: dict[str, Any] = {}
    decoder, at = json.JSONDecoder(), 0
    while at < len(options):
        key = METADATA_KEY.match(options, at)
        if not key:
            raise ValueError(f"expected key=JSON pairs after the cell marker, got {options[at:].strip()!r}")
        try:
            metadata[key.group(1)], at = decoder.raw_decode(options, key.end())
        except json.JSONDecodeError as error:
            raise ValueError(f"the value of {key.group(1)}= is not JSON ({error.msg}, column "
                             f"{error.pos + 1} of {options!r})") from None
        if at < len(options) and not options[at].isspace():  # "a=1b=2": the next pair must stand apart
            raise ValueError(f"expected a space after {key.group(1)}=..., got {options[at:]!r}")
    return metadata


def parse_cells(text: str) -> list[Cell]:
    """The cells of a lesson in percent format. Lines before the first marker are code, as in
    jupytext; blank lines around a cell's source are dropped, and so are cells with nothing in them
    (their metadata with them). A marker whose metadata cannot be read is a ValueError naming its line."""
    cells: list[Cell] = []
    kind, start, lines = "code", 1, []
    metadata: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines() + ["# %%"], start=1):  # a last marker ends the last cell
        marker = MARKER.match(line)
        if not marker:
            lines.append(line.removeprefix("#").removeprefix(" ") if kind == "markdown" else line)
            continue
        filled = [i for i, kept in enumerate(lines) if kept.strip()]
        if filled:
            cells.append(Cell(kind, "\n".join(lines[filled[0]:filled[-1] + 1]), start + filled[0], metadata))
        try:
            metadata = cell_metadata(marker.group("options") or "")
        except ValueError as error:
            raise ValueError(f"parse_cells: line {number}: {error}") from None
        kind, start, lines = "markdown" if marker.group("markdown") else "code", number + 1, []
    return cells


def title(path: pathlib.Path) -> str:
    """A lesson's title: the first line of its first markdown cell, without the heading's #."""
    first = next(cell for cell in parse_cells(path.read_text(encoding="utf-8")) if cell.kind == "markdown")
    return first.source.splitlines()[0].lstrip("# ")


def folder() -> pathlib.Path | None:
    """The lessons folder beside the package, as in a clone installed with ``pip install -e .``;
    None in any other install (the lessons do not ship inside the package)."""
    found = pathlib.Path(__file__).resolve().parent.parent / "lessons"
    return found if found.is_dir() else None


def every_lesson(where: pathlib.Path) -> list[pathlib.Path]:
    """The lessons in folder ``where``, in order: the files NN_name.py."""
    return sorted(where.glob("[0-9][0-9]_*.py"))


def find(where: pathlib.Path, number: int) -> pathlib.Path | None:
    """Lesson ``number`` in folder ``where`` (6 finds 06_mode_collapse.py), or None."""
    return next((path for path in every_lesson(where) if int(path.name[:2]) == number), None)


# --- stepping through a lesson --------------------------------------------------------------------

def run_cell(cell: Cell, namespace: dict[str, Any], path: pathlib.Path) -> bool:
    """Run a code cell in ``namespace``, which all cells share, as in a notebook's kernel. On an
    error print its traceback and return False."""
    # blank lines in front, so that tracebacks give the lesson's own line numbers
    code = compile("\n" * (cell.line - 1) + cell.source, str(path), "exec")
    try:
        exec(code, namespace)
    except Exception as error:
        # from the cell's own frame on: the traceback need not show this function
        traceback.print_exception(type(error), error, error.__traceback__.tb_next if error.__traceback__ else None)
        return False
    return True


def show_code(cell: Cell) -> None:
    """The code of a cell, each line beside its number in the file."""
    for number, line in enumerate(cell.source.splitlines(), start=cell.line):
        print(f"{number:4d} | {line}".rstrip())


def step_through(path: pathlib.Path, input: Callable[[str], str] | None = builtins.input) -> int:
    """Show a lesson cell by cell, running each code cell after ``input`` returns (Enter); "q" quits.

    ``input=None`` runs straight through without asking (what `minigan lesson` does when stdin is
    not a terminal). The lesson sees no command-line arguments of its own, so `options` reads the
    environment. Returns 0 when the lesson ends or is quit, 1 when a cell fails."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    saved_argv, sys.argv = sys.argv, [str(path)]
    try:
        for cell in parse_cells(path.read_text(encoding="utf-8")):
            if cell.kind == "markdown":
                print(f"\n{cell.source}\n")
                continue
            show_code(cell)
            if input is not None:
                try:
                    answer = input("[Enter: run this cell, q: quit] ")
                except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt: the student leaves
                    answer = "q"
                if answer.strip().lower() == "q":
                    print("Stopped.")
                    return 0
            print("-" * 40)
            sys.stdout.flush()  # the code above the output, even when both go to a pipe
            if not run_cell(cell, namespace, path):
                return 1
        return 0
    finally:
        sys.argv = saved_argv
