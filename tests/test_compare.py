"""`python -m compare`: the run folder, the exit status, the failing rows of a broken scratch,
and one clear line for a bad command line. Runs the CLI in-process with small settings."""

import errno
import importlib.abc
import json
import os
import runpy
import signal
import sys
from pathlib import Path

import pytest
import torch

from compare import bench, equiv, tasks_check
from compare.bench import peak_memory_mib
from compare.cli import build_parser, main
from compare.cuda import PAIRS, compare_with_oracle, entries
from compare.harness import Case
from tasks import registry
from tests.breakage import broken_lstm

SMALL_RUN = [
    *("--sizes", "12x2x3x4", "--repeats", "1", "--threads", "1", "--steps", "2", "--no-progress")
]


def test_quick_run_writes_report_json_and_figures(tmp_path):
    status = main(["--quick", "--cells", "lstm,gru:step,gru", *SMALL_RUN, "--out", str(tmp_path)])
    assert status == 0
    for name in ("report.md", "results.json", "equiv_heatmap.png", "bench_time.png"):
        assert (tmp_path / name).stat().st_size > 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["passed"]
    rows = results["equivalence"]["matrix"]
    assert {row["cell"] for row in rows} == {"lstm", "gru:step", "gru"}
    assert {(r["case"]["dtype"], r["case"]["bptt"]) for r in rows} == {
        (d, b) for d in ("float64", "float32") for b in ("manual", "readable", "autograd")
    }
    assert [b["cell"] for b in results["benchmark"]] == ["lstm", "gru"]  # the benchmarked cells
    assert {t["task"] for t in results["tasks"]} == set(registry.TASKS)
    assert all(t["passed"] for t in results["tasks"])
    assert "## Equivalence" in (tmp_path / "report.md").read_text()


def test_broken_lstm_backward_fails_exactly_the_manual_lstm_rows(tmp_path, monkeypatch):
    broken_lstm(monkeypatch)  # the cells' step backward, and the layers' fast loop
    assert main(["equiv", "--out", str(tmp_path), "--no-progress"]) == 1

    rows = json.loads((tmp_path / "results.json").read_text())["equivalence"]["matrix"]
    lstm_cells = {"lstm", "lstm:proj", "lstm:step"}
    for row in rows:
        broken = row["cell"] in lstm_cells and row["case"]["bptt"] != "autograd"
        assert row["passed"] is not broken, row["label"]
        assert all(kind.startswith("grad") for kind in row["failed_kinds"])  # forward untouched
    assert {row["cell"] for row in rows if not row["passed"]} == lstm_cells


