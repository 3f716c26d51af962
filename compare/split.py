"""Where a fwd+bwd's time goes, per time step: matrix products, elementwise kernels, copies, and
the Python and dispatch around them.

    python -m compare.split --cells lstm,gru,rnn_tanh --sizes tiny,medium

One fwd+bwd of a layer (scratch manual, or torch.nn) runs under torch.profiler; each aten op's
own time (its self CPU time, children excluded) is put in one of three kinds by name, and the
wall time of the same call without the profiler, minus those, is the rest: the Python of the
loop, the dispatch of every call, autograd's bookkeeping. The profiler's own per-op overhead
lands in the op times, so they read high by about a microsecond per call at small sizes.
"""

import argparse
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.profiler import profile

from compare.bench import SIZES, Size, forward_backward
from compare.harness import Case, build_pair, make_inputs

PRODUCTS = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::mkldnn_rnn_layer"}
COPIES = {
    "aten::copy_", "aten::cat", "aten::clone", "aten::stack", "aten::index_select",
    "aten::index", "aten::fill_", "aten::zero_", "aten::_pack_padded_sequence",
    "aten::repeat", "aten::contiguous",
}  # fmt: skip
# Ops that only make views or call other ops: their own time is dispatch, counted as the rest.
VIEWS = {
    "aten::empty", "aten::empty_like", "aten::empty_strided", "aten::view", "aten::t",
    "aten::transpose", "aten::as_strided", "aten::split", "aten::split_with_sizes",
    "aten::narrow", "aten::slice", "aten::select", "aten::chunk", "aten::unsqueeze",
    "aten::squeeze", "aten::reshape", "aten::expand", "aten::permute", "aten::detach",
    "aten::alias", "aten::unbind", "aten::matmul", "aten::lift_fresh", "aten::resize_",
    "aten::numpy_T", "aten::_reshape_alias", "aten::result_type",
}  # fmt: skip
KINDS = ("products", "elementwise", "copies", "Python/dispatch")


def kind_of(op: str) -> str | None:
    """Which kind an aten op's own time counts as; None for view-making and wrapper ops."""
    if op in PRODUCTS:
        return "products"
    if op in COPIES:
        return "copies"
    if op in VIEWS or not op.startswith("aten::"):
        return None
    return "elementwise"


@dataclass
class Split:
    """One implementation's fwd+bwd, per time step: µs of each kind, and calls of each kind."""

    label: str
    us_per_step: dict[str, float]
    calls_per_step: dict[str, float]
    wall_ms: float


def split(run, steps: int, label: str, repeats: int = 5) -> Split:
    """Profile one call of `run`, time `repeats` more without the profiler (median)."""
    run()
    with profile() as prof:
        run()
    own: Counter = Counter()
    calls: Counter = Counter()
    for event in prof.events():
        kind = kind_of(event.name)
        if kind is not None:
            own[kind] += event.self_cpu_time_total
            calls[kind] += 1
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        walls.append(1e6 * (time.perf_counter() - start))
    wall = statistics.median(walls)
    own["Python/dispatch"] = max(0.0, wall - sum(own.values()))
    return Split(
        label,
        {k: own[k] / steps for k in KINDS},
        {k: calls[k] / steps for k in KINDS[:3]},
        wall / 1e3,
    )


def layer_runs(cell: str, dims: Size, packed: bool = False) -> dict[str, object]:
    """scratch manual's and torch.nn's fwd+bwd at one size, as zero-argument callables."""
    case = Case(cell, dims.H_in, dims.H, seq_len=dims.L, batch=dims.N, dtype="float32")
    case = Case(**{**case.__dict__, "with_hx": False})
    ours, ref = build_pair(case, 0)
    x, _ = make_inputs(case, 0)
    x.requires_grad_(True)
    lengths = torch.randint(dims.min_L, dims.L + 1, (dims.N,), generator=torch.Generator())
    lengths[0] = dims.L

    def batch():
        return pack_padded_sequence(x, lengths, enforce_sorted=False) if packed else x

    return {
        "scratch manual": lambda: forward_backward(ours, batch(), None),
        "torch.nn": lambda: forward_backward(ref, batch(), None),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m compare.split", description=__doc__)
    parser.add_argument("--cells", default="lstm,gru,rnn_tanh")
    parser.add_argument("--sizes", default="tiny,medium", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    header = "cell size impl | wall ms | µs/step: " + " / ".join(KINDS) + " | calls/step"
    print(header)
    for size in args.sizes.split(","):
        for cell in args.cells.split(","):
            for name, run in layer_runs(cell, SIZES[size]).items():
                s = split(run, SIZES[size].L, name)
                us = " / ".join(f"{s.us_per_step[k]:.0f}" for k in KINDS)
                n = " / ".join(f"{s.calls_per_step[k]:.1f}" for k in KINDS[:3])
                print(f"{cell} {size} {name} | {s.wall_ms:.1f} | {us} | {n}")


if __name__ == "__main__":
    main()
