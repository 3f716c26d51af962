"""Where a fwd+bwd's time goes, per time step: matrix products, elementwise kernels, copies, and
the Python and dispatch around them.

    python -m compare.split --cells lstm,gru,rnn_tanh --sizes tiny,medium
    python -m compare.split --cells lstm,gru --sizes text64,text256 --packed --top 6

A layer's fwd+bwd (scratch manual, or torch.nn) runs under torch.profiler; each aten op's own
time (its self CPU time, children excluded) is put in one of three kinds by name, and the wall
time of the call, minus those, is the rest: the Python of the loop, the dispatch of every call,
autograd's bookkeeping. Of `repeats` profiled calls the shortest is split, the one other
processes disturbed least (on a shared machine a median still carries their load). The
profiler's own overhead, about a microsecond per op, is in the wall time and the op times, so
both read high at small sizes.

Beside each plain batch's rows, the GEMM bound of the size (compare/bound.py; the shortest of
`repeats` calls, as for the split) and what the equations' elementwise kernels add to it: the
bound plus scratch's elementwise own time, over the bound. That is the least scratch's time
over the bound can be while each elementwise step of the equations is its own torch call,
even with no Python, no dispatch and no copies; where it is above a target of
compare/bench.py, only fusing kernels would meet that target.
"""

import argparse
import time
from collections import Counter
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.profiler import profile

from compare.bench import BOUND_TARGETS, PACKED_SIZES, SIZES, Size, forward_backward, layer_bound
from compare.harness import Case, build_pair, make_inputs

# torch.nn.LSTM's oneDNN kernels do the products and the gates in one call each way: products.
FUSED = {"aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer_backward"}
PRODUCTS = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm"} | FUSED
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
    "aten::numpy_T", "aten::_reshape_alias", "aten::result_type", "aten::resolve_conj",
    "aten::resolve_neg",
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
    top: list[tuple[str, float, int]]  # (op, its own ms, calls), the most expensive first


def split(run, steps: int, label: str, repeats: int = 5) -> Split:
    """Profile `repeats` calls of `run`; split the least disturbed one (the shortest)."""
    run()
    best = None
    for _ in range(repeats):
        with profile() as prof:
            start = time.perf_counter()
            run()
            wall = 1e6 * (time.perf_counter() - start)
        if best is None or wall < best[0]:
            best = wall, prof.events()
    wall, events = best
    own: Counter = Counter()
    calls: Counter = Counter()
    by_op: Counter = Counter()
    op_calls: Counter = Counter()
    for event in events:
        by_op[event.name] += event.self_cpu_time_total
        op_calls[event.name] += 1
        kind = kind_of(event.name)
        if kind is not None:
            own[kind] += event.self_cpu_time_total
            calls[kind] += 1
    own["Python/dispatch"] = max(0.0, wall - sum(own[k] for k in KINDS[:3]))
    return Split(
        label,
        {k: own[k] / steps for k in KINDS},
        {k: calls[k] / steps for k in KINDS[:3]},
        wall / 1e3,
        [(op, us / 1e3, op_calls[op]) for op, us in by_op.most_common()],
    )


def layer_runs(cell: str, dims: Size, packed: bool = False) -> dict[str, object]:
    """scratch manual's and torch.nn's fwd+bwd at one size, as zero-argument callables."""
    case = Case(
        cell, dims.H_in, dims.H, seq_len=dims.L, batch=dims.N, dtype="float32", with_hx=False
    )
    ours, ref = build_pair(case, 0)
    x, _ = make_inputs(case, 0)
    x.requires_grad_(True)
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(dims.min_L, dims.L + 1, (dims.N,), generator=generator)
    lengths[0] = dims.L

    def batch():
        return pack_padded_sequence(x, lengths, enforce_sorted=False) if packed else x

    return {
        "scratch manual": lambda: forward_backward(ours, batch(), None),
        "torch.nn": lambda: forward_backward(ref, batch(), None),
    }


def bound_ms(cell: str, dims: Size, repeats: int = 5) -> float:
    """The GEMM bound of a plain batch at one size: the shortest of `repeats` calls, in ms."""
    bound = layer_bound(cell, dims, [dims.N] * dims.L)
    bound()
    shortest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        bound()
        shortest = min(shortest, 1e3 * (time.perf_counter() - start))
    return shortest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m compare.split", description=__doc__)
    parser.add_argument("--cells", default="lstm,gru,rnn_tanh")
    parser.add_argument("--sizes", default="tiny,medium", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--packed", action="store_true", help="packed, unsorted batches")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest ops")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    header = "cell size impl | wall ms | µs/step: " + " / ".join(KINDS) + " | calls/step"
    print(header)
    named = SIZES | PACKED_SIZES
    for size in args.sizes.split(","):
        for cell in args.cells.split(","):
            for name, run in layer_runs(cell, named[size], args.packed).items():
                s = split(run, named[size].L, name)
                us = " / ".join(f"{s.us_per_step[k]:.0f}" for k in KINDS)
                n = " / ".join(f"{s.calls_per_step[k]:.1f}" for k in KINDS[:3])
                print(f"{cell} {size} {name} | {s.wall_ms:.1f} | {us} | {n}")
                for op, ms, calls in s.top[: args.top]:
                    print(f"    {op}: {ms:.1f} ms own time, {calls} calls")
                if name == "scratch manual" and not args.packed:
                    print(floor_line(cell, size, named[size], s))


def floor_line(cell: str, size: str, dims: Size, s: Split) -> str:
    """The bound, and the bound plus scratch's elementwise kernels, against the bound target."""
    bound = bound_ms(cell, dims)
    elementwise = s.us_per_step["elementwise"] * dims.L / 1e3
    target = BOUND_TARGETS.get(cell, {}).get(size)
    against = "" if target is None else f" (target ≤ {target})"
    return (
        f"{cell} {size} GEMM bound | {bound:.1f} | + scratch's elementwise kernels: "
        f"{bound + elementwise:.1f} ms = {(bound + elementwise) / bound:.2f} × bound{against}"
    )


if __name__ == "__main__":
    main()
