"""The CUDA path, where there is a GPU: scratch on CUDA against torch.nn on CUDA (cuDNN) and
both against a float64 CPU oracle, compare's CUDA rows, the tasks on ``--device cuda``, and
two processes on two GPUs (NCCL). Every test here is marked ``cuda`` and skips, saying so, on
a machine without a GPU; tests/test_devices.py checks on the CPU what can be checked there."""

import json
import os
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
import torch

from compare import cuda, equiv
from compare.cli import main as compare_main
from tasks import checkpoint, loop
from tasks.patterns import many_to_many, many_to_one, one_to_many, seq2seq
from tasks.patterns.config import smoke as pattern_smoke
from tasks.series.config import smoke_config as series_config
from tasks.series.train import prepare as series_prepare
from tasks.text import main as text_main
from tasks.text.config import smoke_config as text_config
from tasks.text.train import prepare as text_prepare

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", equiv.MATRIX_CELLS)
def test_scratch_on_cuda_matches_cudnn_and_the_float64_oracle(cell, dtype):
    matrix = equiv.matrix_entries([cell], [dtype], quick=False)
    for row in cuda.check(matrix):
        failed = {p: r.failed for p, r in row.results.items() if not r.passed}
        assert row.passed, (row.entry.label(), failed)


def test_compare_adds_the_cuda_rows(tmp_path, capsys):
    argv = ["equiv", "--quick", "--cells", "lstm,gru_cell", "--no-progress", "--out", str(tmp_path)]
    assert compare_main(argv) == 0
    assert f"CUDA on {torch.cuda.get_device_name(0)}" in capsys.readouterr().out
    rows = json.loads((tmp_path / "results.json").read_text())["equivalence"]["cuda"]
    assert rows and all(row["passed"] for row in rows)
    assert not any(row["case"]["dropout"] for row in rows)


def _losses(task: str, impl: str, device: str) -> list[float]:
    if task == "text":
        run = text_prepare(replace(text_config(impl, 20, 0), device=device), progress=False)
    else:
        run = series_prepare(replace(series_config(impl, 0), device=device), None, False)
        run.loop = replace(run.loop, steps=20, eval_every=20)
    run.loop.print_evals = False
    return loop.train(run.task, run.loop).train


@pytest.mark.parametrize("impl", ["scratch", "reference"])
@pytest.mark.parametrize("task", ["text", "series"])
def test_the_tasks_train_on_cuda_with_the_losses_of_the_cpu(task, impl):
    with cuda.ieee_float32():  # cuDNN's default TF32 alone would part them by about 1e-3
        on_gpu = _losses(task, impl, "cuda")
    on_cpu = _losses(task, impl, "cpu")
    assert max(abs(a - b) for a, b in zip(on_gpu, on_cpu, strict=True)) <= 1e-4


PATTERNS = {"many-to-one": many_to_one, "one-to-many": one_to_many}
PATTERNS |= {"many-to-many": many_to_many, "seq2seq": seq2seq}


def _pattern_losses(demo: str, impl: str, device: str) -> list[float]:
    """20 training losses of a pattern demo's smoke model. A decoder reads the true previous
    token at every step (teacher forcing 1): a greedy guess, an argmax over nearly equal
    scores early on, would let rounding pick another token on the GPU."""
    package = PATTERNS[demo]
    cfg = replace(pattern_smoke(package.PRESETS, impl, 20, 0, None), device=device)
    if "teacher_forcing" in {f.name for f in fields(cfg)}:
        cfg = replace(cfg, teacher_forcing=1.0)
    run = package.TRAINER.build(cfg, None)
    run.loop = replace(run.loop, progress=False, print_evals=False)
    return loop.train(run.task, run.loop).train


@pytest.mark.parametrize("impl", ["scratch", "reference"])
@pytest.mark.parametrize("demo", PATTERNS)
def test_the_pattern_demos_train_on_cuda_with_the_losses_of_the_cpu(demo, impl):
    with cuda.ieee_float32():
        on_gpu = _pattern_losses(demo, impl, "cuda")
    on_cpu = _pattern_losses(demo, impl, "cpu")
    assert max(abs(a - b) for a, b in zip(on_gpu, on_cpu, strict=True)) <= 1e-4


def test_a_run_on_the_gpu_resumes_on_the_cpu(tmp_path):
    flags = ["train", "--smoke", "--impl", "scratch", "--no-progress", "--out", str(tmp_path)]
    assert text_main([*flags, "--device", "cuda", "--steps", "2"]) == 0
    assert checkpoint.load(tmp_path / "checkpoint.pt")["rng"]["cuda"]  # the GPU's RNG saved
    resume = ["train", "--resume", "--no-progress", "--out", str(tmp_path)]
    assert text_main([*resume, "--device", "cpu", "--steps", "4"]) == 0
    assert checkpoint.load(tmp_path / "checkpoint.pt")["step"] == 4


@pytest.mark.skipif(
    torch.cuda.is_available() and torch.cuda.device_count() < 2, reason="needs 2 CUDA devices"
)
def test_torchrun_on_two_gpus_trains_with_nccl(tmp_path):
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
    flags = ["train", "--smoke", "--impl", "scratch", "--device", "cuda", "--out", "run"]
    done = subprocess.run(
        [*command, "2", "-m", "tasks.text", *flags, "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["world_size"] == 2 and saved["config"]["device"] == "cuda"
