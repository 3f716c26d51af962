"""What one adding-problem run is (``AddingConfig``, its presets by name), and what the lab runs
(``LabConfig``, the flags of ``lab``, and ``LabPlan``, the sizes of its experiments).

Fields named as everywhere in the project (``hidden_size``, ``seq_len``, ``init``,
``forget_bias``, ...) take their checks from tasks/config.py's ``SHARED``; the others declare
theirs with ``option``.
"""

from dataclasses import dataclass, field, replace

from tasks.config import at_least, option, positive, smoke_run
from tasks.errors import BadInput
from tasks.impl import choice, key

NONLINEARITIES = ("tanh", "relu")
OPTIMIZERS = ("adam", "sgd")
EXPERIMENTS = ("init", "adding", "exploding")


@dataclass
class AddingConfig:
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    impl: str = "scratch"  # which package builds the recurrent layer: scratch | reference
    cell: str = "lstm"  # recurrent layer, by its cell key (rnn: the Elman RNN, whose φ --nonlinearity picks)
    nonlinearity: str = option("tanh", choices=NONLINEARITIES)  # the Elman RNN's φ, as torch.nn names it: tanh | relu (relu with --init identity is the IRNN)
    init: str = "default"  # recurrent weights: default (torch.nn's U(−1/√H, 1/√H)) | xavier_uniform | xavier_normal | kaiming | orthogonal | identity (rnn only); tasks/init.py
    forget_bias: float | None = None  # LSTM: start b_ih_f + b_hh_f at this value (e.g. 1); None: as --init draws it
    recurrent_gain: float = option(1.0, check=positive)  # W_hh is multiplied by this after --init (above 1: gradients that explode)
    hidden_size: int = 64  # H: width of h_t
    seq_len: int = 100  # T: pairs per sequence; the first marked value is carried up to T − 1 steps
    batch_size: int = 50  # fresh sequences per optimizer step
    optimizer: str = option("adam", choices=OPTIMIZERS)  # adam | sgd (plain, no momentum)
    lr: float = 1e-2  # learning rate
    clip_mode: str = "norm"  # norm: scale the gradient to global L2 norm ≤ clip | value: clamp each element to ±clip | none
    clip: float = 1.0  # the clipping threshold
    steps: int = 2000  # optimizer steps in the run (a --resume may raise it)
    test_size: int = option(1000, check=at_least(1))  # held-out sequences, drawn once from the seed
    eval_every: int = 100  # steps between test-set evaluations
    checkpoint_every: int = 500  # steps between checkpoints
    seed: int = 0  # seeds the weights and every batch
    device: str = "auto"  # where to train: auto (a GPU when there is one) | cpu | cuda; under torchrun each process on a machine takes its own GPU
    # fmt: on

    def check(self) -> None:
        """Rules between fields (tasks/config.py ``validate`` calls this); ``BadInput``."""
        if self.nonlinearity != "tanh" and key(self.cell) != "rnn_tanh":  # rnn, or rnn_tanh
            raise BadInput(f"--nonlinearity {self.nonlinearity} is for --cell rnn, not {self.cell}")
        if self.recurrent_gain != 1 and choice(self.cell).kind == "minimal":
            raise BadInput(
                f"--recurrent-gain {self.recurrent_gain}: --cell {self.cell} has no recurrent "
                "weights W_hh to scale"
            )
        if self.seq_len < 2:
            raise BadInput(f"--seq-len {self.seq_len}: the adding problem needs at least 2 steps")


PRESETS = {
    # the run the targets are quoted for (docs/gradients.md): minutes on 2 CPU cores
    "default": AddingConfig(),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": AddingConfig(
        hidden_size=8,
        seq_len=20,
        batch_size=8,
        steps=4,
        test_size=32,
        eval_every=2,
        checkpoint_every=2,
    ),
}


