"""How a trained forecaster is judged and shown: the score table on the test split, the figures.

The network is scored beside the yardsticks of ``baselines.py``, on the same test
windows and in the series' own units. ``report`` writes what a run folder gets from this task:

- results.md and results.json: RMSE, MAE and MASE, one step and K steps ahead, per forecaster
- classical.json: the statsmodels models tried, with their AIC on the training part;
- rmse_by_horizon.png: every forecaster's RMSE h steps ahead, h = 1..K;
- forecast_1step.png: the test split with the one-step forecasts;
- forecast_Kstep.png: K-step forecasts from successive, non-overlapping origins.

The ``forecast`` command adds forecast_future.png (``plot_future``). See docs/series.md.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tasks import files
from tasks.series.baselines import markdown_table, mase_scale, score_table, yardstick_forecasts
from tasks.series.classical import classical_forecasts
from tasks.series.config import Problem, SeriesConfig
from tasks.series.data import Series
from tasks.series.model import Forecaster, network_forecast
from tasks.series.windows import split_points


def network_name(cfg: SeriesConfig) -> str:
    """The network's row in the score table and its legend entry, e.g. 'LSTM (scratch), direct'."""
    return f"{cfg.cell.upper()} ({cfg.impl}), {cfg.head}"


# ---------------------------------------------------------------------------------------------
# scoring


def assess(
    cfg: SeriesConfig, problem: Problem, model: Forecaster
) -> tuple[dict, dict[str, np.ndarray], dict]:
    """Score the network beside the yardsticks on the test split: (score table, forecasts,
    what the statsmodels yardsticks chose on the training part)."""
    s, train, test = problem.series, problem.splits["train"], problem.splits["test"]
    t = s.target_index
    train_end, _ = split_points(len(s.values), cfg.val_fraction, cfg.test_fraction)
    forecasts = yardstick_forecasts(train, test.inputs, problem.scaler, cfg.horizon, t, s.period)
    classical, chosen = classical_forecasts(
        s.values[:, t], train_end, test.starts, cfg.horizon, s.period, cfg.classical
    )
    forecasts.update(classical)
    forecasts[network_name(cfg)] = network_forecast(model, problem, cfg, test.inputs, cfg.horizon)
    scale = mase_scale(s.values[:train_end, t], s.period)
    return score_table(forecasts, test.targets[..., t], scale), forecasts, chosen


def report(cfg: SeriesConfig, problem: Problem, model: Forecaster, out: Path | None) -> str:
    """Score, print and (with ``out``) write results.md, results.json and the forecast figures."""
    table, forecasts, chosen = assess(cfg, problem, model)
    heading = f"test split, {len(problem.splits['test'])} windows:\n\n"
    text = heading + markdown_table(table, cfg.horizon, problem.series.unit)
    if out is not None:
        files.write_text(text, out / "results.md")
        files.write_json(table, out / "results.json")
        files.write_json(chosen, out / "classical.json")
        plot_forecasts(cfg, problem, forecasts, out)
        truth = problem.splits["test"].targets[..., problem.series.target_index]
        plot_by_horizon(forecasts, truth, problem.series, out / "rmse_by_horizon.png")
    return text


# ---------------------------------------------------------------------------------------------
# figures


def stamps(series: Series, rows: np.ndarray) -> np.ndarray:
    """Time stamps of ``rows`` for a plot's x axis (step numbers when the series has none)."""
    return rows if series.time is None else series.time[rows]


def future_stamps(series: Series, steps: int) -> np.ndarray:
    """The ``steps`` time stamps after the data, continuing its frequency (or step numbers)."""
    n = len(series.values)
    if series.time is None:
        return np.arange(n, n + steps)
    return pd.date_range(series.time[-1], periods=steps + 1, freq=series.time.freq)[1:].date


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

    fig, ax = _figure()
    ax.plot(truth_x, truth_y, color="black", lw=1, label="truth")
    for name in (net, "linear AR (raw values), direct"):
        ax.plot(stamps(s, test.starts), forecasts[name][:, 0], color=shown[name], lw=1, label=name)
    ax.set(title=f"{s.name}: one-step forecasts on the test split", ylabel=label)
    _finish(fig, ax, out / "forecast_1step.png")

    fig, ax = _figure()
    ax.plot(truth_x, truth_y, color="black", lw=1, label="truth")
    for i, origin in enumerate(range(0, len(test), cfg.horizon)):  # non-overlapping forecasts
        x = stamps(s, test.starts[origin] + np.arange(cfg.horizon))
        for name, color in shown.items():
            if name in forecasts:
                first = name if i == 0 else None  # one legend entry per forecaster
                ax.plot(x, forecasts[name][origin], color=color, lw=1.2, label=first)
    ax.set(title=f"{s.name}: {cfg.horizon}-step forecasts from successive origins", ylabel=label)
    _finish(fig, ax, out / "forecast_Kstep.png")


def plot_by_horizon(
    forecasts: dict[str, np.ndarray], truth: np.ndarray, s: Series, path: Path
) -> None:
    """Each forecaster's RMSE on the test windows h steps ahead, h = 1..K: where each wins."""
    fig, ax = _figure()
    h = np.arange(1, truth.shape[1] + 1)
    net = list(forecasts)[-1]
    for name, f in forecasts.items():
        rmse = np.sqrt(np.mean((f - truth) ** 2, axis=0))
        ax.plot(
            h,
            rmse,
            lw=2.2 if name == net else 1,
            color="tab:red" if name == net else None,
            label=name,
        )
    unit = f" ({s.unit})" if s.unit else ""
    ax.set(
        title=f"{s.name}: test RMSE by steps ahead", xlabel="steps ahead h", ylabel=f"RMSE{unit}"
    )
    _finish(fig, ax, path)


def plot_future(
    cfg: SeriesConfig, s: Series, when: np.ndarray, future: np.ndarray, path: Path
) -> None:
    """The last stretch of the data and the forecast that continues it."""
    fig, ax = _figure()
    shown = np.arange(max(0, len(s.values) - 3 * cfg.window), len(s.values))
    ax.plot(stamps(s, shown), s.values[shown, s.target_index], color="black", lw=1, label="data")
    ax.plot(when, future, color="tab:red", lw=1.2, label=network_name(cfg))
    ax.set(title=f"{s.name}: forecast past the end of the data", ylabel=s.target)
    _finish(fig, ax, path)


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(9, 4))
    return fig, fig.subplots()


def _finish(fig: Figure, ax: Axes, path: Path) -> None:
    """Grid, legend, save (atomically): the same for every figure."""
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.write_figure(fig, path)
