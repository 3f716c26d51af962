"""`python -m compare.bench_variants`: what the hand-written backward of each variant cell buys
over autograd through the same forward (docs/variants.md#speed).

There is no torch.nn layer to time against, so the yardstick is the variant itself under
bptt="autograd": autograd differentiating the readable forward loop. Each variant runs under
"manual" (its fast loop where it has one), "readable" and "autograd", built from one seed,
on one batch, forward + backward as compare.bench times it (bench.forward_backward), in a
rotating order; each ratio is taken within one repetition and the table gives the medians.
The masked variants run in training mode, drawing their masks in every forward.
"""

import argparse
import statistics
import sys
import time

import torch

import scratch
from compare.bench import SIZES, Size, forward_backward

VARIANTS = {  # the layer and its options for the benchmark
    "lnlstm": ("LayerNormLSTM", {}),
    "peephole": ("PeepholeLSTM", {}),
    "chogru": ("ChoGRU", {}),
    "variational": ("VariationalLSTM", {"dropout_input": 0.25, "dropout_hidden": 0.25}),
    "zoneout": ("ZoneoutLSTM", {"zoneout_h": 0.1, "zoneout_c": 0.1}),
}
MODES = ("manual", "readable", "autograd")
TARGET = 0.7  # manual / autograd, fwd+bwd, at the medium size (issue 14)


def bench_variant(name: str, dims: Size, repeats: int, seed: int = 0) -> dict[str, list[float]]:
    """Milliseconds per fwd+bwd under each bptt mode, one list per mode, in repetition order."""
    cls, options = VARIANTS[name]
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

    for bptt in MODES:  # warm-up
        step(bptt)
    times: dict[str, list[float]] = {bptt: [] for bptt in MODES}
    for r in range(repeats):
        for bptt in MODES[r % 3 :] + MODES[: r % 3]:
            start = time.perf_counter()
            step(bptt)
            times[bptt].append(1e3 * (time.perf_counter() - start))
    return times


def table(results: dict[str, dict[str, list[float]]]) -> str:
    """The markdown table: median ms per mode and the median per-repetition ratios."""
    lines = [
        "| cell | manual ms | readable ms | autograd ms | manual / autograd | readable / autograd | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, times in results.items():
        med = {bptt: statistics.median(times[bptt]) for bptt in MODES}
        ratio = {
            bptt: statistics.median(
                t / a for t, a in zip(times[bptt], times["autograd"], strict=True)
            )
            for bptt in ("manual", "readable")
        }
        met = "met" if ratio["manual"] <= TARGET else "**missed**"
        lines.append(
            f"| {name} | {med['manual']:.1f} | {med['readable']:.1f} | {med['autograd']:.1f} | "
            f"{ratio['manual']:.2f} | {ratio['readable']:.2f} | ≤ {TARGET} {met} |"
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
