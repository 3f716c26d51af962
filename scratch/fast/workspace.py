"""Memory that a fast backward loop takes again from one call to the next, instead of anew.

Why: on the CPU, torch takes a tensor's memory from malloc, and glibc's malloc serves a block
above its mmap threshold (32 MiB at most) with fresh pages from the kernel, which it returns
on free. The first write to each 4 KiB page of such a block is then a page fault, every call:
an LSTM backward at the benchmark's medium size (T·N = 6,400 rows, 5·256 columns of gradients,
33 MB) faulted about 8,000 times per call, and the faults cost more than the elementwise work
that first touched the pages (docs/performance.md#the-workspace). Memory kept from the last
call is already mapped.

What may be taken: a buffer that lives only inside one backward (``layer_backward``'s scope),
of which nothing that the backward returns is a view. Each thread keeps, per dtype and per
place in the order the scope asks for them, the largest buffer asked for so far, and serves
any request up to its size from it; ``held_bytes`` says how much is kept (the benchmark counts
it in the scratch layer's peak memory), ``release`` frees it. Outside a scope, and for tensors
not on the CPU (CUDA's caching allocator already reuses its memory), ``empty`` is a plain
``new_empty``.
"""

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

_local = threading.local()


def _kept() -> dict:
    if not hasattr(_local, "kept"):
        _local.kept, _local.scope = {}, None
    return _local.kept


@contextmanager
def scope() -> Iterator[None]:
    """The extent of one backward: buffers taken inside it are reused by the next scope."""
    _kept()
    outer = _local.scope
    _local.scope = [] if outer is None else list(outer)  # nested: places after the outer's
    try:
        yield
    finally:
        _local.scope = outer


def empty(like: Tensor, *shape: int) -> Tensor:
    """An uninitialised contiguous tensor of ``shape``, with ``like``'s dtype and device."""
    kept = _kept()
    taken = _local.scope
    if taken is None or like.device.type != "cpu":
        return like.new_empty(shape)
    key = (like.dtype, sum(1 for k in taken if k == like.dtype))
    taken.append(like.dtype)
    numel = math.prod(shape)
    flat = kept.get(key)
    if flat is None or flat.numel() < numel:
        kept.pop(key, None)  # free the smaller one before taking the larger
        flat = kept[key] = torch.empty(numel, dtype=like.dtype)
    return flat[:numel].view(shape)


def held_bytes() -> int:
    """The memory this thread keeps for the next backward."""
    return sum(t.numel() * t.element_size() for t in _kept().values())


def release() -> None:
    """Free what this thread keeps (the next backward allocates anew)."""
    _kept().clear()
