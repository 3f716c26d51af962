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


# Every figure is shown at the page's width, about 750 CSS pixels: drawn at most 11.5 inches wide
# at 120 dpi with text of at least 11 points, its smallest text stays about 10 pixels tall there
# (tests/test_site.py checks each figure's recorded text size against its shown width).
FONT = 11
WIDTH = 11.5  # inches


def _panels(fig: Figure, count: int) -> np.ndarray:
    """``count`` panels in rows of two, sharing their x axis."""
    rows = (count + 1) // 2
    return fig.subplots(rows, 2, sharex=True, squeeze=False).ravel()[:count]


def plot_at_init(found: list[dict], plan: LabPlan, path: Path, sigma_path: Path) -> None:
    """Two figures, one panel per cell. ``path``: log10 ‖dL/dh_t‖ per init (solid) and the bound
    of the Jacobians (dotted). ``sigma_path``: log10 σ_max of each step's Jacobian."""
    labels = list(dict.fromkeys(e["init"] for e in found))
    colors = {label: f"C{i}" for i, label in enumerate(labels)}
    cells = [name for name, _ in INIT_CELLS]
    grad_fig, sigma_fig = Figure(figsize=(WIDTH, 8.5)), Figure(figsize=(WIDTH, 8.5))
    grad_axes, sigma_axes = _panels(grad_fig, len(cells)), _panels(sigma_fig, len(cells))
    for cell, top, bottom in zip(cells, grad_axes, sigma_axes, strict=True):
        mine = [e for e in found if e["cell"] == cell]
        for e in mine:
            color = colors[e["init"]]
            t = np.arange(1, len(e["grad"]) + 1)  # steps 1 … T
            top.plot(t, _finite(e["grad"]), color=color, lw=1.6, label=e["init"])
            top.plot(t, _finite(e["bound"]), color=color, lw=1.0, ls=":")
            bottom.plot(t, _finite(e["sigma"]), color=color, lw=1.2, label=e["init"])
        top.set_ylim(*_limits([_finite(e["grad"]) for e in mine]))
        bottom.axhline(0.0, color="black", lw=0.6)
        for ax in (top, bottom):
            ax.set_title(cell, fontsize=FONT + 1)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=FONT)
            ax.set_xlabel("step t", fontsize=FONT)
        top.set_ylabel("log10 ‖dL/dh_t‖", fontsize=FONT)
        bottom.set_ylabel("log10 σ_max(J_t)", fontsize=FONT)
    for fig, axes, what in (
        (grad_fig, grad_axes, "gradient reaching each step (solid) and its bound Π σ_max (dotted)"),
        (
            sigma_fig,
            sigma_axes,
            r"σ_max of each step's Jacobian $J_t = \partial\,\mathrm{state}_t\,/\,\partial\,\mathrm{state}_{t-1}$",
        ),
    ):
        shown = {}  # every init once, in the order drawn (the LSTM alone has b_f = 1)
        for ax in axes:
            for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
                shown.setdefault(name, handle)
        fig.legend(
            list(shown.values()),
            list(shown),
            loc="lower center",
            ncol=4,
            fontsize=FONT,
            title="--init",
            title_fontsize=FONT,
            frameon=False,
        )
        fig.suptitle(
            f"At initialisation, T = {plan.init_len}, H = {plan.hidden_size}: {what}",
            fontsize=FONT + 1,
        )
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    files.write_figure(grad_fig, path)
    files.write_figure(sigma_fig, sigma_path)


def plot_adding_curves(found: list[dict], plan: LabPlan, path: Path) -> None:
    """log10 ‖dL/dh_t‖ at initialisation and after training: one row per network, one column
    per T; each panel's corner says how the run ended."""
    rows, cols = len(TABLE_ROWS), len(plan.lengths)
    fig = Figure(figsize=(WIDTH, 2.3 * rows + 0.9))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, row in enumerate(TABLE_ROWS):
        for j, seq_len in enumerate(plan.lengths):
            ax = axes[i, j]
            e = next(e for e in found if e["row"] == row.name and e["seq_len"] == seq_len)
            t = np.arange(1, seq_len + 1)  # steps 1 … T
            shown = [_finite(e["grad_before"])]
            ax.plot(t, shown[0], color="grey", lw=1.2, label="at initialisation")
            if e["grad_after"] is not None:
                shown.append(_finite(e["grad_after"]))
                ax.plot(t, shown[1], color="tab:blue", lw=1.4, label="after training")
            ax.set_ylim(*_limits(shown))
            ax.text(0.03, 0.05, _short(e), transform=ax.transAxes, fontsize=FONT - 1)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=FONT - 1)
            if i == 0:
                ax.set_title(f"T = {seq_len}", fontsize=FONT + 1)
            if j == 0:
                ax.set_ylabel(f"{row.name}\nlog10 ‖dL/dh_t‖", fontsize=FONT - 1)
            if i == rows - 1:
                ax.set_xlabel("step t", fontsize=FONT)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=FONT, frameon=False)
    fig.suptitle(
        "Adding problem: the gradient reaching each step, before and after training",
        fontsize=FONT + 1,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    files.write_figure(fig, path)


def _short(e: dict) -> str:
    if e["diverged_at"] is not None:
        return f"diverged at step {e['diverged_at']}"
    return f"test MSE {e['test_mse']:.4f}"


def plot_adding_mse(found: list[dict], plan: LabPlan, path: Path) -> None:
    """Test MSE against the step, one panel per T, beside the yardstick and the solved line."""
    fig = Figure(figsize=(WIDTH, 8.5))
    axes = _panels(fig, len(plan.lengths))
    for ax, seq_len in zip(axes, plan.lengths, strict=True):
        for k, row in enumerate(TABLE_ROWS):
            e = next(e for e in found if e["row"] == row.name and e["seq_len"] == seq_len)
            if e["evals"]:
                steps, mse = zip(*e["evals"], strict=True)
                ax.plot(steps, _finite(list(mse)), color=f"C{k}", lw=1.5, label=row.name)
        ax.axhline(adding.MEAN_MSE, color="black", ls="--", lw=1.0, label="predicting the mean")
        ax.axhline(adding.SOLVED, color="black", ls=":", lw=1.0, label="solved")
        ax.set_yscale("log")
        ax.set_title(f"T = {seq_len}", fontsize=FONT + 1)
        ax.set_xlabel("step", fontsize=FONT)
        ax.set_ylabel("test MSE", fontsize=FONT)
        ax.tick_params(labelsize=FONT)
        ax.grid(alpha=0.3)
    # every row has a curve at the shortest T (one may diverge later)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=FONT, frameon=False)
    fig.suptitle(
        f"Adding problem, H = {plan.hidden_size}: test MSE while training", fontsize=FONT + 1
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    files.write_figure(fig, path)


def plot_exploding(found: list[dict], plan: LabPlan, path: Path) -> None:
    """Per step and clipping mode: the training loss, the gradient norm before clipping, and the
    cosine between the gradient and its value-clipped self (norm clipping keeps it at 1)."""
    fig = Figure(figsize=(WIDTH, 10))
    loss_ax, norm_ax, cos_ax = fig.subplots(3, 1, sharex=True)
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
        f"T = {c.seq_len}, {c.optimizer} lr {c.lr}, clip {c.clip}",
        fontsize=FONT + 1,
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
    ax.set_xlabel("step", fontsize=FONT)
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT)
