"""The lab's figures, from what its experiments return (lab.py): plain lists, no models."""

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tasks import files
from tasks.gradients import adding
from tasks.gradients.config import INIT_CELLS, TABLE_ROWS, LabPlan

CLIP_COLORS = {"none": "tab:red", "value": "tab:orange", "norm": "tab:green"}


def _finite(values: list) -> np.ndarray:
    """As an array, with −∞, ∞ and missing values (null in JSON) as NaN: matplotlib skips them."""
    a = np.array([np.nan if v is None else v for v in values], dtype=float)
    a[~np.isfinite(a)] = np.nan
    return a


def _limits(curves: list[np.ndarray], margin: float = 0.05) -> tuple[float, float]:
    """y limits that hold every finite point of ``curves``."""
    points = np.concatenate([c[np.isfinite(c)] for c in curves] or [np.zeros(1)])
    if not points.size:
        return -1.0, 1.0
    low, high = points.min(), points.max()
    pad = max(high - low, 1.0) * margin
    return low - pad, high + pad


def plot_at_init(found: list[dict], plan: LabPlan, path: Path) -> None:
    """Top: log10 ‖dL/dh_t‖ per init (solid) and the bound of the Jacobians (dotted). Bottom:
    log10 σ_max of each step's Jacobian. One column per cell."""
    labels = list(dict.fromkeys(e["init"] for e in found))
    colors = {label: f"C{i}" for i, label in enumerate(labels)}
    cells = [name for name, _ in INIT_CELLS]
    fig = Figure(figsize=(4.2 * len(cells), 7.5))
    axes = fig.subplots(2, len(cells), sharex=True, squeeze=False)
    for k, cell in enumerate(cells):
        top, bottom = axes[0, k], axes[1, k]
        mine = [e for e in found if e["cell"] == cell]
        for e in mine:
            color = colors[e["init"]]
            t = np.arange(len(e["grad"]))
            top.plot(t, _finite(e["grad"]), color=color, lw=1.4, label=e["init"])
            top.plot(t, _finite(e["bound"]), color=color, lw=0.8, ls=":")
            bottom.plot(t, _finite(e["sigma"]), color=color, lw=1.0, label=e["init"])
        top.set_ylim(*_limits([_finite(e["grad"]) for e in mine]))
        top.set_title(f"{cell}, T = {plan.init_len}, H = {plan.hidden_size}")
        bottom.axhline(0.0, color="black", lw=0.6)
        bottom.set_xlabel("t")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
        top.legend(fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("log10 ‖dL/dh_t‖   (dotted: the bound Π σ_max)")
    axes[1, 0].set_ylabel("log10 σ_max(∂state_t / ∂state_{t−1})")
    fig.suptitle("Gradient reaching each step at initialisation (mean over sequences)")
    fig.tight_layout()
    files.write_figure(fig, path)


def _grid(plan: LabPlan) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(3.4 * len(plan.lengths), 2.5 * len(TABLE_ROWS)))
    return fig, fig.subplots(len(TABLE_ROWS), len(plan.lengths), squeeze=False)


def plot_adding_curves(found: list[dict], plan: LabPlan, path: Path) -> None:
    """log10 ‖dL/dh_t‖ at initialisation and after training, one panel per network and T."""
    fig, axes = _grid(plan)
    for i, row in enumerate(TABLE_ROWS):
        for j, seq_len in enumerate(plan.lengths):
            ax = axes[i, j]
            e = next(e for e in found if e["row"] == row.name and e["seq_len"] == seq_len)
            t = np.arange(seq_len)
            shown = [_finite(e["grad_before"])]
            ax.plot(t, shown[0], color="grey", lw=1.0, label="at initialisation")
            if e["grad_after"] is not None:
                shown.append(_finite(e["grad_after"]))
                ax.plot(t, shown[1], color="tab:blue", lw=1.2, label="after training")
            ax.set_ylim(*_limits(shown))
            ax.set_title(f"{row.name}, T = {seq_len}", fontsize=9)
            ax.text(0.02, 0.04, _short(e), transform=ax.transAxes, fontsize=8)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel("log10 ‖dL/dh_t‖")
            if i == len(TABLE_ROWS) - 1:
                ax.set_xlabel("t")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Adding problem: the gradient reaching each step, before and after training")
    fig.tight_layout()
    files.write_figure(fig, path)


