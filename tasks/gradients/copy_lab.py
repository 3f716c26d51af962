"""The lab's fourth experiment: the copy-memory task (copying.py) at every gap of the plan, one
run per network of ``COPY_ROWS``; tables.py ``copy_table`` says which of them beat the
memoryless yardstick, 10 ln 8 / (T + 20) nats a step."""

from dataclasses import replace
from pathlib import Path

from tasks.gradients.config import COPY_ROWS, LabConfig, LabPlan
from tasks.gradients.runs import train_in


def copy_runs(plan: LabPlan, cfg: LabConfig, out: Path, base) -> list[tuple]:
    """(row, T, config, run folder) of every copy run, T by T; ``base(plan, cfg, T, changes)``
    is the adding table's config of one row (lab.py ``table_config``), set to the copy task."""
    return [
        (
            row,
            gap,
            replace(base(plan, cfg, gap, row.changes), problem="copy", steps=plan.copy_steps),
            out / "copy" / f"{row.slug}-T{gap}",
        )
        for gap in plan.copy_gaps
        for row in COPY_ROWS
    ]


def copy_task(runs: list[tuple], progress: bool, command) -> list[dict]:
    """Every planned copy run's results (each trained, or read from its folder)."""
    found = []
    for row, gap, run_cfg, folder in runs:
        trained = train_in(run_cfg, folder, progress)
        found.append(
            {
                "row": row.name,
                "seq_len": gap,
                "command": command(run_cfg),
                **trained.results,
                "evals": [(e["step"], e["loss"]) for e in trained.evals],
            }
        )
    return found
