"""Elman RNN, LSTM and GRU from first principles, with hand-written backpropagation through time.

Two rooms and the hall between them. equations/: one file per cell, its step forward and the
same step backward, one line per equation, and its declaration (elman.py, lstm.py, gru.py, the
variants, the minimal RNNs, indrnn.py). fast/: what bptt="manual" runs, the same equations as
buffered layer loops, the scan, the workspace. The hall: what a cell declares and the one list
of cells (declaration.py, registry.py), packed time (steps.py), the loop over time and BPTT
(unroll.py), the autograd bridge that makes our BPTT one operator per layer and direction
(function.py), and the torch.nn-compatible modules (modules.py, cells.py, variants.py,
minimal.py). Start reading at docs/cells.md.
"""

from scratch import registry
from scratch.cells import GRUCell, IndRNNCell, LSTMCell, RNNCell
from scratch.minimal import MinGRU, MinLSTM
from scratch.modules import GRU, LSTM, RNN
from scratch.record import record_state_grads
from scratch.step_pair import step_pair
from scratch.variants import (
    ChoGRU,
    IndRNN,
    LayerNormLSTM,
    PeepholeLSTM,
    VariationalLSTM,
    ZoneoutLSTM,
)

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "record_state_grads"]

# The minimal RNNs (docs/minimal.md): scratch only, since torch.nn has no such layers.
__all__ += ["MinGRU", "MinLSTM"]
__all__ += ["LayerNormLSTM", "PeepholeLSTM", "ChoGRU", "VariationalLSTM", "ZoneoutLSTM"]
__all__ += ["IndRNN", "IndRNNCell"]
# The gradients lab's: each cell's step pair; and the one list of cells, key -> declaration.
__all__ += ["step_pair", "registry"]
