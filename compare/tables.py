"""The tables of a compare run: each section becomes rows of strings, rendered as aligned text
for the terminal (``terminal``) or as markdown for report.md (``md_table``)."""

from compare.bench import IMPLS as BENCH_IMPLS
from compare.bench import REFERENCE, BenchResult
from compare.cuda import NO_DEVICE, PAIRS, CudaRow
from compare.equiv import KINDS, EquivRow
from compare.harness import TOLERANCES
from compare.results import Results
from compare.tasks_check import IMPLS as TASK_IMPLS
from compare.tasks_check import MAX_DIFFERENCE, TaskResult


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


CUDA_HEADERS = ["case", *PAIRS, "result"]


def cuda_rows(rows: list[CudaRow]) -> list[list[str]]:
    """One row per case: the largest scaled error of any tensor, for each pair; '!' a failure."""
    table = []
    for row in rows:
        cells = [
            _sci(r.worst) + (" " if r.passed else "!") for r in (row.results[p] for p in PAIRS)
        ]
        table.append([row.entry.label(), *cells, "pass" if row.passed else "FAIL"])
    return table


def cuda_lines(results: Results) -> list[str]:
    """What the CUDA rows found, one line per dtype; or that there was no GPU to run them on."""
    if results.cuda is None:
        return [f"CUDA: {NO_DEVICE}"]
    lines = []
    for dtype, tol in TOLERANCES.items():
        subset = [r for r in results.cuda if r.entry.case.dtype == dtype]
        if subset:
            worst = {p: max(r.results[p].worst for r in subset) for p in PAIRS}
            said = ", ".join(f"{p} {e:.1e}" for p, e in worst.items())
            passed = sum(r.passed for r in subset)
            lines.append(
                f"CUDA, {dtype}: {passed}/{len(subset)} cases pass; largest scaled error: "
                f"{said} (tolerance {tol:.0e})"
            )
    return lines


def cuda_setup(results: Results) -> str:
    """The GPU and the settings the CUDA rows ran under, in one line."""
    return (
        f"CUDA on {results.meta['cuda']}: scratch vs torch.nn (cuDNN), each vs a float64 CPU "
        "oracle; TF32 off; no dropout (cuDNN draws its own masks)"
    )


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
    """One row per task: the largest step-by-step loss difference scratch vs reference, and
    whether it is within the threshold (pass / FAIL), or the error that stopped the task."""
    table = []
    for res in results:
        if not res.ran:
            table.append([res.task, f"ERROR ({res.error})", "", "", "", ""])
            continue
        finals = " / ".join(
            f"{res.losses[i][-1]:.4f}" if res.losses[i] else "–" for i in TASK_IMPLS
        )
        seconds = " / ".join(f"{res.seconds[i]:.1f}" for i in TASK_IMPLS)
        steps = str(len(res.losses[TASK_IMPLS[0]]))
        status = "pass" if res.passed else "FAIL"
        table.append([res.task, status, steps, f"{res.max_difference:.1e}", finals, seconds])
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
    if results.matrix is not None:
        if results.cuda:
            parts += ["", cuda_setup(results), text_table(CUDA_HEADERS, cuda_rows(results.cuda))]
        parts += cuda_lines(results)
    if results.bench is not None:
        parts += ["", f"BENCHMARK ({bench_setup(results)}; ratio = time / torch.nn)"]
        if results.bench:
            parts += [text_table(BENCH_HEADERS, bench_rows(results.bench), left=3)]
            parts += [note for note in [busy_note(results.meta)] if note]
        else:
            parts += ["(no benchmarked cell among --cells)"]
    if results.tasks is not None:
        parts += [
            "",
            "TASKS (scratch vs reference from one seed; Δ loss = |scratch − reference|, "
            f"pass: max Δ loss ≤ {MAX_DIFFERENCE:.0e})",
        ]
        parts += [text_table(TASK_HEADERS, task_rows(results.tasks), left=2)]
    return "\n".join(parts)
