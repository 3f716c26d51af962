"""Training the date translator: the task the shared loop runs, what the command line builds
from a ``DatesConfig``, and ``smoke_losses`` for compare."""

from dataclasses import dataclass

import torch
from torch import Tensor

from tasks import checkpoint, cli, parallel
from tasks.patterns import training
from tasks.patterns.batches import Batches, coins
from tasks.patterns.seq2seq import dates
from tasks.patterns.seq2seq.config import PRESETS, DatesConfig
from tasks.patterns.seq2seq.model import DateTranslator
from tasks.patterns.seq2seq.report import report
from tasks.patterns.sequences import masked_cross_entropy, pad

HELD_OUT = ("in_range", "outside")  # the held-out splits of dates.make_splits


@dataclass
class Encoded:
    """One split as tensors."""

    ids: Tensor  # (N, S) input characters, padded with 0
    lengths: Tensor  # (N,) characters of each input
    targets: Tensor  # (N, 11) the ISO characters and the end

    @classmethod
    def of(cls, pairs: list[dates.Pair]) -> "Encoded":
        ids, lengths = pad([torch.tensor(dates.encode_input(p.text)) for p in pairs])
        targets = torch.tensor([dates.encode_output(p.iso) for p in pairs])
        return cls(ids, lengths, targets)

    def rows(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The examples ``idx``, inputs cut to their longest."""
        lengths = self.lengths[idx]
        return self.ids[idx, : lengths.max()], lengths, self.targets[idx]


class DatesTask(training.Stateless):
    """Date as written -> ISO date, by cross-entropy per output character, teacher-forced."""

    def __init__(self, cfg: DatesConfig):
        self.cfg = cfg
        self.pairs = dates.make_splits(cfg.train_pairs, cfg.held_out_pairs)
        self.data = {name: Encoded.of(pairs) for name, pairs in self.pairs.items()}
        self.batches = Batches(cfg.train_pairs, cfg.batch_size, cfg.seed)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        torch.manual_seed(cfg.seed)
        self.on = parallel.device(cfg.device)
        self.model = DateTranslator(cfg).to(self.on)  # drawn on the CPU, whatever the device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def loss(self, step: int) -> Tensor:
        """Mean cross-entropy per output character of the step's batch, this process's share
        of it; the coins are drawn for the whole batch, and each process takes its rows'."""
        idx = self.batches(step)
        shape = (len(idx), dates.ISO_LENGTH + 1)
        teacher = coins(self.cfg.seed, step, shape, self.cfg.teacher_forcing, self.cfg.forcing_unit)
        own = self.shard.rows(len(idx))
        ids, lengths, targets = self.data["train"].rows(idx[own])
        ids, targets, teacher = ids.to(self.on), targets.to(self.on), teacher[own].to(self.on)
        logits, _ = self.model(ids, lengths, targets, teacher)  # (N/P, 11, V); lengths: CPU
        real = targets != dates.PAD
        total = masked_cross_entropy(logits, targets, real, reduction="sum")
        return training.share_of_mean(total, shape[0] * shape[1], self.shard)

    def translate(self, split: str) -> tuple[Tensor, Tensor | None]:
        """Greedy decoding of a held-out split: (output ids (N, 11), attention (N, 11, S)),
        on the CPU."""
        data = self.data[split]
        logits, alpha = self.model(data.ids.to(self.on), data.lengths)
        return logits.argmax(dim=2).cpu(), None if alpha is None else alpha.cpu()

    def evaluate(self) -> dict[str, float]:
        """Loss (greedy, no teacher) and whole-date exact match on both held-out splits."""
        metrics = {}
        for split in HELD_OUT:
            data = self.data[split]
            logits = self.model(data.ids.to(self.on), data.lengths)[0].cpu()
            if split == "in_range":
                metrics["loss"] = masked_cross_entropy(
                    logits, data.targets, data.targets != dates.PAD
                ).item()
            metrics[f"exact_{split}"] = exact(logits.argmax(dim=2), data.targets).mean().item()
        return metrics


def exact(outputs: Tensor, targets: Tensor) -> Tensor:
    """(N,) True where the whole output, up to and with its end, is the target's."""
    return (outputs == targets).all(dim=1).double()


def prepare(cfg: DatesConfig, saved: dict | None = None, progress: bool = True) -> cli.Prepared:
    """Generate the dates and build the task (nothing to take from ``saved``: the data are a
    function of the config)."""
    task = DatesTask(cfg)
    texts = [f"{p.text}\t{p.iso}" for split in task.pairs.values() for p in split]
    loop_cfg = training.loop_config(cfg, "dates", "cross-entropy per output character", progress)
    return cli.Prepared(task, loop_cfg, {}, checkpoint.fingerprint(*texts))


TRAINER = training.trainer(
    "seq2seq",
    "asynchronous many to many: dates as people write them into ISO dates, with attention",
    DatesConfig,
    PRESETS,
    prepare,
    report,
)

smoke_losses = cli.smoke_losses_of(prepare, PRESETS)
