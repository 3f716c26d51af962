"""Docs and code in lockstep: every file, function, class and equation label that docs/*.md and
the README name exists in the code, and docs and comments write minus one way (−), so that a
rename breaks the build instead of the reader, and a reader can search from one to the other."""

import contextlib
import functools
import importlib
import io
import re
import tokenize
from pathlib import Path

import pytest
import torch
from torch.distributed.elastic.multiprocessing import api as elastic_api
from torch.distributed.elastic.multiprocessing import errors as elastic_errors
from torch.distributed.run import get_args_parser as torchrun_parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
PACKAGES = ("scratch", "compare", "tasks", "reference", "tests")
SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
TOP = ("scratch/", "compare/", "tasks/", "tests/", "docs/", "reference/", ".ci/")

# Names from outside the project that the docs mention in backticks; everything else that
# looks like a Python name must be a name in our code.
EXTERNAL = {"weights_only", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "max_memory_allocated"}
EXTERNAL |= {"GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME"}  # environment of torch.distributed


def code_spans(text: str) -> list[str]:
    """The contents of every `inline code` span and every line of every ``` block."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return inline + [line for block in blocks for line in block.splitlines()]


def names_in_code() -> set[str]:
    """Every name in our Python files: the name tokens (defined, imported, called or passed)
    and the words of string literals (cell names, formats, keys)."""
    names = set()
    for path in SOURCES:
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for tok in tokens:
            if tok.type == tokenize.NAME:
                names.add(tok.string)
            elif tok.type == tokenize.STRING:
                names |= set(re.findall(r"\w+", tok.string))
    return names


def comments_and_docstrings(path: Path) -> str:
    """The prose of a Python file: its comments and string literals."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return "\n".join(t.string for t in tokens if t.type in (tokenize.COMMENT, tokenize.STRING))


def is_torch_name(name: str) -> bool:
    places = (torch, torch.nn, torch.Tensor, torch.nn.Module, torch.nn.utils.rnn, torch.cuda)
    places += (elastic_errors, elastic_api)  # what torchrun reports (docs/scale.md)
    return any(hasattr(place, name) for place in places)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_files_the_docs_name_exist(page):
    text = page.read_text(encoding="utf-8")
    missing = []
    for span in code_spans(text):
        for token in re.findall(r"[\w./*-]+\.(?:py|md|toml)\b|[\w.-]+/(?:[\w.*-]+/?)*", span):
            if token.startswith(TOP) and "*" not in token and not (ROOT / token).exists():
                missing.append(token)
            elif token.endswith(".py") and "/" not in token and not list(ROOT.rglob(token)):
                missing.append(token)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not target.startswith("http") and not (page.parent / target).exists():
            missing.append(target)
    assert not missing, f"{page.name} names files that do not exist: {sorted(set(missing))}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_anchors_the_docs_link_to_exist(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        linked = page if not target else page.parent / target
        if not linked.exists():
            continue  # reported by the files test
        linked_text = linked.read_text(encoding="utf-8")
        ids = set(re.findall(r'<a id="([^"]+)"', linked_text))
        ids |= {slug(h) for h in re.findall(r"^#+ (.+)$", linked_text, flags=re.M)}
        if anchor not in ids:
            broken.append(f"{target}#{anchor}")
    assert not broken, f"{page.name} links to anchors that do not exist: {broken}"


def slug(heading: str) -> str:
    """A heading's anchor as Markdown renderers make it: lower case, words joined by '-'."""
    words = re.sub(r"[^\w\s-]", "", heading.lower().replace("`", ""))
    return re.sub(r"\s+", "-", words.strip())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_functions_and_classes_the_docs_name_exist(page):
    ours = names_in_code()
    missing = []
    for span in code_spans(page.read_text(encoding="utf-8")):
        match = re.fullmatch(r"([A-Za-z_][\w.]*)(\(.*\))?", span.strip())
        if not match or re.search(r"\.(png|json|jsonl|md|pt|py|csv)$", match.group(1)):
            continue  # not a name, or a file (the files test checks those)
        parts = match.group(1).split(".")
        if parts[0] in ("torch", "np", "nn", "os", "random", "F", "math"):
            continue  # torch's and the standard library's own names
        for name in parts:
            name = re.sub(r"_l\d+(_reverse)?$", "", name)  # weight_hh_l1_reverse: its kind
            looks_like_code = "_" in name.strip("_") or re.fullmatch(r"[A-Z][a-z]+[A-Z]\w*", name)
            if looks_like_code and name not in ours and name not in EXTERNAL:
                if not is_torch_name(name):
                    missing.append(span)
    assert not missing, f"{page.name} names what the code lacks: {sorted(set(missing))}"


