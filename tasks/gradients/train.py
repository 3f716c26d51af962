"""What the command line, the lab and the compare report build from an ``AddingConfig``: the
task for the shared loop (``prepare``), the last lines of a run (``finish``), and the per-step
losses of a small model (``smoke_losses``)."""

import sys
from pathlib import Path

from tasks import checkpoint, files, loop
from tasks.cli import Prepared, smoke_losses_of
from tasks.gradients import adding, copying
from tasks.gradients.config import PRESETS, AddingConfig
from tasks.gradients.model import AddingTask, build_model, loop_config


def prepare(cfg: AddingConfig, saved: dict | None = None, progress: bool = True) -> Prepared:
    """Build the network and the task. The data is generated, so its fingerprint is the rule
    that generates it: the seed, the length and the test-set size."""
    task = AddingTask(cfg, build_model(cfg))
    data = checkpoint.fingerprint(
        f"{cfg.problem} seed={cfg.seed} T={cfg.seq_len} test={cfg.test_size}"
    )
    return Prepared(task, loop_config(cfg, progress), {}, data)


def solved_at(history: loop.History, below: float = adding.SOLVED) -> int | None:
    """The first evaluation step whose test loss is below ``below``, or None."""
    return next((e["step"] for e in history.evals if e["loss"] < below), None)


def results(history: loop.History) -> dict:
    """The numbers a run is quoted by: final test loss, the yardstick's, and the step it was
    solved (adding: MSE below ``adding.SOLVED``; copy: below a tenth of the memoryless loss)."""
    final = history.evals[-1]
    if "memoryless" in final:  # the copy task
        scores = {"test_loss": final["loss"], "memoryless": final["memoryless"]}
        below = final["memoryless"] / 10
    else:
        scores = {"test_mse": final["loss"], "predict_mean_mse": final["predict_mean"]}
        below = adding.SOLVED
    return {
        **scores,
        "solved_at": solved_at(history, below),
        "diverged_at": None,  # the loop raises Diverged instead (tasks/gradients/runs.py)
        "steps": len(history.records),
        "train_seconds": history.seconds,
    }


def finish(cfg: AddingConfig, prepared: Prepared, history: loop.History, out: Path) -> None:
    """results.json in the run folder, and one line: the test MSE beside the yardstick."""
    r = results(history)
    files.write_json(r, out / "results.json")
    if cfg.problem == "copy":
        beats = "below" if r["test_loss"] < r["memoryless"] else "not below"
        print(
            f"test loss {r['test_loss']:.4f} nats a step, {beats} the memoryless "
            f"{r['memoryless']:.4f} (solved below {copying.solved(cfg.seq_len):.4f}: "
            f"{'at step ' + str(r['solved_at']) if r['solved_at'] else 'no'}); run folder {out}",
            file=sys.stderr,
        )
        return
    solved = (
        f"solved (MSE < {adding.SOLVED}) at step {r['solved_at']}"
        if r["solved_at"]
        else (f"not solved (MSE < {adding.SOLVED}) in {r['steps']} steps")
    )
    print(
        f"test MSE {r['test_mse']:.4f} (predicting the mean: {r['predict_mean_mse']:.4f}); "
        f"{solved}; run folder {out}",
        file=sys.stderr,
    )


smoke_losses = smoke_losses_of(prepare, PRESETS)
