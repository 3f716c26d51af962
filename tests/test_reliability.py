"""The second fault probe's classes, in-process: sizes checked against the data before any
work, a folder whose run died before its first checkpoint, every flag's range at parse time,
damaged files named in one line, checkpoints that load but lie, a forecast on changed data, the
smallest legal sizes writing every report file, and constructor argument types as torch.nn.
(The cases that need real processes, kill -9, two runs at once, SIGINT, are in
tests/test_processes.py.)"""

import json

import numpy as np
import pytest
import torch

import scratch
from compare.cli import main as compare_main
from tasks import checkpoint, files
from tasks.gradients import main as gradients_main
from tasks.gradients.config import PRESETS as ADDING
from tasks.gradients.runs import read_metrics, read_results, train_in
from tasks.patterns import main as patterns_main
from tasks.series import main as series_main
from tasks.text import main as text_main
from tasks.text.data import Vocab
from tasks.text.model import CharModel, sample

SINES = ["--smoke", "--data", "sines", "--window", "20", "--horizon", "5"]
LONG_NAME = "n" * 300


def one_line(capsys, run, status: int = 2) -> str:
    """Run ``run()``; expect ``status`` and one line on stderr without a traceback: the line."""
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------------------------------------
# 2. every size a flag asks for, against what the data can give, before any work


@pytest.mark.parametrize(
    "argv, said",
    [
        (["seq2seq", "train", "--smoke", "--held-out-pairs", "40000"], "hold 36525 days"),
        (["seq2seq", "train", "--smoke", "--held-out-pairs", "36525"], "hold 36525 days"),
        (["seq2seq", "train", "--smoke", "--train-pairs", "10000000"], "written in 3287250 ways"),
        (
            ["many-to-many", "train", "--smoke", "--seq-len", "10000000", "--batch-size", "1"],
            "text holds",
        ),
        (["many-to-many", "train", "--smoke", "--seq-len", "100000000000"], "GiB"),
        (["one-to-many", "train", "--smoke", "--held-out-scenes", "10000000000"], "GiB"),
        (["many-to-one", "train", "--smoke", "--batch-size", "1000000000"], "GiB"),
    ],
)
def test_a_size_the_data_cannot_give_is_refused_before_any_work(tmp_path, capsys, argv, said):
    out = tmp_path / "run"
    err = one_line(capsys, lambda: patterns_main([*argv, "--no-progress", "--out", str(out)]))
    assert said in err
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize(
    "main, argv, said",
    [
        (gradients_main, ["--smoke", "--seq-len", "10000000000"], "GiB"),
        (gradients_main, ["--smoke", "--test-size", "100000000000"], "--test-size"),
        (text_main, ["--smoke", "--hidden-size", "10000000"], "GiB"),
        (text_main, ["--smoke", "--seq-len", "100000"], "need at least"),
        (series_main, [*SINES, "--period", "100000"], "--period 100000"),
        (series_main, [*SINES, "--window", "100000"], "too few rows"),
    ],
)
def test_every_task_checks_its_sizes_first(tmp_path, capsys, main, argv, said):
    out = tmp_path / "run"
    err = one_line(capsys, lambda: main(["train", *argv, "--no-progress", "--out", str(out)]))
    assert said in err
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# 4. a crash before the first checkpoint: the folder holds no run to keep


def test_a_folder_without_a_checkpoint_is_started_again_and_resume_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text('{"task": "text"}\n')  # what a run writes first
    (out / "metrics.jsonl").write_text('{"step": 1, "split": "train", "loss": 4.0}\n')
    err = one_line(capsys, lambda: text_main(["train", "--resume", "--out", str(out)]))
    assert "stopped before its first checkpoint" in err and "without --resume" in err
    assert text_main(["train", "--smoke", "--no-progress", "--out", str(out)]) == 0
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps.count(1) == 1  # the dead run's lines are gone


# ---------------------------------------------------------------------------------------------
# 5. every flag's full range at parse time


