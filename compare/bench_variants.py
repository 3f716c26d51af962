"""`python -m compare.bench_variants`: what the hand-written backward of each variant cell buys
over autograd through the same forward (docs/variants.md#speed).

There is no torch.nn layer to time against, so the yardstick is the variant itself under
bptt="autograd": autograd differentiating the readable forward loop. Each variant runs under
"manual" (its manual loop where it has one), "readable" and "autograd", built from one seed,
on one batch, forward + backward as compare.bench times it (bench.forward_backward), in a
rotating order; each ratio is taken within one repetition and the table gives the medians.
The masked variants run in training mode, drawing their masks in every forward.

Beside them, in the same rotation, the layer's matrix products alone (``matrix_products``):
what any loop over this forward and its backward must spend, whoever derives the backward.
Its ratio to autograd is the best manual / autograd any hand-written BPTT could reach here.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import torch

import scratch
from compare.bench import SIZES, Size, forward_backward
from scratch.registry import CELLS

VARIANTS = {  # the cells timed, by key, with the rates the benchmark gives their layers
    "lnlstm": {},
    "peephole": {},
    "chogru": {},
    "variational": {"dropout_input": 0.25, "dropout_hidden": 0.25},
    "zoneout": {"zoneout_h": 0.1, "zoneout_c": 0.1},
}
MODES = ("manual", "readable", "autograd")
FLOOR = "products"  # the matrix products alone
TARGET = 0.7  # manual / autograd, fwd+bwd, at the medium size (issue 14)


def matrix_products(dims: Size, gates: int) -> Callable[[], None]:
    """The products of one layer's fwd+bwd, float32: x̂ = X W_ihᵀ; per step h_{t−1} W_hhᵀ and
    d_a_t W_hh; then d_W_ih, d_W_hh and d_x, each one product over all steps."""
    L, N, G = dims.L, dims.N, gates * dims.H
    X, W_ih = torch.randn(L * N, dims.H_in), torch.randn(G, dims.H_in)
    W_hh, h, d_A = torch.randn(G, dims.H), torch.randn(N, dims.H), torch.randn(L * N, G)
    H_prev = torch.randn(L * N, dims.H)

    def run() -> None:
        X_proj = X @ W_ih.t()
        for t in range(L):
            torch.addmm(X_proj[t * N : (t + 1) * N], h, W_hh.t())
        for t in range(L):
            d_A[t * N : (t + 1) * N] @ W_hh
        d_A.t() @ X, d_A.t() @ H_prev, d_A @ W_ih

    return run


def bench_variant(name: str, dims: Size, repeats: int, seed: int = 0) -> dict[str, list[float]]:
    """Milliseconds per fwd+bwd under each bptt mode and of the products alone, one list each,
    in repetition order."""
    cls, options = CELLS[name].layer, VARIANTS[name]
    modules = {}
    for bptt in MODES:
        torch.manual_seed(seed)
        modules[bptt] = getattr(scratch, cls)(dims.H_in, dims.H, bptt=bptt, **options)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(dims.L, dims.N, dims.H_in, generator=g).requires_grad_()
    out = forward_backward(modules["autograd"], x, None)
    weights = [torch.randn(t.shape, generator=g) for t in out]

    def step(bptt: str) -> None:
        modules[bptt].zero_grad(set_to_none=True)
        x.grad = None
        forward_backward(modules[bptt], x, weights)

    runs = {bptt: partial(step, bptt) for bptt in MODES}
    runs[FLOOR] = matrix_products(dims, CELLS[name].num_gates)
    order = tuple(runs)
    for run in runs.values():  # warm-up
        run()
    times: dict[str, list[float]] = {key: [] for key in order}
    for r in range(repeats):
        for key in order[r % len(order) :] + order[: r % len(order)]:
            start = time.perf_counter()
            runs[key]()
            times[key].append(1e3 * (time.perf_counter() - start))
    return times


def table(results: dict[str, dict[str, list[float]]]) -> str:
    """The markdown table: median ms of each and the median per-repetition ratios to autograd."""
    lines = [
        "| cell | manual ms | readable ms | autograd ms | products alone ms "
        "| manual / autograd | readable / autograd | products / autograd | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, times in results.items():
        med = {key: statistics.median(t) for key, t in times.items()}
        ratio = {
            key: statistics.median(
                t / a for t, a in zip(times[key], times["autograd"], strict=True)
            )
            for key in ("manual", "readable", FLOOR)
        }
        met = "met" if ratio["manual"] <= TARGET else "**missed**"
        lines.append(
            f"| {name} | {med['manual']:.1f} | {med['readable']:.1f} | {med['autograd']:.1f} | "
            f"{med[FLOOR]:.1f} | {ratio['manual']:.2f} | {ratio['readable']:.2f} | "
            f"{ratio[FLOOR]:.2f} | ≤ {TARGET} {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compare.bench_variants",
        description="fwd+bwd time of each variant cell: manual BPTT vs autograd, float32",
    )
    parser.add_argument(
        "--cells", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS)
    )
    parser.add_argument(
        "--size", default="medium", choices=list(SIZES), help="(L, N, H_in, H), as compare bench"
    )
    parser.add_argument("--repeats", type=int, default=11, help="timed repetitions per cell")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in VARIANTS]
    if unknown or not cells or args.repeats < 1 or args.threads < 1:
        what = (
            f"unknown cell {unknown[0]!r}"
            if unknown
            else "need cells, --repeats ≥ 1, --threads ≥ 1"
        )
        print(f"{parser.prog}: error: {what} (cells: {', '.join(VARIANTS)})", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    dims = SIZES[args.size]
    results = {name: bench_variant(name, dims, args.repeats) for name in cells}
    print(f"size {args.size} {dims}, float32, {args.threads} threads, {args.repeats} repeats")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
