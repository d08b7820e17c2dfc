"""The exercise tooling, `minigan.exercises` and `minigan exercises`: reading and validating exercise
files, student copies, `same`, and grading in separate processes (on exercise files made here, so
that these tests do not depend on what exercises/ holds). Then the files in exercises/ themselves:
well formed, their reference solutions pass every check, a student's copy fails every one."""
import ast
import concurrent.futures
import copy
import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import pytest

import minigan as mg
from minigan import cli, gan
from minigan import exercises as ex

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = ex.every_file(ROOT / "exercises")

SOLUTION_1 = """\
    ### BEGIN SOLUTION
    return x * 2
    ### END SOLUTION
"""
HIDDEN_1 = """\
### BEGIN HIDDEN TESTS
sample = np.random.default_rng(11).normal(size=(3, 4))
ex.same(double(mg.tensor(sample)), 2 * sample, "double(sample)")
### END HIDDEN TESTS
"""
SOLUTION_2 = """\
        ### BEGIN SOLUTION
        return x * x
        ### END SOLUTION
"""
HIDDEN_2 = """\
### BEGIN HIDDEN TESTS
for x in np.random.default_rng(12).normal(size=5):
    ex.same(Square()(x), x * x, f"Square()({x})")
### END HIDDEN TESTS
"""


def marker(grade_id: str, points: float | None = None) -> str:
    """The marker line of a solution cell, or of a check cell worth ``points``, as nbgrader's metadata has them."""
    check = points is not None
    metadata = {"grade": check, "grade_id": grade_id, "locked": check, **({"points": points} if check else {}),
                "schema_version": 3, "solution": not check, "task": False}
    return f"# %% nbgrader={json.dumps(metadata)}"


SAMPLE = f"""\
# %% [markdown]
# # Exercises 1: doubling and squaring
#
# After lesson 1 (`lessons/01_autograd.py`).

# %%
import numpy as np

import minigan as mg
from minigan import exercises as ex

# %% [markdown]
# ## Exercise 1.1: double a tensor
#
# Return 2 x.

{marker("exercise-1-1")}
def double(x):
    \"\"\"Twice x.\"\"\"
{SOLUTION_1}

{marker("exercise-1-1-check", 2)}
ex.same(double(mg.tensor([1.0])), [2.0], "double([1.0])")
{HIDDEN_1}
# %% [markdown]
# ## Exercise 1.2: square, in a method
#
# Return x squared.

{marker("exercise-1-2")}
class Square:
    def __call__(self, x):
{SOLUTION_2}

{marker("exercise-1-2-check", 1.5)}
ex.same(Square()(3.0), 9.0, "Square()(3.0)")
{HIDDEN_2}"""
NAME = "01_sample.py"


@pytest.fixture
def reference(tmp_path):
    """A reference folder holding the sample file (its solutions) and a README."""
    folder = tmp_path / "reference" / "exercises"
    folder.mkdir(parents=True)
    (folder / NAME).write_text(SAMPLE, encoding="utf-8")
    (folder / "README.md").write_text("# Exercises\n", encoding="utf-8")
    return folder


def student(tmp_path, name: str, text: str | None) -> pathlib.Path:
    """A student's copy, tmp_path/name/exercises/01_sample.py, holding ``text`` (None: no file)."""
    (tmp_path / name / "exercises").mkdir(parents=True)
    if text is not None:
        (tmp_path / name / "exercises" / NAME).write_text(text, encoding="utf-8")
    return tmp_path / name


# --- reading and validating ----------------------------------------------------------------------

def test_read_finds_the_exercises_and_their_cells(reference):
    file = ex.read(reference / NAME)
    assert (file.number, file.topic, file.follows) == (1, "doubling and squaring", ("lessons/01_autograd.py",))
    assert [(e.id, e.title, e.points) for e in file.exercises] == [("1.1", "double a tensor", 2),
                                                                   ("1.2", "square, in a method", 1.5)]
    first = file.exercises[0]
    assert str(first.file) == "exercises/01_sample.py"
    assert SAMPLE.splitlines()[first.line - 1] == "# ## Exercise 1.1: double a tensor"
    assert first.solution.source.startswith("def double(x):") and "BEGIN SOLUTION" in first.solution.source
    assert first.check.source.startswith("ex.same(double(") and first.check.metadata["nbgrader"]["points"] == 2


