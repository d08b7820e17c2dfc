"""Classroom exercises: the checks they call, their files read and validated, student copies, grading.

An exercise file, ``exercises/NN_topic.py`` beside ``lessons/``, is in the lessons' percent format
(`minigan.lessons.parse_cells`), with nbgrader's markers and cell metadata so that nbgrader works
on the notebooks jupytext makes of it. Exercise N.M is three cells in a row:

    # %% [markdown]
    # ## Exercise 1.2: the title
    # the task...

    # %% nbgrader={"grade": false, "grade_id": "exercise-1-2", "solution": true, ...}
    def double(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION

    # %% nbgrader={"grade": true, "grade_id": "exercise-1-2-check", "points": 2, "solution": false, ...}
    ex.same(double(mg.tensor([1.0])), [2.0], "double([1.0])")
    ### BEGIN HIDDEN TESTS
    ...more cases...
    ### END HIDDEN TESTS

`student_source` takes the solutions out (each becomes ``raise NotImplementedError("Exercise 1.2:
the title")``) and drops the hidden cases; `make_student` writes such a copy of every file.
`check` grades a student's copy: for each exercise, a new Python process runs the student's file,
all its cells but the check cells, then the reference file's check cell, hidden cases included.
`grade` does that for a folder of students' copies and writes a CSV. The processes have a time
and a memory limit, so that a hang or a runaway allocation fails one exercise and nothing else;
they are not a sandbox: the students' code runs with the grader's rights (docs/teaching.md).
"""
from __future__ import annotations

import ast
import builtins
import concurrent.futures
import contextlib
import csv
import dataclasses
import json
import os
import pathlib
import re
import reprlib
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterable
from typing import Any, NamedTuple, NoReturn

import numpy as np

from .lessons import Cell, parse_cells
from .tensor import Tensor

GiB = 2**30
TIMEOUT = 60.0  # seconds each exercise may take, its file's cells and its check together
MEMORY = 4 * GiB  # the address space each exercise's process may map (where the platform can limit it)

# --- the check cells' assertion ------------------------------------------------------------------

SHOWN = 6  # an array with more elements than this is shown by its corners and its shape


