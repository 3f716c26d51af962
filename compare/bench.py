"""The benchmark: forward+backward time and peak memory of scratch (manual BPTT), scratch
(autograd) and torch.nn, for the LSTM, GRU and tanh RNN at a few sizes.

Timing. All three run in one process with the same weights (harness.build_pair) and the same
batch (harness.make_inputs). After one warm-up call each, every repetition runs the three back
to back in a rotating order, so a slow moment of the machine hits all three alike; each ratio
scratch/torch.nn is taken within one repetition, and the report gives the median of those.

Memory. torch has no max_memory_allocated for the CPU, so one more fwd+bwd of each runs under
torch.profiler with profile_memory=True; the profiler records every allocation and free as a
"[memory]" event, and the peak of their running sum, in time order, is the most memory held
above what existed before the call (weights and input included in the baseline, not the peak).
"""

import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.profiler import ProfilerActivity, profile
from tqdm import tqdm

from compare.harness import Case, build_pair, make_inputs, scaled_error


@dataclass(frozen=True)
class Size:
    """One benchmark size in the contract's letters."""

    L: int  # sequence length (T)
    N: int  # batch (B)
    H_in: int  # input features (I)
    H: int  # hidden units


SIZES = {
    "tiny": Size(200, 8, 32, 64),
    "medium": Size(100, 64, 128, 256),
    "large": Size(50, 128, 256, 512),
}
BENCH_CELLS = ("lstm", "gru", "rnn_tanh")
IMPLS = ("scratch manual", "scratch autograd", "torch.nn")
REFERENCE = "torch.nn"

# Targets for the scratch-manual/torch.nn time ratio, per cell and size; and for peak memory
# at MEMORY_SIZE (scratch manual ≤ MEMORY_TARGET × torch.nn).
TIME_TARGETS = {
    "lstm": {"tiny": 2.5, "medium": 1.6, "large": 1.85},
    "gru": {"tiny": 0.5, "medium": 0.9, "large": 1.05},
    "rnn_tanh": {"tiny": 0.5, "medium": 0.8, "large": 0.95},
}
MEMORY_TARGET = 1.2
MEMORY_SIZE = "medium"


