"""Forecast a time series with a recurrent network, beside honest yardsticks.

    python -m tasks.series train --impl scratch --cell lstm          # CO2, the default preset
    python -m tasks.series train --preset macro --head recursive     # multivariate, fed back
    python -m tasks.series train --csv FILE --columns a b --target a --window 30 --horizon 7
    python -m tasks.series train --smoke                             # seconds; what CI runs
    python -m tasks.series forecast --checkpoint runs/series/<run>/checkpoint.pt

How one example is cut from the series, split and scaled: ``tasks/series_windows.py``. The
network reads a window of W steps and its last hidden state goes through a linear head::

    window (N, W, C) ─▶ impl.RNN | LSTM | GRU ─▶ h at the last step (N, H) ─▶ Linear ─▶ forecast

- ``--head direct``: the head emits the next K values of the target at once (N, K, 1).
- ``--head recursive``: the head emits the next value of every column (N, 1, C); K steps come
  from feeding each prediction back as the newest input (``series_windows.roll_forward``).

Training runs in the shared loop (``tasks/loop.py``); the run folder gets its checkpoint,
metrics and loss curve, and from this file results.md (network and yardsticks on the test
split) and the forecast figures. See docs/series.md.
"""

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from tasks import checkpoint, loop
from tasks.impl import IMPLS, load_impl
from tasks.series_baselines import markdown_table, mase_scale, score_table, yardstick_forecasts
from tasks.series_data import DATASETS, Series, SeriesError, load_series
from tasks.series_windows import Scaler, Windows, roll_forward, split_points, split_windows

matplotlib.use("Agg")  # figures go to files; no display needed
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

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

# train's flags: config field -> (type, or the tuple of choices; help). Unset flags stay None,
# so that only what is typed overrides the preset.
TRAIN_FLAGS = {
    "data": (DATASETS, "series to forecast"),
    "csv": (str, "CSV file with a header row, oldest row first (implies --data csv)"),
    "columns": (str, "input columns (csv, macro); the target is added if absent"),
    "target": (str, "column to forecast (needed with --csv)"),
    "period": (int, "season length in steps, 0 for the dataset's own"),
    "window": (int, "W, steps of history per example"),
    "horizon": (int, "K, steps forecast and scored"),
    "head": (HEADS, "direct: K values at once; recursive: one step, fed back"),
    "norm": (NORMS, "relative: windows minus their last value; global: one mean"),
    "val_fraction": (float, "fraction of the series held out for validation, before the test"),
    "test_fraction": (float, "fraction of the series at its end, scored at the end of training"),
    "impl": (IMPLS, "implementation of the recurrent layer"),
    "cell": (CELLS, "recurrent cell"),
    "hidden": (int, "hidden units per layer"),
    "layers": (int, "stacked recurrent layers"),
    "dropout": (float, "dropout between stacked layers"),
    "epochs": (int, "passes over the training examples"),
    "batch_size": (int, "examples per optimizer step"),
    "lr": (float, "Adam's starting learning rate; it decays to zero along a cosine"),
    "clip": (float, "gradient-norm clip, 0 for none"),
    "eval_every": (int, "optimizer steps between validation passes"),
    "seed": (int, "seed of the weights and the batch order"),
}


# ---------------------------------------------------------------------------------------------
# data: the series, its three splits, and the scaler fitted on the training part


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


# ---------------------------------------------------------------------------------------------
# model: recurrent layer from the chosen implementation, linear head on its last output


class Forecaster(nn.Module):
    """``impl.RNN | LSTM | GRU`` over the window, then a linear map of the last hidden state."""

    def __init__(self, rnn: nn.Module, hidden: int, steps: int, outputs: int):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden, steps * outputs)
        self.steps, self.outputs = steps, outputs

    def forward(self, x: Tensor) -> Tensor:
        """Scaled windows (N, W, C) to scaled forecasts (N, steps, outputs)."""
        out, _ = self.rnn(x)  # (N, W, H): the top layer's output at every step
        return self.head(out[:, -1]).view(len(x), self.steps, self.outputs)  # (N, steps, outputs)


def head_layout(cfg: SeriesConfig, series: Series) -> tuple[int, list[int]]:
    """(steps, columns) the head emits: K steps of the target, or one step of every column."""
    if cfg.head == "direct":
        return cfg.horizon, [series.target_index]
    return 1, list(range(len(series.columns)))  # every column: each prediction is fed back


def build_model(cfg: SeriesConfig, series: Series, impl: str | None = None) -> Forecaster:
    """The network, seeded: the same seed gives the same weights in scratch and reference."""
    steps, cols = head_layout(cfg, series)
    layer = getattr(load_impl(impl or cfg.impl), cfg.cell.upper())
    torch.manual_seed(cfg.seed)
    rnn = layer(len(series.columns), cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout)
    return Forecaster(rnn, cfg.hidden, steps, len(cols))


