"""Checkpoint files: written atomically, read with ``weights_only=True``, RNG states included.

A checkpoint holds only tensors and plain Python values (dict, list, tuple, str, int, float,
None), so ``torch.load(path, weights_only=True)`` reads it without running pickled code. Its
``meta`` names the task that wrote it and holds that task's config, so a checkpoint given to
the wrong command, or damaged on the way, is said to be so in one line (``BadInput``).
"""

import hashlib
import random
from pathlib import Path

import numpy as np
import torch

from tasks import files
from tasks.errors import BadInput, first_line

KEYS = ("step", "model", "optimizer", "rng", "task", "history", "meta")  # what the loop saves


def save(obj: dict, path: Path) -> None:
    """Write ``obj`` to ``path`` with ``torch.save``, atomically (see tasks/files.py)."""
    files.write_bytes(path, lambda f: torch.save(obj, f))


def load(path: Path) -> dict:
    """Read a file written by ``save``: tensors and plain values only, onto the CPU.

    A missing file, or one that is truncated, corrupted or not a checkpoint at all, is a
    ``BadInput`` saying so, not torch's advice to load untrusted code with weights_only=False.
    """
    if not Path(path).is_file():
        raise BadInput(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many kinds here (zip, unpickling, EOF): all mean damaged
        raise BadInput(
            f"{path} is damaged or not a checkpoint of this project: train again, or use an "
            "intact copy"
        ) from None
    if not isinstance(state, dict):
        raise BadInput(f"{path} is not a checkpoint of this project")
    return state


def load_run(path: Path, task: str) -> dict:
    """``load``, then check that the loop wrote it for ``task``: one line when it is another
    task's checkpoint (a series checkpoint given to text, ...) or lacks what the loop saves."""
    state = load(path)
    written_by = state.get("meta", {}).get("task") if isinstance(state.get("meta"), dict) else None
    if written_by != task:
        whose = f"of the {written_by} task" if isinstance(written_by, str) else "of no task"
        raise BadInput(f"{path} is a checkpoint {whose}, not of the {task} task")
    if missing := [key for key in KEYS if key not in state]:
        raise BadInput(
            f"{path} is not a complete training checkpoint (it lacks {', '.join(missing)})"
        )
    return state


def load_weights(model: torch.nn.Module, weights: dict, path: Path) -> None:
    """``model.load_state_dict(weights)``; ``BadInput`` when they do not fit (another config)."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, KeyError) as error:
        raise BadInput(
            f"{path} does not fit the model its config describes ({first_line(error)})"
        ) from None


def fingerprint(*parts: str | bytes) -> str:
    """SHA-256 of the data a run trains on: a resumed run must find the same data."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


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
    """Put every generator back where ``rng_state`` found it (the GPUs that are here)."""
    torch.set_rng_state(state["torch"])
    present = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for index, cuda in enumerate(state["cuda"][:present]):  # a GPU run may resume on a CPU
        torch.cuda.set_rng_state(cuda, index)
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    random.setstate(state["python"])
