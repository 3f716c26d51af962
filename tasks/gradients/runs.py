"""One adding-problem run inside the lab's folder, trained by the shared loop, kept when finished.

Each run folder is what ``python -m tasks.gradients train --out FOLDER`` writes (config.json,
checkpoint.pt, metrics.jsonl, loss.png, results.json), so one row of the lab can be continued
or extended on its own with ``train --out FOLDER --resume``. Running the lab again over the
same ``--out`` reuses every run that finished and resumes one that was stopped.
"""

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tasks import checkpoint, files, loop
from tasks.errors import BadInput
from tasks.gradients.config import AddingConfig
from tasks.gradients.model import AddingModel
from tasks.gradients.train import prepare, results

TASK = "gradients"  # the name every checkpoint of this task carries (tasks/cli.py's Trainer)
RESULTS = "results.json"


@dataclass
class Trained:
    """A finished run: its model, and what metrics.jsonl says about every step."""

    model: AddingModel
    records: list[dict]  # per training step: step, loss, grad_norm (before clipping), lr
    evals: list[dict]  # per evaluation: step, loss (test MSE), predict_mean
    results: dict  # results.json: test_mse, solved_at, diverged_at, cpu_seconds, ...


def train_in(cfg: AddingConfig, folder: Path, progress: bool) -> Trained:
    """Train ``cfg`` in ``folder``, or reuse what an earlier lab run left there: the finished
    run, or a checkpoint to resume. A run that diverges is finished too (``diverged_at``)."""
    prepared = prepare(cfg, progress=progress)
    meta = {"task": TASK, "config": asdict(cfg), "data": prepared.data, **prepared.meta}
    saved = _saved_config(folder)
    if saved is not None and saved != meta["config"]:
        raise BadInput(f"{folder} holds a run of another config: choose another --out")
    weights = folder / loop.CHECKPOINT
    if (folder / RESULTS).exists():
        if weights.exists():
            state = checkpoint.load_run(weights, TASK)
            checkpoint.load_weights(prepared.task.model, state["model"], weights)
        outcome = json.loads((folder / RESULTS).read_text())
    else:
        cpu = time.process_time()
        quiet = replace(prepared.loop, print_evals=False)
        try:
            history = loop.train(prepared.task, quiet, folder, meta, resume=weights.exists())
            outcome = results(history)
        except loop.Diverged:
            outcome = {"diverged_at": len(read_metrics(folder)[0]) + 1}
        outcome["cpu_seconds"] = time.process_time() - cpu
        files.write_json(outcome, folder / RESULTS)
    records, evals = read_metrics(folder)
    return Trained(prepared.task.model, records, evals, outcome)


def _saved_config(folder: Path) -> dict | None:
    try:
        return json.loads((folder / loop.CONFIG).read_text())["config"]
    except (OSError, ValueError, KeyError):
        return None


def read_metrics(folder: Path) -> tuple[list[dict], list[dict]]:
    """(training steps, evaluations) from ``folder``'s metrics.jsonl; a diverged step is left out."""
    lines = [json.loads(line) for line in (folder / loop.METRICS).read_text().splitlines()]
    return [r for r in lines if r["split"] == "train"], [r for r in lines if r["split"] == "held_out"]
