"""Real processes against the shared scaffolding: a worker of the lab killed with SIGKILL, the
lab stopped with one SIGTERM, two runs into one folder at once, a run killed before its first
checkpoint, and `text sample` streaming and stopped with Ctrl-C. Each is bounded in time."""

import fcntl
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 240  # seconds any one process may take here before the test fails (a hang)


def start(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


def finish(proc: subprocess.Popen, limit: float = LIMIT) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``proc``; it is killed, and the test fails, past ``limit``."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running after {limit} s: {proc.args}")
    return proc.returncode, out, err


def workers(pid: int) -> list[int]:
    """The lab's worker processes (children started by multiprocessing's spawn)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in map(int, children):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


def wait_for(condition, limit: float = LIMIT):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    pytest.fail("waited in vain")


LAB = ["-m", "tasks.gradients", "lab", "--smoke", "--experiments", "exploding", "--no-progress"]


def test_a_killed_lab_worker_is_noticed_and_its_run_continues_on_a_rerun(tmp_path):
    lab = start(*LAB, "--workers", "2", "--out", str(tmp_path))
    victim = wait_for(lambda: workers(lab.pid))[0]
    os.kill(victim, signal.SIGKILL)
    status, _, err = finish(lab)
    assert status == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "lost with their worker" in last and "run the same command again" in last, err
    done = [
        mode
        for mode in ("none", "value", "norm")
        if (tmp_path / "exploding" / mode / "results.json").exists()
    ]
    assert len(done) == 2, done  # the two others finished and are kept

    again = start(*LAB, "--workers", "1", "--out", str(tmp_path))
    status, _, err = finish(again)
    assert status == 0, err
    assert err.count("trained ") == 1, err  # only the lost run is trained again
    assert all(
        (tmp_path / "exploding" / m / "results.json").exists() for m in ("none", "value", "norm")
    )


def test_one_sigterm_stops_the_lab_with_its_line_while_workers_train(tmp_path):
    lab = start(*LAB, "--workers", "2", "--out", str(tmp_path))
    wait_for(lambda: len(workers(lab.pid)) == 2)
    lab.send_signal(signal.SIGTERM)  # a `kill`; Ctrl-C takes the same path (KeyboardInterrupt)
    status, _, err = finish(lab, limit=30)
    assert status == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("stopped: run the same command"), err
    assert not workers(lab.pid)


TEXT = ["-m", "tasks.text", "train", "--smoke", "--no-progress", "--steps", "100000"]


def test_a_folder_is_one_runs_while_it_trains_and_free_once_it_is_killed(tmp_path):
    out = tmp_path / "run"
    first = start(*TEXT, "--checkpoint-every", "2", "--out", str(out))
    try:
        wait_for(lambda: (out / "checkpoint.pt").exists())
        for second in (
            start(*TEXT, "--out", str(out)),  # a second run into the folder
            start(*TEXT[:3], "--no-progress", "--out", str(out), "--resume"),  # a resume of it
        ):
            status, _, err = finish(second, limit=60)
            assert status == 2 and err.count("\n") == 1, err
            assert "is in use by another run" in err, err
        assert first.poll() is None  # the first run trains on, undisturbed
    finally:
        first.kill()
        first.communicate()
    step = torch.load(out / "checkpoint.pt", weights_only=True)["step"]
    again = start(
        *TEXT[:3], "--no-progress", "--out", str(out), "--resume", "--steps", str(step + 2)
    )
    status, _, err = finish(again)
    assert status == 0, err  # the dead run's lock went with it


def test_a_run_killed_before_its_first_checkpoint_is_started_again(tmp_path):
    out = tmp_path / "run"
    first = start(*TEXT, "--checkpoint-every", "100000", "--out", str(out))
    try:
        wait_for(
            lambda: (out / "metrics.jsonl").exists() and (out / "metrics.jsonl").stat().st_size
        )
    finally:
        first.kill()
        first.communicate()
    assert (out / "config.json").exists() and not (out / "checkpoint.pt").exists()
    resume = start(*TEXT[:3], "--no-progress", "--out", str(out), "--resume")
    status, _, err = finish(resume, limit=60)
    assert status == 2 and "run the same command without --resume" in err, err
    status, _, err = finish(start(*TEXT[:5], "--out", str(out)))
    assert status == 0, err
    assert (out / "checkpoint.pt").exists()


def test_sample_streams_its_text_and_ctrl_c_keeps_what_was_printed(tmp_path):
    from tasks.text import main as text_main

    out = tmp_path / "run"
    assert text_main(["train", "--smoke", "--no-progress", "--out", str(out)]) == 0
    sampler = start(
        "-m", "tasks.text", "sample", "--checkpoint", str(out / "checkpoint.pt"),
        "--length", "100000000", "--prime", "A",
    )  # fmt: skip
    shown = b""
    deadline = time.monotonic() + LIMIT
    while len(shown) < 300 and time.monotonic() < deadline:  # text shows long before the end
        ready, _, _ = select.select([sampler.stdout], [], [], 1)
        if ready:
            shown += os.read(sampler.stdout.fileno(), 4096)
    assert len(shown) >= 300, "nothing streamed"
    sampler.send_signal(signal.SIGINT)
    status, rest, err = finish(sampler, limit=30)
    assert status == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "characters; the text printed above stands" in err and "checkpoint" not in err, err
    kept = int(err.split("stopped after ")[1].split(" of ")[0])
    assert len((shown.decode() + rest).strip()) == 1 + kept  # the prime and every character said


def test_under_torchrun_rank_0_takes_the_folders_lock(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    held = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)  # this test process holds the folder
    fcntl.flock(held, fcntl.LOCK_EX)
    os.pwrite(held, b"4242\n", 0)
    try:
        run = start(
            "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
            "-m", "tasks.text", "train", "--smoke", "--no-progress", "--out", str(out),
        )  # fmt: skip
        status, _, err = finish(run)
    finally:
        os.close(held)
    assert status != 0
    assert err.count("is in use by another run (process 4242)") == 1, err  # rank 0 says it
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing written
