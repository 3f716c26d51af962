"""`python -m compare [equiv|bench|tasks] [options]`: the project's main job.

Reads the command line, runs the chosen sections (all three when none is named), prints the
tables and writes the run folder, whole: its files go to a hidden folder beside --out that takes
--out's place at the end (compare/report.py), so an interrupted run leaves no report that looks
complete, and a rerun leaves no old figure beside a new report.

Exit status: 0 when every equivalence case and every task passes, 1 when one fails, 2 for a bad
command line (one line on stderr, no traceback), 3 when the report could not be written (the
tables were printed), 130 when interrupted (Ctrl-C or SIGTERM: one line, no report).
"""

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import torch

from cmdline import Parser, reason
from compare import bench, cuda, equiv, report, tables, tasks_check
from compare.harness import DTYPES
from compare.results import Results

SECTIONS = ("equiv", "bench", "tasks")
DEFAULT_SIZES = {False: "tiny,medium", True: "tiny"}  # by --quick
DEFAULT_PACKED_SIZES = {False: "text64,text256", True: "text64"}  # by --quick, with --packed
DEFAULT_REPEATS = {False: 7, True: 3}
DEFAULT_STEPS = {False: 50, True: 5}

DESCRIPTION = """\
Prove scratch equal to torch.nn, measure what it costs, and train the tasks on both.

sections (all three when none is named):
  equiv   the equivalence matrix: every cell × a fixed set of configurations × float64 and
          float32 × bptt manual, readable and autograd, through compare.harness.compare_case; the largest
          scaled error of every output, final state and gradient, pass/fail against
          the contract's tolerances; --random N adds N random configurations; with a GPU,
          the CUDA rows: scratch and torch.nn (cuDNN) on it, each against a float64 CPU
          oracle (without one: "no CUDA device")
  bench   forward+backward time (median, IQR, ratio to torch.nn) and peak memory of scratch
          (manual BPTT), scratch (autograd) and torch.nn for the LSTM, GRU and tanh RNN,
          beside the GEMM bound: the same matrix products alone (time ÷ bound per row)
  tasks   each registered task's small model trained on scratch and on reference from one
          seed: the largest step-by-step loss difference, which must stay ≤ 1e-4

Writes report.md, results.json and PNG figures into the run folder; exit status 1 if any
equivalence case or task fails, 2 for a bad command line, 3 if the report could not be
written, 130 if interrupted. How to read the report: docs/compare.md."""

EPILOG = """\
examples:
  python -m compare                       everything, the default sizes
  python -m compare --quick               a complete run in about 20 s
  python -m compare equiv --random 300 --dtypes float64
  python -m compare bench --sizes tiny,medium,large --repeats 9 --cells lstm
  python -m compare bench --packed --cells gru       batch 64 and 256, T 170, lengths 40…170
  python -m compare bench --packed --sizes 170x64x32x128x40"""


