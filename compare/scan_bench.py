"""Speed of the minimal RNNs on a CPU: the parallel scan against the same layer's sequential
loop, and minGRU against torch.nn.GRU of the same hidden size; forward + backward, float32.

    python -m compare.scan_bench                  # T = 256, 1024, 4096: the tables of docs/minimal.md
    python -m compare.scan_bench --lengths 256,512,1024,2048,4096 --figure docs/figures/minimal_time.png

Method (compare/bench.py's): each contender is built once (a cell's scan and loop share their
weights) and warmed up once; each repetition then runs all of them back to back in a rotating
order, so a slow moment of a shared machine hits all alike, and every ratio is taken within one
repetition; the report gives medians. The input projection alone, torch.nn.Linear(I, 2H)
forward and backward, runs beside them: it is the part of a minGRU layer that the scan and the
loop share, the floor under both.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

import scratch

CONTENDERS = (
    "minGRU scan",
    "minGRU loop",
    "minLSTM scan",
    "minLSTM loop",
    "RG-LRU scan",
    "RG-LRU loop",
    "torch.nn.GRU",
    "projection",
)
RATIOS = {  # name -> (numerator, denominator), each a median of per-repetition ratios
    "minGRU loop / scan": ("minGRU loop", "minGRU scan"),
    "minLSTM loop / scan": ("minLSTM loop", "minLSTM scan"),
    "RG-LRU scan / loop": ("RG-LRU scan", "RG-LRU loop"),
    "minGRU scan / torch.nn.GRU": ("minGRU scan", "torch.nn.GRU"),
    "projection / minGRU scan": ("projection", "minGRU scan"),
}
TARGETS = {
    "minGRU loop / scan": (">=", 20.0),
    "minGRU scan / torch.nn.GRU": ("<=", 0.2),
    "RG-LRU scan / loop": ("<=", 0.5),  # issue 29
}
TARGET_T = 1024  # the sequence length the targets are stated at


def contenders(I: int, H: int, seed: int = 0) -> dict[str, nn.Module]:
    """The layers to time, each with its own fixed initial weights (the same seed for all)."""
    torch.manual_seed(seed)
    built = {}
    for name, cls in (
        ("minGRU", scratch.MinGRU),
        ("minLSTM", scratch.MinLSTM),
        ("RG-LRU", scratch.RGLRU),
    ):
        built[f"{name} scan"] = cls(I, H, bptt="manual")
        built[f"{name} loop"] = cls(I, H, bptt="readable")
        built[f"{name} loop"].load_state_dict(built[f"{name} scan"].state_dict())
    built["torch.nn.GRU"] = nn.GRU(I, H)
    built["projection"] = nn.Linear(I, 2 * H)
    return built


def training_step(module: nn.Module, x: Tensor, weights: dict[str, Tensor]) -> None:
    """Forward, a fixed random weighting of the output (and h_n) as the loss, backward."""
    x = x.detach().requires_grad_()
    out = module(x)
    if isinstance(out, tuple):  # a recurrent layer: (output, h_n)
        out, h_n = out
        loss = (out * weights["y"]).sum() + (h_n * weights["h"]).sum()
    else:
        loss = (out * weights["projection"]).sum()
    loss.backward()


def time_once(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1e3


def measure(T: int, B: int, I: int, H: int, repeats: int) -> dict:
    """Times (ms) of every contender at one T, rotating order, and the per-repetition ratios."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(T, B, I, generator=g)
    weights = {
        "y": torch.randn(T, B, H, generator=g),
        "h": torch.randn(1, B, H, generator=g),
        "projection": torch.randn(T, B, 2 * H, generator=g),
    }
    modules = contenders(I, H)
    steps = {name: (lambda m=m: training_step(m, x, weights)) for name, m in modules.items()}
    for step in steps.values():  # warm-up: first-call allocations and dispatch caches
        step()
    times = {name: [] for name in steps}
    names = list(steps)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(time_once(steps[name]))
    ratios = {
        label: [n / d for n, d in zip(times[num], times[den], strict=True)]
        for label, (num, den) in RATIOS.items()
    }
    return {"T": T, "times_ms": times, "ratios": ratios}


