"""`python -m compare [equiv|bench|tasks] [options]`: the project's main job.

Reads the command line, runs the chosen sections (all three when none is named), prints the
tables and writes the run folder. Exit status: 0 when every equivalence case passes, 1 when
one fails, 2 for a bad command line (one line on stderr, no traceback).
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import torch

from compare import bench, equiv, report, tasks_check
from compare.harness import DTYPES

SECTIONS = ("equiv", "bench", "tasks")
DEFAULT_SIZES = {False: "tiny,medium", True: "tiny"}  # by --quick
DEFAULT_REPEATS = {False: 7, True: 3}
DEFAULT_STEPS = {False: 50, True: 5}

DESCRIPTION = """\
Prove scratch equal to torch.nn, measure what it costs, and train the tasks on both.

sections (all three when none is named):
  equiv   the equivalence matrix: every cell × a fixed set of configurations × float64 and
          float32 × bptt manual and autograd, through compare.harness.compare_case; the largest
          scaled error of every output, final state and gradient, pass/fail against
          CONTRACT.md's tolerances; --random N adds N random configurations
  bench   forward+backward time (median, IQR, ratio to torch.nn) and peak memory of scratch
          (manual BPTT), scratch (autograd) and torch.nn for the LSTM, GRU and tanh RNN
  tasks   each task's small model trained on scratch and on reference from one seed: the
          largest step-by-step loss difference

