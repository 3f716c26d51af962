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

Reading back: ``read_json`` and ``read_json_lines`` give what a run folder holds, or a
``BadInput`` in the one form every damaged file is named in (``damaged``): the path, what is
wrong with it, and what to do.

One run at a time: ``owned(folder)`` holds an exclusive lock (``fcntl.flock``) on the folder's
.lock file for as long as the run lasts. The kernel drops it when the process ends, however it
ends (kill -9 included), so a dead run never leaves its folder stuck; a second run into the
folder is refused in one line while the first is alive.
"""

import fcntl
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from matplotlib.figure import Figure
from matplotlib.text import Text

from cmdline import reason
from tasks.errors import BadInput, RunFailed

TEMPORARY = ".{name}.*.tmp"  # what an interrupted atomic write can leave behind
LOCK = ".lock"  # the file a run folder's owner holds a lock on (``owned``)


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


# The PNG text chunk that records how tall, in the PNG's own pixels, the figure's smallest text
# is: the site test (tests/test_site.py) scales it by the width the page shows the figure at.
SMALLEST_TEXT_PX = "smallest_text_px"


def smallest_text_px(fig: Figure, dpi: int) -> float:
    """The font size of the figure's smallest visible text, in pixels of the PNG at ``dpi``."""
    fig.draw_without_rendering()  # tick labels get their text when the figure is drawn
    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]
    return min(sizes, default=0.0) * dpi / 72  # points are 1/72 inch


def write_figure(fig: Figure, path: Path, dpi: int = 120) -> None:
    """Replace ``path`` atomically by ``fig`` drawn as PNG, its smallest text size recorded."""
    metadata = {SMALLEST_TEXT_PX: f"{smallest_text_px(fig, dpi):.2f}"}
    write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=dpi, metadata=metadata))


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


def damaged(path: Path, what: str, fix: str) -> BadInput:
    """The one line that names a damaged file: ``path``, what is wrong with it, what to do."""
    return BadInput(f"{path} is damaged ({what}): {fix}")


def read_json(path: Path, fix: str, shape: Callable[[Any], bool] = lambda _: True) -> Any:
    """The JSON value in ``path``; ``damaged`` when it cannot be read, is not JSON (truncated),
    or is not of the ``shape`` expected (``shape(value)`` false). ``fix``: what to do then."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise damaged(path, f"cannot be read: {reason(error)}", fix) from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise damaged(path, f"not JSON: {str(error).split(':')[0]}", fix) from None
    if not shape(value):
        raise damaged(path, "not what this project writes there", fix)
    return value


def read_json_lines(path: Path, fix: str, shape: Callable[[Any], bool] = lambda _: True) -> list:
    """Every line of a JSON-lines file (metrics.jsonl), each checked by ``shape``; ``damaged``
    naming the first line that is not JSON or not of that shape."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as error:
        why = reason(error) if isinstance(error, OSError) else "not UTF-8 text"
        raise damaged(path, f"cannot be read: {why}", fix) from None
    values = []
    for number, line in enumerate(lines, 1):
        try:
            value = json.loads(line)
        except ValueError:
            raise damaged(path, f"line {number} is not JSON", fix) from None
        if not shape(value):
            raise damaged(path, f"line {number} is not what this project writes there", fix)
        values.append(value)
    return values


_owned: set[Path] = set()  # the folders this process holds (``owned`` nests)


@contextmanager
def owned(folder: Path, flag: str = "--out") -> Iterator[None]:
    """Hold ``folder`` for one run while the block runs: ``BadInput`` at once when another
    process holds it. The folder must exist. Within one process ``owned`` nests."""
    key = Path(folder).resolve()
    if key in _owned:
        yield
        return
    try:
        fd = os.open(key / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise BadInput(f"{flag} {folder}: cannot write there ({reason(error)})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise BadInput(
                f"{flag} {folder} is in use by another run (process {holder}), which holds it "
                "until it ends: wait for it, or choose another folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        _owned.add(key)
        try:
            yield
        finally:
            _owned.discard(key)
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
