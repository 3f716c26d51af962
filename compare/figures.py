"""The figures of a compare run, drawn into its run folder: the equivalence heat map and random
errors, the benchmark's time and memory bars, the tasks' loss curves."""

import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from compare.bench import IMPLS as BENCH_IMPLS
from compare.bench import MEMORY_TARGET, REFERENCE, BenchResult
from compare.equiv import KINDS, EquivRow
from compare.harness import TOLERANCES
from compare.results import Results
from compare.tasks_check import IMPLS as TASK_IMPLS
from compare.tasks_check import TaskResult

ERROR_FLOOR = 1e-18  # an exact match is drawn at this error in the heat map


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
                if not memory:  # the GEMM bound across the group of bars (x: its first)
                    left, right = x - width / 2, x + width * (len(BENCH_IMPLS) - 0.5)
                    ax.hlines(r.bound.median_ms, left, right, color="tab:red", linestyle="--")
                level = _target_level(r, memory)
                if level is not None:
                    ax.hlines(level, x - width / 2, x + width / 2, color="black", linewidth=2)
                ratio = r.memory_ratio if memory else r.impls[name].ratio
                bound = "" if memory else f"\n{r.impls[name].bound_ratio:.2f}÷b"
                ax.annotate(
                    f"×{ratio:.2f}{bound}",
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
    bound = "" if memory else "; red dashes: GEMM bound (÷b: scratch manual / bound)"
    fig.suptitle(
        f"{what}, float32, CPU\n×: scratch manual / torch.nn; black dash: its target{bound}",
        fontsize=10,
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
    ran = [t for t in results.tasks or [] if t.ran]
    if ran:
        loss_curves(ran, out / "task_losses.png")
        drawn.append("task_losses.png")
    return drawn
