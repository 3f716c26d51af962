"""The forecasting network, and the task that the shared loop trains it on.

How one example is cut from the series, split and scaled: ``windows.py``. The
network reads a window of W steps and its last hidden state goes through a linear head::

    window (N, W, C) ─▶ impl.RNN | LSTM | GRU ─▶ h at the last step (N, H) ─▶ Linear ─▶ forecast

- ``--head direct``: the head emits the next K values of the target at once (N, K, 1).
- ``--head recursive``: the head emits the next value of every column (N, 1, C); K steps come
  from feeding each prediction back as the newest input (``windows.roll_forward``).

``SeriesTask`` is what ``tasks/loop.py`` needs from this task: the model, the optimizer, the
loss of step k and a validation pass. See docs/series.md.
"""

import math

import numpy as np
import torch
from torch import Tensor, nn

from tasks import init, loop, parallel
from tasks.errors import BadInput
from tasks.impl import layer_class
from tasks.series.config import Problem, SeriesConfig
from tasks.series.data import Series
from tasks.series.windows import Windows, roll_forward

# ---------------------------------------------------------------------------------------------
# model: recurrent layer from the chosen implementation, linear head on its last output


class Forecaster(nn.Module):
    """``impl.RNN | LSTM | GRU`` over the window, then a linear map of the last hidden state."""

    def __init__(self, rnn: nn.Module, hidden: int, steps: int, outputs: int):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(hidden, steps * outputs)
        self.steps, self.outputs = steps, outputs

    def forward(self, x: Tensor) -> Tensor:
        """Scaled windows (N, W, C) to scaled forecasts (N, steps, outputs)."""
        out, _ = self.rnn(x)  # (N, W, H): the top layer's output at every step
        return self.head(out[:, -1]).view(len(x), self.steps, self.outputs)  # (N, steps, outputs)


def head_layout(cfg: SeriesConfig, series: Series) -> tuple[int, list[int]]:
    """(steps, columns) the head emits: K steps of the target, or one step of every column."""
    if cfg.head == "direct":
        return cfg.horizon, [series.target_index]
    return 1, list(range(len(series.columns)))  # every column: each prediction is fed back


def build_model(cfg: SeriesConfig, series: Series, impl: str | None = None) -> Forecaster:
    """The network, seeded, its recurrent weights drawn as ``cfg.init`` says: the same seed
    gives the same weights in scratch and reference."""
    steps, cols = head_layout(cfg, series)
    layer = layer_class(impl or cfg.impl, cfg.cell)
    torch.manual_seed(cfg.seed)
    rnn = layer(
        len(series.columns), cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=cfg.dropout
    )
    init.apply(rnn, cfg)
    return Forecaster(rnn, cfg.hidden_size, steps, len(cols))


def network_forecast(
    model: Forecaster, problem: Problem, cfg: SeriesConfig, inputs: np.ndarray, horizon: int
) -> np.ndarray:
    """The network's raw forecast of the target, ``horizon`` steps from each window: (N, horizon)."""
    _, cols = head_layout(cfg, problem.series)
    model.eval()

    like = next(model.parameters())  # the inputs take the model's device and dtype

    def run(raw: np.ndarray) -> np.ndarray:  # raw windows (N, W, C) -> raw (N, steps, len(cols))
        with torch.no_grad():
            z = model(torch.as_tensor(problem.scaler.encode(raw), dtype=like.dtype).to(like.device))
        return problem.scaler.decode(raw, z.double().cpu().numpy(), cols)

    if cfg.head == "direct":
        if horizon > model.steps:
            raise BadInput(
                f"a direct head emits {model.steps} steps, not {horizon}: train --head recursive"
            )
        return run(inputs)[:, :horizon, 0]
    return roll_forward(lambda w: run(w)[:, 0], inputs, horizon)[..., problem.series.target_index]


# ---------------------------------------------------------------------------------------------
# training: what the shared loop needs from this task


class SeriesTask:
    """The forecasting problem as ``tasks.loop.train`` sees it: model, optimizer, loss of step k.

    Step k reads batch k mod B of epoch k div B, an order drawn from (seed, epoch) alone, and
    runs at a learning rate that is a function of k alone (``learning_rate``, the loop's
    schedule), so a resumed run reads the very batches, at the very rates, that an
    uninterrupted one would.
    """

    def __init__(self, cfg: SeriesConfig, problem: Problem, model: Forecaster):
        on = parallel.device(cfg.device)
        self.model, self.problem = model.to(on), problem
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.shard = parallel.shard()  # each process takes its rows of every batch; no state
        self.batch_size, self.seed, self.lr = cfg.batch_size, cfg.seed, cfg.lr
        steps, cols = head_layout(cfg, problem.series)
        scaler, dtype = problem.scaler, next(model.parameters()).dtype

        def tensors(w: Windows) -> tuple[Tensor, Tensor]:
            x = scaler.encode(w.inputs)  # (N, W, C)
            y = scaler.encode_targets(w.inputs, w.targets[:, :steps], cols)  # (N, steps, len(cols))
            return tuple(torch.as_tensor(a, dtype=dtype).to(on) for a in (x, y))

        self.x, self.y = tensors(problem.splits["train"])
        self.val_x, self.val_y = tensors(problem.splits["val"])
        self.batches_per_epoch = math.ceil(len(self.x) / self.batch_size)
        self.steps = cfg.epochs * self.batches_per_epoch

    def batch(self, step: int) -> Tensor:
        """Indices of the training examples that step ``step`` reads."""
        epoch, k = divmod(step, self.batches_per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
        return torch.from_numpy(order[k * self.batch_size : (k + 1) * self.batch_size])

    def learning_rate(self, step: int) -> float:
        """Cosine decay from ``lr`` at step 0 to zero at the last step: the loop's
        ``lr_schedule``. A rate computed from the step needs no state of its own in the
        checkpoint; a resume with more epochs stretches the cosine to the new last step."""
        return 0.5 * self.lr * (1 + math.cos(math.pi * step / self.steps))

    def loss(self, step: int) -> Tensor:
        """Mean squared error, in scaled units, of this process's rows of one batch."""
        idx = self.batch(step)
        idx = idx[self.shard.rows(len(idx))].to(self.x.device)
        return nn.functional.mse_loss(self.model(self.x[idx]), self.y[idx])

    def evaluate(self) -> dict[str, float]:
        """The same loss over every validation example."""
        return {"loss": nn.functional.mse_loss(self.model(self.val_x), self.val_y).item()}

    def get_state(self) -> dict:
        """Nothing carries over between steps: each window starts from a zero state."""
        return {}

    def set_state(self, state: dict) -> None:
        """Nothing to restore (see ``get_state``)."""


def loop_config(cfg: SeriesConfig, task: SeriesTask, progress: bool = True) -> loop.LoopConfig:
    """Epochs become optimizer steps for the shared loop."""
    return loop.LoopConfig.of(
        cfg,
        steps=task.steps,
        lr_schedule=task.learning_rate,
        items_per_step=cfg.batch_size,
        item_name="windows",
        loss_label="mean squared error (scaled units)",
        progress=progress,
    )
