"""What the project's command lines share (``python -m compare``, ``python -m tasks.<task>``):
a parser whose errors are one line and exit status 2, an OSError's cause in words, and the
checks of values every command line takes (a seed, a path), with ``checked`` to make any check
an argparse type. Neither compare/ nor tasks/ owns it, so the proof does not depend on the
demos' plumbing.
"""

import argparse
import os
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any


def launched_lead() -> bool:
    """Whether this is the process of rank 0 (or the only one): it alone writes and prints."""
    return int(os.environ.get("RANK", "0")) == 0


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2 (printed by the
    lead process alone, under torchrun)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n" if launched_lead() else None)


def reason(error: OSError) -> str:
    """An OSError's cause in words, e.g. 'no space left on device'."""
    text = error.strerror or str(error) or type(error).__name__
    return text[0].lower() + text[1:]


SEEDS = 2**32  # a seed is below this: what NumPy's generators take (torch takes 2**64)


def seed(value: int) -> None:
    """A seed every generator takes: 0 ≤ seed < 2**32."""
    if not 0 <= value < SEEDS:
        raise ValueError(f"must be a whole number from 0 to {SEEDS - 1}, got {value}")


def fits_path(value: str) -> None:
    """A path this file system can hold: no name in it longer than a name may be, the whole
    no longer than a path may be (``os.pathconf`` of the nearest folder that exists)."""
    if "\0" in value:
        raise ValueError("holds a NUL character, which no path may hold")
    if not value:
        raise ValueError("is empty: give a path")
    here = next((p for p in Path(value).absolute().parents if _is_folder(p)), Path("/"))
    name_max, path_max = (os.pathconf(here, key) for key in ("PC_NAME_MAX", "PC_PATH_MAX"))
    if len(os.fsencode(os.path.abspath(value))) >= path_max:
        raise ValueError(f"is too long: a path here holds fewer than {path_max} bytes")
    for part in Path(value).parts:
        if len(os.fsencode(part)) > name_max:
            raise ValueError(
                f"holds a name of {len(os.fsencode(part))} bytes ({part[:12]}…): a name here "
                f"holds at most {name_max}"
            )


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long to look up
        return False


def checked(kind: Callable[[str], Any], check: Callable[[Any], None] | None = None) -> Callable:
    """An argparse type for any parser: the text read as ``kind`` (int, float, str, Path),
    then ``check`` (``seed``, ``fits_path`` here, or a ``tasks.config`` check such as
    ``at_least(1)``: a function that raises ValueError saying what is wrong);
    what either refuses is the flag's one-line error. E.g. ``type=checked(int, config.seed)``."""

    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}"
            ) from None
        if check is not None:
            try:
                check(str(value) if isinstance(value, Path) else value)
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return value

    read.__name__ = getattr(kind, "__name__", "value")  # argparse names the type in errors
    return read
