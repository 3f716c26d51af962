"""What one state-tracking run is (``StateConfig``, its presets by name), and what the lab runs
(``LabConfig``, the flags of ``lab``; ``ROWS``, the networks of its table)."""

from dataclasses import dataclass

from tasks.config import at_least, option, smoke_run
from tasks.state.data import PROBLEMS, TEST_LENGTHS


@dataclass
class StateConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    impl: str = "scratch"  # which package builds the recurrent layer: scratch | reference
    cell: str = "lstm"  # recurrent layer: rnn | lstm | gru | slstm | mingru | minlstm | rglru | mingru_neg | ...
    problem: str = option("parity", choices=tuple(PROBLEMS))  # parity (bits, sum mod 2) | mod5 (digits, sum mod 5)
    hidden_size: int = 64  # H: width of h_t
    num_layers: int = 1  # recurrent layers, stacked
    seq_len: int = 40  # training length: every step's running label is a target
    max_test_len: int = option(256, check=at_least(1))  # held-out lengths: those of 40, 64, 96, 128, 192, 256 up to this
    batch_size: int = 64  # fresh sequences per optimizer step
    lr: float = 3e-3  # Adam's learning rate
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value | none
    clip: float = 1.0  # the clipping threshold
    steps: int = 2000  # optimizer steps in the run (a --resume may raise it)
    test_size: int = option(512, check=at_least(1))  # held-out sequences per length, drawn once from the seed
    eval_every: int = 500  # steps between held-out evaluations
    checkpoint_every: int = 500  # steps between checkpoints
    seed: int = 0  # seeds the weights and every batch
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda
    # fmt: on

    @property
    def test_lengths(self) -> tuple[int, ...]:
        return tuple(n for n in TEST_LENGTHS if n <= self.max_test_len) or (self.max_test_len,)


PRESETS = {
    # the runs docs/state.md quotes: a few minutes each on one CPU core
    "default": StateConfig(),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": StateConfig(
        hidden_size=8,
        seq_len=12,
        max_test_len=64,
        batch_size=8,
        steps=4,
        test_size=16,
        eval_every=2,
        checkpoint_every=2,
    ),
}


def smoke_config(impl: str, steps: int, seed: int, cell: str | None = None) -> StateConfig:
    """The smoke preset on ``impl`` for ``steps`` steps from ``seed`` (one evaluation, at the end)."""
    return smoke_run(PRESETS["smoke"], impl, steps, seed, cell)


@dataclass
class LabConfig:
    # fmt: off
    problems: list[str] | None = option(None, choices=tuple(PROBLEMS))  # which problems: parity mod5 (default: both)
    cells: list[str] | None = None  # which rows of the table, by --cell name (default: all of ROWS)
    impl: str = "scratch"  # the implementation that trains
    smoke: bool = False  # tiny sizes: seconds, what the tests run
    steps: int | None = None  # optimizer steps of every run (default: the preset's)
    out: str | None = None  # folder for the table, the figure and one run folder per row (default runs/state/lab-<date-time>)
    seed: int = 0  # seeds every model and batch
    progress: bool = True  # progress bars (--no-progress: none)
    # fmt: on


# The table's rows: (name shown, --cell). RNN, LSTM and GRU are torch.nn's; the rest scratch's.
ROWS = (
    ("RNN", "rnn"),
    ("LSTM", "lstm"),
    ("GRU", "gru"),
    ("sLSTM", "slstm"),
    ("minGRU", "mingru"),
    ("minLSTM", "minlstm"),
    ("RG-LRU", "rglru"),
    ("minGRU, a ∈ (−1, 1)", "mingru_neg"),
)