UNINDENTED = "### BEGIN SOLUTION\ndef double(x):\n    return x * 2\n### END SOLUTION\n"  # a region around a def
MALFORMED = [  # (what is changed, into what, what the error says)
    ("# # Exercises 1: doubling", "# # Exercise 1: doubling", "expected the header"),
    ("# # Exercises 1:", "# # Exercises 2:", "the header says Exercises 2, the file's name 01"),
    ("# After lesson 1 (`lessons/01_autograd.py`).", "# After lesson 1.", "names no lesson"),
    ("## Exercise 1.2:", "## Exercise 1.3:", "expected Exercise 1.2 next, got Exercise 1.3"),
    ('"grade_id": "exercise-1-1-check"', '"grade_id": "exercise-1-2-check"', "grade_id 'exercise-1-1-check'"),
    ('"points": 2, ', "", "expected the check cell's points"),
    ('3, "solution": true', '3, "solution": false', "expected its solution cell next"),
    (SOLUTION_1, "    return x * 2\n", "has no ### BEGIN SOLUTION"),
    ("    ### END SOLUTION\n", "", "is not closed"),
    ("### BEGIN HIDDEN TESTS\nfor", "### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\nfor", "again before"),
    ('def double(x):\n    """Twice x."""\n' + SOLUTION_1, UNINDENTED, "inside a function's body"),
    ("import numpy as np\n", "import numpy as np\n### END HIDDEN TESTS\n", "outside an exercise's check cell"),
    ("# %%\nimport numpy", '# %% nbgrader={"grade": true}\nimport numpy', "nbgrader metadata outside an exercise"),
    ('ex.same(Square()(3.0), 9.0, "Square()(3.0)")', 'ex.same(Square()(sample), sample**2, "Square()(sample)")',
     "its check uses sample, which only another exercise's check cell defines"),
    ('"locked": true, "points": 2,', '"locked": true "points": 2,', "parse_cells: line"),
]


@pytest.mark.parametrize("old, new, says", MALFORMED, ids=[case[2] for case in MALFORMED])
def test_a_malformed_file_is_a_value_error_naming_the_file_and_the_line(tmp_path, old, new, says):
    assert old in SAMPLE
    path = tmp_path / NAME
    path.write_text(SAMPLE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(says)) as error:
        ex.read(path)
    assert re.match(rf"{re.escape(str(path))}:? (parse_cells: )?line \d+: ", str(error.value)), str(error.value)


# --- student copies --------------------------------------------------------------------------------

def test_student_source_replaces_solutions_and_drops_hidden_tests_and_keeps_every_other_byte():
    copy = ex.student_source(SAMPLE)
    expected = (SAMPLE.replace(SOLUTION_1, '    raise NotImplementedError("Exercise 1.1: double a tensor")\n')
                .replace(SOLUTION_2, '        raise NotImplementedError("Exercise 1.2: square, in a method")\n')
                .replace(HIDDEN_1, "").replace(HIDDEN_2, ""))
    assert copy == expected
    assert "BEGIN" not in copy and "END" not in copy and "normal(size=(3, 4))" not in copy


def test_student_source_keeps_windows_line_endings():
    copy = ex.student_source(SAMPLE.replace("\n", "\r\n"))
    assert copy.count("\r\n") == copy.count("\n") and 'raise NotImplementedError("Exercise 1.1' in copy


def test_make_student_mirrors_the_paths_and_refuses_to_overwrite(reference, tmp_path):
    out = tmp_path / "out"
    written = ex.make_student(out, reference=reference)
    assert sorted(written) == [out / "exercises" / NAME, out / "exercises" / "README.md"]
    assert (out / "exercises" / NAME).read_text(encoding="utf-8") == ex.student_source(SAMPLE)
    (out / "exercises" / NAME).write_text("a student's work", encoding="utf-8")
    with pytest.raises(FileExistsError, match="already there"):
        ex.make_student(out, reference=reference)
    assert (out / "exercises" / NAME).read_text(encoding="utf-8") == "a student's work"  # untouched
    ex.make_student(out, reference=reference, force=True)
    assert (out / "exercises" / NAME).read_text(encoding="utf-8") == ex.student_source(SAMPLE)


def test_a_student_copy_run_as_a_script_stops_at_the_first_exercise_to_do(reference, tmp_path):
    ex.make_student(tmp_path / "out", reference=reference)
    result = subprocess.run([sys.executable, "exercises/" + NAME], cwd=tmp_path / "out", capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "NotImplementedError: Exercise 1.1: double a tensor"


# --- same() ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("got, expected", [
    (mg.tensor([2.0, 4.0]), [2.0, 4.0]),
    (np.array([[1.0, 2.0]]), mg.tensor([[1.0, 2.0 + 1e-9]])),
    (3, 3.0),
    ((1.0, np.array([2.0])), (mg.tensor(1.0), mg.tensor([2.0]))),  # item by item
    ([mg.tensor(1.0)], [mg.tensor(1.0)]),
    (np.array([True, False]), [1, 0]),
])
def test_same_passes_equal_values_whatever_holds_them(got, expected):
    ex.same(got, expected, "x")


