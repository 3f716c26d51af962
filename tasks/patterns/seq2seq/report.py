"""How the date translator is judged: whole-date exact match on the held-out dates of the
training years and of years outside them, per format too. ``report`` writes results.md,
results.json, and:

- attention.png: the attention weights α_{t,j} of a few held-out dates (with attention);
- by_format.png: exact match of each input format, both held-out splits.
"""

from collections import defaultdict
from pathlib import Path

import torch
from matplotlib.figure import Figure

from tasks import files
from tasks.patterns.figures import markdown_table, save
from tasks.patterns.seq2seq import dates
from tasks.patterns.seq2seq.config import DatesConfig

SHOWN = 4  # held-out dates in attention.png
SPLIT_NAMES = {"in_range": "held out, training years", "outside": "held out, other years"}


def network_name(cfg: DatesConfig) -> str:
    """The model's row, e.g. 'GRU encoder-decoder, attention (scratch)'."""
    return f"{cfg.cell.upper()} encoder–decoder, {'attention' if cfg.attention else 'no attention'} ({cfg.impl})"


def report(cfg: DatesConfig, task, out: Path | None) -> str:
    """Exact match per held-out split and per format; with ``out``, the files and figures."""
    with torch.no_grad():
        task.model.eval()
        decoded = {split: task.translate(split) for split in SPLIT_NAMES}
    by_format: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    scores, wrong = {}, []
    for split, (outputs, _) in decoded.items():
        right = (outputs == task.data[split].targets).all(dim=1)
        scores[split] = right.double().mean().item()
        for pair, ok, ids in zip(task.pairs[split], right.tolist(), outputs.tolist(), strict=True):
            by_format[pair.fmt][split].append(ok)
            if not ok and len(wrong) < 10:
                wrong.append(f"{pair.text!r} -> {dates.decode_output(ids)!r} (true {pair.iso})")
    header = ["model", *SPLIT_NAMES.values()]
    text = (
        f"{cfg.train_pairs} training dates; {len(task.pairs['in_range'])} held-out dates of the "
        f"training years ({dates.WINDOW[0]}–{dates.WINDOW[1]}), {len(task.pairs['outside'])} of "
        "other years (four-digit formats only)\n\n"
        + markdown_table(header, [[network_name(cfg), *scores.values()]])
        + "\nsome mistakes:\n\n"
        + "".join(f"- {w}\n" for w in wrong)
    )
    if out is not None:
        formats = {
            fmt: {split: sum(oks) / len(oks) for split, oks in splits.items()}
            for fmt, splits in by_format.items()
        }
        files.write_text(text, out / "results.md")
        files.write_json({"exact": scores, "by_format": formats}, out / "results.json")
        plot_by_format(formats, network_name(cfg), out / "by_format.png")
        outputs, alpha = decoded["in_range"]
        if alpha is not None:
            plot_attention(
                task.pairs["in_range"][:SHOWN],
                outputs[:SHOWN],
                alpha[:SHOWN],
                out / "attention.png",
            )
    return text


def plot_attention(pairs: list[dates.Pair], outputs, alpha, path: Path) -> None:
    """α_{t,j} as a heat map per example: rows the ISO characters written, columns the input."""
    fig = Figure(figsize=(11, 2.6 * len(pairs)))
    for ax, pair, ids, weights in zip(
        fig.subplots(len(pairs), 1, squeeze=False).flat, pairs, outputs, alpha, strict=True
    ):
        written = dates.decode_output(ids.tolist())
        rows = len(written) + 1  # the characters and the end
        ax.imshow(
            weights[:rows, : len(pair.text)].numpy(), cmap="Greys", vmin=0, vmax=1, aspect="auto"
        )
        ax.set_xticks(range(len(pair.text)), [ch if ch != " " else "␣" for ch in pair.text])
        ax.set_yticks(range(rows), [*written, "end"])
        ax.set_title(f"{pair.text!r} -> {written} (true {pair.iso})", fontsize=9)
    save(fig, path)


def plot_by_format(formats: dict[str, dict[str, float]], name: str, path: Path) -> None:
    """Exact match of each input format, one bar per held-out split (outside: four-digit only)."""
    names = sorted(formats)
    fig = Figure(figsize=(9, 7))
    ax = fig.subplots()
    for k, split in enumerate(SPLIT_NAMES):
        values = [formats[f].get(split, float("nan")) for f in names]
        ax.barh(
            [i + 0.4 * k for i in range(len(names))], values, height=0.4, label=SPLIT_NAMES[split]
        )
    ax.set_yticks([i + 0.2 for i in range(len(names))], names, fontsize=7)
    ax.set(xlabel="exact match", xlim=(0, 1), title=name)
    ax.legend(fontsize=8)
    save(fig, path)
