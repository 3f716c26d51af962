"""What the command line and the compare report build from a ``SeriesConfig``: the task and loop
settings for the shared loop (``prepare``), the report at the end (``finish``), and the
per-step losses of a small model for ``python -m compare tasks`` (``smoke_losses``)."""

from dataclasses import replace
from pathlib import Path

from tasks import checkpoint, loop
from tasks.cli import Prepared
from tasks.series.config import Problem, SeriesConfig, make_problem, smoke_config
from tasks.series.model import SeriesTask, build_model, loop_config
from tasks.series.report import report
from tasks.series.windows import Scaler


def data_fingerprint(problem: Problem) -> str:
    """What a resumed run must find again: the values, the columns and the target."""
    s = problem.series
    return checkpoint.fingerprint(s.values.tobytes(), ",".join(s.columns), s.target)


def prepare(cfg: SeriesConfig, saved: dict | None = None, progress: bool = True) -> Prepared:
    """Load the series and build the task; ``saved``: the checkpoint's meta on resume (its
    scaler is reused). ``BadInput`` for data that cannot be used."""
    problem = make_problem(cfg, Scaler.from_state(saved["scaler"]) if saved else None)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    meta = {"scaler": problem.scaler.state()}
    return Prepared(task, loop_config(cfg, task, progress), meta, data_fingerprint(problem))


def finish(cfg: SeriesConfig, prepared: Prepared, history: loop.History, out: Path) -> None:
    """Score the trained network beside the yardsticks; write and print the table."""
    print(report(cfg, prepared.task.problem, prepared.task.model, out))
    print(f"run folder: {out}")


def smoke_losses(impl: str, steps: int = 50, seed: int = 0, cell: str | None = None) -> list[float]:
    """Training losses of the first ``steps`` steps of a small model on noisy sines; no files,
    no printing. For compare's tasks check: from the same seed, scratch and reference must give
    the same list."""
    prepared = prepare(smoke_config(impl, seed, cell), progress=False)
    lc = replace(prepared.loop, steps=steps, eval_every=steps, print_evals=False)
    return loop.train(prepared.task, lc).train