LABEL = r"[A-Z][A-Za-z]{0,3}\d+"


def labels_in(text: str) -> set[str]:
    """Equation labels: (L6), (L2–L5), (G2, G3), from (E1), and \\tag{L6} in the docs' math.
    A range names each label in it."""
    found = set()
    groups = re.findall(rf"\(({LABEL}(?:\s*[–,-]\s*{LABEL})*)\)", text)
    for group in groups + re.findall(rf"\\tag\{{({LABEL})\}}", text):
        for first, last in re.findall(rf"({LABEL})(?:\s*–\s*({LABEL}))?", group):
            prefix = first.rstrip("0123456789")
            lo, hi = int(first[len(prefix) :]), int((last or first)[len(prefix) :])
            found |= {f"{prefix}{k}" for k in range(lo, hi + 1)}
    return found


def test_every_equation_label_of_the_docs_is_computed_in_the_code():
    in_docs = set()
    for page in PAGES:
        in_docs |= labels_in(page.read_text(encoding="utf-8"))
    in_code = set()
    for path in (ROOT / "scratch").rglob("*.py"):
        in_code |= labels_in(comments_and_docstrings(path))
    assert in_docs, "the docs name no equation labels: the pattern is broken"
    assert not in_docs - in_code, f"labels no code comment cites: {sorted(in_docs - in_code)}"
    assert not in_code - in_docs, f"labels the docs never define: {sorted(in_code - in_docs)}"


ASCII_MINUS = re.compile(r"(?<![\w-])[tkTL]-\d|\b1 - [a-zσ(]|[a-z]_\{?[tk]-1")


def test_one_minus_glyph_in_docs_and_comments():
    """Math writes t−1 and 1 − z with U+2212, in the docs and in the code's comments alike."""
    offenders = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if ASCII_MINUS.search(line) and "python -m" not in line:
                offenders.append(f"{page.name}:{n}: {line.strip()}")
    for path in (ROOT / "scratch").rglob("*.py"):
        for line in comments_and_docstrings(path).splitlines():
            if ASCII_MINUS.search(line):
                offenders.append(f"{path.name}: {line.strip()}")
    assert not offenders, "ASCII '-' used as a minus sign:\n" + "\n".join(offenders)


def cli_modules() -> list[str]:
    """Every command line of the project, as the words after ``python -m``: compare, and each
    task of the registry (a demo of a task of several is its module and its name)."""
    from tasks.registry import TASKS

    return ["compare", *(entry.run for entry in TASKS.values())]


@functools.cache
def help_text(module: str, command: str | None) -> str:
    """What ``python -m module [command] --help`` prints, from the module's own main();
    ``module`` may name a demo after the module (``tasks.patterns seq2seq``)."""
    name, *words = module.split()
    package = importlib.import_module(name)
    main = getattr(package, "main", None) or importlib.import_module(f"{name}.cli").main
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([*words, *([command] if command else []), "--help"])
    return out.getvalue()


def commands_of(module: str) -> list[str]:
    """The subcommands that the top-level help lists, e.g. {train,sample}."""
    found = re.search(r"\{([\w,-]+)\}", help_text(module, None))
    return found.group(1).split(",") if found else []


def split_command(module: str, rest: str, modules: list[str]) -> tuple[str | None, list[str]]:
    """(the command line of ``modules`` that ``python -m module rest`` runs, or None; the words
    after it): ``tasks.patterns seq2seq train --x`` is ``tasks.patterns seq2seq``'s."""
    words = [module, *rest.split()]
    for known in sorted(modules, key=len, reverse=True):
        if words[: len(known.split())] == known.split():
            return known, words[len(known.split()) :]
    return None, []


# `python -m MODULE ...`, or `torchrun [its flags] -m MODULE ...`: the flags after MODULE are ours
COMMAND_LINE = r"(?:python|torchrun)\b[^|;&#\n]*?\s-m ([\w.]+)((?:\s+[^|;&#]*)?)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_command_lines_the_docs_show_take_those_flags(page):
    modules, wrong = cli_modules(), []
    every_help = "".join(help_text(m, c) for m in modules for c in [None, *commands_of(m)])
    every_help += torchrun_parser().format_help()  # `--nnodes`: torchrun's own flags
    for span in code_spans(page.read_text(encoding="utf-8")):
        for found, rest in re.findall(COMMAND_LINE, span):
            module, words = split_command(found, rest, modules)
            if module is None:
                continue
            command = words[0] if words and words[0] in commands_of(module) else None
            shown = help_text(module, command)
            flags = [w.split("=")[0] for w in words if w.startswith("--")]
            wrong += [f"{module} {command or ''} {f}" for f in flags if f not in shown]
        alone = re.fullmatch(r"(--[\w-]+)(?: \S+)?", span.strip())  # `--flag` or `--flag N`
        if alone and alone.group(1) not in every_help:
            wrong.append(alone.group(1))
    assert not wrong, f"{page.name} shows flags the command lines do not take: {wrong}"


