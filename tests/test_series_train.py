"""The series task end to end: both implementations train alike, the CLI trains, saves, forecasts
from its checkpoint, and turns bad input into a plain error."""

import json

import pytest
import torch

from compare.tasks_check import check_task
from tasks.series import main


def test_scratch_and_reference_train_alike_step_by_step():
    result = check_task("series", steps=50, seed=0)
    assert result.passed, result.error or result.max_difference
    theirs = result.losses["reference"]
    assert len(result.losses["scratch"]) == len(theirs) == 50
    assert min(theirs[-10:]) < theirs[0]  # and it is training, not standing still


def test_train_then_forecast_from_the_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    smoke = "train --smoke --data sines --window 50 --horizon 25 --head recursive --no-progress"
    assert main([*smoke.split(), "--out", str(run)]) == 0
    written = "checkpoint.pt config.json metrics.jsonl loss.png results.md results.json"
    for name in [*written.split(), "forecast_1step.png", "forecast_Kstep.png"]:
        assert (run / name).is_file(), name
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["meta"]["config"]["head"] == "recursive" and state["meta"]["scaler"]["relative"]
    table = json.loads((run / "results.json").read_text())
    rows = {
        "naive",
        "seasonal naive",
        "linear AR (raw values), direct",
        "LSTM (reference), recursive",
    }
    assert rows <= set(table)
    assert set(table["naive"]) == {"1-step", "K-step"}
    assert set(table["naive"]["1-step"]) == {"rmse", "mae", "mase"}
    capsys.readouterr()

    fc = tmp_path / "fc"
    forecast = ["forecast", "--checkpoint", str(run / "checkpoint.pt"), "--steps", "40"]
    assert main([*forecast, "--out", str(fc)]) == 0
    printed = capsys.readouterr().out
    assert "forecast of y for the 40 steps after the data:" in printed
    assert (fc / "forecast_future.png").is_file()
    again = json.loads((fc / "results.json").read_text())
    assert again == table  # the reloaded model scores exactly what the trained one scored


@pytest.mark.parametrize(
    "csv, flags, message",
    [
        ("a,b\n" + "1,2\n" * 60, ["--columns", "a", "c", "--target", "a"], "no column named 'c'"),
        (
            "a,b\n" + "1,2\n" * 30 + "1,x\n" + "1,2\n" * 30,
            ["--target", "b"],
            "column 'b' holds non-numeric data, e.g. 'x' in data row 31",
        ),
        (
            "a\n" + "".join(f"{i}\n" for i in range(14)),
            ["--target", "a"],
            "too few rows for one window",
        ),
    ],
    ids=["missing-column", "non-numeric", "too-few-rows"],
)
def test_bad_csv_is_a_clear_error(tmp_path, capsys, csv, flags, message):
    path = tmp_path / "data.csv"
    path.write_text(csv)
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--csv", str(path), *flags, "--window", "10", "--horizon", "3"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err and "Traceback" not in err
