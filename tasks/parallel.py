"""Data-parallel training: N processes, each on its share of every step's batch, kept in step by
PyTorch's own engine (``torch.distributed`` and ``DistributedDataParallel``). See docs/scale.md.

    torchrun --standalone --nproc-per-node 2 -m tasks.text train --smoke

torchrun starts N copies of the command and tells each its place in the environment (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). This module turns that into:

- ``device``: what ``--device auto | cpu | cuda`` means for this process (GPU ``LOCAL_RANK``);
- ``start`` / ``stop``: join and leave the process group (gloo on CPU, NCCL on CUDA), or do
  nothing when torchrun did not start the process;
- ``World``: this process's rank among ``size``, and the few collectives the shared loop needs
  beside DDP's gradient all-reduce: a sum (the logged loss), flags (a stop request, a failed
  write) and a gather (the rows of a checkpoint's state, every process's RNG state);
- ``Shard``: how a task splits each step's batch, the one thing a task declares.

What a task declares to train on N processes as on one (tasks/text/train.py does all of it):

    self.shard = parallel.shard(state={"hidden": 1})   # in __init__; {} when no state has rows
    rows = self.shard.rows(n)                          # in loss(step): this process's rows of
                                                       # the step's batch of n rows
The loss it returns is the mean over the rows it took, each row weighing the same, computed
through ``self.model`` (the loop puts the DDP wrapper there while the loss is computed).
``state`` names the entries of ``get_state()`` that hold one row per batch row (a tensor, a
tuple of tensors, or None) and the dimension those rows run along; the loop joins them across
processes for the checkpoint and hands each process its own rows back on resume. A task that
declares nothing still trains correctly under torchrun, every process on the whole batch.
"""

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from tasks.errors import BadInput

DEVICES = ("auto", "cpu", "cuda")
CPU = torch.device("cpu")


def launched() -> int:
    """How many processes torchrun started for this run (``WORLD_SIZE``); 1 without torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def device(choice: str) -> torch.device:
    """The device that ``--device choice`` names for this process: ``auto`` is CUDA when a GPU
    is present, else the CPU; under torchrun each process on a machine takes GPU ``LOCAL_RANK``.
    ``BadInput`` for ``cuda`` without a GPU, or for fewer GPUs than processes on the machine."""
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return CPU
    if not torch.cuda.is_available():
        raise BadInput("--device cuda: no CUDA device is available here; use --device cpu")
    local, count = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
    if local >= count:
        raise BadInput(
            f"--device {choice}: process {local} on this machine needs GPU {local}, but there "
            f"are {count}: start at most {count} per machine (torchrun --nproc-per-node)"
        )
    return torch.device("cuda", local)


@dataclass(frozen=True)
class World:
    """The processes of one run as this one sees them; one process alone is ``World()``."""

    rank: int = 0
    size: int = 1
    device: torch.device = CPU  # where the collectives' tensors live: this process's GPU (NCCL)

    @property
    def lead(self) -> bool:
        """Rank 0: the one process that evaluates, writes the run folder and prints."""
        return self.rank == 0

    def sum(self, value: float) -> float:
        """The sum of ``value`` over the processes (in float64)."""
        if self.size == 1:
            return value
        total = torch.tensor(value, dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.item()

    def any(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag, true on every process when it is true on one (a stop request, a failure)."""
        if self.size == 1:
            return flags
        raised = torch.tensor(flags, dtype=torch.int32, device=self.device)
        dist.all_reduce(raised, op=dist.ReduceOp.MAX)
        return tuple(bool(f) for f in raised.tolist())

    def barrier(self) -> None:
        """Wait until every process is here: at the end of a run, so that none leaves the group
        while another still works in it (a gloo process torn down then can abort)."""
        if self.size > 1:
            dist.barrier()

    def gather(self, obj: Any) -> list:
        """Every process's ``obj``, in rank order (pickled: keep its tensors on the CPU)."""
        if self.size == 1:
            return [obj]
        gathered = [None] * self.size
        dist.all_gather_object(gathered, obj)
        return gathered