@dataclass
class ImplResult:
    """One implementation at one cell and size."""

    times_ms: list[float]  # one per repetition, in repetition order
    ratios: list[float]  # time / torch.nn's time in the same repetition
    peak_mib: float  # peak memory above the baseline, MiB
    output_error: float  # scaled error of the output against torch.nn's (a sanity check)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def iqr_ms(self) -> tuple[float, float]:
        """The 25th and 75th percentiles of the times."""
        if len(self.times_ms) < 2:
            return self.times_ms[0], self.times_ms[0]
        q = statistics.quantiles(self.times_ms, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


@dataclass
class BenchResult:
    """All three implementations at one cell and size, with the targets that apply."""

    cell: str
    size: str
    dims: Size
    impls: dict[str, ImplResult]
    threads: int

    @property
    def time_target(self) -> float | None:
        return TIME_TARGETS.get(self.cell, {}).get(self.size)

    @property
    def time_met(self) -> bool | None:
        target = self.time_target
        return None if target is None else self.impls["scratch manual"].ratio <= target

    @property
    def memory_ratio(self) -> float:
        ref = self.impls[REFERENCE].peak_mib
        return self.impls["scratch manual"].peak_mib / ref if ref > 0 else float("inf")

    @property
    def memory_met(self) -> bool | None:
        return None if self.size != MEMORY_SIZE else self.memory_ratio <= MEMORY_TARGET

    def as_dict(self) -> dict:
        impls = {
            name: asdict(r) | {"median_ms": r.median_ms, "iqr_ms": r.iqr_ms, "ratio": r.ratio}
            for name, r in self.impls.items()
        }
        return {
            "cell": self.cell,
            "size": self.size,
            "dims": asdict(self.dims),
            "threads": self.threads,
            "impls": impls,
            "time_target": self.time_target,
            "time_met": self.time_met,
            "memory_ratio": self.memory_ratio,
            "memory_target": MEMORY_TARGET if self.size == MEMORY_SIZE else None,
            "memory_met": self.memory_met,
        }


def forward_backward(
    module: nn.Module, x: Tensor | PackedSequence, weights: list[Tensor] | None
) -> list[Tensor]:
    """One training step's worth of work: forward, loss = Σ (tensor · weight) over the output
    and every final state, backward. weights=None: all ones. Returns the forward's tensors."""
    out, state = module(x)
    out = out.data if isinstance(out, PackedSequence) else out  # packed: the real steps' rows
    tensors = [out, *state] if isinstance(state, tuple) else [out, state]
    weights = weights or [torch.ones_like(t) for t in tensors]
    loss = sum((t * w).sum() for t, w in zip(tensors, weights, strict=True))
    loss.backward()
    return [t.detach() for t in tensors]


def peak_memory_mib(step: Callable[[], object]) -> float:
    """The peak, above the starting point, of the memory that `step` allocates on the CPU: the
    running sum of the profiler's allocation (+) and free (−) events, in time order."""
    os.environ.setdefault("KINETO_LOG_LEVEL", "99")  # keep the profiler's banner off stderr
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted(  # the raw events: the public EventList folds memory into the ops
        (event.start_ns(), event.nbytes())
        for event in prof.profiler.kineto_results.events()
        if event.name() == "[memory]"
    )
    running = peak = 0
    for _, nbytes in events:
        running += nbytes
        peak = max(peak, running)
    return peak / 2**20


def bench_one(
    cell: str, size: str, dims: Size, repeats: int, seed: int = 0, packed: bool = False
) -> BenchResult:
    """Time and measure the three implementations at one cell and size (named `size`).
    ``packed``: the batch is packed, its lengths drawn uniformly from 1…L (one of them L) and
    left unsorted, as a batch of variable-length sequences reaches a layer; the size's row
    then reads "<size> packed"."""
    case = Case(
        cell, dims.H_in, dims.H, seq_len=dims.L, batch=dims.N, dtype="float32", with_hx=False
    )
    manual, ref = build_pair(case, seed)
    autograd, _ = build_pair(replace(case, bptt="autograd"), seed)  # same seed: same weights
    modules = dict(zip(IMPLS, (manual, autograd, ref), strict=True))
    x, _ = make_inputs(case, seed)
    x.requires_grad_(True)
    lengths = torch.randint(1, dims.L + 1, (dims.N,), generator=torch.Generator().manual_seed(seed))
    lengths[0] = dims.L

    def batch() -> Tensor | PackedSequence:  # packed anew each call: its graph is freed by backward
        if not packed:
            return x
        return pack_padded_sequence(x, lengths, case.batch_first, enforce_sorted=False)

    ref_tensors = forward_backward(ref, batch(), None)  # torch.nn's warm-up; it shows the shapes
    g = torch.Generator().manual_seed(seed + 3)
    weights = [torch.randn(t.shape, generator=g) for t in ref_tensors]

    def step(name: str) -> list[Tensor]:
        modules[name].zero_grad(set_to_none=True)
        x.grad = None
        return forward_backward(modules[name], batch(), weights)

    outputs = {name: step(name)[0] for name in IMPLS[:2]} | {REFERENCE: ref_tensors[0]}
    times: dict[str, list[float]] = {name: [] for name in IMPLS}
    for r in range(repeats):
        for name in IMPLS[r % 3 :] + IMPLS[: r % 3]:
            start = time.perf_counter()
            step(name)
            times[name].append(1e3 * (time.perf_counter() - start))

    results = {}
    for name in IMPLS:
        modules[name].zero_grad(set_to_none=True)
        x.grad = None
        peak = peak_memory_mib(lambda name=name: forward_backward(modules[name], batch(), weights))
        ratios = [t / r for t, r in zip(times[name], times[REFERENCE], strict=True)]
        error = scaled_error(outputs[name], outputs[REFERENCE])
        results[name] = ImplResult(times[name], ratios, peak, error)
    label = f"{size} packed" if packed else size
    return BenchResult(cell, label, dims, results, torch.get_num_threads())


def run_bench(
    cells: Iterable[str],
    sizes: dict[str, Size],
    repeats: int,
    threads: int = 2,
    seed: int = 0,
    progress: bool = True,
    packed: bool = False,
) -> list[BenchResult]:
    """Every cell at every size, float32, with `threads` intra-op threads; ``packed``: packed
    batches of unsorted lengths (see ``bench_one``)."""
    jobs = [(cell, size) for size in sizes for cell in cells]
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        bar = tqdm(jobs, desc="benchmark", unit="run", disable=not progress)
        results = []
        for cell, size in bar:
            bar.set_postfix_str(f"{cell} {size}")
            results.append(bench_one(cell, size, sizes[size], repeats, seed, packed))
        return results
    finally:
        torch.set_num_threads(before)
