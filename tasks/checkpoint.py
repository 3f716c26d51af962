"""Checkpoint files: written atomically, read with ``weights_only=True``, RNG states included.

A checkpoint holds only tensors and plain Python values (dict, list, tuple, str, int, float,
None), so ``torch.load(path, weights_only=True)`` reads it without running pickled code.
"""

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import torch


def save(obj: dict, path: Path) -> None:
    """Write ``obj`` to ``path`` with ``torch.save``, atomically (see ``_replace_atomically``)."""
    _replace_atomically(path, "wb", lambda f: torch.save(obj, f))


def write_text(text: str, path: Path) -> None:
    """Write a small UTF-8 text file (config, metrics), atomically."""
    _replace_atomically(path, "w", lambda f: f.write(text))


def _replace_atomically(path: Path, mode: str, write: Callable[[IO], object]) -> None:
    """Leave either the old file at ``path`` or the complete new one, even after a crash.

    The bytes go to a temporary file in the same folder, are flushed to disk, and then
    ``os.replace`` swaps it in: a rename within one file system is atomic.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            os.fchmod(fd, 0o644)  # mkstemp makes it private; a run folder is for reading
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict:
    """Read a checkpoint written by ``save``: tensors and plain values only, onto the CPU."""
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_state() -> dict:
    """The state of every random generator a task may draw from: torch, NumPy, Python."""
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),  # uint32 words, widened for torch
            "pos": pos,
            "has_gauss": has_gauss,
            "cached_gaussian": cached_gaussian,
        },
        "python": random.getstate(),  # (version, tuple of ints, gauss_next)
    }


def set_rng_state(state: dict) -> None:
    """Put every generator back where ``rng_state`` found it."""
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    random.setstate(state["python"])