def median_iqr(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q2, q1, q3


def report(results: list[dict], setting: dict) -> str:
    """Markdown: the setting, one row per T with each contender's median time, then the ratios."""
    lines = [
        f"float32, fwd+bwd, (B, I, H) = ({setting['B']}, {setting['I']}, {setting['H']}), "
        f"{setting['threads']} threads, {setting['repeats']} repetitions, torch "
        f"{setting['torch']}; load average {setting['load_before']} before, "
        f"{setting['load_after']} after",
        "",
        "| T | " + " | ".join(f"{name} ms" for name in CONTENDERS) + " |",
        "| --- |" + " --- |" * len(CONTENDERS),
    ]
    for r in results:
        cells = []
        for name in CONTENDERS:
            med, q1, q3 = median_iqr(r["times_ms"][name])
            cells.append(f"{med:.1f} ({q1:.1f}–{q3:.1f})")
        lines.append(f"| {r['T']} | " + " | ".join(cells) + " |")
    lines += ["", "| T | " + " | ".join(RATIOS) + " |", "| --- |" + " --- |" * len(RATIOS)]
    for r in results:
        cells = []
        for label in RATIOS:
            value = statistics.median(r["ratios"][label])
            target = TARGETS.get(label) if r["T"] == TARGET_T else None
            note = f" (target {target[0]} {target[1]:g})" if target else ""
            cells.append(f"{value:.3g}{note}")
        lines.append(f"| {r['T']} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Times: median (interquartile range) over the repetitions.")
    return "\n".join(lines)


def figure(results: list[dict], setting: dict, path: Path, command: str) -> None:
    """Median time against T, log–log, one line per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ts = [r["T"] for r in results]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in CONTENDERS:
        medians = [statistics.median(r["times_ms"][name]) for r in results]
        style = "--" if name == "projection" else "-"
        ax.plot(Ts, medians, style, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("forward + backward, ms (median)")
    ax.set_title(
        f"(B, I, H) = ({setting['B']}, {setting['I']}, {setting['H']}), float32, "
        f"{setting['threads']} CPU thread{'s' if setting['threads'] > 1 else ''}",
        fontsize=9,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, command, fontsize=7, family="monospace")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def lengths(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected lengths like 256,1024, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"lengths must be at least 1, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m compare.scan_bench", description=__doc__)
    parser.add_argument("--lengths", type=lengths, default=[256, 1024, 4096], help="values of T")
    parser.add_argument("--batch", type=int, default=16, help="B")
    parser.add_argument("--input-size", type=int, default=128, help="I")
    parser.add_argument("--hidden-size", type=int, default=256, help="H")
    parser.add_argument("--repeats", type=int, default=7, help="repetitions per T")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, default=Path("runs/scan_bench/results.json"))
    parser.add_argument("--figure", type=Path, help="write the time-against-T figure here")
    args = parser.parse_args(argv)
    if min(args.batch, args.input_size, args.hidden_size, args.repeats, args.threads) < 1:
        parser.error("--batch, --input-size, --hidden-size, --repeats and --threads must be ≥ 1")

    torch.set_num_threads(args.threads)
    setting = {
        "B": args.batch,
        "I": args.input_size,
        "H": args.hidden_size,
        "threads": args.threads,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "load_before": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    results = []
    for T in args.lengths:
        results.append(measure(T, args.batch, args.input_size, args.hidden_size, args.repeats))
        print(f"T = {T} done", flush=True)
    setting["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(report(results, setting))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"setting": setting, "results": results}, indent=1))
    if args.figure:
        command = "python -m compare.scan_bench " + " ".join(sys.argv[1:] if argv is None else argv)
        figure(results, setting, args.figure, command)


if __name__ == "__main__":
    main()