def same(got: Any, expected: Any, what: str, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """Assert that ``got`` has ``expected``'s shape and values (within ``rtol`` and ``atol``, as
    `numpy.allclose`), for the check cells: raises AssertionError with one line, ``"{what}: expected
    ..., got ..."``, showing a few numbers and the shapes, never the whole array.

    Both may be minigan Tensors, NumPy arrays, numbers, or lists of numbers (an array written out);
    a tuple or list that holds Tensors or arrays is compared item by item, so ``got`` must then be
    a tuple or list of as many. A NaN anywhere in ``got`` fails, whatever ``expected`` holds there.
    """
    problem = difference(got, expected, rtol, atol)
    if problem is not None:
        raise AssertionError(f"{what}{problem}")


def difference(got: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """What `same` says after its ``what`` when ``got`` differs from ``expected``; None if it does not."""
    if is_structure(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f": expected {short(expected)}, got {short(got)}"
        for index, (item, wanted) in enumerate(zip(got, expected)):
            problem = difference(item, wanted, rtol, atol)
            if problem is not None:
                return f" (item [{index}]){problem}"
        return None
    want = as_array(expected)
    if want is None:
        raise TypeError(f"same: expected must be a Tensor, an array, a number, or a tuple or list of them, "
                        f"got {type(expected).__name__}")
    have = as_array(got)
    if have is None:
        return f": expected {short(expected)}, got {short(got)}"
    if have.shape != want.shape:
        return f": expected shape {want.shape}, got shape {have.shape}"
    nan = np.isnan(have)
    if nan.any():
        where = f" at index {tuple(int(i) for i in np.argwhere(nan)[0])}" if have.ndim else ""
        return f": expected {short(expected)}, got NaN{where}"
    close = np.isclose(have, want, rtol=rtol, atol=atol)
    if close.all():
        return None
    first = ""
    if have.size > SHOWN:  # the corners shown may all agree: name the first element that does not
        at = tuple(int(i) for i in np.argwhere(~close)[0])
        first = (f" (first difference at index {at}: expected {values(want[at])}, got {values(have[at])}; "
                 f"{int((~close).sum())} of {have.size} differ)")
    return f": expected {short(expected)}, got {short(got)}{first}"


def is_structure(x: Any) -> bool:
    """A tuple or list compared item by item (it holds Tensors or arrays), not one array written out."""
    return isinstance(x, (tuple, list)) and any(isinstance(item, (Tensor, np.ndarray)) or is_structure(item)
                                                for item in x)


def as_array(x: Any) -> np.ndarray | None:
    """``x`` as a NumPy array of numbers (float64 or complex128, for the comparison), or None if it is
    not numbers (None, a string, a function, a ragged list, ...)."""
    if isinstance(x, Tensor):
        x = x.numpy()
    elif not isinstance(x, (np.ndarray, np.generic, int, float, complex, tuple, list)):
        return None
    try:
        array = np.asarray(x)
    except ValueError:  # a ragged list
        return None
    if array.dtype.kind not in "biufc":
        return None
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)


def values(array: np.ndarray) -> str:
    """An array's numbers on one line: all of a small one, the corners of a big one."""
    text = np.array2string(np.asarray(array), precision=6, threshold=SHOWN, edgeitems=2, separator=", ",
                           floatmode="maxprec", max_line_width=10**9)
    return " ".join(text.split())  # rows of a matrix on one line


def short(x: Any) -> str:
    """A short repr: ``tensor([1., 2.])``, ``array([0., 1., ..., 9999.], shape=(100, 100))``, ``0.5``, or
    the type and a clipped repr of anything that is not numbers."""
    if isinstance(x, (Tensor, np.ndarray)):
        array = x.numpy() if isinstance(x, Tensor) else x
        if array.size > SHOWN:  # the first and last numbers in memory order, and the shape: one short line
            return f"{'tensor' if isinstance(x, Tensor) else 'array'}({values(array.ravel())}, shape={array.shape})"
        return f"{'tensor' if isinstance(x, Tensor) else 'array'}({values(array)})"
    if is_structure(x):
        items = [short(item) for item in x[:3]] + (["..."] if len(x) > 3 else [])
        return f"a {type(x).__name__} of {len(x)}: ({', '.join(items)})"
    numbers = as_array(x)
    if numbers is not None:
        return values(numbers)
    return "None" if x is None else f"{type(x).__name__} {reprlib.repr(x)}"


# --- reading and validating exercise files ---------------------------------------------------------

SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
HEADER = re.compile(r"# Exercises (\d+): (\S.*)")  # the first line of the first markdown cell
HEADING = re.compile(r"## Exercise (\d+)\.(\d+): (\S.*)")  # the first line of an exercise's markdown cell
FOLLOWS = re.compile(r"\b(lessons/\d\d_\w+\.py|docs/[\w-]+\.md)\b")  # what the header says the file follows


@dataclasses.dataclass(frozen=True)
class Exercise:
    """Exercise ``id`` "N.M" of an exercise file: its title, the points its check is worth, the
    ``file`` it is in as the repository (and a student copy) names it, ``exercises/NN_topic.py``, the
    ``line`` of its heading, its ``solution`` cell and its ``check`` cell."""

    id: str
    title: str
    points: float
    file: pathlib.PurePosixPath
    line: int
    solution: Cell
    check: Cell


@dataclasses.dataclass(frozen=True)
class ExerciseFile:
    """One file of exercises: its ``path``, its ``number`` N and ``topic`` (its header says ``#
    Exercises N: topic``), what it ``follows`` (the lessons or docs its header names), its exercises."""

    path: pathlib.Path
    number: int
    topic: str
    follows: tuple[str, ...]
    exercises: tuple[Exercise, ...]


def folder() -> pathlib.Path | None:
    """The exercises folder beside the package, as in a clone installed with ``pip install -e .``;
    None in any other install (the exercises, solutions and all, do not ship inside the package)."""
    found = pathlib.Path(__file__).resolve().parent.parent / "exercises"
    return found if found.is_dir() else None


def every_file(where: str | os.PathLike[str]) -> list[pathlib.Path]:
    """The exercise files in folder ``where``, in order: the files NN_topic.py."""
    return sorted(pathlib.Path(where).glob("[0-9][0-9]_*.py"))


def read(path: str | os.PathLike[str]) -> ExerciseFile:
    """An exercise file, read and validated: a malformed one is a ValueError naming it and the line."""
    path = pathlib.Path(path)
    return parse(path.read_text(encoding="utf-8"), path)


def nbgrader(cell: Cell) -> dict[str, Any]:
    """A cell's nbgrader metadata (empty for a plain cell)."""
    found = cell.metadata.get("nbgrader", {})
    return found if isinstance(found, dict) else {}


def malformed(where: str, line: int, message: str) -> ValueError:
    """The error for a malformed exercise file: the file, the line, what is wrong."""
    return ValueError(f"{where} line {line}: {message}")


def regions(cell: Cell, markers: tuple[str, str], where: str) -> list[tuple[int, int]]:
    """The (first, last) file lines of each ``markers`` region of a cell, markers included. A marker
    is a line that is the marker alone, indented or not; regions must close and cannot nest."""
    found: list[tuple[int, int]] = []
    opened = None
    for number, line in enumerate(cell.source.splitlines(), start=cell.line):
        if line.strip() == markers[0]:
            if opened is not None:
                raise malformed(where, number, f"{markers[0]} again before {markers[1]} (from line {opened})")
            opened = number
        elif line.strip() == markers[1]:
            if opened is None:
                raise malformed(where, number, f"{markers[1]} without {markers[0]} before it")
            found.append((opened, number))
            opened = None
    if opened is not None:
        raise malformed(where, opened, f"{markers[0]} is not closed by {markers[1]} in its cell")
    return found


def names(cell: Cell, where: str) -> tuple[set[str], set[str]]:
    """The names a code cell defines (assigns, imports, defines, takes as a parameter, anywhere in
    it) and the names it reads; a SyntaxError in it is a ValueError naming the line."""
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as error:
        raise malformed(where, cell.line + (error.lineno or 1) - 1, f"syntax error: {error.msg}") from None
    defined: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used


def parse(text: str, path: str | os.PathLike[str] = "<text>") -> ExerciseFile:
    """The exercises in ``text``, the contents of the file ``path``, validated (see `ExerciseFile`).

    Raises ValueError naming the file and the line when the header is missing, an exercise's ids do
    not follow on (N.1, N.2, ... with N the file's number), its solution or check cell is missing or
    has the wrong metadata (grade_id, solution, grade, points), a solution has no region or one that
    is not inside a function, a marker is unbalanced or in a cell that is not its exercise's, or a
    check uses a name that only another check defines (the grader runs one check at a time).
    """
    path = pathlib.Path(path)
    where = str(path)
    try:
        cells = parse_cells(text)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    first = next((cell for cell in cells if cell.kind == "markdown"), None)
    header = HEADER.fullmatch(first.source.splitlines()[0].strip()) if first else None
    if first is None or header is None:
        raise malformed(where, first.line if first else 1, "expected the header '# Exercises N: topic' as the first "
                        "line of the first markdown cell")
    number = int(header[1])
    if re.match(r"\d\d_", path.name) and int(path.name[:2]) != number:
        raise malformed(where, first.line, f"the header says Exercises {number}, the file's name {path.name[:2]}")
    follows = tuple(dict.fromkeys(FOLLOWS.findall(first.source)))
    if not follows:
        raise malformed(where, first.line, "the header names no lesson it follows (expected lessons/NN_name.py or "
                        "docs/name.md in its text)")
    exercises: list[Exercise] = []
    owned: dict[int, str] = {}  # index of an exercise's solution or check cell -> which
    for index, cell in enumerate(cells):
        heading = HEADING.fullmatch(cell.source.splitlines()[0].strip()) if cell.kind == "markdown" else None
        if heading is not None:
            exercises.append(read_exercise(cells, index, heading, f"{number}.{len(exercises) + 1}", path))
            owned.update({index + 1: "solution", index + 2: "check"})
    checks_stand_alone(cells, owned, exercises, where)
    for index, cell in enumerate(cells):  # nbgrader's cells and markers nowhere but in an exercise's own cells
        if cell.metadata.get("nbgrader") is not None and index not in owned:
            raise malformed(where, cell.line, "a cell with nbgrader metadata outside an exercise (expected it right "
                            "after a '## Exercise N.M: title' cell)")
        for kind, markers in (("solution", SOLUTION), ("check", HIDDEN)):
            if owned.get(index) != kind and any(line.strip() in markers for line in cell.source.splitlines()):
                raise malformed(where, cell.line, f"{markers[0]!r} or {markers[1]!r} outside an exercise's {kind} cell")
    return ExerciseFile(path, number, header[2].strip(), follows, tuple(exercises))


def read_exercise(cells: list[Cell], index: int, heading: re.Match[str], expected: str,
                  path: pathlib.Path) -> Exercise:
    """The exercise whose heading is ``cells[index]``, validated: its id the ``expected`` one, then
    its solution cell and its check cell, with their metadata and regions."""
    where, line = str(path), cells[index].line
    id, title = f"{int(heading[1])}.{int(heading[2])}", heading[3].strip()
    if id != expected:
        raise malformed(where, line, f"expected Exercise {expected} next, got Exercise {heading[1]}.{heading[2]}")
    solution, check = (cells[index + k] if index + k < len(cells) else None for k in (1, 2))
    if solution is None or solution.kind != "code" or nbgrader(solution).get("solution") is not True \
            or nbgrader(solution).get("grade"):
        raise malformed(where, solution.line if solution else line, f"Exercise {id}: expected its solution cell "
                        "next, a code cell with nbgrader metadata \"solution\": true, \"grade\": false")
    if check is None or check.kind != "code" or nbgrader(check).get("grade") is not True \
            or nbgrader(check).get("solution"):
        raise malformed(where, check.line if check else solution.line, f"Exercise {id}: expected its check cell "
                        "after the solution, a code cell with nbgrader metadata \"grade\": true, \"solution\": false")
    grade_id = "exercise-" + id.replace(".", "-")
    for kind, cell, wanted in (("solution", solution, grade_id), ("check", check, grade_id + "-check")):
        if nbgrader(cell).get("grade_id") != wanted:
            raise malformed(where, cell.line, f"Exercise {id}: expected the {kind} cell's grade_id {wanted!r}, got "
                            f"{nbgrader(cell).get('grade_id')!r}")
    points = nbgrader(check).get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        raise malformed(where, check.line, f"Exercise {id}: expected the check cell's points, a number above 0, got "
                        f"{points!r}")
    found = regions(solution, SOLUTION, where)
    if not found:
        raise malformed(where, solution.line, f"Exercise {id}: the solution cell has no {SOLUTION[0]} ... "
                        f"{SOLUTION[1]} region")
    for begin, _ in found:
        if not solution.source.splitlines()[begin - solution.line].startswith((" ", "\t")):
            raise malformed(where, begin, f"Exercise {id}: a solution region must be inside a function's body, so "
                            "that a student's copy runs without raising until the function is called")
    regions(check, HIDDEN, where)
    return Exercise(id, title, points, pathlib.PurePosixPath("exercises", path.name), line, solution, check)


def checks_stand_alone(cells: list[Cell], owned: dict[int, str], exercises: list[Exercise], where: str) -> None:
    """Refuse a check cell that uses a name only another check cell defines: the grader runs one
    check cell after the file's other cells, so the name would be missing there. (Names defined
    anywhere in a plain or solution cell, even as a function's local, count as defined: no false alarm.)"""
    shared = set().union(*(names(cell, where)[0] for index, cell in enumerate(cells)
                           if cell.kind == "code" and owned.get(index) != "check"))
    for exercise in exercises:
        defined, used = names(exercise.check, where)
        others = set().union(*(names(other.check, where)[0] for other in exercises if other is not exercise))
        borrowed = sorted((used - defined - shared - set(dir(builtins))) & others)
        if borrowed:
            raise malformed(where, exercise.check.line, f"Exercise {exercise.id}: its check uses "
                            f"{', '.join(borrowed)}, which only another exercise's check cell defines; each check "
                            "runs alone when graded (define what checks share in a plain code cell)")


# --- student copies ------------------------------------------------------------------------------

def student_source(text: str, path: str | os.PathLike[str] = "<text>") -> str:
    """A student's copy of an exercise file: each solution region, markers included, replaced by
    ``raise NotImplementedError("Exercise N.M: title")`` at its BEGIN marker's indentation, each
    hidden-tests region, markers included, removed; every other byte as it was. ``path`` names the
    file in the errors of a malformed one (a ValueError, see `parse`)."""
    cut: dict[int, tuple[int, str]] = {}  # first line of a region -> its last line, what replaces it
    for exercise in parse(text, path).exercises:
        message = json.dumps(f"Exercise {exercise.id}: {exercise.title}", ensure_ascii=False)  # a Python literal too
        for first, last in regions(exercise.solution, SOLUTION, str(path)):
            cut[first] = (last, f"raise NotImplementedError({message})")
        for first, last in regions(exercise.check, HIDDEN, str(path)):
            cut[first] = (last, "")
    lines, kept, number = text.splitlines(keepends=True), [], 1  # numbered as parse_cells numbers them
    while number <= len(lines):
        if number not in cut:
            kept.append(lines[number - 1])
            number += 1
            continue
        last, replacement = cut[number]
        begin = lines[number - 1]
        if replacement:  # at the marker's indentation, with the marker line's own line ending
            body = begin.rstrip("\r\n")
            kept.append(body[:len(body) - len(body.lstrip())] + replacement + begin[len(body):])
        number = last + 1
    return "".join(kept)


def make_student(outdir: str | os.PathLike[str], *, reference: str | os.PathLike[str] | None = None,
                 force: bool = False) -> list[pathlib.Path]:
    """Write a student's copy of every exercise file to ``outdir/exercises/`` (the paths of the
    repository), and its README.md if there is one; returns the paths written.

    ``reference`` is the folder of exercises with their solutions (default: `folder`). Nothing is
    written when any file is already there, unless ``force``: a FileExistsError names it."""
    source = reference_folder(reference, "make_student")
    target = pathlib.Path(outdir) / "exercises"
    copies = {target / path.name: student_source(path.read_text(encoding="utf-8"), path)
              for path in every_file(source)}  # all made before any is written: a malformed file writes nothing
    if (source / "README.md").is_file():
        copies[target / "README.md"] = (source / "README.md").read_text(encoding="utf-8")
    there = [path for path in copies if path.exists()]
    if there and not force:
        raise FileExistsError(f"make_student: {there[0]} is already there ({len(there)} of the {len(copies)} files); "
                              "force=True overwrites them")
    target.mkdir(parents=True, exist_ok=True)
    for path, text in copies.items():
        with open(path, "w", encoding="utf-8", newline="") as file:  # newline="": the line endings as they were
            file.write(text)
    return list(copies)


def reference_folder(reference: str | os.PathLike[str] | None, caller: str) -> pathlib.Path:
    """``reference``, else the exercises beside the package; a FileNotFoundError when it holds no exercise file."""
    found = pathlib.Path(reference) if reference is not None else folder()
    if found is None:
        raise FileNotFoundError(f"{caller}: the exercises are not installed with the package; they are in the "
                                "exercises/ folder of minigan's repository (clone it and pip install -e . there)")
    if not every_file(found):
        raise FileNotFoundError(f"{caller}: no exercise files (NN_topic.py) in {found}")
    return found


# --- grading ---------------------------------------------------------------------------------------

class Result(NamedTuple):
    """How an exercise was graded: full points and no message if it passed, 0 and a one-line hint if not."""

    id: str
    title: str
    points: float
    max_points: float
    passed: bool
    message: str


@dataclasses.dataclass(frozen=True)
class Task:
    """One exercise to grade: the reference file its check comes from, the student's file to run."""

    exercise: Exercise
    reference: pathlib.Path
    student: pathlib.Path


def select(files: list[ExerciseFile], ids: str | Iterable[str]) -> list[tuple[ExerciseFile, Exercise]]:
    """The exercises ``ids`` names, in the files' order: "all", or each "N.M", or "N" for all of file N
    (leading zeros allowed: "01.2"). An id that names none is a ValueError."""
    every = [(file, exercise) for file in files for exercise in file.exercises]
    wanted = [ids] if isinstance(ids, str) else list(ids)
    if "all" in wanted:
        return every
    chosen: set[str] = set()
    for name in wanted:
        parts = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?\s*", name)
        if parts is None:
            matched = []
        elif parts[2] is not None:  # N.M
            matched = [e.id for _, e in every if e.id == f"{int(parts[1])}.{int(parts[2])}"]
        else:  # N: the file's
            matched = [e.id for file, e in every if file.number == int(parts[1])]
        if not matched:
            raise ValueError(f"check: no exercise {name!r} (expected N.M, N or all; minigan exercises list lists them)")
        chosen.update(matched)
    return [(file, exercise) for file, exercise in every if exercise.id in chosen]


def check(ids: str | Iterable[str] = "all", path: str | os.PathLike[str] | None = None, *,
          reference: str | os.PathLike[str] | None = None, timeout: float = TIMEOUT, memory: int | None = MEMORY,
          jobs: int | None = None) -> list[Result]:
    """Grade exercises ``ids`` ("all", or "N.M" and "N" ids) of the copy in folder ``path`` (which
    holds exercises/NN_topic.py, as `make_student` writes them; default: the reference files
    themselves, whose checks should all pass).

    Each exercise is graded in a new Python process, in a temporary working directory, with at most
    ``timeout`` seconds and ``memory`` bytes of address space (None: no limit): it runs the
    student's file, every code cell but the check cells, then the check cell of the reference file
    in ``reference`` (default: `folder`), hidden cases included. ``jobs`` processes run at a time
    (default: one per CPU). A ValueError for an unknown id or a malformed reference file."""
    files = [read(path) for path in every_file(reference_folder(reference, "check"))]
    root = pathlib.Path(path) if path is not None else None
    tasks = [Task(exercise, file.path, root / exercise.file if root else file.path) for file, exercise in
             select(files, ids)]
    return run(tasks, timeout, memory, jobs)


NOT_A_FOLDER = "not a folder: expected a student's folder with exercises/ in it, as make-student writes"


def grade(submissions: str | os.PathLike[str], csv_path: str | os.PathLike[str], *,
          reference: str | os.PathLike[str] | None = None, timeout: float = TIMEOUT, memory: int | None = MEMORY,
          jobs: int | None = None) -> dict[str, list[Result]]:
    """Grade every student's copy in folder ``submissions``, one subfolder each (laid out as
    `make_student` writes: ``alice/exercises/01_autograd.py``), as `check` grades one; write the CSV
    ``csv_path`` (student, exercise, points, max_points, message; a "total" row per student) and
    return each student's results. Every exercise of every student runs in a process of its own,
    so that none changes another's result; only this process writes the sheet. An entry that is not
    a folder gets a total row of 0 that says so; names starting with "." are skipped (.DS_Store)."""
    files = [read(path) for path in every_file(reference_folder(reference, "grade"))]
    every = select(files, "all")
    entries = sorted(entry for entry in pathlib.Path(submissions).iterdir() if not entry.name.startswith("."))
    students = [entry for entry in entries if entry.is_dir()]
    tasks = [Task(exercise, file.path, student / exercise.file) for student in students for file, exercise in every]
    graded = run(tasks, timeout, memory, jobs)
    results = {student.name: graded[i * len(every):(i + 1) * len(every)] for i, student in enumerate(students)}
    max_total = sum(exercise.points for _, exercise in every)
    with open(csv_path, "w", newline="", encoding="utf-8") as file:
        sheet = csv.writer(file)
        sheet.writerow(["student", "exercise", "points", "max_points", "message"])
        for entry in entries:
            if entry.name not in results:
                sheet.writerow([entry.name, "total", 0, f"{max_total:g}", NOT_A_FOLDER])
                continue
            mine = results[entry.name]
            sheet.writerows([entry.name, r.id, f"{r.points:g}", f"{r.max_points:g}", r.message] for r in mine)
            sheet.writerow([entry.name, "total", f"{sum(r.points for r in mine):g}", f"{max_total:g}",
                            f"{sum(r.passed for r in mine)} of {len(mine)} passed"])
    return results


def run(tasks: list[Task], timeout: float, memory: int | None, jobs: int | None) -> list[Result]:
    """Grade each task in a process of its own, ``jobs`` at a time; the results in the tasks' order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        outcomes = list(pool.map(lambda task: run_one(task, timeout, memory), tasks))
    return [Result(task.exercise.id, task.exercise.title, task.exercise.points if passed else 0,
                   task.exercise.points, passed, message) for task, (passed, message) in zip(tasks, outcomes)]


def run_one(task: Task, timeout: float, memory: int | None) -> tuple[bool, str]:
    """Grade one exercise in a new process (`python -m minigan.exercises`, which runs `grade_here`):
    (passed, hint). A hang is killed after ``timeout`` seconds with every process it started; a
    process that ends without its result (os._exit, a crash, the kernel's OOM killer) fails with why."""
    shown = str(task.exercise.file)
    if task.student.is_symlink():  # a link to the reference's file would pass without a line of work
        return False, f"{shown} is a symbolic link; hand in the file itself"
    if not task.student.is_file():
        return False, f"missing {shown}"
    with tempfile.TemporaryDirectory(prefix="minigan-grade-") as scratch:
        result, work = pathlib.Path(scratch, "result.json"), pathlib.Path(scratch, "work")
        work.mkdir()
        environment = dict(os.environ)
        # the minigan this process runs, whether installed or not; one BLAS thread, as the processes run side by side
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pathlib.Path(__file__).resolve().parent.parent),
                                                                  os.environ.get("PYTHONPATH")]))
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            environment.setdefault(name, "1")
        environment["MINIGAN_DEVICE"] = "cpu"  # grades must not depend on the grader's shell (nor start a GPU each)
        command = [sys.executable, "-m", "minigan.exercises", str(task.student.resolve()), shown,
                   str(task.reference.resolve()), task.exercise.id, str(result), str(memory or 0)]
        with open(pathlib.Path(scratch, "stderr.txt"), "w+b") as stderr:
            process = subprocess.Popen(command, cwd=work, env=environment, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
            try:
                status = process.wait(timeout)
            except subprocess.TimeoutExpired:
                stop(process)
                return False, f"took more than {timeout:g} s"
            stop(process)  # what it started and left running (a subprocess, a worker) goes with it
            try:
                passed, message = json.loads(result.read_text(encoding="utf-8"))
                return bool(passed), str(message)
            except (OSError, ValueError, TypeError):  # no result, or not one written by grade_here
                stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 2000))
                said = [line for line in stderr.read().decode(errors="replace").splitlines() if line.strip()]
        last = f"; it said: {said[-1].strip()[:200]}" if said else ""
        if status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:  # a real-time signal, which has no name
                name = str(-status)
            return False, f"crashed: killed by signal {name}{last}"
        return False, f"the process ended before its check did (exit status {status}: os._exit? a crash?){last}"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill a grading process (one that took too long, or one that ended) and every process it started
    and left running: its own session's group, whose id stays taken while any member lives."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):  # the group is gone already
        pass
    process.wait()


