"""Run a function in N processes joined in one gloo process group, as torchrun would start them.

The group meets through a file in the test's folder (``file://`` init), so no port is needed
and two test runs on one machine cannot collide. ``worker(rank, *args)`` must be a module-level
function (the processes import it); an exception in any process fails the caller's test.
"""

from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def spawn(worker, size: int, folder: Path, *args) -> None:
    """``worker(rank, *args)`` in ``size`` processes, each a rank of one gloo group."""
    store = folder / "process-group"
    mp.spawn(_join, args=(worker, size, str(store), args), nprocs=size, join=True)


def _join(rank: int, worker, size: int, store: str, args: tuple) -> None:
    torch.set_num_threads(1)  # two processes on two cores: one thread each
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=size)
    try:
        worker(rank, *args)
    finally:
        dist.destroy_process_group()
