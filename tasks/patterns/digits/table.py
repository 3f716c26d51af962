"""The docs' MNIST-1D table: several cells, several seeds each, as mean ± spread.

    python -m tasks.patterns.digits.table                         # the table in docs/patterns.md
    python -m tasks.patterns.digits.table --cells gru lstm --seeds 0 1 2 --out runs/digits-table

Each (cell, implementation, seed) is one ordinary ``python -m tasks.patterns digits train``
run of the default preset, in a folder of its own under ``--out`` (``<cell>-<impl>-s<seed>``);
a folder that already holds a finished run is read, not trained again, so the table can be
built in pieces (two commands at once on two cores, each with some of the cells) and
assembled by one last command. Where a cell ran on both implementations from the same seed,
the table says how far apart their training losses ever were.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

from tasks import loop
from tasks.errors import BadInput
from tasks.impl import IMPLS, check_cell
from tasks.patterns.cli import main as patterns_main
from tasks.patterns.digits.yardsticks import PUBLISHED

CELLS_SHOWN = ("gru", "lstm", "rnn", "lnlstm", "mingru")  # the docs' rows


def folder(out: Path, cell: str, impl: str, seed: int) -> Path:
    return out / f"{cell}-{impl}-s{seed}"


def train_once(out: Path, cell: str, impl: str, seed: int, flags: list[str]) -> dict:
    """Train one run (unless its folder holds a finished one); its results and timing."""
    where = folder(out, cell, impl, seed)
    if not (where / "summary.json").exists():
        argv = ["digits", "train", "--cell", cell, "--impl", impl, "--seed", str(seed)]
        status = patterns_main([*argv, "--no-progress", "--out", str(where), *flags])
        if status:
            raise SystemExit(status)
    summary = json.loads((where / "summary.json").read_text())
    lines = [json.loads(line) for line in (where / loop.METRICS).read_text().splitlines()]
    losses = [r["loss"] for r in lines if r["split"] == "train"]
    evals = [r for r in lines if r["split"] == "held_out"]
    reached = next((r["step"] for r in evals if r["accuracy"] >= PUBLISHED["GRU"]), None)
    return {
        "reached": reached,  # the first evaluation at or above the published GRU's accuracy
        "steps": summary["steps"],
        "seed": seed,
        "accuracy": summary["held_out"]["accuracy"],
        "seconds": summary["train_seconds"],
        "losses": losses,
    }


def spread(values: list[float]) -> str:
    """mean ± sample standard deviation (min–max), as percentages."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    mean = statistics.mean(values)
    return f"{100 * mean:.1f} ± {100 * sd:.1f} % ({100 * min(values):.1f}–{100 * max(values):.1f})"


def table(found: dict) -> str:
    """The markdown table: published rows first, then ours."""
    lines = [
        "| model | test accuracy | from | training time (median) | first at ≥ 91 % (median) |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {100 * share:.0f} % | Greydanus 2020 | | |"
        for name, share in PUBLISHED.items()
    ]
    for (cell, impl), runs in found.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        lines.append(
            f"| {cell.upper()} ({impl}) | {spread([r['accuracy'] for r in runs])} "
            f"| ours, seed {', '.join(str(r['seed']) for r in runs)} | {seconds:.0f} s "
            f"| {reached(runs)} |"
        )
    return "\n".join(lines) + "\n"


def reached(runs: list[dict]) -> str:
    """When the runs first scored at least the published GRU: the median step, and the
    training seconds up to it (steps take equal time); how many runs never did."""
    steps = [r["reached"] for r in runs if r["reached"] is not None]
    if not steps:
        return "never"
    at = statistics.median(steps)
    seconds = statistics.median(
        r["seconds"] * r["reached"] / r["steps"] for r in runs if r["reached"]
    )
    never = len(runs) - len(steps)
    return f"step {at:.0f}, {seconds:.0f} s" + (f" ({never} of {len(runs)} never)" if never else "")


def agreement(found: dict) -> list[str]:
    """For each cell run on both implementations: max |Δ loss| over the steps, same seed."""
    said = []
    for cell in {cell for cell, _ in found}:
        if all((cell, impl) in found for impl in IMPLS):
            a, b = (found[cell, impl][0]["losses"] for impl in IMPLS)
            steps = min(len(a), len(b))
            first = next((k for k in range(steps) if abs(a[k] - b[k]) > 1e-4), None)
            gap = max(abs(x - y) for x, y in zip(a[:steps], b[:steps], strict=True))
            where = (
                f"first above 1e-4 at step {first + 1}" if first is not None else "never above 1e-4"
            )
            said.append(
                f"{cell.upper()}, first seed: scratch and reference training losses over {steps} "
                f"steps differ by at most {gap:.2g} ({where})"
            )
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tasks.patterns.digits.table", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--cells", nargs="+", default=list(CELLS_SHOWN), help="cells by --cell name"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--reference",
        nargs="*",
        default=["gru", "lstm", "rnn"],
        help="cells also run on reference (torch.nn), first seed only",
    )
    parser.add_argument("--out", type=Path, default=Path("runs", "digits-table"))
    args, flags = parser.parse_known_args(argv)
    try:
        for cell in args.cells:
            check_cell("scratch", cell)
    except BadInput as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    found: dict = {}
    for cell in args.cells:
        found[cell, "scratch"] = [
            train_once(args.out, cell, "scratch", s, flags) for s in args.seeds
        ]
        if cell in args.reference:
            found[cell, "reference"] = [
                train_once(args.out, cell, "reference", args.seeds[0], flags)
            ]
    text = table(found) + "\n" + "\n".join(f"- {line}" for line in agreement(found)) + "\n"
    (args.out / "table.md").write_text(text)
    print(text)
    print(f"table: {args.out / 'table.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
