"""The command a user types: ``torchrun --nproc-per-node 2 -m tasks.<task> train --smoke`` (or,
for a demo of the patterns task, ``-m tasks.patterns <demo> train --smoke``), for every
registered task, on the CPU (gloo). Two processes train; one run folder, written by rank 0,
says so; rank 0 alone prints."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks import checkpoint, registry

ROOT = Path(__file__).resolve().parents[1]
FAST = {"series": ["--data", "sines", "--window", "20", "--horizon", "5"]}  # seconds, not more
# what each task's finish prints last: the run folder, for text how to sample from it, for
# gradients the test MSE
LAST_LINE = {name: "run folder:" for name in registry.TASKS} | {
    "text": "sample with:",
    "gradients": "test MSE",
}


def torchrun(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --standalone`` (it finds a free port itself) with two processes, one thread
    each, from a directory outside the source tree."""
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
    return subprocess.run(
        [*command, "2", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("task", list(registry.TASKS))
def test_torchrun_with_two_processes_writes_one_run_folder(task, tmp_path):
    command = registry.TASKS[task].run.split()  # the module, and a demo's name after it
    flags = ["train", "--smoke", "--impl", "scratch", "--no-progress", "--out", "run"]
    done = torchrun("-m", *command, *flags, *FAST.get(task, []), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing written anywhere else
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2
    saved = checkpoint.load(run / "checkpoint.pt")
    assert saved["meta"]["world_size"] == 2 and len(saved["rng_ranks"]) == 2
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len([r for r in lines if r["split"] == "train"]) == saved["step"]  # one line a step
    assert (run / "summary.json").is_file() and not list(run.glob(".*.tmp"))
    printed = done.stdout + done.stderr
    assert printed.count(LAST_LINE[task]) == 1  # rank 0 alone finishes and prints
