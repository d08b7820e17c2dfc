"""Every lesson runs from start to end (their printed checks are read by students, not asserted)."""
import pathlib
import subprocess
import sys

import pytest

LESSONS = sorted((pathlib.Path(__file__).parent.parent / "lessons").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_runs(lesson):
    result = subprocess.run([sys.executable, str(lesson)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_there_are_lessons():
    assert LESSONS
