"""``python -m tasks.gradients``: train on the adding problem and the lab, on the shared
scaffolding: smoke runs, exact resume, one-line errors, the lab rerun over its own folder."""

import json

import pytest

from compare import tasks_check
from tasks import loop, registry
from tasks.gradients import main, runs, smoke_losses
from tasks.impl import CELLS


def one_line_error(capsys, argv) -> str:
    """Run ``main(argv)``, expect exit status 2 and one line on stderr, no traceback; the line."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def train(out, *flags) -> int:
    return main(["train", "--smoke", "--no-progress", "--out", str(out), *flags])


def records(out) -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == "train"]


def test_a_smoke_run_writes_its_folder_and_logs_what_clipping_does(tmp_path, capsys):
    assert train(tmp_path) == 0
    assert "(predicting the mean: " in capsys.readouterr().err
    for name in ("checkpoint.pt", "config.json", "metrics.jsonl", "loss.png", "results.json"):
        assert (tmp_path / name).is_file(), name
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["steps"] == 4 and results["solved_at"] is None
    for r in records(tmp_path):
        assert r["grad_norm"] > 0 and -1 <= r["value_clip_cosine"] <= 1 + 1e-6
        assert 0 <= r["value_clipped"] <= 1


def test_a_resumed_run_reads_the_same_batches(tmp_path):
    assert train(tmp_path / "straight", "--steps", "4") == 0
    assert train(tmp_path / "stopped", "--steps", "2") == 0
    resume = ["train", "--resume", "--no-progress", "--out", str(tmp_path / "stopped")]
    assert main([*resume, "--steps", "4"]) == 0
    assert records(tmp_path / "stopped") == records(tmp_path / "straight")


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--nonlinearity", "relu"], "--nonlinearity relu is for --cell rnn, not lstm"),
        (["--nonlinearity", "sigmoid"], "--nonlinearity: 'sigmoid' is not one of tanh, relu"),
        (["--seq-len", "1"], "--seq-len 1: the adding problem needs at least 2 steps"),
        (["--optimizer", "rmsprop"], "--optimizer: 'rmsprop' is not one of adam, sgd"),
        (["--recurrent-gain", "0"], "--recurrent-gain: must be a positive finite number"),
        (["--test-size", "0"], "--test-size: must be at least 1, got 0"),
        (["--cell", "gru", "--init", "identity"], "--init identity is for Elman RNNs"),
        (["--cell", "rnn", "--forget-bias", "1"], "a forget gate on a cell state, not the RNN"),
        (["--cell", "gru", "--forget-bias", "1"], "a forget gate on a cell state, not the GRU"),
        (
            ["--cell", "chogru", "--forget-bias", "1"],
            "a forget gate on a cell state, not the ChoGRU",
        ),
        (["--cell", "minlstm", "--forget-bias", "1"], "on a cell state, not the MinLSTM"),
        (["--cell", "lstm", "--init", "identity"], "--init identity is for Elman RNNs"),
        (["--cell", "mingru", "--init", "orthogonal"], "the MinGRU has no recurrent weights W_hh"),
        (["--cell", "minlstm", "--recurrent-gain", "2"], "--cell minlstm has no recurrent weights"),
        (["--cell", "lnlstm", "--impl", "reference"], "--cell lnlstm exists only in scratch"),
        (["--seq-len", "0"], "--seq-len: must be at least 1, got 0"),
        (["--clip-mode", "sometimes"], "--clip-mode: 'sometimes' is not one of norm, value, none"),
    ],
)
def test_bad_train_flags_are_one_line_and_no_run_folder(flags, says, tmp_path, capsys):
    err = one_line_error(capsys, ["train", "--smoke", "--out", str(tmp_path / "run"), *flags])
    assert says in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--experiments", "init", "sideways"], "--experiments: invalid choice: 'sideways'"),
        (["--impl", "numpy"], "--impl: 'numpy' is not one of scratch, reference"),
        (["--seed", "x"], "--seed: 'x' is not an integer"),
    ],
)
def test_bad_lab_flags_are_one_line(flags, says, capsys):
    assert says in one_line_error(capsys, ["lab", "--smoke", *flags])


def test_a_lab_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert f"--out {blocker} is a file" in one_line_error(capsys, ["lab", "--out", str(blocker)])


def test_the_lab_in_smoke_sizes_writes_everything_and_a_rerun_reuses_it(tmp_path, capsys):
    argv = ["lab", "--smoke", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for name in (
        "at_init.png",
        "at_init_sigma.png",
        "adding_curves.png",
        "adding_mse.png",
        "exploding.png",
    ):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "results.md").read_text() == printed
    assert "| LSTM, b_f = 1 |" in printed and "| predicting the mean |" in printed
    found = json.loads((tmp_path / "results.json").read_text())
    assert {e["cell"] for e in found["init"]} == {"RNN (tanh)", "RNN (relu)", "LSTM", "GRU"}
    assert len(found["adding"]) == 10 and len(found["exploding"]) == 3 and len(found["copy"]) == 4
    assert "## Copy memory" in printed
    metrics = {p: p.read_bytes() for p in tmp_path.glob("*/*/metrics.jsonl")}
    assert len(metrics) == 17

    assert main(argv) == 0  # every run is finished: nothing trains again
    assert capsys.readouterr().out == printed
    assert {p: p.read_bytes() for p in tmp_path.glob("*/*/metrics.jsonl")} == metrics

    folder = tmp_path / "adding" / "lstm-bf1-T12"  # a row on its own, continued by train
    assert main(["train", "--resume", "--no-progress", "--out", str(folder), "--steps", "6"]) == 0
    assert len(records(folder)) == 6


def test_the_lab_refuses_a_folder_of_another_config(tmp_path, capsys):
    argv = ["lab", "--smoke", "--no-progress", "--experiments", "exploding", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    err = one_line_error(capsys, [*argv, "--seed", "1"])
    assert "holds a run of another config: choose another --out" in err


def test_a_stopped_lab_says_how_to_continue(tmp_path, capsys, monkeypatch):
    def stop(task, cfg, out, meta, resume):
        raise loop.Stopped(2, out)

    monkeypatch.setattr(runs.loop, "train", stop)
    argv = ["lab", "--smoke", "--no-progress", "--experiments", "adding", "--out", str(tmp_path)]
    assert main(argv) == 130
    assert f"run the same command with --out {tmp_path} to continue" in capsys.readouterr().err


def test_scratch_and_reference_train_alike_and_compare_checks_it():
    assert "gradients" in registry.TASKS
    ours, theirs = smoke_losses("scratch", 5), smoke_losses("reference", 5)
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-5
    assert tasks_check.check_task("gradients", 3).passed


def test_two_workers_train_what_one_process_trains(tmp_path):
    base = ["lab", "--smoke", "--no-progress", "--experiments", "exploding"]
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    assert main([*base, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    for mode in ("none", "value", "norm"):
        assert records(tmp_path / "one" / "exploding" / mode) == records(
            tmp_path / "two" / "exploding" / mode
        )


@pytest.mark.parametrize("cell", [c for c in CELLS if CELLS[c].impls == ("scratch",)])
def test_every_cell_only_scratch_has_trains_on_the_adding_problem(cell, tmp_path, capsys):
    assert train(tmp_path, "--cell", cell, "--steps", "2", "--eval-every", "2") == 0
    assert "(predicting the mean: " in capsys.readouterr().err
    assert len(records(tmp_path)) == 2
