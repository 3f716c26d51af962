"""The figure of docs/start.md: a recurrent network folded (one cell and its loop) and unrolled
over four steps (the same cell, the same weights, once per step).

    python -m docs.code.unrolled        # writes docs/figures/start_unrolled.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from tasks.files import write_figure  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "figures" / "start_unrolled.png"
FONT = 15  # every label: the figure is shown at page width, about half its drawn size


def box(ax, x, y, text, color):
    ax.add_patch(
        FancyBboxPatch(
            (x - 0.42, y - 0.32),
            0.84,
            0.64,
            boxstyle="round,pad=0.05",
            fc=color,
            ec="black",
            lw=1.5,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=FONT)


def arrow(ax, start, end, label="", side=(0.0, 0.0), **style):
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=18, lw=1.6, color="black", **style
        )
    )
    if label:
        mid = ((start[0] + end[0]) / 2 + side[0], (start[1] + end[1]) / 2 + side[1])
        ax.text(*mid, label, ha="center", va="center", fontsize=FONT, color="#1f4e9c")


def draw():
    fig, ax = plt.subplots(figsize=(11, 4.2))
    # folded: one cell whose output comes back as its next input
    box(ax, 0.6, 1.5, "cell", "#fde9c9")
    arrow(ax, (0.6, 0.4), (0.6, 1.15), r"$W_{ih}$", side=(-0.42, 0))
    ax.text(0.6, 0.2, r"$x_t$", ha="center", va="center", fontsize=FONT)
    arrow(ax, (0.6, 1.85), (0.6, 2.6))
    ax.text(0.6, 2.8, r"$y_t = h_t$", ha="center", va="center", fontsize=FONT)
    arrow(
        ax,
        (0.72, 1.88),
        (1.07, 1.3),
        r"$W_{hh}$",
        side=(0.25, 0.62),
        connectionstyle="arc3,rad=-1.6",
    )
    ax.text(2.0, 1.5, "=", ha="center", va="center", fontsize=FONT * 2)
    # unrolled: the same cell at t = 1 … 4
    ax.text(2.6, 1.5, r"$h_0$", ha="center", va="center", fontsize=FONT)
    xs = [4.0, 5.6, 7.2, 8.8]
    previous = 2.85
    for t, x in enumerate(xs, 1):
        box(ax, x, 1.5, "cell", "#fde9c9")
        arrow(ax, (previous, 1.5), (x - 0.47, 1.5), r"$W_{hh}$", side=(0, -0.25))
        if t > 1:
            middle = (previous + x - 0.47) / 2
            ax.text(middle, 1.75, rf"$h_{t - 1}$", ha="center", va="center", fontsize=FONT)
        arrow(ax, (x, 0.4), (x, 1.15), r"$W_{ih}$", side=(-0.42, 0))
        ax.text(x, 0.2, rf"$x_{t}$", ha="center", va="center", fontsize=FONT)
        arrow(ax, (x, 1.85), (x, 2.6))
        ax.text(x, 2.8, rf"$y_{t} = h_{t}$", ha="center", va="center", fontsize=FONT)
        previous = x + 0.47
    arrow(ax, (previous, 1.5), (previous + 0.7, 1.5))
    ax.text(previous + 1.05, 1.5, r"$h_n = h_4$", ha="left", va="center", fontsize=FONT)
    ax.text(
        6.4,
        -0.35,
        "one step of time per copy: the same cell and the same weights each time",
        ha="center",
        va="center",
        fontsize=FONT,
        style="italic",
    )
    ax.set_xlim(0, 11.2)
    ax.set_ylim(-0.6, 3.1)
    ax.axis("off")
    fig.tight_layout()
    return fig


def main() -> None:
    write_figure(draw(), OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