@pytest.mark.parametrize("got, expected, message", [
    (mg.tensor([3.0]), [2.0], "double([1.0]): expected [2.], got tensor([3.])"),
    (mg.tensor([[2.0]]), mg.tensor([2.0]), "double([1.0]): expected shape (1,), got shape (1, 1)"),
    (np.array([1.0, np.nan]), [1.0, 2.0], "double([1.0]): expected [1., 2.], got NaN at index (1,)"),
    (float("nan"), float("nan"), "double([1.0]): expected nan, got NaN"),
    (None, [2.0], "double([1.0]): expected [2.], got None"),
    ("2.0", [2.0], "double([1.0]): expected [2.], got str '2.0'"),
    (mg.tensor([2.0]), (mg.tensor([2.0]), mg.tensor([1.0])),
     "double([1.0]): expected a tuple of 2: (tensor([2.]), tensor([1.])), got tensor([2.])"),
    ((2.0, 1.5), (mg.tensor(2.0), mg.tensor(1.0)), "double([1.0]) (item [1]): expected tensor(1.), got 1.5"),
])
def test_same_says_what_differs_in_one_line(got, expected, message):
    with pytest.raises(AssertionError) as error:
        ex.same(got, expected, "double([1.0])")
    assert str(error.value) == message


def test_same_shows_a_big_array_by_its_corners_and_names_the_first_difference():
    expected = np.arange(10_000.0).reshape(100, 100)
    got = expected.copy()
    got[3, 7] = -1.0
    with pytest.raises(AssertionError) as error:
        ex.same(mg.tensor(got), expected, "big")
    message = str(error.value)
    assert "\n" not in message and len(message) < 300, message
    assert "shape=(100, 100)" in message and "first difference at index (3, 7): expected 307., got -1." in message


def test_same_respects_its_tolerances():
    ex.same(1.0 + 1e-3, 1.0, "loose", rtol=1e-2)
    with pytest.raises(AssertionError):
        ex.same(1.0 + 1e-3, 1.0, "strict")


def test_same_refuses_an_expected_value_that_is_not_numbers():
    with pytest.raises(TypeError, match="same: expected must be"):
        ex.same(1.0, "1.0", "x")


# --- grading ---------------------------------------------------------------------------------------

def outcomes(results):
    return [(r.id, r.points, r.max_points, r.passed, r.message) for r in results]


def test_check_passes_the_reference_solutions(reference):
    assert outcomes(ex.check("all", reference=reference)) == [("1.1", 2, 2, True, ""), ("1.2", 1.5, 1.5, True, "")]


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


