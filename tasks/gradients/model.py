"""The lab's networks and the task that the shared loop trains them on.

    adding:  x (T, N, 2) ─▶ impl.RNN | LSTM | GRU ─▶ h at the last step (N, H) ─▶ Linear ─▶ sum (N,)
    copy:    x (T + 20, N, 10) ─▶ impl.RNN | LSTM | GRU ─▶ h_t at every step ─▶ Linear ─▶ (T + 20, N, 10)

The adding problem is many-to-one: the loss sees only the last step, so every gradient that
reaches an earlier step has come back through the recurrence, the quantity the lab measures
(tasks/gradients/flow.py). The copy task scores every step, but what makes its last ten steps
better than a guess has to come back across the gap of T steps.
"""

import torch
from torch import Tensor, nn

from tasks import init, loop, parallel
from tasks.gradients import adding, copying
from tasks.gradients.config import AddingConfig
from tasks.impl import key, layer_class


def flush_subnormals() -> None:
    """Compute this process's float arithmetic with subnormal numbers flushed to zero.

    A gradient that vanishes over hundreds of steps passes below float32's smallest normal
    number (about 1e-38) on its way to zero, and x86 CPUs compute with such subnormal numbers
    many times slower: one backward pass of a trained LSTM at T = 400 took 611 ms with them and
    111 ms flushed. What is flushed is below 1e-38 and would have reached zero a few steps
    later. Set once per process, at its entry point (__main__.py, the lab's workers)."""
    torch.set_flush_denormal(True)


class AddingModel(nn.Module):
    """The recurrent layer over the sequence, then a linear map of its last hidden state (the
    adding problem), or of every step's (``every_step``: the copy task's class scores)."""

    def __init__(
        self, rnn: nn.Module, hidden_size: int, outputs: int = 1, every_step: bool = False
    ):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden_size, outputs)
        self.every_step = every_step

    def forward(self, x: Tensor) -> Tensor:
        """Sequences (T, N, 2) to predicted sums (N,); with ``every_step``, (T, N, I) to scores
        (T, N, outputs)."""
        out, _ = self.rnn(x)  # (T, N, H)
        if self.every_step:
            return self.head(out)
        return self.head(out[-1]).squeeze(1)  # (N,)


def build_model(cfg: AddingConfig, impl: str | None = None) -> AddingModel:
    """The network ``cfg`` describes, seeded, its recurrent weights drawn as ``cfg.init`` says
    (then W_hh times ``cfg.recurrent_gain``); ``impl`` overrides ``cfg.impl``."""
    torch.manual_seed(cfg.seed)
    layer = layer_class(impl or cfg.impl, cfg.cell)
    options = {"nonlinearity": cfg.nonlinearity} if key(cfg.cell) == "rnn_tanh" else {}
    if cfg.problem == "copy":
        rnn = layer(copying.CLASSES, cfg.hidden_size, **options)
        model = AddingModel(rnn, cfg.hidden_size, copying.CLASSES, every_step=True)
    else:
        model = AddingModel(layer(2, cfg.hidden_size, **options), cfg.hidden_size)
    init.apply(model, cfg)
    if cfg.recurrent_gain != 1:  # a minimal RNN has no W_hh: AddingConfig.check refuses it
        with torch.no_grad():
            model.rnn.weight_hh_l0.mul_(cfg.recurrent_gain)
    return model


class AddingTask:
    """The adding problem as ``tasks.loop.train`` sees it: step k trains on batch k, a function
    of (seed, k) alone, so a resumed run reads the very batches an uninterrupted one would.

    Under N processes (tasks/parallel.py) every process draws the whole of batch k and trains
    on its own rows of it: together they train on the batch one process would."""

    def __init__(self, cfg: AddingConfig, model: AddingModel):
        self.on = parallel.device(cfg.device)
        self.model, self.cfg = model.to(self.on), cfg  # drawn on the CPU, whatever the device
        self.dtype = next(model.parameters()).dtype  # the batches follow the model's (float32)
        make = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[cfg.optimizer]
        self.optimizer = make(model.parameters(), lr=cfg.lr)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        self.copy = cfg.problem == "copy"
        self.problem = copying if self.copy else adding
        x, y = self.problem.batch(cfg.seed, self.problem.TEST, 0, cfg.test_size, cfg.seq_len)
        self.test_x, self.test_y = x.to(self.on, self.dtype), self._targets(y)

    def _targets(self, y: Tensor) -> Tensor:
        """Sums as the model's float type; the copy task's class ids as they are."""
        return y.to(self.on) if self.copy else y.to(self.on, self.dtype)

    def _loss(self, x: Tensor, y: Tensor) -> Tensor:
        """Mean squared error (adding), or cross-entropy averaged over every step (copy)."""
        if self.copy:
            return nn.functional.cross_entropy(self.model(x).flatten(0, 1), y.flatten())
        return nn.functional.mse_loss(self.model(x), y)

    def loss(self, step: int) -> Tensor:
        """The loss of this process's rows of batch ``step``."""
        x, y = self.problem.batch(
            self.cfg.seed, self.problem.TRAIN, step, self.cfg.batch_size, self.cfg.seq_len
        )  # adding: (T, N, 2), (N,); copy: (T + 20, N, 10), (T + 20, N)
        rows = self.shard.rows(x.shape[1])
        x, y = (
            x[:, rows].to(self.on, self.dtype),
            self._targets(y[rows] if not self.copy else y[:, rows]),
        )
        return self._loss(x, y)

    def evaluate(self) -> dict[str, float]:
        """Test loss, beside the yardstick's on the same sequences: predicting the mean, 1
        (adding), or the memoryless loss (copy)."""
        loss = self._loss(self.test_x, self.test_y).item()
        if self.copy:
            return {"loss": loss, "memoryless": copying.memoryless(self.cfg.seq_len)}
        return {"loss": loss, "predict_mean": adding.mean_mse(self.test_y)}

    def get_state(self) -> dict:
        """Nothing carries over between steps: every sequence starts from a zero state."""
        return {}

    def set_state(self, state: dict) -> None:
        """Nothing to restore (see ``get_state``)."""


def value_clip_effect(clip: float) -> loop.Hook:
    """A loop hook: what clamping every element to ±clip would do to this step's gradient g
    (before any clipping): the cosine between g and the clamped g (norm clipping keeps it 1),
    and the share of elements it would clamp. Logged every step (metrics.jsonl)."""

    def effect(step: int, model: nn.Module) -> dict[str, float]:
        g = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        clamped = g.clamp(-clip, clip)
        cosine = (g @ clamped) / (g.norm() * clamped.norm()).clamp_min(1e-30)
        return {
            "value_clip_cosine": cosine.item(),
            "value_clipped": (g.abs() > clip).double().mean().item(),
        }

    return effect


def loop_config(cfg: AddingConfig, progress: bool = True) -> loop.LoopConfig:
    """The shared loop's settings for one run."""
    return loop.LoopConfig.of(
        cfg,
        hooks=(value_clip_effect(cfg.clip),),
        items_per_step=cfg.batch_size,
        item_name="seqs",
        loss_label="cross-entropy (nats a step)" if cfg.problem == "copy" else "mean squared error",
        progress=progress,
    )
