"""The two ways a task's command ends badly, each said in one line on stderr, never a traceback.

- ``BadInput``: what the user gave cannot be used: a flag, a data file, a checkpoint, a run
  folder. Nothing was trained; exit status 2, like a command-line error.
- ``RunFailed``: the run started and could not go on: it diverged, or the disk filled up. What
  was saved before stays intact, and the message says where; exit status 1.
"""


class BadInput(ValueError):
    """The input needs fixing; the message says what and where (exit status 2)."""


class RunFailed(RuntimeError):
    """The run stopped part-way; the message names the cause and the last good files (exit status 1)."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message that says something (torch's run on for
    paragraphs, often after a heading line that ends in a colon), or its type."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if not line.endswith(":")]
    return (telling or lines or [type(error).__name__])[0]