def network_forecast(
    model: Forecaster, problem: Problem, cfg: SeriesConfig, inputs: np.ndarray, horizon: int
) -> np.ndarray:
    """The network's raw forecast of the target, ``horizon`` steps from each window: (N, horizon)."""
    _, cols = head_layout(cfg, problem.series)
    model.eval()

    def run(raw: np.ndarray) -> np.ndarray:  # raw windows (N, W, C) -> raw (N, steps, len(cols))
        with torch.no_grad():
            z = model(torch.as_tensor(problem.scaler.encode(raw), dtype=torch.float32))
        return problem.scaler.decode(raw, z.double().numpy(), cols)

    if cfg.head == "direct":
        if horizon > model.steps:
            raise SeriesError(
                f"a direct head emits {model.steps} steps, not {horizon}: train --head recursive"
            )
        return run(inputs)[:, :horizon, 0]
    return roll_forward(lambda w: run(w)[:, 0], inputs, horizon)[..., problem.series.target_index]


# ---------------------------------------------------------------------------------------------
# training: what the shared loop needs from this task


class SeriesTask:
    """The forecasting problem as ``tasks.loop.train`` sees it: model, optimizer, loss of step k.

    Step k reads batch k mod B of epoch k div B, an order drawn from (seed, epoch) alone, and
    runs at a learning rate that is a function of k alone, so a resumed run reads the very
    batches, at the very rates, that an uninterrupted one would.
    """

    def __init__(self, cfg: SeriesConfig, problem: Problem, model: Forecaster):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.batch_size, self.seed, self.lr = cfg.batch_size, cfg.seed, cfg.lr
        steps, cols = head_layout(cfg, problem.series)
        scaler = problem.scaler

        def tensors(w: Windows) -> tuple[Tensor, Tensor]:
            x = scaler.encode(w.inputs)  # (N, W, C)
            y = scaler.encode_targets(w.inputs, w.targets[:, :steps], cols)  # (N, steps, len(cols))
            return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)

        self.x, self.y = tensors(problem.splits["train"])
        self.val_x, self.val_y = tensors(problem.splits["val"])
        self.batches_per_epoch = math.ceil(len(self.x) / self.batch_size)
        self.steps = cfg.epochs * self.batches_per_epoch

    def batch(self, step: int) -> Tensor:
        """Indices of the training examples that step ``step`` reads."""
        epoch, k = divmod(step, self.batches_per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
        return torch.from_numpy(order[k * self.batch_size : (k + 1) * self.batch_size])

    def learning_rate(self, step: int) -> float:
        """Cosine decay from ``lr`` at step 0 to zero at the last step.

        Set by ``loss`` rather than by a torch scheduler: the shared loop takes no scheduler,
        and a rate computed from the step needs no state of its own in the checkpoint.
        """
        return 0.5 * self.lr * (1 + math.cos(math.pi * step / self.steps))

    def loss(self, step: int) -> Tensor:
        """Mean squared error, in scaled units, of one batch (at this step's learning rate)."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        idx = self.batch(step)
        return nn.functional.mse_loss(self.model(self.x[idx]), self.y[idx])

    def evaluate(self) -> dict[str, float]:
        """The same loss over every validation example."""
        return {"loss": nn.functional.mse_loss(self.model(self.val_x), self.val_y).item()}

    def get_state(self) -> dict:
        """Nothing carries over between steps: each window starts from a zero state."""
        return {}

    def set_state(self, state: dict) -> None:
        """Nothing to restore (see ``get_state``)."""


def loop_config(cfg: SeriesConfig, task: SeriesTask, progress: bool = True) -> loop.LoopConfig:
    """Epochs become optimizer steps for the shared loop."""
    return loop.LoopConfig(
        steps=task.steps,
        clip=cfg.clip,
        eval_every=cfg.eval_every,
        checkpoint_every=10 * cfg.eval_every,
        items_per_step=cfg.batch_size,
        item_name="windows",
        loss_label="mean squared error (scaled units)",
        progress=progress,
    )


def smoke_losses(impl: str, steps: int = 50, seed: int = 0) -> list[float]:
    """Training losses of the first ``steps`` steps of a small model on noisy sines; no files.

    For the compare report: from the same seed, scratch and reference must print the same list.
    """
    tiny = dict(window=20, horizon=5, hidden=8, batch_size=16)
    cfg = SeriesConfig(**{**PRESETS["sines"], **tiny, "impl": impl, "seed": seed})
    problem = prepare(cfg)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    lc = replace(loop_config(cfg, task, progress=False), steps=steps, eval_every=steps)
    return loop.train(task, lc, out=None).train


# ---------------------------------------------------------------------------------------------
# scoring and figures


def assess(
    cfg: SeriesConfig, problem: Problem, model: Forecaster
) -> tuple[dict, dict[str, np.ndarray]]:
    """Score the network beside the yardsticks on the test split: (score table, forecasts)."""
    s, train, test = problem.series, problem.splits["train"], problem.splits["test"]
    t = s.target_index
    forecasts = yardstick_forecasts(train, test.inputs, problem.scaler, cfg.horizon, t, s.period)
    network = f"{cfg.cell.upper()} ({cfg.impl}), {cfg.head}"
    forecasts[network] = network_forecast(model, problem, cfg, test.inputs, cfg.horizon)
    train_end, _ = split_points(len(s.values), cfg.val_fraction, cfg.test_fraction)
    scale = mase_scale(s.values[:train_end, t], s.period)
    return score_table(forecasts, test.targets[..., t], scale), forecasts


def stamps(series: Series, rows: np.ndarray) -> np.ndarray:
    """Time stamps of ``rows`` for a plot's x axis (step numbers when the series has none)."""
    return rows if series.time is None else series.time[rows]


def plot_forecasts(
    cfg: SeriesConfig, problem: Problem, forecasts: dict[str, np.ndarray], out: Path
) -> None:
    """forecast_1step.png and forecast_Kstep.png: the test split, truth against forecasts."""
    s, test = problem.series, problem.splits["test"]
    t, net = s.target_index, list(forecasts)[-1]
    shown = {
        net: "tab:red",
        "linear AR (raw values), direct": "tab:green",
        "seasonal naive": "tab:purple",
    }
    truth_x = stamps(s, np.arange(test.starts[0] - cfg.window, len(s.values)))
    truth_y = s.values[test.starts[0] - cfg.window :, t]
    label = f"{s.target} ({s.unit})" if s.unit else s.target

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(truth_x, truth_y, color="black", lw=1, label="truth")
    for name in (net, "linear AR (raw values), direct"):
        ax.plot(stamps(s, test.starts), forecasts[name][:, 0], color=shown[name], lw=1, label=name)
    ax.set(title=f"{s.name}: one-step forecasts on the test split", ylabel=label)
    _finish(fig, ax, out / "forecast_1step.png")

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(truth_x, truth_y, color="black", lw=1, label="truth")
    for i, origin in enumerate(range(0, len(test), cfg.horizon)):  # non-overlapping forecasts
        x = stamps(s, test.starts[origin] + np.arange(cfg.horizon))
        for name, color in shown.items():
            if name in forecasts:
                first = name if i == 0 else None  # one legend entry per forecaster
                ax.plot(x, forecasts[name][origin], color=color, lw=1.2, label=first)
    ax.set(title=f"{s.name}: {cfg.horizon}-step forecasts from successive origins", ylabel=label)
    _finish(fig, ax, out / "forecast_Kstep.png")


def _finish(fig: plt.Figure, ax: plt.Axes, path: Path) -> None:
    """Grid, legend, save, close: the same for every figure."""
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(cfg: SeriesConfig, problem: Problem, model: Forecaster, out: Path | None) -> str:
    """Score, print and (with ``out``) write results.md, results.json and the forecast figures."""
    table, forecasts = assess(cfg, problem, model)
    heading = f"test split, {len(problem.splits['test'])} windows:\n\n"
    text = heading + markdown_table(table, cfg.horizon, problem.series.unit)
    if out is not None:
        checkpoint.write_text(text, out / "results.md")
        checkpoint.write_text(json.dumps(table, indent=2) + "\n", out / "results.json")
        plot_forecasts(cfg, problem, forecasts, out)
    return text


# ---------------------------------------------------------------------------------------------
# command line


def train_command(args: argparse.Namespace) -> None:
    """``train``: build the config, train in the shared loop, score and draw the result."""
    if args.resume and not args.out:
        raise SeriesError("--resume needs the --out folder of the run to continue")
    out = Path(args.out) if args.out else Path("runs/series") / time.strftime("%Y%m%d-%H%M%S")
    if args.resume:
        if not (out / "config.json").is_file():
            raise SeriesError(f"nothing to resume in {out}: it holds no config.json")
        cfg = SeriesConfig(**json.loads((out / "config.json").read_text())["config"])
    else:
        flags = {k: v for k, v in vars(args).items() if k in TRAIN_FLAGS and v is not None}
        if args.csv:
            flags["data"] = "csv"
        cfg = SeriesConfig(**{**PRESETS[args.preset], **flags, **(SMOKE if args.smoke else {})})
    problem = prepare(cfg)
    print(describe(problem))
    loop.seed_everything(cfg.seed)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    meta = {"task": "series", "config": asdict(cfg), "scaler": problem.scaler.state()}
    loop.train(
        task, loop_config(cfg, task, progress=not args.no_progress), out, meta, resume=args.resume
    )
    print(report(cfg, problem, task.model, out))
    print(f"run folder: {out}")


def forecast_command(args: argparse.Namespace) -> None:
    """``forecast``: reload a checkpoint, re-score it on the test split, forecast past the data."""
    path = Path(args.checkpoint)
    if not path.is_file():
        raise SeriesError(f"no such checkpoint: {path}")
    state = checkpoint.load(path)  # torch.load(..., weights_only=True): tensors and plain values
    if state["meta"].get("task") != "series":
        raise SeriesError(f"{path} is not a checkpoint of the series task")
    cfg = SeriesConfig(**state["meta"]["config"])
    cfg = replace(cfg, impl=args.impl or cfg.impl)
    problem = prepare(cfg, Scaler.from_state(state["meta"]["scaler"]))
    print(describe(problem))
    model = build_model(cfg, problem.series)
    model.load_state_dict(state["model"])
    s = problem.series
    steps = args.steps or cfg.horizon
    future = network_forecast(model, problem, cfg, s.values[None, -cfg.window :], steps)[0]
    when = future_stamps(s, steps)
    out = Path(args.out) if args.out else path.parent
    out.mkdir(parents=True, exist_ok=True)
    print(report(cfg, problem, model, out))
    print(f"forecast of {s.target} for the {steps} steps after the data:")
    for stamp, value in zip(when, future, strict=True):
        print(f"  {stamp}  {value:.3f}")
    plot_future(cfg, s, when, future, out / "forecast_future.png")
    print(f"figures and results in {out}")


def plot_future(
    cfg: SeriesConfig, s: Series, when: np.ndarray, future: np.ndarray, path: Path
) -> None:
    """The last stretch of the data and the forecast that continues it."""
    fig, ax = plt.subplots(figsize=(9, 4))
    shown = np.arange(max(0, len(s.values) - 3 * cfg.window), len(s.values))
    ax.plot(stamps(s, shown), s.values[shown, s.target_index], color="black", lw=1, label="data")
    name = f"{cfg.cell.upper()} ({cfg.impl}), {cfg.head}"
    ax.plot(when, future, color="tab:red", lw=1.2, label=name)
    ax.set(title=f"{s.name}: forecast past the end of the data", ylabel=s.target)
    _finish(fig, ax, path)


def future_stamps(series: Series, steps: int) -> np.ndarray:
    """The ``steps`` time stamps after the data, continuing its frequency (or step numbers)."""
    n = len(series.values)
    if series.time is None:
        return np.arange(n, n + steps)
    return pd.date_range(series.time[-1], periods=steps + 1, freq=series.time.freq)[1:].date


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tasks.series", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    tr = commands.add_parser("train", help="train a network and score it beside the yardsticks")
    tr.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="co2",
        help="named starting config; flags override it",
    )
    for name, (kind, text) in TRAIN_FLAGS.items():
        default = getattr(SeriesConfig(), name)
        choices = kind if isinstance(kind, tuple) else None
        tr.add_argument(
            "--" + name.replace("_", "-"),
            type=None if choices else kind,
            choices=choices,
            nargs="+" if name == "columns" else None,
            help=f"{text} (default {default})" if default is not None else text,
        )
    tr.add_argument("--out", help="run folder (default runs/series/<timestamp>)")
    tr.add_argument(
        "--resume", action="store_true", help="continue the run in --out with its saved config"
    )
    tr.add_argument("--smoke", action="store_true", help="a tiny model for one epoch: seconds (CI)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.set_defaults(run=train_command)

    fc = commands.add_parser("forecast", help="forecast with a trained checkpoint")
    fc.add_argument("--checkpoint", required=True, help="checkpoint.pt of a train run")
    fc.add_argument(
        "--impl",
        choices=IMPLS,
        help="run the saved weights on this implementation (default: as trained)",
    )
    fc.add_argument(
        "--steps", type=int, help="steps to forecast past the data (default: the trained horizon)"
    )
    fc.add_argument(
        "--out", help="folder for results and figures (default: the checkpoint's folder)"
    )
    fc.set_defaults(run=forecast_command)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except SeriesError as e:  # a plain message, not a traceback: the input needs fixing
        parser.exit(2, f"{parser.prog} {args.command}: error: {e}\n")
    except KeyboardInterrupt as stop:  # Ctrl-C: the loop has saved a checkpoint and says where
        parser.exit(130, f"{str(stop) or 'interrupted'}; continue with --resume\n")


if __name__ == "__main__":
    main()
