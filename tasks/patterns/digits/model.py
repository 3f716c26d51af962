"""Many to one on MNIST-1D: 40 numbers in, one digit out, read from the final state.

    x (N, 40) ─▶ (N, 40, 1) ─▶ impl.RNN | LSTM | GRU ─▶ h_n ─▶ final_state ─▶ Linear ─▶ (N, 10)

Every signal has 40 steps, so nothing is packed or padded: the layer reads the batch as one
(N, 40, 1) tensor and ``h_n`` is every signal's state after its last step (both directions'
halves of it for a bidirectional layer; tasks/patterns/sequences.py ``final_state``).
"""

from torch import Tensor, nn

from tasks.impl import layer_class
from tasks.patterns.digits.config import DigitsConfig
from tasks.patterns.digits.data import CLASSES
from tasks.patterns.sequences import final_state


class DigitClassifier(nn.Module):
    """Reads a signal one number a step; scores each digit from its final state."""

    def __init__(self, cfg: DigitsConfig):
        super().__init__()
        self.bidirectional = cfg.bidirectional
        layer = layer_class(cfg.impl, cfg.cell)
        self.rnn = layer(
            1,
            cfg.hidden_size,
            num_layers=cfg.num_layers,
            batch_first=True,
            bidirectional=cfg.bidirectional,
        )
        directions = 2 if cfg.bidirectional else 1
        self.head = nn.Linear(directions * cfg.hidden_size, len(CLASSES))

    def forward(self, x: Tensor) -> Tensor:
        """Signals (N, T) -> digit scores (N, 10)."""
        _, h_n = self.rnn(x.unsqueeze(-1))  # h_n: (layers · directions, N, H)
        return self.head(final_state(h_n, self.bidirectional))
