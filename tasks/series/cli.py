"""Forecast a time series with a recurrent network, beside honest yardsticks.

    python -m tasks.series train --impl scratch --cell lstm          # CO2, the default preset
    python -m tasks.series train --preset macro --head recursive     # multivariate, fed back
    python -m tasks.series train --csv FILE --columns a b --target a --window 30 --horizon 7
    python -m tasks.series train --smoke                             # seconds; what CI runs
    python -m tasks.series forecast --checkpoint runs/series/<run>/checkpoint.pt

This file is the command line, and ``smoke_losses`` for the compare report. The rest, one job
per file:

- ``tasks/series_data.py``: the series (CO2, US macro, sines, Lorenz, a CSV);
- ``tasks/series_windows.py``: sliding windows, the chronological split, scaling;
- ``tasks/series_baselines.py``: the yardsticks and the scores;
- ``tasks/series_config.py``: the config, the presets, and the problem a config sets up;
- ``tasks/series_model.py``: the network and the task that the shared loop trains;
- ``tasks/series_report.py``: the score table on the test split and the figures.

Training runs in the shared loop (``tasks/loop.py``); the run folder gets its checkpoint,
metrics and loss curve, and from ``series_report`` results.md (network and yardsticks on the
test split) and the forecast figures. See docs/series.md.
"""

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

from tasks import checkpoint, loop
from tasks.impl import IMPLS
from tasks.series_config import CELLS, HEADS, NORMS, PRESETS, SMOKE, SeriesConfig, describe, prepare
from tasks.series_data import DATASETS, SeriesError
from tasks.series_model import SeriesTask, build_model, loop_config, network_forecast
from tasks.series_report import future_stamps, plot_future, report
from tasks.series_windows import Scaler

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


# ---------------------------------------------------------------------------------------------
# for the compare report and the tests


def smoke_losses(impl: str, steps: int = 50, seed: int = 0) -> list[float]:
    """Training losses of the first ``steps`` steps of a small model on noisy sines; no files.

    For the compare report: from the same seed, scratch and reference must print the same list.
    Prints nothing: no progress bar, no held-out line.
    """
    tiny = dict(window=20, horizon=5, hidden=8, batch_size=16)
    cfg = SeriesConfig(**{**PRESETS["sines"], **tiny, "impl": impl, "seed": seed})
    problem = prepare(cfg)
    task = SeriesTask(cfg, problem, build_model(cfg, problem.series))
    lc = replace(
        loop_config(cfg, task, progress=False), steps=steps, eval_every=steps, print_evals=False
    )
    return loop.train(task, lc, out=None).train


if __name__ == "__main__":
    main()