def _short(e: dict) -> str:
    if e["diverged_at"] is not None:
        return f"diverged at step {e['diverged_at']}"
    return f"test MSE {e['test_mse']:.4f}"


def plot_adding_mse(found: list[dict], plan: LabPlan, path: Path) -> None:
    """Test MSE against the step, one panel per T, beside the yardstick and the solved line."""
    fig = Figure(figsize=(4.2 * len(plan.lengths), 3.8))
    axes = fig.subplots(1, len(plan.lengths), sharey=True, squeeze=False)[0]
    for ax, seq_len in zip(axes, plan.lengths, strict=True):
        for k, row in enumerate(TABLE_ROWS):
            e = next(e for e in found if e["row"] == row.name and e["seq_len"] == seq_len)
            if e["evals"]:
                steps, mse = zip(*e["evals"], strict=True)
                ax.plot(steps, _finite(list(mse)), color=f"C{k}", lw=1.2, label=row.name)
        ax.axhline(adding.MEAN_MSE, color="black", ls="--", lw=0.8, label="predicting the mean")
        ax.axhline(adding.SOLVED, color="black", ls=":", lw=0.8, label="solved")
        ax.set_yscale("log")
        ax.set_title(f"T = {seq_len}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test MSE")
    axes[0].legend(fontsize=7)  # every row has a curve at the shortest T (one may diverge later)
    fig.suptitle(f"Adding problem, H = {plan.hidden_size}: test MSE while training")
    fig.tight_layout()
    files.write_figure(fig, path)


def plot_exploding(found: list[dict], plan: LabPlan, path: Path) -> None:
    """Per step and clipping mode: the training loss, the gradient norm before clipping, and the
    cosine between the gradient and its value-clipped self (norm clipping keeps it at 1)."""
    fig = Figure(figsize=(15, 4))
    loss_ax, norm_ax, cos_ax = fig.subplots(1, 3, sharex=True)
    for e in found:
        color, label = CLIP_COLORS[e["clip_mode"]], _clip_label(e)
        steps = np.arange(1, len(e["loss"]) + 1)
        loss_ax.plot(steps, _finite(e["loss"]), color=color, lw=1.0, label=label)
        norm_ax.plot(steps, _finite(e["grad_norm"]), color=color, lw=1.0, label=label)
        cos_ax.plot(steps, _finite(e["value_clip_cosine"]), color=color, lw=1.0, label=label)
    loss_ax.axhline(adding.MEAN_MSE, color="black", ls="--", lw=0.8, label="predicting the mean")
    _exploding_axes(loss_ax, "training loss (MSE)")
    _exploding_axes(norm_ax, "gradient norm before clipping")
    _exploding_axes(cos_ax, "cos(g, g clamped to ±clip)", log=False)
    c = plan.exploding
    fig.suptitle(
        f"Exploding: {c.cell} ({c.nonlinearity}), --init {c.init}, W_hh × {c.recurrent_gain}, "
        f"T = {c.seq_len}, {c.optimizer} lr {c.lr}, clip {c.clip}"
    )
    fig.tight_layout()
    files.write_figure(fig, path)


def _clip_label(e: dict) -> str:
    names = {"none": "no clipping", "value": "value clipping", "norm": "norm clipping"}
    gone = f", diverged at step {e['diverged_at']}" if e["diverged_at"] is not None else ""
    return names[e["clip_mode"]] + gone


def _exploding_axes(ax: Axes, ylabel: str, log: bool = True) -> None:
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
