"""The gradient-flow lab: four experiments on how much gradient BPTT carries back through time.

1. ``at_initialisation``: log10 ‖dL/dh_t‖ against t at T = 500 for every cell under every
   init, recorded from our BPTT, beside σ_max of each step's Jacobian and the bound it sets
   (flow.py, jacobian.py).
2. ``adding_problem``: each network of ``TABLE_ROWS`` trained on the adding problem at every
   T of the plan: final test MSE, the step it was solved at, and its gradient curve at
   initialisation and after training.
3. ``exploding``: one configuration whose gradients explode, trained without clipping, with
   value clipping and with norm clipping.
4. ``copy``: the copy-memory task at every gap of the plan, beside its memoryless yardstick
   (copy_lab.py).

``run`` runs the chosen experiments and writes results.json, results.md and the figures
(figures.py, tables.py) into the lab's folder, with one run folder per training run
(runs.py). See docs/gradients.md.
"""

import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import torch

from tasks import files
from tasks.gradients import adding, figures, tables
from tasks.gradients.config import (
    EXPERIMENTS,
    INIT_CELLS,
    PLANS,
    PRESETS,
    TABLE_ROWS,
    AddingConfig,
    LabConfig,
    LabPlan,
)
from tasks.gradients.copy_lab import copy_runs, copy_task
from tasks.gradients.flow import (
    log10_bound,
    log10_mean,
    log10_mean_of_logs,
    slope,
    state_gradients,
)
from tasks.gradients.jacobian import step_jacobian_norms
from tasks.gradients.model import AddingModel, build_model
from tasks.gradients.runs import check_folder, train_all, train_in
from tasks.init import SCHEMES


def run(cfg: LabConfig) -> int:
    """Run the lab as ``cfg`` says; exit status 0, or 130 when stopped (rerun to continue)."""
    plan = PLANS["smoke" if cfg.smoke else "full"]
    out = (
        Path(cfg.out) if cfg.out else Path("runs", "gradients", time.strftime("lab-%Y%m%d-%H%M%S"))
    )
    files.make_folder(out)
    with files.owned(out):  # one lab in a folder at a time
        return _run(cfg, out, plan)


def _run(cfg: LabConfig, out: Path, plan: LabPlan) -> int:
    chosen = cfg.experiments or list(EXPERIMENTS)
    planned = (
        (table_runs(plan, cfg, out) if "adding" in chosen else [])
        + (exploding_runs(plan, cfg, out) if "exploding" in chosen else [])
        + (copy_runs(plan, cfg, out, table_config) if "copy" in chosen else [])
    )
    for *_, run_cfg, folder in planned:  # before anything runs: a folder of another config
        check_folder(folder, run_cfg)
    say = _Say()
    say(f"lab folder {out}: {', '.join(chosen)}{' (smoke sizes)' if cfg.smoke else ''}")
    found: dict = {}
    try:
        if "init" in chosen:
            found["init"] = at_initialisation(plan, cfg.seed, say)
            figures.plot_at_init(
                found["init"], plan, out / "at_init.png", out / "at_init_sigma.png"
            )
        trainings = [(run_cfg, folder) for *_, run_cfg, folder in planned]
        train_all(trainings, cfg.workers, not cfg.no_progress, say)
        if "adding" in chosen:
            found["adding"] = adding_problem(plan, cfg, out)
            figures.plot_adding_curves(found["adding"], plan, out / "adding_curves.png")
            figures.plot_adding_mse(found["adding"], plan, out / "adding_mse.png")
        if "exploding" in chosen:
            found["exploding"] = exploding(plan, cfg, out)
            figures.plot_exploding(found["exploding"], plan, out / "exploding.png")
        if "copy" in chosen:
            runs = copy_runs(plan, cfg, out, table_config)
            found["copy"] = copy_task(runs, not cfg.no_progress, command)
    except KeyboardInterrupt:  # the loop's Stopped, or the lab's workers stopped
        print(
            f"stopped: run the same command with --out {out} to continue (finished runs are kept)",
            file=sys.stderr,
        )
        return 130
    files.write_json(found, out / "results.json")
    report = tables.report(found, plan, cfg, out)
    files.write_text(report, out / "results.md")
    print(report, end="")
    say(f"done: results.md, results.json and the figures are in {out}")
    return 0


