"""The equivalence matrix: every configuration (a cell key, or a key plus one option: "lstm:proj",
"gru:step") × a fixed set of settings × both dtypes × the three bptt modes (manual, readable,
autograd), plus optional random configurations, each checked by harness.compare_case.

This file only chooses the cases and folds each CaseResult's per-tensor errors into the tensor
kinds the report shows (output, h_n, c_n, grad input, ...). Building, weight copying, running,
diffing and deciding pass/fail are the harness's job, here as in the tests.
"""

import random
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace

import torch
from tqdm import tqdm

from compare.harness import CELLS, TORCH_CELLS, Case, CaseResult, compare_case
from scratch.checks import BPTT_CHOICES

# The matrix's configurations, each a cell key plus at most one option: "lstm" (the layer),
# "lstm:proj" (the layer with a projection, proj_size > 0: the LSTM's only) and "lstm:step"
# (the one-step cell class, LSTMCell).
PROJ, STEP = "proj", "step"
MATRIX_LAYERS = (
    *CELLS,
    *(f"{key}:{PROJ}" for key in CELLS if TORCH_CELLS[key].torch_nn == "LSTM"),
)
MATRIX_STEPS = tuple(f"{key}:{STEP}" for key in CELLS)
MATRIX_CELLS = MATRIX_LAYERS + MATRIX_STEPS
LSTM_PROJ = f"lstm:{PROJ}"
# How earlier versions spelled them: a name of its own per configuration.
OLD_SPELLINGS = {"lstm_proj": LSTM_PROJ} | {f"{key}_cell": f"{key}:{STEP}" for key in CELLS}
BPTT_MODES = BPTT_CHOICES  # manual (the manual loops), readable (the step pair), autograd


def key_and_option(name: str) -> tuple[str, str | None]:
    """("lstm", "proj") for "lstm:proj"; ("gru", None) for "gru"."""
    key, _, option = name.partition(":")
    return key, option or None


PROJ_SIZE = 3  # below Case's default hidden_size

# Named configurations: Case fields on top of the defaults (L=6, N=3, H_in=4, H=5, with hx).
LAYER_CONFIGS: dict[str, dict] = {
    "single": {},
    "stacked-bidir": {"num_layers": 2, "bidirectional": True},
    "batch_first": {"batch_first": True},
    "packed": {"lengths": (6, 4, 2)},
    "packed-unsorted": {"lengths": (3, 6, 1), "enforce_sorted": False},
    "unbatched": {"unbatched": True},
    "train-dropout": {"num_layers": 3, "bidirectional": True, "dropout": 0.3, "train": True},
    "no-bias-no-hx": {"bias": False, "with_hx": False},
}
STEP_CONFIGS: dict[str, dict] = {
    "batched": {},
    "unbatched": {"unbatched": True},
    "no-bias-no-hx": {"bias": False, "with_hx": False},
}
QUICK_LAYER_CONFIGS = ("single", "stacked-bidir", "packed-unsorted")
QUICK_STEP_CONFIGS = ("batched",)

# The tensor kinds of the report, in column order. A cell's h' and c' count as h_n and c_n.
KINDS = (
    "output",
    "h_n",
    "c_n",
    "grad input",
    "grad h_0",
    "grad c_0",
    "grad weights",
    "grad biases",
)


@dataclass(frozen=True)
class Entry:
    """One row to check: the matrix cell name, the configuration's name and the Case."""

    cell: str
    config: str  # a key of LAYER_CONFIGS / STEP_CONFIGS, or "random"
    case: Case

    def label(self) -> str:
        if self.config == "random":
            return self.case.label()
        return f"{self.cell} {self.config} {self.case.dtype} {self.case.bptt}"


@dataclass
class EquivRow:
    """A checked Entry: the harness's result and its errors folded into KINDS."""

    entry: Entry
    result: CaseResult
    kind_errors: dict[str, float]  # the largest scaled error of each kind present
    failed_kinds: list[str]

    @property
    def passed(self) -> bool:
        return self.result.passed

    def as_dict(self) -> dict:
        return self.result.as_dict() | {
            "cell": self.entry.cell,
            "config": self.entry.config,
            "label": self.entry.label(),
            "kind_errors": self.kind_errors,
            "failed_kinds": self.failed_kinds,
        }


def tensor_kind(name: str) -> str:
    """The KINDS column that a harness tensor name belongs to."""
    if name.startswith("grad weight"):
        return "grad weights"
    if name.startswith("grad bias"):
        return "grad biases"
    return {"h'": "h_n", "c'": "c_n"}.get(name, name)


