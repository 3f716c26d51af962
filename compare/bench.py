"""The benchmark: forward+backward time and peak memory of scratch (manual BPTT), scratch
(autograd) and torch.nn, for the LSTM, GRU and tanh RNN at a few sizes, beside the GEMM bound:
the layer's matrix products alone (compare/bound.py), which no loop of this design can beat.

Timing. All three run in one process with the same weights (harness.build_pair) and the same
batch (harness.make_inputs). After one warm-up call each, every repetition runs the three back
to back in a rotating order, so a slow moment of the machine hits all three alike; each ratio
scratch/torch.nn is taken within one repetition, and the report gives the median of those.
The GEMM bound joins the rotation as a fourth entry; each implementation's time / bound is
likewise taken within one repetition.

Memory. torch has no max_memory_allocated for the CPU, so one more fwd+bwd of each runs under
torch.profiler with profile_memory=True; the profiler records every allocation and free as a
"[memory]" event, and the peak of their running sum, in time order, is the most memory held
above what existed before the call (weights and input included in the baseline, not the peak).
Scratch manual's gradient buffers, kept from one backward to the next (scratch/fast/workspace.py),
existed before the call: their size is added to its peak.
"""

import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.profiler import ProfilerActivity, profile
from tqdm import tqdm

from compare.bound import Bound, Product, plan
from compare.harness import TORCH_CELLS, Case, build_pair, make_inputs, scaled_error
from scratch.fast import workspace


@dataclass(frozen=True)
class Size:
    """One benchmark size in the contract's letters."""

    L: int  # sequence length (T)
    N: int  # batch (B)
    H_in: int  # input features (I)
    H: int  # hidden units
    min_L: int = 1  # packed batches: the shortest length drawn (lengths uniform in min_L…L)


SIZES = {
    "tiny": Size(200, 8, 32, 64),
    "medium": Size(100, 64, 128, 256),
    "large": Size(50, 128, 256, 512),
}
# What --packed runs by default: variable-length batches like the text task's speeches.
PACKED_SIZES = {
    "text64": Size(170, 64, 32, 128, min_L=40),
    "text256": Size(170, 256, 32, 128, min_L=40),
}
PACKINGS = ("sorted", "unsorted")  # pack_padded_sequence's enforce_sorted True / False
BENCH_CELLS = ("lstm", "gru", "rnn_tanh")
IMPLS = ("scratch manual", "scratch autograd", "torch.nn")
REFERENCE = "torch.nn"
BOUND = "GEMM bound"

# Targets for the scratch-manual/torch.nn time ratio, per cell and size; and for peak memory
# at MEMORY_SIZE (scratch manual ≤ MEMORY_TARGET × torch.nn).
TIME_TARGETS = {
    "lstm": {"tiny": 2.5, "medium": 1.6, "large": 1.85},
    "gru": {"tiny": 0.5, "medium": 0.9, "large": 1.05},
    "rnn_tanh": {"tiny": 0.5, "medium": 0.8, "large": 0.95},
}
# Targets for scratch manual's time / the GEMM bound (issue 16).
BOUND_TARGETS = {
    "lstm": {"medium": 1.25, "large": 1.2},
    "gru": {"medium": 1.25, "large": 1.2},
    "rnn_tanh": {"medium": 1.15, "large": 1.1},
}
MEMORY_TARGET = 1.2
MEMORY_SIZE = "medium"


@dataclass
class Timed:
    """What was timed at one cell and size, repetition by repetition."""

    times_ms: list[float]  # one per repetition, in repetition order
    ratios: list[float]  # time / torch.nn's time in the same repetition

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
class ImplResult(Timed):
    """One implementation at one cell and size."""

    peak_mib: float = 0.0  # peak memory above the baseline, MiB
    output_error: float = 0.0  # scaled error of the output against torch.nn's (a sanity check)
    bound_ratios: list[float] = field(default_factory=list)  # time / the GEMM bound's, per rep

    @property
    def bound_ratio(self) -> float:
        return statistics.median(self.bound_ratios)


@dataclass
class BoundResult(Timed):
    """The GEMM bound at one cell and size: its times, and the products it made."""

    products: list[Product] = field(default_factory=list)

    @property
    def gflop(self) -> float:
        return sum(p.flops for p in self.products) / 1e9


@dataclass
class BenchResult:
    """All three implementations at one cell and size, with the targets that apply."""

    cell: str
    size: str
    dims: Size
    impls: dict[str, ImplResult]
    threads: int
    bound: BoundResult

    @property
    def time_target(self) -> float | None:
        return TIME_TARGETS.get(self.cell, {}).get(self.size)

    @property
    def time_met(self) -> bool | None:
        target = self.time_target
        return None if target is None else self.impls["scratch manual"].ratio <= target

    @property
    def bound_target(self) -> float | None:
        return BOUND_TARGETS.get(self.cell, {}).get(self.size)

    @property
    def bound_met(self) -> bool | None:
        target = self.bound_target
        return None if target is None else self.impls["scratch manual"].bound_ratio <= target

    @property
    def memory_ratio(self) -> float:
        ref = self.impls[REFERENCE].peak_mib
        return self.impls["scratch manual"].peak_mib / ref if ref > 0 else float("inf")

    @property
    def memory_met(self) -> bool | None:
        return None if self.size != MEMORY_SIZE else self.memory_ratio <= MEMORY_TARGET

    def as_dict(self) -> dict:
        def summary(r, **more) -> dict:
            return (
                asdict(r) | {"median_ms": r.median_ms, "iqr_ms": r.iqr_ms, "ratio": r.ratio} | more
            )

        impls = {n: summary(r, bound_ratio=r.bound_ratio) for n, r in self.impls.items()}
        bound = summary(self.bound, gflop=self.bound.gflop)
        return {
            "cell": self.cell,
            "size": self.size,
            "dims": asdict(self.dims),
            "threads": self.threads,
            "impls": impls,
            "bound": bound,
            "time_target": self.time_target,
            "time_met": self.time_met,
            "bound_target": self.bound_target,
            "bound_met": self.bound_met,
            "memory_ratio": self.memory_ratio,
            "memory_target": MEMORY_TARGET if self.size == MEMORY_SIZE else None,
            "memory_met": self.memory_met,
        }


