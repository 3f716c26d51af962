"""Synchronised many to many: one output per input character, from the same time step.

    ids (N, T) ─embed─▶ impl.RNN | LSTM | GRU (one or both directions) ─▶ (N, T, directions · H)
                                                                        ├─Linear─▶ case  (N, T, 2)
                                                                        └─Linear─▶ mark  (N, T, 7)

Unidirectional, the output at t has read characters 0…t: at the "i" of "in" it cannot yet
know that a letter follows. Bidirectional, it has read the window's characters before t
(forward direction) and after t (reverse direction).
"""

from torch import Tensor, nn

from tasks.patterns.many_to_many.config import RestoreConfig
from tasks.patterns.many_to_many.data import ALPHABET, MARKS
from tasks.patterns.sequences import recurrent_layer


class Tagger(nn.Module):
    """A recurrent layer over the characters and two heads: the case, and the mark after."""

    def __init__(self, cfg: RestoreConfig):
        super().__init__()
        self.embed = nn.Embedding(len(ALPHABET), cfg.embed_size)
        self.rnn = recurrent_layer(cfg, cfg.bidirectional, cfg.num_layers)
        width = (2 if cfg.bidirectional else 1) * cfg.hidden_size
        self.case = nn.Linear(width, 2)
        self.mark = nn.Linear(width, len(MARKS))

    def forward(self, ids: Tensor) -> tuple[Tensor, Tensor]:
        """ids (N, T) -> case scores (N, T, 2) and mark scores (N, T, 7) at every character."""
        out, _ = self.rnn(self.embed(ids))  # (N, T, directions · H)
        return self.case(out), self.mark(out)
