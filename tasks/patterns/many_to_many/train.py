"""Training the case-and-punctuation tagger: the task the shared loop runs, what the command
line builds from a ``RestoreConfig``, and ``smoke_losses`` for compare."""

import numpy as np
import torch
from torch import Tensor

from tasks import checkpoint, cli, parallel
from tasks.patterns import training
from tasks.patterns.batches import Batches
from tasks.patterns.many_to_many.config import PRESETS, RestoreConfig
from tasks.patterns.many_to_many.data import MARKS, Windows, splits
from tasks.patterns.many_to_many.model import Tagger
from tasks.patterns.many_to_many.report import report, scores
from tasks.patterns.sequences import masked_cross_entropy


def summed_losses(model: Tagger, windows: Windows) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(case loss, mark loss, case scores, mark scores) of ``windows``: the cross-entropy of
    the case summed over the scored letters, that of the mark over the scored word ends. The
    loss is the mean of each, added: case / letters + mark / word ends. The windows are read on
    the CPU and sent to the model's device; all four come back on it."""
    on = parallel.device_of(model)
    case, mark = model(windows.ids.to(on))  # (N, T, 2), (N, T, 7)
    upper, case_mask = windows.upper.long().to(on), windows.case_mask.to(on)
    case_loss = masked_cross_entropy(case, upper, case_mask, "sum")
    mark_loss = masked_cross_entropy(mark, windows.mark.to(on), windows.mark_mask.to(on), "sum")
    return case_loss, mark_loss, case, mark


class RestoreTask(training.Stateless):
    """Lower-cased, unpunctuated characters -> case and marks, windows of whole lines."""

    def __init__(self, cfg: RestoreConfig):
        self.train_set, held_out = splits(cfg.seq_len)
        if cfg.held_out_windows and cfg.held_out_windows < len(held_out):
            drawn = np.random.default_rng(0).permutation(len(held_out))[: cfg.held_out_windows]
            held_out = held_out.select(np.sort(drawn))
        self.held_out = held_out
        self.batches = Batches(len(self.train_set), cfg.batch_size, cfg.seed)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        torch.manual_seed(cfg.seed)
        self.on = parallel.device(cfg.device)
        self.model = Tagger(cfg).to(self.on)  # drawn on the CPU, whatever the device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def loss(self, step: int) -> Tensor:
        """The step's batch's case loss per scored letter plus its mark loss per scored word
        end, this process's share of them (its rows' windows)."""
        batch = self.train_set.select(self.batches(step))
        case, mark, _, _ = summed_losses(self.model, batch.select(self.shard.rows(len(batch))))
        letters, word_ends = batch.case_mask.sum(), batch.mark_mask.sum()
        case_share = training.share_of_mean(case, letters, self.shard)
        return case_share + training.share_of_mean(mark, word_ends, self.shard)

    def evaluate(self) -> dict[str, float]:
        """Loss, F1 of capitals, and the mean F1 of the six marks, on the held-out windows."""
        w = self.held_out
        case_loss, mark_loss, case, mark = summed_losses(self.model, w)
        loss = case_loss / w.case_mask.sum() + mark_loss / w.mark_mask.sum()
        f1 = scores(self.held_out, (case.argmax(2) == 1).cpu(), mark.argmax(2).cpu())
        marks = [f1[m] for m in MARKS[1:]]
        return {
            "loss": loss.item(),
            "capital_f1": f1["capitals"],
            "mark_f1": sum(marks) / len(marks),
        }


def prepare(cfg: RestoreConfig, saved: dict | None = None, progress: bool = True) -> cli.Prepared:
    """Read and tag the lines, cut the windows, build the task."""
    task = RestoreTask(cfg)
    data = checkpoint.fingerprint(
        task.train_set.ids.numpy().tobytes(), task.held_out.ids.numpy().tobytes()
    )
    loop_cfg = training.loop_config(cfg, "windows", "cross-entropy: case + mark", progress)
    return cli.Prepared(task, loop_cfg, {}, data)


TRAINER = training.trainer(
    "many-to-many",
    "synchronised many to many: case and punctuation restored at every character",
    RestoreConfig,
    PRESETS,
    prepare,
    report,
)

smoke_losses = cli.smoke_losses_of(prepare, PRESETS)