def comma_list(
    choices: tuple[str, ...], what: str, old: dict[str, str] | None = None
) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names, each one of `choices` (or an old spelling of one,
    in ``old``, which stands for its new name)."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        names = [(old or {}).get(name, name) for name in names]
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
    """An argparse type: benchmark sizes by name (tiny, medium, large, text64, text256) or as
    LxNxH_inxH, or LxNxH_inxHxmin_L (the shortest length of a packed batch)."""
    named = bench.SIZES | bench.PACKED_SIZES
    sizes = {}
    for name in (n.strip() for n in text.split(",") if n.strip()):
        if name in named:
            sizes[name] = named[name]
            continue
        try:
            dims = [int(part) for part in name.split("x")]
        except ValueError:
            dims = []
        if len(dims) not in (4, 5):
            raise argparse.ArgumentTypeError(
                f"unknown size {name!r} (choose from {', '.join(named)}, or LxNxH_inxH[xmin_L])"
            )
        if min(dims) <= 0:
            raise argparse.ArgumentTypeError(f"size {name!r}: every dimension must be positive")
        if len(dims) == 5 and dims[4] > dims[0]:
            raise argparse.ArgumentTypeError(f"size {name!r}: min_L must be ≤ L")
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
            type=comma_list(equiv.MATRIX_CELLS, "cell", equiv.OLD_SPELLINGS),
            default=default(None),
            help=f"cells to check, comma-separated, by key, or key:{equiv.PROJ} (with a projection) "
            f"or key:{equiv.STEP} (the one-step cell class): {', '.join(equiv.MATRIX_CELLS)} "
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
            "--bptt",
            type=comma_list(equiv.BPTT_MODES, "bptt mode"),
            default=default(list(equiv.BPTT_MODES)),
            help=f"scratch's gradient modes, comma-separated (default: {','.join(equiv.BPTT_MODES)})",
        )
        group.add_argument(
            "--random",
            type=count(0),
            default=default(0),
            metavar="N",
            help="also check N random configurations of every option, drawn with "
            "random.Random(--seed) over --cells, --dtypes and --bptt",
        )
    if "bench" in sections:
        group = parser.add_argument_group("bench")
        group.add_argument(
            "--sizes",
            type=sizes_list,
            default=default(None),
            help="sizes, comma-separated: "
            + ", ".join(f"{n} ({s.L}x{s.N}x{s.H_in}x{s.H})" for n, s in bench.SIZES.items())
            + ", "
            + ", ".join(
                f"{n} ({s.L}x{s.N}x{s.H_in}x{s.H}x{s.min_L})" for n, s in bench.PACKED_SIZES.items()
            )
            + f", or LxNxH_inxH[xmin_L] (default: {DEFAULT_SIZES[False]}; with --packed: "
            + f"{DEFAULT_PACKED_SIZES[False]})",
        )
        group.add_argument(
            "--repeats",
            type=count(1),
            default=default(None),
            metavar="N",
            help=f"timed repetitions after the warm-up (default: {DEFAULT_REPEATS[False]})",
        )
        group.add_argument(
            "--packed",
            action="store_true",
            default=default(False),
            help="pack each batch, lengths drawn from min_L…L, once sorted and once unsorted "
            "(enforce_sorted True, False): the path of variable-length batches (torch.nn's "
            "packed backward is slow on CPU)",
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


def prepare_out(parser: Parser, out: Path | None) -> tuple[Path, Path]:
    """(the run folder, the hidden folder its files are written into until the end). A folder
    that cannot be used is a usage error: one line, exit status 2."""
    out = out or Path("runs/compare") / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        return out, report.start(out)
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        parser.error(f"--out {out}: cannot write there ({reason(error)})")


def main(argv: list[str] | None = None) -> int:
    """Run the sections the command line asks for; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out, folder = prepare_out(parser, args.out)
    try:
        return _run_and_report(args, argv, out, folder)
    finally:
        report.discard(folder)  # gone already when published; else an unfinished report


def _run_and_report(
    args: argparse.Namespace, argv: list[str] | None, out: Path, folder: Path
) -> int:
    """Run the sections, print the tables, publish the report folder; the exit status."""
    try:
        with _sigterm_as_ctrl_c():
            results = run_sections(args, argv)
    except KeyboardInterrupt:
        print(f"\ninterrupted: no report written ({out} is as it was)", file=sys.stderr)
        return 130
    print(tables.terminal(results))
    try:
        names = report.write(results, folder)
        report.publish(folder, out)
    except OSError as error:
        print(
            f"the report could not be written to {out}: {reason(error)} "
            f"(the tables above are complete; {out} is as it was)",
            file=sys.stderr,
        )
        return 3
    print(f"\nwrote {', '.join(names)} to {out}/ in {results.meta['seconds']['total']:.0f} s")
    status = 0
    if results.failed:
        print(f"{len(results.failed)} equivalence case(s) FAIL", file=sys.stderr)
        status = 1
    if results.failed_cuda:
        print(f"{len(results.failed_cuda)} CUDA case(s) FAIL", file=sys.stderr)
        status = 1
    if failed := results.failed_tasks:
        names = ", ".join(t.task for t in failed)
        print(
            f"{len(failed)} task(s) FAIL the scratch-vs-reference check: {names}", file=sys.stderr
        )
        status = 1
    return status


def run_sections(args: argparse.Namespace, argv: list[str] | None) -> Results:
    """Run every section the command line names; return what they measured."""
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
        "cuda": cuda.device_name(),  # the GPU of the CUDA rows; None: there is none here
        "seconds": {},
    }
    results = Results(meta)
    cells = args.cells or list(equiv.MATRIX_CELLS)

    if "equiv" in sections:
        entries = equiv.matrix_entries(cells, args.dtypes, args.quick, args.bptt)
        results.matrix = equiv.check(entries, args.seed, progress)
        if cuda.available():
            results.cuda = cuda.check(entries, args.seed)
        if args.random:
            drawn = equiv.random_entries(args.random, args.seed, cells, args.dtypes, args.bptt)
            results.random = equiv.check(drawn, args.seed, progress)
        meta["seconds"]["equiv"] = time.perf_counter() - started
    if "bench" in sections:
        start = time.perf_counter()
        defaults = DEFAULT_PACKED_SIZES if args.packed else DEFAULT_SIZES
        sizes = args.sizes or sizes_list(defaults[args.quick])
        repeats = args.repeats or DEFAULT_REPEATS[args.quick]
        bench_cells = [c for c in bench.BENCH_CELLS if c in cells]
        results.bench = bench.run_bench(
            bench_cells, sizes, repeats, args.threads, args.seed, progress, args.packed
        )
        meta["seconds"]["bench"] = time.perf_counter() - start
    if "tasks" in sections:
        start = time.perf_counter()
        steps = args.steps or DEFAULT_STEPS[args.quick]
        results.tasks = tasks_check.run_tasks(steps, args.seed, progress)
        meta["seconds"]["tasks"] = time.perf_counter() - start
    meta["seconds"]["total"] = time.perf_counter() - started
    return results


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """A `kill` (SIGTERM) stops the run the way Ctrl-C does (KeyboardInterrupt)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
