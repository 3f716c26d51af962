"""Many to one: a speech in, one class out, read from the speech's own final state.

    ids (N, L) ─embedding─▶ (N, L, E) ─pack─▶ impl.RNN | LSTM | GRU ─▶ h_n ─▶ final_state ─▶ Linear ─▶ (N, K)

The speeches of a batch have different lengths; packed (unsorted, ``enforce_sorted=False``),
the layer runs each only over its own characters, and ``h_n`` holds every speech's state after
its own last character: no padding is ever read. ``final_state`` takes the top layer's h_n,
both directions' halves of it when the layer is bidirectional (see docs/patterns.md).
"""

from torch import Tensor, nn

from tasks.patterns.many_to_one.config import PlayKindConfig
from tasks.patterns.sequences import final_state, pack, recurrent_layer


class SpeechClassifier(nn.Module):
    """Reads a speech character by character; scores each class from its final state."""

    def __init__(self, cfg: PlayKindConfig, vocab_size: int, classes: int):
        super().__init__()
        self.bidirectional = cfg.bidirectional
        self.embed = nn.Embedding(vocab_size, cfg.embed_size)
        self.rnn = recurrent_layer(cfg, cfg.bidirectional, cfg.num_layers)
        directions = 2 if cfg.bidirectional else 1
        self.head = nn.Linear(directions * cfg.hidden_size, classes)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """ids (N, L) padded, lengths (N,) -> class scores (N, K)."""
        _, h_n = self.rnn(pack(self.embed(ids), lengths))  # h_n: (layers · directions, N, H)
        return self.head(final_state(h_n, self.bidirectional))  # (N, directions · H) -> (N, K)
