"""Writing a run folder so that nothing half-written is ever left in place.

Every file but metrics.jsonl is replaced atomically: the bytes go to a temporary file in the
same folder, are flushed to disk, and ``os.replace`` swaps it in (a rename within one file
system is atomic); then the folder itself is flushed, so that the rename survives a power cut.
A crash leaves the old file or the complete new one, and at worst a temporary file, which
``remove_stale`` clears at the start of the next run. metrics.jsonl is appended to, one line per
write; a line that does not fit on the disk is cut off again.

A failed write raises ``WriteFailed``: one line naming the path and the cause, e.g. "cannot write
runs/x/checkpoint.pt: no space left on device". JSON is written without NaN or Infinity tokens
(not JSON): a value that is not a finite number becomes null.
"""

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from matplotlib.figure import Figure

from cmdline import reason
from tasks.errors import BadInput, RunFailed

TEMPORARY = ".{name}.*.tmp"  # what an interrupted atomic write can leave behind


class WriteFailed(RunFailed):
    """A file could not be written; the message names it and says why."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(f"cannot write {path}: {reason(error)}")


def write_bytes(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Replace ``path`` atomically by what ``write`` writes into the binary file it is given."""
    _replace_atomically(path, "wb", write)


def write_text(text: str, path: Path) -> None:
    """Replace ``path`` atomically by ``text`` (UTF-8)."""
    _replace_atomically(path, "w", lambda f: f.write(text))


def write_json(obj: Any, path: Path) -> None:
    """Replace ``path`` atomically by ``obj`` as indented JSON (see ``json_text``)."""
    write_text(json_text(obj, indent=2) + "\n", path)


def write_figure(fig: Figure, path: Path, dpi: int = 120) -> None:
    """Replace ``path`` atomically by ``fig`` drawn as PNG."""
    write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=dpi))


def append_line(record: dict, path: Path) -> None:
    """Append ``record`` as one JSON line; on failure the file is cut back to where it was."""
    line = (json_text(record) + "\n").encode("utf-8")
    try:
        with open(path, "ab") as f:
            size = f.tell()
            try:
                f.write(line)
                f.flush()
            except OSError:
                f.truncate(size)
                raise
    except OSError as error:
        raise WriteFailed(path, error) from None


def json_text(obj: Any, indent: int | None = None) -> str:
    """``obj`` as JSON, with every float that is not finite (NaN, ±inf) written as null."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(value) for value in obj]
    return obj


def _replace_atomically(path: Path, mode: str, write: Callable[[IO], object]) -> None:
    """Leave either the old file at ``path`` or the complete new one, even after a crash."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            os.fchmod(fd, 0o644)  # mkstemp makes it private; a run folder is for reading
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        sync_folder(path.parent)
    except OSError as error:
        raise WriteFailed(path, error) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale(folder: Path) -> list[Path]:
    """Delete the temporary files that interrupted atomic writes left in ``folder``."""
    stale = sorted(folder.glob(TEMPORARY.format(name="*")))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def make_folder(folder: Path, flag: str = "--out") -> None:
    """Create ``folder`` (and its parents) and check that it takes files; else ``BadInput``
    saying why: it is a file, it lies under a file, or it cannot be written."""
    for place in [folder, *folder.parents]:
        if place.exists() and not place.is_dir():
            where = "is a file" if place == folder else f"lies under {place}, which is a file"
            raise BadInput(f"{flag} {folder} {where}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise BadInput(f"{flag} {folder}: cannot write there ({reason(error)})") from None
