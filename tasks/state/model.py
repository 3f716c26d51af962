"""The state-tracking network and the task that the shared loop trains it on.

    x (T, N, symbols) ─▶ recurrent layer ─▶ h_t (T, N, H) ─▶ Linear, ReLU, Linear ─▶ logits (T, N, states)

Many-to-many: the running label of every step is a target, so a training sequence of length T
teaches the rule at every length up to T. The head is a small MLP, the same for every cell, so
that what differs between rows of the table is the recurrence alone.
"""

import torch
from torch import Tensor, nn

from tasks import loop, parallel
from tasks.impl import layer_class
from tasks.state import data
from tasks.state.config import StateConfig


class StateModel(nn.Module):
    def __init__(self, rnn: nn.Module, hidden_size: int, states: int):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Sequential(
            nn.Linear(hidden_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, states)
        )

    def forward(self, x: Tensor) -> Tensor:
        """One-hot symbols (T, N, symbols) to logits of every step's label (T, N, states)."""
        out, _ = self.rnn(x)  # (T, N, H)
        return self.head(out)


def build_model(cfg: StateConfig) -> StateModel:
    """The network ``cfg`` describes, seeded."""
    torch.manual_seed(cfg.seed)
    problem = data.PROBLEMS[cfg.problem]
    rnn = layer_class(cfg.impl, cfg.cell)(problem.symbols, cfg.hidden_size, cfg.num_layers)
    return StateModel(rnn, cfg.hidden_size, problem.states)


class StateTask:
    """The problem as ``tasks.loop.train`` sees it: step k trains on batch k, a function of
    (seed, k) alone. Held out: test_size sequences of each test length, drawn once."""

    def __init__(self, cfg: StateConfig, model: StateModel):
        self.on = parallel.device(cfg.device)
        self.model, self.cfg = model.to(self.on), cfg
        self.problem = data.PROBLEMS[cfg.problem]
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.shard = parallel.shard()
        self.tests = {
            n: data.batch(self.problem, cfg.seed, data.TEST, 0, cfg.test_size, n)
            for n in (cfg.seq_len, *cfg.test_lengths)
        }

    def loss(self, step: int) -> Tensor:
        """Cross-entropy of every step's label, this process's rows of batch ``step``."""
        x, y = data.batch(
            self.problem, self.cfg.seed, data.TRAIN, step, self.cfg.batch_size, self.cfg.seq_len
        )
        rows = self.shard.rows(y.shape[1])
        logits = self.model(x[:, rows].to(self.on))
        return nn.functional.cross_entropy(logits.flatten(0, 1), y[:, rows].flatten().to(self.on))

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """loss: the cross-entropy of the last step at the training length; acc_T: accuracy of
        the last step's label at length T (acc_train at the training length, every step)."""
        was_training = self.model.training
        self.model.eval()
        x, y = (t.to(self.on) for t in self.tests[self.cfg.seq_len])
        logits = self.model(x)
        metrics = {
            "loss": nn.functional.cross_entropy(logits[-1], y[-1]).item(),
            "acc_train": (logits.argmax(-1) == y).float().mean().item(),
        }
        for n in self.cfg.test_lengths:
            x, y = (t.to(self.on) for t in self.tests[n])
            metrics[f"acc_{n}"] = (self.model(x)[-1].argmax(-1) == y[-1]).float().mean().item()
        self.model.train(was_training)
        return metrics

    def get_state(self) -> dict:
        """Nothing carries over between steps: every sequence starts from a zero state."""
        return {}

    def set_state(self, state: dict) -> None:
        """Nothing to restore (see ``get_state``)."""


def loop_config(cfg: StateConfig, progress: bool = True) -> loop.LoopConfig:
    return loop.LoopConfig.of(
        cfg,
        items_per_step=cfg.batch_size,
        item_name="seqs",
        loss_label="cross-entropy of the last step (nats)",
        progress=progress,
    )
