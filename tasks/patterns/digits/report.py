"""How the MNIST-1D classifier is judged: its test accuracy beside our yardsticks and the
published numbers (yardsticks.py). ``report`` writes results.md and results.json, and:

- confusion.png: row-normalised confusion matrices of the network and the logistic regression;
- signals.png: test signals of each digit, titled with the network's guess.
"""

from pathlib import Path

import torch
from matplotlib.figure import Figure

from tasks import files
from tasks.patterns.digits.config import DigitsConfig
from tasks.patterns.digits.data import CLASSES
from tasks.patterns.digits.yardsticks import PUBLISHED, logistic_regression, majority
from tasks.patterns.figures import markdown_table, save
from tasks.patterns.many_to_one.report import plot_confusions

SHOWN = 2  # test signals of each digit in signals.png


def network_name(cfg: DigitsConfig) -> str:
    """The network's row, e.g. 'GRU, H = 128 (scratch)'."""
    both = ", bidirectional" if cfg.bidirectional else ""
    return f"{cfg.cell.upper()}{both}, H = {cfg.hidden_size} (ours, {cfg.impl})"


def report(cfg: DigitsConfig, task, out: Path | None) -> str:
    """Score the network and the yardsticks on the test set, beside the published numbers;
    with ``out``, write results.md, results.json and the figures there. Returns the table."""
    train, test = task.train_set, task.test_set
    with torch.no_grad():
        task.model.eval()
        network = task.predict_test().argmax(dim=1)
        linear = logistic_regression(train)
        logistic = linear(test.x).argmax(dim=1)
    most = majority(train)
    ours = {
        f"majority class ({most})": torch.full_like(test.y, most),
        "logistic regression on the 40 numbers (ours)": logistic,
        network_name(cfg): network,
    }
    accuracy = {name: (p == test.y).double().mean().item() for name, p in ours.items()}
    rows = [[f"{name} (published)", share, "Greydanus 2020"] for name, share in PUBLISHED.items()]
    rows += [[name, share, "this run"] for name, share in accuracy.items()]
    heading = (
        f"MNIST-1D test set: {len(test)} signals of {test.x.shape[1]} steps; "
        f"{len(train)} training signals\n\n"
    )
    text = heading + markdown_table(["model", "test accuracy", "from"], rows)
    if out is not None:
        files.write_text(text, out / "results.md")
        files.write_json({"test_accuracy": accuracy, "published": PUBLISHED}, out / "results.json")
        names = list(ours)
        plot_confusions(test.y, {n: ours[n] for n in names[1:]}, CLASSES, out / "confusion.png")
        plot_signals(test.x, test.y, network, out / "signals.png")
    return text


def plot_signals(x: torch.Tensor, truth: torch.Tensor, guess: torch.Tensor, path: Path) -> None:
    """``SHOWN`` test signals of every digit, each titled with the network's guess (red: wrong)."""
    fig = Figure(figsize=(12, 2.4 * SHOWN))
    axes = fig.subplots(SHOWN, len(CLASSES), sharex=True, sharey=True, squeeze=False)
    for digit in range(len(CLASSES)):
        where = torch.nonzero(truth == digit).flatten()[:SHOWN]
        for row, i in enumerate(where.tolist()):
            ax = axes[row, digit]
            ax.plot(x[i].numpy(), color="black", lw=1)
            right = bool(guess[i] == truth[i])
            ax.set_title(
                f"{digit}: read {int(guess[i])}", fontsize=9, color="black" if right else "red"
            )
            ax.set_xticks([0, 20, 39])
    fig.supxlabel("step t")
    save(fig, path)
