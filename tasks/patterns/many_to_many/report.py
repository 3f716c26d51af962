"""How the tagger is judged: beside the rule (rule.py), on the held-out plays' windows. The F1
of capitals (over the scored letters), of each mark (over the scored word ends), and the
recall of capitals of three kinds: a line's first letter, the word "I", and every other
(names, a sentence that starts inside a line). ``report`` writes results.md (with a few lines
restored by each), results.json, and f1.png.
"""

from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import Tensor

from tasks import files
from tasks.patterns.figures import markdown_table, save
from tasks.patterns.many_to_many.config import RestoreConfig
from tasks.patterns.many_to_many.data import ALPHABET, MARKS, Windows, restore
from tasks.patterns.many_to_many.rule import rule
from tasks.patterns.metrics import binary_f1, f1_scores

SHOWN = 2  # held-out windows restored in results.md


def network_name(cfg: RestoreConfig) -> str:
    """The tagger's row, e.g. 'GRU, bidirectional, 2 × 64 units (scratch)'."""
    way = "bidirectional, 2 ×" if cfg.bidirectional else "unidirectional,"
    return f"{cfg.cell.upper()}, {way} {cfg.hidden_size} units ({cfg.impl})"


def scores(w: Windows, upper: Tensor, mark: Tensor) -> dict[str, float]:
    """F1 of capitals and of each mark, and capitals' recall by kind, of predictions (W, T)."""
    truth, said = w.upper[w.case_mask], upper[w.case_mask]
    lone_i = rule(w)[0] & ~w.line_first  # the rule's capitals that are not line starts: "I"
    kinds = {"line start": w.line_first, '"I"': lone_i, "other": ~w.line_first & ~lone_i}
    result = {"capitals": binary_f1(truth, said)}
    marks = f1_scores(w.mark[w.mark_mask], mark[w.mark_mask], len(MARKS))
    result |= {m: f or 0.0 for m, f in zip(MARKS[1:], marks[1:], strict=True)}
    for kind, where in kinds.items():
        capital = w.upper & w.case_mask & where
        result[f"recall {kind}"] = upper[capital].double().mean().item() if capital.any() else None
    return result


def report(cfg: RestoreConfig, task, out: Path | None) -> str:
    """Score the tagger and the rule; with ``out``, write the files and the figure."""
    w = task.held_out
    with torch.no_grad():
        task.model.eval()
        case, mark = (s.cpu() for s in task.model(w.ids.to(task.on)))
    predictions = {
        "rule (line starts and I; no marks)": rule(w),
        network_name(cfg): (case.argmax(2) == 1, mark.argmax(2)),
    }
    table = {name: scores(w, *p) for name, p in predictions.items()}
    columns = [k if k.startswith("recall") else f"F1 {k}" for k in table[network_name(cfg)]]
    text = (
        f"held-out plays: {len(w)} windows of {cfg.seq_len} characters, {int(w.case_mask.sum())} "
        f"letters and {int(w.mark_mask.sum())} word ends scored\n\n"
        + markdown_table(["model", *columns], [[n, *s.values()] for n, s in table.items()])
    )
    for k in range(min(SHOWN, len(w))):
        for name, (upper, marks) in {"original": (w.upper, w.mark), **predictions}.items():
            text += (
                f"\n{name}:\n\n    " + _restored(w, k, upper, marks).replace("\n", "\n    ") + "\n"
            )
    if out is not None:
        files.write_text(text, out / "results.md")
        files.write_json(table, out / "results.json")
        plot_f1(table, out / "f1.png")
    return text


def _restored(w: Windows, k: int, upper: Tensor, mark: Tensor) -> str:
    """The scored part of window ``k`` with ``upper`` and ``mark`` put back."""
    scored = int(w.case_mask[k].nonzero().max()) + 1 if w.case_mask[k].any() else 0
    text = "".join(ALPHABET[i] for i in w.ids[k, :scored].tolist())
    marks = (mark[k, :scored] * w.mark_mask[k, :scored]).numpy()
    return restore(text, upper[k, :scored].numpy(), marks).rstrip("\n")


def plot_f1(table: dict[str, dict[str, float]], path: Path) -> None:
    """F1 of capitals and of each mark, and capitals' recall by kind: a bar per model."""
    labels = list(next(iter(table.values())))
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    width = 0.8 / len(table)
    for i, (name, values) in enumerate(table.items()):
        heights = [values[k] or 0.0 for k in labels]
        ax.bar([x + i * width for x in range(len(labels))], heights, width=width, label=name)
    ticks = [k if k.startswith("recall") else f"F1 {k}" for k in labels]
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], ticks, rotation=20, fontsize=8)
    ax.set(ylim=(0, 1), ylabel="held-out score")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    save(fig, path)