@pytest.mark.parametrize("seed", ["-1", "4294967296", str(2**80), "1.5"])
@pytest.mark.parametrize(
    "main, argv",
    [
        (text_main, ["train", "--smoke"]),
        (text_main, ["sample", "--checkpoint", "x"]),
        (series_main, ["train", "--smoke"]),
        (gradients_main, ["train", "--smoke"]),
        (gradients_main, ["lab", "--smoke"]),
        (patterns_main, ["seq2seq", "train", "--smoke"]),
        (patterns_main, ["one-to-many", "train", "--smoke"]),
        (compare_main, ["tasks"]),
        (compare_main, []),
    ],
)
def test_a_seed_the_generators_cannot_take_is_refused_at_parse_time(capsys, main, argv, seed):
    err = one_line(capsys, lambda: main([*argv, "--seed", seed]))
    assert "--seed" in err


@pytest.mark.parametrize(
    "main, argv",
    [
        (text_main, ["train", "--smoke", "--out"]),
        (text_main, ["train", "--smoke", "--text"]),
        (text_main, ["sample", "--checkpoint"]),
        (series_main, ["train", "--smoke", "--csv"]),
        (series_main, ["forecast", "--checkpoint"]),
        (series_main, ["forecast", "--checkpoint", "x", "--out"]),
        (gradients_main, ["lab", "--smoke", "--out"]),
        (compare_main, ["tasks", "--out"]),
    ],
)
@pytest.mark.parametrize("path", [LONG_NAME, "/".join(["d" * 200] * 25), "a\0b"])
def test_a_path_the_file_system_cannot_hold_is_refused_at_parse_time(capsys, main, argv, path):
    err = one_line(capsys, lambda: main([*argv, path]))
    assert "argument --" in err


def test_a_tiny_temperature_draws_the_likeliest_character_instead_of_overflowing():
    vocab = Vocab("abc")
    torch.manual_seed(0)
    model = CharModel(scratch.LSTM, 3, 4, 8).double()
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([0.0, 50.0, 0.0]))
        model.head.weight.zero_()
    for temperature in (1e-300, 5e-324):
        assert sample(model, vocab, "a", 20, temperature) == "a" + "b" * 20


# ---------------------------------------------------------------------------------------------
# 7. every file read back, damaged, is named in one line, the same way


@pytest.fixture(scope="module")
def adding_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab") / "run"
    cfg = ADDING["smoke"]
    train_in(cfg, folder, progress=False)
    return cfg, folder


