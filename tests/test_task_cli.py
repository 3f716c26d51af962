"""What every task's command line does the same way, because it comes from the shared
scaffolding (tasks/cli.py): flags checked as they are read, presets, resume from the checkpoint,
damaged or foreign checkpoints, unusable run folders, a full disk. Each test runs on every task."""

import errno
import json
import os
import tempfile
from dataclasses import fields

import pytest
import torch

from tasks import checkpoint, config, files
from tasks.series import SeriesConfig
from tasks.series import main as series_main
from tasks.text import TextConfig
from tasks.text import main as text_main

# each task's main, and the flags of a run that takes seconds
TASKS = {
    "text": (text_main, ["--smoke"]),
    "series": (series_main, ["--smoke", "--data", "sines", "--window", "20", "--horizon", "5"]),
}


def train(task, out, *flags):
    main, smoke = TASKS[task]
    return main(["train", *smoke, "--no-progress", "--out", str(out), *flags])


def one_line_error(capsys, run) -> str:
    """Run ``run()``, expect exit status 2 and one line on stderr, no traceback; the line."""
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


BAD_FLAGS = [
    (["--steps", "-3"], "--steps: must be at least 1, got -3"),
    (["--steps", "0"], "--steps: must be at least 1, got 0"),
    (["--batch-size", "-1"], "--batch-size: must be at least 1, got -1"),
    (["--seq-len", "0"], "--seq-len: must be at least 1, got 0"),
    (["--eval-every", "0"], "--eval-every: must be at least 1, got 0"),
    (["--checkpoint-every", "0"], "--checkpoint-every: must be at least 1"),
    (["--num-layers", "0"], "--num-layers: must be at least 1"),
    (["--hidden-size", "0"], "--hidden-size: must be at least 1"),
    (["--hidden-size", "2.5"], "--hidden-size: '2.5' is not an integer"),
    (["--dropout", "1"], "--dropout: must be in [0, 1), got 1.0"),
    (["--dropout", "-0.1"], "--dropout: must be in [0, 1)"),
    (["--lr", "0"], "--lr: must be a positive finite number, got 0.0"),
    (["--lr", "-1"], "--lr: must be a positive finite number"),
    (["--lr", "inf"], "--lr: must be a positive finite number, got inf"),
    (["--lr", "nan"], "--lr: must be a positive finite number, got nan"),
    (["--clip", "0"], "--clip: must be a positive finite number"),
    (["--clip-mode", "sometimes"], "--clip-mode: 'sometimes' is not one of norm, value, none"),
    (["--cell", "qrnn"], "--cell: 'qrnn' is not one of rnn_tanh, rnn_relu, lstm, gru"),
    (["--cell", "lnlstm", "--impl", "reference"], "--cell lnlstm exists only in scratch, not in"),
    (["--impl", "numpy"], "--impl: 'numpy' is not one of scratch, reference"),
    (["--epochs", "0"], "--epochs: must be at least 1"),
    (["--period", "0"], "--period: must be at least 1, got 0"),
    (["--period", "-4"], "--period: must be at least 1, got -4"),
    (["--window", "0"], "--window: must be at least 1"),
    (["--val-fraction", "1.5"], "--val-fraction: must be in (0, 1)"),
    (["--val-fraction", "0.6", "--test-fraction", "0.5"], "their sum must be below 1"),
    (["--columns", "y", "y"], "--columns y y: names y more than once"),
    (["--init", "he"], "--init: 'he' is not one of default, xavier_uniform, xavier_normal"),
    (["--init", "identity"], "--init identity is for Elman RNNs (Le et al. 2015), not the LSTM"),
    (["--forget-bias", "nan"], "--forget-bias: must be a finite number, got nan"),
    (
        ["--forget-bias", "1", "--cell", "gru"],
        "only the LSTM and its variants have a forget gate on a cell state, not the GRU",
    ),
]


def _bad_flag_cases():
    """(task, flags, message) for each bad flag of BAD_FLAGS that the task has."""
    for task, cls in (("text", TextConfig), ("series", SeriesConfig)):
        flags = {config.flag(f.name) for f in fields(cls)}
        for argv, says in BAD_FLAGS:
            if argv[0] in flags:
                yield pytest.param(task, argv, says, id=f"{task} {' '.join(argv)}")


@pytest.mark.parametrize("task, flags, says", list(_bad_flag_cases()))
def test_bad_flags_are_one_line_exit_2_and_no_run_folder(task, flags, says, tmp_path, capsys):
    out = tmp_path / "run"
    err = one_line_error(capsys, lambda: train(task, out, *flags))
    assert says in err
    assert list(tmp_path.iterdir()) == []  # no run folder, not even an empty one


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--temperature", "0"], "--temperature: must be a positive finite number, got 0.0"),
        (["--temperature", "inf"], "--temperature: must be a positive finite number, got inf"),
        (["--temperature", "nan"], "--temperature: must be a positive finite number"),
        (["--length", "-1"], "--length: must be at least 0, got -1"),
        (["--top-k", "0"], "--top-k: must be at least 1, got 0"),
    ],
)
def test_sample_flags_are_checked_as_they_are_read(argv, says, capsys):
    err = one_line_error(capsys, lambda: text_main(["sample", "--checkpoint", "x.pt", *argv]))
    assert says in err


