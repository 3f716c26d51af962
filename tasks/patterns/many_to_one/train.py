"""Training the play-kind classifier: the task the shared loop runs, what the command line
builds from a ``PlayKindConfig``, and ``smoke_losses`` for compare."""

import torch
import torch.nn.functional as F
from torch import Tensor

from tasks import checkpoint, cli, parallel
from tasks.patterns import training
from tasks.patterns.batches import Batches
from tasks.patterns.many_to_one.config import PRESETS, PlayKindConfig
from tasks.patterns.many_to_one.data import Examples, classes, examples
from tasks.patterns.many_to_one.model import SpeechClassifier
from tasks.patterns.many_to_one.report import report
from tasks.patterns.metrics import macro_f1
from tasks.text.data import Vocab

EVAL_BATCH = 256  # held-out speeches per forward pass


def class_weights(labels: Tensor, classes: int) -> Tensor:
    """N / (K · n_k): each class weighs as much in the loss as every other, however rare."""
    counts = torch.bincount(labels, minlength=classes).double()
    return (counts.sum() / (classes * counts.clamp_min(1))).float()


class PlayKindTask(training.Stateless):
    """Speech -> kind of play, by class-weighted cross-entropy on batches of whole speeches."""

    def __init__(self, cfg: PlayKindConfig, vocab: Vocab, train: Examples, held_out: Examples):
        self.classes = classes(cfg)
        self.train_set, self.held_out = train, held_out
        self.ids, self.lengths = train.encode(vocab)  # (N, L), (N,)
        self.held_ids, self.held_lengths = held_out.encode(vocab)
        self.weight = class_weights(train.labels, len(self.classes))  # (K,), on the CPU
        self.batches = Batches(len(train), cfg.batch_size, cfg.seed)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        torch.manual_seed(cfg.seed)
        self.on = parallel.device(cfg.device)
        model = SpeechClassifier(cfg, len(vocab), len(self.classes))
        self.model = model.to(self.on)  # drawn on the CPU, whatever the device
        self.loss_weight = self.weight.to(self.on)  # the loss's class weights, beside the model
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def loss(self, step: int) -> Tensor:
        """The class-weighted mean cross-entropy of the step's batch: Σ w_y · loss / Σ w_y,
        this process's share of it (``share_of_mean``)."""
        idx = self.batches(step)
        own = idx[self.shard.rows(len(idx))]
        lengths, labels = self.lengths[own], self.train_set.labels
        logits = self.model(self.ids[own, : lengths.max()].to(self.on), lengths)  # lengths: CPU
        total = F.cross_entropy(
            logits, labels[own].to(self.on), weight=self.loss_weight, reduction="sum"
        )
        return training.share_of_mean(total, self.weight[labels[idx]].sum(), self.shard)

    def predict_held_out(self) -> Tensor:
        """Class scores of every held-out speech (N, K), in batches, on the CPU."""
        scores = []
        for start in range(0, len(self.held_out), EVAL_BATCH):
            lengths = self.held_lengths[start : start + EVAL_BATCH]
            ids = self.held_ids[start : start + EVAL_BATCH, : lengths.max()]
            scores.append(self.model(ids.to(self.on), lengths).cpu())
        return torch.cat(scores)

    def evaluate(self) -> dict[str, float]:
        scores, truth = self.predict_held_out(), self.held_out.labels
        predicted = scores.argmax(dim=1)
        return {
            "loss": F.cross_entropy(scores, truth, weight=self.weight).item(),
            "accuracy": (predicted == truth).double().mean().item(),
            "macro_f1": macro_f1(truth, predicted, len(self.classes)),
        }


def prepare(cfg: PlayKindConfig, saved: dict | None = None, progress: bool = True) -> cli.Prepared:
    """Read the speeches and build the task; ``saved``: the checkpoint's meta on resume (its
    vocabulary is kept). ``BadInput`` for a split the config leaves empty."""
    train, held_out = examples(cfg)
    vocab = Vocab(saved["vocab"]) if saved else Vocab.of("".join(train.texts))
    task = PlayKindTask(cfg, vocab, train, held_out)
    data = checkpoint.fingerprint(*train.texts, *held_out.texts, repr(task.classes))
    loop_cfg = training.loop_config(cfg, "speeches", "class-weighted cross-entropy", progress)
    return cli.Prepared(task, loop_cfg, {"vocab": vocab.chars}, data)


TRAINER = training.trainer(
    "many-to-one",
    "many to one: which kind of play (comedy, history, tragedy) a speech is from",
    PlayKindConfig,
    PRESETS,
    prepare,
    report,
    {"vocab": Vocab.holds},
)

smoke_losses = cli.smoke_losses_of(prepare, PRESETS)
