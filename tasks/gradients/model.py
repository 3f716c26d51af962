"""The adding-problem network and the task that the shared loop trains it on.

    x (T, N, 2) ─▶ impl.RNN | LSTM | GRU ─▶ h at the last step (N, H) ─▶ Linear ─▶ sum (N,)

Many-to-one: the loss sees only the last step, so every gradient that reaches an earlier step
has come back through the recurrence, the quantity the lab measures (tasks/gradients/flow.py).
"""

import torch
from torch import Tensor, nn

from tasks import init, loop, parallel
from tasks.gradients import adding
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
    """The recurrent layer over the sequence, then a linear map of its last hidden state."""

    def __init__(self, rnn: nn.Module, hidden_size: int):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Sequences (T, N, 2) to predicted sums (N,)."""
        out, _ = self.rnn(x)  # (T, N, H)
        return self.head(out[-1]).squeeze(1)  # (N,)


def build_model(cfg: AddingConfig, impl: str | None = None) -> AddingModel:
    """The network ``cfg`` describes, seeded, its recurrent weights drawn as ``cfg.init`` says
    (then W_hh times ``cfg.recurrent_gain``); ``impl`` overrides ``cfg.impl``."""
    torch.manual_seed(cfg.seed)
    layer = layer_class(impl or cfg.impl, cfg.cell)
    options = {"nonlinearity": cfg.nonlinearity} if key(cfg.cell) == "rnn_tanh" else {}
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
        test = adding.batch(cfg.seed, adding.TEST, 0, cfg.test_size, cfg.seq_len)
        self.test_x, self.test_y = (t.to(self.on, self.dtype) for t in test)

    def loss(self, step: int) -> Tensor:
        """Mean squared error of this process's rows of batch ``step``."""
        x, y = adding.batch(
            self.cfg.seed, adding.TRAIN, step, self.cfg.batch_size, self.cfg.seq_len
        )  # (T, N, 2), (N,)
        rows = self.shard.rows(len(y))
        x, y = x[:, rows].to(self.on, self.dtype), y[rows].to(self.on, self.dtype)
        return nn.functional.mse_loss(self.model(x), y)

    def evaluate(self) -> dict[str, float]:
        """Test MSE, beside the yardstick's on the same sequences (predicting the mean, 1)."""
        mse = nn.functional.mse_loss(self.model(self.test_x), self.test_y).item()
        return {"loss": mse, "predict_mean": adding.mean_mse(self.test_y)}

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
        loss_label="mean squared error",
        progress=progress,
    )
