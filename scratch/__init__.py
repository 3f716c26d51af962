"""Elman RNN, LSTM and GRU from first principles, with hand-written backpropagation through time.

Three layers, each small: the cells (elman.py, lstm.py, gru.py: one step forward and the same
step backward), the unrolling over time (unroll.py: the loop and BPTT), and the torch.nn-
compatible modules (modules.py, cells.py). Start reading at docs/cells.md.
"""

from scratch.cells import GRUCell, LSTMCell, RNNCell
from scratch.minimal import RGLRU, MinGRU, MinLSTM
from scratch.modules import GRU, LSTM, RNN
from scratch.record import record_state_grads
from scratch.variants import (
    SLSTM,
    ChoGRU,
    LayerNormLSTM,
    PeepholeLSTM,
    VariationalLSTM,
    ZoneoutLSTM,
)

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "record_state_grads"]

# The minimal RNNs (docs/minimal.md): scratch only, since torch.nn has no such layers.
__all__ += ["MinGRU", "MinLSTM"]
__all__ += ["LayerNormLSTM", "PeepholeLSTM", "ChoGRU", "VariationalLSTM", "ZoneoutLSTM"]
# The recurrent revival (docs/slstm.md, docs/rglru.md): scratch only, torch.nn has neither.
__all__ += ["SLSTM", "RGLRU"]