# --- in the grading process ----------------------------------------------------------------------

def grade_here(student: pathlib.Path, shown: str, reference: pathlib.Path, id: str, memory: int) -> tuple[bool, str]:
    """Grade exercise ``id`` in this process: run the ``student``'s file, every code cell but the
    check cells, into one namespace (as a notebook's kernel would), then the reference's check cell.
    Returns (passed, hint); ``shown`` is the student's file as the hints name it."""
    limit_memory(memory)
    exercise = next(e for e in read(reference).exercises if e.id == id)
    try:
        text = student.read_text(encoding="utf-8")
        compile(text, shown, "exec")  # a file that does not compile fails all its exercises, as it would not run
        cells = parse_cells(text)
    except SyntaxError as error:
        return False, f"syntax error in {shown} line {error.lineno}: {error.msg}"
    except (OSError, ValueError) as error:  # unreadable, not UTF-8, a null byte, a bad cell marker
        return False, f"cannot run {shown}: {first_line(error)}"
    sys.argv = [shown]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    earlier = None  # the first error of a cell before the check: a name the check misses may be its doing
    try:
        for cell in cells:
            if cell.kind == "code" and not nbgrader(cell).get("grade"):
                try:
                    run_cell(cell, shown, namespace)
                except SyntaxError as error:  # a cell marker inside a string cuts a statement in two
                    return False, f"syntax error in {shown} line {error.lineno}: {error.msg}"
                except Exception as error:  # a notebook goes on after a failing cell; so does nbgrader's autograde
                    earlier = earlier or explain(error, shown, memory)
        run_cell(exercise.check, str(reference), namespace)
    except NotImplementedError as error:
        return False, f"not done yet: {error}" if str(error) else f"not done yet: Exercise {id}: {exercise.title}"
    except AssertionError as error:
        if raised_at(error, shown) is not None:  # an assert of the student's own
            return False, explain(error, shown, memory)
        return False, first_line(error) or (f"a check failed (line {raised_at(error, str(reference))} of the "
                                            f"reference {exercise.file})")
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: a failed check, not a dead grader
        return False, explain(error, shown, memory) + (f" (after an earlier error: {earlier})" if earlier else "")
    return True, ""