@pytest.mark.parametrize("task", TASKS)
def test_flags_given_with_smoke_win_over_the_preset(task, tmp_path):
    budget = ["--steps", "3"] if task == "text" else ["--epochs", "2"]
    assert train(task, tmp_path, "--hidden-size", "12", *budget) == 0
    saved = json.loads((tmp_path / "config.json").read_text())["config"]
    assert saved["hidden_size"] == 12 and saved[budget[0][2:]] == int(budget[1])


@pytest.mark.parametrize("task", TASKS)
def test_a_folder_that_holds_a_run_needs_resume(task, tmp_path, capsys):
    assert train(task, tmp_path) == 0
    capsys.readouterr()
    err = one_line_error(capsys, lambda: train(task, tmp_path))
    assert f"{tmp_path} already holds a run: add --resume" in err


@pytest.mark.parametrize("task", TASKS)
def test_resume_with_a_larger_budget_continues_to_it(task, tmp_path):
    main, _ = TASKS[task]
    budget = "--steps" if task == "text" else "--epochs"
    assert train(task, tmp_path / "short", budget, "2") == 0
    assert train(task, tmp_path / "long", budget, "4") == 0
    resume = ["train", "--resume", "--no-progress", "--out", str(tmp_path / "short")]
    assert main([*resume, budget, "4"]) == 0
    short, long = (checkpoint.load(tmp_path / r / "checkpoint.pt") for r in ("short", "long"))
    assert short["step"] == long["step"] and short["meta"]["config"][budget[2:]] == 4
    records = [c["history"]["records"] for c in (short, long)]
    if task == "text":  # the same steps: extending a run is the same as one long run
        assert records[0] == records[1]
    else:  # the cosine stretches to the new last step: the first steps ran at other rates
        assert len(records[0]) == len(records[1])


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("flags", [["--hidden-size", "7"], ["--cell", "gru"], ["--seed", "3"]])
def test_resume_refuses_flags_it_cannot_change_naming_them(task, flags, tmp_path, capsys):
    assert train(task, tmp_path) == 0
    capsys.readouterr()
    main, _ = TASKS[task]
    resume = ["train", "--resume", "--out", str(tmp_path), *flags]
    err = one_line_error(capsys, lambda: main(resume))
    assert f"it cannot change {flags[0]}" in err


def test_resume_refuses_a_changed_series_window_or_data(tmp_path, capsys):
    assert train("series", tmp_path) == 0
    capsys.readouterr()
    resume = ["train", "--resume", "--out", str(tmp_path), "--window", "30", "--data", "co2"]
    err = one_line_error(capsys, lambda: series_main(resume))
    assert "it cannot change --data, --window" in err


def test_resume_refuses_a_text_file_that_changed(tmp_path, capsys):
    text = tmp_path / "words.txt"
    text.write_text("the cat sat on the mat\n" * 300)
    out = tmp_path / "run"
    assert train("text", out, "--text", str(text)) == 0
    text.write_text("the cat sat on the hat\n" * 300)  # same characters, other text
    capsys.readouterr()
    resume = ["train", "--resume", "--out", str(out), "--steps", "8"]
    err = one_line_error(capsys, lambda: text_main(resume))
    assert "the training data has changed since" in err


def _damage(path, how):
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupted":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]))
    else:  # not a checkpoint at all
        path.write_text("just some text\n")


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("how", ["truncated", "corrupted", "text"])
def test_a_damaged_checkpoint_is_one_line(task, how, tmp_path, capsys):
    assert train(task, tmp_path) == 0
    _damage(tmp_path / "checkpoint.pt", how)
    capsys.readouterr()
    main, _ = TASKS[task]
    path = str(tmp_path / "checkpoint.pt")
    use = ["sample", "--checkpoint", path] if task == "text" else ["forecast", "--checkpoint", path]
    for argv in (["train", "--resume", "--out", str(tmp_path)], use):
        err = one_line_error(capsys, lambda argv=argv: main(argv))
        assert "is damaged or not a checkpoint of this project" in err
        assert "weights_only" not in err


def test_another_tasks_checkpoint_is_named_as_such(tmp_path, capsys):
    assert train("series", tmp_path / "series") == 0
    assert train("text", tmp_path / "text") == 0
    capsys.readouterr()
    series_pt, text_pt = (str(tmp_path / t / "checkpoint.pt") for t in ("series", "text"))
    err = one_line_error(capsys, lambda: text_main(["sample", "--checkpoint", series_pt]))
    assert "is a checkpoint of the series task, not of the text task" in err
    err = one_line_error(capsys, lambda: series_main(["forecast", "--checkpoint", text_pt]))
    assert "is a checkpoint of the text task, not of the series task" in err


