"""Data-parallel training (tasks/parallel.py, tasks/loop.py): two processes with the global batch
B train with the losses of one process with B, step by step; a two-process run stopped by a
signal on one rank resumes exactly, on two processes and on one. The processes are real (gloo,
on the CPU), started as torchrun would start them (tests/spawn.py)."""

import errno
import json
import os
import shutil
import signal
from contextlib import contextmanager
from dataclasses import replace

import pytest
import torch

from tasks import checkpoint, files, loop, parallel
from tasks.errors import BadInput, RunFailed
from tasks.gradients.config import smoke_config as gradients_config
from tasks.gradients.train import prepare as gradients_prepare
from tasks.series.config import smoke_config as series_config
from tasks.series.train import prepare as series_prepare
from tasks.text.config import smoke_config as text_config
from tasks.text.train import prepare as text_prepare
from tests.spawn import spawn

STEPS = 20
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}
CASES = [
    (task, impl, dtype)
    for task in ("text", "series", "gradients")
    for impl in ("scratch", "reference")
    for dtype in (torch.float64, torch.float32)
]


@contextmanager
def default_dtype(dtype: torch.dtype):
    """Build the models in ``dtype`` (the tasks take the default dtype)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def prepared(task: str, impl: str):
    """A small run of ``task``: text's smoke model (B = 4 streams), series on 675 windows in
    batches of 64, so that step 11 reads the last 35 of an epoch, split 17 / 18, or the
    gradients smoke model (a fresh batch of 8 adding-problem sequences every step)."""
    if task == "text":
        run = text_prepare(text_config(impl, STEPS, seed=0), progress=False)
    elif task == "gradients":
        run = gradients_prepare(gradients_config(impl, STEPS, seed=0), progress=False)
    else:
        run = series_prepare(replace(series_config(impl, 0), window=21, batch_size=64), None, False)
        run.loop = replace(run.loop, steps=STEPS, eval_every=STEPS)
    run.loop.print_evals = False
    return run


def losses(task: str, impl: str, dtype: torch.dtype) -> tuple[list[float], list]:
    """(the training loss of every step, the rows this process took of the last batch)."""
    with default_dtype(dtype):
        run = prepared(task, impl)
        history = loop.train(run.task, run.loop)
    return history.train, list(run.task.shard.taken)


def _train_every_case(rank: int, folder) -> None:
    results = {repr(case): losses(*case) for case in CASES}
    (folder / f"rank{rank}.json").write_text(json.dumps(results))


def test_two_processes_train_with_the_losses_of_one(tmp_path):
    spawn(_train_every_case, 2, tmp_path, tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for case in CASES:
        one, _ = losses(*case)
        (two, taken_0), (again, taken_1) = (ranks[r][repr(case)] for r in (0, 1))
        assert two == again  # every process logs the same, all-reduced loss
        task, _, dtype = case
        assert len(two) == len(one) == STEPS
        worst = max(abs(a - b) for a, b in zip(two, one, strict=True))
        assert worst <= TOLERANCE[dtype], (case, worst)
        halves = [{"text": [2, 4], "series": [32, 64], "gradients": [4, 8]}[task]] * 2  # last batch
        assert [taken_0, taken_1] == halves  # each process computed its half, not the whole
    # series step 11 read an odd batch: its halves weigh 17/35 and 18/35 (tests the weighing)
    assert len(prepared("series", "reference").task.batch(10)) == 35


# ---------------------------------------------------------------------------------------------
# stop on one rank, resume on two and on one


def _text_run(out, resume=False, hooks=()) -> loop.History:
    """The text smoke model for 12 steps in float64, evaluated every 4, into ``out``."""
    with default_dtype(torch.float64):
        run = text_prepare(text_config("scratch", 12, seed=0), progress=False)
        cfg = replace(run.loop, eval_every=4, checkpoint_every=100, hooks=hooks)
        return loop.train(run.task, cfg, out, {"task": "text"}, resume=resume)


def _sigterm_on_rank_1(step, model):
    if step == 4 and parallel.world().rank == 1:
        signal.raise_signal(signal.SIGTERM)  # as `kill <pid of rank 1>` during step 5


WRITE = files._replace_atomically


def _full_disk_for_checkpoints(path, mode, write):
    if path.name == loop.CHECKPOINT:
        raise files.WriteFailed(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    return WRITE(path, mode, write)


def _stop_and_resume(rank: int, folder) -> None:
    whole = _text_run(folder / "whole")
    with pytest.raises(loop.Stopped) as stopped:
        _text_run(folder / "cut", hooks=(_sigterm_on_rank_1,))
    assert stopped.value.step == 5  # both processes: the step finished, the checkpoint written
    if rank == 0:  # for the test to resume on one process
        shutil.copytree(folder / "cut", folder / "cut on one")
    resumed = _text_run(folder / "cut", resume=True)
    if rank == 0:
        runs = {"whole": whole.train, "resumed": resumed.train, "evals": resumed.evals}
        (folder / "runs.json").write_text(json.dumps(runs | {"whole evals": whole.evals}))

    with pytest.MonkeyPatch.context() as disk:  # rank 0's disk fills up: both stop, one says why
        disk.setattr(files, "_replace_atomically", _full_disk_for_checkpoints)
        with pytest.raises(RunFailed) as failed:
            _text_run(folder / "full")
    says = "no space left on device; stopped after step 12" if rank == 0 else "rank 0 could not"
    assert says in str(failed.value)


def test_a_stop_on_one_rank_stops_both_and_resumes_exactly(tmp_path):
    spawn(_stop_and_resume, 2, tmp_path, tmp_path)
    runs = json.loads((tmp_path / "runs.json").read_text())
    assert runs["resumed"] == runs["whole"]  # two processes to two: exactly, bit for bit
    assert runs["evals"] == runs["whole evals"]
    metrics = [(tmp_path / run / "metrics.jsonl").read_text() for run in ("whole", "cut")]
    assert metrics[0] == metrics[1]
    assert not list((tmp_path / "cut").glob(".*.tmp"))  # nothing half-written left behind

    saved = checkpoint.load(tmp_path / "cut on one" / loop.CHECKPOINT)
    assert saved["step"] == 5
    h_n, c_n = saved["task"]["hidden"]  # every process's streams, joined
    assert h_n.shape == c_n.shape == (1, 4, 16)
    assert len(saved["rng_ranks"]) == 2

    on_one = _text_run(tmp_path / "cut on one", resume=True)  # two processes to one
    assert on_one.train[:5] == runs["whole"][:5]
    worst = max(abs(a - b) for a, b in zip(on_one.train, runs["whole"], strict=True))
    assert worst <= TOLERANCE[torch.float64]


# ---------------------------------------------------------------------------------------------
# the pieces


def test_a_batch_splits_into_contiguous_parts_differing_by_one_row_at_most():
    for size, n in [(2, 2), (2, 35), (3, 3), (3, 7), (3, 64)]:
        parts = [parallel.Shard(rank, size).span(n) for rank in range(size)]
        sizes = [p.stop - p.start for p in parts]
        assert parts[0].start == 0 and parts[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
        assert max(sizes) - min(sizes) <= 1
    shard = parallel.Shard(1, 2)
    assert shard.weight() == (1, 2)  # nothing taken yet: every process has the whole batch
    assert shard.rows(35) == slice(17, 35) and shard.weight() == (18, 35)
    with pytest.raises(BadInput, match="a batch of 1 rows cannot be split across 2 processes"):
        shard.rows(1)


def test_rows_of_a_state_join_in_rank_order_and_split_back():
    parts = [parallel.Shard(rank, 2, {"hidden": 1}) for rank in (0, 1)]
    whole = (torch.arange(24.0).view(2, 4, 3), -torch.arange(24.0).view(2, 4, 3))
    own = [parallel.own_rows({"hidden": whole, "k": 3}, part) for part in parts]
    assert own[1]["hidden"][0].shape == (2, 2, 3) and own[1]["k"] == 3
    joined = parallel.join_rows(own, own[0], {"hidden": 1})
    assert all(torch.equal(a, b) for a, b in zip(joined["hidden"], whole, strict=True))
    assert parallel.join_rows([{"hidden": None}] * 2, {"hidden": None}, {"hidden": 1}) == {
        "hidden": None
    }


def test_a_gpu_checkpoint_resumes_on_a_machine_without_one():
    state = checkpoint.rng_state()
    state["cuda"] = [torch.zeros(16, dtype=torch.uint8)]  # as written where a GPU was
    checkpoint.set_rng_state(state)  # restores what this machine has, and no more
