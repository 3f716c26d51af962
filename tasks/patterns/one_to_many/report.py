"""How the captioner is judged: exact caption and per-word accuracy, greedy, on the held-out
scenes and on new scenes of the kinds it trained on. ``report`` writes results.md,
results.json, and captions.png: held-out scenes with the captions the model wrote.
"""

from collections import Counter
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from tasks import files
from tasks.patterns.figures import markdown_table, save
from tasks.patterns.one_to_many import scenes
from tasks.patterns.one_to_many.config import CaptionConfig

SHOWN = 16  # held-out scenes in captions.png
SPLIT_NAMES = {"held_out": "held-out scenes", "seen": "new scenes of the training kinds"}


def scores(outputs: Tensor, targets: Tensor) -> dict[str, float]:
    """Exact caption (every word and the end right) and per-word accuracy (over the target's
    words and end) of greedy outputs (N, T) against targets (N, T)."""
    real = targets != scenes.PAD
    right = (outputs == targets) | ~real
    return {
        "exact": right.all(dim=1).double().mean().item(),
        "word_accuracy": (right & real).sum().item() / real.sum().item(),
    }


def report(cfg: CaptionConfig, task, out: Path | None) -> str:
    """Scores on both splits, the commonest mistakes; with ``out``, the files and the figure."""
    with torch.no_grad():
        task.model.eval()
        outputs = {split: task.caption(split) for split in SPLIT_NAMES}
    table = {split: scores(outputs[split], task.data[split][1]) for split in SPLIT_NAMES}
    name = f"{cfg.cell.upper()} decoder ({cfg.impl}), holdout {cfg.holdout}"
    rows = [[f"{name}: {SPLIT_NAMES[s]}", t["exact"], t["word_accuracy"]] for s, t in table.items()]
    said = [scenes.caption_of(ids) for ids in outputs["held_out"].tolist()]
    truth = [s.caption() for s in task.scenes["held_out"]]
    mistakes = Counter((t, s) for t, s in zip(truth, said, strict=True) if t != s)
    text = (
        f"{len(task.holdout.held_out)} held-out scene kinds never seen in training; "
        f"{len(truth)} held-out scenes scored\n\n"
        + markdown_table(["model: scenes", "exact caption", "per-word accuracy"], rows)
        + "\ncommonest mistakes (true caption -> written caption, count):\n\n"
        + "".join(f"- {t} -> {s} ({n})\n" for (t, s), n in mistakes.most_common(8))
    )
    if out is not None:
        files.write_text(text, out / "results.md")
        files.write_json(table, out / "results.json")
        images = task.data["held_out"][0][:SHOWN].numpy()
        plot_captions(images, truth[:SHOWN], said[:SHOWN], out / "captions.png")
    return text


def plot_captions(images: np.ndarray, truth: list[str], said: list[str], path: Path) -> None:
    """Each scene with the caption written for it: green when exact, red (with the truth) not."""
    columns = 4
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(11, 2.9 * rows))
    for ax, image, true, written in zip(
        fig.subplots(rows, columns, squeeze=False).flat, images, truth, said, strict=False
    ):
        ax.imshow(np.clip(image.transpose(1, 2, 0), 0, 1), interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ok = written == true
        label = written if ok else f"{written}\n(true: {true})"
        ax.set_title(label, fontsize=7.5, color="tab:green" if ok else "tab:red")
    save(fig, path)