DAMAGES = {
    "truncated": lambda text: text[:-7],  # its last line cut
    "not JSON": lambda text: "\x00\x01 not json",
    "wrong shape": lambda text: "[1, 2, 3]\n",
    "wrong field": lambda text: (
        text.replace('"split": "train"', '"split": 7', 1)
        .replace('"diverged_at": null', '"diverged_at": "soon"')
        .replace('"config": {', '"konfig": {')
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", ["results.json", "metrics.jsonl", "config.json"])
def test_a_damaged_run_file_of_the_lab_is_named_with_what_to_do(adding_run, damage, name):
    cfg, folder = adding_run
    path = folder / name
    kept = path.read_text()
    path.write_text(DAMAGES[damage](kept))
    try:
        with pytest.raises(files.BadInput) as refused:
            {"results.json": lambda: read_results(folder), "metrics.jsonl": lambda: read_metrics(folder),
             "config.json": lambda: train_in(cfg, folder, False)}[name]()  # fmt: skip
    finally:
        path.write_text(kept)
    message = str(refused.value)
    assert message.startswith(f"{path} is damaged (") and "\n" not in message
    assert "run the lab again" in message


def test_a_damaged_checkpoint_is_named_the_same_way(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"PK\x03\x04 half a zip")
    with pytest.raises(files.BadInput) as refused:
        checkpoint.load(path)
    assert str(refused.value).startswith(f"{path} is damaged (")


# ---------------------------------------------------------------------------------------------
# 8. checkpoints that load but lie


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("text") / "run"
    assert text_main(["train", "--smoke", "--no-progress", "--out", str(out)]) == 0
    return out


def _lie(state: dict, how: str) -> None:
    if how == "negative step":
        state["step"] = -5
    elif how == "fractional step":
        state["step"] = 2.5
    elif how == "bool step":
        state["step"] = True
    elif how == "step beyond its history":
        state["step"] += 3
    elif how == "vocabulary a list":
        state["meta"]["vocab"] = list(state["meta"]["vocab"])
    elif how == "vocabulary repeats":
        state["meta"]["vocab"] = "aab"
    elif how == "hidden size a string":
        state["meta"]["config"]["hidden_size"] = "16"
    elif how == "seed a float":
        state["meta"]["config"]["seed"] = 0.5
    elif how == "learning rate a bool":
        state["meta"]["config"]["lr"] = True
    elif how == "weights not tensors":
        state["model"] = {"embed.weight": [1, 2]}
    elif how == "history not a list":
        state["history"]["records"] = "many"
    elif how == "no data fingerprint":
        del state["meta"]["data"]


LIES = [
    "negative step", "fractional step", "bool step", "step beyond its history",
    "vocabulary a list", "vocabulary repeats", "hidden size a string", "seed a float",
    "learning rate a bool", "weights not tensors", "history not a list", "no data fingerprint",
]  # fmt: skip


@pytest.mark.parametrize("how", LIES)
@pytest.mark.parametrize("command", ["resume", "sample"])
def test_a_checkpoint_that_lies_is_refused_in_one_line(tmp_path, text_run, capsys, how, command):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("checkpoint.pt", "config.json", "metrics.jsonl"):
        (out / name).write_bytes((text_run / name).read_bytes())
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    _lie(state, how)
    torch.save(state, out / "checkpoint.pt")
    argv = {
        "resume": ["train", "--resume", "--no-progress", "--out", str(out), "--steps", "9"],
        "sample": ["sample", "--checkpoint", str(out / "checkpoint.pt"), "--length", "3"],
    }[command]
    metrics = (out / "metrics.jsonl").read_bytes()
    err = one_line(capsys, lambda: text_main(argv))
    assert f"{out / 'checkpoint.pt'} is damaged (" in err, err
    assert (out / "metrics.jsonl").read_bytes() == metrics  # nothing trained from the lie


def test_a_refused_checkpoint_shows_none_of_torchs_warnings(tmp_path, capfd):
    path = tmp_path / "checkpoint.pt"
    torch.save({"step": np.float64(1.0), "evil": np.array([1, 2])}, path)  # not weights_only
    with pytest.raises(files.BadInput):
        checkpoint.load(path)
    assert capfd.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# 9. a command that reads a run's data checks its fingerprint


def test_forecast_refuses_a_csv_that_changed_since_training(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    values = np.sin(np.arange(300) / 5)
    csv.write_text("t,y\n" + "".join(f"{i},{v:.6f}\n" for i, v in enumerate(values)))
    out = tmp_path / "run"
    flags = ["--csv", str(csv), "--target", "y", "--window", "10", "--horizon", "3"]
    assert series_main(["train", "--smoke", *flags, "--no-progress", "--out", str(out)]) == 0
    results = (out / "results.json").read_bytes()
    csv.write_text("t,y\n" + "".join(f"{i},{v + 0.5:.6f}\n" for i, v in enumerate(values)))
    capsys.readouterr()
    err = one_line(
        capsys, lambda: series_main(["forecast", "--checkpoint", str(out / "checkpoint.pt")])
    )
    assert "the training data has changed since" in err
    assert (out / "results.json").read_bytes() == results  # the run's results are untouched


# ---------------------------------------------------------------------------------------------
# 10. the smallest legal sizes still write every report file

SMALLEST = {
    "seq2seq": (["--held-out-pairs", "1", "--train-pairs", "1", "--batch-size", "1",
                 "--attention-size", "1"], ["attention.png", "by_format.png", "results.json"]),
    "one-to-many": (["--held-out-scenes", "1", "--batch-size", "1"], ["captions.png", "results.json"]),
    "many-to-one": (["--max-speeches", "1", "--batch-size", "1"],
                    ["confusion.png", "accuracy_by_length.png", "results.json"]),
    "many-to-many": (["--held-out-windows", "1", "--batch-size", "1"], ["f1.png", "results.json"]),
}  # fmt: skip


@pytest.mark.parametrize("demo", SMALLEST)
def test_the_smallest_sizes_write_every_report_file(tmp_path, demo):
    flags, made = SMALLEST[demo]
    out = tmp_path / "run"
    tiny = ["--hidden-size", "1", "--embed-size", "1", "--steps", "2", "--no-progress"]
    assert patterns_main([demo, "train", "--smoke", *flags, *tiny, "--out", str(out)]) == 0
    for name in ["results.md", "loss.png", "summary.json", *made]:
        assert (out / name).stat().st_size > 0, name


# ---------------------------------------------------------------------------------------------
# 11. constructor argument types as torch.nn

FAMILY = {  # each of scratch's classes, and the torch.nn class whose argument checks it shares
    "RNN": "RNN", "LSTM": "LSTM", "GRU": "GRU", "PeepholeLSTM": "LSTM", "LayerNormLSTM": "LSTM",
    "VariationalLSTM": "LSTM", "ZoneoutLSTM": "LSTM", "ChoGRU": "GRU", "MinGRU": "GRU",
    "MinLSTM": "GRU", "IndRNN": "RNN", "RNNCell": "RNNCell", "LSTMCell": "LSTMCell",
    "GRUCell": "GRUCell", "IndRNNCell": "RNNCell",
}  # fmt: skip
ODD = [True, False, 2.0, "3", None, np.int64(3), -1, 0]
LAYER_ARGS = [
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "dropout",
    "bidirectional",
]


def _outcome(build) -> str:
    try:
        build()
    except Exception as error:  # noqa: BLE001 - the kind is what is compared
        return type(error).__name__
    return "built"


VECTORS = ("PeepholeLSTM", "LayerNormLSTM", "IndRNN", "IndRNNCell")  # with (hidden_size,) vectors


def _torch_built(name: str):
    """How torch builds ``name``'s parameters: its family's layer, and for a class with
    (hidden_size,) vectors (peepholes, layer norms) also such a vector, as torch.nn.LayerNorm
    allocates it: torch.empty refuses a shape that starts with a bool."""
    family = getattr(torch.nn, FAMILY[name])
    if name not in VECTORS:
        return family
    return lambda **given: (family(**given), torch.empty((given["hidden_size"],)))


@pytest.mark.parametrize("name", FAMILY)
def test_every_constructor_argument_is_checked_as_torch_nn_checks_it(name):
    ours, theirs = getattr(scratch, name), _torch_built(name)
    args = ["input_size", "hidden_size", "bias"] if name.endswith("Cell") else list(LAYER_ARGS)
    args += ["proj_size"] if name == "LSTM" else []
    for arg in args:
        for value in ODD:
            given = {"input_size": 3, "hidden_size": 4, arg: value}
            if arg == "dropout" and value in (2.0, -1):
                continue  # a rate out of range: both a ValueError, checked in test_drop_in
            expected = _outcome(lambda given=given: theirs(**given))
            found = _outcome(lambda given=given: ours(**given))
            assert found == expected, (name, arg, value, expected)


def test_rnn_with_a_bool_hidden_size_is_a_type_error_as_in_torch_nn():
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: bool"):
        scratch.RNN(3, True)
    with pytest.raises(TypeError):
        torch.nn.RNN(3, True)
    assert scratch.LSTM(3, True).hidden_size is True  # torch.nn.LSTM(3, True) builds too
