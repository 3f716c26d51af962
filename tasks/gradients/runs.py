"""The lab's training runs, each in its own folder, trained by the shared loop, kept when finished.

Each run folder is what ``python -m tasks.gradients train --out FOLDER`` writes (config.json,
checkpoint.pt, metrics.jsonl, loss.png, results.json), so one row of the lab can be continued
or extended on its own with ``train --out FOLDER --resume``. Running the lab again over the
same ``--out`` reuses every run that finished and resumes one that was stopped.

``train_all`` trains the runs that have not finished, several at a time if asked: each in a
process of its own on one thread (on 2 cores, two such processes do twice the work of one
process on two threads, whose small matrix products barely use the second core).
"""

import json
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm

from tasks import checkpoint, files, loop
from tasks.errors import BadInput, RunFailed
from tasks.gradients.config import AddingConfig
from tasks.gradients.model import AddingModel, flush_subnormals
from tasks.gradients.tables import outcome as outcome_text
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
    check_folder(folder, cfg)
    prepared = prepare(cfg, progress=progress)
    meta = {"task": TASK, "config": asdict(cfg), "data": prepared.data, **prepared.meta}
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


def check_folder(folder: Path, cfg: AddingConfig) -> None:
    """``BadInput`` when ``folder`` holds a run of another config (another seed, size, ...).
    How often it was checkpointed and the device it ran on are no part of a run: those may
    differ (and a run saved before the config had a device field has none)."""
    try:
        saved = json.loads((folder / loop.CONFIG).read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    kept = asdict(cfg)
    if {**saved, **{k: kept[k] for k in NOT_PART_OF_A_RUN}} != kept:
        raise BadInput(f"{folder} holds a run of another config: choose another --out")


NOT_PART_OF_A_RUN = ("checkpoint_every", "device")  # fields check_folder lets differ


def read_metrics(folder: Path) -> tuple[list[dict], list[dict]]:
    """(training steps, evaluations) from ``folder``'s metrics.jsonl; a diverged step is left out."""
    lines = [json.loads(line) for line in (folder / loop.METRICS).read_text().splitlines()]
    return [r for r in lines if r["split"] == "train"], [
        r for r in lines if r["split"] == "held_out"
    ]


def finished(folder: Path) -> bool:
    """Has the run in ``folder`` finished (trained to its budget, or diverged)?"""
    return (folder / RESULTS).exists()


def train_all(
    planned: list[tuple[AddingConfig, Path]], workers: int, progress: bool, say: Callable
) -> None:
    """Train every planned run that has not finished, ``workers`` at a time, longest first.
    Ctrl-C stops them all; each keeps its last checkpoint, and a rerun continues from there."""
    todo = sorted(
        [(cfg, folder) for cfg, folder in planned if not finished(folder)],
        key=lambda run: run[0].seq_len * (1 if run[0].cell == "rnn" else 2),
        reverse=True,
    )
    if workers == 1:
        for cfg, folder in todo:
            say(f"trained {folder.name}: {_summary(train_in(cfg, folder, progress).results)}")
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    pool = context.Pool(min(workers, len(todo) or 1), initializer=_worker_start)
    main = threading.current_thread() is threading.main_thread()  # only it may take signals
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None  # `kill`: workers too
    stopped = False
    try:
        for folder, outcome in pool.imap_unordered(_train_in_worker, todo):
            say(f"trained {folder.name}: {_summary(outcome)}")
        pool.close()
    except KeyboardInterrupt:
        pool.terminate()  # each run keeps its last checkpoint (atomic files: nothing half-written)
        stopped = True
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        pool.join()
    del pool  # released here, not kept alive by the traceback until the interpreter exits
    if stopped:
        raise KeyboardInterrupt


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _worker_start() -> None:
    """A worker trains on one thread, subnormals flushed, and leaves Ctrl-C to the lab, which
    stops the pool. Its progress bars are off; a thread lock for them keeps tqdm from making a
    semaphore shared between processes, which a stopped worker would leave behind."""
    torch.set_num_threads(1)
    flush_subnormals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tqdm.set_lock(threading.RLock())


def _train_in_worker(run: tuple[AddingConfig, Path]) -> tuple[Path, dict]:
    """One run in a worker process: (folder, results). It trains in a thread of its own, so
    the shared loop leaves signals alone (it takes them only in the main thread) and the lab's
    SIGTERM stops the worker at once."""
    cfg, folder = run
    done: dict = {}

    def work() -> None:
        try:
            done["results"] = train_in(cfg, folder, progress=False).results
        except RunFailed as error:  # a WriteFailed does not pickle: its message does
            done["error"] = RunFailed(str(error))
        except Exception as error:
            done["error"] = error

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if "error" in done:
        raise done["error"]
    return folder, done["results"]


def _summary(outcome: dict) -> str:
    return f"{outcome_text(outcome)}, {outcome['cpu_seconds']:.0f} CPU seconds"