Writes report.md, results.json and PNG figures into the run folder; exit status 1 if any
equivalence case fails, 2 for a bad command line. How to read the report: docs/compare.md."""

EPILOG = """\
examples:
  python -m compare                       everything, the default sizes
  python -m compare --quick               a complete run in well under 30 s
  python -m compare equiv --random 300 --dtypes float64
  python -m compare bench --sizes tiny,medium,large --repeats 9 --cells lstm"""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def comma_list(choices: tuple[str, ...], what: str) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names, each one of `choices`."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        for name in names:
            if name not in choices:
                raise argparse.ArgumentTypeError(
                    f"unknown {what} {name!r} (choose from {', '.join(choices)})"
                )
        if not names:
            raise argparse.ArgumentTypeError(f"no {what} given")
        return names

    return parse


def sizes_list(text: str) -> dict[str, bench.Size]:
    """An argparse type: benchmark sizes by name (tiny, medium, large) or as LxNxH_inxH."""
    sizes = {}
    for name in (n.strip() for n in text.split(",") if n.strip()):
        if name in bench.SIZES:
            sizes[name] = bench.SIZES[name]
            continue
        try:
            dims = [int(part) for part in name.split("x")]
        except ValueError:
            dims = []
        if len(dims) != 4:
            raise argparse.ArgumentTypeError(
                f"unknown size {name!r} (choose from {', '.join(bench.SIZES)}, or LxNxH_inxH)"
            )
        if min(dims) <= 0:
            raise argparse.ArgumentTypeError(f"size {name!r}: every dimension must be positive")
        sizes[name] = bench.Size(*dims)
    if not sizes:
        raise argparse.ArgumentTypeError("no size given")
    return sizes


def count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ≥ minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}, got {value}")
        return value

    return parse


def add_options(parser: argparse.ArgumentParser, sections: tuple[str, ...], top: bool) -> None:
    """The options of `sections`. Below a subcommand an option left out keeps the value given
    before the subcommand (SUPPRESS), so `--quick bench` and `bench --quick` mean the same."""

    def default(value):
        return value if top else argparse.SUPPRESS

    run = parser.add_argument_group("run")
    run.add_argument(
        "--out",
        type=Path,
        default=default(None),
        help="run folder for report.md, results.json and figures "
        "(default: runs/compare/<timestamp>/)",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        default=default(False),
        help=f"a complete run in seconds: fewer configurations, bench size "
        f"{DEFAULT_SIZES[True]} × {DEFAULT_REPEATS[True]} repeats, tasks "
        f"{DEFAULT_STEPS[True]} steps",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=default(0),
        help="seed of weights, batches and --random draws (default: 0)",
    )
    run.add_argument(
        "--no-progress", action="store_true", default=default(False), help="no progress bars"
    )
    if "equiv" in sections or "bench" in sections:
        run.add_argument(
            "--cells",
            type=comma_list(equiv.MATRIX_CELLS, "cell"),
            default=default(None),
            help=f"cells to check, comma-separated: {', '.join(equiv.MATRIX_CELLS)} "
            f"(default: all; the benchmark runs those of {', '.join(bench.BENCH_CELLS)})",
        )
    if "equiv" in sections:
        group = parser.add_argument_group("equiv")
        group.add_argument(
            "--dtypes",
            type=comma_list(tuple(DTYPES), "dtype"),
            default=default(list(DTYPES)),
            help="dtypes, comma-separated (default: float64,float32)",
        )
        group.add_argument(
            "--random",
            type=count(0),
            default=default(0),
            metavar="N",
            help="also check N random configurations of every option, drawn with "
            "random.Random(--seed) over --cells and --dtypes",
        )
    if "bench" in sections:
        group = parser.add_argument_group("bench")
        group.add_argument(
            "--sizes",
            type=sizes_list,
            default=default(None),
            help="sizes, comma-separated: "
            + ", ".join(f"{n} ({s.L}x{s.N}x{s.H_in}x{s.H})" for n, s in bench.SIZES.items())
            + f", or LxNxH_inxH (default: {DEFAULT_SIZES[False]})",
        )
        group.add_argument(
            "--repeats",
            type=count(1),
            default=default(None),
            metavar="N",
            help=f"timed repetitions after the warm-up (default: {DEFAULT_REPEATS[False]})",
        )
        group.add_argument(
            "--threads",
            type=count(1),
            default=default(2),
            metavar="N",
            help="torch intra-op threads (default: 2)",
        )
    if "tasks" in sections:
        group = parser.add_argument_group("tasks")
        group.add_argument(
            "--steps",
            type=count(1),
            default=default(None),
            metavar="N",
            help=f"training steps per task and implementation (default: {DEFAULT_STEPS[False]})",
        )


def build_parser() -> Parser:
    """The top-level parser (every option, all sections) and one subcommand per section."""
    parser = Parser(
        prog="python -m compare",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser, SECTIONS, top=True)
    sub = parser.add_subparsers(dest="section", metavar="{equiv,bench,tasks}")
    helps = {
        "equiv": "only the equivalence matrix",
        "bench": "only the benchmark",
        "tasks": "only the tasks section",
    }
    for section, text in helps.items():
        add_options(sub.add_parser(section, help=text, description=text), (section,), top=False)
    return parser


def prepare_out(parser: Parser, out: Path | None) -> Path:
    """Create the run folder and check that it takes files; a bad one is a usage error."""
    out = out or Path("runs/compare") / datetime.now().strftime("%Y%m%d-%H%M%S")
    probe = out / ".write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        parser.error(f"--out {out}: cannot write there ({error.strerror or error})")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the sections the command line asks for; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = prepare_out(parser, args.out)
    sections = (args.section,) if args.section else SECTIONS
    progress = not args.no_progress
    started = time.perf_counter()
    meta = {
        "command": " ".join(["python -m compare", *(sys.argv[1:] if argv is None else argv)]),
        "started": datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "load_average": os.getloadavg()[0],  # other processes' demand, before this run
        "cpus": os.cpu_count(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(libgomp default)"),
        "threads": args.threads,  # the benchmark's
        "seconds": {},
    }
    results = report.Results(meta)
    cells = args.cells or list(equiv.MATRIX_CELLS)

    if "equiv" in sections:
        entries = equiv.matrix_entries(cells, args.dtypes, args.quick)
        results.matrix = equiv.check(entries, args.seed, progress)
        if args.random:
            drawn = equiv.random_entries(args.random, args.seed, cells, args.dtypes)
            results.random = equiv.check(drawn, args.seed, progress)
        meta["seconds"]["equiv"] = time.perf_counter() - started
    if "bench" in sections:
        start = time.perf_counter()
        sizes = args.sizes or sizes_list(DEFAULT_SIZES[args.quick])
        repeats = args.repeats or DEFAULT_REPEATS[args.quick]
        bench_cells = [c for c in bench.BENCH_CELLS if c in cells]
        results.bench = bench.run_bench(
            bench_cells, sizes, repeats, args.threads, args.seed, progress
        )
        meta["seconds"]["bench"] = time.perf_counter() - start
    if "tasks" in sections:
        start = time.perf_counter()
        steps = args.steps or DEFAULT_STEPS[args.quick]
        results.tasks = tasks_check.run_tasks(steps, args.seed, progress)
        meta["seconds"]["tasks"] = time.perf_counter() - start

    meta["seconds"]["total"] = time.perf_counter() - started
    print(report.terminal(results))
    files = report.write(results, out)
    print(f"\nwrote {', '.join(files)} to {out}/ in {meta['seconds']['total']:.0f} s")
    if results.failed:
        print(f"{len(results.failed)} equivalence case(s) FAIL", file=sys.stderr)
        return 1
    return 0
