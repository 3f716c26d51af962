"""The lab's training runs, each in its own folder, trained by the shared loop, kept when finished.

Each run folder is what ``python -m tasks.gradients train --out FOLDER`` writes (config.json,
checkpoint.pt, metrics.jsonl, loss.png, results.json), so one row of the lab can be continued
or extended on its own with ``train --out FOLDER --resume``. Running the lab again over the
same ``--out`` reuses every run that finished and resumes one that was stopped.

``train_all`` trains the runs that have not finished, several at a time if asked: each in a
process of its own on one thread (on 2 cores, two such processes do twice the work of one
process on two threads, whose small matrix products barely use the second core). A worker
that dies (killed, out of memory) is noticed at once: its run is reported lost, the others
finish, and the lab ends with one line; its run continues from its last checkpoint when the
lab is run again.
"""

import math
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import wait
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
        outcome = read_results(folder)
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
    if not (folder / loop.CONFIG).exists():
        return
    saved = files.read_json(
        folder / loop.CONFIG, _again(folder), lambda v: isinstance(v, dict) and "config" in v
    )["config"]
    kept = asdict(cfg)
    if {**saved, **{k: kept[k] for k in NOT_PART_OF_A_RUN}} != kept:
        raise BadInput(f"{folder} holds a run of another config: choose another --out")


NOT_PART_OF_A_RUN = ("checkpoint_every", "device")  # fields check_folder lets differ


def read_metrics(folder: Path) -> tuple[list[dict], list[dict]]:
    """(training steps, evaluations) from ``folder``'s metrics.jsonl; a diverged step is left out."""
    lines = files.read_json_lines(folder / loop.METRICS, _again(folder), _metric)
    return [r for r in lines if r["split"] == "train"], [
        r for r in lines if r["split"] == "held_out"
    ]


def read_results(folder: Path) -> dict:
    """A finished run's results.json: its outcome, as ``train_in`` wrote it."""
    return files.read_json(
        folder / RESULTS,
        "delete it and run the lab again: the run's results are read again from its checkpoint",
        _outcome,
    )


def _again(folder: Path) -> str:
    return f"delete {folder} and run the lab again to train that run anew"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _metric(line: object) -> bool:
    """A line of metrics.jsonl as the loop writes it: a step, a split, and numbers (or null)."""
    return (
        isinstance(line, dict)
        and isinstance(line.get("step"), int)
        and line.get("split") in ("train", "held_out", "diverged")
        and (line["split"] != "train" or all(_number(line.get(k)) for k in ("loss", "grad_norm")))
        and (line["split"] != "held_out" or _number(line.get("loss")))
    )


def _outcome(value: object) -> bool:
    """results.json as ``train_in`` writes it: at least the diverged step and the CPU time."""
    return (
        isinstance(value, dict)
        and "diverged_at" in value
        and (value["diverged_at"] is None or isinstance(value["diverged_at"], int))
        and _number(value.get("cpu_seconds"))
        and math.isfinite(value["cpu_seconds"])
    )


def finished(folder: Path) -> bool:
    """Has the run in ``folder`` finished (trained to its budget, or diverged)?"""
    return (folder / RESULTS).exists()


def train_all(
    planned: list[tuple[AddingConfig, Path]], workers: int, progress: bool, say: Callable
) -> None:
    """Train every planned run that has not finished, ``workers`` at a time, longest first.
    Ctrl-C stops them all; each keeps its last checkpoint, and a rerun continues from there.
    A worker that dies is noticed when it dies: the other runs go on, and the lab ends with
    ``RunFailed`` naming the lost runs (rerun it to continue them)."""
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
    running: dict = {}  # a worker's sentinel -> (process, its end of the pipe, run folder)
    lost = []
    try:
        while todo or running:
            while todo and len(running) < workers:
                cfg, folder = todo.pop(0)
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_worker, args=(cfg, folder, send), daemon=True)
                worker.start()
                send.close()  # the worker holds the only writing end: EOF when it dies
                running[worker.sentinel] = (worker, receive, folder)
            for ready in wait(list(running)):
                worker, receive, folder = running.pop(ready)
                worker.join()
                answer = _answer(receive)
                if answer is None:
                    lost.append(folder)
                    say(f"lost {folder.name}: its worker died (exit status {worker.exitcode})")
                elif "error" in answer:
                    raise answer["error"]
                else:
                    say(f"trained {folder.name}: {_summary(answer['results'])}")
    finally:
        _stop(running.values())
    if lost:
        raise RunFailed(
            f"{len(lost)} run(s) lost with their worker ({', '.join(f.name for f in lost)}); the "
            "finished runs are kept: run the same command again to continue the lost ones "
            "from their last checkpoints"
        )


def _answer(receive) -> dict | None:
    """What a worker that ended sent: its answer, or None when it died before sending one."""
    try:
        return receive.recv()
    except (EOFError, OSError):
        return None
    finally:
        receive.close()


def _stop(running) -> None:
    """End the workers still training: SIGTERM, then SIGKILL for one that lingers. Their runs
    keep their last checkpoints (atomic files: nothing is half-written). A second Ctrl-C or
    SIGTERM while they stop changes nothing: the lab ends with its one line."""
    if running and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
    for worker, receive, _ in running:
        worker.terminate()
        receive.close()
    for worker, _, _ in running:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker(cfg: AddingConfig, folder: Path, answer) -> None:
    """One run in a worker process, which sends back {"results": ...} or {"error": ...}. The
    run trains in a thread of its own, so the shared loop leaves signals alone (it takes them
    only in the main thread) and the lab's SIGTERM stops the worker at once; Ctrl-C is left to
    the lab. Its progress bars are off; a thread lock for them keeps tqdm from making a
    semaphore shared between processes, which a stopped worker would leave behind."""
    torch.set_num_threads(1)
    flush_subnormals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tqdm.set_lock(threading.RLock())
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
    answer.send(done)
    answer.close()


def _summary(outcome: dict) -> str:
    return f"{outcome_text(outcome)}, {outcome['cpu_seconds']:.0f} CPU seconds"
