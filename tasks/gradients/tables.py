"""The lab's tables, in markdown, from what its experiments return (lab.py)."""

import math
import statistics
from pathlib import Path

from tasks.gradients import adding, copying
from tasks.gradients.config import COPY_ROWS, TABLE_ROWS, LabConfig, LabPlan


def outcome(e: dict) -> str:
    """One run in a few words: diverged, or its test MSE and when it was solved."""
    if e["diverged_at"] is not None:
        return f"diverged at step {e['diverged_at']}"
    solved = f"solved at step {e['solved_at']}" if e["solved_at"] else "not solved"
    if "test_loss" in e:  # the copy task
        return f"test loss {e['test_loss']:.4f} (memoryless {e['memoryless']:.4f}), {solved}"
    return f"test MSE {e['test_mse']:.4f}, {solved}"


def _number(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if math.isinf(x):
        return "−∞" if x < 0 else "∞"
    return f"{x:+.{digits}f}".replace("-", "−")


def at_init_table(found: list[dict]) -> str:
    """Per cell and init: measured slope, the bound's slope, mean σ_max, decades lost over T."""
    lines = [
        "| cell | init | measured slope of log10 ‖dL/dh_t‖ | slope of the bound | mean σ_max(J_t) "
        "| log10 ‖dL/dh_{T−1}‖ − log10 ‖dL/dh_0‖ |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for e in found:
        lost = _lost(e["grad"])
        lines.append(
            f"| {e['cell']} | {e['init']} | {_number(e['slope'])} | {_number(e['bound_slope'])} "
            f"| {e['sigma_mean']:.3f} | {lost} |"
        )
    return "\n".join(lines)


def _lost(grad: list) -> str:
    """How many decades the gradient loses from the last step back to the first."""
    first, last = grad[0], grad[-1]
    if first is None or not math.isfinite(first):
        return "all (it reaches 0)"
    return _number(last - first, 1)


def adding_table(found: list[dict], plan: LabPlan) -> str:
    """Final test MSE (step solved) per network and T, the yardstick's row below."""
    head = "| network | " + " | ".join(f"T = {t}" for t in plan.lengths) + " |"
    lines = [head, "| --- |" + " ---: |" * len(plan.lengths)]
    for row in TABLE_ROWS:
        cells = [_cell(_entry(found, row.name, t)) for t in plan.lengths]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    yardstick = [
        f"{_entry(found, TABLE_ROWS[0].name, t)['predict_mean_mse']:.4f}" for t in plan.lengths
    ]
    lines.append("| predicting the mean | " + " | ".join(yardstick) + " |")
    return "\n".join(lines)


def _entry(found: list[dict], row: str, seq_len: int) -> dict:
    return next(e for e in found if e["row"] == row and e["seq_len"] == seq_len)


def _cell(e: dict) -> str:
    if e["diverged_at"] is not None:
        return f"diverged (step {e['diverged_at']})"
    solved = f"step {e['solved_at']}" if e["solved_at"] else "not solved"
    return f"{e['test_mse']:.4f} ({solved})"


def cpu_table(found: list[dict], plan: LabPlan) -> str:
    """CPU seconds of each training run (one thread: about its wall time on a quiet core)."""
    head = "| network | " + " | ".join(f"T = {t}" for t in plan.lengths) + " |"
    lines = [head, "| --- |" + " ---: |" * len(plan.lengths)]
    for row in TABLE_ROWS:
        cells = [_seconds(_entry(found, row.name, t).get("cpu_seconds")) for t in plan.lengths]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    total = sum(e.get("cpu_seconds") or 0.0 for e in found)
    lines.append(f"| all runs | {total:.0f} s |" + " |" * (len(plan.lengths) - 1))
    return "\n".join(lines)


def _seconds(s: float | None) -> str:
    return "—" if s is None else f"{s:.0f} s"


def exploding_table(found: list[dict]) -> str:
    """Per clipping mode: how the run ended and the gradient norms it saw."""
    lines = [
        "| clipping | outcome | largest gradient norm | median gradient norm |",
        "| --- | --- | ---: | ---: |",
    ]
    for e in found:
        norms = [n for n in e["grad_norm"] if n is not None and math.isfinite(n)]
        largest = f"{max(norms):.3g}" if norms else "—"
        median = f"{statistics.median(norms):.3g}" if norms else "—"
        lines.append(f"| {e['clip_mode']} | {outcome(e)} | {largest} | {median} |")
    return "\n".join(lines)


def copy_table(found: list[dict], plan: LabPlan) -> str:
    """Final test cross-entropy per network and gap, as a share of the memoryless loss, and
    whether it beats it; the yardstick's row below."""
    head = "| network | " + " | ".join(f"T = {t}" for t in plan.copy_gaps) + " |"
    lines = [head, "| --- |" + " ---: |" * len(plan.copy_gaps)]
    for row in COPY_ROWS:
        cells = []
        for gap in plan.copy_gaps:
            e = next(e for e in found if e["row"] == row.name and e["seq_len"] == gap)
            if e["diverged_at"] is not None:
                cells.append(f"diverged (step {e['diverged_at']})")
                continue
            share = e["test_loss"] / e["memoryless"]
            verdict = "beats it" if share < 1 else "does not"
            solved = f", solved at step {e['solved_at']}" if e["solved_at"] else ""
            cells.append(f"{e['test_loss']:.4f} ({share:.0%}: {verdict}{solved})")
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    yardstick = [f"{copying.memoryless(gap):.4f}" for gap in plan.copy_gaps]
    lines.append("| memoryless: 10 ln 8 / (T + 20) | " + " | ".join(yardstick) + " |")
    return "\n".join(lines)


def report(found: dict, plan: LabPlan, cfg: LabConfig, out: Path) -> str:
    """results.md: every table the lab made, with the command that made them."""
    flags = " --smoke" if cfg.smoke else ""
    parts = [
        "# Gradient-flow lab",
        f"`python -m tasks.gradients lab{flags} --impl {cfg.impl} --seed {cfg.seed} --out {out}`",
    ]
    if "init" in found:
        parts += [
            f"## At initialisation (T = {plan.init_len}, H = {plan.hidden_size}, "
            f"{plan.init_batch} sequences)",
            "Slopes are decades per step of t; a positive slope is a gradient that shrinks going "
            "back in time. The bound is ‖dL/dh_{T−1}‖ Π_{j>t} σ_max(J_j).",
            at_init_table(found["init"]),
        ]
    if "adding" in found:
        parts += [
            f"## Adding problem (H = {plan.hidden_size}, {plan.steps} steps, test set of "
            f"{plan.test_size})",
            f"Final test MSE (first step with test MSE < {adding.SOLVED}).",
            adding_table(found["adding"], plan),
            "CPU seconds of each run's training:",
            cpu_table(found["adding"], plan),
            "One row on its own: `" + found["adding"][-1]["command"] + "`",
        ]
    if "exploding" in found:
        parts += [
            "## Exploding gradients",
            "`" + found["exploding"][0]["command"] + "`, with `--clip-mode none|value|norm`",
            exploding_table(found["exploding"]),
        ]
    if "copy" in found:
        parts += [
            f"## Copy memory (H = {plan.hidden_size}, {plan.copy_steps} steps, test set of "
            f"{plan.test_size})",
            "Final test cross-entropy in nats a step (its share of the memoryless loss; solved: "
            "below a tenth of it).",
            copy_table(found["copy"], plan),
        ]
    return "\n\n".join(parts) + "\n"
