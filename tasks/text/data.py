"""Characters to ids, and ids to the (T, B) windows that truncated BPTT trains on."""

from dataclasses import dataclass

import torch
from torch import Tensor

from tasks.errors import BadInput


# --8<-- [start:vocab]
@dataclass(frozen=True)
class Vocab:
    """The characters of the training text, sorted; a character's id is its index in ``chars``."""

    chars: str

    @classmethod
    def of(cls, text: str) -> "Vocab":
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    @staticmethod
    def holds(saved: object) -> bool:
        """Is ``saved`` (read back from a checkpoint) a vocabulary: distinct characters, sorted?"""
        return isinstance(saved, str) and bool(saved) and "".join(sorted(set(saved))) == saved

    def encode(self, text: str) -> Tensor:
        """``text`` as a 1-D tensor of ids; ``BadInput`` naming any character not in the vocabulary."""
        index = {ch: i for i, ch in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise BadInput(
                f"characters not in the vocabulary of the training text: {''.join(unknown)!r}"
            )
        return torch.tensor([index[ch] for ch in text], dtype=torch.long)

    def decode(self, ids: Tensor | list[int]) -> str:
        return "".join(self.chars[i] for i in torch.as_tensor(ids).tolist())

    def known(self, text: str) -> str:
        """``text`` without the characters the vocabulary lacks (held-out text may have a few)."""
        return "".join(ch for ch in text if ch in self.chars)
        # --8<-- [end:vocab]


# --8<-- [start:windows]
# How B streams and windows of T characters cover the text (B = 3, T = 3):
#
#   text   a b c d e f g h i j k l m n o p q r s t u v w x y z
#
#   streams = to_streams(ids, B)      cut into B rows of L = 26 // 3 = 8 (y, z dropped)
#
#                 window 0   window 1
#   stream 0    │ a b c    │ d e f    │ g h
#   stream 1    │ i j k    │ l m n    │ o p
#   stream 2    │ q r s    │ t u v    │ w x
#
#   window(streams, 1, T)  ->  x, y of shape (T, B): column b is stream b, read downwards
#
#        x          y            y is x moved on by one character:
#      d l t      e m u          the model reads x[t] and is scored on predicting y[t]
#      e m u      f n v
#      f n v      g o w
#
# There are (L - 1) // T = 2 windows: the last character of a row is only ever a target.
# Row b of window k+1 continues row b of window k, so the hidden state that window k ends
# with is the right starting state for window k+1, and training carries it over. It is
# detached first: gradients then stop at the window edge, so backpropagation through time
# runs back at most T steps and each step costs the same, instead of reaching back to the
# start of the text (and into graphs that earlier steps' backward passes have freed).
# The state still carries information forward; only its gradient is cut (truncated BPTT).


def to_streams(ids: Tensor, batch_size: int) -> Tensor:
    """Cut ``ids`` (N,) into ``batch_size`` contiguous rows (B, L), dropping the N mod B rest."""
    length = len(ids) // batch_size
    return ids[: batch_size * length].view(batch_size, length)


def num_windows(streams: Tensor, seq_len: int) -> int:
    """How many windows of ``seq_len`` inputs (each with its next-character target) fit a row."""
    return (streams.shape[1] - 1) // seq_len


def window(streams: Tensor, k: int, seq_len: int) -> tuple[Tensor, Tensor]:
    """Window ``k``: inputs and targets, each (T, B), targets one character ahead."""
    start = k * seq_len
    x = streams[:, start : start + seq_len]  # (B, T)
    y = streams[:, start + 1 : start + seq_len + 1]  # (B, T)
    return x.T, y.T  # (T, B)
    # --8<-- [end:windows]


def detach(state: Tensor | tuple[Tensor, ...]) -> Tensor | tuple[Tensor, ...]:
    """The hidden state without its history: h_n, or (h_n, c_n) for the LSTM."""
    return state.detach() if isinstance(state, Tensor) else tuple(s.detach() for s in state)
