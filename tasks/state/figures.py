"""What the lab shows: the table of held-out accuracy by length, and the same as a figure."""

from matplotlib.figure import Figure

from tasks.state.data import PROBLEMS


def table(found: dict[str, dict[str, dict]], names: dict[str, str], seq_len: int) -> str:
    """Markdown: per problem, one row per network, accuracy at the training length (every
    step) and of the last step at each test length, and chance."""
    parts = []
    for problem, runs in found.items():
        lengths = list(next(iter(runs.values()))["acc_by_length"])
        head = f"| {problem} | train (T = {seq_len}, every step) | " + " | ".join(
            f"T = {n}" for n in lengths
        )
        lines = [head + " |", "| --- " * (2 + len(lengths)) + "|"]
        for cell, r in runs.items():
            accs = " | ".join(f"{r['acc_by_length'][n]:.1%}" for n in lengths)
            lines.append(f"| {names[cell]} | {r['acc_train']:.1%} | {accs} |")
        chance = f"{PROBLEMS[problem].chance:.0%}"
        lines.append(
            f"| chance (majority class) | {chance} | " + " | ".join([chance] * len(lengths)) + " |"
        )
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def accuracy_by_length(
    found: dict[str, dict[str, dict]], names: dict[str, str], seq_len: int
) -> Figure:
    """One panel per problem: accuracy of the last step's label against the test length."""
    fig = Figure(figsize=(5.5 * len(found), 4.2), layout="constrained")
    axes = fig.subplots(1, len(found), squeeze=False)[0]
    for ax, (problem, runs) in zip(axes, found.items(), strict=True):
        for k, (cell, r) in enumerate(runs.items()):
            lengths = [int(n) for n in r["acc_by_length"]]
            style = {"marker": "os^vDP*X"[k % 8], "linestyle": ("-", "--", ":")[k % 3]}
            ax.plot(lengths, list(r["acc_by_length"].values()), label=names[cell], **style)
        ax.axhline(PROBLEMS[problem].chance, color="grey", linestyle="--", label="chance")
        ax.axvline(seq_len, color="grey", linestyle=":", linewidth=1)
        ax.set(
            title=f"{problem}: trained on length {seq_len}",
            xlabel="test length T",
            ylabel="accuracy of the last step",
            ylim=(0, 1.02),
            xticks=lengths,
        )
    axes[0].legend(
        fontsize=7, loc="lower center", ncols=3, title="lines on top of each other: equal"
    )
    return fig