INCLUDE = re.compile(r'^--8<-- "([^":]+):([\w-]+)"$', flags=re.M)
SECTION_MARK = re.compile(r"^\s*# --8<-- \[(start|end):([\w-]+)\]$", flags=re.M)


def sections_in(path: Path) -> dict[str, str]:
    """The named snippet sections of a source file: name -> the lines between its markers."""
    text, found = path.read_text(encoding="utf-8"), {}
    for start in SECTION_MARK.finditer(text):
        if start.group(1) == "start":
            end = re.search(rf"^\s*# --8<-- \[end:{start.group(2)}\]$", text, flags=re.M)
            assert end, f"{path.name}: section {start.group(2)} has no end marker"
            found[start.group(2)] = text[start.end() : end.start()]
    return found


def test_code_the_docs_include_is_marked_in_the_source_and_every_mark_is_included():
    """`--8<-- "scratch/equations/lstm.py:lstm_step"` in a page shows the lines between the source's
    `# --8<-- [start:lstm_step]` and `[end:lstm_step]` (mkdocs.yml, pymdownx.snippets). Each
    include names a marked section, and each marked section is shown by some page."""
    included, missing = set(), []
    for page in PAGES:
        for path, name in INCLUDE.findall(page.read_text(encoding="utf-8")):
            included.add((path, name))
            if not (ROOT / path).exists() or name not in sections_in(ROOT / path):
                missing.append(f"{page.name}: {path}:{name}")
    marked = {(str(p.relative_to(ROOT)), n) for p in SOURCES for n in sections_in(p)}
    assert not missing, f"includes of sections the source does not mark: {missing}"
    assert not marked - included, f"marked sections no page shows: {sorted(marked - included)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_equation_of_the_math_is_shown_with_the_code_that_computes_it(page):
    """An equation tagged in a page's display math, \\tag{L6}, is followed by the code that
    computes it: the first include after that block is a section with the line `# (L6)`."""
    text, unshown = page.read_text(encoding="utf-8"), []
    for block in re.finditer(r"\$\$(.*?)\$\$", text, flags=re.S):
        tagged = set(re.findall(rf"\\tag\{{({LABEL})\}}", block.group(1)))
        after = INCLUDE.search(text, block.end())
        shown = (
            labels_in(sections_in(ROOT / after.group(1)).get(after.group(2), ""))
            if after
            else set()
        )
        unshown += sorted(tagged - shown)
    assert not unshown, f"{page.name}: equations not followed by the code computing them: {unshown}"


MATH_PAGES = ["cells.md", "layers.md", "variants.md", "minimal.md", "gradients.md"]


@pytest.mark.parametrize("page", MATH_PAGES)
def test_the_equations_of_the_math_pages_are_math_not_text(page):
    """No equation of these pages is left as an indented plain-text block: each is math."""
    text = re.sub(r"```.*?```", "", (ROOT / "docs" / page).read_text(encoding="utf-8"), flags=re.S)
    indented = re.findall(r"\n\n((?: {4}\S.*\n)+)", text)
    assert not indented, f"{page}: plain-text equation blocks: {indented}"


FIGURE = re.compile(
    r"!\[([^\]]*)\]\(([^)\s]+)\)\n(?:[ \t]*\n)?(/// caption\n.*?\n///|\*[^*]+\*)?", re.S
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_figure_has_alt_text_and_a_caption_naming_its_command(page):
    """A figure's caption is a `/// caption` block under it (or an italic paragraph right after
    it), and names the command that made the figure, so a reader can make it again."""
    bad = []
    for alt, src, caption in FIGURE.findall(page.read_text(encoding="utf-8")):
        if not alt.strip():
            bad.append(f"{src}: no alt text")
        if not re.search(r"`[^`]*(?:python -m|torchrun) [^`]*`", caption or ""):
            bad.append(f"{src}: no caption naming the command that made it")
    assert not bad, f"{page.name}: {bad}"


def test_every_committed_figure_is_shown_by_a_page():
    shown = {
        src for page in PAGES for _, src, _ in FIGURE.findall(page.read_text(encoding="utf-8"))
    }
    shown = {Path(src).name for src in shown}
    unused = [f.name for f in (ROOT / "docs" / "figures").glob("*") if f.name not in shown]
    assert not unused, f"figures no page shows: {unused}"