@pytest.mark.parametrize("task", TASKS)
def test_a_checkpoint_of_an_incompatible_config_is_one_line(task, tmp_path, capsys):
    assert train(task, tmp_path) == 0
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state["meta"]["config"]["hidden"] = state["meta"]["config"].pop("hidden_size")  # old name
    checkpoint.save(state, path)
    capsys.readouterr()
    main, _ = TASKS[task]
    err = one_line_error(capsys, lambda: main(["train", "--resume", "--out", str(tmp_path)]))
    assert "holds a config that this version cannot read" in err

    state["meta"]["config"]["hidden_size"] = state["meta"]["config"].pop("hidden") + 1
    checkpoint.save(state, path)  # a config whose model is not the saved weights' shape
    err = one_line_error(capsys, lambda: main(["train", "--resume", "--out", str(tmp_path)]))
    assert "does not fit the model its config describes" in err


@pytest.mark.parametrize("task", TASKS)
def test_stale_temporary_files_are_cleared_on_the_next_run(task, tmp_path):
    assert train(task, tmp_path, *(["--steps", "2"] if task == "text" else [])) == 0
    stale = tmp_path / ".checkpoint.pt.k2x9q1.tmp"  # what a kill -9 during a save leaves
    stale.write_bytes(b"half a checkpoint")
    main, _ = TASKS[task]
    budget = ["--steps", "4"] if task == "text" else ["--epochs", "2"]
    assert main(["train", "--resume", "--no-progress", "--out", str(tmp_path), *budget]) == 0
    assert not stale.exists()
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("where", ["is a file", "under a file", "read-only"])
def test_an_unusable_out_is_one_line(task, where, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = {"is a file": blocker, "under a file": blocker / "run", "read-only": tmp_path / "ro"}
    if where == "read-only":  # as root a chmod does not stop writes: refuse them at the call

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    err = one_line_error(capsys, lambda: train(task, out[where]))
    says = {
        "is a file": f"--out {blocker} is a file",
        "under a file": f"lies under {blocker}, which is a file",
        "read-only": f"--out {out['read-only']}: cannot write there (permission denied)",
    }
    assert says[where] in err


def _full_disk_when_writing(monkeypatch, name):
    """Make the atomic write of the file called ``name`` fail as on a full disk."""
    write = files._replace_atomically

    def full(path, mode, body):
        if path.name == name:
            raise files.WriteFailed(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        write(path, mode, body)

    monkeypatch.setattr(files, "_replace_atomically", full)


def test_a_full_disk_while_reporting_is_one_line_and_keeps_the_checkpoint(
    tmp_path, capsys, monkeypatch
):
    _full_disk_when_writing(monkeypatch, "results.md")
    assert train("series", tmp_path) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(f"cannot write {tmp_path / 'results.md'}: no space left on device")
    assert checkpoint.load(tmp_path / "checkpoint.pt")["step"] > 0  # the trained run is intact
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("task", TASKS)
def test_a_diverged_run_exits_1_with_one_line(task, tmp_path, capsys):
    absurd = "1e37" if task == "text" else "1e25"  # Adam steps of this size overflow float32
    assert train(task, tmp_path, "--lr", absurd, "--checkpoint-every", "1") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "diverged at step" in err and "(step 1), untouched" in err
    assert checkpoint.load(tmp_path / "checkpoint.pt")["step"] == 1
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        json.loads(line, parse_constant=_no_nan)


def _no_nan(token):
    raise AssertionError(f"{token} is not JSON")


def test_resume_with_a_budget_below_the_steps_done_is_one_line(tmp_path, capsys):
    assert train("text", tmp_path) == 0  # the smoke preset: 4 steps
    capsys.readouterr()
    resume = ["train", "--resume", "--out", str(tmp_path), "--steps", "2"]
    err = one_line_error(capsys, lambda: text_main(resume))
    assert f"the run in {tmp_path} is at step 4, past this budget of 2 steps" in err


# several processes (torchrun) and devices: what is decided before any process group exists


@pytest.mark.parametrize("task", TASKS)
def test_a_batch_that_does_not_split_across_the_processes_is_one_line(task, tmp_path, capsys):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WORLD_SIZE", "2")  # as torchrun --nproc-per-node 2 sets it, for rank 0
        env.setenv("RANK", "0")
        err = one_line_error(capsys, lambda: train(task, tmp_path / "run", "--batch-size", "5"))
        assert "--batch-size 5 does not split evenly across 2 processes" in err
        env.setenv("RANK", "1")  # the other process says nothing: rank 0 said it
        with pytest.raises(SystemExit) as stopped:
            train(task, tmp_path / "run", "--batch-size", "5")
        assert stopped.value.code == 2 and capsys.readouterr().err == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("task", TASKS)
def test_device_cuda_without_a_gpu_is_one_line(task, tmp_path, capsys):
    err = one_line_error(capsys, lambda: train(task, tmp_path / "run", "--device", "cuda"))
    assert "--device cuda: no CUDA device is available here; use --device cpu" in err
    assert list(tmp_path.iterdir()) == []


def test_a_run_of_one_process_records_world_size_1_and_its_device(tmp_path):
    assert train("text", tmp_path, "--device", "cpu") == 0
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["world_size"] == 1 and saved["config"]["device"] == "cpu"
