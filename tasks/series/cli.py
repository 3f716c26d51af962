"""``python -m tasks.series train ...`` and ``python -m tasks.series forecast ...``.

``train``'s flags are generated from ``SeriesConfig`` (tasks/cli.py), ``forecast``'s from
``ForecastConfig``; both end badly in one line (exit status 2 for bad input).
"""

from dataclasses import dataclass, replace
from pathlib import Path

from tasks import checkpoint, cli, files
from tasks.config import at_least, option
from tasks.errors import BadInput
from tasks.series.config import PRESETS, SeriesConfig, describe, make_problem
from tasks.series.model import build_model, network_forecast
from tasks.series.report import future_stamps, plot_future, report
from tasks.series.train import data_fingerprint, finish, prepare
from tasks.series.windows import Scaler


def _build(cfg: SeriesConfig, saved: dict | None) -> cli.Prepared:
    prepared = prepare(cfg, saved)
    print(describe(prepared.task.problem))
    return prepared


TRAINER = cli.Trainer(
    name="series",
    about="a forecaster, scored beside the yardsticks",
    config=SeriesConfig,
    presets=PRESETS,
    default_preset="co2",
    build=_build,
    finish=finish,
    meta_checks={"scaler": Scaler.holds},
)


@dataclass
class ForecastConfig:
    checkpoint: str | None = option(None, required=True)  # checkpoint.pt of a train run
    impl: str | None = None  # run the saved weights on this implementation (default: as trained)
    steps: int | None = option(
        None, check=at_least(1)
    )  # steps to forecast past the data, at most as many as the data hold (default: the trained horizon)
    out: str | None = None  # folder for results and figures (default: the checkpoint's folder)


def main(argv: list[str] | None = None) -> int:
    """Run ``train`` or ``forecast``; returns the exit status."""
    forecast = cli.Command(
        "forecast", "forecast with a trained checkpoint", ForecastConfig, _forecast
    )
    description = "Forecast a time series with a recurrent network, beside honest yardsticks."
    return cli.main(argv, "python -m tasks.series", description, TRAINER, forecast)


def _forecast(opts: ForecastConfig) -> int:
    """Reload a checkpoint, re-score it on the test split, forecast past the end of the data."""
    path = Path(opts.checkpoint)
    state, cfg = cli.load_trained(path, TRAINER)
    cfg = replace(cfg, impl=opts.impl or cfg.impl)
    problem = make_problem(cfg, Scaler.from_state(state["meta"]["scaler"]))
    cli.check_data(
        state,
        data_fingerprint(problem),
        path,
        "forecast from the data it trained on, or train anew",
    )
    print(describe(problem))
    model = build_model(cfg, problem.series)
    checkpoint.load_weights(model, state["model"], path)
    s = problem.series
    steps = opts.steps or cfg.horizon
    if steps > len(s.values):
        raise BadInput(
            f"--steps {steps}: the data hold {len(s.values)} steps; a forecast reaches at most "
            "as far past them"
        )
    future = network_forecast(model, problem, cfg, s.values[None, -cfg.window :], steps)[0]
    when = future_stamps(s, steps)
    out = Path(opts.out) if opts.out else path.parent
    files.make_folder(out)
    with files.owned(out):  # not while a run trains in that folder
        _write(cfg, problem, model, out, steps, when, future)
    return 0


def _write(cfg, problem, model, out: Path, steps: int, when, future) -> None:
    """The forecast's report, figures and lines, into ``out``."""
    s = problem.series
    print(report(cfg, problem, model, out))
    print(f"forecast of {s.target} for the {steps} steps after the data:")
    for stamp, value in zip(when, future, strict=True):
        print(f"  {stamp}  {value:.3f}")
    plot_future(cfg, s, when, future, out / "forecast_future.png")
    print(f"figures and results in {out}")
