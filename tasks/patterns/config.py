"""The fields every pattern demo has, in one base dataclass that each demo's config extends with
its own (one comment per field: each is also a flag's help, tasks/config.py), and the checks
that more than one demo uses.

The field names are the project's shared ones (``hidden_size``, ``batch_size``, ``lr``, ...):
their rules come from tasks/config.py's ``SHARED``.
"""

from dataclasses import dataclass
from typing import Any

from tasks.config import option, smoke_run
from tasks.impl import cell_class

FORCING_UNITS = ("step", "sequence")  # what one teacher-forcing coin decides (batches.coins)


def ratio(value: float) -> None:
    """A share in [0, 1], both ends included: the teacher-forcing ratio."""
    if not 0 <= value <= 1:
        raise ValueError(f"must be in [0, 1], got {value}")


# What every demo's smoke preset shares: a toy model, a few steps, a checkpoint half-way.
SMOKE = {
    "embed_size": 8,
    "hidden_size": 16,
    "batch_size": 8,
    "steps": 4,
    "eval_every": 2,
    "checkpoint_every": 2,
}


@dataclass
class TrainingConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    impl: str = "scratch"  # which package builds the recurrent layers and cells: scratch | reference
    cell: str = "gru"  # recurrent cell, by its key (the variants and the minimal RNNs: --impl scratch)
    embed_size: int = 32  # width of a token's embedding, the recurrent input x_t
    hidden_size: int = 128  # H: width of h_t (and of the LSTM's cell state c_t)
    batch_size: int = 64  # examples per optimizer step
    lr: float = 3e-3  # Adam's learning rate at the start; it decays to a tenth along a cosine
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value: clamp each element to ±clip | none
    clip: float = 1.0  # the clipping threshold
    steps: int = 2000  # optimizer steps in the run (a --resume may raise it)
    eval_every: int = 250  # steps between held-out evaluations
    checkpoint_every: int = 250  # steps between checkpoints
    seed: int = 0  # seeds the initial weights, the batch order and the teacher-forcing coins
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda; under torchrun each process on a machine takes its own GPU
    # fmt: on


@dataclass
class DecodingConfig(TrainingConfig):
    """A demo that decodes steps a one-step cell (decoder.py): rnn, lstm or gru."""

    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    cell: str = "gru"  # recurrent cell of the encoder and the decoder, by its key: one with a one-step cell class (RNNCell, LSTMCell, GRUCell), which the decoder steps
    teacher_forcing: float = option(0.5, check=ratio)  # in training, the chance that a step reads the true previous token, not the decoder's own guess
    forcing_unit: str = option("step", choices=FORCING_UNITS)  # what one teacher-forcing coin decides: step (each step of each sequence) | sequence (all steps of one sequence)
    # fmt: on

    def check(self) -> None:
        """``BadInput`` for a cell without a one-step class to decode with."""
        cell_class(self.impl, self.cell)


def smoke(presets: dict[str, Any], impl: str, steps: int, seed: int, cell: str | None) -> Any:
    """The smoke preset on ``impl`` for ``steps`` steps from ``seed`` (one evaluation, at the
    end), on the CPU: what ``smoke_losses`` trains for compare's tasks check."""
    return smoke_run(presets["smoke"], impl, steps, seed, cell)
