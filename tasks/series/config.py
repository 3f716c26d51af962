"""What one forecasting run is: its config, the presets by name, and the problem it sets up.

A config names the data, the window and horizon, the network and the training schedule
(``SeriesConfig``, one comment per field, each also a flag's help: tasks/cli.py). A preset is
a config by name; the command line's flags override it. ``make_problem`` turns a config into the
``Problem`` that the model, the training task and the report share: the series, its
train / validation / test examples (``windows.py``) and the scaler fitted on the training
part.
"""

from dataclasses import dataclass, replace

from tasks.config import at_least, distinct, fraction, option
from tasks.errors import BadInput
from tasks.series.data import DATASETS, Series, load_series
from tasks.series.windows import Scaler, Windows, split_windows

HEADS = ("direct", "recursive")
NORMS = ("relative", "global")


@dataclass
class SeriesConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    data: str = option("co2", choices=DATASETS)  # which series: co2 | macro | sines | lorenz | csv
    csv: str | None = (
        None  # path of a CSV file with a header row, oldest row first (implies --data csv)
    )
    columns: list[str] | None = option(None, check=distinct)  # input columns (csv, macro); the target is added if absent; None: the dataset's own
    target: str | None = None  # the column to forecast (needed with --csv); None: the dataset's own
    period: int | None = option(None, check=at_least(1))  # season length in steps, for seasonal naive and MASE; None: the dataset's own
    window: int = option(104, check=at_least(1))  # W: steps of history the network reads
    horizon: int = option(52, check=at_least(1))  # K: steps ahead that are forecast and scored
    head: str = option("direct", choices=HEADS)  # direct: K values at once | recursive: one step, fed back K times
    norm: str = option("relative", choices=NORMS)  # relative: windows minus their last value | global: one mean
    val_fraction: float = option(0.15, check=fraction)  # the part before the test part that is held out for validation
    test_fraction: float = option(0.15, check=fraction)  # the last part of the series, scored at the end
    impl: str = "reference"  # scratch | reference: who computes the recurrent layer
    cell: str = "lstm"  # recurrent layer, by its cell key (the variants and the minimal RNNs: --impl scratch)
    hidden_size: int = 64  # H: hidden units per layer
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers, in [0, 1)
    init: str = "default"  # recurrent weights: default (torch.nn's U(−1/√H, 1/√H)) | xavier_uniform | xavier_normal | kaiming | orthogonal | identity (rnn only); tasks/init.py
    forget_bias: float | None = None  # LSTM: start b_ih_f + b_hh_f at this value (e.g. 1); None: as --init draws it
    epochs: int = 60  # passes over the training examples (a --resume may raise it)
    batch_size: int = 64  # examples per optimizer step
    lr: float = 1e-2  # Adam's learning rate at the start; it decays to zero along a cosine
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value: clamp each element to ±clip | none
    clip: float = 1.0  # the clipping threshold
    eval_every: int = 100  # optimizer steps between validation passes
    checkpoint_every: int = 1000  # optimizer steps between checkpoints (one more at the end)
    seed: int = 0  # seeds the weights and the order of the examples
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda; under torchrun each process on a machine takes its own GPU
    # fmt: on

    def __post_init__(self):
        if self.csv is not None:  # a CSV file given is the data
            self.data = "csv"

    def check(self) -> None:
        """Rules between fields (tasks/config.py ``validate`` calls this); ``BadInput``."""
        if self.data == "csv" and not (self.csv and self.target):
            raise BadInput("--data csv needs --csv FILE and --target COLUMN")
        if self.val_fraction + self.test_fraction >= 1:
            raise BadInput(
                f"--val-fraction {self.val_fraction} and --test-fraction {self.test_fraction} "
                "leave nothing to train on: their sum must be below 1"
            )


# Presets by name: flags override them.
PRESETS = {
    "co2": SeriesConfig(),
    "macro": SeriesConfig(
        data="macro", window=16, horizon=8, hidden_size=32, epochs=300, batch_size=32
    ),
    "sines": SeriesConfig(data="sines", window=50, horizon=25, hidden_size=32, epochs=100),
    "lorenz": SeriesConfig(data="lorenz", window=50, horizon=20, hidden_size=64, epochs=20),
    # a baby model and one pass over CO2: seconds, what CI runs
    "smoke": SeriesConfig(hidden_size=8, epochs=1),
}


def smoke_config(impl: str, seed: int, cell: str | None = None) -> SeriesConfig:
    """A small LSTM (8 units) on 20-step windows of the noisy sines, batch 16, on the CPU:
    compare's check, the same on every machine."""
    sines = replace(PRESETS["sines"], device="cpu")
    cfg = replace(sines, window=20, horizon=5, hidden_size=8, batch_size=16, impl=impl, seed=seed)
    return cfg if cell is None else replace(cfg, cell=cell)


# ---------------------------------------------------------------------------------------------
# the problem: the series, its three splits, and the scaler fitted on the training part


@dataclass
class Problem:
    """What one config cuts from its data: the series, the split examples, the fitted scaler."""

    series: Series
    splits: dict[str, Windows]  # "train", "val", "test"
    scaler: Scaler


def make_problem(cfg: SeriesConfig, scaler: Scaler | None = None) -> Problem:
    """Load the series, cut and split the examples, fit the scaler (or reuse a saved one)."""
    series = load_series(cfg.data, cfg.csv, cfg.columns, cfg.target)
    if cfg.period is not None:
        series.period = cfg.period
    splits = split_windows(
        series.values, cfg.window, cfg.horizon, cfg.val_fraction, cfg.test_fraction
    )
    scaler = scaler or Scaler.fit(splits["train"].inputs, relative=cfg.norm == "relative")
    return Problem(series, splits, scaler)


def describe(problem: Problem) -> str:
    """One paragraph about the data, the split and the missing values that were filled."""
    s = problem.series
    gaps = f"{s.filled} missing values filled by linear interpolation" if s.filled else "no gaps"
    sizes = ", ".join(f"{name} {len(w)}" for name, w in problem.splits.items())
    return (
        f"data: {s.name}, {len(s.values)} steps x {len(s.columns)} columns ({', '.join(s.columns)}), "
        f"target {s.target}, season {s.period}; {gaps}\nexamples: {sizes}"
    )