def forward_backward(
    module: nn.Module, x: Tensor | PackedSequence, weights: list[Tensor] | None
) -> list[Tensor]:
    """One training step's worth of the layer's work: forward, then backward from the given
    gradients of the output and of every final state (those of the loss Σ tensor · weight;
    weights=None: all ones). The gradients are handed to backward directly, so that the time
    is the layer's alone, not also a loss's two passes over the output. Returns the forward's
    tensors."""
    out, state = module(x)
    out = out.data if isinstance(out, PackedSequence) else out  # packed: the real steps' rows
    tensors = [out, *state] if isinstance(state, tuple) else [out, state]
    weights = weights or [torch.ones_like(t) for t in tensors]
    torch.autograd.backward(tensors, weights)
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


def layer_bound(cell: str, dims: Size, batch_sizes: list[int]) -> Bound:
    """The GEMM bound of one layer of `cell` at `dims` over these steps, each step's forward
    product in the parts the cell's manual loop makes it in (ManualLoop.step_products)."""
    declared = TORCH_CELLS[cell]
    split = declared.manual_loop.step_products
    return Bound(plan(declared.num_gates, dims.H_in, dims.H, batch_sizes, split))


def bench_one(
    cell: str, size: str, dims: Size, repeats: int, seed: int = 0, packing: str | None = None
) -> BenchResult:
    """Time and measure the three implementations and the GEMM bound at one cell and size
    (named `size`). ``packing``: None for a plain batch; "sorted" or "unsorted": the batch is
    packed (enforce_sorted True or False), its lengths drawn uniformly from min_L…L (one of
    them L), as a batch of variable-length sequences reaches a layer; the size's row then
    reads "<size> packed <packing>"."""
    case = Case(
        cell, dims.H_in, dims.H, seq_len=dims.L, batch=dims.N, dtype="float32", with_hx=False
    )
    workspace.release()  # what another cell or size kept is not this one's memory
    manual, ref = build_pair(case, seed)
    autograd, _ = build_pair(replace(case, bptt="autograd"), seed)  # same seed: same weights
    modules = dict(zip(IMPLS, (manual, autograd, ref), strict=True))
    x, _ = make_inputs(case, seed)
    x.requires_grad_(True)
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(dims.min_L, dims.L + 1, (dims.N,), generator=generator)
    lengths[0] = dims.L
    if packing == "sorted":
        lengths = lengths.sort(descending=True).values

    def batch() -> Tensor | PackedSequence:  # packed anew each call: its graph is freed by backward
        if packing is None:
            return x
        sort = packing == "sorted"
        return pack_padded_sequence(x, lengths, case.batch_first, enforce_sorted=sort)

    first = batch()
    batch_sizes = first.batch_sizes.tolist() if packing else [dims.N] * dims.L
    bound = layer_bound(cell, dims, batch_sizes)
    ref_tensors = forward_backward(ref, first, None)  # torch.nn's warm-up; it shows the shapes
    g = torch.Generator().manual_seed(seed + 3)
    weights = [torch.randn(t.shape, generator=g) for t in ref_tensors]

    def step(name: str) -> object:
        if name == BOUND:
            return bound()
        modules[name].zero_grad(set_to_none=True)
        x.grad = None
        return forward_backward(modules[name], batch(), weights)

    outputs = {name: step(name)[0] for name in IMPLS[:2]} | {REFERENCE: ref_tensors[0]}
    step(BOUND)
    timed = (*IMPLS, BOUND)
    times: dict[str, list[float]] = {name: [] for name in timed}
    for r in range(repeats):
        k = r % len(timed)
        for name in timed[k:] + timed[:k]:
            start = time.perf_counter()
            step(name)
            times[name].append(1e3 * (time.perf_counter() - start))

    def per_rep(name: str, over: str) -> list[float]:
        return [t / r for t, r in zip(times[name], times[over], strict=True)]

    results = {}
    for name in IMPLS:
        modules[name].zero_grad(set_to_none=True)
        x.grad = None
        peak = peak_memory_mib(lambda name=name: forward_backward(modules[name], batch(), weights))
        if name == "scratch manual":  # its gradient buffers, kept from the last backward
            peak += workspace.held_bytes() / 2**20
        error = scaled_error(outputs[name], outputs[REFERENCE])
        results[name] = ImplResult(
            times[name], per_rep(name, REFERENCE), peak, error, per_rep(name, BOUND)
        )
    bound_result = BoundResult(times[BOUND], per_rep(BOUND, REFERENCE), bound.products)
    label = size if packing is None else f"{size} packed {packing}"
    return BenchResult(cell, label, dims, results, torch.get_num_threads(), bound_result)


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
    batches of variable lengths, sorted and unsorted (see ``bench_one``)."""
    packings = PACKINGS if packed else (None,)
    jobs = [(cell, size, p) for size in sizes for p in packings for cell in cells]
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        bar = tqdm(jobs, desc="benchmark", unit="run", disable=not progress)
        results = []
        for cell, size, packing in bar:
            bar.set_postfix_str(f"{cell} {size} {packing or ''}")
            results.append(bench_one(cell, size, sizes[size], repeats, seed, packing))
        return results
    finally:
        torch.set_num_threads(before)
