"""The notebooks: one per chapter of the learning path, in the site's nav, each pointing to its
page and ending with its chapter's exercises, whose blanks are the checker's own. CI runs every
notebook when it builds the site (NOTEBOOKS_EXECUTE=true, mkdocs.yml); tests/test_site.py opens
the pages they become."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from learn.exercises import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
# the nav's sections that hold the learning path's chapters; a page of theirs is a chapter,
# unless it is a how-to named here with the reason it has no lesson to run
PATH_SECTIONS = ("The cells", "Proving equality", "The tasks", "Beyond torch.nn")
NOT_CHAPTERS = {"adding-a-cell.md": "a contributor's checklist of the files a new cell touches"}


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's loader: ``!ENV [NAME, default]`` read as its default."""


_Loader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])


def nav() -> list:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)["nav"]


def pages(entries) -> list[str]:
    """Every file a part of the nav names, in order."""
    found = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += pages(value) if isinstance(value, list) else [value]
    return found


def section(name: str) -> list:
    return next(e[name] for e in nav() if isinstance(e, dict) and name in e)


def chapter_pages() -> list[str]:
    """The chapters' pages: the learning path's sections, and a start page wherever it is."""
    chapters = [p for s in PATH_SECTIONS for p in pages(section(s)) if p not in NOT_CHAPTERS]
    return ["start.md"] * ("start.md" in pages(nav())) + chapters


def notebook_of(page: str) -> Path | None:
    """The notebook whose opening cell says it is the lesson beside ``docs/<page>``."""
    for notebook in NOTEBOOKS:
        opening = notebook.read_text(encoding="utf-8").split("# %%")[1]
        if f"`docs/{page}`" in opening:
            return notebook
    return None


def test_one_notebook_per_chapter_in_the_order_of_the_path():
    assert [n.stem for n in NOTEBOOKS] == [f"{k:02d}_{c}" for k, c in enumerate(CHAPTERS, 1)]


@pytest.mark.parametrize("page", chapter_pages())
def test_every_chapter_in_the_nav_has_its_notebook_in_the_nav(page):
    notebook = notebook_of(page)
    assert notebook is not None, f"no notebook says it is the lesson beside docs/{page}"
    assert f"notebooks/{notebook.name}" in pages(section("Notebooks"))


def test_the_nav_lists_every_notebook_and_the_index():
    listed = pages(section("Notebooks"))
    assert listed == ["notebooks.md", *(f"notebooks/{n.name}" for n in NOTEBOOKS)]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_each_exercise_ends_its_chapters_notebook_with_the_checkers_blank(name):
    exercise = EXERCISES[name]
    notebook = (
        ROOT / "notebooks" / f"{CHAPTERS.index(exercise.chapter) + 1:02d}_{exercise.chapter}.py"
    )
    text = notebook.read_text(encoding="utf-8")
    blank = exercise.blank_source().split("\n\n\n", 1)[1]
    assert blank in text, f"{notebook.name} does not hold the blank of {name} as learn prints it"
    assert f"learn.check({name})" in text
    solution = re.search(r"<details>.*?</details>", text[text.index(blank) :], flags=re.S)
    assert solution and f"python -m learn solution {name}" in solution.group()
    lesson = text[: text.index("## Exercise:")]
    assert "## Exercise:" not in lesson and "def " + name not in lesson


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda n: n.name)
def test_a_notebook_is_a_percent_format_file_that_parses(notebook):
    text = notebook.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # "), "open with the lesson's title"
    ast.parse(text)
