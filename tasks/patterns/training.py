"""What the pattern demos' training shares: the learning-rate schedule and the loop's settings
(their ``smoke_losses`` for compare's tasks check is tasks/cli.py's ``smoke_losses_of``).

Every demo's task follows the same rules (tasks/loop.py ``Task``): step k reads the batch of
``Batches(k)``, runs at the rate ``schedule(k)`` and, where it decodes, draws the coins
``coins(seed, k, ...)``, all functions of k alone; nothing carries over from step to step. So
a resumed run is the uninterrupted one, step for step.

Under torchrun (tasks/parallel.py) each process takes its rows of every step's batch
(``shard.rows``); every process draws the whole batch's indices and coins from (seed, k), so
its rows are the rows one process would have read there. The losses are means over items that
rows hold in unequal numbers (a caption's words, a window's scored letters) or weights (a
speech's class weight), so each process returns ``share_of_mean`` of its items' sum.
"""

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import Tensor

from tasks import loop, parallel
from tasks.cli import Prepared, Trainer
from tasks.patterns.config import TrainingConfig

FINAL_LR = 0.1  # the cosine ends at this share of the starting learning rate


def schedule(lr: float, steps: int) -> Callable[[int], float]:
    """Cosine decay from ``lr`` at step 0 to ``FINAL_LR · lr`` at the last step: fast early,
    careful late. A function of the step alone, so the checkpoint needs nothing for it; a
    resume with more steps stretches the cosine to the new last step."""

    def rate(step: int) -> float:
        return lr * (FINAL_LR + (1 - FINAL_LR) * 0.5 * (1 + math.cos(math.pi * step / steps)))

    return rate


def loop_config(
    cfg: TrainingConfig, item_name: str, loss_label: str, progress: bool = True
) -> loop.LoopConfig:
    """The shared loop's settings from a demo's config: one item is one example."""
    return loop.LoopConfig.of(
        cfg,
        lr_schedule=schedule(cfg.lr, cfg.steps),
        items_per_step=cfg.batch_size,
        item_name=item_name,
        loss_label=loss_label,
        progress=progress,
    )


def trainer(
    name: str,
    about: str,
    config: type,
    presets: dict[str, Any],
    prepare: Callable[..., Prepared],
    report: Callable[[Any, Any, Path | None], str],
    meta_checks: dict[str, Callable[[Any], bool]] | None = None,
) -> Trainer:
    """A demo's ``train`` command (tasks/cli.py): from the ``default`` preset, built by
    ``prepare``, ending with ``report(config, task, run folder)``, which writes the demo's
    results and figures and returns its score table, printed. ``meta_checks``: what the
    demo's own checkpoint entries must pass (tasks/cli.py ``Trainer``)."""

    def finish(cfg: Any, prepared: Prepared, history: loop.History, out: Path) -> None:
        print(report(cfg, prepared.task, out))
        print(f"run folder: {out}", file=sys.stderr)

    return Trainer(name, about, config, presets, "default", prepare, finish, meta_checks or {})


def share_of_mean(total: Tensor, whole: Tensor | float, shard: parallel.Shard) -> Tensor:
    """This process's loss, when the batch's loss is a mean over items: ``total``, the summed
    loss of the items of this process's rows (taken with ``shard.rows``); ``whole``, how many
    items (or how much weight) the whole batch holds. The loop weighs process r's loss by its
    share of the rows, n_r / n, and sums: Σ_r total_r · n / (n_r · whole) · n_r / n =
    Σ_r total_r / whole, the mean one process computes over the whole batch."""
    taken, rows = shard.taken
    return total * (rows / (taken * float(whole)))


class Stateless:
    """A task whose steps carry nothing over (a batch is read whole): nothing to save."""

    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        """Nothing to restore (see ``get_state``)."""
