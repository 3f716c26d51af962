"""What one forecasting run is: its config, the presets by name, and the problem it sets up.

A config names the data, the window and horizon, the network and the training schedule
(``SeriesConfig``, one comment per field). A preset is the default config with a few fields
changed; the command line's flags override it (``tasks/series.py``). ``prepare`` turns a config
into the ``Problem`` that the model, the training task and the report share: the series, its
train / validation / test examples (``tasks/series_windows.py``) and the scaler fitted on the
training part.
"""

from dataclasses import dataclass

from tasks.series_data import Series, load_series
from tasks.series_windows import Scaler, Windows, split_windows

CELLS = ("rnn", "lstm", "gru")
HEADS = ("direct", "recursive")
NORMS = ("relative", "global")


@dataclass
class SeriesConfig:
    data: str = "co2"  # which series: co2 | macro | sines | lorenz | csv
    csv: str | None = None  # path of the CSV file (data csv)
    columns: list[str] | None = None  # input columns (csv, macro); None: the dataset's own
    target: str | None = None  # the column to forecast (csv, macro); None: the dataset's own
    period: int = 0  # season length for seasonal naive and MASE; 0: the dataset's own
    window: int = 104  # W: steps of history the network reads
    horizon: int = 52  # K: steps ahead that are forecast and scored
    head: str = "direct"  # direct: K values at once | recursive: one step, fed back K times
    norm: str = "relative"  # relative: windows minus their last value | global: one mean
    val_fraction: float = 0.15  # the part before the test part that is held out for validation
    test_fraction: float = 0.15  # the last part of the series, scored at the end
    impl: str = "reference"  # scratch | reference: who computes the recurrent layer
    cell: str = "lstm"  # rnn | lstm | gru
    hidden: int = 64  # H: hidden units per layer
    layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers
    epochs: int = 60  # passes over the training examples
    batch_size: int = 64  # examples per optimizer step
    lr: float = 1e-2  # Adam's learning rate at the start; it decays to zero along a cosine
    clip: float = 1.0  # gradient-norm clipping threshold (0: none)
    eval_every: int = 100  # optimizer steps between validation passes
    seed: int = 0  # seeds the weights and the order of the examples


# Presets by name: each is the default config with a few fields changed, then flags override.
PRESETS: dict[str, dict] = {
    "co2": {},
    "macro": dict(
        data="macro", window=16, horizon=8, hidden=32, epochs=300, batch_size=32, eval_every=100
    ),
    "sines": dict(data="sines", window=50, horizon=25, hidden=32, epochs=100),
    "lorenz": dict(data="lorenz", window=50, horizon=20, hidden=64, epochs=20),
}
SMOKE = dict(hidden=8, epochs=1)  # --smoke: a baby model and one pass, seconds on a laptop


# ---------------------------------------------------------------------------------------------
# the problem: the series, its three splits, and the scaler fitted on the training part


@dataclass
class Problem:
    """What one config cuts from its data: the series, the split examples, the fitted scaler."""

    series: Series
    splits: dict[str, Windows]  # "train", "val", "test"
    scaler: Scaler


def prepare(cfg: SeriesConfig, scaler: Scaler | None = None) -> Problem:
    """Load the series, cut and split the examples, fit the scaler (or reuse a saved one)."""
    series = load_series(cfg.data, cfg.csv, cfg.columns, cfg.target)
    if cfg.period:
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
