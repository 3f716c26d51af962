"""The CUDA rows of the equivalence check, run when a GPU is present: scratch on the GPU against
torch.nn on the same GPU (cuDNN for the layers), and each of them against a float64 oracle on
the CPU (torch.nn in float64 from the same weights and batch, rounded to the row's dtype).

Each row is a case of the matrix (compare/equiv.py) without dropout. On CUDA torch.nn's dropout
between layers happens inside cuDNN, drawn from cuDNN's own generator state: no other program
can draw those masks, so the rows would measure two sets of masks, not two implementations.
Dropout on the CPU is checked by the matrix (same masks from one seed).

TF32 is off while the rows run (``ieee_float32``): torch lets cuDNN's RNNs use TensorFloat-32
for float32 by default (a 10-bit mantissa on Ampere and later GPUs), which alone parts cuDNN
from any full-precision float32 computation by about 1e-3, far above the contract's 1e-5.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch

import reference
import scratch
from compare.equiv import Entry
from compare.harness import Case, CaseResult, diff, module_for, run

PAIRS = ("scratch vs torch.nn", "scratch vs oracle", "torch.nn vs oracle")
NO_DEVICE = "no CUDA device: the CUDA rows were not run"


def available() -> bool:
    """Whether this machine has a GPU that torch can use."""
    return torch.cuda.is_available()


def device_name() -> str | None:
    """The GPU the rows run on, as the driver names it; None without one."""
    return torch.cuda.get_device_name(0) if available() else None


def entries(matrix: list[Entry]) -> list[Entry]:
    """The matrix's entries that the CUDA rows repeat: all but those with dropout."""
    return [entry for entry in matrix if entry.case.dropout == 0]


@dataclass
class CudaRow:
    """One case on the GPU: the harness's result for each pair of PAIRS."""

    entry: Entry
    results: dict[str, CaseResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results.values())

    def as_dict(self) -> dict:
        pairs = {
            pair: {"worst": r.worst, "errors": r.errors, "failed": r.failed}
            for pair, r in self.results.items()
        }
        return {
            "label": self.entry.label(),
            "case": asdict(self.entry.case),
            "passed": self.passed,
            "pairs": pairs,
        }


@contextmanager
def ieee_float32() -> Iterator[None]:
    """float32 products in full float32 on the GPU (no TF32), in cuDNN's RNNs and in matmul."""
    rnn, matmul = torch.backends.cudnn.rnn, torch.backends.cuda.matmul
    before = rnn.fp32_precision, matmul.fp32_precision
    rnn.fp32_precision = matmul.fp32_precision = "ieee"
    try:
        yield
    finally:
        rnn.fp32_precision, matmul.fp32_precision = before


def compare_with_oracle(case: Case, seed: int = 0, device: str = "cuda") -> dict[str, CaseResult]:
    """The case on ``device`` in scratch and in torch.nn, and in float64 torch.nn on the CPU,
    all from one set of weights (drawn on the CPU in the case's dtype) and one batch."""
    torch.manual_seed(seed)
    drawn = module_for(reference, case)
    oracle = module_for(reference, case).double()
    ours, theirs = (module_for(impl, case).to(device) for impl in (scratch, reference))
    for module in (oracle, ours, theirs):
        module.load_state_dict(drawn.state_dict())
        module.train(case.train)
    with ieee_float32():
        ran = {name: run(m, case, seed) for name, m in [("ours", ours), ("theirs", theirs)]}
    truth = run(oracle, case, seed)
    return {
        PAIRS[0]: diff(case, ran["ours"], ran["theirs"]),
        PAIRS[1]: diff(case, ran["ours"], truth),
        PAIRS[2]: diff(case, ran["theirs"], truth),
    }


def check(matrix: list[Entry], seed: int = 0) -> list[CudaRow]:
    """The CUDA rows of ``matrix``'s entries (see ``entries``)."""
    return [CudaRow(entry, compare_with_oracle(entry.case, seed)) for entry in entries(matrix)]