def matrix_case(cell: str, config: dict, dtype: str, bptt: str) -> Case:
    """The Case for a matrix configuration (key and option) and configuration fields."""
    key, option = key_and_option(cell)
    options = {"proj_size": PROJ_SIZE} if option == PROJ else {"step": option == STEP}
    return Case(key, dtype=dtype, bptt=bptt, **options, **config)


def matrix_entries(
    cells: Iterable[str], dtypes: Iterable[str], quick: bool, bptt: Iterable[str] = BPTT_MODES
) -> list[Entry]:
    """The fixed matrix, ordered cell → configuration → dtype → bptt."""
    dtypes = list(dtypes)
    entries = []
    for cell in cells:
        configs = LAYER_CONFIGS if cell in MATRIX_LAYERS else STEP_CONFIGS
        names = list(configs)
        if quick:
            names = list(QUICK_LAYER_CONFIGS if cell in MATRIX_LAYERS else QUICK_STEP_CONFIGS)
        for name in names:
            for dtype in dtypes:
                for mode in bptt:
                    entries.append(Entry(cell, name, matrix_case(cell, configs[name], dtype, mode)))
    return entries


def random_entry(
    rng: random.Random, cells: list[str], dtypes: list[str], bptt: list[str] = BPTT_MODES
) -> Entry:
    """One configuration drawn over every option, in the ranges tests/strategies.py uses."""
    cell = rng.choice(cells)
    common = {
        "input_size": rng.randint(1, 8),
        "batch": rng.randint(1, 5),
        "bias": rng.random() < 0.5,
        "with_hx": rng.random() < 0.5,
        "dtype": rng.choice(dtypes),
        "bptt": rng.choice(bptt),
    }
    key, option = key_and_option(cell)
    if option == STEP:
        hidden, unbatched = rng.randint(1, 8), rng.random() < 0.5
        case = Case(key, step=True, hidden_size=hidden, unbatched=unbatched, **common)
        return Entry(cell, "random", case)
    hidden = rng.randint(2, 8) if option == PROJ else rng.randint(1, 8)
    seq_len, layers = rng.randint(1, 30), rng.randint(1, 3)
    fields = {
        "hidden_size": hidden,
        "seq_len": seq_len,
        "num_layers": layers,
        "bidirectional": rng.random() < 0.5,
        "batch_first": rng.random() < 0.5,
        "train": rng.random() < 0.5,
        "dropout": rng.choice([0.0, 0.0, 0.3]) if layers > 1 else 0.0,
    }
    if TORCH_CELLS[key].torch_nn == "LSTM":  # the LSTM's projection: sometimes, or always
        fields["proj_size"] = rng.randint(1 if option == PROJ else 0, hidden - 1)
    layout = rng.choice(["plain", "packed", "unbatched"])
    fields["unbatched"] = layout == "unbatched"
    if layout == "packed":
        lengths = [rng.randint(1, seq_len) for _ in range(common["batch"])]
        lengths[rng.randrange(common["batch"])] = seq_len  # the longest fills the padded batch
        fields["enforce_sorted"] = rng.random() < 0.5
        fields["lengths"] = tuple(
            sorted(lengths, reverse=True) if fields["enforce_sorted"] else lengths
        )
    return Entry(cell, "random", replace(Case(key), **common, **fields))


def random_entries(
    n: int,
    seed: int,
    cells: Iterable[str],
    dtypes: Iterable[str],
    bptt: Iterable[str] = BPTT_MODES,
) -> list[Entry]:
    """n configurations from random.Random(seed): the same seed draws the same list."""
    rng, cells, dtypes, bptt = random.Random(seed), list(cells), list(dtypes), list(bptt)
    return [random_entry(rng, cells, dtypes, bptt) for _ in range(n)]


def fold(entry: Entry, result: CaseResult) -> EquivRow:
    """Fold the harness's per-tensor errors and failures into KINDS."""
    kind_errors: dict[str, float] = {}
    for name, error in result.errors.items():
        kind = tensor_kind(name)
        kind_errors[kind] = max(kind_errors.get(kind, 0.0), error)
    failed = {tensor_kind(name) for name in result.failed}
    return EquivRow(entry, result, kind_errors, [k for k in KINDS if k in failed])


def check(entries: list[Entry], seed: int = 0, progress: bool = True) -> list[EquivRow]:
    """Run every entry through the harness, one thread (the tensors are tiny; a second thread
    only adds synchronisation, which costs dearly when other processes share the cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():  # torch.nn's note that oneDNN skips projections
            warnings.filterwarnings("ignore", "LSTM with projections is not supported")
            bar = tqdm(entries, desc="equivalence", unit="case", disable=not progress)
            return [fold(entry, compare_case(entry.case, seed)) for entry in bar]
    finally:
        torch.set_num_threads(threads)