def smoke_config(impl: str, steps: int, seed: int, cell: str | None = None) -> AddingConfig:
    """The smoke preset on ``impl`` for ``steps`` steps from ``seed`` (one evaluation, at the end)."""
    return smoke_run(PRESETS["smoke"], impl, steps, seed, cell)


# ---------------------------------------------------------------------------------------------
# the lab


@dataclass
class LabConfig:
    # fmt: off
    experiments: list[str] | None = option(None, choices=EXPERIMENTS)  # which to run: init adding exploding (default: all three)
    impl: str = "scratch"  # the implementation that trains (the recorded gradients always come from scratch's BPTT)
    smoke: bool = False  # tiny sizes: seconds, what the tests run
    out: str | None = None  # folder for figures, tables and run folders (default runs/gradients/lab-<date-time>)
    seed: int = 0  # seeds every model and batch
    workers: int = option(1, check=at_least(1))  # training runs at a time, each a process on one thread: 2 on a 2-core machine
    no_progress: bool = False  # no progress bars
    # fmt: on


@dataclass(frozen=True)
class Row:
    """One network of the adding-problem table: its name, its run folders' name, and what it
    changes in ``AddingConfig``."""

    name: str
    slug: str
    changes: dict = field(default_factory=dict)


TABLE_ROWS = (
    Row("RNN (tanh)", "rnn-tanh", {"cell": "rnn"}),
    Row("IRNN", "irnn", {"cell": "rnn", "nonlinearity": "relu", "init": "identity"}),
    Row("LSTM, b_f = 0", "lstm-bf0", {"cell": "lstm", "forget_bias": 0.0}),
    Row("LSTM, b_f = 1", "lstm-bf1", {"cell": "lstm", "forget_bias": 1.0}),
    Row("GRU", "gru", {"cell": "gru"}),
)

# the networks at initialisation: (name, changes), every scheme that applies to each cell
INIT_CELLS = (
    ("RNN (tanh)", {"cell": "rnn"}),
    ("RNN (relu)", {"cell": "rnn", "nonlinearity": "relu"}),
    ("LSTM", {"cell": "lstm"}),
    ("GRU", {"cell": "gru"}),
)


# A relu RNN whose recurrent weights start 5% above the identity: the state, and with it the
# gradient, grows by about that much at every step (1.05^100 ≈ 130), so plain SGD's first
# steps are enormous.
EXPLODING = AddingConfig(
    cell="rnn",
    nonlinearity="relu",
    init="identity",
    recurrent_gain=1.05,
    seq_len=100,
    optimizer="sgd",
    lr=1e-3,
    steps=400,
    eval_every=25,
)


@dataclass(frozen=True)
class LabPlan:
    """The sizes of the lab's three experiments."""

    hidden_size: int = 64  # H of every network
    init_len: int = 500  # T of the at-initialisation curves
    init_batch: int = 16  # sequences averaged over at initialisation
    power_iterations: int = 50  # per-step Jacobian spectral norms
    lengths: tuple[int, ...] = (50, 100, 200, 400)  # T of the adding-problem table
    steps: int = 2000  # optimizer steps of every table run
    eval_every: int = 100  # steps between test-set evaluations
    checkpoint_every: int = 500  # steps between checkpoints: what a stopped lab loses at most
    test_size: int = 1000  # test sequences
    curve_batch: int = 64  # sequences averaged over in the per-step gradient curves
    exploding: AddingConfig = field(default_factory=lambda: EXPLODING)  # trained three times


PLANS = {
    "full": LabPlan(),
    "smoke": LabPlan(
        hidden_size=8,
        init_len=20,
        init_batch=4,
        power_iterations=5,
        lengths=(6, 12),
        steps=4,
        eval_every=4,
        test_size=16,
        curve_batch=4,
        exploding=replace(
            EXPLODING, hidden_size=8, seq_len=12, steps=4, eval_every=4, test_size=16
        ),
    ),
}