def run_cell(cell: Cell, filename: str, namespace: dict[str, Any]) -> None:
    """Run a code cell, its lines numbered as in its file (blank lines in front) for the hints."""
    exec(compile("\n" * (cell.line - 1) + cell.source, filename, "exec"), namespace)


def raised_at(error: BaseException, filename: str) -> int | None:
    """The line of file ``filename`` where ``error`` was raised (its innermost frame there), if any."""
    lines = [line for frame, line in traceback.walk_tb(error.__traceback__) if frame.f_code.co_filename == filename]
    return lines[-1] if lines else None


def first_line(error: BaseException) -> str:
    """An error's message on one line, at most 300 characters."""
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else ""


def explain(error: BaseException, shown: str, memory: int) -> str:
    """A one-line hint for an error: ``ExcType: message (exercises/01_x.py line L)``."""
    if isinstance(error, SystemExit):
        text = f"the code called sys.exit({'' if error.code is None else repr(error.code)})"
    else:
        text = f"{type(error).__name__}: {first_line(error)}" if first_line(error) else type(error).__name__
    if isinstance(error, MemoryError) and memory:
        text += f" (the grader allows {memory / GiB:g} GiB)"
    line = raised_at(error, shown)
    return text + (f" ({shown} line {line})" if line else "")


def limit_memory(limit: int) -> None:
    """Limit this process's address space to ``limit`` bytes (0: no limit) where the platform can
    (RLIMIT_AS: Linux; Windows has no `resource`, macOS refuses): a runaway allocation then raises
    MemoryError here instead of swapping the grader's machine to a halt."""
    try:
        import resource
    except ImportError:
        return
    if not limit:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    with contextlib.suppress(ValueError, OSError, OverflowError):  # macOS refuses: no limit there
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # the hard limit too: the code cannot raise it


def main(argv: list[str]) -> NoReturn:
    """The grading process's entry (`run_one` starts it): grade one exercise, write [passed, hint] as
    JSON to the result file, and leave at once (os._exit: no thread or exit handler of the student's
    can hold the process up or print after it)."""
    if len(argv) != 6:
        sys.exit("python -m minigan.exercises is the grading process that minigan exercises check and grade start; "
                 "run those")
    student, shown, reference, id, result, memory = argv
    outcome = grade_here(pathlib.Path(student), shown, pathlib.Path(reference), id, int(memory))
    pathlib.Path(result).write_text(json.dumps(outcome), encoding="utf-8")
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
