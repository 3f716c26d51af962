"""How the play-kind classifier is judged: beside the majority class and the bag of words
(bow.py), on the held-out plays. ``report`` writes results.md and results.json, and:

- confusion.png: row-normalised confusion matrices of the network and the bag of words;
- accuracy_by_length.png: held-out accuracy of each against the speech's length.
"""

import itertools
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from tasks import files
from tasks.patterns.figures import markdown_table, save
from tasks.patterns.many_to_one.bow import BagOfWords, majority
from tasks.patterns.many_to_one.config import PlayKindConfig
from tasks.patterns.metrics import confusion, f1_scores, macro_f1

LENGTH_BINS = (0, 25, 50, 100, 150)  # characters read: the bins of the figure's x axis


def network_name(cfg: PlayKindConfig) -> str:
    """The network's row, e.g. 'GRU, bidirectional (scratch)'."""
    return f"{cfg.cell.upper()}{', bidirectional' if cfg.bidirectional else ''} ({cfg.impl})"


def report(cfg: PlayKindConfig, task, out: Path | None) -> str:
    """Score the network, the majority class and the bag of words on the held-out plays; with
    ``out``, write results.md, results.json and the figures there. Returns the table."""
    truth, classes = task.held_out.labels, task.classes
    with torch.no_grad():
        task.model.eval()
        network = task.predict_held_out().argmax(dim=1)
    bow = BagOfWords(task.train_set.texts, task.train_set.labels, len(classes), task.weight)
    most = majority(task.train_set.labels, len(classes))
    predictions = {
        f"majority class ({classes[most]})": torch.full_like(truth, most),
        "bag of words (tf-idf, logistic regression)": bow.predict(task.held_out.texts),
        network_name(cfg): network,
    }
    scores = {
        name: {
            "accuracy": (p == truth).double().mean().item(),
            "macro_f1": macro_f1(truth, p, len(classes)),
            "f1": dict(zip(classes, f1_scores(truth, p, len(classes)), strict=True)),
        }
        for name, p in predictions.items()
    }
    plays = sorted(set(task.held_out.plays))
    heading = (
        f"held-out plays ({', '.join(plays)}): {len(truth)} speeches, first {cfg.max_chars} "
        f"characters of each; {len(task.train_set)} training speeches\n\n"
    )
    header = ["model", "accuracy", "macro-F1", *(f"F1 {c}" for c in classes)]
    rows = [[name, s["accuracy"], s["macro_f1"], *s["f1"].values()] for name, s in scores.items()]
    text = heading + markdown_table(header, rows)
    if out is not None:
        files.write_text(text, out / "results.md")
        files.write_json(scores, out / "results.json")
        names = list(predictions)
        plot_confusions(
            truth, {n: predictions[n] for n in names[1:]}, classes, out / "confusion.png"
        )
        lengths = torch.tensor([len(t) for t in task.held_out.texts])
        plot_by_length(truth, predictions, lengths, out / "accuracy_by_length.png")
    return text


def plot_confusions(
    truth: Tensor, predictions: dict[str, Tensor], classes: tuple[str, ...], path: Path
) -> None:
    """One row-normalised confusion matrix per model: where each true kind's speeches went."""
    fig = Figure(figsize=(4.2 * len(predictions), 3.8))
    for ax, (name, predicted) in zip(
        fig.subplots(1, len(predictions), squeeze=False).flat, predictions.items(), strict=True
    ):
        counts = confusion(truth, predicted, len(classes)).double()
        shares = (counts / counts.sum(dim=1, keepdim=True).clamp_min(1)).numpy()
        ax.imshow(shares, vmin=0, vmax=1, cmap="Blues")
        for (i, j), share in np.ndenumerate(shares):
            ax.text(
                j,
                i,
                f"{share:.2f}",
                ha="center",
                va="center",
                color="white" if share > 0.5 else "black",
            )
        ax.set(
            xticks=range(len(classes)),
            yticks=range(len(classes)),
            xlabel="predicted",
            ylabel="true",
        )
        ax.set_xticklabels(classes, rotation=30)
        ax.set_yticklabels(classes)
        ax.set_title(name, fontsize=9)
    save(fig, path)


def plot_by_length(
    truth: Tensor, predictions: dict[str, Tensor], lengths: Tensor, path: Path
) -> None:
    """Held-out accuracy of each model in bins of speech length (characters read)."""
    bins = torch.bucketize(lengths, torch.tensor(LENGTH_BINS[1:]), right=True)
    edges = itertools.pairwise(LENGTH_BINS)
    labels = [f"{lo}–{hi - 1}" for lo, hi in edges] + [f"{LENGTH_BINS[-1]}+"]
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    for name, predicted in predictions.items():
        right = predicted == truth
        acc = [
            right[bins == b].double().mean().item() if (bins == b).any() else float("nan")
            for b in range(len(labels))
        ]
        ax.plot(range(len(labels)), acc, "o-", label=name)
    counts = [int((bins == b).sum()) for b in range(len(labels))]
    ax.set_xticks(range(len(labels)), [f"{l}\n({n})" for l, n in zip(labels, counts, strict=True)])
    ax.set(xlabel="characters read (speeches in the bin)", ylabel="held-out accuracy", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
