"""What the command line and the lab build from a ``StateConfig``: the task for the shared loop
(``prepare``), the last lines of a run (``finish``), and ``smoke_losses`` for compare."""

import sys
from pathlib import Path

from tasks import checkpoint, files, loop
from tasks.cli import Prepared, smoke_losses_of
from tasks.state.config import PRESETS, StateConfig
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


smoke_losses = smoke_losses_of(prepare, PRESETS)
