"""Training the MNIST-1D classifier: the task the shared loop runs, what the command line
builds from a ``DigitsConfig``, and ``smoke_losses`` for compare."""

import torch
import torch.nn.functional as F
from torch import Tensor

from tasks import checkpoint, cli, parallel
from tasks.patterns import training
from tasks.patterns.batches import Batches
from tasks.patterns.digits.config import PRESETS, DigitsConfig
from tasks.patterns.digits.data import Split, splits
from tasks.patterns.digits.model import DigitClassifier
from tasks.patterns.digits.report import report


class DigitsTask(training.Stateless):
    """Signal -> digit, by mean cross-entropy on batches of whole signals."""

    def __init__(self, cfg: DigitsConfig, train: Split, test: Split):
        self.train_set, self.test_set = train, test
        self.batches = Batches(len(train), cfg.batch_size, cfg.seed)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        torch.manual_seed(cfg.seed)
        self.on = parallel.device(cfg.device)
        self.model = DigitClassifier(cfg).to(self.on)  # drawn on the CPU, whatever the device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def loss(self, step: int) -> Tensor:
        """The mean cross-entropy of the step's batch, this process's share of it."""
        idx = self.batches(step)
        own = idx[self.shard.rows(len(idx))]
        x, y = self.train_set.x[own].to(self.on), self.train_set.y[own].to(self.on)
        total = F.cross_entropy(self.model(x), y, reduction="sum")
        return training.share_of_mean(total, len(idx), self.shard)

    def predict_test(self) -> Tensor:
        """Digit scores of every test signal (N, 10), on the CPU."""
        return self.model(self.test_set.x.to(self.on)).cpu()

    def evaluate(self) -> dict[str, float]:
        scores, truth = self.predict_test(), self.test_set.y
        return {
            "loss": F.cross_entropy(scores, truth).item(),
            "accuracy": (scores.argmax(dim=1) == truth).double().mean().item(),
        }


def prepare(cfg: DigitsConfig, saved: dict | None = None, progress: bool = True) -> cli.Prepared:
    """Generate the data (the package's defaults) and build the task."""
    train, test = splits(cfg.max_examples)
    task = DigitsTask(cfg, train, test)
    data = checkpoint.fingerprint(
        train.x.numpy().tobytes(),
        train.y.numpy().tobytes(),
        test.x.numpy().tobytes(),
    )
    loop_cfg = training.loop_config(cfg, "signals", "cross-entropy (nats)", progress)
    return cli.Prepared(task, loop_cfg, {}, data)


TRAINER = training.trainer(
    "digits",
    "many to one: which digit a 40-step MNIST-1D signal draws (Greydanus 2020)",
    DigitsConfig,
    PRESETS,
    prepare,
    report,
)

smoke_losses = cli.smoke_losses_of(prepare, PRESETS)