def test_a_packed_benchmark_runs_sorted_and_unsorted_lengths_and_says_so():
    sizes = {"small": bench.Size(7, 5, 3, 4, min_L=3)}
    results = bench.run_bench(["gru"], sizes, repeats=1, threads=1, progress=False, packed=True)
    assert [r.size for r in results] == ["small packed sorted", "small packed unsorted"]
    for result in results:
        assert result.time_target is None and result.bound_target is None
        steps = {p.m: p.calls for p in result.bound.products if p.name.startswith("a_t")}
        assert sum(steps.values()) == 7 and steps[5] >= 3  # all 5 rows move until t = min_L
        for impl in bench.IMPLS:  # the packed output rows agree with torch.nn's
            assert result.impls[impl].output_error < 1e-5


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--cells", "lstm,fancy"], "unknown cell 'fancy'"),
        (["bench", "--sizes", "12x-2x3x4"], "must be positive"),
        (["bench", "--repeats", "0"], "must be ≥ 1"),
        (["bench", "--packed", "--sizes", "12x2x3x4x13"], "min_L must be ≤ L"),
        (["equiv", "--dtypes", "float16"], "unknown dtype"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_out_gives_one_line_and_status_2(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["tasks", "--out", str(blocker / "run")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and err.count("\n") == 1


def test_options_before_or_after_the_subcommand_mean_the_same():
    parser = build_parser()
    assert vars(parser.parse_args(["--quick", "bench"])) == vars(
        parser.parse_args(["bench", "--quick"])
    )


def test_a_task_that_cannot_be_imported_is_an_error_and_fails_the_run(tmp_path, monkeypatch):
    entries = {
        "ghost": registry.Entry("ghost", "tasks.no_such_task", "a task whose package is missing"),
        "impl": registry.Entry("impl", "tasks.impl", "a module without smoke_losses"),
    }
    monkeypatch.setattr(registry, "TASKS", entries)
    ghost, no_smoke = (tasks_check.check_task(name, 2) for name in entries)
    assert not ghost.passed and "ModuleNotFoundError" in ghost.error
    assert not no_smoke.passed and "AttributeError" in no_smoke.error
    assert main(["tasks", "--steps", "2", "--no-progress", "--out", str(tmp_path)]) == 1
    saved = json.loads((tmp_path / "results.json").read_text())["tasks"]
    assert [t["passed"] for t in saved] == [False, False]


def test_tasks_whose_losses_part_fail_the_check(monkeypatch):
    text = registry.load("text")
    honest = text.smoke_losses

    def drifting(impl, steps, seed):  # scratch's losses off by twice the threshold
        shift = 2 * tasks_check.MAX_DIFFERENCE if impl == "scratch" else 0.0
        return [loss + shift for loss in honest(impl, steps, seed)]

    monkeypatch.setattr(text, "smoke_losses", drifting)
    result = tasks_check.check_task("text", 3)
    assert result.ran and not result.passed
    assert result.max_difference == pytest.approx(2 * tasks_check.MAX_DIFFERENCE)


def test_random_configurations_are_reproducible_and_pass():
    draw = equiv.random_entries(25, seed=7, cells=equiv.MATRIX_CELLS, dtypes=["float64"])
    assert draw == equiv.random_entries(25, seed=7, cells=equiv.MATRIX_CELLS, dtypes=["float64"])
    assert all(row.passed for row in equiv.check(draw, progress=False))


def test_tensor_kinds_cover_every_harness_name():
    names = ["output", "h_n", "c'", "grad input", "grad h_0", "grad weight_hr_l1_reverse"]
    kinds = [equiv.tensor_kind(name) for name in names]
    assert kinds == ["output", "h_n", "c_n", "grad input", "grad h_0", "grad weights"]
    assert set(kinds) <= set(equiv.KINDS)


def test_peak_memory_is_the_running_peak_above_the_start():
    mib = 2**18  # float32 elements in one MiB

    def step():
        a = torch.ones(4 * mib)
        b = a + 1  # 8 MiB held
        del a
        c = torch.cat([b, b])  # 4 + 8 = 12 MiB held: the peak
        del b, c

    assert peak_memory_mib(step) == pytest.approx(12, abs=0.01)


# interrupting, rerunning, a full disk: never a report that looks complete and is not

TASKS_ONLY = ["tasks", "--steps", "2", "--no-progress"]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_run_exits_130_and_leaves_the_previous_report(
    how, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "report"
    assert main([*TASKS_ONLY, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        if how == "ctrl-c":
            raise KeyboardInterrupt
        signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(tasks_check, "run_tasks", interrupted)
    capsys.readouterr()
    assert main([*TASKS_ONLY, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.strip() == f"interrupted: no report written ({out} is as it was)"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no half-written folder


def test_a_rerun_into_the_same_out_leaves_no_old_figure_beside_the_new_report(tmp_path):
    out = tmp_path / "report"
    assert main(["--quick", "--cells", "gru", *SMALL_RUN, "--out", str(out)]) == 0
    assert (out / "bench_time.png").exists()
    assert main([*TASKS_ONLY, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "results.json", "task_losses.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_full_disk_prints_the_tables_then_says_the_report_was_not_written(
    tmp_path, capsys, monkeypatch
):
    out = tmp_path / "report"
    assert main([*TASKS_ONLY, "--out", str(out)]) == 0
    before = (out / "report.md").read_text()
    write_text = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == "results.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    capsys.readouterr()
    assert main([*TASKS_ONLY, "--out", str(out)]) == 3
    printed = capsys.readouterr()
    assert "TASKS (scratch vs reference" in printed.out  # the tables came first
    assert printed.err.strip() == (
        f"the report could not be written to {out}: no space left on device "
        f"(the tables above are complete; {out} is as it was)"
    )
    assert (out / "report.md").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_an_out_that_holds_other_files_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        main([*TASKS_ONLY, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "holds files that are not a compare report" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_bptt_option_draws_only_the_modes_asked_for():
    args = build_parser().parse_args(["equiv", "--bptt", "readable", "--random", "5"])
    assert args.bptt == ["readable"]
    drawn = equiv.random_entries(30, 0, equiv.MATRIX_LAYERS, ["float64"], args.bptt)
    assert {e.case.bptt for e in drawn} == {"readable"}
    matrix = equiv.matrix_entries(["gru"], ["float64"], quick=True, bptt=["readable", "manual"])
    assert {e.case.bptt for e in matrix} == {"readable", "manual"}


# the CUDA rows: their logic on the CPU here, the real rows where there is a GPU (test_cuda.py)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_oracle_rows_pass_on_the_cpu_and_catch_a_broken_scratch(dtype, monkeypatch):
    case = Case("lstm", num_layers=2, bidirectional=True, lengths=(6, 4, 2), dtype=dtype)
    results = compare_with_oracle(case, device="cpu")  # the CUDA rows' code, on the CPU
    assert all(results[pair].passed for pair in PAIRS), {p: r.worst for p, r in results.items()}
    broken_lstm(monkeypatch)
    results = compare_with_oracle(case, device="cpu")
    assert [results[pair].passed for pair in PAIRS] == [False, False, True]  # torch.nn stands


def test_the_cuda_rows_leave_out_dropout():
    matrix = equiv.matrix_entries(["gru"], ["float32"], quick=False)
    kept = entries(matrix)
    assert {e.config for e in matrix} - {e.config for e in kept} == {"train-dropout"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: test_cuda.py")
def test_without_a_gpu_compare_says_no_cuda_device(tmp_path, capsys):
    assert (
        main(["equiv", "--quick", "--cells", "gru", "--no-progress", "--out", str(tmp_path)]) == 0
    )
    assert "CUDA: no CUDA device: the CUDA rows were not run" in capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["equivalence"]["cuda"] is None and results["meta"]["cuda"] is None
    assert "no CUDA device" in (tmp_path / "report.md").read_text()


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Ctrl-C pressed while ``compare.cli`` (torch, matplotlib) is being imported."""

    def find_spec(self, name, path=None, target=None):
        if name == "compare.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_compare_is_still_starting_is_one_line_and_130(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "compare.cli")
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_module("compare", run_name="__main__")
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "interrupted while starting: nothing was run\n"
