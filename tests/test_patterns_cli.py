"""The pattern demos' one command line: the four demos and what --help says of them, bad input
in one line with exit status 2, exact resume after Ctrl-C, the run folder and its figures, and
what the shared scaffolding does for every task (damaged checkpoints, divergence)."""

import json
import signal

import pytest
import torch

from tasks import checkpoint
from tasks.patterns import many_to_many, many_to_one, one_to_many, seq2seq
from tasks.patterns.cli import TRAINERS, main
from tests.test_task_cli import one_line_error

DEMOS = {  # demo -> (its package, the figures its run folder gets beside loss.png)
    "many-to-one": (many_to_one, ["confusion.png", "accuracy_by_length.png"]),
    "one-to-many": (one_to_many, ["captions.png"]),
    "many-to-many": (many_to_many, ["f1.png"]),
    "seq2seq": (seq2seq, ["attention.png", "by_format.png"]),
}


def train(demo, out, *flags):
    return main([demo, "train", "--smoke", "--no-progress", "--out", str(out), *flags])


def test_the_four_demos_by_their_names_and_help_says_which_each_is(capsys):
    assert list(TRAINERS) == ["many-to-one", "one-to-many", "many-to-many", "seq2seq"]
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    shown = capsys.readouterr().out
    for words in ("kind of play", "captions of generated scenes", "case and punctuation", "dates"):
        assert words in shown


def test_an_unknown_pattern_is_one_line(capsys):
    err = one_line_error(capsys, lambda: main(["one-to-one", "train"]))
    assert "invalid choice: 'one-to-one'" in err and "seq2seq" in err


@pytest.mark.parametrize("demo", ["one-to-many", "seq2seq"])
@pytest.mark.parametrize("ratio", ["1.5", "-0.1", "nan"])
def test_a_teacher_forcing_ratio_outside_0_to_1_is_one_line(demo, ratio, tmp_path, capsys):
    err = one_line_error(capsys, lambda: train(demo, tmp_path / "run", "--teacher-forcing", ratio))
    assert "--teacher-forcing: must be in [0, 1]" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "demo, flags, says",
    [
        ("many-to-one", ["--min-chars", "1000000"], "the training split is empty"),
        ("many-to-one", ["--kinds", "four"], "--kinds: 'four' is not one of three, six"),
        (
            "one-to-many",
            ["--holdout", "colours"],
            "--holdout: 'colours' is not one of combinations, pairings",
        ),
        ("many-to-many", ["--seq-len", "20"], "a window must hold the longest line"),
        ("seq2seq", ["--train-pairs", "0"], "--train-pairs: must be at least 1, got 0"),
    ],
)
def test_bad_input_of_each_demo_is_one_line(demo, flags, says, tmp_path, capsys):
    err = one_line_error(capsys, lambda: train(demo, tmp_path / "run", *flags))
    assert says in err and f"python -m tasks.patterns {demo} train" in err


@pytest.mark.parametrize("demo", ["one-to-many", "seq2seq"])
@pytest.mark.parametrize("cell", ["lnlstm", "mingru"])
def test_a_decoder_of_a_cell_without_a_one_step_class_is_one_line(demo, cell, tmp_path, capsys):
    err = one_line_error(capsys, lambda: train(demo, tmp_path / "run", "--cell", cell))
    assert (
        f"--cell {cell}:" in err
        and "no one-step cell class" in err
        and "rnn_tanh, rnn_relu, lstm, gru" in err
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("demo", ["many-to-one", "many-to-many"])
def test_a_demo_that_only_reads_with_a_layer_runs_a_variant_on_scratch(demo, tmp_path):
    assert train(demo, tmp_path / "run", "--cell", "zoneout") == 0
    assert (tmp_path / "run" / "results.md").is_file()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("demo", DEMOS)
def test_device_cuda_without_a_gpu_is_one_line(demo, tmp_path, capsys):
    err = one_line_error(capsys, lambda: train(demo, tmp_path / "run", "--device", "cuda"))
    assert "--device cuda: no CUDA device is available here; use --device cpu" in err
    assert f"python -m tasks.patterns {demo} train" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto is the GPU there: see test_cuda.py")
@pytest.mark.parametrize("demo", DEMOS)
def test_device_cpu_trains_as_the_default_does_without_a_gpu(demo, tmp_path):
    """--device cpu reaches the config (config.json) and trains the very run that the default,
    auto, trains on a machine without a GPU: the same losses and evaluations, step for step."""
    assert train(demo, tmp_path / "auto") == 0
    assert train(demo, tmp_path / "cpu", "--device", "cpu") == 0
    runs = {}
    for name in ("auto", "cpu"):
        saved = json.loads((tmp_path / name / "config.json").read_text())
        assert saved["config"]["device"] == name
        runs[name] = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
    assert runs["cpu"] == runs["auto"] and any('"split": "train"' in r for r in runs["cpu"])


@pytest.mark.parametrize("demo", DEMOS)
def test_resume_after_ctrl_c_continues_exactly(demo, tmp_path, monkeypatch, capsys):
    assert train(demo, tmp_path / "whole") == 0
    package, figures = DEMOS[demo]
    for name in ["loss.png", "results.md", "results.json", "summary.json", *figures]:
        assert (tmp_path / "whole" / name).is_file(), name
    task_class = type(package.TRAINER.build(package.PRESETS["smoke"], None, False).task)
    loss = task_class.loss

    def interrupted(self, step):  # as if Ctrl-C was pressed during step 1
        if step == 1:
            signal.raise_signal(signal.SIGINT)
        return loss(self, step)

    monkeypatch.setattr(task_class, "loss", interrupted)
    assert train(demo, tmp_path / "cut") == 130
    assert checkpoint.load(tmp_path / "cut" / "checkpoint.pt")["step"] == 2
    monkeypatch.setattr(task_class, "loss", loss)
    assert main([demo, "train", "--resume", "--no-progress", "--out", str(tmp_path / "cut")]) == 0
    capsys.readouterr()
    whole, cut = (
        checkpoint.load(tmp_path / r / "checkpoint.pt")["history"] for r in ("whole", "cut")
    )
    assert cut["records"] == whole["records"] and cut["evals"] == whole["evals"]


@pytest.mark.parametrize("demo", DEMOS)
def test_a_damaged_checkpoint_is_one_line(demo, tmp_path, capsys):
    assert train(demo, tmp_path) == 0
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:1000])
    capsys.readouterr()
    err = one_line_error(capsys, lambda: main([demo, "train", "--resume", "--out", str(tmp_path)]))
    assert "is damaged or not a checkpoint of this project" in err


def test_another_demos_checkpoint_is_named_as_such(tmp_path, capsys):
    assert train("seq2seq", tmp_path) == 0
    capsys.readouterr()
    err = one_line_error(
        capsys, lambda: main(["one-to-many", "train", "--resume", "--out", str(tmp_path)])
    )
    assert "is a checkpoint of the seq2seq task, not of the one-to-many task" in err


def test_a_diverged_run_exits_1_with_one_line(tmp_path, capsys):
    assert train("seq2seq", tmp_path, "--lr", "1e30", "--checkpoint-every", "1") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "diverged at step" in err and "untouched" in err
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        json.loads(line)
