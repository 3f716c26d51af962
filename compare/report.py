"""What a compare run leaves behind: a run folder with report.md, results.json and the figures.
How to read them: docs/compare.md. The terminal's tables are compare/tables.py, the figures
compare/figures.py.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

from compare.figures import figures
from compare.results import Results
from compare.tables import (
    BENCH_HEADERS,
    CUDA_HEADERS,
    EQUIV_HEADERS,
    TASK_HEADERS,
    bench_rows,
    bench_setup,
    busy_note,
    cuda_lines,
    cuda_rows,
    cuda_setup,
    equiv_rows,
    equiv_summary,
    md_table,
    task_rows,
)


def markdown(results: Results, drawn: list[str]) -> str:
    """report.md: summary, the three sections' tables, and the figures."""
    meta = results.meta
    parts = [
        "# Compare run",
        "",
        f"`{meta['command']}` at {meta['started']}, torch {meta['torch']}. "
        "How to read this report: docs/compare.md.",
        "",
    ]
    if results.matrix is not None or results.random:
        failed = len(results.failed) + len(results.failed_cuda)
        verdict = "every case passes" if not failed else f"{failed} FAIL"
        parts += ["## Equivalence", "", f"**{verdict}.**", ""]
        parts += [f"- {line}" for line in equiv_summary(results.matrix or [], "matrix")]
        parts += [f"- {line}" for line in equiv_summary(results.random, "random")]
        if "equiv_heatmap.png" in drawn:
            parts += ["", "![scaled errors](equiv_heatmap.png)"]
        if results.matrix:
            parts += ["", md_table(EQUIV_HEADERS, equiv_rows(results.matrix))]
        if results.random:
            parts += ["", "![random configurations](equiv_random.png)", "", "<details>"]
            parts += ["<summary>every random configuration</summary>", ""]
            parts += [md_table(EQUIV_HEADERS, equiv_rows(results.random)), "", "</details>"]
        parts += ["", "### CUDA", ""] + [f"- {line}" for line in cuda_lines(results)]
        if results.cuda:
            parts += [
                "",
                f"{cuda_setup(results)}.",
                "",
                md_table(CUDA_HEADERS, cuda_rows(results.cuda)),
            ]
    if results.bench is not None:
        parts += ["", "## Benchmark", "", f"{bench_setup(results)}.", ""]
        parts += [md_table(BENCH_HEADERS, bench_rows(results.bench))]
        parts += ["", note] if (note := busy_note(meta)) else []
        if "bench_time.png" in drawn:
            parts += ["", "![time](bench_time.png)", "", "![memory](bench_memory.png)"]
    if results.tasks is not None:
        parts += ["", "## Tasks", "", md_table(TASK_HEADERS, task_rows(results.tasks))]
        if "task_losses.png" in drawn:
            parts += ["", "![loss curves](task_losses.png)"]
    return "\n".join(parts) + "\n"


def as_json(results: Results, drawn: list[str]) -> dict:
    def rows(items):
        return None if items is None else [item.as_dict() for item in items]

    return {
        "meta": results.meta,
        "passed": not (results.failed or results.failed_cuda),
        "equivalence": {
            "matrix": rows(results.matrix),
            "random": rows(results.random),
            "cuda": rows(results.cuda),  # null: no GPU here, the CUDA rows were not run
        },
        "benchmark": rows(results.bench),
        "tasks": rows(results.tasks),
        "figures": drawn,
    }


# ---------------------------------------------------------------------------------------------
# the run folder, written whole


def start(out: Path) -> Path:
    """Make the hidden folder beside ``out`` that this run's files are written into, and clear
    those that earlier runs, killed, left behind. ``OSError`` if it cannot be made there;
    ``ValueError`` if ``out`` is a file, or a folder that holds anything but a compare report
    (``publish`` replaces it whole)."""
    if out.exists() and not _is_report_folder(out):
        what = "is a file" if not out.is_dir() else "holds files that are not a compare report"
        raise ValueError(f"--out {out} {what}; choose a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}.*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))


def _is_report_folder(out: Path) -> bool:
    if not out.is_dir():
        return False
    if not any(out.iterdir()):
        return True
    try:
        saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and {"meta", "equivalence"} <= saved.keys()


def write(results: Results, folder: Path) -> list[str]:
    """Write report.md, results.json and the figures into ``folder``; return the file names."""
    drawn = figures(results, folder)
    (folder / "report.md").write_text(markdown(results, drawn), encoding="utf-8")
    text = json.dumps(as_json(results, drawn), indent=1, allow_nan=False)
    (folder / "results.json").write_text(text + "\n", encoding="utf-8")
    return ["report.md", "results.json", *drawn]


def publish(folder: Path, out: Path) -> None:
    """Put the finished ``folder`` in ``out``'s place: the previous report (if any) goes whole,
    so no figure of an earlier run is left beside the new report."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
        os.replace(out, old / out.name)
    os.replace(folder, out)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(folder: Path) -> None:
    """Remove an unfinished run folder."""
    shutil.rmtree(folder, ignore_errors=True)
