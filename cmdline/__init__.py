"""What the project's command lines share (``python -m compare``, ``python -m tasks.<task>``):
a parser whose errors are one line and exit status 2, and an OSError's cause in words. Neither
compare/ nor tasks/ owns it, so the proof does not depend on the demos' plumbing.
"""

import argparse
import os
import typing


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
