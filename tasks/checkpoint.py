"""Checkpoint files: written atomically, read with ``weights_only=True``, RNG states included.

A checkpoint holds only tensors and plain Python values (dict, list, tuple, str, int, float,
None), so ``torch.load(path, weights_only=True)`` reads it without running pickled code. Its
``meta`` names the task that wrote it and holds that task's config, so a checkpoint given to
the wrong command, or damaged on the way, is said to be so in one line (``BadInput``).
"""

import hashlib
import math
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tasks import files
from tasks.errors import BadInput, first_line

KEYS = ("step", "model", "optimizer", "rng", "task", "history", "meta")  # what the loop saves
RETRAIN = "train again, or use an intact copy"  # what to do with a damaged checkpoint


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
        with warnings.catch_warnings():  # torch's paragraphs about unpickling stay unseen
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many kinds here (zip, unpickling, EOF): all mean damaged
        raise files.damaged(path, "not a checkpoint of this project", RETRAIN) from None
    if not isinstance(state, dict):
        raise files.damaged(path, "not a checkpoint of this project", RETRAIN)
    return state


def load_run(path: Path, task: str | None, meta_keys: tuple[str, ...] = ("config", "data")) -> dict:
    """``load``, then check that the loop wrote it for ``task``: one line when it is another
    task's checkpoint (a series checkpoint given to text, ...) or lacks what the loop saves.
    ``meta_keys``: which of a task's meta entries (its config, its data fingerprint) the caller
    will read, each checked for its type."""
    state = load(path)
    written_by = state.get("meta", {}).get("task") if isinstance(state.get("meta"), dict) else None
    if task is not None and written_by != task:
        whose = f"of the {written_by} task" if isinstance(written_by, str) else "of no task"
        raise BadInput(f"{path} is a checkpoint {whose}, not of the {task} task")
    if missing := [key for key in KEYS if key not in state]:
        raise files.damaged(path, f"it lacks {', '.join(missing)}", RETRAIN)
    check_fields(state, path)
    if task is not None:  # a task's run: its config and data fingerprint in the meta
        for key, kind in (("config", dict), ("data", str)):
            if key in meta_keys:
                meta_field(state, key, kind, path)
    return state


def check_fields(state: dict, path: Path) -> None:
    """``damaged`` unless every field the loop saved has its type and range: a whole step
    ≥ 0, a history of exactly that many steps, weights that are tensors by name, a meta with
    a dict (a task's run: with a config and a data fingerprint). (The config's fields are checked by its rules,
    tasks/config.py, and the weights' shapes against the model, ``load_weights``.)"""
    history, meta = state["history"], state["meta"]
    problems = [
        (not _whole(state["step"]) or state["step"] < 0, "a step that is not a whole number ≥ 0"),
        (not _tensors(state["model"]), "weights that are not tensors by name"),
        (not isinstance(state["optimizer"], dict), "an optimizer state that is not a dict"),
        (not isinstance(state["rng"], dict), "random-generator states that are not a dict"),
        (not isinstance(state["task"], dict), "a task state that is not a dict"),
        (not _history(history), "a history that is not lists of steps and a time"),
        (not isinstance(meta, dict), "a meta that is not a dict"),
    ]
    for broken, what in problems:
        if broken:
            raise files.damaged(path, f"it holds {what}", RETRAIN)
    if len(history["records"]) != state["step"]:
        raise files.damaged(
            path,
            f"step {state['step']} but a history of {len(history['records'])} steps",
            RETRAIN,
        )


def meta_field(state: dict, key: str, kind: type, path: Path) -> Any:
    """``state["meta"][key]``, which the task saved as a ``kind``; ``damaged`` otherwise."""
    value = state["meta"].get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise files.damaged(path, f"its {key} is not a {kind.__name__}", RETRAIN)
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tensors(weights: Any) -> bool:
    return isinstance(weights, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    )


def _history(history: Any) -> bool:
    if not isinstance(history, dict):
        return False
    records, evals, seconds = (history.get(k) for k in ("records", "evals", "seconds"))
    return (
        isinstance(records, list)
        and isinstance(evals, list)
        and all(isinstance(r, dict) for r in records + evals)
        and isinstance(seconds, int | float)
        and not isinstance(seconds, bool)
        and math.isfinite(seconds)
        and seconds >= 0
    )


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
