"""The yardstick of the case-and-punctuation demo: a rule that reads nothing but where a line
starts and where the word "i" stands alone. It capitalises each line's first letter and every
"i" that is a whole word, and puts back no punctuation at all.
"""

import torch
from torch import Tensor

from tasks.patterns.many_to_many.data import ALPHABET, Windows

_WORD_CHARS = torch.tensor([ch.isalpha() or ch in "'-" for ch in ALPHABET])


def rule(windows: Windows) -> tuple[Tensor, Tensor]:
    """(upper (W, T) bool, marks (W, T) long: all 0, none) that the rule predicts."""
    ids = windows.ids
    in_word = _WORD_CHARS[ids]  # (W, T)
    edge = torch.zeros(len(ids), 1, dtype=torch.bool)  # a window begins and ends between words
    before = torch.cat([edge, in_word[:, :-1]], dim=1)  # a word character just before
    after = torch.cat([in_word[:, 1:], edge], dim=1)  # a word character just after
    lone_i = (ids == ALPHABET.index("i")) & ~before & ~after
    return windows.line_first | lone_i, torch.zeros_like(windows.mark)