def world() -> World:
    """This process's place in the process group that ``start`` joined (``World()`` if none)."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    nccl = dist.get_backend() == "nccl"
    where = torch.device("cuda", torch.cuda.current_device()) if nccl else CPU
    return World(dist.get_rank(), dist.get_world_size(), where)


def start(on: torch.device) -> World:
    """Join the process group torchrun set up, NCCL for a GPU and gloo for the CPU; without
    torchrun (or with one process) there is nothing to join. Returns this process's World."""
    if launched() > 1 and not dist.is_initialized():
        if on.type == "cuda":
            torch.cuda.set_device(on)
            dist.init_process_group("nccl", device_id=on)
        else:
            dist.init_process_group("gloo")
    return world()


def stop() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, world: World) -> DistributedDataParallel | None:
    """``model`` in DDP, which averages the gradients over the processes during backward (and
    copies rank 0's weights to every process now); None for one process."""
    if world.size == 1:
        return None
    on = device_of(model)
    return DistributedDataParallel(model, device_ids=[on.index] if on.type == "cuda" else None)


def device_of(model: nn.Module) -> torch.device:
    """Where ``model``'s parameters live (the CPU for a model without any)."""
    return next((p.device for p in model.parameters()), CPU)


# ---------------------------------------------------------------------------------------------
# how a task splits its batch


@dataclass
class Shard:
    """This process's part of every step's batch (rank ``rank`` of ``size``), and which entries
    of the task's state hold one row per batch row. Tasks make one with ``shard``."""

    rank: int = 0
    size: int = 1
    state: dict[str, int] = field(default_factory=dict)  # get_state() key -> its rows' dimension
    taken: tuple[int, int] | None = None  # (rows taken, rows in the batch) at the last ``rows``

    def rows(self, n: int) -> slice:
        """This process's rows of a batch of ``n`` rows; the loop weighs its loss by their share."""
        span = self.span(n)
        self.taken = (span.stop - span.start, n)
        return span

    def span(self, n: int) -> slice:
        """Rows [r·n // N, (r + 1)·n // N): contiguous, in rank order, sizes differing by one at
        most; all ``n`` rows for one process."""
        if n < self.size:
            raise BadInput(
                f"a batch of {n} rows cannot be split across {self.size} processes: use fewer "
                "processes or a larger batch"
            )
        return slice(self.rank * n // self.size, (self.rank + 1) * n // self.size)

    def weight(self) -> tuple[int, int]:
        """(numerator, denominator) of this process's share of the last batch it split: its loss
        times numerator / denominator, summed over the processes, is the whole batch's mean.
        1/N each when the task split nothing (every process computed the whole batch)."""
        return self.taken or (1, self.size)


def shard(state: dict[str, int] | None = None) -> Shard:
    """A Shard for this process (rank 0 of 1 outside a process group); ``state``: the entries of
    the task's ``get_state()`` that hold one row per batch row, with the dimension of those rows."""
    here = world()
    return Shard(here.rank, here.size, dict(state or {}))


def join_rows(states: list[dict], state: dict, rows: dict[str, int]) -> dict:
    """One task state from every process's (rank order): the per-row entries ``rows`` joined
    along their dimension, the others taken from ``state`` (this process's)."""
    whole = dict(state)
    for key, dim in rows.items():
        whole[key] = _cat([s[key] for s in states], dim)
    return whole


def own_rows(state: dict, part: Shard) -> dict:
    """This process's rows of the per-row entries of a whole task state (all of them for one)."""
    return {
        key: _narrow(value, part.state[key], part) if key in part.state else value
        for key, value in state.items()
    }


def to_device(obj: Any, on: torch.device) -> Any:
    """``obj`` with every tensor in it (in dicts, lists and tuples) moved to ``on``."""
    if isinstance(obj, Tensor):
        return obj.to(on)
    if isinstance(obj, dict):
        return {key: to_device(value, on) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(value, on) for value in obj)
    return obj


def _cat(values: list, dim: int) -> Any:
    """Per-process values of one entry joined: tensors, tuples of tensors, or all None."""
    if all(v is None for v in values):
        return None
    if isinstance(values[0], Tensor):
        return torch.cat(values, dim)
    return type(values[0])(torch.cat(parts, dim) for parts in zip(*values, strict=True))


def _narrow(value: Any, dim: int, part: Shard) -> Any:
    if value is None:
        return None
    if isinstance(value, Tensor):
        span = part.span(value.shape[dim])
        return value.narrow(dim, span.start, span.stop - span.start)
    return type(value)(_narrow(v, dim, part) for v in value)
