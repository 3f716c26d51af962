"""What a compare run leaves behind: the terminal tables, and a run folder with report.md,
results.json and the figures. How to read them: docs/compare.md.

Each section (equivalence, benchmark, tasks) becomes one list of rows of strings, rendered
twice: as aligned text for the terminal and as a markdown table for report.md.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from compare.bench import IMPLS as BENCH_IMPLS
from compare.bench import MEMORY_TARGET, REFERENCE, BenchResult
from compare.equiv import KINDS, EquivRow
from compare.tasks_check import IMPLS as TASK_IMPLS
from compare.tasks_check import TaskResult

TOLERANCES = {"float64": 1e-10, "float32": 1e-5}  # CONTRACT.md's, for labels: the harness decides
ERROR_FLOOR = 1e-18  # an exact match is drawn at this error in the heat map


@dataclass
class Results:
    """Everything one run measured; a section that was not run stays None."""

    meta: dict
    matrix: list[EquivRow] | None = None
    random: list[EquivRow] = field(default_factory=list)
    bench: list[BenchResult] | None = None
    tasks: list[TaskResult] | None = None

    @property
    def equiv_rows(self) -> list[EquivRow]:
        return (self.matrix or []) + self.random

    @property
    def failed(self) -> list[EquivRow]:
        return [row for row in self.equiv_rows if not row.passed]


# ---------------------------------------------------------------------------------------------
# tables: rows of strings, rendered as text or markdown


def text_table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Columns padded to their widest cell; the first `left` columns (names) left-aligned, the
    others (numbers) right-aligned."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        padded = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(c.strip() for c in r) + " |" for r in rows])


def _sci(x: float | None) -> str:
    return "–" if x is None else f"{x:.1e}"


EQUIV_HEADERS = ["case", *(k.replace("grad ", "d ") for k in KINDS), "result"]


def equiv_rows(rows: list[EquivRow]) -> list[list[str]]:
    """One row per case: the largest scaled error of each tensor kind; '!' marks a failure."""
    table = []
    for row in rows:
        cells = [
            _sci(row.kind_errors.get(k)) + ("!" if k in row.failed_kinds else " ") for k in KINDS
        ]
        table.append([row.entry.label(), *cells, "pass" if row.passed else "FAIL"])
    return table


def equiv_summary(rows: list[EquivRow], what: str) -> list[str]:
    """One line per dtype: cases passed and the largest scaled error against the tolerance."""
    lines = []
    for dtype, tol in TOLERANCES.items():
        subset = [r for r in rows if r.entry.case.dtype == dtype]
        if subset:
            passed = sum(r.passed for r in subset)
            worst = max(r.result.worst for r in subset)
            lines.append(
                f"{what}, {dtype}: {passed}/{len(subset)} cases pass; largest scaled error "
                f"{worst:.1e} (tolerance {tol:.0e})"
            )
    return lines


BENCH_HEADERS = [
    "cell",
    "size",
    "implementation",
    "median ms",
    "IQR ms",
    "ratio",
    "target",
    "peak MiB",
    "mem ratio",
    "targets",
]


def _verdict(met: bool | None, what: str) -> str:
    return "" if met is None else f"{what} {'met' if met else 'MISSED'}"


def bench_rows(results: list[BenchResult]) -> list[list[str]]:
    """Three rows per cell and size; targets (time ratio, memory ratio) on the scratch manual row."""
    table = []
    for res in results:
        ref_peak = res.impls[REFERENCE].peak_mib
        for name in BENCH_IMPLS:
            r = res.impls[name]
            q1, q3 = r.iqr_ms
            manual = name == "scratch manual"
            target = res.time_target if manual else None
            verdicts = [_verdict(res.time_met, "time"), _verdict(res.memory_met, "memory")]
            table.append(
                [
                    res.cell if manual else "",
                    res.size if manual else "",
                    name,
                    f"{r.median_ms:.1f}",
                    f"{q1:.1f}–{q3:.1f}",
                    f"{r.ratio:.3f}",
                    "" if target is None else f"≤{target:g}",
                    f"{r.peak_mib:.1f}",
                    f"{r.peak_mib / ref_peak:.2f}" if ref_peak > 0 else "–",
                    ", ".join(v for v in verdicts if v) if manual else "",
                ]
            )
    return table


TASK_HEADERS = [
    "task",
    "status",
    "steps",
    "max Δ loss",
    "final loss (scratch / reference)",
    "seconds (scratch / reference)",
]


def task_rows(results: list[TaskResult]) -> list[list[str]]:
    """One row per task: the largest step-by-step loss difference scratch vs reference."""
    table = []
    for res in results:
        if not res.available:
            table.append([res.task, f"not available ({res.unavailable})", "", "", "", ""])
            continue
        finals = " / ".join(
            f"{res.losses[i][-1]:.4f}" if res.losses[i] else "–" for i in TASK_IMPLS
        )
        seconds = " / ".join(f"{res.seconds[i]:.1f}" for i in TASK_IMPLS)
        steps = str(len(res.losses[TASK_IMPLS[0]]))
        table.append([res.task, "ran", steps, f"{res.max_difference:.1e}", finals, seconds])
    return table


def bench_setup(results: Results) -> str:
    """The conditions the timings were taken under, in one line."""
    meta = results.meta
    return (
        f"float32, fwd+bwd, threads: {meta['threads']}, OMP_WAIT_POLICY: {meta['omp_wait_policy']}"
    )


def busy_note(meta: dict) -> str | None:
    """A warning when other processes already kept the cores busy as the run began."""
    load, cpus = meta["load_average"], meta["cpus"]
    if load < cpus:
        return None
    return (
        f"note: load average {load:.1f} on {cpus} cores when the run began: other processes "
        "compete for the cores, so the timings are slower and noisier than on an idle machine"
    )


# ---------------------------------------------------------------------------------------------
# the terminal


def terminal(results: Results) -> str:
    """The tables and summary lines printed at the end of a run."""
    parts = []
    if results.matrix is not None:
        parts += ["EQUIVALENCE (scaled error = max|ours − ref| / max(1, max|ref|))"]
        parts += [text_table(EQUIV_HEADERS, equiv_rows(results.matrix))]
        parts += equiv_summary(results.matrix, "matrix")
    if results.random:
        parts += equiv_summary(results.random, f"{len(results.random)} random configurations")
        failed = [r for r in results.random if not r.passed]
        if failed:
            parts += [
                "failing random configurations:",
                text_table(EQUIV_HEADERS, equiv_rows(failed)),
            ]
    if results.bench is not None:
        parts += ["", f"BENCHMARK ({bench_setup(results)}; ratio = time / torch.nn)"]
        if results.bench:
            parts += [text_table(BENCH_HEADERS, bench_rows(results.bench), left=3)]
            parts += [note for note in [busy_note(results.meta)] if note]
        else:
            parts += ["(no benchmarked cell among --cells)"]
    if results.tasks is not None:
        parts += ["", "TASKS (scratch vs reference from one seed; Δ loss = |scratch − reference|)"]
        parts += [text_table(TASK_HEADERS, task_rows(results.tasks), left=2)]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# figures


def heatmap(rows: list[EquivRow], path: Path) -> None:
    """log10 of the scaled error, cases × tensor kinds, one panel per dtype; ✗ marks a failure."""
    dtypes = [d for d in TOLERANCES if any(r.entry.case.dtype == d for r in rows)]
    n_rows = max(sum(r.entry.case.dtype == d for r in rows) for d in dtypes)
    fig = Figure(figsize=(6.5 * len(dtypes), 1.8 + 0.15 * n_rows))
    axes = fig.subplots(1, len(dtypes), squeeze=False)
    cmap = colormaps["viridis"].with_extremes(bad="lightgrey")
    for ax, dtype in zip(axes[0], dtypes, strict=True):
        subset = [r for r in rows if r.entry.case.dtype == dtype]
        grid = np.array(
            [[r.kind_errors.get(k, math.nan) for k in KINDS] for r in subset], dtype=float
        )
        image = ax.imshow(
            np.log10(np.maximum(grid, ERROR_FLOOR)),
            cmap=cmap,
            vmin=-18,
            vmax=0,
            aspect="auto",
            interpolation="nearest",
        )
        for i, r in enumerate(subset):
            for j, k in enumerate(KINDS):
                if k in r.failed_kinds:
                    ax.text(j, i, "✗", ha="center", va="center", color="red", fontsize=7)
        labels = [f"{r.entry.cell} {r.entry.config} {r.entry.case.bptt}" for r in subset]
        ax.set_yticks(range(len(subset)), labels, fontsize=6)
        ax.set_xticks(range(len(KINDS)), KINDS, rotation=45, ha="right", fontsize=8)
        ax.set_title(f"{dtype}: log10 scaled error (tolerance {TOLERANCES[dtype]:.0e})")
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.ax.axhline(math.log10(TOLERANCES[dtype]), color="red", linewidth=2)
    fig.text(
        0.01,
        0.005,
        "red line on the colour bar: tolerance; ✗: over tolerance; grey: the case has no such "
        f"tensor; an exact match is drawn at {ERROR_FLOOR:.0e}",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    fig.savefig(path, dpi=110)


def random_errors(rows: list[EquivRow], path: Path) -> None:
    """The worst scaled error of each random configuration, sorted, against the tolerance."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for dtype, tol in TOLERANCES.items():
        worst = sorted(r.result.worst for r in rows if r.entry.case.dtype == dtype)
        if worst:
            line = ax.plot(np.maximum(worst, ERROR_FLOOR), ".", label=f"{dtype} ({len(worst)})")
            ax.axhline(tol, color=line[0].get_color(), linestyle="--", linewidth=1)
    ax.set(
        yscale="log",
        xlabel="configuration (sorted by error)",
        ylabel="largest scaled error over all tensors",
        title=f"Random configurations (dashed: tolerance; exact match drawn at {ERROR_FLOOR:.0e})",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _target_level(r: BenchResult, memory: bool) -> float | None:
    """Where scratch manual must stay below: the ratio target × torch.nn's value."""
    ref = r.impls[REFERENCE]
    if memory:
        return None if r.memory_met is None else MEMORY_TARGET * ref.peak_mib
    return None if r.time_target is None else r.time_target * ref.median_ms


def bench_bars(results: list[BenchResult], path: Path, memory: bool) -> None:
    """Per size one panel: per cell a bar per implementation (median time with its IQR, or peak
    memory). Over scratch manual: its ratio to torch.nn, and a black dash at its target."""
    sizes = list(dict.fromkeys(r.size for r in results))
    fig = Figure(figsize=(4.5 * len(sizes), 4.2))
    axes = fig.subplots(1, len(sizes), squeeze=False)
    width = 0.27
    for ax, size in zip(axes[0], sizes, strict=True):
        subset = [r for r in results if r.size == size]
        for k, name in enumerate(BENCH_IMPLS):
            xs = np.arange(len(subset)) + (k - 1) * width
            impls = [r.impls[name] for r in subset]
            if memory:
                heights, tops = [i.peak_mib for i in impls], [i.peak_mib for i in impls]
                ax.bar(xs, heights, width, label=name)
            else:
                heights, tops = [i.median_ms for i in impls], [i.iqr_ms[1] for i in impls]
                low_high = np.array([i.iqr_ms for i in impls]).T
                ax.bar(xs, heights, width, label=name, capsize=2, yerr=np.abs(low_high - heights))
            if name != "scratch manual":
                continue
            for x, r, top in zip(xs, subset, tops, strict=True):
                level = _target_level(r, memory)
                if level is not None:
                    ax.hlines(level, x - width / 2, x + width / 2, color="black", linewidth=2)
                ratio = r.memory_ratio if memory else r.impls[name].ratio
                ax.annotate(
                    f"×{ratio:.2f}",
                    (x, max(top, level or 0)),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        ax.set_xticks(range(len(subset)), [r.cell for r in subset])
        dims = subset[0].dims
        ax.set_title(f"{size}: L={dims.L} N={dims.N} H_in={dims.H_in} H={dims.H}", fontsize=9)
        ax.set_ylabel("peak MiB above baseline" if memory else "fwd+bwd ms (median, IQR)")
        ax.margins(y=0.12)
    axes[0][0].legend(fontsize=8)
    what = "Peak memory" if memory else "Forward + backward time"
    fig.suptitle(
        f"{what}, float32, CPU\n×: scratch manual / torch.nn; black dash: its target", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def loss_curves(results: list[TaskResult], path: Path) -> None:
    """Per task: the training loss of both implementations overlaid, and their difference."""
    fig = Figure(figsize=(5 * len(results), 6))
    axes = fig.subplots(2, len(results), squeeze=False, sharex="col")
    for col, res in enumerate(results):
        top, bottom = axes[0][col], axes[1][col]
        steps = np.arange(1, len(res.losses[TASK_IMPLS[0]]) + 1)
        for impl, style in zip(TASK_IMPLS, ("-", "--"), strict=True):
            top.plot(steps, res.losses[impl], style, label=impl)
        diff = np.abs(np.subtract(*(res.losses[i] for i in TASK_IMPLS)))
        bottom.plot(steps, diff, ".-", color="tab:red")
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set(title=f"{res.task}: training loss", ylabel="loss")
        bottom.set(xlabel="step", ylabel="|scratch − reference|")
        top.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def figures(results: Results, out: Path) -> list[str]:
    """Draw every figure the results allow; return their file names."""
    drawn = []
    if results.matrix:
        heatmap(results.matrix, out / "equiv_heatmap.png")
        drawn.append("equiv_heatmap.png")
    if results.random:
        random_errors(results.random, out / "equiv_random.png")
        drawn.append("equiv_random.png")
    if results.bench:
        bench_bars(results.bench, out / "bench_time.png", memory=False)
        bench_bars(results.bench, out / "bench_memory.png", memory=True)
        drawn += ["bench_time.png", "bench_memory.png"]
    ran = [t for t in results.tasks or [] if t.available]
    if ran:
        loss_curves(ran, out / "task_losses.png")
        drawn.append("task_losses.png")
    return drawn


# ---------------------------------------------------------------------------------------------
# the run folder


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
        verdict = "every case passes" if not results.failed else f"{len(results.failed)} FAIL"
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
        "passed": not results.failed,
        "equivalence": {"matrix": rows(results.matrix), "random": rows(results.random)},
        "benchmark": rows(results.bench),
        "tasks": rows(results.tasks),
        "figures": drawn,
    }


def write(results: Results, out: Path) -> list[str]:
    """Write report.md, results.json and the figures into `out`; return the file names."""
    drawn = figures(results, out)
    (out / "report.md").write_text(markdown(results, drawn), encoding="utf-8")
    text = json.dumps(as_json(results, drawn), indent=1)
    (out / "results.json").write_text(text + "\n", encoding="utf-8")
    return ["report.md", "results.json", *drawn]