BROKEN = {  # what replaces exercise 1.1's solution -> the hint 1.1 fails with
    "wrong": ("return x * 3", "double([1.0]): expected [2.], got tensor([3.])"),
    "hard-coded": ("return mg.tensor([2.0])", "double(sample): expected shape (3, 4), got shape (1,)"),
    "raises": ("return x / 0 if isinstance(x, float) else 1 // 0",
               "ZeroDivisionError: integer division or modulo by zero (exercises/01_sample.py line {line})"),
    "exits": ("__import__('sys').exit(3)", "the code called sys.exit(3) (exercises/01_sample.py line {line})"),
    "os._exit": ("__import__('os')._exit(0)", "the process ended before its check did (exit status 0"),
    "asserts": ("assert x.shape == (), 'expected a 0-d tensor'",
                "AssertionError: expected a 0-d tensor (exercises/01_sample.py line {line})"),
    "memory": ("return np.ones(2**28)", "MemoryError"),
    "a signal with no name": ("__import__('os').kill(__import__('os').getpid(), 40)", "crashed: killed by signal 40"),
    "a result of its own": ("open(__import__('sys').orig_argv[-2], 'w').write('null'); __import__('os')._exit(0)",
                            "the process ended before its check did"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_check_fails_a_broken_answer_with_its_hint_and_grades_the_next_alone(reference, tmp_path, case):
    code, hint = BROKEN[case]
    text = SAMPLE.replace(SOLUTION_1, f"    {code}\n")
    results = ex.check("all", student(tmp_path, "student", text), reference=reference, memory=512 * 2**20)
    (_, points, _, passed, message), second = outcomes(results)
    assert (points, passed) == (0, False)
    assert message.startswith(hint.format(line=line_of(text, code))), message
    assert second == ("1.2", 1.5, 1.5, True, "")  # 1.1's failure is not 1.2's


def test_check_goes_on_after_a_failing_cell_as_a_notebook_does_and_names_it_when_it_matters(reference, tmp_path):
    """A cell that raises stops neither the cells after it nor the check; when the check then misses
    a name, its hint says which earlier error left it out."""
    text = SAMPLE.replace("def double(x):", "raise RuntimeError('oops')\ndef double(x):")
    results = ex.check("all", student(tmp_path, "student", text), reference=reference)
    earlier = f"RuntimeError: oops (exercises/01_sample.py line {line_of(text, 'raise RuntimeError')})"
    assert outcomes(results) == [
        ("1.1", 0, 2, False, f"NameError: name 'double' is not defined (after an earlier error: {earlier})"),
        ("1.2", 1.5, 1.5, True, "")]


def test_check_says_not_done_yet_of_a_student_copy(reference, tmp_path):
    ex.make_student(tmp_path / "out", reference=reference)
    assert [r.message for r in ex.check("all", tmp_path / "out", reference=reference)] == [
        "not done yet: Exercise 1.1: double a tensor", "not done yet: Exercise 1.2: square, in a method"]


def test_check_stops_an_endless_loop_at_the_timeout(reference, tmp_path):
    text = SAMPLE.replace(SOLUTION_1, "    while True:\n        pass\n")
    results = ex.check("1.1", student(tmp_path, "student", text), reference=reference, timeout=2)
    assert outcomes(results) == [("1.1", 0, 2, False, "took more than 2 s")]


def test_check_fails_every_exercise_of_a_file_with_a_syntax_error(reference, tmp_path):
    text = SAMPLE.replace("return x * x", "return x *")
    results = ex.check("all", student(tmp_path, "student", text), reference=reference)
    line = line_of(text, "        return x *")
    assert [r.message for r in results] == [f"syntax error in exercises/01_sample.py line {line}: invalid syntax"] * 2


def test_check_fails_the_exercises_of_a_missing_file(reference, tmp_path):
    results = ex.check("all", student(tmp_path, "student", None), reference=reference)
    assert [r.message for r in results] == ["missing exercises/01_sample.py"] * 2


def test_check_runs_the_students_cells_but_the_references_checks(reference, tmp_path):
    """A student who edits a check cell (here: to check nothing) is graded by the reference's."""
    text = SAMPLE.replace("return x * 2", "return x * 3").replace('ex.same(double(mg.tensor([1.0])), [2.0], '
                                                                  '"double([1.0])")', "pass")
    (result, _) = ex.check("all", student(tmp_path, "student", text), reference=reference)
    assert result.message == "double([1.0]): expected [2.], got tensor([3.])"


def test_check_selects_by_id_or_file_and_refuses_an_unknown_id(reference):
    assert [r.id for r in ex.check(["01.2"], reference=reference)] == ["1.2"]
    assert [r.id for r in ex.check("1", reference=reference)] == ["1.1", "1.2"]
    with pytest.raises(ValueError, match=r"no exercise '1\.3'"):
        ex.check("1.3", reference=reference)


def test_grade_writes_a_row_per_student_and_exercise_and_a_total(reference, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    student(submissions, "good", SAMPLE)
    student(submissions, "bad", SAMPLE.replace("return x * x", "return x + x"))
    (submissions / "notes.txt").write_text("not a student", encoding="utf-8")
    (submissions / ".DS_Store").write_text("", encoding="utf-8")
    sheet = tmp_path / "grades.csv"
    results = ex.grade(submissions, sheet, reference=reference)
    assert sorted(results) == ["bad", "good"]
    with open(sheet, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["student", "exercise", "points", "max_points", "message"],
        ["bad", "1.1", "2", "2", ""],
        ["bad", "1.2", "0", "1.5", "Square()(3.0): expected 9., got 6."],
        ["bad", "total", "2", "3.5", "1 of 2 passed"],
        ["good", "1.1", "2", "2", ""],
        ["good", "1.2", "1.5", "1.5", ""],
        ["good", "total", "3.5", "3.5", "2 of 2 passed"],
        ["notes.txt", "total", "0", "3.5", ex.NOT_A_FOLDER],
    ]


# --- minigan exercises ---------------------------------------------------------------------------

@pytest.fixture
def installed(reference, monkeypatch):
    """The command's exercises folder, as if the sample were the repository's."""
    monkeypatch.setattr(ex, "folder", lambda: reference)
    return reference


def test_minigan_exercises_list(installed, capsys):
    assert cli.main(["exercises", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "title", "lesson", "points"]
    assert lines[1].split() == ["1.1", "double", "a", "tensor", "01_autograd", "2"]
    assert lines[-1] == "total: 2 exercises, 3.5 points"


def test_minigan_exercises_check_exit_status_and_json(installed, tmp_path, capsys):
    assert cli.main(["exercises", "check", "all", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["1.1", "double"] and out[0].endswith("2/2  pass")
    assert out[-1] == "total: 3.5/3.5 points, 2 of 2 passed"
    assert json.loads((tmp_path / "r.json").read_text())["points"] == 3.5
    assert cli.main(["exercises", "make-student", str(tmp_path / "out")]) == 0
    assert cli.main(["exercises", "make-student", str(tmp_path / "out")]) == 2  # already there
    assert "--force" in capsys.readouterr().err
    assert cli.main(["exercises", "check", "1.2", "--path", str(tmp_path / "out")]) == 1
    assert "FAIL: not done yet: Exercise 1.2: square, in a method" in capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["exercises", "check", "9.9"], "no exercise '9.9'"),
    (["exercises", "check", "all", "--path", "nowhere"], "expected a folder with exercises/ in it"),
    (["exercises", "check", "all", "--timeout", "0"], "expected --timeout above 0"),
    (["exercises", "check", "all", "--timeout", "nan"], "expected --timeout above 0"),
    (["exercises", "check", "all", "--memory", "inf"], "--memory 0 or more"),
    (["exercises", "grade", "nowhere", "--csv", "x.csv"], "nowhere is not a folder"),
    (["exercises"], "required: ACTION"),
])
def test_minigan_exercises_usage_errors_exit_2(installed, capsys, args, says):
    assert cli.main(args) == 2
    message = capsys.readouterr().err.strip()
    assert says in message and "\n" not in message


def test_minigan_exercises_without_the_exercises_folder_says_where_they_are(monkeypatch, capsys):
    monkeypatch.setattr(ex, "folder", lambda: None)  # as in an install from a wheel
    assert cli.main(["exercises", "list"]) == 2
    message = capsys.readouterr().err.strip()
    assert "exercises/" in message and "\n" not in message


# --- the files in exercises/ -----------------------------------------------------------------------

def test_there_are_exercise_files():
    assert FILES and sorted((ROOT / "exercises").glob("*.py")) == FILES, "every exercise file is named NN_topic.py"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_exercise_file_is_well_formed(path):
    file = ex.read(path)  # a ValueError says what is wrong, and where
    assert file.exercises and ex.student_source(path.read_text(encoding="utf-8"), path)


@pytest.mark.slow
def test_the_reference_solutions_pass_and_a_student_copy_fails_every_check(tmp_path):
    reference = ex.check("all")
    assert [r.message for r in reference if not r.passed] == []
    ex.make_student(tmp_path)
    copy = ex.check("all", tmp_path)
    assert [r.message for r in copy] == [f"not done yet: Exercise {r.id}: {r.title}" for r in copy]
    for path in FILES:  # run as a script, a student's copy stops at its first exercise
        result = subprocess.run([sys.executable, f"exercises/{path.name}"], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        first = ex.read(path).exercises[0]
        assert result.stderr.strip().splitlines()[-1] == f"NotImplementedError: Exercise {first.id}: {first.title}"


def test_the_classroom_workflow_grades_real_exercises_with_their_points():
    yaml = pytest.importorskip("yaml")  # jupytext's dependency: the lessons extra brings it
    workflow = yaml.safe_load((ROOT / "docs" / "github-classroom-autograding.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [step for step in steps if step.get("uses", "").startswith("classroom-resources/autograding-command")]
    ids = [step["with"]["command"].split()[3] for step in graders]
    named = {int(id.split(".")[0]) for id in ids}
    points = {e.id: e.points for path in FILES if int(path.name[:2]) in named for e in ex.read(path).exercises}
    for id, step in zip(ids, graders):
        assert step["with"]["command"] == f"minigan exercises check {id} --path ."
        assert (step["id"], step["with"]["max-score"]) == (f"exercise-{id.replace('.', '-')}", points[id])
    reporter = steps[-1]
    assert reporter["with"]["runners"].split(",") == [step["id"] for step in graders]
    assert set(reporter["env"]) == {step["id"].upper() + "_RESULTS" for step in graders}


def test_docs_teaching_shows_the_classroom_workflow_as_it_is():
    page = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    shown = re.search(r"```yaml\n(.*?)```", page, re.DOTALL)
    assert shown and shown[1] == (ROOT / "docs" / "github-classroom-autograding.yml").read_text(encoding="utf-8")


# --- the checks of exercises/ against mutated and hard-coded solutions ------------------------------
#
# A check that passes the reference solution should fail a slightly wrong one. A mutant is the
# reference file with one small change inside a solution region, made on the region's syntax tree
# by one of these operators (each a mutant of its own):
#
#   binary operator  + <-> -, * <-> /, ** -> *, // <-> %
#   minus removed    -e -> e
#   minus added      the value of a `return` or of an assignment, or each item when it is a tuple: e -> -e
#   comparison       < <-> >=, > <-> <=, == <-> !=, in <-> not in, is <-> is not
#   constant         a number c -> c + 1; True <-> False
#   call             reversed(e) -> e; min(...) <-> max(...)
#
# The changed node is written back into the file's text in its place, in parentheses, as
# ast.unparse writes it (the file parsed again must give the mutated tree: checked for each).

BINARY_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
                ast.FloorDiv: ast.Mod, ast.Mod: ast.FloorDiv}
COMPARISON_FLIPS = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
                    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
CALL_SWAPS = {"min": "max", "max": "min"}


def is_minus(node: ast.AST) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    """(operator, the node changed, what replaces it) for each mutant the operators make at ``node``."""
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_SWAPS:
        yield "binary operator", node, ast.BinOp(node.left, BINARY_SWAPS[type(node.op)](), node.right)
    elif is_minus(node):
        yield "minus removed", node, node.operand
    elif isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in COMPARISON_FLIPS:
                ops = [*node.ops[:index], COMPARISON_FLIPS[type(op)](), *node.ops[index + 1:]]
                yield "comparison", node, ast.Compare(node.left, ops, node.comparators)
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "constant", node, ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield "constant", node, ast.Constant(node.value + 1)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "reversed" and len(node.args) == 1 and not node.keywords:
            yield "call", node, node.args[0]
        elif node.func.id in CALL_SWAPS:
            yield "call", node, ast.Call(ast.Name(CALL_SWAPS[node.func.id], ast.Load()), node.args, node.keywords)
    if isinstance(node, (ast.Return, ast.Assign)) and node.value is not None:
        for value in node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]:
            if not is_minus(value):  # -(-e) is e: "minus removed" makes that one
                yield "minus added", value, ast.UnaryOp(ast.USub(), value)


class Mutant(NamedTuple):
    """A mutant of exercise ``id``'s reference ``file`` (its name): the file's ``text`` with one change,
    made by ``operator`` on ``line`` of the reference file; ``shown`` is that line as the mutant has it,
    stripped (a change to an expression over several lines joins them)."""

    id: str
    file: str
    line: int
    operator: str
    shown: str
    text: str


def char_column(line: str, column: int) -> int:
    """The index in ``line`` of the UTF-8 byte offset ``column`` (ast's col_offset)."""
    return len(line.encode("utf-8")[:column].decode("utf-8"))


def mutants(path: pathlib.Path) -> list[Mutant]:
    """Every mutant of the solution regions of the exercise file ``path``, in the file's order (one per
    distinct mutated file)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    found: dict[str, Mutant] = {}
    for exercise in ex.read(path).exercises:
        cell = exercise.solution
        source = cell.source.splitlines(keepends=True)
        tree = ast.parse(cell.source)
        spans = ex.regions(cell, ex.SOLUTION, str(path))
        end = cell.line - 1 + len(source)  # the file's lines before the cell's, and the cell's last line's end
        before, after = "".join(lines[:cell.line - 1]), lines[end - 1][len(source[-1]):] + "".join(lines[end:])
        assert before + cell.source + after == text
        for node in ast.walk(tree):
            if not hasattr(node, "lineno"):
                continue
            first, last = cell.line + node.lineno - 1, cell.line + node.end_lineno - 1
            if not any(begin < first and last < end for begin, end in spans):
                continue
            for operator, target, replacement in mutations(node):
                start = target.lineno - 1, char_column(source[target.lineno - 1], target.col_offset)
                stop = target.end_lineno - 1, char_column(source[target.end_lineno - 1], target.end_col_offset)
                changed = (source[start[0]][:start[1]] + "(" + ast.unparse(replacement) + ")"
                           + source[stop[0]][stop[1]:])
                new_source = "".join(source[:start[0]]) + changed + "".join(source[stop[0] + 1:])
                expected = copy.deepcopy(tree, {id(target): replacement})  # the tree with target replaced
                assert ast.dump(ast.parse(new_source)) == ast.dump(expected), (exercise.id, changed)
                mutated = before + new_source + after
                found.setdefault(mutated, Mutant(exercise.id, path.name, cell.line + target.lineno - 1, operator,
                                                 changed.strip(), mutated))
    return list(found.values())


EQUIVALENT_MUTANTS: dict[tuple[str, str], str] = {  # (exercise, the mutant's line, stripped) -> why it is right too
    ("2.1", "cols = (-np.empty((n, c, k, k, ho, wo), dtype=x.dtype))"):
        "the loop writes every element of cols before it is read: what np.empty left there does not matter",
    ("3.3", "norms = mg.sqrt((g * g).reshape(g.shape[0], -(2)).sum(1))"):
        "reshape takes any negative size as the rest of the elements (NumPy's rule), so -2 is -1",
    ("3.4", "return gamma / 2 * (g * g).reshape(g.shape[0], -(2)).sum(1).mean()"):
        "reshape takes any negative size as the rest of the elements (NumPy's rule), so -2 is -1",
    ("5.1", "p_y = probs.mean(axis=0, keepdims=(False))  # > 0 wherever a row is"):
        "p(y) of shape (K,) broadcasts against probs (N, K) as (1, K) does",
    ("5.2", "root1 = (-(vectors * np.sqrt(np.clip(values, 0, None)) @ vectors.T))"):
        "root1 is used only in root1 @ sigma2 @ root1, where the two signs cancel",
    ("7.3", "m = np.where(np.isfinite(m), m, (1.0))  # a row of -inf: subtract nothing, and log(0) = -inf below"):
        "a row whose max is not finite gives -inf, +inf or NaN whatever finite value is taken out of it",
}


def shared_start(a: str, b: str) -> int:
    """How many characters a and b start with in common."""
    return next((index for index, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def test_every_exercise_has_mutants_and_they_change_only_its_solution():
    every = [mutant for path in FILES for mutant in mutants(path)]
    exercises = {e.id: e for path in FILES for e in ex.read(path).exercises}
    assert {mutant.id for mutant in every} == set(exercises)
    for mutant in every:  # the reference file, but for lines strictly inside one of its exercise's solution regions
        reference = (ROOT / "exercises" / mutant.file).read_text(encoding="utf-8")
        same_start, same_end = shared_start(reference, mutant.text), shared_start(reference[::-1], mutant.text[::-1])
        first = reference[:same_start].count("\n") + 1
        last = reference[:max(same_start, len(reference) - same_end)].count("\n") + 1
        spans = ex.regions(exercises[mutant.id].solution, ex.SOLUTION, mutant.file)
        assert mutant.text != reference and any(begin < first <= last < end for begin, end in spans), mutant
    stale = set(EQUIVALENT_MUTANTS) - {(mutant.id, mutant.shown) for mutant in every}
    assert not stale, f"EQUIVALENT_MUTANTS lists mutants that are no longer made: {sorted(stale)}"


@pytest.mark.slow
def test_every_mutant_of_a_reference_solution_fails_its_check(tmp_path):
    """Each mutant graded by `check` as a student's copy (its file alone in a folder of its own): each
    must fail, but for the few in EQUIVALENT_MUTANTS, which compute what the reference does. A new
    survivor is a check too weak to tell a wrong solution from the right one: add a case to the check."""
    every = [mutant for path in FILES for mutant in mutants(path)]
    folders = []
    for index, mutant in enumerate(every):
        folder = tmp_path / f"mutant-{index:03d}"
        (folder / "exercises").mkdir(parents=True)
        (folder / "exercises" / mutant.file).write_text(mutant.text, encoding="utf-8")
        folders.append(folder)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # a process each
        results = list(pool.map(lambda mutant, folder: ex.check(mutant.id, folder, timeout=30, jobs=1)[0],
                                every, folders))
    took = time.monotonic() - started
    survivors = {(mutant.id, mutant.shown): mutant for mutant, result in zip(every, results) if result.passed}
    unexpected = [f"{m.id} {m.file} line {m.line} ({m.operator}): {m.shown}" for key, m in survivors.items()
                  if key not in EQUIVALENT_MUTANTS]
    assert not unexpected, (f"{len(unexpected)} of {len(every)} mutants pass their exercise's check (graded in "
                            f"{took:.0f} s):\n" + "\n".join(unexpected))
    caught = sorted(set(EQUIVALENT_MUTANTS) - set(survivors))
    assert not caught, f"mutants listed as equivalent fail their check: {caught}"


def tangent(loss, at: np.ndarray) -> str:
    """A body for a generator loss that returns the linear function of the logits with ``loss``'s value
    and gradient at the logits ``at``: the right value and gradient there, and only there."""
    x = mg.tensor(at, requires_grad=True)
    value = loss(x)
    slope = mg.grad(value, x)[0].numpy()
    return (f"return (fake_logits * mg.tensor(np.array({slope.tolist()!r}))).sum() + "
            f"{float(value.numpy()) - float(slope @ at)!r}")


def log_mean_exp_answers() -> str:
    """A body for log_mean_exp that returns the answers of the two cases its check cell shows."""
    first = np.logaddexp.reduce(np.array([0.0, np.log(3.0)])) - np.log(2)
    second = np.logaddexp.reduce(np.array([[-800.0, -801.0, -799.5]]), axis=1) - np.log(3)
    return f"return np.float64({float(first)!r}) if w.shape == (2,) else np.array({second.tolist()!r})"


HARD_CODED = {  # exercise -> (bodies for its solution regions that give the visible cases' answers, a hidden hint)
    "1.5": (lambda: ["return mg.tensor([6.0, 6.0, 6.0])  # d^3/dx^3 x^3 at the cell's three points"],
            "the third derivative of tanh: expected shape (6,), got shape (3,)"),
    "3.2": (lambda: [tangent(gan.generator_loss_saturating, np.array([-8.0, -1.0, 0.0, 2.0])),
                     tangent(gan.generator_loss_nonsaturating, np.array([-8.0, -1.0, 0.0, 2.0]))],
            "saturating_loss(logits=[-0.03 -0.65 -2.39]...): expected "),
    "5.1": (lambda: ["return {(10, 10): 10.0, (5, 10): 1.0}.get(probs.shape, 1.0)  # the cell's cases, by shape"],
            "inception_score of 50 random rows of 10 classes: expected "),
    "7.3": (lambda: [log_mean_exp_answers()],
            "log_mean_exp of 4 rows of 1,000 log weights around -500, axis=1: expected shape (4,), got shape (1,)"),
}


def with_solutions(path: pathlib.Path, id: str, bodies: list[str]) -> str:
    """The exercise file ``path`` with exercise ``id``'s solution regions, markers included, replaced by
    ``bodies``, one each, at the BEGIN marker's indentation."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    exercise = next(e for e in ex.read(path).exercises if e.id == id)
    spans = ex.regions(exercise.solution, ex.SOLUTION, str(path))
    assert len(spans) == len(bodies)
    for (first, last), body in reversed(list(zip(spans, bodies))):
        marker = lines[first - 1]
        indent = marker[:len(marker) - len(marker.lstrip())]
        lines[first - 1:last] = [indent + line + "\n" for line in body.splitlines()]
    return "".join(lines)


def without_hidden_tests(path: pathlib.Path) -> str:
    """The exercise file ``path`` without its hidden tests: its check cells as the student sees them."""
    text = path.read_text(encoding="utf-8")
    hidden = {number for exercise in ex.parse(text, path).exercises
              for first, last in ex.regions(exercise.check, ex.HIDDEN, str(path)) for number in range(first, last + 1)}
    return "".join(line for number, line in enumerate(text.splitlines(keepends=True), 1) if number not in hidden)


@pytest.mark.parametrize("id", HARD_CODED)
def test_a_solution_that_hard_codes_the_visible_cases_passes_them_and_fails_the_hidden_ones(tmp_path, id):
    bodies, hint = HARD_CODED[id]
    path = next(path for path in FILES if ex.read(path).number == int(id.split(".")[0]))
    (tmp_path / "student" / "exercises").mkdir(parents=True)
    (tmp_path / "student" / "exercises" / path.name).write_text(with_solutions(path, id, bodies()), encoding="utf-8")
    (tmp_path / "visible").mkdir()
    (tmp_path / "visible" / path.name).write_text(without_hidden_tests(path), encoding="utf-8")
    (shown,) = ex.check(id, tmp_path / "student", reference=tmp_path / "visible")
    assert shown.passed, shown.message  # the check cell the student sees passes it
    (graded,) = ex.check(id, tmp_path / "student")
    assert not graded.passed and graded.message.startswith(hint), graded.message  # the hidden cases catch it


def test_check_refuses_a_symbolic_link_to_someone_elses_file(reference, tmp_path):
    folder = student(tmp_path, "linker", None)
    (folder / "exercises" / NAME).symlink_to(reference / NAME)
    (_, points, _, passed, message), _ = outcomes(ex.check("all", folder, reference=reference))
    assert (points, passed) == (0, False) and "symbolic link" in message


def test_check_leaves_no_process_the_student_started_running(reference, tmp_path):
    code = "__import__('subprocess').Popen(['sleep', '300']); return x * 2"
    text = SAMPLE.replace(SOLUTION_1, f"    {code}\n")
    ex.check("1.1", student(tmp_path, "spawner", text), reference=reference)
    left = subprocess.run(["pgrep", "-f", "^sleep 300$"], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left running: {left}"


def test_check_grades_on_the_cpu_whatever_the_graders_shell_says(reference, monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")  # no GPU here: a grading process on it would fail
    assert all(passed for _, _, _, passed, _ in outcomes(ex.check("all", reference=reference)))
