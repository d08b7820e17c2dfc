"""The lessons run, as scripts, in a real Jupyter kernel and through `minigan lesson`, and every lesson
asserts what it says, so that running them is testing them. Also `minigan.lessons` itself: its
cell parser, its options and its stepper."""
import io
import os
import pathlib
import re
import subprocess
import sys
import types

import pytest

from minigan import cli, lessons

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = lessons.every_lesson(ROOT / "lessons")
# Lessons that take more than ~10 s even in fast mode: they train.
SLOW = {"06_mode_collapse", "07_vae", "09_article003_mlp_gan", "10_article000_atgan",
        "11_article001_gradient_penalty", "12_conditional_and_infogan", "13_gan_versus_vae"}
AUDIT_ID = re.compile(r"\bA\d{3}-\d+\b")  # a row of docs/formulas.md, e.g. A003-14


def by_speed(lesson: pathlib.Path):
    return pytest.param(lesson, id=lesson.name, marks=[pytest.mark.slow] if lesson.stem in SLOW else [])


def test_there_are_lessons():
    assert LESSONS and sorted((ROOT / "lessons").glob("*.py")) == LESSONS, "every lesson is named NN_name.py"


@pytest.mark.parametrize("lesson", [by_speed(lesson) for lesson in LESSONS])
def test_lesson_runs_as_a_script_in_fast_mode(lesson, tmp_path):
    result = subprocess.run([sys.executable, str(lesson), "--fast"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.slow
def test_every_lesson_runs_as_a_notebook_in_the_venvs_kernel(tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")  # the lessons extra: CI installs it
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("MINIGAN_FAST", "1")  # the kernel inherits this process's environment
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")  # python3 from this environment, not a user-wide kernel
    drawn = 0
    for lesson in LESSONS:
        notebook = jupytext.read(lesson)
        notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
        nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600,
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        assert notebook.cells[-1].outputs[0]["text"].strip() == sys.prefix, "the kernel is not this venv's Python"
        outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
        named = sum(o["text"].count("Figure: ") for o in outputs if o["output_type"] == "stream")
        images = sum(any(kind in o["data"] for kind in ("image/png", "image/gif"))
                     for o in outputs if o["output_type"] == "display_data")
        assert images == named, f"{lesson.name}: lessons.show names {named} figures, the notebook draws {images}"
        drawn += images
    assert drawn and (tmp_path / "lesson_figures").is_dir()  # drawn, and saved in the kernel's working directory


def markdown_of(lesson: pathlib.Path) -> str:
    return "\n".join(cell.source for cell in lessons.parse_cells(lesson.read_text(encoding="utf-8"))
                     if cell.kind == "markdown")


def audit_rows() -> dict[str, str]:
    """docs/formulas.md's rows: id -> the row's last column, the lesson that shows it."""
    rows = {}
    for line in (ROOT / "docs" / "formulas.md").read_text(encoding="utf-8").splitlines():
        if AUDIT_ID.match(line.removeprefix("| ")):
            rows[line.split(" | ")[0].removeprefix("| ")] = line.rstrip(" |").rsplit("|", 1)[-1]
    return rows


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_mentions_its_audit_rows_and_only_real_ones(lesson):
    rows = audit_rows()
    mentioned = set(AUDIT_ID.findall(markdown_of(lesson)))
    assert mentioned <= set(rows), f"not in docs/formulas.md: {sorted(mentioned - set(rows))}"
    shown_here = {row for row, column in rows.items() if f"lessons/{lesson.name}" in column}
    assert shown_here <= mentioned, f"docs/formulas.md says {lesson.name} shows {sorted(shown_here - mentioned)}"


def test_every_lesson_has_a_title():
    for lesson in LESSONS:
        assert lessons.title(lesson).startswith(f"Lesson {int(lesson.name[:2])}: ")


# --- the minigan lesson command --------------------------------------------------------------------

def minigan(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minigan", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def test_minigan_lesson_lists_every_lesson(tmp_path):
    result = minigan("lesson", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [p.stem for p in LESSONS]
    assert lessons.title(LESSONS[0]) in result.stdout


def test_minigan_lesson_runs_straight_through_when_stdin_is_not_a_terminal(tmp_path):
    result = minigan("lesson", "4", "--seed", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Lesson 4:" in result.stdout and "Enter" not in result.stdout  # the text shown, no prompt
    assert "bound L_I" in result.stdout  # the last cell's output: it ran to the end


def test_minigan_lesson_passes_fast_and_seed_on_through_the_environment(monkeypatch):
    for name in ("MINIGAN_FAST", "MINIGAN_SEED"):
        monkeypatch.setenv(name, "0")  # restored after the test, whatever the command sets
    seen = {}

    def step_through(path, input):
        seen.update(path=path, input=input, fast=os.environ["MINIGAN_FAST"], seed=os.environ["MINIGAN_SEED"])
        return 0

    monkeypatch.setattr(lessons, "step_through", step_through)
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: no waiting
    assert cli.main(["lesson", "6", "--fast", "--seed", "5"]) == 0
    assert seen == {"path": lessons.find(LESSONS[0].parent, 6), "input": None, "fast": "1", "seed": "5"}


def test_minigan_lesson_without_the_lessons_folder_says_where_they_are(monkeypatch, capsys):
    monkeypatch.setattr(lessons, "folder", lambda: None)  # as in an install from a wheel
    assert cli.main(["lesson", "1"]) == 2
    message = capsys.readouterr().err.strip()
    assert "lessons/" in message and "\n" not in message


def test_minigan_lesson_of_an_unknown_number_is_a_usage_error(capsys):
    assert cli.main(["lesson", "99"]) == 2
    assert "minigan lesson" in capsys.readouterr().err


# --- minigan.lessons: parsing, options, stepping ---------------------------------------------------

EXAMPLE = """\
import sys

# %% [markdown]
# # Lesson 0: a title
#
#   indented text

# %%
shared = "first"
print(shared.upper())

# %%
print(shared.upper(), "SECOND")
"""


def test_parse_cells_reads_the_percent_format():
    cells = lessons.parse_cells(EXAMPLE)
    assert [(c.kind, c.line) for c in cells] == [("code", 1), ("markdown", 4), ("code", 9), ("code", 13)]
    assert cells[1].source == "# Lesson 0: a title\n\n  indented text"  # "# " stripped, the rest kept
    assert cells[2].source == 'shared = "first"\nprint(shared.upper())'


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "00_example.py"
    path.write_text(EXAMPLE, encoding="utf-8")
    return path


def test_step_through_waits_for_enter_before_each_code_cell(example, capsys):
    asked = []

    def fake_input(prompt: str) -> str:
        asked.append(capsys.readouterr().out)  # what was on screen when the stepper asked
        return ""

    assert lessons.step_through(example, input=fake_input) == 0
    assert len(asked) == 3  # one question per code cell, after its code and before its output
    assert "a title" in asked[1] and 'shared = "first"' in asked[1] and "FIRST" not in asked[1]
    assert "FIRST" in asked[2] and "FIRST SECOND" not in asked[2]
    assert "FIRST SECOND" in capsys.readouterr().out  # the cells share one namespace


def test_step_through_quits_on_q(example, capsys):
    answers = iter(["", "", "q"])
    assert lessons.step_through(example, input=lambda prompt: next(answers)) == 0
    out = capsys.readouterr().out
    assert "Stopped." in out and "FIRST" in out and "FIRST SECOND" not in out


def test_step_through_stops_at_a_failing_cell_with_its_traceback(tmp_path, capsys):
    path = tmp_path / "00_broken.py"
    path.write_text("# %%\nx = 1\n\n# %%\nassert x == 2, 'x is not 2'\n\n# %%\nprint('never')\n", encoding="utf-8")
    assert lessons.step_through(path, input=None) == 1
    captured = capsys.readouterr()
    assert f'File "{path}", line 5' in captured.err and "x is not 2" in captured.err
    assert "never" not in captured.out


def test_options_from_the_command_line_then_the_environment(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # a script, not a kernel
    monkeypatch.setattr(sys, "argv", ["lesson.py"])
    monkeypatch.delenv("MINIGAN_FAST", raising=False)
    monkeypatch.delenv("MINIGAN_SEED", raising=False)
    figures = pathlib.Path("lesson_figures/09_x")
    assert lessons.options("09_x", seed=4) == lessons.Options(fast=False, seed=4, out=figures)
    monkeypatch.setenv("MINIGAN_FAST", "1")
    monkeypatch.setenv("MINIGAN_SEED", "7")
    assert lessons.options("09_x", seed=4) == lessons.Options(fast=True, seed=7, out=figures)
    monkeypatch.setattr(sys, "argv", ["lesson.py", "--seed", "8", "--out", "figs"])
    assert lessons.options("09_x") == lessons.Options(fast=True, seed=8, out=pathlib.Path("figs"))


def test_options_save_lays_out_saves_closes_and_shows_a_figure(tmp_path, capsys, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # a script: the path printed, nothing drawn

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = lessons.Options(fast=True, seed=0, out=tmp_path / "figures").save(fig, "line.png")
    assert path == tmp_path / "figures" / "line.png" and path.read_bytes().startswith(b"\x89PNG")
    assert not plt.fignum_exists(fig.number)
    assert capsys.readouterr().out == f"Figure: {path}\n"


def test_a_lessons_run_folder_has_no_earlier_checkpoint_in_it(tmp_path):
    opts = lessons.Options(fast=True, seed=0, out=tmp_path / "figures")
    assert opts.run_folder("toy") == str(tmp_path / "figures" / "toy")  # none there yet: nothing to remove
    run = tmp_path / "figures" / "toy"
    run.mkdir(parents=True)
    (run / "last.npz").write_bytes(b"an earlier pass")
    (run / "losses.png").write_bytes(b"kept")
    assert opts.run_folder("toy") == str(run)
    assert sorted(p.name for p in run.iterdir()) == ["losses.png"]


def test_options_in_a_kernel_ignore_the_kernels_own_arguments(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # as if in a kernel
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "kernel-1.json", "--seed", "5"])
    monkeypatch.setenv("MINIGAN_FAST", "1")
    assert lessons.options("09_x") == lessons.Options(fast=True, seed=5, out=pathlib.Path("lesson_figures/09_x"))


def test_parse_cells_reads_jupytexts_cell_metadata():
    text = ('# %% [markdown] tags=["intro"] slideshow={"slide_type": "slide"}\n# # Title\n\n'
            '# %% nbgrader={"grade": true, "grade_id": "exercise-1-1-check", "points": 2}\nx = 1\n\n# %%\ny = 2\n')
    cells = lessons.parse_cells(text)
    assert [(c.kind, c.source, c.line) for c in cells] == [("markdown", "# Title", 2), ("code", "x = 1", 5),
                                                           ("code", "y = 2", 8)]
    assert cells[0].metadata == {"tags": ["intro"], "slideshow": {"slide_type": "slide"}}
    assert cells[1].metadata == {"nbgrader": {"grade": True, "grade_id": "exercise-1-1-check", "points": 2}}
    assert cells[2].metadata == {}


@pytest.mark.parametrize("marker", ["# %% a title", "# %% key={not json}", "# %% a=1b=2", "# %% [md]"])
def test_parse_cells_refuses_metadata_it_cannot_read_naming_the_line(marker):
    with pytest.raises(ValueError, match=r"^parse_cells: line 3: "):
        lessons.parse_cells(f"x = 1\n\n{marker}\ny = 2\n")


def test_parse_cells_leaves_lines_that_only_look_like_markers_in_the_cell():
    cells = lessons.parse_cells("# %%\n# %%time is not a marker\nx = 1\n")
    assert [c.source for c in cells] == ["# %%time is not a marker\nx = 1"]
