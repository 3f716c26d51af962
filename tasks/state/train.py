"""What the command line and the lab build from a ``StateConfig``: the task for the shared loop
(``prepare``), the last lines of a run (``finish``), and ``smoke_losses`` for compare."""

import sys
from pathlib import Path

from tasks import checkpoint, files, loop
from tasks.cli import Prepared
from tasks.state.config import StateConfig, smoke_config
from tasks.state.data import PROBLEMS
from tasks.state.model import StateTask, build_model, loop_config


def prepare(cfg: StateConfig, saved: dict | None = None, progress: bool = True) -> Prepared:
    """Build the network and the task. The data is generated: its fingerprint is its rule."""
    task = StateTask(cfg, build_model(cfg))
    rule = f"state {cfg.problem} seed={cfg.seed} T={cfg.seq_len} test={cfg.test_size}"
    return Prepared(task, loop_config(cfg, progress), {}, checkpoint.fingerprint(rule))


def results(cfg: StateConfig, history: loop.History) -> dict:
    """Accuracy of the last step by test length, at the training length, and chance."""
    final = history.evals[-1]
    return {
        "problem": cfg.problem,
        "cell": cfg.cell,
        "chance": PROBLEMS[cfg.problem].chance,
        "seq_len": cfg.seq_len,
        "acc_train": final["acc_train"],
        "acc_by_length": {str(n): final[f"acc_{n}"] for n in cfg.test_lengths},
        "steps": len(history.records),
        "train_seconds": history.seconds,
    }


def finish(cfg: StateConfig, prepared: Prepared, history: loop.History, out: Path) -> None:
    """results.json in the run folder, and one line: accuracy by length beside chance."""
    r = results(cfg, history)
    files.write_json(r, out / "results.json")
    by_length = ", ".join(f"{n}: {a:.1%}" for n, a in r["acc_by_length"].items())
    print(
        f"{cfg.problem}, {cfg.cell}: accuracy at length {cfg.seq_len} (every step) "
        f"{r['acc_train']:.1%}; last step at {by_length}; chance {r['chance']:.0%}; "
        f"run folder: {out}",
        file=sys.stderr,
    )


def smoke_losses(impl: str, steps: int = 50, seed: int = 0, cell: str | None = None) -> list[float]:
    """Training losses of the first ``steps`` steps of the smoke model on ``impl``; no files."""
    prepared = prepare(smoke_config(impl, steps, seed, cell), progress=False)
    prepared.loop.print_evals = False
    return loop.train(prepared.task, prepared.loop).train
