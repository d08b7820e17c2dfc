"""The formula audit (docs/formulas.md) cannot drift from the code: every function it names exists,
every test it names is collected, every lesson it names is a file, and every row has a verdict."""
import ast
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parent.parent
AUDIT = ROOT / "docs" / "formulas.md"
COLUMNS = ["id", "quote", "meaning", "verdict", "where", "test", "lesson"]
VERDICTS = ("Correct", "Wrong", "Partly wrong", "Cannot run", "Not implemented", "Half right", "Loose",
            "Unsupported", "Generic", "Vague but fine", "Runs, but", "Wrong name", "Wrong sign", "Wrong weights",
            "Wrong about its own code")


def audit_rows():
    """Each row of the audit's tables as {column: cell}."""
    rows = []
    for line in AUDIT.read_text(encoding="utf-8").splitlines():
        if not re.match(r"\| A00\d-\d+ \|", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == len(COLUMNS), f"{cells[0]}: {len(cells)} cells, expected {len(COLUMNS)}"
        rows.append(dict(zip(COLUMNS, cells)))
    return rows


def named(cell):
    """The `code` names in a cell."""
    return re.findall(r"`([^`]+)`", cell)


def collected_tests(path):
    """The test functions pytest collects from a test file: its top-level ``test_*`` functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


ROWS = audit_rows()


def test_every_article_has_rows_with_unique_ids_in_order():
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids))
    for article in range(5):
        numbers = [int(i.split("-")[1]) for i in ids if i.startswith(f"A00{article}-")]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 10, article


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_each_row_has_a_quote_a_meaning_and_a_verdict(row):
    assert row["quote"] and row["meaning"]
    assert row["verdict"].startswith(VERDICTS), row["verdict"]
    # "Not implemented" and "Cannot run" say why; a row implemented somewhere names where
    if row["verdict"].startswith("Not implemented"):
        assert "because" in row["verdict"] or "cannot" in row["verdict"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_function_test_and_lesson_the_row_names_exists(row):
    for name in named(row["where"]):
        module_name, _, attribute = name.partition(":")
        obj = importlib.import_module(module_name)
        for part in attribute.split("."):
            assert hasattr(obj, part), f"{row['id']}: {name} does not exist"
            obj = getattr(obj, part)
    for name in named(row["test"]):
        path, _, function = name.partition("::")
        assert re.fullmatch(r"tests/test_\w+\.py", path), name
        assert function in collected_tests(ROOT / path), f"{row['id']}: {name} is not collected"
    for name in named(row["lesson"]):
        assert (ROOT / name).is_file(), f"{row['id']}: {name} is not a lesson"
    if named(row["where"]) and not row["verdict"].startswith("Generic"):
        assert named(row["test"]), f"{row['id']} names where it is implemented but no test"


def test_each_wrong_form_in_minigan_gan_articles_has_a_row():
    from minigan.gan import articles

    public = {name for name, obj in vars(articles).items() if callable(obj) and getattr(obj, "__module__", "") ==
              articles.__name__ and not name.startswith("_")}
    in_audit = {name.partition(":")[2] for row in ROWS for name in named(row["where"])
                if name.startswith("minigan.gan.articles:")}
    assert public and public == in_audit
    for name in public:  # each docstring links its audit row, which names it
        ids = re.findall(r"A00\d-\d+", getattr(articles, name).__doc__)
        assert ids and all(any(row["id"] == i and name in row["where"] for row in ROWS) for i in ids), name