class _Say:
    """Progress lines on stderr, each with the time since the lab started."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.start:6.0f} s] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# 1. at initialisation


def init_variants(changes: dict) -> list[tuple[str, dict]]:
    """(label, changes) for every init a cell takes, and for the LSTM a forget bias of 1 too."""
    schemes = [s for s in SCHEMES if s != "identity" or changes["cell"] == "rnn"]
    variants = [(s, {"init": s}) for s in schemes]
    if changes["cell"] == "lstm":
        variants.append(("default, b_f = 1", {"forget_bias": 1.0}))
    return variants


def at_initialisation(plan: LabPlan, seed: int, say) -> list[dict]:
    """Per cell and init: the per-step gradient curve, σ_max of each step's Jacobian, the bound."""
    x, y = (t.double() for t in adding.batch(seed, adding.TEST, 1, plan.init_batch, plan.init_len))
    found = []
    for cell_name, changes in INIT_CELLS:
        for label, extra in init_variants(changes):
            cfg = replace(
                AddingConfig(impl="scratch", hidden_size=plan.hidden_size, seed=seed),
                seq_len=plan.init_len,
                **changes,
                **extra,
            )
            model = build_model(cfg).double()
            flow = state_gradients(model, x, y)
            sigma = step_jacobian_norms(model.rnn, x, plan.power_iterations)  # (T, N)
            grad = log10_mean(flow.h)
            bound = log10_mean_of_logs(log10_bound(flow.state[-1], sigma))
            found.append(
                {
                    "cell": cell_name,
                    "init": label,
                    "grad": grad.tolist(),
                    "bound": bound.tolist(),
                    "sigma": log10_mean(sigma).tolist(),
                    "slope": slope(grad),
                    "bound_slope": slope(bound),
                    "sigma_mean": sigma.mean().item(),
                }
            )
            say(f"at initialisation: {cell_name}, {label}: {slope(grad):+.4f} decades per step")
    return found


# ---------------------------------------------------------------------------------------------
# 2. the adding problem


def table_config(plan: LabPlan, cfg: LabConfig, seq_len: int, changes: dict) -> AddingConfig:
    """The config of one row of the table at one T."""
    base = replace(
        PRESETS["default"],
        impl=cfg.impl,
        hidden_size=plan.hidden_size,
        seq_len=seq_len,
        steps=plan.steps,
        eval_every=plan.eval_every,
        checkpoint_every=plan.checkpoint_every,
        test_size=plan.test_size,
        seed=cfg.seed,
    )
    return replace(base, **changes)


def table_runs(plan: LabPlan, cfg: LabConfig, out: Path) -> list[tuple]:
    """(row, T, config, run folder) of every run of the table, T by T."""
    return [
        (
            row,
            seq_len,
            table_config(plan, cfg, seq_len, row.changes),
            out / "adding" / f"{row.slug}-T{seq_len}",
        )
        for seq_len in plan.lengths
        for row in TABLE_ROWS
    ]


def adding_problem(plan: LabPlan, cfg: LabConfig, out: Path) -> list[dict]:
    """Every row of ``TABLE_ROWS`` at every T: results, MSE curve, gradient curves."""
    found = []
    for row, seq_len, run_cfg, folder in table_runs(plan, cfg, out):
        x, y = adding.batch(cfg.seed, adding.TEST, 1, plan.curve_batch, seq_len)
        before = gradient_curve(run_cfg, build_model(run_cfg), x, y)
        trained = train_in(run_cfg, folder, not cfg.no_progress)  # trained: reads its folder
        diverged = trained.results["diverged_at"] is not None
        after = None if diverged else gradient_curve(run_cfg, trained.model, x, y)
        found.append(
            {
                "row": row.name,
                "seq_len": seq_len,
                "command": command(run_cfg),
                **trained.results,
                "evals": [(e["step"], e["loss"]) for e in trained.evals],
                "grad_before": before,
                "grad_after": after,
            }
        )
    return found


def gradient_curve(cfg: AddingConfig, model: AddingModel, x: torch.Tensor, y: torch.Tensor) -> list:
    """log10 of the mean ‖dL/dh_t‖ over (x, y) at every t, recorded by a float64 scratch copy."""
    ours = build_model(cfg, impl="scratch")
    ours.load_state_dict(model.state_dict())
    return log10_mean(state_gradients(ours.double(), x.double(), y.double()).h).tolist()


def command(cfg: AddingConfig) -> str:
    """The ``train`` command line that trains ``cfg`` on its own."""
    default = PRESETS["default"]
    flags = [
        f"--{f.name.replace('_', '-')} {getattr(cfg, f.name)}"
        for f in fields(AddingConfig)
        if getattr(cfg, f.name) != getattr(default, f.name)
    ]
    return " ".join(["python -m tasks.gradients train", *flags])


# ---------------------------------------------------------------------------------------------
# 3. exploding gradients


def exploding_runs(plan: LabPlan, cfg: LabConfig, out: Path) -> list[tuple]:
    """(clip mode, config, run folder) of the exploding configuration's three runs."""
    modes = ("none", "value", "norm")
    return [
        (
            mode,
            replace(plan.exploding, impl=cfg.impl, seed=cfg.seed, clip_mode=mode),
            out / "exploding" / mode,
        )
        for mode in modes
    ]


def exploding(plan: LabPlan, cfg: LabConfig, out: Path) -> list[dict]:
    """The exploding configuration without clipping, with value clipping, with norm clipping."""
    found = []
    for mode, run_cfg, folder in exploding_runs(plan, cfg, out):
        trained = train_in(run_cfg, folder, not cfg.no_progress)  # trained: reads its folder
        found.append(
            {
                "clip_mode": mode,
                "command": command(replace(run_cfg, clip_mode=PRESETS["default"].clip_mode)),
                **trained.results,
                "loss": [r["loss"] for r in trained.records],
                "grad_norm": [r["grad_norm"] for r in trained.records],
                "value_clip_cosine": [r["value_clip_cosine"] for r in trained.records],
                "evals": [(e["step"], e["loss"]) for e in trained.evals],
            }
        )
    return found
