"""Restoring case and punctuation: the input is Shakespeare's spoken lines lower-cased, the
punctuation taken out; the labels, one per character, come from the original lines.

    original   Come, come, you froward and unable worms!
    input      come come you froward and unable worms
    case       1000 1000 000 0000000 000 000000 00000       1 = upper case    (letters only)
    mark          ,    ,   ·       ·   ·      ·     !       after a word's last letter:
                                                            · none , . ; : ! ?  (word ends only)

A word is a run of letters and apostrophes, hyphens inside it included (``step-dame``,
``'tis``); its mark is the first of , . ; : ! ? between it and the next word. Everything else
(dashes, quotes, brackets) is dropped. A speech's lines follow each other with a newline; an
empty line separates speeches.

Windows. The lines of a split are one stream of characters, cut into windows of T characters
that each begin at a line's start. A window is scored up to the start of the last line that
begins inside it; that line, cut off at the window's end, is scored in the next window, which
starts there. So every character is scored exactly once, with its whole line in view, and
every window is full (no padding: the layer runs over all T steps in both directions):

    stream  │line 1··········│line 2·········│line 3·····│line 4··········│...
    window 0 [───scored──────────────────────][──seen, not scored──]          T characters
    window 1                                  [───scored────────────────...
"""

import functools
import re
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from tasks.errors import BadInput
from tasks.patterns import plays

MARKS = ("none", ",", ".", ";", ":", "!", "?")  # class ids of the punctuation after a word
ALPHABET = "\n abcdefghijklmnopqrstuvwxyz'-"  # every input character; its id is its index

_WORD = re.compile(r"'*[A-Za-z][A-Za-z']*(?:-[A-Za-z][A-Za-z']*)*")
_LETTER = re.compile(r"[A-Za-z]")


@dataclass
class Tagged:
    """Lines as the tagger sees them, one stream of characters, each line ending in a newline,
    with a label (or False, 0) at every character."""

    text: str  # lower case, words joined by one space, no punctuation
    upper: np.ndarray  # (C,) bool: was the character upper case
    mark: np.ndarray  # (C,) int: at a word's last character, the mark after it (index into MARKS)
    word_end: np.ndarray  # (C,) bool: is it a word's last character
    line_first: np.ndarray  # (C,) bool: is it the first letter of its line
    starts: np.ndarray  # (lines,) where each line begins in ``text``


def tag(originals: list[str]) -> Tagged:
    """The tagger's input and labels of original lines (a line without words becomes empty)."""
    cased, marks = [], []
    for original in originals:
        words = list(_WORD.finditer(original))
        for k, word in enumerate(words):
            gap = original[word.end() : words[k + 1].start() if k + 1 < len(words) else None]
            marks.append(next((MARKS.index(ch) for ch in gap if ch in MARKS), 0))
        cased.append(" ".join(w.group() for w in words) + "\n")
    original_case = "".join(cased)
    text = original_case.lower()
    chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    letter = (chars >= ord("a")) & (chars <= ord("z"))
    in_word = letter | (chars == ord("'")) | (chars == ord("-"))
    word_end = in_word & ~np.append(in_word[1:], False)
    mark = np.zeros(len(chars), dtype=np.int64)
    mark[word_end] = marks
    starts = np.cumsum([0] + [len(line) for line in cased[:-1]])
    line_first = np.zeros(len(chars), dtype=bool)
    for start, line in zip(starts, cased, strict=True):
        if first := _LETTER.search(line):
            line_first[start + first.start()] = True
    upper = np.frombuffer(original_case.encode("ascii"), dtype=np.uint8) != chars
    return Tagged(text, upper, mark, word_end, line_first, starts)


def restore(text: str, upper: np.ndarray, mark: np.ndarray) -> str:
    """``text`` with the case of ``upper`` and, after each word, the mark of ``mark`` put back."""
    out = []
    for ch, up, m in zip(text, upper.tolist(), mark.tolist(), strict=True):
        out.append(ch.upper() if up else ch)
        if m:
            out.append(MARKS[m])
    return "".join(out)


@dataclass
class Windows:
    """A split cut into windows, each T characters."""

    ids: Tensor  # (W, T) input character ids, indices into ALPHABET
    upper: Tensor  # (W, T) bool: the case labels
    mark: Tensor  # (W, T) long: the mark labels
    case_mask: Tensor  # (W, T) bool: scored letters (where a case is predicted)
    mark_mask: Tensor  # (W, T) bool: scored word ends (where a mark is predicted)
    line_first: Tensor  # (W, T) bool: a line's first letter (what the rule capitalises)

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, idx: Tensor | np.ndarray) -> "Windows":
        """The windows ``idx``, every field alike."""
        return Windows(*(getattr(self, f.name)[idx] for f in fields(self)))


def speech_lines(speeches: list[plays.Speech]) -> list[str]:
    """The original lines of ``speeches`` in order, an empty line between two speeches."""
    lines = []
    for speech in speeches:
        if lines:
            lines.append("")
        lines += speech.text.split("\n")
    return lines


def windows(tagged: Tagged, seq_len: int) -> Windows:
    """Cut a tagged stream into windows of ``seq_len`` characters (see above)."""
    longest = int(np.max(np.diff([*tagged.starts, len(tagged.text)])))
    if seq_len < longest:
        raise BadInput(
            f"--seq-len {seq_len}: a window must hold the longest line, {longest} characters"
        )
    cuts = cut_points([*tagged.starts, len(tagged.text)], seq_len)
    rows = torch.tensor(cuts)[:, None] + torch.arange(seq_len)  # (W, T): stream positions
    scored = rows < torch.tensor([*cuts[1:], len(tagged.text)])[:, None]  # (W, T)
    lookup = np.zeros(256, dtype=np.int64)
    lookup[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
    ids = lookup[np.frombuffer(tagged.text.encode("ascii"), dtype=np.uint8)]
    letters = (ids >= ALPHABET.index("a")) & (ids <= ALPHABET.index("z"))

    def take(values: np.ndarray) -> Tensor:  # past the stream's end: newlines, 0, unscored
        return torch.from_numpy(np.append(values, np.zeros(seq_len, dtype=values.dtype)))[rows]

    return Windows(
        take(ids),
        take(tagged.upper),
        take(tagged.mark),
        take(letters) & scored,
        take(tagged.word_end) & scored,
        take(tagged.line_first),
    )


def cut_points(starts: list[int], seq_len: int) -> list[int]:
    """Where the windows begin: at 0, then each at the start of the last line that began
    inside the window before (``starts``: every line's start, then the stream's end)."""
    cuts, last = [0], 0
    for start in starts[1:]:
        if start > cuts[-1] + seq_len:  # the line that began at ``last`` ends past the window
            cuts.append(last)
        last = start
    return cuts


@functools.cache
def tagged_plays() -> tuple[Tagged, Tagged]:
    """(the training plays, the HELD_OUT plays), tagged: read once per process."""
    return tuple(tag(speech_lines(split)) for split in plays.split(plays.speeches()))


def splits(seq_len: int) -> tuple[Windows, Windows]:
    """(training windows, held-out windows): of the training plays, of the HELD_OUT plays.
    A window longer than a split's whole text is refused before any is cut: it would be all
    padding, and a huge one would fill the memory."""
    for split in tagged_plays():
        if seq_len > len(split.text):
            raise BadInput(
                f"--seq-len {seq_len}: the text holds {len(split.text)} characters, and a "
                "window cannot be longer"
            )
    return tuple(windows(split, seq_len) for split in tagged_plays())
